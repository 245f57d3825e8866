"""Run JSONs as inputs: checked where they are read, damaged ones named, set aside or left out.

Pandas- and torch-free: the workflow calls this while it parses.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from .errors import DamagedFileError
from .results import result_problem

# Set by the workflow in figures-only mode: damaged run JSONs count as missing instead of failing.
DAMAGED_AS_MISSING = "DUALGRAD_DAMAGED_AS_MISSING"
ADVICE = ("run snakemake without figures_only (it sets the file aside and trains the run again), "
          "or delete the file")


def read_result(path: str | Path) -> dict:
    """A run JSON, checked; DamagedFileError naming the file and what to do otherwise."""
    try:
        result = json.loads(Path(path).read_text())
    except UnicodeDecodeError:
        raise DamagedFileError(path, "not text", ADVICE) from None
    except json.JSONDecodeError as err:
        raise DamagedFileError(path, f"torn or not JSON: {err.msg} at line {err.lineno}", ADVICE) from None
    problem = result_problem(result)
    if problem:
        raise DamagedFileError(path, f"not a run result: {problem}", ADVICE)
    return result


def damaged_results(paths) -> list[tuple[Path, str]]:
    """(path, reason) of each existing run JSON among ``paths`` that cannot be used."""
    damaged = []
    for path in map(Path, paths):
        if path.is_file():
            try:
                read_result(path)
            except DamagedFileError as err:
                damaged.append((path, err.reason))
    return damaged


def set_aside_damaged(paths, dry_run: bool = False) -> list[Path]:
    """Rename damaged run JSONs to ``<name>.damaged`` so that their jobs run again; say so on stderr."""
    moved = []
    for path, reason in damaged_results(paths):
        aside = path.with_name(path.name + ".damaged")
        if dry_run:  # a dry run changes nothing
            print(f"damaged run result {path} ({reason}): a real run sets it aside and trains the run again",
                  file=sys.stderr)
            continue
        os.replace(path, aside)
        moved.append(aside)
        print(f"damaged run result {path} ({reason}): set aside as {aside.name}; the run is trained again",
              file=sys.stderr)
    return moved


def report_damaged(paths) -> list[tuple[Path, str]]:
    """Figures-only mode: name each damaged run JSON (the tables list it as missing)."""
    damaged = damaged_results(paths)
    for path, reason in damaged:
        print(f"damaged run result {path} ({reason}): left out of the tables; a run without figures_only "
              "trains it again", file=sys.stderr)
    return damaged
