"""exp_C: test error per condition (and λ) and η — grouped bars with ±std error bars."""

from __future__ import annotations

import numpy as np

from ..analysis import reference
from . import style
from .common import ordered_unique, rows_of, sorted_floats


def draw_reference(ax, baselines, condition: str, eta: float, fallback, colour=None, suffix: str = "") -> str | None:
    """C's measured ``condition`` at ``eta`` as a line with its 95 % band; else the paper's constant, labelled so."""
    measured = reference.measured_ce(baselines, eta, condition)
    colour = colour or style.REFERENCE["color"]
    if measured is not None:
        band = style.reference_band(ax, *measured["interval"], color=colour, alpha=0.12)
        ax.axhline(measured["mean"], color=colour, linestyle="--", linewidth=1.0, alpha=0.8,
                   label=f"{condition}, measured (exp C, n={measured['n']}; {style.band_note([band])}){suffix}")
        return "measured"
    if fallback is not None:
        style.reference_line(ax, fallback, label=f"{condition}: paper's constant (no exp C runs){suffix}",
                             color=colour, alpha=0.7)
        return "paper"
    return None


def _label(condition, lam, several: bool) -> str:
    return f"{condition}\nλ={lam:g}" if several or (condition != "CE" and lam) else str(condition)


def baselines(summary, analysis_json, params, **_):
    fig, axes = style.figure(width=style.COLUMN, height=2.5)
    ax = axes[0, 0]
    if summary.empty:
        style.no_data(ax)
        return fig
    cells = []  # (condition, λ) in the config's order
    for condition in ordered_unique(summary["condition"]):
        lams = sorted_floats(rows_of(summary, condition=condition)["lambda"])
        cells += [(condition, lam, len(lams) > 1) for lam in lams]
    etas = sorted_floats(summary["noise_rate"])
    width = 0.8 / max(len(etas), 1)
    x = np.arange(len(cells))
    for i, eta in enumerate(etas):
        means, stds = [], []
        for condition, lam, _several in cells:
            s = rows_of(summary, condition=condition, noise_rate=eta, **{"lambda": lam})
            means.append(float(s["test_error_mean"].iloc[0]) if len(s) else np.nan)
            stds.append(float(s["test_error_std"].iloc[0]) if len(s) else np.nan)
        offset = (i - (len(etas) - 1) / 2) * width
        ax.bar(x + offset, means, width * 0.92, color=style.colour(i), label=style.percent(eta),
               yerr=np.nan_to_num(stds), error_kw={"elinewidth": 0.8, "capsize": 2})
    ax.set_xticks(x, [_label(c, lam, several) for c, lam, several in cells], fontsize=6)
    ax.set_ylabel(style.ERROR)
    ax.grid(axis="x", visible=False)
    style.reference_line(ax, params.get("chance", 0.9), label="chance", **style.CHANCE)
    ax.set_title("Baselines (exp C)")
    style.error_ylim(ax)
    style.legend(ax, loc="upper left", fontsize=6, title=style.seeds_note(summary, bars="whiskers ±1 std (ddof=1)"),
                 title_fontsize=6)
    return fig


FIGURES = {"baselines": baselines}
