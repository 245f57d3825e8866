"""B2's and B3's "worse than plain CE?" judged against the CE runs measured in the same results
tree (experiment C, ``params['baselines_from']``), not only against the paper's CIFAR-10 constants.

The notebooks compare a cell's seed mean with a fixed number (0.38 at η = 40 %): that rule stays,
labelled as theirs. Beside it each cell is placed against C's measured CE by their 95 % bootstrap
intervals: *above* or *below* when the intervals are disjoint, *undecided* when they overlap (a
conservative test: two disjoint 95 % intervals are a difference well beyond the 5 % level).
"""

from __future__ import annotations

import math

import pandas as pd

from . import robust
from .stats import number

ABOVE, BELOW, OVERLAP = "above", "below", "undecided"


def measured_ce(baselines: pd.DataFrame | None, eta, condition: str = "CE") -> dict | None:
    """C's ``condition`` at ``eta``: mean, 95 % interval and seed count (None when C has no such runs)."""
    if baselines is None or baselines.empty or "condition" not in baselines or eta is None:
        return None
    rows = baselines[(baselines["condition"] == condition)
                     & (baselines["noise_rate"].astype(float).sub(float(eta)).abs() < 1e-9)]
    if rows.empty or pd.isna(rows["test_error_mean"].iloc[0]):
        return None
    row = rows.iloc[0]
    lo, hi = (number(row.get(c)) for c in ("test_error_ci_low", "test_error_ci_high"))
    return {"source": "measured (experiment C)", "condition": condition, "noise_rate": number(eta),
            "mean": number(row["test_error_mean"]), "interval": [lo, hi],
            "n": int(row.get("test_error_count", 0) or 0)}


def position(interval, reference: dict | None) -> str | None:
    """Where a cell's interval lies against the reference's: above, below or undecided (overlap)."""
    if reference is None:
        return None
    lo, hi = interval
    ref_lo, ref_hi = reference["interval"]
    if any(v is None or (isinstance(v, float) and math.isnan(v)) for v in (lo, hi, ref_lo, ref_hi)):
        return OVERLAP
    if lo > ref_hi:
        return ABOVE
    if hi < ref_lo:
        return BELOW
    return OVERLAP


def claim_evidence(claim: str, positions: dict, reference: dict | None, wanted: str = ABOVE) -> dict:
    """Evidence for "every cell is ``wanted`` the measured CE", from each cell's position."""
    if reference is None:
        return robust.evidence(robust.UNDECIDED, "no measured CE runs (experiment C) at this noise rate in "
                                                 "this results tree; only the paper's constant is available")
    ref = f"measured CE {reference['mean']:.3f} {_fmt(reference['interval'])} (C, n={reference['n']})"
    if not positions:
        return robust.evidence(robust.UNDECIDED, f"no cells to judge against {ref}")
    against = [k for k, p in positions.items() if p not in (wanted, OVERLAP)]
    unsure = [k for k, p in positions.items() if p == OVERLAP]
    if against:
        return robust.evidence(robust.NOT_SUPPORTED, f"{claim}: not at λ {', '.join(map(str, against))} "
                                                     f"(95% interval {_opposite(wanted)} the {ref})")
    if unsure:
        return robust.evidence(robust.UNDECIDED, f"{claim}: intervals overlap the {ref} at λ "
                                                 f"{', '.join(map(str, unsure))}")
    return robust.evidence(robust.SUPPORTED, f"{claim}: every cell's 95% interval lies {wanted} the {ref}")


def _opposite(wanted: str) -> str:
    return BELOW if wanted == ABOVE else ABOVE


def _fmt(interval) -> str:
    lo, hi = interval
    return "(no interval)" if lo is None or hi is None else f"[{lo:.3f}, {hi:.3f}]"
