"""V3 sweep-rate control (extension): the hysteresis gap at several sweep rates from the same starts.

A gap between the branch swept up from an ordered start and the branch swept
down from a collapsed one is hysteresis only if it survives slow sweeps; a gap
that shrinks as the sweep slows is kinetic (the model had no time to move).
``params['pairs']`` lists the sweep pairs: ``{label, ascending, descending,
epochs_per_lam, lr_factor}`` (``ascending`` / ``descending`` are sweep names
of the experiment). Per pair: the gap of each swept seed at
``params['gap_lambda']``, their mean with a 95 % bootstrap interval over seeds,
and the movement / dead-network checks of :mod:`.hysteresis`.

Evidence:
  - ``kinetic_evidence``: the gap shrinks from the fastest to the slowest sweep
    (same lr factor): the interval of the per-seed difference
    gap(fastest) − gap(slowest) lies above 0;
  - ``hysteresis_evidence``: at the slowest sweep the gap interval lies above
    ``two_branch_gap``, with >= 2 seeds, branches that moved and none dead.
"""

from __future__ import annotations

import pandas as pd

from . import robust
from .hysteresis import COLUMNS, branch_movement, seed_gaps, two_branch_evidence
from .stats import MEAN_STD_COUNT, STD_DDOF, describe


def _pair_rows(pairs: list[dict], trajectory: pd.DataFrame, params: dict) -> list[dict]:
    lam, threshold = params.get("gap_lambda", 0.5), params.get("two_branch_gap", 0.10)
    movement = branch_movement(trajectory, params) if len(trajectory) else []
    out = []
    for i, pair in enumerate(pairs):
        up, down = pair["ascending"], pair["descending"]
        gaps = seed_gaps(trajectory, up, down, lam)
        ci = robust.mean_interval(list(gaps.values()), params, i, bounds=robust.GAP_BOUNDS)
        moved = [m for m in movement if m["branch"] in (up, down)]
        out.append({"label": pair.get("label", f"{up}/{down}"), "ascending": up, "descending": down,
                    "epochs_per_lam": pair.get("epochs_per_lam"), "lr_factor": pair.get("lr_factor"),
                    "gap_per_seed": {str(k): v for k, v in gaps.items()}, "gap_mean": ci["mean"],
                    "gap_interval": ci["interval"], "n_seeds": ci["n"], "branch_movement": moved,
                    "two_branch_evidence": two_branch_evidence(gaps, ci["interval"], threshold, moved,
                                                               int(params.get("min_swept_seeds", 2)))})
    return out


def _kinetic(rows: list[dict], params: dict) -> dict:
    """Fastest vs slowest sweep at the lr factor with the most rates."""
    by_lr: dict = {}
    for r in rows:
        if r["epochs_per_lam"] is not None and r["n_seeds"]:
            by_lr.setdefault(r["lr_factor"], []).append(r)
    groups = sorted(by_lr.values(), key=len, reverse=True)
    if not groups or len(groups[0]) < 2:
        return {"evidence": robust.evidence(robust.UNDECIDED, "needs two sweep rates with data at one lr factor")}
    group = sorted(groups[0], key=lambda r: r["epochs_per_lam"])
    fast, slow = group[0], group[-1]
    shared = sorted(set(fast["gap_per_seed"]) & set(slow["gap_per_seed"]))
    diffs = [fast["gap_per_seed"][s] - slow["gap_per_seed"][s] for s in shared]
    ci = robust.mean_interval(diffs, params, 99, bounds=(-2.0, 2.0))  # a difference of two gaps
    what = (f"gap({fast['epochs_per_lam']} epochs/λ) − gap({slow['epochs_per_lam']} epochs/λ) at lr × "
            f"{fast['lr_factor']:g}")
    if len(shared) < 2:
        ev = robust.evidence(robust.UNDECIDED, f"{what}: {len(shared)} seed(s) swept at both rates (needs >= 2)")
    else:
        ev = robust.compare_to_threshold(ci["interval"], 0.0, False, what)
        if ev["verdict"] == robust.SUPPORTED:
            ev["reason"] += ": the gap shrinks as the sweep slows (kinetic)"
    return {"fastest": fast["label"], "slowest": slow["label"], "difference_mean": ci["mean"],
            "difference_interval": ci["interval"], "seeds": [int(s) for s in shared], "evidence": ev}


def analyze(tables: dict, params: dict) -> tuple[pd.DataFrame, dict]:
    table = tables["table"]
    trajectory = tables.get("trajectory")
    trajectory = pd.DataFrame(columns=COLUMNS) if trajectory is None else trajectory
    ok = set(table[(table["kind"] == "sweep") & (table["status"].fillna("ok") != "skipped")]["run"])
    trajectory = trajectory[trajectory["run"].isin(ok)]
    pairs = list(params.get("pairs") or [])
    rows = _pair_rows(pairs, trajectory, params)
    summary = describe(trajectory, ["branch", "lambda"], {"error": MEAN_STD_COUNT})
    summary = robust.with_mean_intervals(summary, trajectory, ["branch", "lambda"], "error", params,
                                         bounds=robust.ERROR_BOUNDS)
    label = {b: r["label"] for r in rows for b in (r["ascending"], r["descending"])}
    summary.insert(1, "pair", [label.get(b) for b in summary["branch"]])
    gap = {r["label"]: r for r in rows}
    for col, key in (("pair_gap_mean", "gap_mean"), ("pair_gap_ci_low", 0), ("pair_gap_ci_high", 1)):
        summary[col] = [None if p is None else (gap[p][key] if isinstance(key, str) else gap[p]["gap_interval"][key])
                        for p in summary["pair"]]
    slowest = max((r for r in rows if r["n_seeds"] and r["epochs_per_lam"] is not None),
                  key=lambda r: (r["epochs_per_lam"], r["lr_factor"] or 0), default=None)
    p = robust.settings(params)
    kinetic = _kinetic(rows, params)
    return summary, {
        "gap_lambda": params.get("gap_lambda", 0.5), "two_branch_gap": params.get("two_branch_gap", 0.10),
        "pairs": rows,
        "gap_mean": {r["label"]: r["gap_mean"] for r in rows},
        "gap_interval": {r["label"]: r["gap_interval"] for r in rows},
        "kinetic": kinetic,
        "kinetic_evidence": kinetic["evidence"],
        "hysteresis_evidence": slowest["two_branch_evidence"] if slowest else
        robust.evidence(robust.UNDECIDED, "no swept pair"),
        "slowest_pair": slowest["label"] if slowest else None,
        "bootstrap": {k: p[k] for k in ("bootstrap_resamples", "bootstrap_seed", "confidence")},
        "std_ddof": STD_DDOF,
    }
