"""Interleaved repetitions and their summaries.

Contenders run in turn (a, b, c, a, b, c, ...) so that slow drifts of the
machine (other processes, thermal state) hit all of them alike; the device is
synchronised only at repetition boundaries, so asynchronous work is counted
in the repetition that queued it.
"""

from __future__ import annotations

import statistics
import time
from typing import Callable

import torch


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def interleaved(runs: dict[str, Callable[[], None]], reps: int, device: torch.device) -> dict[str, list[float]]:
    """Seconds of each repetition of each contender, run in round-robin order."""
    seconds: dict[str, list[float]] = {name: [] for name in runs}
    sync(device)
    for _ in range(reps):
        for name, run in runs.items():
            start = time.perf_counter()
            run()
            sync(device)
            seconds[name].append(time.perf_counter() - start)
    return seconds


def summarize(seconds: list[float], images: int) -> dict:
    """Median and range of seconds and images/s for repetitions of ``images`` images each."""
    rates = [images / s for s in seconds]
    return {
        "images_per_rep": images,
        "seconds": {"median": statistics.median(seconds), "min": min(seconds), "max": max(seconds)},
        "images_per_s": {"median": statistics.median(rates), "min": min(rates), "max": max(rates)},
        "rep_seconds": seconds,
    }


def ratio(a: list[float], b: list[float]) -> dict:
    """Throughput of a over b from their seconds per repetition (same work per repetition):
    of the medians, and the range over paired (same-round) repetitions."""
    paired = [tb / ta for ta, tb in zip(a, b)]
    return {"median": statistics.median(b) / statistics.median(a), "paired_min": min(paired),
            "paired_max": max(paired)}
