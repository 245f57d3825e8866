"""GPU slots for local multi-GPU runs: one device per training process, no scheduler needed.

``snakemake --cores all --resources gpu=N`` caps how many GPU jobs run at once, but does not
say *which* GPU each job gets. Each training process calls :func:`acquire_gpu_slot` before torch
touches CUDA: it takes the first free slot among lock files ``{lock dir}/gpu{device}.slot{j}.lock``
with a non-blocking ``flock`` and sets ``CUDA_VISIBLE_DEVICES`` to that one device. The lock lives
as long as the process (its file descriptor stays open), so the kernel frees it on any exit,
``SIGKILL`` included: no stale locks.

Which devices are shared out:

- ``CUDA_VISIBLE_DEVICES`` already lists several (an exported list, a multi-GPU Slurm
  allocation): its entries, e.g. ``3,5`` gives one job 3 and the next 5;
- it names one device or none (Slurm with ``--gpus=1``, a user's choice): nothing happens;
- it is unset: GPUs 0..N-1, N being every GPU the NVIDIA driver lists.

Environment:

- ``DUALGRAD_GPUS``: how many of those devices to share out (default: all of them; 0: do nothing),
  so ``--resources gpu=N`` needs no matching setting;
- ``DUALGRAD_SLOTS_PER_GPU``: processes per GPU (default 1; >1 packs small runs);
- ``DUALGRAD_GPU_LOCK_DIR``: where the lock files live (default: a folder of this user's in the
  temporary directory, ``dualgrad-gpu-locks-<uid>``, so users do not block each other's slots);
- ``DUALGRAD_GPU_WAIT_SECONDS``: how long to wait for a free slot (default 1800).

A lock file this process cannot open (another user's, in a shared lock folder) counts as a busy
slot, never as an error.
"""

from __future__ import annotations

import fcntl
import os
import sys
import tempfile
import time

from .errors import ConfigError, DualgradError

NVIDIA_GPUS = "/proc/driver/nvidia/gpus"  # one entry per GPU the driver sees; reading it starts no CUDA
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


def default_lock_dir() -> str:
    return os.path.join(tempfile.gettempdir(), f"dualgrad-gpu-locks-{os.getuid()}")


def _installed_gpus() -> int:
    try:
        return len(os.listdir(NVIDIA_GPUS))
    except OSError:
        return 0


def shared_devices() -> list[str]:
    """The device labels to share out (see the module's docstring); empty: leave CUDA alone."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is None:
        count = _env_int("DUALGRAD_GPUS", _installed_gpus(), low=0)
        return [str(i) for i in range(count)]
    entries = [entry.strip() for entry in visible.split(",") if entry.strip()]
    if len(entries) <= 1:  # a scheduler or the user chose the device
        return []
    return entries[: _env_int("DUALGRAD_GPUS", len(entries), low=0)]


_warned: set[str] = set()


def _try_lock(path: str) -> int | None:
    """Open ``path`` and take an exclusive non-blocking flock; the fd on success, else None."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as err:  # someone else's lock file, or no file at all: that slot is not ours
        if path not in _warned:
            _warned.add(path)
            print(f"[gpu-slots] cannot open {path} ({err.strerror}); counting that slot as busy",
                  file=sys.stderr, flush=True)
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:  # held by another process (EWOULDBLOCK)
        os.close(fd)
        return None
    try:
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())  # for people looking at the lock files
    except OSError:
        pass  # the lock is what counts
    return fd


def acquire_gpu_slot(wait_seconds: float | None = None, poll_seconds: float = 2.0) -> dict | None:
    """Take a free GPU slot and set ``CUDA_VISIBLE_DEVICES``; call before torch initialises CUDA.

    Returns None (and changes nothing) when there is nothing to share out (no GPU, one device
    already chosen, ``DUALGRAD_GPUS=0``). Otherwise returns the slot as a JSON-ready dict
    ``{"device", "slot", "gpus", "slots_per_gpu", "lock", "waited_seconds"}`` and keeps it until
    the process ends. Slots fill breadth-first (slot 0 of every GPU before any slot 1). If none
    is free it polls every ``poll_seconds`` for at most ``wait_seconds`` (default
    ``DUALGRAD_GPU_WAIT_SECONDS`` or 1800), then raises :class:`NoFreeGpuSlot`.
    Calling it again in the same process returns the slot it already holds.
    """
    global _held
    if _held is not None:
        return _held["info"]
    devices = shared_devices()
    if not devices:
        return None
    gpus = len(devices)
    per_gpu = _env_int("DUALGRAD_SLOTS_PER_GPU", 1, low=1)
    lock_dir = os.environ.get("DUALGRAD_GPU_LOCK_DIR") or default_lock_dir()
    if wait_seconds is None:
        wait_seconds = float(os.environ.get("DUALGRAD_GPU_WAIT_SECONDS") or DEFAULT_WAIT_SECONDS)
    # this user's own folder is private; a folder named by hand may be meant to be shared
    os.makedirs(lock_dir, mode=0o700 if lock_dir == default_lock_dir() else 0o777, exist_ok=True)

    started = time.monotonic()
    deadline = started + wait_seconds
    said_waiting = False
    while True:
        for slot in range(per_gpu):
            for device in devices:
                path = os.path.join(lock_dir, f"gpu{device}.slot{slot}.lock")
                fd = _try_lock(path)
                if fd is None:
                    continue
                os.environ["CUDA_VISIBLE_DEVICES"] = device
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
                                f"(devices {','.join(devices)}, DUALGRAD_SLOTS_PER_GPU={per_gpu}); does "
                                f"snakemake's --resources gpu=N exceed the GPUs x DUALGRAD_SLOTS_PER_GPU?")
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
