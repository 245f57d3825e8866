"""Exp N: the phase diagram (heatmap of mean test error over λ × η, phase label in each cell by this
workflow's rule, the authors' 'excellent' cells outlined, the collapse-onset line and the fitted λ_c(η)
with its 95 % interval) and the per-η error-vs-λ curves."""

from __future__ import annotations

import matplotlib.colors as mcolors
import numpy as np
from matplotlib.patches import Rectangle

from . import style
from .common import move_texts_off_data, rows_of, sorted_floats


def _column_position(lams: list[float], lam: float | None) -> float | None:
    """λ -> x on the heatmap, whose columns are the grid λ at equal widths (piecewise linear between them)."""
    if lam is None:
        return None
    return float(np.interp(lam, lams, np.arange(len(lams))))


def phase_diagram(summary, analysis_json, params, **_):
    fig, axes = style.figure(width=style.TEXT, height=3.2)
    ax = axes[0, 0]
    if summary.empty:
        style.no_data(ax)
        return fig
    lams, etas = sorted_floats(summary["lambda"]), sorted_floats(summary["noise_rate"])
    grid = np.full((len(etas), len(lams)), np.nan)
    labels = [["" for _ in lams] for _ in etas]
    texts = []
    for _, r in summary.iterrows():
        i, j = etas.index(round(float(r["noise_rate"]), 9)), lams.index(round(float(r["lambda"]), 9))
        grid[i, j] = r["test_error_mean"]
        labels[i][j] = r.get("phase") if isinstance(r.get("phase"), str) else ""
    norm = mcolors.Normalize(0.0, max(0.9, float(np.nanmax(grid)) if np.isfinite(grid).any() else 0.9))
    cmap = "RdYlGn_r"
    mesh = ax.imshow(np.ma.masked_invalid(grid), cmap=cmap, norm=norm, aspect="auto", origin="lower")
    for i in range(len(etas)):
        for j in range(len(lams)):
            if np.isnan(grid[i, j]):
                ax.text(j, i, "no data", ha="center", va="center", fontsize=6, color="0.4")
                continue
            rgba = mesh.cmap(norm(grid[i, j]))
            light = 0.299 * rgba[0] + 0.587 * rgba[1] + 0.114 * rgba[2] > 0.55
            ink = {"color": "black" if light else "white", "ha": "center", "fontsize": 6.5,
                   "fontweight": "bold" if labels[i][j] == "critical" else None}
            texts.append(ax.text(j, i + 0.1, f"{grid[i, j]:.3f}", va="bottom", **ink))
            texts.append(ax.text(j, i - 0.1, labels[i][j], va="top", **ink))
    flags = {(round(float(r["noise_rate"]), 9), round(float(r["lambda"]), 9)): r.get("authors_flag")
             for _, r in summary.iterrows()} if "authors_flag" in summary else {}
    outlined = False
    for (eta, lam), flag in flags.items():
        if flag == "excellent":
            ax.add_patch(Rectangle((lams.index(lam) - 0.46, etas.index(eta) - 0.46), 0.92, 0.92, fill=False,
                                   edgecolor="black", linewidth=0.6, linestyle="--"))
            outlined = True
    if outlined:
        ax.plot([], [], color="black", linewidth=0.6, linestyle="--",
                label=f"authors' flag 'excellent' (mean < {analysis_json.get('excellent_below', 0.15):g})")
    fitted = [(f.get("lambda_c"), f.get("lambda_c_interval") or [None, None], f.get("noise_rate"))
              for f in analysis_json.get("lambda_c_fit_line", [])]
    fpts = [(_column_position(lams, lc), [_column_position(lams, v) for v in ci], etas.index(round(eta, 9)))
            for lc, ci, eta in fitted if lc is not None and round(eta, 9) in etas]
    if fpts:
        for x, (lo, hi), y in fpts:
            ax.errorbar([x], [y + 0.4], xerr=[[x - lo], [hi - x]] if lo is not None else None, color="#0072B2",
                        marker="o", markersize=3.5, markeredgecolor="white", linewidth=1.2, capsize=2)
        ax.errorbar([], [], xerr=[], color="#0072B2", marker="o", markersize=3.5, linestyle="none",
                    label="fitted λ_c(η): midpoint of a logistic step, 95% bootstrap CI")
    line = [(p.get("lambda_c"), p.get("noise_rate"))
            for p in analysis_json.get("collapse_onset_line", analysis_json.get("critical_line", []))]
    pts = [(_column_position(lams, lc), etas.index(round(eta, 9))) for lc, eta in line
           if lc is not None and round(eta, 9) in etas]
    if pts:
        xs, ys = zip(*sorted(pts, key=lambda p: p[1]))
        ax.plot(xs, ys, color="black", marker="D", markersize=3.5, markeredgecolor="white", linewidth=1.2,
                label=f"collapse onset: mean error crosses {analysis_json.get('collapse_above', 0.5):g} "
                      "(interpolated)")
    style.legend(ax, loc="upper left", bbox_to_anchor=(0, -0.2), fontsize=6.5, frameon=False)
    ax.set_xticks(range(len(lams)), [f"{v:g}" for v in lams])
    ax.set_yticks(range(len(etas)), [f"{v * 100:.0f}%" for v in etas])
    ax.set_xlabel("λ (columns at the grid values)")
    ax.set_ylabel("Noise rate η")
    ax.grid(False)
    ax.set_title("Phase diagram: mean test error over λ × η")
    ax.text(1.0, -0.2, f"cell labels: this workflow's rule (collapse: mean > "
                       f"{analysis_json.get('collapse_above', 0.5):g}; critical: seed std > "
                       f"{analysis_json.get('critical_std_above', 0.05):g})", transform=ax.transAxes, ha="right",
            va="top", fontsize=6, color="0.3")
    fig.colorbar(mesh, ax=ax, label="Mean test error", fraction=0.04, pad=0.01)
    move_texts_off_data(ax, texts)  # the critical line never runs over a cell's numbers
    return fig


