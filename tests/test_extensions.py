"""Opt-in extension experiments: behind one switch, with their analyses, figures and cost estimates."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import yaml
from workflow_helpers import REPO, job_counts, snakemake

from dualgrad.analysis import analyze
from dualgrad.estimate import extension_summary, run_gpu_seconds
from dualgrad.figures import plot
from dualgrad.plan import build_plan
from dualgrad.tidy import RESULT_COLUMNS, ROW_COLUMNS, TRAJECTORY_PROBES

EXTENSIONS = {"K_const", "V3_rate", "size"}


@pytest.fixture(scope="module")
def config():
    return yaml.safe_load((REPO / "config.yaml").read_text())


def test_switch_off_leaves_the_paper_runs_alone(config):
    assert config["extensions"] is False
    plan = build_plan(config)
    assert not EXTENSIONS & set(plan.experiments) and len(plan.runs) == 341


def test_switch_on_adds_the_extensions_and_their_estimates(config):
    plan = build_plan({**config, "extensions": True})
    assert EXTENSIONS <= set(plan.experiments)
    assert {n: len(plan.experiments[n].rows) for n in EXTENSIONS} == {"K_const": 60, "V3_rate": 30, "size": 54}
    k_const = plan.runs[plan.experiments["K_const"].run_paths[0]].config
    assert tuple(k_const.milestones) == () and k_const.epochs == 100  # constant lr
    lines = extension_summary(plan, {**config, "extensions": True})
    assert [line.split(":")[0] for line in lines] == ["extension K_const", "extension V3_rate", "extension size"]
    assert all("GPU-hours" in line for line in lines)
    # size: width-2 ResNet-18 costs 4x a width-1 run
    size = [plan.runs[p].config for p in plan.experiments["size"].run_paths]
    wide = next(c for c in size if c.width == 2.0)
    assert run_gpu_seconds(wide) == pytest.approx(4 * 6.2 * 100)


@pytest.mark.slow
def test_dry_run_of_the_full_config_lists_the_extensions():
    proc = snakemake("-n", "--workflow-profile", "none", "--cores", "1", "--config", "extensions=true")
    out = proc.stdout + proc.stderr
    for name in EXTENSIONS:
        assert f"extension {name}:" in out and f"results/{name}/analysis.json" in out
    counts = job_counts(proc)
    assert counts["train"] + counts["hysteresis_start"] + counts["hysteresis_sweep"] == 341 + 60 + 30 + 36


# ------------------------------------------------------------------ analyses on built tables
def _table(rows):
    return pd.DataFrame([{"status": "ok", "imported": False, **r} for r in rows], columns=ROW_COLUMNS + RESULT_COLUMNS)


def rate_tables(gap_by_rate: dict[int, float], seeds=(0, 1, 2)):
    """Sweeps at several rates; the descending branch sits ``gap`` above the ascending one at λ 0.5."""
    lams = [0.3, 0.4, 0.5, 0.6, 0.7]
    rows, traj = [], []
    for seed in seeds:
        for start in ("ordered", "collapsed"):
            rows.append({"experiment": "V3_rate", "run": f"{seed}-{start}", "kind": "start", "branch": start,
                         "seed": seed, "test_error": 0.2 if start == "ordered" else 0.9, "accepted": True})
        for rate, gap in gap_by_rate.items():
            up = [0.2, 0.2, 0.2 + 0.01 * seed, 0.7, 0.85]
            down = [0.85, 0.7, 0.2 + 0.01 * seed + gap, 0.25, 0.2]  # λ 0.7 → 0.3
            for branch, errors, order in ((f"up{rate}", up, lams), (f"down{rate}", down, lams[::-1])):
                run = f"{seed}-{branch}"
                rows.append({"experiment": "V3_rate", "run": run, "kind": "sweep", "branch": branch, "seed": seed,
                             "test_error": errors[-1]})
                errors = errors if branch.startswith("up") else errors[::-1]
                for step, lam in enumerate(order):
                    traj.append({"experiment": "V3_rate", "run": run, "branch": branch, "seed": seed, "step": step,
                                 "lambda": lam, "error": errors[lams.index(lam)], "param_distance_rel": 0.3,
                                 "modal_class_share": 0.2})
    params = {"pairs": [{"label": f"{r} epochs/λ", "ascending": f"up{r}", "descending": f"down{r}",
                         "epochs_per_lam": r, "lr_factor": 0.1} for r in gap_by_rate]}
    return {"table": _table(rows), "trajectory": pd.DataFrame(traj, columns=[
        "experiment", "run", "branch", "seed", "step", "lambda", "error", *TRAJECTORY_PROBES])}, params


def test_a_gap_that_shrinks_with_slower_sweeps_is_called_kinetic(tmp_path):
    tables, params = rate_tables({3: 0.5, 10: 0.2, 30: 0.02})
    summary, result = analyze("sweep_rate", tables, params)
    assert result["gap_mean"]["3 epochs/λ"] == pytest.approx(0.5)
    assert result["kinetic_evidence"]["verdict"] == "supported"
    assert result["slowest_pair"] == "30 epochs/λ"
    assert result["hysteresis_evidence"]["verdict"] == "not supported"  # 0.02 < 0.1 at the slowest sweep
    json.dumps(result, allow_nan=False)
    assert {"pair", "pair_gap_mean", "pair_gap_ci_low"} <= set(summary)
    assert plot("sweep_rate", tables, summary, result, params, tmp_path)


def test_a_rate_independent_gap_is_not_kinetic():
    tables, params = rate_tables({3: 0.5, 10: 0.5, 30: 0.5})
    _, result = analyze("sweep_rate", tables, params)
    assert result["kinetic_evidence"]["verdict"] != "supported"
    assert result["hysteresis_evidence"]["verdict"] == "supported"


def size_tables(widths: dict[str, float], seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for cond, w in widths.items():
        for lam in np.round(np.arange(0.3, 0.61, 0.03), 2):
            for s in range(5):
                e = 0.2 + 0.7 / (1 + np.exp(-(lam - 0.45) / w)) + rng.normal(0, 0.01)
                rows.append({"experiment": "size", "run": f"{cond}-{lam}-{s}", "kind": "train", "condition": cond,
                             "lambda": float(lam), "noise_rate": 0.4, "seed": s, "test_error": float(e)})
    return {"table": _table(rows)}


def test_size_control_tells_a_sharpening_transition(tmp_path):
    params = {"sizes": {"small": 0.5, "mid": 1.0, "large": 2.0}, "size_axis": "width"}
    tables = size_tables({"small": 0.06, "mid": 0.035, "large": 0.02})
    summary, result = analyze("size_control", tables, params)
    assert result["sharpening_evidence"]["verdict"] == "supported"
    assert result["width"]["large"] < result["width"]["small"]
    assert all(abs(v - 0.45) < 0.02 for v in result["lambda_c_fit"].values())
    assert plot("size_control", tables, summary, result, params, tmp_path)
    _, same = analyze("size_control", size_tables({"small": 0.04, "mid": 0.04, "large": 0.04}), params)
    assert same["sharpening_evidence"]["verdict"] == "undecided"  # overlapping widths: a crossover or too little data


@pytest.mark.parametrize("analysis", ["sweep_rate", "size_control"])
def test_extension_analyses_and_figures_survive_no_data(analysis, tmp_path):
    tables = {"table": _table([])}
    summary, result = analyze(analysis, tables, {})
    json.dumps(result, allow_nan=False)
    assert len(plot(analysis, tables, summary, result, {}, tmp_path)) == 2
