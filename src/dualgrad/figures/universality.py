"""Exp P: test error vs λ per architecture (mean ± std over seeds), as notebook 000's figure, with each
architecture's fitted λ_c and its 95 % bootstrap interval drawn as a bar at the bottom."""

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
    _fitted_lambda_c(ax, analysis_json)
    table = tables.get("table")
    eta = ordered_unique(table["noise_rate"]) if table is not None and "noise_rate" in table else []
    ax.set_title("Architecture universality" + (f" ({style.percent(eta[0])})" if len(eta) == 1 else ""))
    ax.set_xlabel(style.LAMBDA)
    ax.set_ylabel(style.ERROR)
    style.error_ylim(ax)
    style.legend(ax, loc="upper left", title=style.seeds_note(summary), title_fontsize=6, fontsize=6)
    return fig


def _fitted_lambda_c(ax, analysis_json) -> None:
    fits, intervals = analysis_json.get("lambda_c_fit") or {}, analysis_json.get("lambda_c_fit_interval") or {}
    drawn = False
    for i, model in enumerate(fits):
        lam_c, (lo, hi) = fits[model], intervals.get(model) or (None, None)
        if lam_c is None:
            continue
        y = 0.02 + 0.018 * i  # below the curves (no error is that small here)
        xerr = [[lam_c - lo], [hi - lam_c]] if lo is not None else None
        ax.errorbar([lam_c], [y], xerr=xerr, marker="|", markersize=7, color=style.colour(i), linewidth=1.2,
                    capsize=2)
        drawn = True
    if drawn:
        ax.errorbar([], [], xerr=[], marker="|", color="0.4", linestyle="none",
                    label="fitted λ_c, 95% CI (bars at the bottom)")


FIGURES = {"error_vs_lambda": error_vs_lambda}
