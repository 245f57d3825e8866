"""Exp P: test error vs λ per architecture (mean ± std over seeds), as notebook 000's figure."""

from __future__ import annotations

from . import style
from .common import ordered_unique, rows_of


def error_vs_lambda(tables, summary, analysis_json, params, **_):
    fig, axes = style.figure(width=style.COLUMN, height=2.5)
    ax = axes[0, 0]
    if summary.empty:
        style.no_data(ax)
        return fig
    for i, model in enumerate(ordered_unique(summary["model"])):
        s = rows_of(summary, model=model)
        style.mean_std_line(ax, s["lambda"], s["test_error_mean"], s["test_error_std"], marker=style.marker(i),
                            color=style.colour(i), label=model)
    table = tables.get("table")
    eta = ordered_unique(table["noise_rate"]) if table is not None and "noise_rate" in table else []
    ax.set_title("Architecture universality" + (f" ({style.percent(eta[0])})" if len(eta) == 1 else ""))
    ax.set_xlabel(style.LAMBDA)
    ax.set_ylabel(style.ERROR)
    style.error_ylim(ax)
    style.legend(ax, loc="upper left", title=style.seeds_note(summary), title_fontsize=6, fontsize=6)
    return fig


FIGURES = {"error_vs_lambda": error_vs_lambda}
