"""Train one run: epochs, evaluation, per-epoch checkpoints, resume, and the result.

The only host synchronisations are once per epoch (reading the epoch's
logged sums and the test accuracy) — never per step.
"""

from __future__ import annotations

import math
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

from . import checkpoint as ckpt
from . import io
from .checkpoint import FinishedRun
from .config import RunConfig, Runtime
from .data import CropFlip, ImageData, Normalizer, load_dataset
from .device import configure_backends, seed_everything, select_device
from .errors import ConfigError, StorageError
from .labels import LabelSet, make_labels
from .models import build_model, count_parameters
from .optim import SGD, MultiStepSchedule
from .progress import EpochProgress, run_label
from .results import build_result
from .step import Stepper

@dataclass
class History:
    """Everything logged so far; saved in every checkpoint so a resumed run continues it."""

    epoch: list = field(default_factory=list)
    test_acc: list = field(default_factory=list)
    test_error: list = field(default_factory=list)
    train_loss: list = field(default_factory=list)
    avg_cos: list = field(default_factory=list)
    avg_gmix_norm: list = field(default_factory=list)
    lr: list = field(default_factory=list)
    lam: list = field(default_factory=list)
    trajectory: list = field(default_factory=list)  # λ sweeps: error after each λ
    train_seconds: float = 0.0
    eval_seconds: float = 0.0
    images_seen: int = 0
    segments: list = field(default_factory=list)  # one entry per (re)start of the process
    status: str = "ok"

    def to_dict(self) -> dict:
        return dict(self.__dict__)


