"""Shared helpers: which runs count, grouped mean/std/count tables, JSON-safe values.

Every standard deviation in the summaries is the sample one (pandas' default,
``ddof=1``), as in the authors' summary CSVs; :data:`STD_DDOF` says so in each
summary table (column ``std_ddof``) and analysis JSON (key ``std_ddof``).
"""

from __future__ import annotations

import math
from typing import Any, Iterable, Mapping

import numpy as np
import pandas as pd

STD_DDOF = 1
MEAN_STD_COUNT = ("mean", "std", "count")


def usable_runs(table: pd.DataFrame) -> pd.DataFrame:
    """Runs that measured something: not a skipped hysteresis sweep, with a final test error.

    Diverged runs stay in: their error is a genuine outcome of the setting (a collapse).
    """
    if table is None or table.empty:
        return pd.DataFrame(columns=[] if table is None else table.columns)
    keep = table["test_error"].notna()
    if "status" in table:
        keep &= table["status"].fillna("ok") != "skipped"
    return table[keep].copy()


def _appearance_order(df: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Sort numeric group keys by value and text keys by first appearance (the plan's order)."""
    keys = {}
    for col in by:
        if pd.api.types.is_numeric_dtype(df[col]) and not pd.api.types.is_bool_dtype(df[col]):
            keys[col] = df[col]
        else:
            first = {v: i for i, v in reversed(list(enumerate(df[col].tolist())))}
            keys[col] = df[col].map(first)
    order = pd.DataFrame(keys).sort_values(by, kind="stable").index
    return df.loc[order]


def describe(df: pd.DataFrame, by: list[str], metrics: Mapping[str, Iterable[str]]) -> pd.DataFrame:
    """Flat summary: the ``by`` columns, then ``<metric>_<stat>`` and ``std_ddof``.

    Groups keep the order in which they first appear for text keys (models,
    conditions, regions as the config lists them) and numeric order otherwise.
    """
    columns = list(by) + [f"{m}_{s}" for m, stats in metrics.items() for s in stats] + ["std_ddof"]
    if df is None or df.empty:
        return pd.DataFrame(columns=columns)
    df = df.copy()
    for metric in metrics:
        if metric not in df:
            df[metric] = np.nan
        df[metric] = pd.to_numeric(df[metric], errors="coerce")
    groups = df.groupby(list(by), sort=False, dropna=False)
    parts = []
    for metric, stats in metrics.items():
        agg = groups[metric].agg([s if s != "std" else (lambda x: x.std(ddof=STD_DDOF)) for s in stats])
        agg.columns = [f"{metric}_{s}" for s in stats]
        parts.append(agg)
    out = pd.concat(parts, axis=1).reset_index()
    out["std_ddof"] = STD_DDOF
    return _appearance_order(out, list(by)).reset_index(drop=True)[columns]


def ordered_unique(values: Iterable) -> list:
    """Distinct values in order of first appearance, missing values dropped."""
    out = []
    for v in values:
        if v is None or (isinstance(v, float) and math.isnan(v)) or v in out:
            continue
        out.append(v)
    return out


def lookup(mapping: Mapping | None, key: float, default=None):
    """``mapping[key]`` for a float key that YAML may have left as a float or a string ('0.4')."""
    if not mapping:
        return default
    for k, v in mapping.items():
        try:
            if math.isclose(float(k), float(key), rel_tol=0, abs_tol=1e-9):
                return v
        except (TypeError, ValueError):
            continue
    return default


def json_safe(obj: Any) -> Any:
    """Plain JSON types: numpy scalars unwrapped, NaN/inf -> None, tuples -> lists, keys -> str."""
    if isinstance(obj, Mapping):
        return {str(k): json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set)):
        return [json_safe(v) for v in obj]
    if isinstance(obj, pd.DataFrame):
        return json_safe(obj.to_dict(orient="records"))
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return float(obj) if math.isfinite(obj) else None
    if obj is None or obj is pd.NA or obj is pd.NaT:
        return None
    return obj


def number(value: Any) -> float | None:
    """A finite float or None (for values read from tables that may be NaN or missing)."""
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None
