"""Exp B2: value gradient from systematically wrong labels, (y+1) mod 10 (notebook 003).

The notebook's expectation: every λ degrades the error above the plain CE
baseline of its noise rate (``params['ce_baselines']``: η -> error). Compared
with the seed mean, as the notebook does (``above_ce``). Beside it, the same
claim against the CE runs measured in this results tree (``tables['baselines']``,
C's summary): ``vs_measured_ce`` per cell and ``measured_evidence`` per η.
"""

from __future__ import annotations

import pandas as pd

from . import reference, robust
from .stats import MEAN_STD_COUNT, STD_DDOF, describe, lookup, number, ordered_unique, usable_runs


def summarize(table: pd.DataFrame, params: dict | None = None) -> pd.DataFrame:
    runs = usable_runs(table)
    summary = describe(runs, ["noise_rate", "lambda"], {"test_error": MEAN_STD_COUNT, "best_error": ("mean", "std")})
    return robust.with_mean_intervals(summary, runs, ["noise_rate", "lambda"], "test_error", params,
                                      bounds=robust.ERROR_BOUNDS)


def analyze(tables: dict, params: dict) -> tuple[pd.DataFrame, dict]:
    summary = summarize(tables["table"], params)
    per_eta = []
    for eta in ordered_unique(summary["noise_rate"]):
        s = summary[summary["noise_rate"] == eta]
        baseline = number(lookup(params.get("ce_baselines"), eta))
        measured = reference.measured_ce(tables.get("baselines"), number(eta))
        cells = [{"lambda": number(r["lambda"]), "test_error_mean": number(r["test_error_mean"]),
                  "test_error_interval": [number(r["test_error_ci_low"]), number(r["test_error_ci_high"])],
                  "above_ce": None if baseline is None else bool(r["test_error_mean"] > baseline)}
                 for _, r in s.iterrows()]
        for c in cells:
            c["vs_measured_ce"] = reference.position(c["test_error_interval"], measured)
        judged = [c for c in cells if c["above_ce"] is not None]
        per_eta.append({
            "noise_rate": number(eta), "ce_baseline": baseline, "ce_baseline_source": "the paper's constant "
            "(params.ce_baselines), the notebook's rule", "measured_ce": measured,
            "measured_evidence": reference.claim_evidence(
                "every λ degrades the error above plain CE", {c["lambda"]: c["vs_measured_ce"] for c in cells},
                measured),
            "cells": cells,
            "n_above_ce": sum(c["above_ce"] for c in judged) if judged else None,
            "n_lambdas": len(cells),
            "all_above_ce": all(c["above_ce"] for c in judged) if judged else None,
            "improved_lambdas": [c["lambda"] for c in judged if not c["above_ce"]],
        })
    return summary, {"per_noise_rate": per_eta, "chance": params.get("chance"), "std_ddof": STD_DDOF}
