"""Exp B3: direction vs step size (notebook 002's 'KEY COMPARISONS').

Differences of seed-mean test errors per λ:
  Q1 renormalisation  = (+Renorm)     − (Baseline)
  Q2 no cache (K=1)   = (+Renorm+K1)  − (+Renorm)
  Q3 true anti-grad.  = (TrueAnti+K1) − (+Renorm+K1)
and whether TrueAnti+K1 is worse than the CE baseline (``params['ce_baseline']``, the notebook's
constant), and beside it against the CE runs measured in this results tree (``tables['baselines']``).
"""

from __future__ import annotations

import pandas as pd

from . import reference, robust
from .stats import MEAN_STD_COUNT, STD_DDOF, describe, number, ordered_unique, usable_runs

QUESTIONS = {
    "Q1_renorm": ("+Renorm", "Baseline"),
    "Q2_cache_K1": ("+Renorm+K1", "+Renorm"),
    "Q3_true_anti": ("TrueAnti+K1", "+Renorm+K1"),
}
ANTI = "TrueAnti+K1"


def summarize(table: pd.DataFrame, params: dict | None = None) -> pd.DataFrame:
    """The notebook's exp_B3_summary columns, plus counts, best error and the mean's 95% interval."""
    runs = usable_runs(table)
    summary = describe(runs, ["condition", "lambda"], {
        "test_error": MEAN_STD_COUNT, "avg_cos_similarity": ("mean",), "avg_gmix_norm": ("mean",),
        "best_error": ("mean", "std")})
    return robust.with_mean_intervals(summary, runs, ["condition", "lambda"], "test_error", params,
                                      bounds=robust.ERROR_BOUNDS)


def _noise_rate(table: pd.DataFrame):
    etas = ordered_unique(number(v) for v in table["noise_rate"].dropna()) if "noise_rate" in table else []
    return etas[0] if len(etas) == 1 else None


def analyze(tables: dict, params: dict) -> tuple[pd.DataFrame, dict]:
    summary = summarize(tables["table"], params)
    mean = {(r["condition"], number(r["lambda"])): number(r["test_error_mean"]) for _, r in summary.iterrows()}
    lambdas = sorted(ordered_unique(number(v) for v in summary["lambda"]))
    questions = {}
    for name, (treated, compared_with) in QUESTIONS.items():
        rows = []
        for lam in lambdas:
            a, b = mean.get((treated, lam)), mean.get((compared_with, lam))
            rows.append({"lambda": lam, treated: a, compared_with: b,
                         "delta": None if a is None or b is None else a - b})
        questions[name] = {"treated": treated, "reference": compared_with, "per_lambda": rows}
    ce = params.get("ce_baseline")
    interval = {(r["condition"], number(r["lambda"])): [number(r["test_error_ci_low"]), number(r["test_error_ci_high"])]
                for _, r in summary.iterrows()}
    measured = reference.measured_ce(tables.get("baselines"), _noise_rate(tables["table"]))
    anti = [{"lambda": lam, "test_error_mean": mean.get((ANTI, lam)),
             "test_error_interval": interval.get((ANTI, lam), [None, None]),
             "worse_than_ce": None if ce is None or mean.get((ANTI, lam)) is None else mean[(ANTI, lam)] > ce,
             "vs_measured_ce": reference.position(interval.get((ANTI, lam), [None, None]), measured)}
            for lam in lambdas]
    evidence = reference.claim_evidence(f"{ANTI} is worse than plain CE",
                                        {a["lambda"]: a["vs_measured_ce"] for a in anti}, measured)
    return summary, {**questions, "true_anti_vs_ce": {
        "ce_baseline": ce, "ce_baseline_source": "the paper's constant (params.ce_baseline), the notebook's rule",
        "measured_ce": measured, "measured_evidence": evidence, "per_lambda": anti}, "std_ddof": STD_DDOF}
