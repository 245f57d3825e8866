"""Exp P: the phase structure in several architectures (notebook 000's analysis cells).

Per architecture: best λ = argmin of the mean test error over seeds, critical
λ = argmax of the seed-to-seed std (ddof=1, pandas). Universality: the
*population* std (``np.std``, ddof=0, as the notebook) of the critical λ
across architectures is below ``params['universality_std']``.

The max-std critical λ is fragile where collapsed cells all sit at chance (std 0):
each architecture also gets ``lambda_c_crossing``, the λ where its mean error
first rises above ``params['collapse_above']`` (default 0.5), interpolated as in
the phase analysis, and the spread of those.

Robust estimates (:mod:`.robust`) beside the notebook's rule:
  - ``lambda_c_fit`` per architecture: the midpoint of a logistic step of the
    mean error over λ (ordered level to chance) with its 95 % bootstrap interval
    over seeds (resampled within each λ) and the width (sharpness);
  - ``argmax_std_degeneracy``: collapsed cells at chance with std 0 — the
    argmax-std rule can then never land in the collapse and picks the largest of
    the small stds elsewhere;
  - ``universality_evidence``: one λ_c for all architectures is *supported* when
    all intervals share a value, *not supported* when some are disjoint,
    *undecided* when a fit cannot decide (no fit, one seed, transition at the
    grid edge); ``spread_evidence``: the notebook's threshold on the spread,
    judged on the bootstrap interval of the spread of the fitted λ_c.
The notebook's verdict stays in ``universal``; ``notebook_rule`` names it and
says whether the degeneracy undermines it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import robust
from .phase import critical_crossing
from .stats import MEAN_STD_COUNT, STD_DDOF, describe, number, ordered_unique, usable_runs


def summarize(table: pd.DataFrame, params: dict | None = None) -> pd.DataFrame:
    runs = usable_runs(table)
    summary = describe(runs, ["model", "lambda"], {
        "test_error": MEAN_STD_COUNT, "best_error": ("mean", "std"), "avg_cos_struct_value": ("mean",)})
    return robust.with_mean_intervals(summary, runs, ["model", "lambda"], "test_error", params,
                                      bounds=robust.ERROR_BOUNDS)


def degeneracy(cells: dict, critical: float | None, max_std: float | None, chance: float) -> dict:
    """The argmax-std degeneracy of one architecture's cells ({(λ,): seed errors})."""
    at_chance = sorted(k[0] for k in robust.collapsed_at_chance(cells, chance))
    detected = bool(at_chance)
    reason = (f"{len(at_chance)} cell(s) collapsed at chance {chance:g} with seed std 0 (λ "
              f"{', '.join(f'{v:g}' for v in at_chance)}): the argmax of the std cannot land there"
              + (f"; it picks λ {critical:g} (std {max_std:.3g})" if critical is not None and max_std is not None
                 else "")) if detected else "no collapsed cell at chance with std 0"
    return {"detected": detected, "collapsed_at_chance_lambdas": at_chance, "reason": reason}


def robust_per_model(runs: pd.DataFrame, models: list[dict], params: dict) -> dict:
    chance = robust.settings(params)["chance"]
    out = {}
    for i, m in enumerate(models):
        cells = {k[1:]: v for k, v in robust.cells_of(runs[runs["model"] == m["model"]], ["model", "lambda"]).items()}
        lams = sorted(k[0] for k in cells)
        fit = robust.fit_transition(lams, [next(v for k, v in cells.items() if k[0] == lam) for lam in lams],
                                    params, i, samples=True)
        out[m["model"]] = {"fit": fit, "degeneracy": degeneracy(cells, m["critical_lambda"],
                                                                m["critical_test_error_std"], chance)}
    return out


