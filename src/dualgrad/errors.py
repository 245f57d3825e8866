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
