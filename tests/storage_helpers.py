"""Small file systems for tests of full and read-only disks (needs root; skips otherwise)."""

from __future__ import annotations

import contextlib
import subprocess

import pytest


@contextlib.contextmanager
def mounted_tmpfs(folder, options: str):
    """Mount a tmpfs with ``options`` (e.g. ``size=256k`` or ``ro,size=1m``) on ``folder``; unmount after."""
    folder.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)], capture_output=True,
                          text=True)
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({proc.stderr.strip() or proc.returncode}); needs root")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def fill(folder, name: str = "filler") -> None:
    """Use up the free space of the file system holding ``folder``."""
    with contextlib.suppress(OSError), open(folder / name, "wb", buffering=0) as fh:
        while True:
            fh.write(b"\0" * 4096)
