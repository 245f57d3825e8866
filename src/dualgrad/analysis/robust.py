"""Robust estimates with bootstrap intervals over seeds, and evidence verdicts.

Every notebook verdict stays as the notebook computes it; beside it this module
gives what the data can carry:

- **Bootstrap over seeds**: seeds are resampled within each cell (one λ, one
  architecture, one η...), ``bootstrap_resamples`` times (params), from a fixed
  ``bootstrap_seed`` so that the numbers are reproducible. Before resampling,
  each cell's deviations from its mean are scaled by sqrt(n / (n − 1)): the
  plain bootstrap of n values has the variance of the mean times (n − 1)/n,
  which with 3–5 seeds makes intervals visibly too narrow. The interval is the
  percentile one at ``confidence`` (default 0.95), stretched about the point
  estimate by t_ν / z (ν the degrees of freedom of the seed spread that
  decides the estimate: for λ_c, Σ(n_i − 1) over the cells on the rise): the bootstrap cannot know
  that a standard deviation from 3–5 seeds is itself uncertain, and without the
  stretch a nominal 95 % interval covers ≈ 87 % with 5 seeds (measured on the
  calibration tables of tests/test_robust.py).
- **Transition fit** (:func:`fit_transition`): the seed-mean error over λ as a
  logistic step from a fitted ordered level up to chance,
  ``m(λ) = lo + (chance − lo) · σ((λ − λ_c) / w)``; λ_c is its midpoint and w its
  width (sharpness; 10–90 % of the rise takes 4.4 w). Least squares with ``lo``
  solved in closed form and (λ_c, w) on a grid refined around the best point,
  vectorised over the bootstrap resamples. λ_c is confined to the λ grid: a
  transition outside it is reported as such, not extrapolated. When the fitted
  w is at its lower bound the step is sharper than the grid resolves: λ_c is
  then only known to lie between the two grid λ around the jump, and the
  interval is widened to that bracket.
- **Evidence verdicts** (:func:`evidence`): ``supported``, ``not supported`` or
  ``undecided``, with the reason in words.
"""

from __future__ import annotations

import math
from typing import Iterable, Sequence

import numpy as np

DEFAULTS = {"bootstrap_resamples": 2000, "bootstrap_seed": 20240607, "confidence": 0.95, "chance": 0.9}
SUPPORTED, NOT_SUPPORTED, UNDECIDED = "supported", "not supported", "undecided"
# Width grid, relative to the smallest λ spacing: from a step (σ(±4) across one spacing) to a slow ramp.
WIDTH_MIN_REL = 1 / 8
WIDTH_MAX_ABS = 1.0


def settings(params: dict | None) -> dict:
    """The bootstrap settings an analysis uses (params override the defaults)."""
    params = params or {}
    return {k: params.get(k, v) for k, v in DEFAULTS.items()}


def rng_for(params: dict | None, *salt: int) -> np.random.Generator:
    """The bootstrap generator: from ``bootstrap_seed``, salted per cell group so groups are independent."""
    return np.random.default_rng([int(settings(params)["bootstrap_seed"]), *salt])


def evidence(verdict: str, reason: str) -> dict:
    assert verdict in (SUPPORTED, NOT_SUPPORTED, UNDECIDED), verdict
    return {"verdict": verdict, "reason": reason}


# ------------------------------------------------------------------ bootstrap
def _finite(values) -> np.ndarray:
    a = np.asarray([np.nan if v is None else float(v) for v in values], dtype=float)
    return a[np.isfinite(a)]


def resample_means(values: Sequence[float], n_resamples: int, rng: np.random.Generator) -> np.ndarray:
    """(n_resamples,) bootstrap means of one cell's seed values (deviations inflated by sqrt(n/(n−1)))."""
    v = _finite(values)
    if len(v) == 0:
        return np.full(n_resamples, np.nan)
    if len(v) == 1:
        return np.full(n_resamples, v[0])
    centre = v.mean()
    v = centre + (v - centre) * math.sqrt(len(v) / (len(v) - 1))
    return v[rng.integers(0, len(v), size=(n_resamples, len(v)))].mean(axis=1)


