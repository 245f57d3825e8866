"""Analyses of one experiment's tidy tables: a summary table and an analysis JSON.

Pure functions over pandas DataFrames (no torch): ``tables`` is what
:func:`dualgrad.tidy.collect_tables` builds (``table``, ``dynamics``,
``trajectory``, ``missing``), ``params`` the experiment's ``params`` from the
workflow config. Every summary's std is the sample one (ddof=1, pandas, as the
authors' CSVs); the summary says so in its ``std_ddof`` column, the JSON in its
``std_ddof`` key.
"""

from __future__ import annotations

from typing import Callable

import pandas as pd

from . import (
    ablation,
    anti_aligned,
    baselines,
    dynamics,
    hysteresis,
    phase,
    size_control,
    sweep,
    sweep_rate,
    universality,
)
from .stats import STD_DDOF, json_safe

ANALYZERS: dict[str, Callable[[dict, dict], tuple[pd.DataFrame, dict]]] = {
    "universality": universality.analyze,
    "dynamics": dynamics.analyze,
    "anti_aligned": anti_aligned.analyze,
    "ablation": ablation.analyze,
    "sweep": sweep.analyze,
    "baselines": baselines.analyze,
    "phase": phase.analyze,
    "hysteresis": hysteresis.analyze,
    "sweep_rate": sweep_rate.analyze,  # extension: V3 sweep-rate control
    "size_control": size_control.analyze,  # extension: the transition at several sizes
}


def analyze(analysis: str, tables: dict[str, pd.DataFrame], params: dict | None = None) -> tuple[pd.DataFrame, dict]:
    """The experiment's summary table and its analysis JSON (plain JSON types, None for missing values)."""
    if analysis not in ANALYZERS:
        raise ValueError(f"unknown analysis {analysis!r}; known: {', '.join(ANALYZERS)}")
    params = dict(params or {})
    table = tables.get("table")
    if table is None:
        raise ValueError("tables must hold 'table' (one row per run)")
    summary, result = ANALYZERS[analysis](tables, params)
    missing = tables.get("missing")
    header = {
        "analysis": analysis,
        "params": params,
        "n_runs": int(len(table)),
        "n_missing": 0 if missing is None else int(len(missing)),
        "status_counts": {str(k): int(v) for k, v in table["status"].value_counts().items()}
        if "status" in table else {},
        "imported_runs": int(table["imported"].fillna(False).astype(bool).sum()) if "imported" in table else 0,
        "std_ddof": STD_DDOF,
    }
    return summary, json_safe({**header, **result})


__all__ = ["ANALYZERS", "analyze"]
