"""The label vectors of a run: clean, noisy (structure) and value labels, with their hashes."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .config import RunConfig
from .noise import anti_labels, label_hash, random_labels, symmetric_noise


@dataclass
class LabelSet:
    clean: np.ndarray
    noisy: np.ndarray
    value: np.ndarray | None  # labels of the value gradient / loss-mix term (None for ce)
    negate_value: bool  # value gradient is -∇CE(clean) (B3 "TrueAnti")

    def hashes(self) -> dict:
        out = {"clean_labels_sha256": label_hash(self.clean), "noisy_labels_sha256": label_hash(self.noisy)}
        if self.value is not None:
            out["value_labels_sha256"] = label_hash(self.value)
        return out

    def noise_fraction(self) -> float:
        return float(np.mean(self.noisy != self.clean))


def make_labels(cfg: RunConfig, clean: np.ndarray, num_classes: int) -> LabelSet:
    clean = np.asarray(clean, dtype=np.int64)
    noisy = symmetric_noise(clean, cfg.eta, cfg.resolved_label_seed, num_classes) if cfg.eta > 0 else clean.copy()
    source = cfg.value_source if cfg.method != "ce" else None
    if source is None:
        value = None
    elif source in ("clean", "negated_clean"):
        value = clean
    elif source == "anti_labels":
        value = anti_labels(clean, num_classes)
    elif source == "random_labels":
        value = random_labels(len(clean), cfg.random_label_seed, num_classes)
    else:  # validated earlier; kept as a guard for new sources
        raise ValueError(f"unhandled value source {source!r}")
    return LabelSet(clean, noisy, value, negate_value=source == "negated_clean")
