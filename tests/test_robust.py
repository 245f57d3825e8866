"""Robust estimators: calibration of the λ_c interval on synthetic experiments with a known λ_c.

Each simulated experiment draws a true λ_c, width and ordered level, then per-seed errors on a
λ grid; the fitted 95 % interval must cover the true λ_c in 90–99 % of the experiments and the
estimator's mean error must stay within a tenth of the mean interval width. Two noise models:
Gaussian seed noise around the logistic curve (5 seeds, N's λ grid) and the paper's bimodal
cells — each seed either collapses to chance or stays ordered, with the logistic as the
collapse probability (3 seeds, P's λ grid).
"""

from __future__ import annotations

import numpy as np
import pytest

from dualgrad.analysis import robust

N_EXPERIMENTS = 200
RESAMPLES = 300
N_GRID = np.array([0.2, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6])
P_GRID = np.array([0.15, 0.25, 0.35, 0.45, 0.55, 0.65])


def simulate(grid, n_seeds, model, seed=7):
    """Yield (true λ_c, per-λ seed errors) for N_EXPERIMENTS experiments."""
    rng = np.random.default_rng(seed)
    for _ in range(N_EXPERIMENTS):
        lam_c, width, lo = rng.uniform(0.32, 0.48), rng.uniform(0.02, 0.05), rng.uniform(0.1, 0.3)
        collapse = 1 / (1 + np.exp(-(grid - lam_c) / width))
        if model == "gaussian":
            cells = [np.clip(lo + (0.9 - lo) * q + rng.normal(0, 0.03, n_seeds), 0, 0.9) for q in collapse]
        else:  # the seed collapses to chance with probability q, else it stays at the ordered level
            cells = [np.where(rng.random(n_seeds) < q, 0.9, lo + rng.normal(0, 0.02, n_seeds)) for q in collapse]
        yield lam_c, cells


def calibration(grid, n_seeds, model):
    covered, errors, widths = [], [], []
    for i, (truth, cells) in enumerate(simulate(grid, n_seeds, model)):
        fit = robust.fit_transition(grid, cells, {"bootstrap_resamples": RESAMPLES}, i)
        lo, hi = fit["lambda_c_interval"]
        shifted = [lo + (hi - lo) / 2, hi + (hi - lo) / 2]  # a deliberately biased interval: must fail the check
        for name, ci in (("stretched", [lo, hi]), ("percentile", fit["lambda_c_percentile_interval"]),
                         ("shifted", shifted)):
            covered.append((name, ci[0] <= truth <= ci[1]))
            widths.append((name, ci[1] - ci[0]))
        errors.append(fit["lambda_c"] - truth)
    names = ("stretched", "percentile", "shifted")
    mean = {name: float(np.mean([c for n, c in covered if n == name])) for name in names}
    width = {name: float(np.mean([w for n, w in widths if n == name])) for name in names}
    return mean, float(np.mean(errors)), width


@pytest.mark.parametrize("grid, n_seeds, model", [(N_GRID, 5, "gaussian"), (P_GRID, 3, "bimodal")],
                         ids=["gaussian-5-seeds", "bimodal-3-seeds"])
def test_lambda_c_interval_is_calibrated(grid, n_seeds, model):
    coverage, bias, width = calibration(grid, n_seeds, model)
    print(f"\n{model}, {n_seeds} seeds, {N_EXPERIMENTS} experiments: coverage {coverage['stretched']:.3f} "
          f"(plain percentile interval: {coverage['percentile']:.3f}), mean error {bias:+.5f}, "
          f"mean interval width {width['stretched']:.4f}, |mean error|/width {abs(bias) / width['stretched']:.3f}")
    assert 0.90 <= coverage["stretched"] <= 0.99
    assert abs(bias) <= width["stretched"] / 10
    assert coverage["shifted"] < 0.90  # the coverage check can fail


def test_fit_recovers_a_noise_free_curve():
    lam = np.linspace(0.1, 0.7, 13)
    curve = 0.2 + 0.7 / (1 + np.exp(-(lam - 0.43) / 0.04))
    fit = robust.fit_logistic_step(lam, curve[None, :], 0.9)
    assert fit["lambda_c"][0] == pytest.approx(0.43, abs=1e-3)
    assert fit["width"][0] == pytest.approx(0.04, rel=0.05)
    assert fit["lo"][0] == pytest.approx(0.2, abs=1e-3)


def test_a_step_sharper_than_the_grid_is_known_only_to_its_bracket():
    cells = [[0.2, 0.21, 0.19]] * 3 + [[0.9, 0.9, 0.9]] * 3  # jumps between λ 0.35 and 0.45
    fit = robust.fit_transition(P_GRID, cells, {}, 0)
    assert fit["resolved"] is False
    assert fit["lambda_c_interval"][0] <= 0.35 and fit["lambda_c_interval"][1] >= 0.45
    assert fit["bracket"] == [0.35, 0.45]


def test_bootstrap_is_reproducible_and_seeded_from_params():
    cells = [[0.2, 0.25, 0.22, 0.21, 0.23], [0.31, 0.43, 0.52, 0.6, 0.66], [0.9, 0.8, 0.85, 0.87, 0.75], [0.9] * 5]
    grid = [0.3, 0.4, 0.5, 0.6]
    a, b = (robust.fit_transition(grid, cells, {"bootstrap_seed": 1}, 0) for _ in range(2))
    c = robust.fit_transition(grid, cells, {"bootstrap_seed": 2}, 0)
    assert a == b and a["lambda_c_interval"] != c["lambda_c_interval"]
    assert a["n_resamples"] == robust.DEFAULTS["bootstrap_resamples"]


def test_threshold_verdicts():
    assert robust.compare_to_threshold([0.01, 0.05], 0.1, True, "spread")["verdict"] == robust.SUPPORTED
    assert robust.compare_to_threshold([0.12, 0.2], 0.1, True, "spread")["verdict"] == robust.NOT_SUPPORTED
    assert robust.compare_to_threshold([0.05, 0.2], 0.1, True, "spread")["verdict"] == robust.UNDECIDED
    assert robust.compare_to_threshold([1.3, 2.0], 1.2, False, "factor")["verdict"] == robust.SUPPORTED
    assert robust.compare_to_threshold([None, None], 1.2, False, "factor")["verdict"] == robust.UNDECIDED


def test_a_mean_interval_never_leaves_the_range_of_its_quantity():
    # Two seeds: the t-stretch (12.7/1.96) reaches far past [0, 1]; the V3 demo's gap read [0.41, 1.22].
    gaps = [0.859, 0.771]
    wide = robust.mean_interval(gaps, None, 0)["interval"]
    assert wide[1] > 1.0  # unbounded, the stretch claims a gap no two errors can have
    cut = robust.mean_interval(gaps, None, 0, bounds=robust.GAP_BOUNDS)["interval"]
    assert cut == [wide[0], 1.0]
    low = robust.mean_interval([0.01, 0.05], None, 0, bounds=robust.ERROR_BOUNDS)["interval"]
    assert low[0] == 0.0 and 0.05 < low[1] < 1.0
