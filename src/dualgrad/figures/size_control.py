"""Size control (extension): error vs λ at each size (mean with 95 % intervals) and the fitted width
(sharpness) and λ_c of the transition against size, with their intervals."""

from __future__ import annotations

from . import style
from .common import ordered_unique, rows_of


def _bar(ax, x, value, interval, **kwargs):
    lo, hi = interval or (None, None)
    err = [[value - lo], [hi - value]] if lo is not None and hi is not None else None
    ax.errorbar([x], [value], yerr=err, capsize=2, **kwargs)


def size_control(summary, analysis_json, params, **_):
    fig, axes = style.figure(ncols=3, width=style.TEXT, height=2.5)
    ax_err, ax_width, ax_lc = axes[0]
    ax_err.set_title("Error vs λ per size")
    ax_width.set_title("Transition width (sharpness)")
    ax_lc.set_title("Fitted λ_c")
    if summary.empty:
        for ax in axes[0]:
            style.no_data(ax)
        return fig
    sizes = analysis_json.get("sizes") or {}
    for i, cond in enumerate(ordered_unique(summary["condition"])):
        s = rows_of(summary, condition=cond).sort_values("lambda")
        ax_err.plot(s["lambda"], s["test_error_mean"], marker=style.marker(i), color=style.colour(i), label=cond)
        if "test_error_ci_low" in s and s["test_error_ci_low"].notna().any():
            ax_err.fill_between(s["lambda"], s["test_error_ci_low"], s["test_error_ci_high"], color=style.colour(i),
                                alpha=0.15, linewidth=0)
        x = sizes.get(cond, i)
        width = (analysis_json.get("width") or {}).get(cond)
        if width is not None:
            _bar(ax_width, x, width, (analysis_json.get("width_interval") or {}).get(cond), marker="o",
                 color=style.colour(i))
        lam_c = (analysis_json.get("lambda_c_fit") or {}).get(cond)
        if lam_c is not None:
            _bar(ax_lc, x, lam_c, (analysis_json.get("lambda_c_fit_interval") or {}).get(cond), marker="s",
                 color=style.colour(i))
    ax_err.set_xlabel(style.LAMBDA)
    ax_err.set_ylabel(style.ERROR)
    ax_err.set_ylim(0, 1)
    style.legend(ax_err, loc="upper left", fontsize=6)
    axis = analysis_json.get("size_axis", "size")
    for ax in (ax_width, ax_lc):
        ax.set_xlabel(axis)
        if sizes and min(sizes.values()) > 0:
            ax.set_xscale("log")
            ax.set_xticks(sorted(sizes.values()), [f"{v:g}" for v in sorted(sizes.values())])
            ax.minorticks_off()
        ax.margins(x=0.15, y=0.15)
    ax_width.set_ylabel("Width w of the logistic step (95% CI)")
    ax_lc.set_ylabel("λ_c (95% CI)")
    verdict = (analysis_json.get("sharpening_evidence") or {}).get("verdict")
    if verdict:
        ax_width.set_title(f"Transition width (sharpens with size: {verdict})", fontsize=8)
    return fig


FIGURES = {"size_control": size_control}
