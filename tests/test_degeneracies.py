"""Each degeneracy the evidence verdicts guard against, detected on a table built to show it,
and the same analysis on a sound table (so that each check can fail both ways)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dualgrad.analysis import analyze
from dualgrad.tidy import DYNAMICS_KEYS, DYNAMICS_LABELS, RESULT_COLUMNS, ROW_COLUMNS, TRAJECTORY_PROBES

P_GRID = [0.15, 0.25, 0.35, 0.45, 0.55, 0.65]


def table(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame([{"status": "ok", "imported": False, **r} for r in rows], columns=ROW_COLUMNS + RESULT_COLUMNS)


# ------------------------------------------------------------------ P: argmax of the seed std
def universality_tables(errors: dict[str, dict[float, list[float]]]) -> dict:
    rows = [{"experiment": "P", "run": f"{m}-{lam}-{s}", "kind": "train", "model": m, "lambda": lam,
             "noise_rate": 0.4, "seed": s, "test_error": e, "best_error": e}
            for m, cells in errors.items() for lam, seeds in cells.items() for s, e in enumerate(seeds)]
    return {"table": table(rows)}


def test_argmax_std_degeneracy_is_detected():
    # collapsed cells at chance with std 0; the largest std is a tiny one in the ordered phase
    cells = {lam: [0.2, 0.205, 0.21] if lam < 0.4 else [0.9, 0.9, 0.9] for lam in P_GRID}
    cells[0.35] = [0.2, 0.2, 0.23]
    _, result = analyze("universality", universality_tables({"A": cells, "B": cells}), {})
    assert result["critical_lambda"] == {"A": 0.35, "B": 0.35}  # the notebook's rule, as before
    for model in ("A", "B"):
        assert result["argmax_std_degeneracy"][model]["detected"] is True
        assert result["argmax_std_degeneracy"][model]["collapsed_at_chance_lambdas"] == [0.45, 0.55, 0.65]
    assert result["notebook_rule"]["argmax_std_degenerate_models"] == ["A", "B"]
    assert "degenerate" in result["notebook_rule"]["caveat"]


def test_no_degeneracy_when_collapsed_cells_vary():
    rng = np.random.default_rng(0)
    cells = {lam: list(0.2 + 0.6 / (1 + np.exp(-(lam - 0.4) / 0.05)) + rng.normal(0, 0.03, 3)) for lam in P_GRID}
    _, result = analyze("universality", universality_tables({"A": cells, "B": cells}), {})
    assert not result["argmax_std_degeneracy"]["A"]["detected"]
    assert result["universality_evidence"]["verdict"] == "supported"  # the same curve: one λ_c


def test_universality_not_supported_when_intervals_are_disjoint():
    rng = np.random.default_rng(1)
    curve = lambda c: {lam: list(0.2 + 0.6 / (1 + np.exp(-(lam - c) / 0.04)) + rng.normal(0, 0.02, 3))  # noqa: E731
                       for lam in P_GRID}
    _, result = analyze("universality", universality_tables({"A": curve(0.3), "B": curve(0.5)}), {})
    assert result["universality_evidence"]["verdict"] == "not supported"
    assert result["universality_evidence_detail"]["overlapping_groups"] == [["A"], ["B"]]


def test_single_seed_gives_no_interval_and_no_verdict():
    cells = {lam: [0.2 if lam < 0.4 else 0.9] for lam in P_GRID}
    cells[0.35] = [0.5]
    _, result = analyze("universality", universality_tables({"A": cells, "B": cells}), {})
    assert result["lambda_c_fit_interval"]["A"] == [None, None]
    assert result["universality_evidence"]["verdict"] == "undecided"
    assert "one seed" in result["universality_evidence"]["reason"]


# ------------------------------------------------------------------ K: convergence at the milestone
def dynamics_tables(convergence_epoch: int, tau: dict[str, float]) -> dict:
    """Runs whose error stays above 0.2 until ``convergence_epoch`` (then drops below), lr 0.1 → 0.01
    after epoch 50; ``tau`` the constant-lr relaxation time per region."""
    rows, dyn = [], []
    epochs = np.arange(1, 101)
    for region, lams in (("ordered", [0.3, 0.35]), ("critical", [0.43, 0.45, 0.47])):
        for lam in lams:
            for seed in range(5):
                t = tau[region] * (1 + 0.05 * seed)
                error = 0.21 + 0.6 * np.exp(-(epochs - 1) / t)
                error[epochs >= convergence_epoch] = 0.15
                run = f"{region}-{lam}-{seed}"
                rows.append({"experiment": "K", "run": run, "kind": "train", "region": region, "lambda": lam,
                             "noise_rate": 0.4, "seed": seed, "test_error": 0.15, "best_error": 0.15,
                             "best_acc_any_epoch": 0.85, "convergence_epoch": convergence_epoch})
                for e, err in zip(epochs, error):
                    dyn.append({"experiment": "K", "run": run, "region": region, "lambda": lam, "noise_rate": 0.4,
                                "seed": seed, "epoch": int(e), "test_error": float(err), "test_acc": 1 - float(err),
                                "lr": 0.1 if e <= 50 else 0.01})
    return {"table": table(rows), "dynamics": pd.DataFrame(dyn, columns=DYNAMICS_LABELS + ["epoch"] + DYNAMICS_KEYS)}


def test_convergence_at_the_learning_rate_drop_is_flagged():
    _, result = analyze("dynamics", dynamics_tables(51, {"ordered": 5, "critical": 15}), {})
    entry = result["per_noise_rate"][0]
    assert entry["convergence_at_milestone"]["flagged"] is True
    assert entry["convergence_at_milestone"]["share_at_milestone"] == 1.0
    assert result["notebook_rule"]["verdict"] == {"0.4": False}  # 51 / 51: the notebook sees no slowing down
    assert result["notebook_rule"]["evidence"]["0.4"]["verdict"] == "undecided"
    assert "schedule" in result["notebook_rule"]["evidence"]["0.4"]["reason"]
    # the relaxation time at constant lr sees the slowing down (factor ≈ 3) and its interval decides
    assert result["slowing_down_evidence"]["0.4"]["verdict"] == "supported"
    lo, hi = result["slowing_down_relaxation_interval"]["0.4"]
    assert 1.5 < lo <= result["slowing_down_relaxation_factor"]["0.4"] <= hi < 4.5


def test_convergence_away_from_the_drop_is_not_flagged():
    _, result = analyze("dynamics", dynamics_tables(30, {"ordered": 5, "critical": 5}), {})
    assert result["per_noise_rate"][0]["convergence_at_milestone"]["flagged"] is False
    assert result["slowing_down_evidence"]["0.4"]["verdict"] == "not supported"


# ------------------------------------------------------------------ V3: unmoved, dead, single seed
def hysteresis_tables(seeds: list[int], up_errors, down_errors, probes: dict | None = None,
                      rejected_seed: int | None = None) -> dict:
    lams = [0.3, 0.4, 0.5, 0.6, 0.7]
    rows, traj = [], []
    for seed in seeds + ([rejected_seed] if rejected_seed is not None else []):
        ok = seed != rejected_seed
        for start, err in (("ordered", 0.19 if ok else 0.31), ("collapsed", 0.9)):
            rows.append({"experiment": "V3", "run": f"s{seed}-{start}", "kind": "start", "branch": start,
                         "seed": seed, "test_error": err, "accepted": err < 0.25 if start == "ordered" else True})
        for branch, errors, order in (("up", up_errors, lams), ("down", down_errors, lams[::-1])):
            run = f"s{seed}-{branch}"
            rows.append({"experiment": "V3", "run": run, "kind": "sweep", "branch": branch, "seed": seed,
                         "status": "ok" if ok else "skipped", "test_error": errors[-1] if ok else None})
            if not ok:
                continue
            for step, (lam, err) in enumerate(zip(order, errors)):
                traj.append({"experiment": "V3", "run": run, "branch": branch, "seed": seed, "step": step,
                             "lambda": lam, "error": err + 0.01 * seed * (err < 0.8),
                             **((probes or {}).get(branch) or {})})
    return {"table": table(rows), "trajectory": pd.DataFrame(traj, columns=["experiment", "run", "branch", "seed",
                                                                            "step", "lambda", "error",
                                                                            *TRAJECTORY_PROBES]),
            "runs": pd.DataFrame({"seed": sorted(set(seeds) | {rejected_seed} - {None})})}


UP_MOVING = [0.19, 0.2, 0.25, 0.6, 0.85]
DOWN_MOVING = [0.88, 0.85, 0.8, 0.4, 0.2]  # descending λ: 0.7 → 0.3
ALIVE = {"param_distance_rel": 0.3, "modal_class_share": 0.2}


def test_unmoved_dead_branches_and_one_seed_leave_the_gap_undecided():
    tables = hysteresis_tables([2], [0.19] * 5, [0.9] * 5, rejected_seed=0)
    _, result = analyze("hysteresis", tables, {})
    assert result["two_branch"] is True  # the notebook's verdict: gap 0.71 > 0.1
    evidence = result["two_branch_evidence"]
    assert evidence["verdict"] == "undecided"
    for words in ("1 swept seed", "did not move", "dead networks"):
        assert words in evidence["reason"]
    down = next(m for m in result["branch_movement"] if m["branch"] == "down")
    assert down["dead"] and not down["moved"]
    assert result["rejected_starts"] == [{"seed": 0, "start": "ordered", "test_error": 0.31, "status": "rejected"}]
    assert result["missing_seeds"] == []


def test_a_recorded_dead_network_is_told_from_a_live_one_at_chance():
    probes = {"up": ALIVE, "down": {"param_distance_rel": 0.3, "modal_class_share": 1.0}}
    _, result = analyze("hysteresis", hysteresis_tables([0, 1, 2], UP_MOVING, [0.9] * 5, probes), {})
    down = next(m for m in result["branch_movement"] if m["branch"] == "down")
    assert down["dead"] and down["moved"] and "100% of predictions" in down["dead_reason"]
    live = {"up": ALIVE, "down": ALIVE}
    _, result = analyze("hysteresis", hysteresis_tables([0, 1, 2], UP_MOVING, [0.9] * 5, live), {})
    assert not any(m["dead"] for m in result["branch_movement"])  # at chance but spreading its predictions


def test_moved_branches_over_three_seeds_decide():
    probes = {"up": ALIVE, "down": ALIVE}
    _, result = analyze("hysteresis", hysteresis_tables([0, 1, 2], UP_MOVING, DOWN_MOVING, probes), {})
    assert all(m["moved"] and not m["dead"] for m in result["branch_movement"])
    assert set(result["gap_per_seed"]) == {"0", "1", "2"}
    assert all(abs(v - 0.55) < 0.03 for v in result["gap_per_seed"].values())
    assert result["two_branch_evidence"]["verdict"] == "supported"
    no_gap = [0.19, 0.2, 0.25, 0.6, 0.85][::-1]  # the descending branch retraces the ascending one
    _, result = analyze("hysteresis", hysteresis_tables([0, 1, 2], UP_MOVING, no_gap, probes), {})
    assert result["two_branch"] is False and result["two_branch_evidence"]["verdict"] == "not supported"