def resample_cells(cells: Sequence[Sequence[float]], n_resamples: int, rng: np.random.Generator) -> np.ndarray:
    """(n_resamples, n_cells): each cell's seeds resampled independently."""
    return np.stack([resample_means(c, n_resamples, rng) for c in cells], axis=1) if len(cells) else \
        np.empty((n_resamples, 0))


def percentile_interval(samples: Iterable[float], confidence: float = 0.95) -> list[float | None]:
    s = np.asarray([np.nan if v is None else v for v in samples], dtype=float)
    s = s[np.isfinite(s)]
    if len(s) == 0:
        return [None, None]
    alpha = (1 - confidence) / 2
    lo, hi = np.quantile(s, [alpha, 1 - alpha])
    return [float(lo), float(hi)]


def t_stretch(n_seeds: int, confidence: float) -> float:
    """t_{n−1} / z at ``confidence``: how much wider an interval is when the spread comes from n seeds."""
    from scipy import stats

    if n_seeds < 2:
        return math.nan
    q = 1 - (1 - confidence) / 2
    return float(stats.t.ppf(q, n_seeds - 1) / stats.norm.ppf(q))


def stretched(point: float, interval: Sequence[float | None], factor: float) -> list[float | None]:
    """The interval stretched about ``point`` by ``factor``; no interval when the factor is unknown (one seed)."""
    lo, hi = interval
    if lo is None or hi is None or point is None or not math.isfinite(factor):
        return [None, None]
    return [float(point - (point - lo) * factor), float(point + (hi - point) * factor)]


def clipped(interval: Sequence[float | None], bounds: tuple[float | None, float | None] | None) -> list:
    """The interval cut to the values the quantity can take (an error lies in [0, 1]): with two or
    three seeds the t-stretch can reach past them, which would claim what no data could show."""
    lo, hi = interval
    if bounds is None:
        return [lo, hi]
    low, high = bounds
    if lo is not None and low is not None:
        lo = max(lo, low)
    if hi is not None and high is not None:
        hi = min(hi, high)
    return [lo, hi]


def mean_interval(values: Sequence[float], params: dict | None, *salt: int,
                  bounds: tuple[float | None, float | None] | None = None) -> dict:
    """Mean of one cell's seed values with its bootstrap interval, cut to ``bounds`` (low, high)."""
    p = settings(params)
    v = _finite(values)
    if len(v) == 0:
        return {"mean": None, "interval": [None, None], "n": 0}
    boot = resample_means(v, int(p["bootstrap_resamples"]), rng_for(params, *salt))
    interval = percentile_interval(boot, p["confidence"]) if len(v) >= 2 else [None, None]
    interval = stretched(float(v.mean()), interval, t_stretch(len(v), p["confidence"]))
    return {"mean": float(v.mean()), "interval": clipped(interval, bounds), "n": int(len(v))}


ERROR_BOUNDS = (0.0, 1.0)  # a test error
GAP_BOUNDS = (-1.0, 1.0)  # a difference of two errors
DURATION_BOUNDS = (0.0, None)  # epochs


# ------------------------------------------------------------------ transition fit
def _sse_on_grid(means: np.ndarray, lams: np.ndarray, centres: np.ndarray, widths: np.ndarray, chance: float):
    """SSE (B, G) of the best ``lo`` for each grid point (centre_g, width_g), as matrix products.

    With s = σ((λ − c)/w), u = 1 − s, r = m − chance·s, the best lo is Σru/Σu² and the
    SSE Σr² − (Σru)²/Σu².
    """
    s = 1.0 / (1.0 + np.exp(-(lams[None, :] - centres[:, None]) / widths[:, None]))  # (G, n)
    u = 1.0 - s
    m2 = (means ** 2).sum(axis=1, keepdims=True)
    ms, mu = means @ s.T, means @ u.T
    ss, su, uu = (s * s).sum(1), (s * u).sum(1), np.maximum((u * u).sum(1), 1e-300)
    r2 = m2 - 2 * chance * ms + chance ** 2 * ss
    ru = mu - chance * su
    return r2 - ru ** 2 / uu, ru / uu


