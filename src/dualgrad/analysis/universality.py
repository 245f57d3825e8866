"""Exp P: the phase structure in several architectures (notebook 000's analysis cells).

Per architecture: best λ = argmin of the mean test error over seeds, critical
λ = argmax of the seed-to-seed std (ddof=1, pandas). Universality: the
*population* std (``np.std``, ddof=0, as the notebook) of the critical λ
across architectures is below ``params['universality_std']``.

The max-std critical λ is fragile where collapsed cells all sit at chance (std 0):
each architecture also gets ``lambda_c_crossing``, the λ where its mean error
first rises above ``params['collapse_above']`` (default 0.5), interpolated as in
the phase analysis, and the spread of those.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .phase import critical_crossing
from .stats import MEAN_STD_COUNT, STD_DDOF, describe, number, ordered_unique, usable_runs


def summarize(table: pd.DataFrame) -> pd.DataFrame:
    return describe(usable_runs(table), ["model", "lambda"], {
        "test_error": MEAN_STD_COUNT, "best_error": ("mean", "std"), "avg_cos_struct_value": ("mean",)})


def per_model(summary: pd.DataFrame, collapse_above: float) -> list[dict]:
    out = []
    for model in ordered_unique(summary["model"]):
        s = summary[summary["model"] == model].set_index("lambda")
        best = s["test_error_mean"].idxmin() if s["test_error_mean"].notna().any() else None
        std = s["test_error_std"]
        critical = std.idxmax() if std.notna().any() else None  # needs >= 2 seeds somewhere
        out.append({
            "model": model,
            "best_lambda": number(best),
            "best_test_error_mean": number(s["test_error_mean"].min()),
            "critical_lambda": number(critical),
            "critical_test_error_std": number(std.max()),
            "lambda_c_crossing": critical_crossing(
                [number(v) for v in s.index], [number(v) for v in s["test_error_mean"]], collapse_above)["lambda_c"],
            "lambdas": [number(v) for v in s.index],
            "seeds_per_lambda": [int(c) for c in s["test_error_count"]],
        })
    return out


def analyze(tables: dict, params: dict) -> tuple[pd.DataFrame, dict]:
    summary = summarize(tables["table"])
    models = per_model(summary, params.get("collapse_above", 0.5))
    critical = [m["critical_lambda"] for m in models if m["critical_lambda"] is not None]
    threshold = params.get("universality_std", 0.1)
    spread = float(np.std(critical)) if critical else None  # ddof=0 as the notebook
    complete = len(critical) == len(models) and len(models) >= 2
    return summary, {
        "models": models,
        "best_lambda": {m["model"]: m["best_lambda"] for m in models},
        "critical_lambda": {m["model"]: m["critical_lambda"] for m in models},
        "critical_lambda_mean": float(np.mean(critical)) if critical else None,
        "critical_lambda_std": spread,
        "critical_lambda_std_ddof": 0,
        "universality_std": threshold,
        "universal": (spread < threshold) if complete else None,
        "universal_note": None if complete else
        "needs a critical λ (>= 2 seeds) for at least two architectures, each architecture",
        "lambda_c_crossing": {m["model"]: m["lambda_c_crossing"] for m in models},
        "lambda_c_crossing_std": _population_std([m["lambda_c_crossing"] for m in models]),
        "std_ddof": STD_DDOF,
    }


def _population_std(values: list) -> float | None:
    values = [v for v in values if v is not None]
    return float(np.std(values)) if values else None
