"""Benchmark the engine's dual step and data path against the notebooks' (see benchmarks/README.md).

    .venv/bin/python benchmarks/step.py              # full setting for this device
    .venv/bin/python benchmarks/step.py --reduced    # a quick pass (~2 min on a 2-core CPU)

Three measurements, each interleaved in one process: step throughput per architecture
(notebook step / engine dual step / engine CE step), one epoch of the data path
(on-device augmentation / PIL DataLoader), and one SimpleCNN training epoch end to end
(engine Trainer / notebook loader + step). Prints a table; writes everything as JSON.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch

from dualgrad.config import RunConfig, Runtime
from dualgrad.data import CropFlip, ImageData, Normalizer, load_dataset
from dualgrad.data.datasets import SYNTHETIC_SIZES
from dualgrad.device import configure_backends, select_device
from dualgrad.labels import make_labels
from dualgrad.models import build_model, count_parameters
from dualgrad.noise import symmetric_noise
from dualgrad.optim import SGD
from dualgrad.provenance import device_info, git_commit, now, package_versions
from dualgrad.step import Stepper
from dualgrad.train import Trainer
from reference import NotebookDualStep, loader_epoch, notebook_epoch, notebook_train_loader
from timing import interleaved, ratio, summarize, sync

K = 16
LAM = 0.3  # any λ outside {0, 1} costs the same
ETA = 0.4
SEED = 0
LR = 0.1
ARCHS = ("ResNet18", "ResNet34", "VGG11", "SimpleCNN")
E2E_ARCH = "SimpleCNN"
STEP_BATCHES = 4  # distinct batches the step benchmark cycles through
DEFAULT_OUT = Path(__file__).resolve().parent / "out" / "step.json"

# Defaults per setting; explicit options override them. The CPU step batch is 32: at 128 a
# ResNet-34 step takes ~10 s on 2 cores, and 3 methods x 50 steps would take half an hour.
DEFAULTS = {
    "cuda": dict(batch_size=256, steps=64, min_rep_seconds=1.0, reps=5, warmup_steps=5, epoch_batch_size=256,
                 data_images=12000, e2e_images=10000, epoch_reps=5),
    "cpu": dict(batch_size=32, steps=16, min_rep_seconds=2.0, reps=3, warmup_steps=2, epoch_batch_size=256,
                data_images=12000, e2e_images=10000, epoch_reps=3),
    "reduced": dict(batch_size=8, steps=16, min_rep_seconds=0.0, reps=2, warmup_steps=1, epoch_batch_size=128,
                    data_images=2048, e2e_images=2048, epoch_reps=2),
}

# (key, description, threshold): the project's targets for the ratios measured here.
TARGETS = (
    ("dual_vs_notebook", "dual step >= 1.35x notebook step", 1.35),
    ("dual_vs_ce", "dual step (K=16) >= 0.9x CE step", 0.9),
    ("data", "on-device augmentation >= 10x PIL DataLoader", 10.0),
    ("e2e", "SimpleCNN epoch >= 1.5x reference pipeline", 1.5),
)


# ---------------------------------------------------------------- settings
def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--reduced", action="store_true", help="fewer steps, small batch, few images (a quick pass)")
    p.add_argument("--archs", nargs="+", choices=ARCHS, default=list(ARCHS))
    p.add_argument("--width", type=float, default=1.0, help="channel multiplier of every model")
    p.add_argument("--device", default="auto", help="auto (CUDA if available), cpu, cuda, cuda:N")
    p.add_argument("--batch-size", type=int, help="step benchmark batch (GPU 256, CPU 32, reduced 8)")
    p.add_argument("--steps", type=int, help=f"least steps per repetition, a multiple of K={K}")
    p.add_argument("--min-rep-seconds", type=float,
                   help="lengthen repetitions (by K steps at a time) of fast models to about this long")
    p.add_argument("--reps", type=int, help="timed repetitions of the step benchmark")
    p.add_argument("--warmup-steps", type=int, help="untimed steps of each contender first")
    p.add_argument("--epoch-batch-size", type=int, help="batch of the data-path and end-to-end epochs (256)")
    p.add_argument("--data-images", type=int, help="images per data-path epoch (12000 = all synthetic)")
    p.add_argument("--e2e-images", type=int, help="images per end-to-end epoch (10000)")
    p.add_argument("--epoch-reps", type=int, help="timed epochs of each contender (after one warm-up epoch)")
    p.add_argument("--num-workers", type=int, default=2, help="PIL DataLoader workers (the notebooks used 4)")
    p.add_argument("--threads", type=int, help="torch intra-op threads (default: torch's choice); 1 resists "
                                                "a machine shared with other jobs")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON output path")
    args = p.parse_args(argv)
    args.device = select_device(args.device)
    defaults = DEFAULTS["reduced" if args.reduced else args.device.type]
    for key, value in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.steps <= 0 or args.steps % K:
        p.error(f"--steps must be a positive multiple of K={K}, so each repetition pays its refreshes")
    for key in ("batch_size", "reps", "warmup_steps", "epoch_batch_size", "epoch_reps"):
        if getattr(args, key) < 1:
            p.error(f"--{key.replace('_', '-')} must be >= 1")
    if args.batch_size * STEP_BATCHES > SYNTHETIC_SIZES[0]:
        p.error(f"--batch-size: {STEP_BATCHES} batches must fit in the {SYNTHETIC_SIZES[0]} synthetic images")
    for key in ("data_images", "e2e_images"):
        if not args.epoch_batch_size <= getattr(args, key) <= SYNTHETIC_SIZES[0]:
            p.error(f"--{key.replace('_', '-')} must be between --epoch-batch-size and {SYNTHETIC_SIZES[0]}")
    return args


def settings(args: argparse.Namespace) -> dict:
    out = {k: v for k, v in vars(args).items() if k not in ("device", "out")}
    return dict(out, device=str(args.device), K=K, lam=LAM, eta=ETA, lr=LR, seed=SEED,
                mode="reduced" if args.reduced else "full")


def environment(device: torch.device) -> dict:
    info = device_info(device)
    if device.type == "cpu":
        info["name"] = _cpu_model() or info["name"]
    return {"device": info, "cpu_count": os.cpu_count(), "versions": package_versions(), "git": git_commit(),
            "started": now(), "loadavg_start": os.getloadavg()}


def _cpu_model() -> str | None:
    try:
        with open("/proc/cpuinfo") as f:
            return next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), None)
    except OSError:
        return None


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# ------------------------------------------------------------------ 1. step
@dataclass
class Contender:
    label: str
    memory_format: str
    model: torch.nn.Module
    call: Callable  # (x_channels_last, x_nchw, y_noisy, y_clean) -> None


def step_batches(data: ImageData, batch_size: int, device: torch.device) -> list[tuple]:
    """Augmented, normalised batches in both layouts with their noisy and clean labels."""
    gen = torch.Generator(device=device).manual_seed(SEED)
    normalize = Normalizer(data.mean, data.std, device, channels_last=True)
    images = CropFlip(data.train_x[:STEP_BATCHES * batch_size].to(device))
    noisy = torch.as_tensor(symmetric_noise(data.train_y, ETA, SEED + 1000, data.num_classes), device=device)
    clean = torch.as_tensor(data.train_y, device=device)
    batches = []
    for i in range(STEP_BATCHES):
        rows = slice(i * batch_size, (i + 1) * batch_size)
        x = normalize(images(torch.arange(rows.start, rows.stop, device=device), gen))
        batches.append((x, x.contiguous(), noisy[rows], clean[rows]))
    return batches


def fresh_model(arch: str, width: float, num_classes: int, device: torch.device, memory_format) -> torch.nn.Module:
    torch.manual_seed(SEED)  # every contender starts from the same weights
    return build_model(arch, num_classes, width).to(device=device, memory_format=memory_format)


def engine_stepper(model: torch.nn.Module, method: str) -> Stepper:
    """A Stepper with the optimiser Trainer builds (dualgrad.optim.SGD, fused kernel)."""
    optimizer = SGD(model.parameters(), lr=LR, momentum=0.9, weight_decay=5e-4)
    return Stepper(model, optimizer, method, K=K, log_steps=RunConfig.log_steps)


def step_contenders(arch: str, args, num_classes: int) -> dict[str, Contender]:
    def new(memory_format):
        return fresh_model(arch, args.width, num_classes, args.device, memory_format)

    ref = NotebookDualStep(new(torch.contiguous_format), LAM, K=K, lr=LR)
    dual = engine_stepper(new(torch.channels_last), "dual")
    ce = engine_stepper(new(torch.channels_last), "ce")
    return {
        "notebook": Contender("notebook dual step", "contiguous (NCHW)", ref.model,
                              lambda xc, xn, yn, yc: ref(xn, yn, yc)),
        "dual": Contender("engine dual step", "channels_last", dual.model,
                          lambda xc, xn, yn, yc: dual(xc, yn, yc, LAM)),
        "ce": Contender("engine CE step", "channels_last", ce.model,
                        lambda xc, xn, yn, yc: ce(xc, yn, None, 0.0)),
    }


def run_steps(call: Callable, batches: list[tuple], steps: int) -> None:
    for i in range(steps):
        call(*batches[i % len(batches)])


def warm_up(contenders: dict[str, Contender], batches: list[tuple], steps: int, device) -> float:
    """Untimed steps of each contender; returns the slowest one's last step in seconds (the first
    steps pay for kernel selection and allocation, so only the last one estimates a step)."""
    slowest = 0.0
    for c in contenders.values():
        c.model.train()
        run_steps(c.call, batches, steps - 1)
        sync(device)
        start = time.perf_counter()
        run_steps(c.call, batches, 1)
        sync(device)
        slowest = max(slowest, time.perf_counter() - start)
    return slowest


def steps_per_rep(least: int, step_seconds: float, min_rep_seconds: float) -> int:
    """The fewest whole blocks of K steps, at least ``least`` steps, lasting ``min_rep_seconds``:
    short repetitions of small models are at the mercy of every hiccup of the machine."""
    blocks = max(least // K, math.ceil(min_rep_seconds / (K * step_seconds)))
    return blocks * K


def bench_arch(arch: str, batches: list[tuple], args, num_classes: int) -> dict:
    contenders = step_contenders(arch, args, num_classes)
    steps = steps_per_rep(args.steps, warm_up(contenders, batches, args.warmup_steps, args.device),
                          args.min_rep_seconds)
    runs = {name: (lambda c=c: run_steps(c.call, batches, steps)) for name, c in contenders.items()}
    seconds = interleaved(runs, args.reps, args.device)
    images = steps * args.batch_size
    methods = {
        name: {"label": c.label, "memory_format": c.memory_format, **summarize(seconds[name], images),
               # a diverged model could time NaN arithmetic: flag it
               "params_finite": all(bool(torch.isfinite(p).all()) for p in c.model.parameters())}
        for name, c in contenders.items()
    }
    return {
        "parameters": count_parameters(contenders["dual"].model),
        "steps_per_rep": steps,
        "methods": methods,
        "ratios": {"dual_vs_notebook": ratio(seconds["dual"], seconds["notebook"]),
                   "dual_vs_ce": ratio(seconds["dual"], seconds["ce"])},
    }


# ------------------------------------------------------------- 2. data path
def engine_data_epoch(train_images: CropFlip, labels, gen, normalize, batch_size: int) -> None:
    """Trainer.train_epoch without the model: shuffled index batches, on-device augmentation."""
    n = len(train_images)
    perm = torch.randperm(n, generator=gen, device=labels.device)
    for i in range(n // batch_size):
        idx = perm[i * batch_size:(i + 1) * batch_size]
        normalize(train_images(idx, gen))
        labels[idx]  # the label gather each training step does


def bench_data(data: ImageData, args) -> dict:
    device, b = args.device, args.epoch_batch_size
    sub = data.subset(args.data_images, None)
    train_images = CropFlip(sub.train_x.to(device))
    labels = torch.as_tensor(sub.train_y, device=device)
    gen = torch.Generator(device=device).manual_seed(SEED)
    normalize = Normalizer(sub.mean, sub.std, device, channels_last=True)
    loader = notebook_train_loader(sub.train_x, sub.train_y, sub.mean, sub.std, b, args.num_workers, device)
    runs = {"engine": lambda: engine_data_epoch(train_images, labels, gen, normalize, b),
            "pil": lambda: loader_epoch(loader, device)}
    interleaved(runs, 1, device)  # warm-up: starts the persistent workers
    seconds = interleaved(runs, args.epoch_reps, device)
    images = (len(train_images) // b) * b
    return {
        "engine": {"label": "CropFlip + Normalizer on device", **summarize(seconds["engine"], images)},
        "pil": {"label": f"PIL DataLoader, {args.num_workers} workers", **summarize(seconds["pil"], images)},
        "ratio": ratio(seconds["engine"], seconds["pil"]),
    }


# ------------------------------------------------------------- 3. end to end
def bench_e2e(data: ImageData, args) -> dict:
    device, b = args.device, args.epoch_batch_size
    sub = data.subset(args.e2e_images, b)
    cfg = RunConfig.from_dict(dict(arch=E2E_ARCH, width=args.width, dataset="synthetic", n_train=args.e2e_images,
                                   n_test=b, batch_size=b, method="dual", lam=LAM, K=K, eta=ETA, lr=LR, seed=SEED))
    labels = make_labels(cfg, sub.train_y, sub.num_classes)
    trainer = Trainer(cfg, Runtime(progress=False), sub, labels, device)

    def engine_epoch() -> None:
        trainer.stepper.log.reset_epoch()
        trainer.train_epoch(LAM)

    ref = NotebookDualStep(fresh_model(E2E_ARCH, args.width, sub.num_classes, device, torch.contiguous_format),
                           LAM, K=K, lr=LR)
    loader = notebook_train_loader(sub.train_x, sub.train_y, sub.mean, sub.std, b, args.num_workers, device)
    noisy = torch.tensor(labels.noisy, device=device)
    clean = torch.tensor(labels.clean, device=device)
    runs = {"engine": engine_epoch, "reference": lambda: notebook_epoch(ref, loader, noisy, clean, device)}
    interleaved(runs, 1, device)  # warm-up epoch each
    seconds = interleaved(runs, args.epoch_reps, device)
    images = trainer.steps_per_epoch() * b
    return {
        "arch": E2E_ARCH,
        "engine": {"label": "Trainer.train_epoch (on-device data, Stepper dual, channels_last)",
                   **summarize(seconds["engine"], images)},
        "reference": {"label": f"PIL DataLoader ({args.num_workers} workers) + notebook step, NCHW",
                      **summarize(seconds["reference"], images)},
        "ratio": ratio(seconds["engine"], seconds["reference"]),
    }


# ---------------------------------------------------------------- report
def evaluate_targets(results: dict) -> list[dict]:
    measured = []
    for arch, r in results["step"].items():
        measured += [("dual_vs_notebook", arch, r["ratios"]["dual_vs_notebook"]),
                     ("dual_vs_ce", arch, r["ratios"]["dual_vs_ce"])]
    measured += [("data", "epoch", results["data"]["ratio"]), ("e2e", E2E_ARCH, results["e2e"]["ratio"])]
    spec = {key: (text, threshold) for key, text, threshold in TARGETS}
    return [{"target": key, "description": spec[key][0], "subject": subject, "ratio": r["median"],
             "threshold": spec[key][1], "pass": r["median"] >= spec[key][1]} for key, subject, r in measured]


def _rate(s: dict) -> str:
    r = s["images_per_s"]
    return f"{r['median']:9.1f} [{r['min']:.1f}-{r['max']:.1f}]"


def _secs(s: dict) -> str:
    t = s["seconds"]
    return f"{t['median']:.2f} s [{t['min']:.2f}-{t['max']:.2f}]"


def _ratio(r: dict) -> str:
    return f"{r['median']:.2f}x [{r['paired_min']:.2f}-{r['paired_max']:.2f}]"


def format_report(results: dict) -> str:
    env, st = results["environment"], results["settings"]
    load = env["loadavg_start"][0], results["loadavg_end"][0]
    lines = [f"device: {env['device']['name']} ({st['device']}), torch {env['versions']['torch']}, "
             f"threads {env['device']['torch_threads']}, mode {st['mode']}, "
             f"load average {load[0]:.1f} -> {load[1]:.1f}",
             "images/s: median [min-max] over repetitions; ratios: of medians [range over paired repetitions]", ""]
    lines.append(f"1. Step images/s (batch {st['batch_size']}, width {st['width']}, K={K}, {st['reps']} reps of "
                 f"'steps' steps, {st['warmup_steps']} warm-up)")
    head = f"{'arch':10} {'steps':>5} {'notebook (NCHW)':>26} {'engine dual (CL)':>26} {'engine CE (CL)':>26} " \
           f"{'dual/notebook':>21} {'dual/CE':>21}"
    lines += [head, "-" * len(head)]
    for arch, r in results["step"].items():
        m = r["methods"]
        lines.append(f"{arch:10} {r['steps_per_rep']:5d} {_rate(m['notebook']):>26} {_rate(m['dual']):>26} "
                     f"{_rate(m['ce']):>26} "
                     f"{_ratio(r['ratios']['dual_vs_notebook']):>21} {_ratio(r['ratios']['dual_vs_ce']):>21}")
    d = results["data"]
    lines += ["", f"2. Data path (one epoch of {d['engine']['images_per_rep']} images, batch "
                  f"{st['epoch_batch_size']}, {st['epoch_reps']} reps)",
              f"   {d['engine']['label']:48} {_rate(d['engine'])} images/s",
              f"   {d['pil']['label']:48} {_rate(d['pil'])} images/s",
              f"   engine/PIL {_ratio(d['ratio'])}"]
    e = results["e2e"]
    lines += ["", f"3. End to end: {e['arch']} epoch of {e['engine']['images_per_rep']} images, batch "
                  f"{st['epoch_batch_size']}, {st['epoch_reps']} reps",
              f"   {e['engine']['label']:68} {_secs(e['engine'])}",
              f"   {e['reference']['label']:68} {_secs(e['reference'])}",
              f"   engine/reference {_ratio(e['ratio'])}"]
    lines += ["", "Targets (informational)"]
    for t in results["targets"]:
        verdict = "PASS" if t["pass"] else "MISS"
        lines.append(f"   {t['description']:46} {t['subject']:10} {t['ratio']:6.2f}x  {verdict}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    configure_backends(args.device, deterministic=False, num_threads=args.threads)  # cudnn.benchmark as notebooks
    results = {"settings": settings(args), "environment": environment(args.device)}
    log("loading the synthetic dataset")
    data = load_dataset("synthetic")
    batches = step_batches(data, args.batch_size, args.device)
    results["step"] = {}
    for arch in args.archs:
        log(f"step benchmark: {arch}")
        results["step"][arch] = bench_arch(arch, batches, args, data.num_classes)
    log("data path benchmark")
    results["data"] = bench_data(data, args)
    log("end-to-end benchmark")
    results["e2e"] = bench_e2e(data, args)
    results["targets"] = evaluate_targets(results)
    results["finished"] = now()
    results["loadavg_end"] = os.getloadavg()  # other processes on the machine skew absolute numbers
    print(format_report(results))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    log(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
