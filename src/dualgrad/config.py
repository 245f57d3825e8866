"""One run's configuration: every setting a result depends on, validated early.

A :class:`RunConfig` is the *resolved* description of a training run. Its
fields are the science (anything that can change the numbers); where a run
happens (data folder, device, evaluation batch size) is a :class:`Runtime`
and never part of a run's identity. Two runs with equal ``RunConfig``s are the
same run, which is what lets the workflow train a shared run once.
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import json
import math
from dataclasses import dataclass, field
from typing import Any, Mapping

from .architectures import ARCHITECTURES
from .errors import ConfigError

METHODS = ("ce", "loss_mix", "dual")
VALUE_SOURCES = ("clean", "anti_labels", "random_labels", "negated_clean")
DATASETS = ("cifar10", "cifar100", "synthetic", "digits")
NOISE_SCHEMES = ("symmetric",)


@dataclass(frozen=True)
class RunConfig:
    """The resolved settings of one training run (defaults: the notebooks' P/K/B2/B3 protocol)."""

    # --- model and data
    arch: str = "ResNet18"
    width: float = 1.0  # channel multiplier; 1 = the paper's networks
    dataset: str = "cifar10"
    n_train: int | None = None  # None = the whole training split
    n_test: int | None = None
    # --- label noise
    eta: float = 0.4
    noise: str = "symmetric"
    label_seed: int | None = None  # numpy seed of the noise; None = seed + noise_seed_offset
    noise_seed_offset: int = 1000  # notebooks P/K/B2/B3: seed+1000; V3: 0
    # --- method
    method: str = "dual"
    lam: float = 0.0
    value_source: str | None = "clean"
    renorm: bool = False
    K: int | None = 16
    faithful_second_forward: bool = False
    # --- optimisation
    batch_size: int = 256
    drop_last: bool = True
    epochs: int = 100
    lr: float = 0.1
    momentum: float = 0.9
    weight_decay: float = 5e-4
    milestones: tuple[int, ...] = (50, 75)
    gamma: float = 0.1
    # λ schedule (hysteresis sweeps): one λ per block of epochs_per_lam epochs.
    lam_schedule: tuple[float, ...] | None = None
    epochs_per_lam: int | None = None
    # --- what is recorded
    eval_every: int = 10  # best_acc = best of the evaluations every N epochs and the final one
    convergence_threshold: float = 0.20
    log_steps: int = 100  # per-step cos and ||g_mix|| for the first S steps
    accept_below: float | None = None  # hysteresis start: accepted if final error < this
    accept_at_least: float | None = None  # ... or if final error >= this
    # --- seeds and numerics
    seed: int = 0
    channels_last: bool = True
    bf16: bool = False
    compile: bool = False
    deterministic: bool = False

    # ----------------------------------------------------------------- build
    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> "RunConfig":
        """Build and validate; unknown keys are an error that names them."""
        known = {f.name for f in dataclasses.fields(cls)}
        for key in values:
            if key not in known:
                hint = difflib.get_close_matches(key, sorted(known), n=1)
                extra = f" (did you mean '{hint[0]}'?)" if hint else ""
                raise ConfigError(key, f"unknown key{extra}; allowed keys: {', '.join(sorted(known))}")
        kwargs = dict(values)
        for key in ("milestones", "lam_schedule"):
            if kwargs.get(key) is not None:
                if not isinstance(kwargs[key], (list, tuple)):
                    raise ConfigError(key, f"must be a list, got {kwargs[key]!r}")
                kwargs[key] = tuple(kwargs[key])
        return cls(**kwargs).validated()

    def replace(self, **changes: Any) -> "RunConfig":
        return RunConfig.from_dict({**self.to_dict(), **changes})

    # ------------------------------------------------------------ validation
    def validated(self) -> "RunConfig":
        """Check every field; return the canonical form (irrelevant keys normalised)."""
        _choice("arch", self.arch, ARCHITECTURES)
        _number("width", self.width, low=0.0, low_open=True)
        _choice("dataset", self.dataset, DATASETS)
        for key in ("n_train", "n_test"):
            value = getattr(self, key)
            if value is not None:
                _integer(key, value, low=1)
        _number("eta", self.eta, low=0.0, high=1.0, high_open=True)
        _choice("noise", self.noise, NOISE_SCHEMES)
        if self.label_seed is not None:
            _integer("label_seed", self.label_seed, low=0)
        _integer("noise_seed_offset", self.noise_seed_offset)
        _choice("method", self.method, METHODS)
        _number("lam", self.lam, low=0.0, high=1.0)
        if self.method == "dual":
            _choice("value_source", self.value_source, VALUE_SOURCES)
            if self.K is None:
                raise ConfigError("K", "required for method 'dual' (1 = no cache)")
            _integer("K", self.K, low=1)
        elif self.method == "loss_mix":
            _choice("value_source", self.value_source, VALUE_SOURCES[:3])
        for key in ("renorm", "faithful_second_forward", "drop_last", "channels_last", "bf16", "compile",
                    "deterministic"):
            _boolean(key, getattr(self, key))
        _integer("batch_size", self.batch_size, low=1)
        _integer("epochs", self.epochs, low=1)
        _number("lr", self.lr, low=0.0, low_open=True)
        _number("momentum", self.momentum, low=0.0, high=1.0, high_open=True)
        _number("weight_decay", self.weight_decay, low=0.0)
        _number("gamma", self.gamma, low=0.0, low_open=True)
        for m in self.milestones:
            _integer("milestones", m, low=1)
        if list(self.milestones) != sorted(set(self.milestones)):
            raise ConfigError("milestones", f"must be strictly increasing, got {list(self.milestones)}")
        _integer("eval_every", self.eval_every, low=1)
        _number("convergence_threshold", self.convergence_threshold, low=0.0, high=1.0)
        _integer("log_steps", self.log_steps, low=0)
        _integer("seed", self.seed, low=0)
        for key in ("accept_below", "accept_at_least"):
            if getattr(self, key) is not None:
                _number(key, getattr(self, key), low=0.0, high=1.0)
        changes: dict[str, Any] = {}
        if self.lam_schedule is not None:
            if not self.lam_schedule:
                raise ConfigError("lam_schedule", "must not be empty")
            for lam in self.lam_schedule:
                _number("lam_schedule", lam, low=0.0, high=1.0)
            if self.epochs_per_lam is None:
                raise ConfigError("epochs_per_lam", "required with lam_schedule")
            _integer("epochs_per_lam", self.epochs_per_lam, low=1)
            if self.method != "dual":
                raise ConfigError("lam_schedule", "only method 'dual' takes a λ schedule")
            # The schedule defines the run's length and its first λ.
            changes.update(epochs=len(self.lam_schedule) * self.epochs_per_lam, lam=self.lam_schedule[0])
        elif self.epochs_per_lam is not None:
            raise ConfigError("epochs_per_lam", "only meaningful with lam_schedule")
        epochs = changes.get("epochs", self.epochs)
        late = [m for m in self.milestones if m > epochs]
        if late:
            raise ConfigError("milestones", f"{late} lie beyond the run's {epochs} epochs: the learning rate would "
                                            "never change there (set milestones within 1..epochs, or [])")
        # Canonical form: settings a method ignores take one fixed value, so that
        # identical runs compare equal (and are trained once by the workflow).
        if self.method == "ce":
            changes.update(lam=0.0, value_source=None, renorm=False, K=None, faithful_second_forward=False)
        elif self.method == "loss_mix":
            changes.update(renorm=False, K=None, faithful_second_forward=False)
        if self.eta == 0.0:
            changes.update(noise_seed_offset=0, label_seed=None)
        for key in ("lam", "eta", "width", "lr", "momentum", "weight_decay", "gamma", "convergence_threshold"):
            changes.setdefault(key, float(changes.get(key, getattr(self, key))))
        return dataclasses.replace(self, **changes)

    # --------------------------------------------------------------- derived
    @property
    def resolved_label_seed(self) -> int:
        """The numpy seed of the symmetric noise (the notebooks' ``seed + 1000``, V3's ``seed``)."""
        return self.label_seed if self.label_seed is not None else self.seed + self.noise_seed_offset

    @property
    def random_label_seed(self) -> int:
        """Seed of the uniformly random value labels (exp_C 'Misaligned': ``seed + 5000``)."""
        return self.seed + 5000

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        for key in ("milestones", "lam_schedule"):
            if out[key] is not None:
                out[key] = list(out[key])
        return out

    def fingerprint(self) -> str:
        """SHA-256 of the canonical JSON: equal iff the runs are the same run."""
        blob = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()


@dataclass
class Runtime:
    """Where and how a run executes; never changes its numbers."""

    data_root: str = "resources/data"
    download: bool = False
    device: str = "auto"  # auto | cpu | cuda | cuda:N
    eval_batch_size: int = 1024
    num_threads: int | None = None  # CPU threads; None = torch's default
    progress: bool = True
    extra: dict[str, Any] = field(default_factory=dict)


# ---------------------------------------------------------------- validators
def _choice(key: str, value: Any, allowed) -> None:
    if value not in allowed:
        raise ConfigError(key, f"unknown value {value!r}; allowed: {', '.join(map(str, allowed))}")


def _boolean(key: str, value: Any) -> None:
    if not isinstance(value, bool):
        raise ConfigError(key, f"must be true or false, got {value!r}")


def _integer(key: str, value: Any, low: int | None = None) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(key, f"must be an integer, got {value!r}")
    if low is not None and value < low:
        raise ConfigError(key, f"must be >= {low}, got {value}")


def _number(key: str, value: Any, low=None, high=None, low_open=False, high_open=False) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(key, f"must be a finite number, got {value!r}")
    lo = "(" if low_open else "["
    hi = ")" if high_open else "]"
    span = f"{lo}{'-inf' if low is None else low}, {'inf' if high is None else high}{hi}"
    if low is not None and (value < low or (low_open and value == low)):
        raise ConfigError(key, f"must be in {span}, got {value}")
    if high is not None and (value > high or (high_open and value == high)):
        raise ConfigError(key, f"must be in {span}, got {value}")
