"""Run JSONs -> tidy tables of one experiment: runs, per-epoch dynamics, hysteresis trajectories.

The experiment's rows (from the plan) say which runs it uses and with what
labels (condition, region, branch); each run's JSON says what the run was
and what it measured. Missing JSONs are listed, not fatal, so a figures-only
rebuild works on whatever results exist. A damaged JSON (torn, or not a run
result) stops the tables with one line naming it, or, in figures-only mode,
is listed with the missing ones and its reason.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pandas as pd

from .errors import DamagedFileError
from .result_files import DAMAGED_AS_MISSING, read_result

ROW_COLUMNS = ["experiment", "run", "kind", "condition", "region", "branch", "model", "method", "value_source",
               "renorm", "K", "lambda", "noise_rate", "seed"]
RESULT_COLUMNS = ["status", "test_acc", "test_error", "best_acc", "best_error", "best_acc_any_epoch",
                  "convergence_epoch", "avg_cos_struct_value", "avg_cos_similarity", "avg_gmix_norm",
                  "time_seconds", "train_images_per_s", "accepted", "imported"]
# Run settings that tell tables of different scales apart (from each run's resolved config).
SETTING_COLUMNS = ["dataset", "width", "epochs", "lr", "batch_size"]
DYNAMICS_KEYS = ["test_acc", "test_error", "train_loss", "avg_cos", "avg_gmix_norm", "lr", "lam"]
DYNAMICS_LABELS = ["experiment", "run", "condition", "region", "model", "method", "lambda", "noise_rate", "seed"]
# What a sweep records with each λ point beyond its error (dualgrad.hysteresis.SweepProbe); absent when imported.
TRAJECTORY_PROBES = ["param_distance", "param_distance_rel", "modal_class_share", "prediction_entropy"]
TABLE_FILES = ("runs", "table", "dynamics", "trajectory", "missing")


def _result_fields(result: dict) -> dict:
    fields = {k: result.get(k) for k in RESULT_COLUMNS if k in result}
    fields["train_images_per_s"] = (result.get("throughput") or {}).get("train_images_per_s")
    fields["imported"] = bool((result.get("provenance") or {}).get("imported", False))
    best = result.get("best_error", result.get("best_test_error"))
    fields["best_error"] = best
    if fields.get("best_acc") is None and best is not None:
        fields["best_acc"] = 1 - best
    return fields


def collect_tables(rows: list[dict], results_dir: str | Path,
                   damaged_as_missing: bool | None = None) -> dict[str, pd.DataFrame]:
    """Read each row's run JSON (``<results_dir>/<run>.json``) into the experiment's tables."""
    if damaged_as_missing is None:
        damaged_as_missing = os.environ.get(DAMAGED_AS_MISSING) == "1"
    results_dir = Path(results_dir)
    table, dynamics, trajectory, missing = [], [], [], []
    for row in rows:
        path = results_dir / f"{row['run']}.json"
        if not path.is_file():
            missing.append({"experiment": row["experiment"], "run": row["run"], "reason": "no result"})
            continue
        try:
            result = read_result(path)
        except DamagedFileError as err:
            if not damaged_as_missing:
                raise
            missing.append({"experiment": row["experiment"], "run": row["run"], "reason": f"damaged: {err.reason}"})
            print(f"warning: {err}", file=sys.stderr)
            continue
        settings = {c: (result.get("config") or {}).get(c) for c in SETTING_COLUMNS}
        table.append({**{c: row.get(c) for c in ROW_COLUMNS}, **settings, **_result_fields(result)})
        dyn = result.get("dynamics") or {}
        labels = {c: row.get(c) for c in DYNAMICS_LABELS}
        for i, epoch in enumerate(dyn.get("epoch") or []):
            dynamics.append({**labels, "epoch": epoch, **{k: dyn[k][i] if dyn.get(k) else None
                                                          for k in DYNAMICS_KEYS}})
        for step, point in enumerate(result.get("trajectory") or []):
            trajectory.append({"experiment": row["experiment"], "run": row["run"], "branch": row.get("branch"),
                               "seed": row.get("seed"), "step": step, "lambda": point["lambda"],
                               "error": point["error"], **{k: point.get(k) for k in TRAJECTORY_PROBES}})
    return {
        "runs": pd.DataFrame(rows, columns=ROW_COLUMNS),
        "table": pd.DataFrame(table, columns=ROW_COLUMNS + SETTING_COLUMNS + RESULT_COLUMNS),
        "dynamics": pd.DataFrame(dynamics, columns=DYNAMICS_LABELS + ["epoch"] + DYNAMICS_KEYS),
        "trajectory": pd.DataFrame(trajectory, columns=["experiment", "run", "branch", "seed", "step", "lambda",
                                                        "error", *TRAJECTORY_PROBES]),
        "missing": pd.DataFrame(missing, columns=["experiment", "run", "reason"]),
    }


def write_tables(tables: dict[str, pd.DataFrame], out_dir: str | Path) -> list[Path]:
    """CSV per table; each written to a temporary name first, then renamed."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name in TABLE_FILES:
        path = out_dir / f"{name}.csv"
        tmp = path.with_name(f".{path.name}.tmp")
        tables[name].to_csv(tmp, index=False)
        tmp.replace(path)
        written.append(path)
    return written


def read_tables(tables_dir: str | Path) -> dict[str, pd.DataFrame]:
    tables_dir = Path(tables_dir)
    return {name: pd.read_csv(tables_dir / f"{name}.csv") for name in TABLE_FILES}
