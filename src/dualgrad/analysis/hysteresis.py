"""V3: hysteresis — λ swept up from an ordered start and down from a collapsed one (notebook 004).

Per seed: each start's final error and whether it passed its threshold, and
whether the seed was swept (both sweeps present and not skipped). Per (branch,
λ): mean ± std (ddof=1) of the error over the swept seeds. The two branches are
told apart by direction: the sweep whose λ decreases along its steps is the
descending branch (from the collapsed start), the other the ascending one.

  gap       = descending mean − ascending mean at params['gap_lambda']
  two_branch: gap > params['two_branch_gap'] (the notebook's verdict)
  loop_area = ∫ (descending − ascending) dλ, trapezoid rule over the λ both branches share

Robust estimates (:mod:`.robust`): the gap of each swept seed, their mean with a
95 % bootstrap interval over seeds, and per sweep run whether it moved and
whether its network is dead:
  - moved: the parameters went further than ``moved_param_rel`` (relative L2
    distance from the start model, when the sweep recorded it), or else the
    error changed by more than ``moved_error`` along the branch;
  - dead: the error sits at chance (±``chance_tol``) at every λ and, when
    recorded, one class takes more than ``dead_modal_share`` of the predictions.
``two_branch_evidence`` is *supported* only with >= 2 swept seeds, branches
that moved, no dead branch and a gap interval above ``two_branch_gap``;
*not supported* when the interval lies below it; *undecided* otherwise, with
the reasons. Starts that missed their threshold are listed as
``rejected_starts`` with their error; ``missing_seeds`` are seeds with no
result at all.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import robust
from .stats import MEAN_STD_COUNT, STD_DDOF, describe, number, ordered_unique

MOVEMENT_DEFAULTS = {"moved_param_rel": 0.05, "moved_error": 0.05, "chance_tol": 0.005, "dead_modal_share": 0.99}

COLUMNS = ["experiment", "run", "branch", "seed", "step", "lambda", "error"]


def branch_directions(trajectory: pd.DataFrame) -> dict[str, str]:
    """branch -> 'ascending' | 'descending', from how λ moves along the steps."""
    out = {}
    for branch, t in trajectory.groupby("branch", sort=False):
        first = t.sort_values("step").groupby("run", sort=False)["lambda"].agg(["first", "last"])
        drift = float((first["last"] - first["first"]).mean())
        out[branch] = "descending" if drift < 0 else "ascending"
    return out


def per_seed(table: pd.DataFrame, swept_runs: set) -> list[dict]:
    out = []
    for seed in sorted(ordered_unique(table["seed"])):
        rows = table[table["seed"] == seed]
        starts = rows[rows["kind"] == "start"]
        sweeps = rows[rows["kind"] == "sweep"]
        entry = {"seed": int(seed), "starts": {}, "sweeps": {}}
        for _, r in starts.iterrows():
            accepted = r.get("accepted")
            entry["starts"][r["branch"]] = {"test_error": number(r["test_error"]),
                                            "accepted": None if pd.isna(accepted) else bool(accepted)}
        for _, r in sweeps.iterrows():
            entry["sweeps"][r["branch"]] = r["status"] if r["run"] in swept_runs else "skipped"
        entry["swept"] = bool(len(sweeps)) and all(v != "skipped" for v in entry["sweeps"].values())
        out.append(entry)
    return out


def _mean_at(means: pd.DataFrame, branch: str, lam: float) -> float | None:
    s = means[(means["branch"] == branch) & np.isclose(means["lambda"], lam)]
    return number(s["error_mean"].iloc[0]) if len(s) else None


def branch_movement(trajectory: pd.DataFrame, params: dict) -> list[dict]:
    """Per sweep run: how far it moved and whether its network is dead."""
    p = {**MOVEMENT_DEFAULTS, **{k: params[k] for k in MOVEMENT_DEFAULTS if k in params}}
    chance = robust.settings(params)["chance"]
    out = []
    for run, t in trajectory.groupby("run", sort=False):
        t = t.sort_values("step")
        error = pd.to_numeric(t["error"], errors="coerce")
        rel = pd.to_numeric(t.get("param_distance_rel"), errors="coerce") if "param_distance_rel" in t else None
        modal = pd.to_numeric(t.get("modal_class_share"), errors="coerce") if "modal_class_share" in t else None
        distance = number(rel.max()) if rel is not None and rel.notna().any() else None
        share = number(modal.max()) if modal is not None and modal.notna().any() else None
        error_change = number(error.max() - error.min())
        if distance is not None:
            moved = distance > p["moved_param_rel"]
            how = f"parameters moved {distance:.3g} of their start norm (threshold {p['moved_param_rel']:g})"
        else:
            moved = error_change is not None and error_change > p["moved_error"]
            how = (f"error changed by {error_change:.3g} along the branch (threshold {p['moved_error']:g}); "
                   "parameter distance not recorded")
        at_chance = bool(len(error) and (abs(error - chance) <= p["chance_tol"]).all())
        dead = at_chance and (share is None or share > p["dead_modal_share"])
        why_dead = ("" if not at_chance else f"error at chance {chance:g} at every λ" +
                    (f", {share:.0%} of predictions in one class" if share is not None else
                     " (prediction statistics not recorded)"))
        out.append({"run": run, "branch": t["branch"].iloc[0], "seed": int(t["seed"].iloc[0]),
                    "max_param_distance_rel": distance, "error_change": error_change,
                    "max_modal_class_share": share, "moved": bool(moved), "movement": how,
                    "dead": bool(dead), "dead_reason": why_dead or None})
    return out


def seed_gaps(trajectory: pd.DataFrame, up: str | None, down: str | None, lam: float) -> dict[int, float]:
    if not (up and down) or trajectory.empty:
        return {}
    at = trajectory[np.isclose(pd.to_numeric(trajectory["lambda"]), lam)]
    by = at.groupby(["seed", "branch"])["error"].mean()
    gaps = {}
    for seed in sorted(set(at["seed"])):
        if (seed, up) in by and (seed, down) in by:
            gaps[int(seed)] = float(by[(seed, down)] - by[(seed, up)])
    return gaps


def rejected(table: pd.DataFrame) -> list[dict]:
    starts = table[(table["kind"] == "start") & (table["accepted"].astype("boolean") == False)]  # noqa: E712
    return [{"seed": int(r["seed"]), "start": r["branch"], "test_error": number(r["test_error"]),
             "status": "rejected"} for _, r in starts.iterrows()]


def two_branch_evidence(gaps: dict, interval, threshold: float, movement: list[dict], min_seeds: int) -> dict:
    reasons = []
    if len(gaps) < min_seeds:
        reasons.append(f"{len(gaps)} swept seed{'s' if len(gaps) != 1 else ''} (needs >= {min_seeds})")
    unmoved = [f"{m['branch']} (seed {m['seed']}: {m['movement']})" for m in movement if not m["moved"]]
    if unmoved:
        reasons.append("branches that did not move: " + "; ".join(unmoved))
    dead = [f"{m['branch']} (seed {m['seed']}: {m['dead_reason']})" for m in movement if m["dead"]]
    if dead:
        reasons.append("dead networks: " + "; ".join(dead))
    if reasons:
        return robust.evidence(robust.UNDECIDED, "; ".join(reasons))
    return robust.compare_to_threshold(interval, threshold, False, "hysteresis gap")


def analyze(tables: dict, params: dict) -> tuple[pd.DataFrame, dict]:
    table = tables["table"]
    trajectory = tables.get("trajectory")
    trajectory = pd.DataFrame(columns=COLUMNS) if trajectory is None else trajectory
    ok_sweeps = set(table[(table["kind"] == "sweep") & (table["status"].fillna("ok") != "skipped")]["run"])
    trajectory = trajectory[trajectory["run"].isin(ok_sweeps)]
    summary = describe(trajectory, ["branch", "lambda"], {"error": MEAN_STD_COUNT})
    summary = summary.sort_values(["branch", "lambda"], kind="stable").reset_index(drop=True)
    summary = robust.with_mean_intervals(summary, trajectory, ["branch", "lambda"], "error", params,
                                         bounds=robust.ERROR_BOUNDS)
    directions = branch_directions(trajectory) if len(trajectory) else {}
    up = next((b for b, d in directions.items() if d == "ascending"), None)
    down = next((b for b, d in directions.items() if d == "descending"), None)
    gap_lambda = params.get("gap_lambda", 0.5)
    at_up, at_down = (_mean_at(summary, b, gap_lambda) if b else None for b in (up, down))
    gap = at_down - at_up if at_up is not None and at_down is not None else None
    area = None
    if up and down:
        u = summary[summary["branch"] == up].set_index("lambda")["error_mean"]
        d = summary[summary["branch"] == down].set_index("lambda")["error_mean"]
        shared = sorted(set(u.index.round(9)) & set(d.index.round(9)))
        if len(shared) >= 2:
            u, d = u.groupby(u.index.round(9)).mean(), d.groupby(d.index.round(9)).mean()
            area = float(np.trapezoid(d[shared].to_numpy() - u[shared].to_numpy(), shared))
    seeds = per_seed(table, ok_sweeps)
    planned = tables.get("runs")
    planned = sorted(ordered_unique(planned["seed"])) if planned is not None and "seed" in planned else []
    threshold = params.get("two_branch_gap", 0.10)
    movement = branch_movement(trajectory, params) if len(trajectory) else []
    gaps = seed_gaps(trajectory, up, down, gap_lambda)
    gap_ci = robust.mean_interval(list(gaps.values()), params, 0, bounds=robust.GAP_BOUNDS)
    evidence = two_branch_evidence(gaps, gap_ci["interval"], threshold, movement,
                                   int(params.get("min_swept_seeds", 2)))
    p = robust.settings(params)
    return summary, {
        "seeds": seeds,
        "swept_seeds": [s["seed"] for s in seeds if s["swept"]],
        "skipped_seeds": [s["seed"] for s in seeds if not s["swept"]],
        "missing_seeds": [int(s) for s in planned if s not in {e["seed"] for e in seeds}],
        "ascending_branch": up, "descending_branch": down,
        "gap_lambda": gap_lambda, "ascending_at_gap": at_up, "descending_at_gap": at_down, "gap": gap,
        "two_branch_gap": threshold, "two_branch": None if gap is None else gap > threshold,
        "loop_area": area,
        "notebook_rule": {"rule": f"two branches if the descending − ascending mean error at λ={gap_lambda:g} "
                                  f"exceeds {threshold:g} (notebook 004)",
                          "verdict": None if gap is None else gap > threshold},
        "rejected_starts": rejected(table),
        "gap_per_seed": {str(k): v for k, v in gaps.items()},
        "gap_mean": gap_ci["mean"], "gap_interval": gap_ci["interval"],
        "branch_movement": movement,
        "two_branch_evidence": evidence,
        "bootstrap": {k: p[k] for k in ("bootstrap_resamples", "bootstrap_seed", "confidence")},
        "std_ddof": STD_DDOF,
    }
