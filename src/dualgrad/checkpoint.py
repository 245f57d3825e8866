"""What a resume may trust, and how a finished run survives a deleted result.

A checkpoint is sealed (SHA-256 over its bytes) and carries the identity of what made it: the
run's config, the algorithm version, the start model's content hash, and the numerics of the
machine (device, torch version, CPU threads: a resume at another thread count would not repeat
the uninterrupted run's numbers). Any difference restarts the run from scratch with a one-line
reason; it never mixes two runs.

When a run finishes, its result (and saved model) is first written beside the checkpoint and
then hard-linked to the declared outputs. Snakemake deletes outputs it has not recorded as
complete (``--rerun-incomplete`` after an interruption); the kept copy is not an output, so the
job that runs next restores it in seconds instead of training again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from . import ALGORITHM_VERSION, io
from .config import RunConfig
from .errors import DamagedFileError
from .results import result_problem

FORMAT = 2


def numerics(device) -> dict:
    """What, besides the config, changes a run's numbers on this device."""
    import torch

    from .provenance import device_info

    info = device_info(device)
    return {"device": device.type, "device_name": info["name"], "torch": str(torch.__version__),
            "threads": torch.get_num_threads() if device.type == "cpu" else None}


def identity(cfg: RunConfig, device, start_model_sha256: str | None) -> dict:
    return {"format": FORMAT, "fingerprint": cfg.fingerprint(), "algorithm_version": ALGORITHM_VERSION,
            "start_model_sha256": start_model_sha256, **numerics(device)}


def mismatch(saved: dict, current: dict) -> str | None:
    """The first key whose value differs, as 'key: then X, now Y' (None if all agree)."""
    for key, now in current.items():
        then = saved.get(key)
        if then != now:
            if key in ("fingerprint", "start_model_sha256") and then and now:
                then, now = str(then)[:12], str(now)[:12]
            return f"{key}: {then!r} when it was made, {now!r} now"
    return None


def load_resumable(path: Path, ident: dict, log: Callable[[str], None]) -> dict | None:
    """The checkpoint's state if it is intact and was made by this very run; else None (and why)."""
    if not path.exists():
        return None
    try:
        state = io.load_sealed(path)
    except (DamagedFileError, OSError) as err:
        log(f"checkpoint {path} is damaged ({getattr(err, 'reason', err)}); starting from scratch")
        return None
    reason = mismatch(state.get("identity") or {}, ident)
    if reason:
        log(f"checkpoint {path} was made by a different run ({reason}); starting from scratch")
        return None
    return state


def save(path: Path, ident: dict, state: dict) -> None:
    io.save_sealed(path, {"identity": ident, **state}, what="checkpoint")


@dataclass
class FinishedRun:
    """The kept copy of a finished run's files, beside its checkpoint (not a declared output)."""

    checkpoint: Path
    output: Path
    save_model: Path | None

    @property
    def result(self) -> Path:
        return self.checkpoint.with_name(self.checkpoint.name + ".result.json")

    @property
    def model(self) -> Path:
        return self.checkpoint.with_name(self.checkpoint.name + ".model.pt")

    def paths(self) -> list[Path]:
        return [self.checkpoint, self.result, self.model, self.output] + ([self.save_model] if self.save_model else [])

    def keep(self, result: dict, model_state: dict | None) -> None:
        """Write the kept copy first, then publish it: the outputs never exist without it."""
        if self.save_model is not None:
            io.torch_save(self.model, model_state, what="model")
            result["provenance"]["saved_model_sha256"] = io.file_sha256(self.model)
        io.write_json(self.result, result, what="result")
        self.publish()

    def publish(self) -> None:
        if self.save_model is not None:
            io.link_or_copy(self.model, self.save_model, what="model")
        io.link_or_copy(self.result, self.output, what="result")

    def discard(self) -> None:
        for path in (self.result, self.model):
            path.unlink(missing_ok=True)

    def restore(self, cfg: RunConfig, start_model_sha256: str | None, log: Callable[[str], None]) -> dict | None:
        """Publish the kept result if it is this run's; None (after saying why) if there is none to use."""
        if not self.result.exists():
            return None
        reason = self._unusable(cfg, start_model_sha256)
        if reason:
            log(f"kept result {self.result} is not this run's ({reason}); training")
            self.discard()
            return None
        self.publish()
        result = io.read_json(self.result)
        log(f"restored the finished run from {self.result} (finished {result['provenance'].get('finished')}); "
            "not training it again")
        return result

    def _unusable(self, cfg: RunConfig, start_model_sha256: str | None) -> str | None:
        try:
            result = io.read_json(self.result)
        except (OSError, ValueError) as err:
            return f"unreadable: {err}"
        problem = result_problem(result)
        if problem:
            return f"not a run result: {problem}"
        if result.get("algorithm_version") != ALGORITHM_VERSION:
            return f"algorithm version {result.get('algorithm_version')!r}, now {ALGORITHM_VERSION!r}"
        if result.get("config") != json.loads(json.dumps(cfg.to_dict())):
            return "made with another config"
        if result["provenance"].get("start_model_sha256") != start_model_sha256:
            return "made from another start model"
        if self.save_model is not None:
            if not self.model.is_file():
                return f"its model {self.model} is missing"
            if io.file_sha256(self.model) != result["provenance"].get("saved_model_sha256"):
                return f"its model {self.model} fails its checksum"
        return None
