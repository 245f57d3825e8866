"""exp_A: the main λ sweep per η; with C's summary in ``extra['baselines']``, C's CE / Loss-mix /
Misaligned as horizontal reference lines in each η's colour."""

from __future__ import annotations

from matplotlib.lines import Line2D

from ..analysis import reference
from . import style
from .common import rows_of, sorted_floats

REFERENCES = {"CE": "--", "Loss-mix": "-.", "Misaligned": ":"}


def _baseline_lines(ax, baselines, eta: float, colour: str) -> dict[str, bool]:
    """C's references at ``eta``: condition -> whether its band was shaded."""
    drawn = {}
    if baselines is None or baselines.empty or "condition" not in baselines:
        return drawn
    for condition, linestyle in REFERENCES.items():
        measured = reference.measured_ce(baselines, eta, condition)
        if measured is not None:
            ax.axhline(measured["mean"], color=colour, linestyle=linestyle, linewidth=1.0, alpha=0.75)
            drawn[condition] = style.reference_band(ax, *measured["interval"], color=colour, alpha=0.08)
    return drawn


def main_sweep(summary, analysis_json, params, extra=None, **_):
    fig, axes = style.figure(width=style.COLUMN, height=3.0)
    ax = axes[0, 0]
    if summary.empty:
        style.no_data(ax)
        return fig
    baselines = (extra or {}).get("baselines")
    handles, drawn, shaded = [], {}, {}  # baseline condition -> the η it is drawn for, its bands shaded
    for i, eta in enumerate(sorted_floats(summary["noise_rate"])):
        s = rows_of(summary, noise_rate=eta)
        handles.append(style.mean_std_line(ax, s["lambda"], s["test_error_mean"], s["test_error_std"],
                                           marker=style.marker(i), color=style.colour(i),
                                           label=f"dual gradient, {style.percent(eta)}"))
        for condition, band in _baseline_lines(ax, baselines, eta, style.colour(i)).items():
            drawn.setdefault(condition, []).append(i)
            shaded.setdefault(condition, []).append(band)
    if params.get("collapse_above") is not None:
        style.reference_line(ax, params["collapse_above"], **style.CHANCE)
    for condition in REFERENCES:
        if condition in drawn:  # one entry per baseline: in its η's colour, or grey with "colour: η" for several
            one = len(drawn[condition]) == 1
            etas = sorted_floats(summary["noise_rate"])
            handles.append(Line2D([], [], color=style.colour(drawn[condition][0]) if one else "0.3",
                                  linestyle=REFERENCES[condition], linewidth=1.0,
                                  label=(f"{condition} (exp C, {style.percent(etas[drawn[condition][0]])})") if one
                                  else f"{condition} (exp C; colour: η)"))
    title = style.seeds_note(summary)
    if shaded:  # one line on C's bands (kept out of the entries: a wider legend squeezes the axes)
        bands = style.band_note([b for bs in shaded.values() for b in bs])
        title = "\n".join(filter(None, [title, f"exp C references: mean line; {bands}"]))

    lams = sorted_floats(summary["lambda"])
    if len(lams) <= 8:  # ticks at the grid's λ, not at an automatic spacing finer than the data
        ax.set_xticks(lams)
    ax.set_title("Main λ sweep")
    ax.set_xlabel(style.LAMBDA)
    ax.set_ylabel(style.ERROR)
    style.error_ylim(ax)
    style.below(ax, handles=handles, fontsize=6, ncol=2, title=title, title_fontsize=6)  # labels and limits first
    return fig


FIGURES = {"main_sweep": main_sweep}
