"""Size control (extension): the λ transition at two or three network sizes (width or n_train).

A transition that sharpens as the system grows is the signature of a phase
transition; one whose width does not change is a smooth crossover. Each
condition is one size; ``params['sizes']`` maps condition -> its numeric size
(default: the conditions' order). Per size: the fitted logistic step of
:mod:`.robust` (λ_c, width = sharpness, 95 % bootstrap intervals over seeds).

``sharpening_evidence``: *supported* when the width interval of the largest
size lies entirely below that of the smallest; *not supported* when it lies
entirely above (it broadens) or the two are within each other's interval while
both are resolved; *undecided* when a fit cannot decide (no fit, one seed, a
step sharper than the λ grid at either size: its width is then only bounded).
"""

from __future__ import annotations

import pandas as pd

from . import robust
from .stats import MEAN_STD_COUNT, STD_DDOF, describe, number, ordered_unique, usable_runs


def _fits(runs: pd.DataFrame, params: dict) -> dict[str, dict]:
    out = {}
    for i, cond in enumerate(ordered_unique(runs["condition"]) if len(runs) else []):
        cells = robust.cells_of(runs[runs["condition"] == cond], ["lambda"])
        lams = sorted(k[0] for k in cells)
        out[cond] = robust.fit_transition(lams, [cells[(lam,)] for lam in lams], params, i)
    return out


def sharpening(fits: dict[str, dict], sizes: dict[str, float]) -> dict:
    if len(fits) < 2:
        return robust.evidence(robust.UNDECIDED, "needs at least two sizes with data")
    ordered = sorted(fits, key=lambda c: sizes[c])
    small, large = ordered[0], ordered[-1]
    caveats = [f"{c}: {', '.join(robust.transition_caveats(fits[c]))}" for c in (small, large)
               if robust.transition_caveats(fits[c])]
    caveats += [f"{c}: the step is sharper than the λ grid (width only bounded)" for c in (small, large)
                if fits[c]["resolved"] is False]
    if caveats:
        return robust.evidence(robust.UNDECIDED, "; ".join(caveats))
    (slo, shi), (llo, lhi) = fits[small]["width_interval"], fits[large]["width_interval"]
    text = (f"width {small} {fits[small]['width']:.3g} [{slo:.3g}, {shi:.3g}], {large} "
            f"{fits[large]['width']:.3g} [{llo:.3g}, {lhi:.3g}]")
    if lhi < slo:
        return robust.evidence(robust.SUPPORTED, f"the transition sharpens with size: {text}")
    if llo > shi:
        return robust.evidence(robust.NOT_SUPPORTED, f"the transition broadens with size: {text}")
    return robust.evidence(robust.UNDECIDED, f"the width intervals overlap: {text}")


def analyze(tables: dict, params: dict) -> tuple[pd.DataFrame, dict]:
    runs = usable_runs(tables["table"])
    summary = describe(runs, ["condition", "lambda"], {"test_error": MEAN_STD_COUNT, "best_error": ("mean", "std")})
    summary = robust.with_mean_intervals(summary, runs, ["condition", "lambda"], "test_error", params,
                                         bounds=robust.ERROR_BOUNDS)
    fits = _fits(runs, params)
    given = params.get("sizes") or {}
    sizes = {c: number(given.get(c)) if given.get(c) is not None else float(i) for i, c in enumerate(fits)}
    summary = robust.with_group_fit(summary, "condition", fits)
    summary["size"] = [sizes.get(c) for c in summary["condition"]]
    p = robust.settings(params)
    return summary, {
        "size_axis": params.get("size_axis", "condition order"),
        "sizes": sizes,
        "fits": fits,
        "lambda_c_fit": {c: f["lambda_c"] for c, f in fits.items()},
        "lambda_c_fit_interval": {c: f["lambda_c_interval"] for c, f in fits.items()},
        "width": {c: f["width"] for c, f in fits.items()},
        "width_interval": {c: f["width_interval"] for c, f in fits.items()},
        "sharpening_evidence": sharpening(fits, sizes),
        "bootstrap": {k: p[k] for k in ("bootstrap_resamples", "bootstrap_seed", "confidence")},
        "std_ddof": STD_DDOF,
    }
