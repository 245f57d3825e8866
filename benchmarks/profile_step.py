"""Where a step's time goes: torch.profiler over K steps of each contender of benchmarks/step.py.

    .venv/bin/python benchmarks/profile_step.py --arch ResNet18 --batch-size 32 [--threads 1]

Prints, per contender, the share of time in the network's own kernels (forward and
backward of conv, BN, pooling, activations, linear, loss) versus everything else
(gradient flattening, norms, mixing, copies, optimiser, host syncs), then the top ops.
Shares are within one contender's run, so they hold up better than absolute times on a
busy machine. Times are host CPU times: on CUDA they show launch overhead, not kernel time.
"""

from __future__ import annotations

import argparse
import sys

import torch
from torch.profiler import ProfilerActivity, profile

from dualgrad.data import load_dataset
from dualgrad.device import select_device
from step import ARCHS, K, run_steps, step_batches, step_contenders
from timing import sync

NETWORK_OPS = ("conv", "batch_norm", "pool", "threshold", "relu", "clamp_min", "softmax", "nll_loss", "addmm",
               "aten::mm", "aten::t")


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--arch", choices=ARCHS, default="SimpleCNN")
    p.add_argument("--width", type=float, default=1.0)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--device", default="auto")
    p.add_argument("--threads", type=int)
    p.add_argument("--top", type=int, default=12, help="ops listed per contender")
    args = p.parse_args(argv)
    args.device = select_device(args.device)
    return args


def is_network_op(name: str) -> bool:
    return any(key in name for key in NETWORK_OPS)


def profile_contender(call, batches, device) -> list:
    """Self CPU time per op over K steps (one value-gradient refresh included)."""
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        run_steps(call, batches, K)
        sync(device)
    return [e for e in prof.key_averages() if e.self_cpu_time_total > 0]


def report(name: str, events: list, top: int) -> str:
    total = sum(e.self_cpu_time_total for e in events)
    network = sum(e.self_cpu_time_total for e in events if is_network_op(e.key))
    lines = [f"== {name}: {total / 1e6:.2f} s self CPU over {K} steps; network kernels {100 * network / total:.0f}%, "
             f"other {100 * (total - network) / total:.0f}%"]
    for e in sorted(events, key=lambda e: -e.self_cpu_time_total)[:top]:
        kind = "net" if is_network_op(e.key) else "other"
        lines.append(f"   {e.key:40} {kind:5} {e.self_cpu_time_total / 1e3:9.1f} ms {e.count:6d} calls "
                     f"{100 * e.self_cpu_time_total / total:5.1f}%")
    return "\n".join(lines)


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    data = load_dataset("synthetic")
    batches = step_batches(data, args.batch_size, args.device)
    contenders = step_contenders(args.arch, args, data.num_classes)
    print(f"{args.arch}, batch {args.batch_size}, width {args.width}, {args.device}, "
          f"{torch.get_num_threads()} threads")
    for c in contenders.values():
        run_steps(c.call, batches, 2)  # warm-up: allocator and kernel selection
    for name, c in contenders.items():
        print(report(f"{name} ({c.label}, {c.memory_format})", profile_contender(c.call, batches, args.device),
                     args.top))
    return 0


if __name__ == "__main__":
    sys.exit(main())
