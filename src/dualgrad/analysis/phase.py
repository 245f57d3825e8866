"""Exp N (exp_N1 + exp_N2): the 2-D phase diagram over λ × η.

Each (η, λ) cell gets a phase from its seed-mean and seed-std test error:
  collapse  if mean > params['collapse_above'] (the authors' flag, 0.5),
  critical  else if std (ddof=1) > params['critical_std_above'],
  ordered   otherwise (single-seed cells: std unknown, so ordered or collapse).
The critical line λ_c(η) is where the mean error first rises above
``collapse_above`` going up in λ:
  - ``lambda_c``: linear interpolation between the two grid λ around the crossing;
  - ``lambda_c_grid``: the midpoint of those two grid λ.
Both are None when the error never crosses, or is already above at the smallest λ
(``crossing`` then says 'never' or 'below_grid').
"""

from __future__ import annotations

import pandas as pd

from .stats import MEAN_STD_COUNT, STD_DDOF, describe, number, usable_runs

PHASES = ("ordered", "critical", "collapse")


def phase_label(mean: float | None, std: float | None, collapse_above: float, critical_std_above: float):
    if mean is None:
        return None
    if mean > collapse_above:
        return "collapse"
    if std is not None and std > critical_std_above:
        return "critical"
    return "ordered"


def critical_crossing(lambdas: list[float], means: list[float], level: float) -> dict:
    """First upward crossing of ``level`` by the mean error along increasing λ."""
    points = sorted((lam, m) for lam, m in zip(lambdas, means) if m is not None)
    for i, (lam, m) in enumerate(points):
        if m > level:
            if i == 0:
                return {"lambda_c": None, "lambda_c_grid": None, "crossing": "below_grid", "bracket": [None, lam]}
            lam0, m0 = points[i - 1]
            interpolated = lam0 + (level - m0) * (lam - lam0) / (m - m0)
            return {"lambda_c": interpolated, "lambda_c_grid": (lam0 + lam) / 2, "crossing": "interpolated",
                    "bracket": [lam0, lam]}
    return {"lambda_c": None, "lambda_c_grid": None, "crossing": "never",
            "bracket": [points[-1][0] if points else None, None]}


def summarize(table: pd.DataFrame, params: dict) -> pd.DataFrame:
    summary = describe(usable_runs(table), ["noise_rate", "lambda"],
                       {"test_error": MEAN_STD_COUNT, "best_error": ("mean", "std"),
                        "avg_cos_struct_value": ("mean",)})
    summary = summary.sort_values(["noise_rate", "lambda"], kind="stable").reset_index(drop=True)
    summary.insert(2, "phase", [
        phase_label(number(r["test_error_mean"]), number(r["test_error_std"]), params.get("collapse_above", 0.5),
                    params.get("critical_std_above", 0.05)) for _, r in summary.iterrows()])
    return summary


def analyze(tables: dict, params: dict) -> tuple[pd.DataFrame, dict]:
    summary = summarize(tables["table"], params)
    level = params.get("collapse_above", 0.5)
    line = []
    for eta, s in summary.groupby("noise_rate", sort=True):
        crossing = critical_crossing([number(v) for v in s["lambda"]], [number(v) for v in s["test_error_mean"]],
                                     level)
        line.append({"noise_rate": number(eta), **crossing,
                     "phases": {str(number(r["lambda"])): r["phase"] for _, r in s.iterrows()}})
    counts = summary["phase"].value_counts()
    return summary, {
        "collapse_above": level, "critical_std_above": params.get("critical_std_above", 0.05),
        "critical_line": line,
        "lambda_c": {str(p["noise_rate"]): p["lambda_c"] for p in line},
        "lambda_c_grid": {str(p["noise_rate"]): p["lambda_c_grid"] for p in line},
        "phase_counts": {p: int(counts.get(p, 0)) for p in PHASES},
        "std_ddof": STD_DDOF,
    }
