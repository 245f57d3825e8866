"""The GPU check's short run: a few epochs of one training run on random CIFAR-shaped images.

    python benchmarks/gpu_check_run.py --precision bf16 --out run.json

The engine's own Trainer (on-device data, dual step, channels_last, evaluation every epoch) on
``--images`` random uint8 images (timing does not depend on what they show). The first epoch
pays for cuDNN's algorithm search and the allocator's growth, so rates come from the later ones.
With ``DUALGRAD_GPUS`` set it first takes a GPU slot, as a workflow job does (packing phase).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", default="auto")
    p.add_argument("--arch", default="ResNet18")
    p.add_argument("--width", type=float, default=1.0)
    p.add_argument("--images", type=int, default=50_000, help="training images per epoch")
    p.add_argument("--test-images", type=int, default=10_000, help="images evaluated after each epoch")
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--epochs", type=int, default=3, help="the first is a warm-up: at least 2")
    p.add_argument("--precision", nargs="+", choices=("fp32", "bf16"), default=["fp32"],
                   help="one run per precision, one after the other in this process")
    p.add_argument("--threads", type=int, help="CPU threads for torch")
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args(argv)
    if args.epochs < 2:
        p.error("--epochs must be at least 2: the first epoch is a warm-up")
    if args.images < args.batch_size:
        p.error("--images must hold at least one batch")
    return args


def random_images(n_train: int, n_test: int):
    import numpy as np
    import torch

    from dualgrad.data import ImageData

    gen = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (n_train + n_test, 3, 32, 32), dtype=torch.uint8, generator=gen)
    labels = np.random.default_rng(0).integers(0, 10, n_train + n_test)
    return ImageData("random", images[:n_train], labels[:n_train], images[n_train:], labels[n_train:], 10,
                     (0.5, 0.5, 0.5), (0.29, 0.29, 0.29), {"generator": "uniform random uint8"})


def short_run(args, data, device, bf16: bool) -> dict:
    """``args.epochs`` epochs of training, each followed by an evaluation; the first untimed."""
    import torch

    from dualgrad.config import RunConfig, Runtime
    from dualgrad.labels import make_labels
    from dualgrad.train import Trainer

    cfg = RunConfig.from_dict(dict(arch=args.arch, width=args.width, dataset="synthetic", batch_size=args.batch_size,
                                   epochs=args.epochs, milestones=[], method="dual", lam=0.3, K=16, eta=0.4,
                                   bf16=bf16, channels_last=True, seed=0))
    labels = make_labels(cfg, data.train_y, data.num_classes)
    trainer = Trainer(cfg, Runtime(device=str(device), progress=False), data, labels, device)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)

    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    epochs = []
    for epoch in range(args.epochs):
        trainer.stepper.log.reset_epoch()
        sync()
        t0 = time.time()
        trainer.train_epoch(cfg.lam)
        loss = (trainer.stepper.log.loss_sum / max(trainer.stepper.log.steps, 1)).item()  # syncs
        t1 = time.time()
        trainer.evaluate()  # syncs
        t2 = time.time()
        epochs.append({"epoch": epoch + 1, "start": t0, "train_end": t1, "end": t2, "train_seconds": t1 - t0,
                       "eval_seconds": t2 - t1, "train_loss": loss,
                       "images": trainer.steps_per_epoch() * args.batch_size})
    timed = epochs[1:]
    train_seconds = sum(e["train_seconds"] for e in timed)
    images = sum(e["images"] for e in timed)
    return {
        "epochs": epochs,
        "timed": {"start": timed[0]["start"], "end": timed[-1]["end"], "images": images,
                  "train_seconds": train_seconds, "eval_seconds": sum(e["eval_seconds"] for e in timed),
                  "images_per_s": images / train_seconds,
                  "epoch_seconds": sum(e["end"] - e["start"] for e in timed) / len(timed)},
        "peak_memory_bytes": torch.cuda.max_memory_allocated(device) if device.type == "cuda" else None,
        "train_loss_finite": all(e["train_loss"] == e["train_loss"] for e in epochs),
    }


def main(argv=None) -> int:
    started_process = time.time()
    args = parse_args(argv)
    from dualgrad.gpu_slots import acquire_gpu_slot

    slot = acquire_gpu_slot()  # before torch touches CUDA

    import torch

    from dualgrad.device import configure_backends, select_device
    from dualgrad.provenance import device_info

    ready = time.time()

    device = select_device(args.device)
    configure_backends(device, deterministic=False, num_threads=args.threads)
    data = random_images(args.images, args.test_images)
    runs = {precision: short_run(args, data, device, precision == "bf16") for precision in args.precision}
    result = {"settings": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
              "device": device_info(device), "torch": torch.__version__, "gpu_slot": slot,
              "startup_seconds": ready - started_process, "runs": runs}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    for precision, run in runs.items():
        print(f"{precision}: {run['timed']['images_per_s']:.0f} images/s, "
              f"{run['timed']['epoch_seconds']:.2f} s per epoch with evaluation", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
