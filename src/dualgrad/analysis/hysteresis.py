"""V3: hysteresis — λ swept up from an ordered start and down from a collapsed one (notebook 004).

Per seed: each start's final error and whether it passed its threshold, and
whether the seed was swept (both sweeps present and not skipped). Per (branch,
λ): mean ± std (ddof=1) of the error over the swept seeds. The two branches are
told apart by direction: the sweep whose λ decreases along its steps is the
descending branch (from the collapsed start), the other the ascending one.

  gap       = descending mean − ascending mean at params['gap_lambda']
  two_branch: gap > params['two_branch_gap'] (the notebook's verdict)
  loop_area = ∫ (descending − ascending) dλ, trapezoid rule over the λ both branches share
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .stats import MEAN_STD_COUNT, STD_DDOF, describe, number, ordered_unique

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


def analyze(tables: dict, params: dict) -> tuple[pd.DataFrame, dict]:
    table = tables["table"]
    trajectory = tables.get("trajectory")
    trajectory = pd.DataFrame(columns=COLUMNS) if trajectory is None else trajectory
    ok_sweeps = set(table[(table["kind"] == "sweep") & (table["status"].fillna("ok") != "skipped")]["run"])
    trajectory = trajectory[trajectory["run"].isin(ok_sweeps)]
    summary = describe(trajectory, ["branch", "lambda"], {"error": MEAN_STD_COUNT})
    summary = summary.sort_values(["branch", "lambda"], kind="stable").reset_index(drop=True)
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
    return summary, {
        "seeds": seeds,
        "swept_seeds": [s["seed"] for s in seeds if s["swept"]],
        "skipped_seeds": [s["seed"] for s in seeds if not s["swept"]],
        "missing_seeds": [int(s) for s in planned if s not in {e["seed"] for e in seeds}],
        "ascending_branch": up, "descending_branch": down,
        "gap_lambda": gap_lambda, "ascending_at_gap": at_up, "descending_at_gap": at_down, "gap": gap,
        "two_branch_gap": threshold, "two_branch": None if gap is None else gap > threshold,
        "loop_area": area,
        "std_ddof": STD_DDOF,
    }
