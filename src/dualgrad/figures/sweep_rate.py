"""V3 sweep-rate control (extension): the hysteresis gap against the epochs per λ (95 % intervals over
seeds, one line per sweep lr factor), and each pair's two branches."""

from __future__ import annotations

from . import style
from .common import rows_of, sorted_floats


def sweep_rate(summary, analysis_json, params, **_):
    fig, axes = style.figure(ncols=2, width=style.TEXT, height=2.6)
    ax_gap, ax_branches = axes[0]
    pairs = [p for p in analysis_json.get("pairs") or [] if p.get("gap_mean") is not None]
    ax_gap.set_title("Gap against sweep rate")
    ax_branches.set_title("Branches of each sweep")
    if not pairs:
        style.no_data(ax_gap, "no swept pair")
        style.no_data(ax_branches, "no swept pair")
        return fig
    for i, lr in enumerate(sorted({p["lr_factor"] for p in pairs})):
        group = sorted((p for p in pairs if p["lr_factor"] == lr), key=lambda p: p["epochs_per_lam"])
        x = [p["epochs_per_lam"] for p in group]
        y = [p["gap_mean"] for p in group]
        err = [[m - (p["gap_interval"][0] if p["gap_interval"][0] is not None else m) for m, p in zip(y, group)],
               [(p["gap_interval"][1] if p["gap_interval"][1] is not None else m) - m for m, p in zip(y, group)]]
        ax_gap.errorbar(x, y, yerr=err, marker=style.marker(i), color=style.colour(i), capsize=2,
                        label=f"sweep lr = lr × {lr:g} (95% CI)")
    ax_gap.set_xscale("log")
    ticks = sorted({p["epochs_per_lam"] for p in pairs})
    ax_gap.set_xticks(ticks, [str(t) for t in ticks])
    ax_gap.minorticks_off()
    ax_gap.margins(x=0.1)
    style.reference_line(ax_gap, analysis_json.get("two_branch_gap"), label="the notebook's two-branch gap")
    style.reference_line(ax_gap, 0.0, **style.CHANCE)
    ax_gap.set_xlabel("Epochs per λ")
    ax_gap.set_ylabel(f"Gap at λ = {analysis_json.get('gap_lambda', 0.5):g}")
    verdict = (analysis_json.get("kinetic_evidence") or {}).get("verdict")
    if verdict:
        ax_gap.text(0.02, 0.02, f"gap shrinks as the sweep slows: {verdict}", transform=ax_gap.transAxes,
                    fontsize=6, color="0.3")
    style.legend(ax_gap, loc="upper right", fontsize=6)
    for i, p in enumerate(pairs):
        for branch, linestyle in ((p["ascending"], "-"), (p["descending"], "--")):
            s = rows_of(summary, branch=branch)
            if len(s):
                ax_branches.plot(s["lambda"], s["error_mean"], linestyle=linestyle, marker=style.marker(i),
                                 markersize=3, color=style.colour(i), label=p["label"] if linestyle == "-" else None)
    ax_branches.set_xlabel(style.LAMBDA)
    ax_branches.set_ylabel(style.ERROR)
    ax_branches.set_ylim(0, 1)
    lams = sorted_floats(summary["lambda"]) if "lambda" in summary else []
    if lams:
        ax_branches.set_xticks(lams[::2])
    style.reference_line(ax_branches, params.get("chance", 0.9), **style.CHANCE)
    style.legend(ax_branches, loc="center right", fontsize=5.5, title="solid: λ ↑, dashed: λ ↓", title_fontsize=5.5)
    return fig


FIGURES = {"sweep_rate": sweep_rate}