def _local_sse(means: np.ndarray, lams: np.ndarray, centres: np.ndarray, widths: np.ndarray, chance: float):
    """SSE and lo (B, L) for per-resample local grids centres/widths (B, L)."""
    s = 1.0 / (1.0 + np.exp(-(lams[None, None, :] - centres[..., None]) / widths[..., None]))  # (B, L, n)
    u = 1.0 - s
    r = means[:, None, :] - chance * s
    ru, uu = (r * u).sum(-1), np.maximum((u * u).sum(-1), 1e-300)
    return (r * r).sum(-1) - ru ** 2 / uu, ru / uu


def fit_logistic_step(lams: Sequence[float], means: np.ndarray, chance: float) -> dict[str, np.ndarray]:
    """Least-squares logistic step for each row of ``means`` (B, n) over the sorted ``lams`` (n,).

    Returns arrays (B,): ``lambda_c``, ``width``, ``lo`` and ``at_width_floor`` (the step is
    sharper than the grid resolves). λ_c is confined to [min λ, max λ].
    """
    lams = np.asarray(lams, dtype=float)
    means = np.atleast_2d(np.asarray(means, dtype=float))
    spacing = float(np.min(np.diff(lams))) if len(lams) > 1 else 1.0
    w_min, w_max = spacing * WIDTH_MIN_REL, max(WIDTH_MAX_ABS, spacing)
    c_grid = np.linspace(lams[0], lams[-1], 81)
    w_grid = np.geomspace(w_min, w_max, 20)
    cc, ww = (a.ravel() for a in np.meshgrid(c_grid, w_grid, indexing="ij"))
    sse, _ = _sse_on_grid(means, lams, cc, ww, chance)
    best = np.argmin(sse, axis=1)
    c0, w0 = cc[best], ww[best]
    # Refine twice: a finer grid around each resample's best point (one coarse step either side, then
    # a tenth of that), so that neither λ_c nor the width is quantised at the precision of the data.
    dc, ratio = c_grid[1] - c_grid[0], w_grid[1] / w_grid[0]
    rows = np.arange(len(means))
    for scale in (1.0, 0.1):
        oc = np.linspace(-dc * scale, dc * scale, 15)
        ow = np.geomspace(ratio ** -scale, ratio ** scale, 11)
        oc, ow = (a.ravel() for a in np.meshgrid(oc, ow, indexing="ij"))
        centres = np.clip(c0[:, None] + oc[None, :], lams[0], lams[-1])
        widths = np.clip(w0[:, None] * ow[None, :], w_min, w_max)
        sse, lo = _local_sse(means, lams, centres, widths, chance)
        k = np.argmin(sse, axis=1)
        c0, w0, lo0 = centres[rows, k], widths[rows, k], lo[rows, k]
    return {"lambda_c": c0, "width": w0, "lo": lo0, "at_width_floor": w0 <= w_min * ratio ** 0.5}


def _non_negative(interval: list) -> list:
    return [None if interval[0] is None else max(interval[0], 0.0), interval[1]]


def _bracket(lams: np.ndarray, lam_c: float) -> list[float]:
    i = int(np.clip(np.searchsorted(lams, lam_c), 1, len(lams) - 1))
    return [float(lams[i - 1]), float(lams[i])]


