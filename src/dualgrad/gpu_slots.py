"""GPU slots for local multi-GPU runs: one device per training process, no scheduler needed.

``snakemake --cores all --resources gpu=N`` caps how many GPU jobs run at once, but does not
say *which* GPU each job gets. With ``DUALGRAD_GPUS=N`` in the environment, each training
process calls :func:`acquire_gpu_slot` before torch touches CUDA: it takes the first free
slot among lock files ``{lock dir}/gpu{i}.slot{j}.lock`` with a non-blocking ``flock`` and sets
``CUDA_VISIBLE_DEVICES=i``. The lock lives as long as the process (its file descriptor stays
open), so the kernel frees it on any exit, ``SIGKILL`` included: no stale locks.

Environment:

- ``DUALGRAD_GPUS``: number of GPUs to share out (unset or 0: do nothing);
- ``DUALGRAD_SLOTS_PER_GPU``: processes per GPU (default 1; >1 packs small runs);
- ``DUALGRAD_GPU_LOCK_DIR``: where the lock files live (default ``/tmp/dualgrad-gpu-locks``);
- ``DUALGRAD_GPU_WAIT_SECONDS``: how long to wait for a free slot (default 1800).

Under a scheduler that already chose the device (Slurm with ``--gpus`` sets
``CUDA_VISIBLE_DEVICES``), nothing happens.
"""

from __future__ import annotations

import fcntl
import os
import sys
import time

from .errors import ConfigError, DualgradError

DEFAULT_LOCK_DIR = "/tmp/dualgrad-gpu-locks"
DEFAULT_WAIT_SECONDS = 1800.0

_held: dict | None = None  # this process's slot; its "fd" stays open until exit or release


class NoFreeGpuSlot(DualgradError):
    """Every slot stayed busy for the whole wait."""


def _env_int(name: str, default: int, low: int) -> int:
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        raise ConfigError(name, f"must be a whole number, got {text!r}") from None
    if value < low:
        raise ConfigError(name, f"must be at least {low}, got {value}")
    return value


def _try_lock(path: str) -> int | None:
    """Open ``path`` and take an exclusive non-blocking flock; the fd on success, else None."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:  # held by another process (EWOULDBLOCK)
        os.close(fd)
        return None
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())  # for people looking at the lock files
    return fd


def acquire_gpu_slot(wait_seconds: float | None = None, poll_seconds: float = 2.0) -> dict | None:
    """Take a free GPU slot and set ``CUDA_VISIBLE_DEVICES``; call before torch initialises CUDA.

    Returns None (and changes nothing) when ``DUALGRAD_GPUS`` is unset or 0, or when
    ``CUDA_VISIBLE_DEVICES`` is already set. Otherwise returns the slot as a JSON-ready dict
    ``{"device", "slot", "gpus", "slots_per_gpu", "lock", "waited_seconds"}`` and keeps it until
    the process ends. Slots fill breadth-first (slot 0 of every GPU before any slot 1). If none
    is free it polls every ``poll_seconds`` for at most ``wait_seconds`` (default
    ``DUALGRAD_GPU_WAIT_SECONDS`` or 1800), then raises :class:`NoFreeGpuSlot`.
    Calling it again in the same process returns the slot it already holds.
    """
    global _held
    if _held is not None:
        return _held["info"]
    gpus = _env_int("DUALGRAD_GPUS", 0, low=0)
    if gpus == 0 or "CUDA_VISIBLE_DEVICES" in os.environ:
        return None
    per_gpu = _env_int("DUALGRAD_SLOTS_PER_GPU", 1, low=1)
    lock_dir = os.environ.get("DUALGRAD_GPU_LOCK_DIR") or DEFAULT_LOCK_DIR
    if wait_seconds is None:
        wait_seconds = float(os.environ.get("DUALGRAD_GPU_WAIT_SECONDS") or DEFAULT_WAIT_SECONDS)
    os.makedirs(lock_dir, exist_ok=True)

    started = time.monotonic()
    deadline = started + wait_seconds
    said_waiting = False
    while True:
        for slot in range(per_gpu):
            for device in range(gpus):
                path = os.path.join(lock_dir, f"gpu{device}.slot{slot}.lock")
                fd = _try_lock(path)
                if fd is None:
                    continue
                os.environ["CUDA_VISIBLE_DEVICES"] = str(device)
                info = {"device": device, "slot": slot, "gpus": gpus, "slots_per_gpu": per_gpu, "lock": path,
                        "waited_seconds": round(time.monotonic() - started, 3)}
                _held = {"fd": fd, "info": info}
                if said_waiting:
                    print(f"[gpu-slots] got GPU {device} (slot {slot}) after {info['waited_seconds']:.0f}s",
                          file=sys.stderr, flush=True)
                return info
        now = time.monotonic()
        if now >= deadline:
            raise NoFreeGpuSlot(f"all {gpus * per_gpu} GPU slots in {lock_dir} stayed busy for {wait_seconds:.0f}s "
                                f"(DUALGRAD_GPUS={gpus}, DUALGRAD_SLOTS_PER_GPU={per_gpu}); does snakemake's "
                                f"--resources gpu=N exceed DUALGRAD_GPUS x DUALGRAD_SLOTS_PER_GPU?")
        if not said_waiting:
            print(f"[gpu-slots] all {gpus * per_gpu} GPU slots in {lock_dir} are busy; waiting up to "
                  f"{wait_seconds:.0f}s for one to free up", file=sys.stderr, flush=True)
            said_waiting = True
        time.sleep(min(poll_seconds, max(deadline - now, 0.0)))


def release_gpu_slot() -> None:
    """Give the slot back before the process ends (tests; normally the exit releases it).

    ``CUDA_VISIBLE_DEVICES`` stays as it was set: CUDA may already be using that device.
    """
    global _held
    if _held is not None:
        os.close(_held["fd"])  # closing the only fd drops the flock
        _held = None
