"""exp_A: the main λ sweep per noise rate; best λ = argmin of the seed-mean test error."""

from __future__ import annotations

import pandas as pd

from .stats import MEAN_STD_COUNT, STD_DDOF, describe, number, ordered_unique, usable_runs


def summarize(table: pd.DataFrame) -> pd.DataFrame:
    return describe(usable_runs(table), ["noise_rate", "lambda"],
                    {"test_error": MEAN_STD_COUNT, "best_error": MEAN_STD_COUNT})


def analyze(tables: dict, params: dict) -> tuple[pd.DataFrame, dict]:
    summary = summarize(tables["table"])
    per_eta = []
    for eta in ordered_unique(summary["noise_rate"]):
        s = summary[summary["noise_rate"] == eta].set_index("lambda")
        if s["test_error_mean"].notna().any():
            best = s["test_error_mean"].idxmin()
            per_eta.append({"noise_rate": number(eta), "best_lambda": number(best),
                            "best_test_error_mean": number(s.loc[best, "test_error_mean"]),
                            "best_test_error_std": number(s.loc[best, "test_error_std"])})
    return summary, {"per_noise_rate": per_eta,
                     "best_lambda": {str(p["noise_rate"]): p["best_lambda"] for p in per_eta},
                     "std_ddof": STD_DDOF}
