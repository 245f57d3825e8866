"""Errors that carry the offending key, so every message names what to fix."""

from __future__ import annotations


class DualgradError(Exception):
    """Base class: an expected failure with a message meant for the user."""

    exit_status = 2  # bad input; conditions of the machine (disk full) use 1


class ConfigError(DualgradError, ValueError):
    """A run or workflow configuration value is invalid.

    ``key`` is the dotted name of the offending entry (``"lam"``,
    ``"experiments.P.grid.arch"``) so callers and tests can check it.
    """

    def __init__(self, key: str, message: str):
        self.key = key
        super().__init__(f"config key '{key}': {message}")


class DatasetNotFoundError(DualgradError, FileNotFoundError):
    """A dataset is missing from the local root and downloading is not allowed."""


class DamagedFileError(DualgradError):
    """A file a run reads (result, checkpoint, cache) is torn or fails its checksum."""

    def __init__(self, path, reason: str, advice: str = ""):
        self.path, self.reason = str(path), reason
        super().__init__(f"'{path}' is damaged ({reason})" + (f": {advice}" if advice else ""))


class StorageError(DualgradError):
    """A write failed for a reason of the machine (disk full, read-only, no permission)."""

    exit_status = 1

    def __init__(self, what: str, path, reason: str, saved: str = ""):
        self.what, self.path, self.reason, self.saved = what, str(path), reason, saved
        super().__init__(f"could not write {what} '{path}': {reason}" + (f"; {saved}" if saved else ""))

    def with_saved(self, saved: str) -> "StorageError":
        """The same failure, saying what is safe on disk and how to go on."""
        return StorageError(self.what, self.path, self.reason, saved)
