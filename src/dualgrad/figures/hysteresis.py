"""V3: the two branches of the λ sweep (mean ± std over swept seeds, as a band), with the gap at gap_lambda."""

from __future__ import annotations

from . import style
from .common import rows_of, sorted_floats

BRANCH_STYLE = {"ascending": ("#0072B2", "o", "ordered start, λ ↑"),
                "descending": ("#D55E00", "s", "collapsed start, λ ↓")}


def rejected_starts(analysis_json) -> list[str]:
    """'seed 0: ordered start rejected (error 0.730)' for each start that failed its threshold."""
    lines = []
    for seed in analysis_json.get("seeds") or []:
        for start, info in (seed.get("starts") or {}).items():
            if isinstance(info, dict) and info.get("accepted") is False:
                error = info.get("test_error")
                lines.append(f"seed {seed.get('seed')}: {start} start rejected"
                             + (f" (error {error:.3f})" if error is not None else ""))
    return lines


def hysteresis(summary, analysis_json, params, **_):
    fig, axes = style.figure(width=style.COLUMN, height=2.5)
    ax = axes[0, 0]
    if summary.empty:
        style.no_data(ax, "no swept seed" + "".join(f"\n{line}" for line in rejected_starts(analysis_json)))
        return fig
    names = {analysis_json.get("ascending_branch"): "ascending", analysis_json.get("descending_branch"): "descending"}
    order = {"ascending": 0, "descending": 1}
    branches = sorted(set(summary["branch"].dropna()), key=lambda b: (order.get(names.get(b), 2), str(b)))
    for i, branch in enumerate(branches):
        colour, mark, label = BRANCH_STYLE.get(names.get(branch), (style.colour(i), style.marker(i), branch))
        s = rows_of(summary, branch=branch)
        style.mean_std_line(ax, s["lambda"], s["error_mean"], s["error_std"], band=True, color=colour,
                            marker=mark, label=f"{label}")
    gap, lam = analysis_json.get("gap"), analysis_json.get("gap_lambda")
    lo, hi = analysis_json.get("ascending_at_gap"), analysis_json.get("descending_at_gap")
    if gap is not None and lam is not None:
        ax.annotate("", xy=(lam, hi), xytext=(lam, lo), arrowprops={"arrowstyle": "<->", "color": "0.25", "lw": 1})
        ci = analysis_json.get("gap_interval") or [None, None]
        ci_text = f"\n95% CI [{ci[0]:.2f}, {ci[1]:.2f}]" if ci[0] is not None else "\nno interval (1 seed)"
        ax.text(lam + 0.01, (lo + hi) / 2, f"gap at λ={lam:g}:\n{gap:.2f}{ci_text}", fontsize=7, va="center",
                color="0.25")
    style.reference_line(ax, params.get("chance", 0.9), label="chance", **style.CHANCE)
    seeds = analysis_json.get("swept_seeds") or []
    rejected = analysis_json.get("rejected_starts") or []
    ax.set_title(f"Hysteresis ({len(seeds)} seed{'s' if len(seeds) != 1 else ''} swept"
                 + (f", {len(rejected)} start{'s' if len(rejected) != 1 else ''} rejected" if rejected else "") + ")")
    notes = [f"{m['branch']}, seed {m['seed']}: " + ("dead" if m.get("dead") else "unmoved")
             for m in analysis_json.get("branch_movement") or [] if m.get("dead") or not m.get("moved")]
    notes += [f"{r['start']} start, seed {r['seed']}:\n  rejected ({r['test_error']:.3f})" for r in rejected
              if r.get("test_error") is not None]
    verdict = (analysis_json.get("two_branch_evidence") or {}).get("verdict")
    if verdict:
        notes.insert(0, f"two branches: {verdict}")
    if notes:
        ax.text(0.02, 0.5, "\n".join(notes[:6]), transform=ax.transAxes, fontsize=5.5, va="center", color="0.3")
    ax.set_xlabel(style.LAMBDA)
    ax.set_ylabel(style.ERROR)
    style.error_ylim(ax)
    ax.set_xticks(sorted_floats(summary["lambda"])[::2])
    # below the axes: never on the data
    style.below(ax, ncol=3, fontsize=6,
                 title=f"bands ±1 std over the {len(seeds)} swept seeds" if len(seeds) > 1 else None, title_fontsize=6)
    return fig


FIGURES = {"hysteresis": hysteresis}