def fit_transition(lams: Sequence[float], cells: Sequence[Sequence[float]], params: dict | None,
                   *salt: int, samples: bool = False) -> dict:
    """λ_c of the seed-mean error over λ with its bootstrap interval (seeds resampled within each λ).

    ``cells[i]`` holds the per-seed errors at ``lams[i]``. Needs >= 3 λ with data; the
    result says in ``fit`` why it could not fit otherwise. ``samples``: also return the
    bootstrap λ_c under ``"_samples"`` (for statistics across fits; not for the JSON).
    """
    p = settings(params)
    chance, conf, n_boot = float(p["chance"]), float(p["confidence"]), int(p["bootstrap_resamples"])
    pairs = sorted((float(lam), _finite(c)) for lam, c in zip(lams, cells))
    pairs = [(lam, c) for lam, c in pairs if len(c)]
    out = {"model": "logistic step from a fitted ordered level to chance", "chance": chance,
           "lambda_c": None, "lambda_c_interval": [None, None], "lambda_c_percentile_interval": [None, None],
           "interval_stretch": None, "width": None, "width_interval": [None, None],
           "ordered_level": None, "resolved": None, "bracket": None, "at_grid_edge": None,
           "seeds_per_lambda": [int(len(c)) for _, c in pairs], "n_resamples": n_boot, "confidence": conf,
           "fit": "ok"}
    if len(pairs) < 3:
        out["fit"] = f"needs >= 3 λ with data, has {len(pairs)}"
        return out
    grid = np.array([lam for lam, _ in pairs])
    point = fit_logistic_step(grid, np.array([[c.mean() for _, c in pairs]]), chance)
    boot = fit_logistic_step(grid, resample_cells([c for _, c in pairs], n_boot, rng_for(params, *salt)), chance)
    lam_c = float(point["lambda_c"][0])
    # Degrees of freedom of the spread that places λ_c: the seeds of the cells on the rise.
    rise = 1.0 / (1.0 + np.exp(-(grid - lam_c) / float(point["width"][0])))
    on_rise = [len(c) - 1 for (_, c), s in zip(pairs, rise) if 0.02 < s < 0.98]
    dof = sum(on_rise) if on_rise else min(len(c) for _, c in pairs) - 1
    percentile = percentile_interval(boot["lambda_c"], conf)
    interval = stretched(lam_c, percentile, t_stretch(dof + 1, conf))
    if interval[0] is not None:
        interval = [max(interval[0], float(grid[0])), min(interval[1], float(grid[-1]))]
    resolved = not bool(point["at_width_floor"][0])
    bracket = _bracket(grid, lam_c)
    if not resolved and interval[0] is not None:  # a step sharper than the grid: anywhere in the bracket
        interval = [min(interval[0], bracket[0]), max(interval[1], bracket[1])]
    spacing = float(np.min(np.diff(grid)))
    edge = bool(min(lam_c - grid[0], grid[-1] - lam_c) < spacing / 4)
    out.update(lambda_c=lam_c, lambda_c_interval=interval, lambda_c_percentile_interval=percentile,
               interval_stretch=t_stretch(dof + 1, conf), width=float(point["width"][0]),
               width_interval=_non_negative(stretched(float(point["width"][0]),
                                                      percentile_interval(boot["width"], conf),
                                                      t_stretch(dof + 1, conf))),
               ordered_level=float(point["lo"][0]),
               resolved=resolved, bracket=bracket, at_grid_edge=edge,
               single_seed=bool(max(len(c) for _, c in pairs) < 2))
    if samples:
        out["_samples"] = boot["lambda_c"]
    return out


def interval_width(interval: Sequence[float | None]) -> float | None:
    lo, hi = interval
    return None if lo is None or hi is None else float(hi - lo)


def transition_caveats(fit: dict) -> list[str]:
    """Why a fitted λ_c cannot decide anything (empty if it can)."""
    if fit.get("lambda_c") is None:
        return [f"no fit ({fit.get('fit')})"]
    reasons = []
    if fit.get("single_seed"):
        reasons.append("one seed per λ: no seed-to-seed uncertainty can be estimated")
    elif (fit.get("lambda_c_interval") or [None])[0] is None:
        reasons.append("no interval: too few seeds on the rise of the transition")
    if fit.get("at_grid_edge"):
        reasons.append("the transition lies at the edge of the λ grid")
    return reasons


def compare_to_threshold(interval: Sequence[float | None], threshold: float, claim_below: bool,
                         what: str) -> dict:
    """Evidence for '<what> < threshold' (claim_below) or '> threshold' from an interval."""
    lo, hi = interval
    if lo is None or hi is None:
        return evidence(UNDECIDED, f"{what}: no interval")
    rel = "<" if claim_below else ">"
    text = f"{what} 95% interval [{lo:.3g}, {hi:.3g}]"
    if (hi < threshold) if claim_below else (lo > threshold):
        return evidence(SUPPORTED, f"{text} lies entirely {'below' if claim_below else 'above'} {threshold:g}")
    if (lo >= threshold) if claim_below else (hi <= threshold):
        return evidence(NOT_SUPPORTED, f"{text} lies entirely {'above' if claim_below else 'below'} {threshold:g}"
                                       f" (claim: {rel} {threshold:g})")
    return evidence(UNDECIDED, f"{text} contains the threshold {threshold:g}: the data cannot decide")


