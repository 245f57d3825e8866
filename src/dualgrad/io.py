"""Atomic writes: a result or checkpoint is either complete at its path or absent."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any, Callable


def _atomic(path: str | os.PathLike, write: Callable[[Any], None], mode: str) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, mode) as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with _suppress():
            os.unlink(tmp)
        raise


class _suppress:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return exc[0] is not None and issubclass(exc[0], OSError)


def write_json(path: str | os.PathLike, obj: Any) -> None:
    """Write ``obj`` as indented JSON via a temporary file in the same folder and a rename."""
    _atomic(path, lambda fh: fh.write(json.dumps(obj, indent=2, allow_nan=False) + "\n"), "w")


def torch_save(path: str | os.PathLike, obj: Any) -> None:
    import torch

    _atomic(path, lambda fh: torch.save(obj, fh), "wb")


def read_json(path: str | os.PathLike) -> Any:
    with open(path) as fh:
        return json.load(fh)


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