def phase_curves(summary, analysis_json, params, **_):
    fig, axes = style.figure(width=style.COLUMN, height=2.5)
    ax = axes[0, 0]
    if summary.empty:
        style.no_data(ax)
        return fig
    level = analysis_json.get("collapse_above", params.get("collapse_above", 0.5))
    crossing = {round(p["noise_rate"], 9): p.get("lambda_c")
                for p in analysis_json.get("collapse_onset_line", analysis_json.get("critical_line", []))}
    fitted = {round(f["noise_rate"], 9): f for f in analysis_json.get("lambda_c_fit_line", [])}
    marked = fitted_drawn = False
    for i, eta in enumerate(sorted_floats(summary["noise_rate"])):
        s = rows_of(summary, noise_rate=eta)
        style.mean_std_line(ax, s["lambda"], s["test_error_mean"], s["test_error_std"], marker=style.marker(i),
                            color=style.colour(i), label=style.percent(eta))
        if crossing.get(eta) is not None:
            ax.plot([crossing[eta]], [level], marker="v", markersize=5.5, markeredgecolor="black",
                    markeredgewidth=0.6, linestyle="none", color=style.colour(i), zorder=5)
            marked = True
        fit = fitted.get(eta) or {}
        if fit.get("lambda_c") is not None:
            lo, hi = fit.get("lambda_c_interval") or [None, None]
            y = 0.03 + 0.025 * i
            ax.errorbar([fit["lambda_c"]], [y], xerr=[[fit["lambda_c"] - lo], [hi - fit["lambda_c"]]]
                        if lo is not None else None, marker="|", markersize=6, color=style.colour(i), capsize=2)
            fitted_drawn = True
    style.reference_line(ax, level, label=f"collapse threshold ({level:g}, the authors' flag)", **style.CHANCE)
    if fitted_drawn:
        ax.errorbar([], [], xerr=[], marker="|", color="0.4", linestyle="none", label="fitted λ_c(η), 95% CI")
    if marked:  # legend entry in grey: the colour is η
        ax.plot([], [], marker="v", markersize=5.5, markeredgecolor="black", markeredgewidth=0.6, color="0.8",
                linestyle="none", label="collapse onset: mean crosses it")
    ax.set_title("Phase structure per noise rate")
    ax.set_xlabel(style.LAMBDA)
    ax.set_ylabel(style.ERROR)
    style.error_ylim(ax)
    style.legend(ax, loc="upper left", fontsize=6, title=style.seeds_note(summary), title_fontsize=6)
    return fig


FIGURES = {"phase_diagram": phase_diagram, "phase_curves": phase_curves}