# ------------------------------------------------------------------ tables
def cells_of(runs, by: Sequence[str], value: str = "test_error") -> dict[tuple, list[float]]:
    """(group key) -> the per-seed values of ``value`` (finite only)."""
    out: dict[tuple, list[float]] = {}
    if runs is None or len(runs) == 0:
        return out
    for key, g in runs.groupby(list(by), sort=False, dropna=False):
        key = key if isinstance(key, tuple) else (key,)
        out[key] = _finite(g[value]).tolist()
    return out


def with_mean_intervals(summary, runs, by: Sequence[str], metric: str, params: dict | None,
                        bounds: tuple[float | None, float | None] | None = None):
    """``summary`` plus ``<metric>_ci_low`` / ``_ci_high``: bootstrap interval of each cell's seed
    mean, cut to ``bounds``."""
    summary = summary.copy()
    cells = cells_of(runs, by, metric) if metric in getattr(runs, "columns", []) else {}
    lows, highs = [], []
    for i, (_, row) in enumerate(summary.iterrows()):
        key = tuple(row[b] for b in by)
        match = next((v for k, v in cells.items() if _same_key(k, key)), [])
        ci = mean_interval(match, params, i, bounds=bounds)["interval"]
        lows.append(ci[0])
        highs.append(ci[1])
    summary[f"{metric}_ci_low"], summary[f"{metric}_ci_high"] = lows, highs
    return summary


def _same_key(a: tuple, b: tuple) -> bool:
    for x, y in zip(a, b):
        if isinstance(x, (int, float, np.floating)) and isinstance(y, (int, float, np.floating)):
            if not math.isclose(float(x), float(y), rel_tol=0, abs_tol=1e-9):
                return False
        elif x != y:
            return False
    return len(a) == len(b)


def collapsed_at_chance(cells: dict, chance: float, tol: float = 5e-3) -> list:
    """Keys of cells whose >= 2 seeds all sit at chance (std 0): the argmax-std rule cannot see them."""
    out = []
    for key, values in cells.items():
        v = np.asarray(values, dtype=float)
        if len(v) >= 2 and np.all(np.abs(v - chance) <= tol) and float(np.std(v)) <= 1e-9:
            out.append(key)
    return out


def overlapping_groups(named_intervals: dict[str, Sequence[float | None]]) -> list[list[str]]:
    """Names grouped by chains of overlapping intervals (sorted by their lower ends)."""
    items = sorted(((lo, hi, name) for name, (lo, hi) in named_intervals.items() if lo is not None and hi is not None))
    groups: list[list[str]] = []
    top = -math.inf
    for lo, hi, name in items:
        if groups and lo <= top:
            groups[-1].append(name)
            top = max(top, hi)
        else:
            groups.append([name])
            top = hi
    return groups


def with_group_fit(summary, key: str, fits: dict, prefix: str = "lambda_c_fit"):
    """``summary`` plus the fitted λ_c of each row's group (``fits``: group value -> fit dict), repeated per row."""
    summary = summary.copy()
    values = {str(k): f for k, f in fits.items()}
    pick = lambda row, f: (values.get(str(row[key])) or {}).get(f)  # noqa: E731
    summary[prefix] = [pick(r, "lambda_c") for _, r in summary.iterrows()]
    summary[f"{prefix}_ci_low"] = [(pick(r, "lambda_c_interval") or [None, None])[0] for _, r in summary.iterrows()]
    summary[f"{prefix}_ci_high"] = [(pick(r, "lambda_c_interval") or [None, None])[1] for _, r in summary.iterrows()]
    summary[f"{prefix}_width"] = [pick(r, "width") for _, r in summary.iterrows()]
    return summary
