"""exp_C: CE / Aligned / Loss-mix / Misaligned per noise rate (the authors' column 'method' is our 'condition').

Per noise rate: the best cell, and each cell's mean error minus the plain-CE
mean (``params['ce_condition']``, default 'CE'; negative = better than CE).
"""

from __future__ import annotations

import pandas as pd

from . import robust
from .stats import MEAN_STD_COUNT, STD_DDOF, describe, number, usable_runs


def summarize(table: pd.DataFrame, params: dict | None = None) -> pd.DataFrame:
    """Per cell: mean/std/count and the bootstrap interval of the mean (``test_error_ci_low/high``): the
    reference lines other experiments draw from these measured runs."""
    runs = usable_runs(table)
    summary = describe(runs, ["condition", "lambda", "noise_rate"],
                       {"test_error": MEAN_STD_COUNT, "best_error": ("mean", "std")})
    return robust.with_mean_intervals(summary, runs, ["condition", "lambda", "noise_rate"], "test_error", params,
                                      bounds=robust.ERROR_BOUNDS)


def analyze(tables: dict, params: dict) -> tuple[pd.DataFrame, dict]:
    summary = summarize(tables["table"], params)
    best = []
    for eta, s in summary.groupby("noise_rate", sort=True):
        if s["test_error_mean"].notna().any():
            r = s.loc[s["test_error_mean"].idxmin()]
            best.append({"noise_rate": number(eta), "condition": r["condition"], "lambda": number(r["lambda"]),
                         "test_error_mean": number(r["test_error_mean"])})
    ce_name = params.get("ce_condition", "CE")
    vs_ce = []
    for _, r in summary.iterrows():
        ce = summary[(summary["condition"] == ce_name) & (summary["noise_rate"] == r["noise_rate"])]
        ce_mean = number(ce["test_error_mean"].iloc[0]) if len(ce) else None
        mean = number(r["test_error_mean"])
        vs_ce.append({"condition": r["condition"], "lambda": number(r["lambda"]), "noise_rate": number(r["noise_rate"]),
                      "minus_ce": None if ce_mean is None or mean is None else mean - ce_mean})
    return summary, {"best_per_noise_rate": best, "vs_ce": vs_ce, "cells": summary.to_dict(orient="records"),
                     "std_ddof": STD_DDOF}