class Trainer:
    """Model, optimiser, schedule, data stream and step for one run configuration."""

    def __init__(self, cfg: RunConfig, runtime: Runtime, data: ImageData, labels: LabelSet,
                 device: torch.device, init_model: str | None = None):
        self.cfg, self.runtime, self.data, self.device = cfg, runtime, data, device
        self.memory_format = torch.channels_last if cfg.channels_last else torch.contiguous_format
        seed_everything(cfg.seed)
        self.model = build_model(cfg.arch, data.num_classes, cfg.width)
        if init_model is not None:  # built first anyway, as the notebooks do: same RNG consumption
            self.model.load_state_dict(torch.load(init_model, map_location="cpu", weights_only=True))
        self.model.to(device=device, memory_format=self.memory_format)
        forward = torch.compile(self.model) if cfg.compile else self.model
        self.optimizer = SGD(self.model.parameters(), lr=cfg.lr, momentum=cfg.momentum,
                             weight_decay=cfg.weight_decay)
        self.scheduler = MultiStepSchedule(self.optimizer, cfg.milestones, cfg.gamma)
        self.stepper = Stepper(
            self.model, self.optimizer, cfg.method, K=cfg.K, renorm=cfg.renorm, negate_value=labels.negate_value,
            faithful_second_forward=cfg.faithful_second_forward,
            autocast_dtype=torch.bfloat16 if cfg.bf16 else None, log_steps=cfg.log_steps, forward=forward)
        self.forward = forward
        self.generator = torch.Generator(device=device).manual_seed(cfg.seed)
        self.normalize = Normalizer(data.mean, data.std, device, channels_last=cfg.channels_last)
        self.train_images = CropFlip(data.train_x.to(device))
        self.test_x = data.test_x.to(device)
        self.test_y = torch.as_tensor(data.test_y, device=device)
        self.y_noisy = torch.as_tensor(labels.noisy, device=device)
        self.y_value = None if labels.value is None else torch.as_tensor(labels.value, device=device)
        self.history = History()

    # ---------------------------------------------------------------- epochs
    def lam_for_epoch(self, epoch: int) -> float:
        cfg = self.cfg
        if cfg.lam_schedule is None:
            return cfg.lam
        return cfg.lam_schedule[epoch // cfg.epochs_per_lam]

    def steps_per_epoch(self) -> int:
        n, b = len(self.train_images), self.cfg.batch_size
        return n // b if self.cfg.drop_last else math.ceil(n / b)

    def train_epoch(self, lam: float) -> None:
        self.model.train()
        n, b = len(self.train_images), self.cfg.batch_size
        perm = torch.randperm(n, generator=self.generator, device=self.device)
        for i in range(self.steps_per_epoch()):
            idx = perm[i * b:(i + 1) * b]
            x = self.normalize(self.train_images(idx, self.generator))
            y_value = None if self.y_value is None else self.y_value[idx]
            self.stepper(x, self.y_noisy[idx], y_value, lam)
        self.history.images_seen += min(n, self.steps_per_epoch() * b)

    @torch.inference_mode()
    def evaluate(self) -> float:
        self.model.eval()
        correct = torch.zeros((), dtype=torch.int64, device=self.device)
        bs = self.runtime.eval_batch_size
        ctx = torch.autocast(self.device.type, dtype=torch.bfloat16) if self.cfg.bf16 else _null()
        with ctx:
            for i in range(0, len(self.test_x), bs):
                out = self.forward(self.normalize(self.test_x[i:i + bs]))
                correct += (out.argmax(1) == self.test_y[i:i + bs]).sum()
        return int(correct) / len(self.test_x)  # one sync per evaluation

    # ----------------------------------------------------------- checkpoint
    def state_dict(self) -> dict:
        rng = {"torch": torch.get_rng_state(), "data": self.generator.get_state()}
        if self.device.type == "cuda":
            rng["cuda"] = torch.cuda.get_rng_state_all()
        return {
            "epochs_done": len(self.history.epoch),
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "stepper": self.stepper.state_dict(),
            "rng": rng,
            "history": self.history.to_dict(),
        }

    def load_state_dict(self, state: dict) -> None:
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        stepper = state["stepper"]
        if stepper["cache"] is not None:
            stepper = dict(stepper, cache=[t.to(self.device) for t in stepper["cache"]],
                           cache_norm=stepper["cache_norm"].to(self.device))
        self.stepper.load_state_dict(stepper)
        torch.set_rng_state(state["rng"]["torch"])
        if "cuda" in state["rng"] and self.device.type == "cuda":
            torch.cuda.set_rng_state_all(state["rng"]["cuda"])
        self.generator.set_state(state["rng"]["data"])
        self.history = History(**state["history"])


class _null:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def train(cfg: RunConfig, runtime: Runtime, output: str | os.PathLike, checkpoint: str | os.PathLike | None = None,
          init_model: str | os.PathLike | None = None, save_model: str | os.PathLike | None = None,
          name: str | None = None, extra_provenance: dict | None = None, trajectory_probe=None) -> dict:
    """Train ``cfg`` and write its result JSON to ``output``; resume from ``checkpoint`` if present.

    ``trajectory_probe(trainer) -> dict``: extra measurements stored with each λ-sweep point.

    All user errors (paths, dataset) are raised before the first training step. A second run
    writing the same output waits for the first, then restores its result.
    """
    output = Path(output)
    checkpoint = Path(checkpoint) if checkpoint else output.with_name(output.name + ".ckpt")
    io.check_writable(output, "output")
    io.check_writable(checkpoint, "checkpoint")
    if save_model is not None:
        io.check_writable(save_model, "save_model")
    if init_model is not None and not Path(init_model).is_file():
        raise ConfigError("init_model", f"no model file at '{init_model}'")
    name = name or run_label(cfg)

    def log(msg: str) -> None:
        if runtime.progress:
            print(f"[{name}] {msg}", file=sys.stderr, flush=True)

    def waiting(pid: str) -> None:  # said even with --quiet: a silent wait looks like a hang
        print(f"[{name}] another run (pid {pid}) is writing {output}; waiting for it to finish", file=sys.stderr,
              flush=True)

    finished = FinishedRun(checkpoint, output, Path(save_model) if save_model is not None else None)
    with io.exclusive(output, on_wait=waiting):
        stale = [tmp for path in finished.paths() for tmp in io.remove_stale_temps(path)]
        if stale:
            log(f"removed {len(stale)} temporary file(s) of interrupted writes: {', '.join(map(str, stale))}")
        provenance = dict(extra_provenance or {})
        start_sha = None
        if init_model is not None:
            start_sha = provenance["start_model_sha256"] = io.file_sha256(init_model)
        restored = finished.restore(cfg, start_sha, log)
        if restored is not None:
            return restored
        return _train(cfg, runtime, finished, init_model, start_sha, name, provenance, log, trajectory_probe)


def _train(cfg, runtime, finished: FinishedRun, init_model, start_sha, name, provenance, log,
           trajectory_probe=None) -> dict:
    from .provenance import now

    started = now()
    checkpoint, output = finished.checkpoint, finished.output
    device = select_device(runtime.device)
    configure_backends(device, cfg.deterministic, runtime.num_threads)
    data = load_dataset(cfg.dataset, runtime.data_root, runtime.download).subset(cfg.n_train, cfg.n_test)
    if cfg.batch_size > len(data.train_y) and cfg.drop_last:
        raise ConfigError("batch_size", f"{cfg.batch_size} exceeds the {len(data.train_y)} training images "
                                        "with drop_last: no step would run")
    labels = make_labels(cfg, data.train_y, data.num_classes)
    trainer = Trainer(cfg, runtime, data, labels, device, init_model=str(init_model) if init_model else None)

    ident = ckpt.identity(cfg, device, start_sha)
    state = ckpt.load_resumable(checkpoint, ident, log)
    if state is not None:
        trainer.load_state_dict(state)
        log(f"resuming from checkpoint {checkpoint} after epoch {state['epochs_done']}")
    start_epoch = saved_epochs = len(trainer.history.epoch)
    segment = {"start_epoch": start_epoch, "end_epoch": start_epoch, "started": now(), "ended": None,
               "host": os.uname().nodename, "pid": os.getpid(), "slurm_job_id": os.environ.get("SLURM_JOB_ID"),
               **ckpt.numerics(device)}
    trainer.history.segments.append(segment)
    progress = EpochProgress(name, cfg.epochs, enabled=runtime.progress)
    hist = trainer.history

    def saved() -> str:
        if saved_epochs:
            return (f"epochs 1-{saved_epochs} of {cfg.epochs} are saved in '{checkpoint}': free space and rerun "
                    "the same command to resume from there")
        return "no epoch was saved yet"

    for epoch in range(start_epoch, cfg.epochs):
        lam = trainer.lam_for_epoch(epoch)
        lr = trainer.optimizer.lr
        trainer.stepper.log.reset_epoch()
        t0 = time.perf_counter()
        trainer.train_epoch(lam)
        step_log = trainer.stepper.log
        # The epoch's single read-back of logged sums (syncs the device).
        sums = torch.stack([step_log.loss_sum, step_log.cos_sum, step_log.gmix_sum]).tolist()
        t1 = time.perf_counter()
        trainer.scheduler.step()
        acc = trainer.evaluate()
        t2 = time.perf_counter()
        steps = max(step_log.steps, 1)
        dual = cfg.method == "dual"
        hist.epoch.append(epoch + 1)
        hist.test_acc.append(acc)
        hist.test_error.append(1 - acc)
        hist.train_loss.append(sums[0] / steps)
        hist.avg_cos.append(sums[1] / steps if dual else None)
        hist.avg_gmix_norm.append(sums[2] / steps if dual else None)
        hist.lr.append(lr)
        hist.lam.append(lam)
        hist.train_seconds += t1 - t0
        hist.eval_seconds += t2 - t1
        if cfg.lam_schedule is not None and (epoch + 1) % cfg.epochs_per_lam == 0:
            hist.trajectory.append({"lambda": lam, "error": 1 - acc,
                                    **(trajectory_probe(trainer) if trajectory_probe else {})})
        epoch_images = min(len(trainer.train_images), trainer.steps_per_epoch() * cfg.batch_size)
        progress.update(epoch + 1, hist.train_loss[-1], 1 - acc, epoch_images / max(t1 - t0, 1e-9), t2 - t0)
        segment.update(end_epoch=epoch + 1, ended=now())
        if not math.isfinite(hist.train_loss[-1]):
            hist.status = "diverged"
            log(f"training loss is not finite at epoch {epoch + 1}: stopping (status 'diverged')")
            break
        try:
            ckpt.save(checkpoint, ident, trainer.state_dict())
        except StorageError as err:
            raise err.with_saved(saved()) from None
        saved_epochs = epoch + 1

    result = build_result(cfg, trainer, labels, data, started=started, extra_provenance=provenance)
    model_state = {k: v.detach().cpu() for k, v in trainer.model.state_dict().items()} \
        if finished.save_model is not None else None
    try:
        finished.keep(result, model_state)
    except StorageError as err:
        raise err.with_saved(saved().replace("to resume from there", "to write the result without training")
                             if saved_epochs == len(hist.epoch) else saved()) from None
    checkpoint.unlink(missing_ok=True)  # the kept result now stands for the run
    log(f"wrote {output} (test error {result['test_error']:.4f}, {result['time_seconds']:.1f}s)")
    return result


def parameter_count(cfg: RunConfig, num_classes: int) -> int:
    return count_parameters(build_model(cfg.arch, num_classes, cfg.width))
