"""Does a rebuild match the paper? Each cell shared by two results trees, rebuilt vs reference.

A *cell* is one setting of an experiment: (experiment, kind, condition,
region, branch, architecture, λ, η); its runs are the seeds. For each cell
both trees have runs in, the comparison takes the final test error's mean,
sample std (ddof=1) and n on each side and reports

- the difference ``rebuilt − reference`` and its combined standard error
  ``se = sqrt(s_r²/n_r + s_p²/n_p)`` (Welch's, the two sides' spreads may differ),
- ``z = difference / se`` (the difference in standard errors) and Welch's
  two-sided t-test p-value (Welch–Satterthwaite degrees of freedom),
- a verdict at the per-cell level ``level`` (default 0.05):
  *differ* if p < level, *agree* otherwise; *undecided* where a side has fewer
  than two runs (no spread to judge against). Where both sides have zero
  spread the cell agrees only if the means are equal.

Multiple comparisons: with m decided cells, about ``level × m`` cells differ
by chance even when the rebuild is faithful. So the per-cell verdicts flag
where to look, and the verdict on the whole tree is a separate test:
Holm's step-down correction (family-wise error ≤ level) says which cells differ
beyond chance, and the tree *matches* if none does. Both are recorded.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from .analysis.stats import STD_DDOF, json_safe, usable_runs

CELL = ["experiment", "kind", "condition", "region", "branch", "model", "lambda", "noise_rate"]
METRIC = "test_error"
LEVEL = 0.05
RULE = ("per cell: Welch's two-sided t-test of the final test error over seeds, 'differ' if p < {level:g}; "
        "'undecided' where a side has fewer than 2 runs. Whole tree: Holm's correction over the m decided "
        "cells (family-wise error ≤ {level:g}); it matches if no cell differs after the correction. "
        "About {level:g} × m cells differ by chance alone at the per-cell level.")


# ------------------------------------------------------------ statistics
def _betacf(a: float, b: float, x: float) -> float:
    """Continued fraction of the regularised incomplete beta function (Lentz's method)."""
    tiny, qab, qap, qam = 1e-300, a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 300):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-14:
            break
    return h


def _betainc(a: float, b: float, x: float) -> float:
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    front = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x))
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _betacf(a, b, x) / a
    return 1.0 - front * _betacf(b, a, 1.0 - x) / b


def t_two_sided_p(t: float, df: float) -> float:
    """P(|T| ≥ |t|) for Student's t with ``df`` (not necessarily whole) degrees of freedom."""
    if math.isinf(t):
        return 0.0
    return _betainc(df / 2.0, 0.5, df / (df + t * t))


def welch(mean_r, std_r, n_r, mean_p, std_p, n_p) -> dict:
    """Difference, combined standard error, z, Welch df and two-sided p of one cell."""
    diff = mean_r - mean_p
    vr, vp = std_r ** 2 / n_r, std_p ** 2 / n_p
    se = math.sqrt(vr + vp)
    if se == 0.0:
        z = 0.0 if diff == 0.0 else math.copysign(math.inf, diff)
        return {"difference": diff, "se": se, "z": z, "df": None, "p_value": 1.0 if diff == 0.0 else 0.0}
    df = (vr + vp) ** 2 / (vr ** 2 / (n_r - 1) + vp ** 2 / (n_p - 1))
    z = diff / se
    return {"difference": diff, "se": se, "z": z, "df": df, "p_value": t_two_sided_p(z, df)}


def holm(p_values: list[float], level: float) -> list[bool]:
    """Holm's step-down rejections (family-wise error ≤ level) in the input's order."""
    order = sorted(range(len(p_values)), key=lambda i: p_values[i])
    reject = [False] * len(p_values)
    m = len(p_values)
    for rank, i in enumerate(order):
        if p_values[i] >= level / (m - rank):
            break
        reject[i] = True
    return reject


# ------------------------------------------------------------ comparison
def cell_stats(table: pd.DataFrame) -> pd.DataFrame:
    """Mean, std (ddof=1) and n of the final test error per cell of one experiment's run table."""
    runs = usable_runs(table)
    if runs.empty:
        return pd.DataFrame(columns=CELL + ["mean", "std", "n"])
    runs = runs.copy()
    for col in CELL:
        if col not in runs:
            runs[col] = None
    keys = runs[CELL].astype(object).where(runs[CELL].notna(), "")
    keys["lambda"] = runs["lambda"].map(lambda v: "" if pd.isna(v) else round(float(v), 9))
    keys["noise_rate"] = runs["noise_rate"].map(lambda v: "" if pd.isna(v) else round(float(v), 9))
    keys[METRIC] = pd.to_numeric(runs[METRIC], errors="coerce")
    grouped = keys.groupby(CELL, sort=False)[METRIC]
    out = grouped.agg(mean="mean", n="count", std=lambda x: x.std(ddof=STD_DDOF)).reset_index()
    return out[CELL + ["mean", "std", "n"]]