def universality_evidence(fits: dict[str, dict]) -> tuple[dict, dict]:
    """(one-λ_c evidence from the intervals, spread-threshold evidence is computed by the caller)."""
    caveats = {name: robust.transition_caveats(f) for name, f in fits.items()}
    caveats = {k: v for k, v in caveats.items() if v}
    intervals = {name: f["lambda_c_interval"] for name, f in fits.items()}
    groups = robust.overlapping_groups(intervals)
    known = [iv for iv in intervals.values() if iv[0] is not None]
    common = bool(known) and max(lo for lo, _ in known) <= min(hi for _, hi in known)
    described = "; ".join(f"{name} {f['lambda_c']:.3f} [{f['lambda_c_interval'][0]:.3f}, "
                          f"{f['lambda_c_interval'][1]:.3f}]" for name, f in fits.items()
                          if f["lambda_c"] is not None and f["lambda_c_interval"][0] is not None)
    detail = {"intervals_share_a_value": common, "overlapping_groups": groups}
    if len(fits) < 2:
        return robust.evidence(robust.UNDECIDED, "needs at least two architectures"), detail
    if caveats:
        return robust.evidence(robust.UNDECIDED, "; ".join(f"{k}: {', '.join(v)}" for k, v in caveats.items())), \
            detail
    if common:
        return robust.evidence(robust.SUPPORTED, f"the 95% intervals of the fitted λ_c share a value ({described})"), \
            detail
    return robust.evidence(robust.NOT_SUPPORTED, f"the 95% intervals of the fitted λ_c do not all overlap: "
                                                 f"{len(groups)} groups {groups} ({described})"), detail


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
    summary = summarize(tables["table"], params)
    models = per_model(summary, params.get("collapse_above", 0.5))
    critical = [m["critical_lambda"] for m in models if m["critical_lambda"] is not None]
    threshold = params.get("universality_std", 0.1)
    spread = float(np.std(critical)) if critical else None  # ddof=0 as the notebook
    complete = len(critical) == len(models) and len(models) >= 2
    robust_part = robust_universality(usable_runs(tables["table"]), models, params, spread, threshold, complete)
    summary = robust.with_group_fit(summary, "model", robust_part["lambda_c_fit_details"])
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
        **robust_part,
        "std_ddof": STD_DDOF,
    }


def robust_universality(runs: pd.DataFrame, models: list[dict], params: dict, spread, threshold,
                        complete: bool) -> dict:
    per = robust_per_model(runs, models, params) if len(runs) else {}
    fits = {name: r["fit"] for name, r in per.items()}
    samples = [f.pop("_samples") for f in fits.values() if "_samples" in f]
    one_lambda_c, detail = universality_evidence(fits)
    p = robust.settings(params)
    spread_fit = _population_std([f["lambda_c"] for f in fits.values()]) if fits else None
    spread_interval = [None, None]
    if len(samples) == len(fits) >= 2:
        stretches = [f["interval_stretch"] for f in fits.values() if np.isfinite(f["interval_stretch"] or np.nan)]
        stretch = float(np.median(stretches)) if stretches else float("nan")  # nan: one seed, no interval
        spread_interval = robust.stretched(spread_fit, robust.percentile_interval(
            np.std(np.stack(samples), axis=0), p["confidence"]), stretch)
        if spread_interval[0] is not None:
            spread_interval[0] = max(spread_interval[0], 0.0)
    spread_evidence = robust.compare_to_threshold(spread_interval, threshold, True,
                                                  "population std of the fitted λ_c across architectures")
    if one_lambda_c["verdict"] == robust.UNDECIDED:
        spread_evidence = robust.evidence(robust.UNDECIDED, one_lambda_c["reason"])
    degenerate = [name for name, r in per.items() if r["degeneracy"]["detected"]]
    notebook = {
        "rule": "critical λ = argmax of the seed std (ddof=1) per architecture; universal if the population std "
                f"of the critical λ < {threshold:g} (notebook 000)",
        "verdict": (spread < threshold) if complete else None,
        "argmax_std_degenerate_models": degenerate,
        "caveat": ("the argmax-std critical λ is degenerate for " + "; ".join(
            f"{n}: {per[n]['degeneracy']['reason']}" for n in degenerate) + ": the verdict rests on that artefact")
        if degenerate else "no argmax-std degeneracy detected (the rule itself gives no uncertainty)",
    }
    return {
        "notebook_rule": notebook,
        "lambda_c_fit": {name: f["lambda_c"] for name, f in fits.items()},
        "lambda_c_fit_interval": {name: f["lambda_c_interval"] for name, f in fits.items()},
        "lambda_c_fit_width": {name: f["width"] for name, f in fits.items()},
        "lambda_c_fit_details": fits,
        "argmax_std_degeneracy": {name: r["degeneracy"] for name, r in per.items()},
        "lambda_c_fit_std": spread_fit,
        "lambda_c_fit_std_interval": spread_interval,
        "universality_evidence": one_lambda_c,
        "universality_evidence_detail": detail,
        "spread_evidence": spread_evidence,
        "bootstrap": {k: p[k] for k in ("bootstrap_resamples", "bootstrap_seed", "confidence")},
    }


def _population_std(values: list) -> float | None:
    values = [v for v in values if v is not None]
    return float(np.std(values)) if values else None
