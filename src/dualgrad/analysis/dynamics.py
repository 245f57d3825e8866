"""Exp K: learning dynamics and critical slowing down (notebook 001's analysis cells).

Per noise rate and region (ordered / critical / collapse): mean test error ±
std, convergence epoch mean ± std over the runs that converged (error < 0.20 at
some epoch), and the no-convergence rate. Slowing-down factor =
mean convergence epoch of the critical runs / of the ordered runs (each over its
converged runs, as the notebook); slowing down if factor > params['slowing_factor'].

The same comparison is made with the constant-lr relaxation time
(:mod:`.relaxation`), the sounder observable: see that module.

``best_error`` is the notebook's: 1 − max(dynamics['test_acc']), the best over
every epoch (the run JSON's ``best_acc_any_epoch``); the best of the
evaluations every ``eval_every`` epochs stays as ``best_error_eval_every``.

Robust estimates (:mod:`.robust`): each slowing-down factor gets a 95 %
bootstrap interval (seeds resampled within each λ; a region's mean pools its
λ cells) and an evidence verdict against ``slowing_factor``. The convergence
epoch is flagged (``convergence_at_milestone``) when most converged runs
converge within ``milestone_window`` epochs after a learning-rate drop: it then
measures the schedule, and its verdict is undecided. The relaxation verdict is
undecided when fewer than ``min_relaxing_share`` of a region's runs relax (the
mean is over a biased subsample).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import robust
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


def lr_drop_epochs(dynamics: pd.DataFrame | None) -> dict:
    """run -> first epochs run at a new learning rate (empty when lr is unknown)."""
    out = {}
    if dynamics is None or dynamics.empty or "lr" not in dynamics:
        return out
    for run, curve in dynamics.groupby("run", sort=False):
        curve = curve.sort_values("epoch")
        lr = pd.to_numeric(curve["lr"], errors="coerce").to_numpy()
        epochs = curve["epoch"].to_numpy()
        out[run] = [int(e) for e, a, b in zip(epochs[1:], lr[:-1], lr[1:]) if np.isfinite(a) and a != b]
    return out


def milestone_convergence(runs: pd.DataFrame, drops: dict, window: int) -> dict:
    """Share of converged runs whose convergence epoch falls within ``window`` epochs after an lr drop."""
    converged = runs[runs["convergence_epoch"].notna()]
    known = converged[converged["run"].isin(drops)]
    hits = [any(0 <= float(r["convergence_epoch"]) - d < window for d in drops[r["run"]]) for _, r in known.iterrows()]
    epochs = sorted({int(e) for e in known["convergence_epoch"]})
    share = float(np.mean(hits)) if hits else None
    flagged = None if share is None else share > 0.5
    reason = ("no run converged" if converged.empty else "learning-rate schedule unknown" if share is None else
              f"{sum(hits)}/{len(hits)} converged runs converge within {window} epoch(s) after a learning-rate drop "
              f"(drops at epochs {sorted({d for r in known['run'] for d in drops[r]})}; convergence epochs seen: "
              f"{epochs[:12]}{' …' if len(epochs) > 12 else ''})")
    return {"flagged": flagged, "share_at_milestone": share, "n_converged": int(len(known)), "window": window,
            "reason": reason}


def factor_interval(runs: pd.DataFrame, key: str, params: dict, salt: int) -> dict:
    """Bootstrap of critical mean / ordered mean of ``key`` (seeds resampled within each λ, per region)."""
    p = robust.settings(params)
    n_boot = int(p["bootstrap_resamples"])
    rng = robust.rng_for(params, salt)
    region_means, counts = {}, {}
    for region in ("ordered", "critical"):
        at = runs[runs["region"] == region]
        cells = [pd.to_numeric(g[key], errors="coerce").dropna().to_numpy() for _, g in at.groupby("lambda")]
        cells = [c for c in cells if len(c)]
        counts[region] = (sum(len(c) for c in cells), int(len(at)))
        if not cells:
            region_means[region] = None
            continue
        boot = robust.resample_cells(cells, n_boot, rng)
        weights = np.array([len(c) for c in cells], dtype=float)
        region_means[region] = boot @ weights / weights.sum()
    out = {"factor_interval": [None, None], "counts": {r: {"measured": c[0], "runs": c[1]} for r, c in counts.items()}}
    if region_means.get("ordered") is None or region_means.get("critical") is None:
        return out
    with np.errstate(divide="ignore", invalid="ignore"):
        factors = region_means["critical"] / region_means["ordered"]
    n = min(counts["ordered"][0], counts["critical"][0])
    ordered = runs[runs["region"] == "ordered"][key].dropna().astype(float).mean()
    critical = runs[runs["region"] == "critical"][key].dropna().astype(float).mean()
    point = critical / ordered if ordered else None
    if point is not None:
        out["factor_interval"] = robust.stretched(point, robust.percentile_interval(factors, p["confidence"]),
                                                  robust.t_stretch(n, p["confidence"]))
    return out


def slowing_evidence(interval_info: dict, factor: float, what: str, caveats: list[str]) -> dict:
    if caveats:
        return robust.evidence(robust.UNDECIDED, "; ".join(caveats))
    return robust.compare_to_threshold(interval_info["factor_interval"], factor, False,
                                       f"slowing-down factor ({what}, critical / ordered)")


def robust_slowing(at_eta: pd.DataFrame, drops: dict, params: dict, factor: float, salt: int) -> dict:
    window = int(params.get("milestone_window", 3))
    min_share = float(params.get("min_relaxing_share", 0.8))
    milestone = milestone_convergence(at_eta, drops, window)
    conv = factor_interval(at_eta, "convergence_epoch", params, 2 * salt)
    relax = factor_interval(at_eta, "relax_efold_epoch", params, 2 * salt + 1)
    conv_caveats = [f"convergence epoch measures the schedule: {milestone['reason']}"] if milestone["flagged"] else []
    for region, c in conv["counts"].items():
        if c["runs"] and c["measured"] == 0:
            conv_caveats.append(f"no {region} run converged (error < the convergence threshold)")
    relax_caveats = []
    for region, c in relax["counts"].items():
        if c["runs"] and c["measured"] < min_share * c["runs"]:
            relax_caveats.append(f"only {c['measured']}/{c['runs']} {region} runs relax: a biased subsample")
        if c["measured"] < 2:
            relax_caveats.append(f"fewer than 2 {region} runs relax")
    return {
        "convergence_at_milestone": milestone,
        "convergence_factor_interval": conv["factor_interval"],
        "convergence_evidence": slowing_evidence(conv, factor, "convergence epoch", conv_caveats),
        "relaxation_factor_interval": relax["factor_interval"],
        "relaxation_counts": relax["counts"],
        "relaxation_evidence": slowing_evidence(relax, factor, "relaxation time at constant lr", relax_caveats),
    }


def analyze(tables: dict, params: dict) -> tuple[pd.DataFrame, dict]:
    relax = relaxation_times(tables.get("dynamics"), params)
    runs = _with_relaxation(usable_runs(tables["table"]), relax)
    if "best_error" in runs:  # the notebook's best: any epoch
        runs["best_error_eval_every"] = runs["best_error"]
        if "best_acc_any_epoch" in runs:
            any_epoch = 1 - pd.to_numeric(runs["best_acc_any_epoch"], errors="coerce")
            runs["best_error"] = any_epoch.where(any_epoch.notna(), runs["best_error"])
    summary = describe(runs, ["noise_rate", "lambda", "region"], {
        "test_error": MEAN_STD_COUNT, "best_error": ("mean", "std"), "best_error_eval_every": ("mean", "std"),
        "convergence_epoch": MEAN_STD_COUNT,
        "no_convergence": ("mean",), **{name: MEAN_STD_COUNT for name in RELAX}})
    summary = summary.rename(columns={"no_convergence_mean": "no_convergence_rate"})
    summary = summary.sort_values(["noise_rate", "lambda"], kind="stable").reset_index(drop=True)
    factor = params.get("slowing_factor", 1.2)
    summary = robust.with_mean_intervals(summary, runs, ["noise_rate", "lambda", "region"], "relax_efold_epoch",
                                         params, bounds=robust.DURATION_BOUNDS)
    drops = lr_drop_epochs(tables.get("dynamics"))
    per_eta = []
    for i, eta in enumerate(sorted(ordered_unique(runs["noise_rate"]))):
        at_eta = runs[runs["noise_rate"] == eta]
        regions = {r: region_stats(at_eta[at_eta["region"] == r]) for r in ordered_unique(at_eta["region"])}
        per_eta.append({
            "noise_rate": number(eta), "regions": regions,
            "slowing_down": slowing_down(regions, "convergence_epoch", factor),
            "slowing_down_relaxation": slowing_down(regions, "relax_efold_epoch", factor),
            **robust_slowing(at_eta, drops, params, factor, i),
        })
    p = robust.settings(params)
    return summary, {
        "per_noise_rate": per_eta,
        "slowing_factor": factor,
        "slowing_down_factor": {str(e["noise_rate"]): e["slowing_down"]["factor"] for e in per_eta},
        "notebook_rule": {"rule": f"slowing down if mean convergence epoch (first epoch with error < 0.20) of the "
                                  f"critical runs > {factor:g} × that of the ordered runs, each over its converged "
                                  "runs (notebook 001)",
                          "verdict": {str(e["noise_rate"]): e["slowing_down"]["slowing_down"] for e in per_eta},
                          "evidence": {str(e["noise_rate"]): e["convergence_evidence"] for e in per_eta}},
        "slowing_down_relaxation_factor": {str(e["noise_rate"]): e["slowing_down_relaxation"]["factor"]
                                           for e in per_eta},
        "slowing_down_relaxation_interval": {str(e["noise_rate"]): e["relaxation_factor_interval"] for e in per_eta},
        "slowing_down_evidence": {str(e["noise_rate"]): e["relaxation_evidence"] for e in per_eta},
        "best_error_definition": "1 − max(test_acc over every epoch), as notebook 001; best_error_eval_every: "
                                 "the best of the evaluations every eval_every epochs and the final one",
        "bootstrap": {k: p[k] for k in ("bootstrap_resamples", "bootstrap_seed", "confidence")},
        "relaxation": {"definition": "see dualgrad.analysis.relaxation",
                       "params": {k: params.get(k, v) for k, v in RELAX_DEFAULTS.items()},
                       "per_run": relax.to_dict(orient="records")},
        "std_ddof": STD_DDOF,
    }