def compare(rebuilt: dict[str, pd.DataFrame], reference: dict[str, pd.DataFrame],
            level: float = LEVEL) -> pd.DataFrame:
    """One row per cell present in both trees (run tables keyed by experiment)."""
    rows = []
    for experiment in [e for e in rebuilt if e in reference]:
        ours, theirs = cell_stats(rebuilt[experiment]), cell_stats(reference[experiment])
        both = ours.merge(theirs, on=CELL, suffixes=("_rebuilt", "_reference"))
        for _, c in both.iterrows():
            row = {k: c[k] for k in CELL}
            row.update({f"{s}_{side}": c[f"{s}_{side}"] for side in ("rebuilt", "reference")
                        for s in ("mean", "std", "n")})
            n_r, n_p = int(c["n_rebuilt"]), int(c["n_reference"])
            if min(n_r, n_p) < 2:
                row.update(difference=c["mean_rebuilt"] - c["mean_reference"], se=np.nan, z=np.nan, df=np.nan,
                           p_value=np.nan, verdict="undecided",
                           reason=f"fewer than 2 runs on a side (n = {n_r} rebuilt, {n_p} reference)")
            else:
                row.update(welch(c["mean_rebuilt"], c["std_rebuilt"], n_r, c["mean_reference"],
                                 c["std_reference"], n_p))
                differ = row["p_value"] < level
                row["verdict"] = "differ" if differ else "agree"
                row["reason"] = f"p = {row['p_value']:.3g} {'<' if differ else '≥'} {level:g}"
            rows.append(row)
    columns = CELL + [f"{s}_{side}" for side in ("rebuilt", "reference") for s in ("mean", "std", "n")] + [
        "difference", "se", "z", "df", "p_value", "verdict", "reason", "differs_after_holm"]
    if not rows:
        return pd.DataFrame(columns=columns)
    out = pd.DataFrame(rows)
    decided = out["verdict"] != "undecided"
    out["differs_after_holm"] = False
    out.loc[decided, "differs_after_holm"] = holm(out.loc[decided, "p_value"].tolist(), level)
    return out[columns]


def verdict(cells: pd.DataFrame, level: float = LEVEL, rebuilt: str = "", reference: str = "") -> dict:
    """The comparison's headline: counts, the rule, and the whole tree's verdict."""
    decided = cells[cells["verdict"] != "undecided"]
    n_differ = int((cells["verdict"] == "differ").sum())
    n_holm = int(cells["differs_after_holm"].astype(bool).sum()) if len(cells) else 0
    if decided.empty:
        overall = "undecided"
        why = "no shared cell with at least 2 runs on each side" if len(cells) else "the two trees share no cell"
    elif n_holm:
        overall, why = "differs", f"{n_holm} cell(s) differ after Holm's correction"
    else:
        overall, why = "matches", "no cell differs after Holm's correction"
    per_experiment = {
        str(e): {"cells": int(len(g)), "differ": int((g["verdict"] == "differ").sum()),
                 "undecided": int((g["verdict"] == "undecided").sum()),
                 "differ_after_holm": int(g["differs_after_holm"].astype(bool).sum())}
        for e, g in cells.groupby("experiment", sort=False)}
    return json_safe({
        "rebuilt": rebuilt, "reference": reference, "metric": METRIC, "level": level,
        "rule": RULE.format(level=level),
        "cells": int(len(cells)), "decided": int(len(decided)), "differ": n_differ,
        "undecided": int(len(cells) - len(decided)), "expected_differ_by_chance": level * len(decided),
        "differ_after_holm": n_holm, "verdict": overall, "why": why,
        "differing_cells": [cell_name(r) for _, r in cells[cells["verdict"] == "differ"].iterrows()],
        "per_experiment": per_experiment,
    })


def cell_name(row) -> str:
    """Short text of a cell: 'P ResNet34 λ=0.65 η=40%'."""
    parts = [str(row["experiment"])]
    for col in ("condition", "region", "branch"):
        if isinstance(row.get(col), str) and row[col]:
            parts.append(row[col])
    parts.append(str(row["model"]))
    if row.get("lambda") not in ("", None) and not pd.isna(row["lambda"]):
        parts.append(f"λ={float(row['lambda']):g}")
    if row.get("noise_rate") not in ("", None) and not pd.isna(row["noise_rate"]):
        parts.append(f"η={float(row['noise_rate']) * 100:.0f}%")
    return " ".join(parts)


# ------------------------------------------------------------ trees on disk
def read_run_tables(results_dir: str | Path, experiments=None) -> dict[str, pd.DataFrame]:
    """``<results_dir>/<experiment>/tables/table.csv`` of each experiment that has one."""
    results_dir = Path(results_dir)
    names = experiments if experiments is not None else sorted(p.parent.parent.name for p in
                                                                results_dir.glob("*/tables/table.csv"))
    return {e: pd.read_csv(results_dir / e / "tables" / "table.csv") for e in names
            if (results_dir / e / "tables" / "table.csv").is_file()}
