"""Relaxation time at constant learning rate, from the per-epoch test error (Exp K).

Why: the notebook's convergence epoch (first epoch with error < 0.20) lands
right after the learning-rate drops, so it measures the schedule. Here only the
first constant-lr phase counts: epochs 1..E, E = the last epoch run at the
initial learning rate (from the ``lr`` column; all epochs if it is absent).

Per run, with the test error smoothed by a trailing mean over ``window`` epochs
(s(t)) and the plateau P = s(E):
  - ``relax_efold_epoch``: first epoch t with s(t) − P <= (s(1) − P) / e, the
    e-folding time of the approach to the plateau;
  - ``relax_settle_epoch``: first epoch t with s(t) <= P + ``tolerance``.
Both are None when the run does not relax: s(1) − P < ``min_drop`` (a collapsed
run whose error stays at chance).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

DEFAULTS = {"relax_window": 5, "relax_tolerance": 0.05, "relax_min_drop": 0.1}
COLUMNS = ["run", "noise_rate", "lambda", "region", "seed", "phase_end_epoch", "initial_error", "plateau_error",
           "relax_efold_epoch", "relax_settle_epoch"]


def constant_lr_end(curve: pd.DataFrame) -> int:
    """Last epoch run at the first epoch's learning rate (the whole curve when lr is unknown)."""
    lr = pd.to_numeric(curve["lr"], errors="coerce") if "lr" in curve else pd.Series(dtype=float)
    epochs = curve["epoch"].to_numpy()
    if lr.isna().any() or lr.empty:
        return int(epochs[-1])
    first = lr.iloc[0]
    changed = ~np.isclose(lr.to_numpy(), first, rtol=1e-9, atol=0)
    return int(epochs[np.argmax(changed) - 1]) if changed.any() else int(epochs[-1])


def relaxation_of_run(curve: pd.DataFrame, window: int, tolerance: float, min_drop: float) -> dict:
    curve = curve.sort_values("epoch")
    end = constant_lr_end(curve)
    phase = curve[curve["epoch"] <= end]
    smooth = pd.to_numeric(phase["test_error"], errors="coerce").rolling(window, min_periods=1).mean().to_numpy()
    epochs = phase["epoch"].to_numpy()
    out = {"phase_end_epoch": end, "initial_error": None, "plateau_error": None,
           "relax_efold_epoch": None, "relax_settle_epoch": None}
    if len(smooth) == 0 or np.isnan(smooth).any():
        return out
    plateau, drop = smooth[-1], smooth[0] - smooth[-1]
    out.update(initial_error=float(smooth[0]), plateau_error=float(plateau))
    if drop < min_drop:
        return out
    out["relax_efold_epoch"] = int(epochs[np.argmax(smooth - plateau <= drop / math.e)])
    out["relax_settle_epoch"] = int(epochs[np.argmax(smooth <= plateau + tolerance)])
    return out


def relaxation_times(dynamics: pd.DataFrame, params: dict) -> pd.DataFrame:
    """One row per run of ``dynamics.csv``."""
    p = {k: params.get(k, v) for k, v in DEFAULTS.items()}
    if dynamics is None or dynamics.empty:
        return pd.DataFrame(columns=COLUMNS)
    rows = []
    for run, curve in dynamics.groupby("run", sort=False):
        first = curve.iloc[0]
        rows.append({"run": run, "noise_rate": first["noise_rate"], "lambda": first["lambda"],
                     "region": first.get("region"), "seed": first["seed"],
                     **relaxation_of_run(curve, int(p["relax_window"]), float(p["relax_tolerance"]),
                                         float(p["relax_min_drop"]))})
    return pd.DataFrame(rows, columns=COLUMNS)
