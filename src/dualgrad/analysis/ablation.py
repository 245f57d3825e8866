"""Exp B3: direction vs step size (notebook 002's 'KEY COMPARISONS').

Differences of seed-mean test errors per λ:
  Q1 renormalisation  = (+Renorm)     − (Baseline)
  Q2 no cache (K=1)   = (+Renorm+K1)  − (+Renorm)
  Q3 true anti-grad.  = (TrueAnti+K1) − (+Renorm+K1)
and whether TrueAnti+K1 is worse than the CE baseline (``params['ce_baseline']``).
"""

from __future__ import annotations

import pandas as pd

from .stats import MEAN_STD_COUNT, STD_DDOF, describe, number, ordered_unique, usable_runs

QUESTIONS = {
    "Q1_renorm": ("+Renorm", "Baseline"),
    "Q2_cache_K1": ("+Renorm+K1", "+Renorm"),
    "Q3_true_anti": ("TrueAnti+K1", "+Renorm+K1"),
}
ANTI = "TrueAnti+K1"


def summarize(table: pd.DataFrame) -> pd.DataFrame:
    """The notebook's exp_B3_summary columns, plus counts and best error."""
    return describe(usable_runs(table), ["condition", "lambda"], {
        "test_error": MEAN_STD_COUNT, "avg_cos_similarity": ("mean",), "avg_gmix_norm": ("mean",),
        "best_error": ("mean", "std")})


def analyze(tables: dict, params: dict) -> tuple[pd.DataFrame, dict]:
    summary = summarize(tables["table"])
    mean = {(r["condition"], number(r["lambda"])): number(r["test_error_mean"]) for _, r in summary.iterrows()}
    lambdas = sorted(ordered_unique(number(v) for v in summary["lambda"]))
    questions = {}
    for name, (treated, reference) in QUESTIONS.items():
        rows = []
        for lam in lambdas:
            a, b = mean.get((treated, lam)), mean.get((reference, lam))
            rows.append({"lambda": lam, treated: a, reference: b,
                         "delta": None if a is None or b is None else a - b})
        questions[name] = {"treated": treated, "reference": reference, "per_lambda": rows}
    ce = params.get("ce_baseline")
    anti = [{"lambda": lam, "test_error_mean": mean.get((ANTI, lam)),
             "worse_than_ce": None if ce is None or mean.get((ANTI, lam)) is None else mean[(ANTI, lam)] > ce}
            for lam in lambdas]
    return summary, {**questions, "true_anti_vs_ce": {"ce_baseline": ce, "per_lambda": anti},
                     "std_ddof": STD_DDOF}
