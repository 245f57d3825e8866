"""Exp B3: three panels — error by condition vs λ (CE line), ‖g_mix‖, cos(g_s, g_v) (notebook 002)."""

from __future__ import annotations

import numpy as np

from . import style
from .baselines import draw_reference
from .common import ordered_unique, rows_of

PANELS = (
    ("test_error_mean", "test_error_std", style.ERROR, "Test error by condition"),
    ("avg_gmix_norm_mean", None, "‖g_mix‖ (first 100 steps)", "Step size"),
    ("avg_cos_similarity_mean", None, "cos(g_struct, g_value)", "Gradient alignment"),
)


def ablation(tables, summary, analysis_json, params, extra=None, **_):
    fig, axes = style.figure(ncols=3, width=style.TEXT, height=2.5)
    conditions = ordered_unique(summary["condition"]) if not summary.empty else []
    lams = sorted(set(summary["lambda"].dropna())) if not summary.empty else []
    step = min(np.diff(lams)) if len(lams) > 1 else 0.1
    # equal values stay apart
    dodge = {c: (i - (len(conditions) - 1) / 2) * 0.06 * step for i, c in enumerate(conditions)}
    for ax, (mean, std, ylabel, title) in zip(axes[0], PANELS):
        ax.set_title(title)
        if summary.empty or mean not in summary or summary[mean].isna().all():
            style.no_data(ax)
            continue
        for i, cond in enumerate(conditions):
            s = rows_of(summary, condition=cond)
            style.mean_std_line(ax, s["lambda"] + dodge[cond], s[mean], s[std] if std else None, marker=style.marker(i),
                                color=style.colour(i), label=cond)
        ax.set_xlabel(style.LAMBDA)
        ax.set_ylabel(ylabel)
        ax.set_xticks(lams)
    ax_err, ax_norm, ax_cos = axes[0]
    if ax_err.lines:
        table = tables.get("table") if tables else None
        etas = ordered_unique(table["noise_rate"]) if table is not None and "noise_rate" in table else []
        draw_reference(ax_err, (extra or {}).get("baselines"), "CE", etas[0] if len(etas) == 1 else 0.4,
                       params.get("ce_baseline"))
        handles, labels = ax_err.get_legend_handles_labels()
        if ax_norm.lines or ax_cos.lines:
            from matplotlib.lines import Line2D

            handles.append(Line2D([], [], **style.CHANCE))
            labels.append("dotted: unit norm (middle), orthogonal (right)")
        style.figure_legend(fig, handles, labels, fontsize=7,
                   title=f"{style.seeds_note(summary) or ''}; conditions drawn side by side at each λ".lstrip("; "),
                   title_fontsize=6.5)
    if ax_norm.lines:
        style.reference_line(ax_norm, 1.0, **style.CHANCE)  # unit norm
    if ax_cos.lines:
        style.reference_line(ax_cos, 0.0, **style.CHANCE)  # orthogonal
    return fig


FIGURES = {"ablation": ablation}
