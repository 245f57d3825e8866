"""Run the real snakemake on this workflow from tests."""

from __future__ import annotations

import collections
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))


def snakemake(*args, cwd=REPO, check=True, timeout=900, env=None) -> subprocess.CompletedProcess:
    env = dict(os.environ if env is None else env, PYTHONUNBUFFERED="1")
    proc = subprocess.run([SNAKEMAKE, *map(str, args)], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=env)
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(map(str, args))} failed ({proc.returncode}):\n"
                             f"{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}")
    return proc


def job_counts(proc: subprocess.CompletedProcess) -> collections.Counter:
    """Jobs per rule from a dry run's 'Job stats' table (empty when nothing is to be done)."""
    text = proc.stdout + proc.stderr
    counts = collections.Counter()
    block = text.split("Job stats:", 1)
    if len(block) < 2:
        return counts
    for line in block[1].splitlines()[3:]:
        match = re.match(r"^(\S+)\s+(\d+)$", line.strip())
        if not match:
            break
        if match.group(1) != "total":
            counts[match.group(1)] = int(match.group(2))
    return counts


def copy_workflow(dest: Path) -> Path:
    """A private copy of the workflow (Snakefile, rules, configs, package sources) to edit in tests."""
    for name in ("Snakefile", "config.yaml", "LICENSE"):
        shutil.copy2(REPO / name, dest / name)
    for name in ("workflow", "config", "envs", "src"):
        shutil.copytree(REPO / name, dest / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    (dest / "profiles").mkdir()
    return dest


def deep_merge(base: dict, changes: dict) -> dict:
    """Merge ``changes`` into ``base`` in place, as Snakemake merges --configfile files."""
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            deep_merge(base[key], value)
        else:
            base[key] = value
    return base


def p_only_overlay(results_dir: str, grid: dict, *, gpus_per_job: int, **defaults) -> dict:
    """A config overlay with only experiment P, tiny SimpleCNN runs on synthetic data, on the CPU."""
    base = {"dataset": "synthetic", "n_test": 64, "arch": "SimpleCNN", "width": 0.125, "batch_size": 64,
            "milestones": [], "eval_every": 1, "log_steps": 4}
    experiments = {name: {"enabled": False} for name in ("K", "B2", "B3", "A", "C", "N", "V3")}
    experiments["P"] = {"grid": grid}
    return {"results_dir": results_dir, "device": "cpu", "gpus_per_job": gpus_per_job, "threads": 1,
            "defaults": {**base, **defaults}, "experiments": experiments}
