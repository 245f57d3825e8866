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

That line is a *collapse onset* (where the mean error passes 0.5), not a
critical point: it is named ``collapse_onset_line`` (``critical_line``, the
earlier name, holds the same entries). Beside it, per η, the fitted transition
of :mod:`.robust` (``lambda_c_fit``: midpoint of a logistic step from the
ordered level to chance, with its 95 % bootstrap interval over seeds and its
width). The cell labels say whose rule they follow: ``phase`` is this
workflow's rule above; ``authors_flag`` the authors' (collapse above
``collapse_above``, excellent below ``excellent_below``, 0.15).
"""

from __future__ import annotations

import pandas as pd

from . import robust
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


def authors_flag(mean: float | None, collapse_above: float, excellent_below: float):
    if mean is None:
        return None
    return "collapse" if mean > collapse_above else "excellent" if mean < excellent_below else None


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
    runs = usable_runs(table)
    summary = describe(runs, ["noise_rate", "lambda"],
                       {"test_error": MEAN_STD_COUNT, "best_error": ("mean", "std"),
                        "avg_cos_struct_value": ("mean",)})
    summary = robust.with_mean_intervals(summary, runs, ["noise_rate", "lambda"], "test_error", params,
                                         bounds=robust.ERROR_BOUNDS)
    summary = summary.sort_values(["noise_rate", "lambda"], kind="stable").reset_index(drop=True)
    summary.insert(2, "phase", [
        phase_label(number(r["test_error_mean"]), number(r["test_error_std"]), params.get("collapse_above", 0.5),
                    params.get("critical_std_above", 0.05)) for _, r in summary.iterrows()])
    summary.insert(3, "authors_flag", [
        authors_flag(number(r["test_error_mean"]), params.get("collapse_above", 0.5),
                     params.get("excellent_below", 0.15))
        for _, r in summary.iterrows()])
    return summary


def fitted_line(runs: pd.DataFrame, params: dict) -> list[dict]:
    """Per η: the fitted λ_c with its interval, and an evidence verdict on whether the data place it."""
    out = []
    for i, (eta, at_eta) in enumerate(sorted(runs.groupby("noise_rate"), key=lambda kv: kv[0]) if len(runs) else []):
        cells = robust.cells_of(at_eta, ["lambda"])
        lams = sorted(k[0] for k in cells)
        fit = robust.fit_transition(lams, [cells[(lam,)] for lam in lams], params, i)
        caveats = robust.transition_caveats(fit)
        if caveats:
            ev = robust.evidence(robust.UNDECIDED, "; ".join(caveats))
        else:
            lo, hi = fit["lambda_c_interval"]
            ev = robust.evidence(robust.SUPPORTED, f"a transition at λ_c {fit['lambda_c']:.3f}, 95% interval "
                                 f"[{lo:.3f}, {hi:.3f}]" + ("" if fit["resolved"] else
                                                          " (sharper than the λ grid: the bracket)"))
        out.append({"noise_rate": number(eta), **{k: fit[k] for k in ("lambda_c", "lambda_c_interval", "width",
                                                                       "width_interval", "ordered_level", "resolved",
                                                                       "bracket", "at_grid_edge")},
                    "fit": fit["fit"], "seeds_per_lambda": fit["seeds_per_lambda"], "evidence": ev})
    return out


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
    fitted = fitted_line(usable_runs(tables["table"]), params)
    summary = robust.with_group_fit(summary, "noise_rate", {number(f["noise_rate"]): f for f in fitted})
    p = robust.settings(params)
    excellent = params.get("excellent_below", 0.15)
    flags = summary["authors_flag"].value_counts() if len(summary) else {}
    return summary, {
        "collapse_above": level, "critical_std_above": params.get("critical_std_above", 0.05),
        "excellent_below": excellent,
        "phase_rule": {"rule": f"this workflow's: collapse if mean > {level:g}, else critical if seed std (ddof=1) > "
                               f"{params.get('critical_std_above', 0.05):g}, else ordered", "column": "phase"},
        "authors_flag_rule": {"rule": f"the authors': collapse if mean > {level:g}, excellent if mean < "
                                      f"{excellent:g}", "column": "authors_flag",
                              "counts": {f: int(flags.get(f, 0)) for f in ("collapse", "excellent")}},
        "collapse_onset_definition": f"first λ where the seed-mean error exceeds {level:g}, linearly interpolated "
                                     "(a collapse onset, not a critical point)",
        "collapse_onset_line": line,
        "collapse_onset_lambda": {str(p_["noise_rate"]): p_["lambda_c"] for p_ in line},
        "lambda_c_fit_line": fitted,
        "lambda_c_fit": {str(f["noise_rate"]): f["lambda_c"] for f in fitted},
        "lambda_c_fit_interval": {str(f["noise_rate"]): f["lambda_c_interval"] for f in fitted},
        "lambda_c_fit_evidence": {str(f["noise_rate"]): f["evidence"] for f in fitted},
        "bootstrap": {k: p[k] for k in ("bootstrap_resamples", "bootstrap_seed", "confidence")},
        "critical_line": line,
        "lambda_c": {str(p["noise_rate"]): p["lambda_c"] for p in line},
        "lambda_c_grid": {str(p["noise_rate"]): p["lambda_c_grid"] for p in line},
        "phase_counts": {p: int(counts.get(p, 0)) for p in PHASES},
        "std_ddof": STD_DDOF,
    }
