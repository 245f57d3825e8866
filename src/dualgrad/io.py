"""Atomic writes: a result or checkpoint is either complete at its path or absent.

Also: sealed files (a SHA-256 header, checked on every read), per-output locks, and clean-up of
the temporary files an interrupted write leaves behind.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import fnmatch
import glob
import hashlib
import io as _io
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Callable

from .errors import DamagedFileError, StorageError

# Conditions of the machine, not bugs: reported in one line (what, where), never as a traceback.
STORAGE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.EFBIG}
SEAL = b"dualgrad-sealed sha256="


def _atomic(path: str | os.PathLike, write: Callable[[Any], None], mode: str, what: str = "file") -> None:
    path = Path(path)
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, mode) as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as err:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        if isinstance(err, OSError) and err.errno in STORAGE_ERRNOS:
            raise StorageError(what, path, err.strerror or str(err)) from None
        raise


def write_json(path: str | os.PathLike, obj: Any, what: str = "result") -> None:
    """Write ``obj`` as indented JSON via a temporary file in the same folder and a rename."""
    _atomic(path, lambda fh: fh.write(json.dumps(obj, indent=2, allow_nan=False) + "\n"), "w", what)


def torch_save(path: str | os.PathLike, obj: Any, what: str = "model") -> None:
    import torch

    _atomic(path, lambda fh: torch.save(obj, fh), "wb", what)


def read_json(path: str | os.PathLike) -> Any:
    with open(path) as fh:
        return json.load(fh)


# ------------------------------------------------------------------ sealed files
def save_sealed(path: str | os.PathLike, obj: Any, what: str = "checkpoint") -> None:
    """torch.save ``obj`` behind a header holding the payload's SHA-256 (torch checks no CRCs)."""
    import torch

    buf = _io.BytesIO()
    torch.save(obj, buf)
    payload = buf.getbuffer()
    header = SEAL + hashlib.sha256(payload).hexdigest().encode() + b"\n"

    def write(fh):
        fh.write(header)
        fh.write(payload)

    _atomic(path, write, "wb", what)


def load_sealed(path: str | os.PathLike, weights_only: bool = True) -> Any:
    """Read a file written by :func:`save_sealed`; DamagedFileError if it is torn or altered."""
    import torch

    data = Path(path).read_bytes()
    head, sep, _ = data[:len(SEAL) + 65].partition(b"\n")
    if not sep or not head.startswith(SEAL):
        raise DamagedFileError(path, "no checksum header: torn, or written by an older version")
    payload = memoryview(data)[len(head) + 1:]
    if hashlib.sha256(payload).hexdigest().encode() != head[len(SEAL):]:
        raise DamagedFileError(path, f"checksum mismatch over its {len(payload)} bytes")
    try:
        return torch.load(_io.BytesIO(payload), map_location="cpu", weights_only=weights_only)
    except Exception as err:  # the checksum held, so the writer stored something unreadable here
        raise DamagedFileError(path, f"unreadable: {err}") from None


def file_sha256(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def link_or_copy(source: str | os.PathLike, dest: str | os.PathLike, what: str = "result") -> None:
    """Make ``dest`` hold ``source``'s content, atomically: a hard link where the file system allows
    (no extra space), else a copy."""
    source, dest = Path(source), Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.link.tmp")
    try:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        try:
            os.link(source, tmp)
        except OSError as err:
            if err.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP):
                raise
            tmp = None

            def copy(fh):
                with open(source, "rb") as src:
                    shutil.copyfileobj(src, fh)

            _atomic(dest, copy, "wb", what)
            return
        os.replace(tmp, dest)
    except OSError as err:
        if tmp is not None:
            with contextlib.suppress(OSError):
                tmp.unlink()
        if err.errno in STORAGE_ERRNOS:
            raise StorageError(what, dest, err.strerror or str(err)) from None
        raise


# ------------------------------------------------------- locks and left-overs
def remove_stale_temps(path: str | os.PathLike) -> list[Path]:
    """Delete the temporary files interrupted writes of ``path`` left (call while holding its lock)."""
    path = Path(path)
    if not path.parent.is_dir():
        return []
    pattern = f".{glob.escape(path.name)}.*.tmp"
    removed = []
    for tmp in path.parent.glob(pattern):
        if fnmatch.fnmatch(tmp.name, pattern) and tmp.is_file():
            with contextlib.suppress(OSError):
                tmp.unlink()
                removed.append(tmp)
    return removed


@contextlib.contextmanager
def exclusive(path: str | os.PathLike, on_wait: Callable[[str], None] | None = None):
    """Hold an exclusive lock for writing ``path`` (released by the kernel if the holder dies).

    A second holder waits; ``on_wait`` is told the first one's pid before waiting.
    """
    path = Path(path)
    lock = path.with_name(f".{path.name}.lock")
    try:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as err:
        raise StorageError("lock file", lock, err.strerror or str(err)) from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if on_wait is not None:
                on_wait(os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown")
            fcntl.flock(fd, fcntl.LOCK_EX)
        with contextlib.suppress(OSError):  # the pid only informs a waiting run; a full disk may refuse it
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the lock


def check_writable(path: str | os.PathLike, key: str) -> None:
    """Fail early (before any training) if ``path`` cannot be created."""
    from .errors import ConfigError

    path = Path(path)
    if path.is_dir():
        raise ConfigError(key, f"'{path}' is a directory, expected a file path")
    for folder in path.parents:
        if folder.exists():
            if not folder.is_dir():
                raise ConfigError(key, f"cannot write to '{path}': '{folder}' is a file, not a folder")
            break
    parent = path.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".probe.", dir=parent)
        os.close(fd)
        os.unlink(probe)
    except OSError as err:
        raise ConfigError(key, f"cannot write to '{path}': {err.strerror or err}") from None
