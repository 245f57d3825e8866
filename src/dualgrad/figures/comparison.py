"""Rebuild vs reference (e.g. the paper): every shared cell's means side by side, and its difference
in combined standard errors coloured by the per-cell verdict (from :mod:`dualgrad.compare`)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import style

VERDICT_STYLE = {"agree": {"color": "0.45", "marker": "o"},
                 "differ": {"color": "#D55E00", "marker": "D"},
                 "undecided": {"color": "#0072B2", "marker": "x"}}
Z_CLIP = 8.0  # |z| beyond this sits on the axis edge (as a triangle), so one huge z does not flatten the rest


def comparison(cells: pd.DataFrame, headline: dict):
    fig, axes = style.figure(ncols=2, width=style.TEXT, height=3.0)
    ax_means, ax_z = axes[0]
    level = headline.get("level", 0.05)
    if cells.empty:
        for ax in axes[0]:
            style.no_data(ax, "no shared cell")
        return fig
    cells = cells.reset_index(drop=True)
    for verdict, kw in VERDICT_STYLE.items():
        s = cells[cells["verdict"] == verdict]
        if s.empty:
            continue
        ax_means.errorbar(s["mean_reference"], s["mean_rebuilt"], xerr=s["std_reference"].fillna(0),
                          yerr=s["std_rebuilt"].fillna(0), linestyle="none", markersize=3.5, elinewidth=0.6,
                          capsize=1.5, label=f"{verdict} ({len(s)})", **kw)
    ax_means.plot([0, 1], [0, 1], color="0.6", linewidth=0.8, linestyle="--", label="rebuilt = reference")
    ax_means.set_xlim(0, 1)
    ax_means.set_ylim(0, 1)
    ax_means.set_aspect("equal", adjustable="box")
    ax_means.set_xlabel("Reference mean test error")
    ax_means.set_ylabel("Rebuilt mean test error")
    ax_means.set_title("Cell means (bars: ±1 std over seeds)")

    x = np.arange(len(cells))
    z = pd.to_numeric(cells["z"], errors="coerce").to_numpy(dtype=float)
    clipped = np.clip(np.nan_to_num(z, nan=0.0), -Z_CLIP, Z_CLIP)
    for verdict, kw in VERDICT_STYLE.items():
        pick = (cells["verdict"] == verdict).to_numpy()
        inside = pick & (np.abs(np.nan_to_num(z)) <= Z_CLIP)
        if inside.any():
            ax_z.plot(x[inside], clipped[inside], linestyle="none", markersize=3.5, **kw)
        outside = pick & (np.abs(np.nan_to_num(z)) > Z_CLIP)
        if outside.any():
            ax_z.plot(x[outside], clipped[outside], linestyle="none", markersize=4.5, color=kw["color"],
                      marker="^", label=f"|z| > {Z_CLIP:g} (on the edge)")
    ax_z.axhspan(-2, 2, color="0.85", alpha=0.5, linewidth=0, label="|z| < 2")
    ax_z.axhline(0, color="0.6", linewidth=0.6)
    starts = cells.groupby("experiment", sort=False).apply(lambda g: g.index.min(), include_groups=False)
    ends = cells.groupby("experiment", sort=False).apply(lambda g: g.index.max(), include_groups=False)
    for name in starts.index:
        if starts[name] > 0:
            ax_z.axvline(starts[name] - 0.5, color="0.75", linewidth=0.6)
    ax_z.set_xticks([(starts[n] + ends[n]) / 2 for n in starts.index], list(starts.index))
    ax_z.grid(axis="x", visible=False)
    ax_z.set_xlim(-0.5, len(cells) - 0.5)
    ax_z.set_ylim(-Z_CLIP - 1, Z_CLIP + 1)
    ax_z.set_xlabel("Cells, grouped by experiment")
    ax_z.set_ylabel("z = (rebuilt − reference) / combined SE")
    ax_z.set_title("Difference in standard errors")
    handles, labels = ax_means.get_legend_handles_labels()
    more_h, more_l = ax_z.get_legend_handles_labels()
    fig.legend(handles + more_h, labels + more_l, loc="outside lower center", ncol=len(labels) + len(more_l),
               fontsize=6.5)
    fig.suptitle(f"{headline.get('verdict', '')}: {headline.get('differ', 0)} of {headline.get('decided', 0)} "
                 f"cells differ at p < {level:g} (≈{headline.get('expected_differ_by_chance', 0):.1f} by chance), "
                 f"{headline.get('differ_after_holm', 0)} after Holm; {headline.get('undecided', 0)} undecided "
                 "(n < 2)", fontsize=8)
    return fig


FIGURES = {"comparison": comparison}
