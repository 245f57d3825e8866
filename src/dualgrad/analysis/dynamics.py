"""Exp K: learning dynamics and critical slowing down (notebook 001's analysis cells).

Per noise rate and region (ordered / critical / collapse): mean test error ±
std, convergence epoch mean ± std over the runs that converged (error < 0.20 at
some epoch), and the no-convergence rate. Slowing-down factor =
mean convergence epoch of the critical runs / of the ordered runs (each over its
converged runs, as the notebook); slowing down if factor > params['slowing_factor'].

The same comparison is made with the constant-lr relaxation time
(:mod:`.relaxation`), the sounder observable: see that module.
"""

from __future__ import annotations

import pandas as pd

from .relaxation import DEFAULTS as RELAX_DEFAULTS
from .relaxation import relaxation_times
from .stats import MEAN_STD_COUNT, STD_DDOF, describe, number, ordered_unique, usable_runs

RELAX = ("relax_efold_epoch", "relax_settle_epoch")


def _with_relaxation(runs: pd.DataFrame, relax: pd.DataFrame) -> pd.DataFrame:
    runs = runs.merge(relax[["run", *RELAX]], on="run", how="left") if not relax.empty else runs.assign(
        **{c: None for c in RELAX})
    runs["no_convergence"] = runs["convergence_epoch"].isna().astype(float)
    return runs


def _mean_std(values: pd.Series) -> dict:
    values = pd.to_numeric(values, errors="coerce").dropna()
    return {"mean": number(values.mean()), "std": number(values.std(ddof=STD_DDOF)), "count": int(len(values))}


def region_stats(runs: pd.DataFrame) -> dict:
    return {
        "n_runs": int(len(runs)),
        "test_error": _mean_std(runs["test_error"]),
        "convergence_epoch": _mean_std(runs["convergence_epoch"]),
        "no_convergence_rate": number(runs["convergence_epoch"].isna().mean()) if len(runs) else None,
        **{name: _mean_std(runs[name]) for name in RELAX},
    }


def slowing_down(regions: dict, key: str, factor: float) -> dict:
    ordered = (regions.get("ordered") or {}).get(key, {}).get("mean")
    critical = (regions.get("critical") or {}).get(key, {}).get("mean")
    ratio = critical / ordered if ordered and critical is not None else None
    return {"ordered": ordered, "critical": critical, "factor": ratio,
            "slowing_down": None if ratio is None else ratio > factor}


def analyze(tables: dict, params: dict) -> tuple[pd.DataFrame, dict]:
    relax = relaxation_times(tables.get("dynamics"), params)
    runs = _with_relaxation(usable_runs(tables["table"]), relax)
    summary = describe(runs, ["noise_rate", "lambda", "region"], {
        "test_error": MEAN_STD_COUNT, "best_error": ("mean", "std"), "convergence_epoch": MEAN_STD_COUNT,
        "no_convergence": ("mean",), **{name: MEAN_STD_COUNT for name in RELAX}})
    summary = summary.rename(columns={"no_convergence_mean": "no_convergence_rate"})
    summary = summary.sort_values(["noise_rate", "lambda"], kind="stable").reset_index(drop=True)
    factor = params.get("slowing_factor", 1.2)
    per_eta = []
    for eta in sorted(ordered_unique(runs["noise_rate"])):
        at_eta = runs[runs["noise_rate"] == eta]
        regions = {r: region_stats(at_eta[at_eta["region"] == r]) for r in ordered_unique(at_eta["region"])}
        per_eta.append({
            "noise_rate": number(eta), "regions": regions,
            "slowing_down": slowing_down(regions, "convergence_epoch", factor),
            "slowing_down_relaxation": slowing_down(regions, "relax_efold_epoch", factor),
        })
    return summary, {
        "per_noise_rate": per_eta,
        "slowing_factor": factor,
        "slowing_down_factor": {str(p["noise_rate"]): p["slowing_down"]["factor"] for p in per_eta},
        "relaxation": {"definition": "see dualgrad.analysis.relaxation",
                       "params": {k: params.get(k, v) for k, v in RELAX_DEFAULTS.items()},
                       "per_run": relax.to_dict(orient="records")},
        "std_ddof": STD_DDOF,
    }
