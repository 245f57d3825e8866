"""Exp B2: anti-aligned value labels — error vs λ per η with the CE baselines and chance (notebook 003)."""

from __future__ import annotations

from ..analysis.stats import lookup
from . import style
from .baselines import draw_reference
from .common import rows_of, sorted_floats


def anti_aligned(summary, analysis_json, params, extra=None, **_):
    fig, axes = style.figure(width=style.COLUMN, height=2.5)
    ax = axes[0, 0]
    if summary.empty:
        style.no_data(ax)
        return fig
    for i, eta in enumerate(sorted_floats(summary["noise_rate"])):
        s = rows_of(summary, noise_rate=eta)
        style.mean_std_line(ax, s["lambda"], s["test_error_mean"], s["test_error_std"], marker=style.marker(i),
                            color=style.colour(i), label=f"anti-aligned, {style.percent(eta)}")
        draw_reference(ax, (extra or {}).get("baselines"), "CE", eta, lookup(params.get("ce_baselines"), eta),
                       colour=style.colour(i), suffix=f", {style.percent(eta)}")
    style.reference_line(ax, params.get("chance"), label="chance", **style.CHANCE)
    ax.set_title("Value labels (y+1) mod 10")
    ax.set_xlabel(style.LAMBDA)
    ax.set_ylabel(style.ERROR)
    style.error_ylim(ax)
    style.legend(ax, loc="lower right", fontsize=6, title=style.seeds_note(summary), title_fontsize=6)
    return fig


FIGURES = {"anti_aligned": anti_aligned}
