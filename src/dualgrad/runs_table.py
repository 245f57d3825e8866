"""One tidy table of every run of a results tree: ``runs.parquet`` and ``runs.csv``.

One row per run and experiment that uses it (a run several experiments share appears once per
experiment, with that experiment's labels): the experiment's labels from its plan (condition,
region, branch), the run's outcome and metrics, every resolved setting as ``config.<key>``, and
the provenance fields a comparison needs (code and torch versions, device, host, Slurm job,
times, label hashes). Planned runs without a result are rows with status ``missing``.

    python -m dualgrad.runs_table --results results --plans results/*/tables/plan.json \
        --parquet results/runs.parquet --csv results/runs.csv
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import pandas as pd

from .errors import DamagedFileError
from .result_files import DAMAGED_AS_MISSING, read_result
from .tidy import RESULT_COLUMNS
from .tidy import _result_fields as result_fields

LABEL_COLUMNS = ["experiment", "run", "kind", "condition", "region", "branch"]
PROVENANCE_FIELDS = {  # column -> path in the run's provenance
    "provenance.package_version": ("package", "version"),
    "provenance.commit": ("package", "commit"),
    "provenance.dirty": ("package", "dirty"),
    "provenance.torch": ("versions", "torch"),
    "provenance.cuda": ("versions", "cuda"),
    "provenance.device": ("device", "type"),
    "provenance.device_name": ("device", "name"),
    "provenance.host": ("host",),
    "provenance.slurm_job_id": ("slurm", "SLURM_JOB_ID"),
    "provenance.started": ("started",),
    "provenance.finished": ("finished",),
    "provenance.noisy_labels_sha256": ("labels", "noisy_labels_sha256"),
    "provenance.noise_fraction": ("labels", "noise_fraction"),
    "provenance.imported": ("imported",),
}


def _dig(tree, path):
    for key in path:
        if not isinstance(tree, dict):
            return None
        tree = tree.get(key)
    return tree


def _cell(value):
    """Lists and mappings as JSON text: one type per column, for Parquet."""
    return json.dumps(value) if isinstance(value, (list, dict)) else value


def run_row(row: dict, result: dict | str | None) -> dict:
    out = {c: row.get(c) for c in LABEL_COLUMNS}
    if result is None or isinstance(result, str):  # no result, or why it is unusable
        out["status"] = "missing" if result is None else "damaged"
        if isinstance(result, str):
            out["damage"] = result
        return out
    out.update(result_fields(result))
    out["run_id"] = result.get("run_id")
    out["algorithm_version"] = result.get("algorithm_version")
    out["num_parameters"] = result.get("num_parameters")
    for key, value in (result.get("config") or {}).items():
        out[f"config.{key}"] = _cell(value)
    provenance = result.get("provenance") or {}
    for column, path in PROVENANCE_FIELDS.items():
        out[column] = _cell(_dig(provenance, path))
    return out


def _load(path: Path, damaged_as_missing: bool) -> dict | str | None:
    """The run's result; None without one; in figures-only mode the reason a damaged one is unusable."""
    if not path.is_file():
        return None
    try:
        return read_result(path)
    except DamagedFileError as err:
        if not damaged_as_missing:
            raise
        return err.reason


def collect_runs(rows: list[dict], results_dir: str | Path, damaged_as_missing: bool | None = None) -> pd.DataFrame:
    """Every plan row with its run's JSON (``<results_dir>/<run>.json``), as one table. A damaged
    JSON fails with its name, or (figures-only mode, ``DUALGRAD_DAMAGED_AS_MISSING=1``) is a row
    with status ``damaged``."""
    results_dir = Path(results_dir)
    if damaged_as_missing is None:
        damaged_as_missing = os.environ.get(DAMAGED_AS_MISSING) == "1"
    cache: dict[str, dict | str | None] = {}
    records = []
    for row in rows:
        run = row["run"]
        if run not in cache:
            cache[run] = _load(results_dir / f"{run}.json", damaged_as_missing)
        records.append(run_row(row, cache[run]))
    table = pd.DataFrame.from_records(records)
    first = LABEL_COLUMNS + [c for c in RESULT_COLUMNS if c in table.columns]
    rest = [c for c in table.columns if c not in first]
    ordered = first + sorted(c for c in rest if not c.startswith(("config.", "provenance."))) \
        + sorted(c for c in rest if c.startswith("config.")) + [c for c in rest if c.startswith("provenance.")]
    return table.reindex(columns=ordered)


def write_runs(table: pd.DataFrame, parquet: str | Path, csv: str | Path) -> None:
    """Both files, each to a temporary name first, then renamed."""
    for path, write in ((Path(parquet), lambda p: table.to_parquet(p, engine="pyarrow", index=False)),
                        (Path(csv), lambda p: table.to_csv(p, index=False))):
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        write(tmp)
        tmp.replace(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dualgrad.runs_table", description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", required=True, help="the results folder the plans' run paths are relative to")
    parser.add_argument("--plans", nargs="+", required=True, help="each experiment's tables/plan.json")
    parser.add_argument("--parquet", required=True)
    parser.add_argument("--csv", required=True)
    args = parser.parse_args(argv)
    rows = [row for plan in args.plans for row in json.loads(Path(plan).read_text())]
    try:
        table = collect_runs(rows, args.results)
    except DamagedFileError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    write_runs(table, args.parquet, args.csv)
    have = int((~table["status"].isin(["missing", "damaged"])).sum()) if len(table) else 0
    print(f"{len(table)} rows ({table['run'].nunique() if len(table) else 0} runs, {have} with results) "
          f"-> {args.parquet}, {args.csv}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
