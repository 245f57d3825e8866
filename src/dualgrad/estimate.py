"""GPU-hour estimates of a plan's runs, from the paper's own measured run times.

The authors' released results record ``time_seconds`` per run (their GPU, full CIFAR-10, 100 epochs,
dual gradient, batch 256): medians per epoch are ResNet-18 6.2 s, ResNet-34 10.0 s, VGG11 5.2 s,
SimpleCNN 5.2 s (exp P; exp K's ResNet-18 runs: 6.8 s). V3's VGG11-BN with an MLP head at batch 128
was not timed: VGG11's time × 1.3 for the halved batch is assumed. A run's estimate scales that
with its epochs and training images, and with width² above width 1 (narrower networks are counted
as full width: a GPU does not get proportionally faster). An estimate, not a measurement.
"""

from __future__ import annotations

SECONDS_PER_EPOCH = {"ResNet18": 6.2, "ResNet34": 10.0, "VGG11": 5.2, "SimpleCNN": 5.2, "VGG11_BN_MLP": 6.8}
CIFAR_TRAIN = 50_000


def run_gpu_seconds(cfg) -> float:
    per_epoch = SECONDS_PER_EPOCH.get(cfg.arch, max(SECONDS_PER_EPOCH.values()))
    images = (cfg.n_train or CIFAR_TRAIN) / CIFAR_TRAIN
    return per_epoch * cfg.epochs * images * max(float(cfg.width), 1.0) ** 2


def experiment_gpu_hours(plan, name: str, exclude: set[str] | None = None) -> tuple[int, float]:
    """(runs, GPU hours) of an experiment's runs, leaving out the paths in ``exclude`` (trained anyway)."""
    paths = [p for p in dict.fromkeys(plan.experiments[name].run_paths) if p not in (exclude or set())]
    return len(paths), sum(run_gpu_seconds(plan.runs[p].config) for p in paths) / 3600


def extension_summary(plan, config: dict) -> list[str]:
    """One line per extension experiment in the plan: its extra runs and their GPU-hour estimate."""
    specs = config.get("experiments") or {}
    extensions = [n for n in plan.experiments if (specs.get(n) or {}).get("extension")]
    core = {p for n, e in plan.experiments.items() if n not in extensions for p in e.run_paths}
    lines = []
    for name in extensions:
        runs, hours = experiment_gpu_hours(plan, name, core)
        lines.append(f"extension {name}: {runs} extra runs, ≈ {hours:.1f} GPU-hours "
                     f"(estimate from the paper's run times, dualgrad.estimate)")
    return lines
