"""Exp K: learning curves (η rows × region columns; thin line per seed, thick mean per λ) and
convergence time vs λ with the critical band shaded (notebook 001), plus the constant-lr relaxation time."""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import style
from .common import ordered_unique, rows_of, sorted_floats

REGIONS = ("ordered", "critical", "collapse")


def _lambda_colours(lambdas: list[float]) -> dict[float, tuple]:
    """One colour per λ, the same in every panel; categorical so that neighbouring λ stay distinct."""
    return {lam: style.colour(i) for i, lam in enumerate(lambdas)}


def _lr_drops(curves: pd.DataFrame) -> list[float]:
    if "lr" not in curves or curves["lr"].isna().all():
        return []
    first = curves.sort_values("epoch").groupby("run", sort=False).first()
    run = curves[curves["run"] == first.index[0]].sort_values("epoch")
    lr = run["lr"].to_numpy()
    return [float(e) - 0.5 for e, a, b in zip(run["epoch"].to_numpy()[1:], lr[:-1], lr[1:]) if b != a]


def learning_curves(tables, summary, analysis_json, params, **_):
    dyn = tables.get("dynamics")
    dyn = pd.DataFrame(columns=["run", "epoch", "noise_rate", "region", "lambda", "test_error"]) if dyn is None else dyn
    etas = sorted_floats(dyn["noise_rate"]) or [None]
    regions = [r for r in REGIONS if r in set(dyn["region"])] + [r for r in ordered_unique(dyn["region"])
                                                                  if r not in REGIONS]
    regions = regions or list(REGIONS)
    fig, axes = style.figure(ncols=len(regions), nrows=len(etas), width=style.TEXT, height=1.9 * len(etas) + 0.2,
                             sharex=True, sharey=True)
    colours = _lambda_colours(sorted_floats(dyn["lambda"]))
    drops = _lr_drops(dyn) if len(dyn) else []
    for i, eta in enumerate(etas):
        for j, region in enumerate(regions):
            ax = axes[i, j]
            ax.set_title(f"{region} | {style.percent(eta)}" if eta is not None else region)
            cell = rows_of(dyn, noise_rate=eta, region=region) if eta is not None else dyn.iloc[0:0]
            if cell.empty:
                style.no_data(ax)
                continue
            for e in drops:
                ax.axvline(e, color="0.6", linewidth=0.6, linestyle=":")
            for lam in sorted_floats(cell["lambda"]):
                runs = rows_of(cell, **{"lambda": lam})
                for _, run in runs.groupby("run", sort=False):
                    run = run.sort_values("epoch")
                    ax.plot(run["epoch"], run["test_error"], color=colours[lam], linewidth=0.5, alpha=0.35)
                mean = runs.groupby("epoch")["test_error"].mean()
                ax.plot(mean.index, mean.to_numpy(), color=colours[lam], linewidth=1.6, label=f"λ = {lam:g}")
            ax.set_ylim(0, 1)
            if i == len(etas) - 1:
                ax.set_xlabel("Epoch")
            if j == 0:
                ax.set_ylabel(style.ERROR)
    seeds = dyn.groupby(["lambda", "noise_rate"])["run"].nunique() if len(dyn) else None
    style.curves_legend(fig, colours, seeds=seeds,
                        lr_drops=bool(drops))
    return fig


def _critical_band(table: pd.DataFrame) -> tuple[float, float] | None:
    if table is None or "region" not in table:
        return None
    lams = sorted_floats(table.loc[table["region"] == "critical", "lambda"])
    return (lams[0], lams[-1]) if lams else None


def convergence_time(tables, summary, analysis_json, params, **_):
    etas = sorted_floats(summary["noise_rate"]) if not summary.empty else []
    fig, axes = style.figure(ncols=max(len(etas), 1), width=style.TEXT, height=2.6, sharey=True)
    if not etas:
        style.no_data(axes[0, 0])
        return fig
    band = _critical_band(tables.get("table"))
    threshold = params.get("convergence_threshold", 0.2)
    axes_top = 0.0  # shared y axis: the tallest panel sets the range
    for ax, eta in zip(axes[0], etas):
        s = rows_of(summary, noise_rate=eta).groupby("lambda", as_index=False).first()
        if band:
            ax.axvspan(band[0] - 0.005, band[1] + 0.005, label="critical region", **style.CRITICAL_BAND)
        conv = s["convergence_epoch_mean"].notna()
        plotted = bool(conv.any())
        if conv.any():
            style.mean_std_line(ax, s.loc[conv, "lambda"], s.loc[conv, "convergence_epoch_mean"],
                                s.loc[conv, "convergence_epoch_std"], marker="o", color=style.colour(0),
                                label=f"convergence epoch (error < {threshold:g})")
        relax = "relax_efold_epoch_mean"
        if relax in s and s[relax].notna().any():
            ok = s[relax].notna()
            plotted = True
            style.mean_std_line(ax, s.loc[ok, "lambda"], s.loc[ok, relax], s.loc[ok, "relax_efold_epoch_std"],
                                marker="s", color=style.colour(1), label="relaxation time at constant lr (1/e)")
            for _, row in s[ok].iterrows():  # a mean over fewer runs than the cell has: say how many relaxed
                if row["relax_efold_epoch_count"] < row["test_error_count"]:
                    ax.annotate(f"{int(row['relax_efold_epoch_count'])}/{int(row['test_error_count'])} relax",
                                (row["lambda"], row[relax]), xytext=(5, -2), textcoords="offset points",
                                fontsize=5.5, color=style.colour(1), va="top")
        ticks = {}  # λ tick labels carry converged runs / runs where not all converged (never on the data)
        for _, row in s.iterrows():
            n, k = row.get("test_error_count"), row.get("convergence_epoch_count")
            partial = pd.notna(n) and pd.notna(k) and k < n
            ticks[float(row["lambda"])] = f"{row['lambda']:g}" + (f"\n{int(k)}/{int(n)}" if partial else "")
        ax.set_xticks(list(ticks), list(ticks.values()))
        lams = sorted_floats(s["lambda"])
        ax.set_xlim(lams[0] - 0.02, lams[-1] + 0.02)
        if not plotted:
            ax.text(0.5, 0.5, "no data", transform=ax.transAxes, ha="center", color="0.4")
        ax.set_title(f"Convergence time, {style.percent(eta)}")
        ax.set_xlabel(style.LAMBDA)
        top = np.nanmax(np.r_[0.0, (s["convergence_epoch_mean"] + s["convergence_epoch_std"].fillna(0)).to_numpy(),
                              (s[relax] + s["relax_efold_epoch_std"].fillna(0)).to_numpy() if relax in s else []])
        entry = next((e for e in analysis_json.get("per_noise_rate", [])
                      if e.get("noise_rate") is not None and abs(e["noise_rate"] - eta) < 1e-9), {})
        milestone = entry.get("convergence_at_milestone") or {}
        drops = _lr_drops(tables.get("dynamics")) if tables.get("dynamics") is not None else []
        for k, e in enumerate(drops):
            ax.axhline(e + 0.5, color="0.6", linewidth=0.6, linestyle=":",
                       label="first epoch after a learning-rate drop" if k == 0 else None)
        top = max([top, *(e + 0.5 for e in drops)])
        notes = []
        factor, ci = entry.get("slowing_down_relaxation", {}).get("factor"), entry.get("relaxation_factor_interval")
        if factor is not None and ci and ci[0] is not None:
            notes.append(f"relaxation critical/ordered: {factor:.2f} [{ci[0]:.2f}, {ci[1]:.2f}] (95% CI)")
        if milestone.get("flagged"):
            notes.append(f"{milestone['share_at_milestone']:.0%} of converged runs converge ≤ "
                         f"{milestone['window']} epochs after an lr drop")
        if not conv.any():
            notes.append(f"no run reached error < {threshold:g}")
        if (s["convergence_epoch_count"] < s["test_error_count"]).any():
            notes.append("k/n under λ: runs converged")
        # Headroom above the data and the lr-drop lines for the notes (about 8% of the height a line).
        headroom = 1.15 + 0.09 * len(notes)
        ax.set_ylim(0, max(axes_top, top * headroom if np.isfinite(top) and top > 0 else 10))
        axes_top = ax.get_ylim()[1]
        if notes:
            ax.text(0.99, 0.98, "\n".join(notes), transform=ax.transAxes, ha="right", va="top", fontsize=6,
                    color="0.3")
    axes[0, 0].set_ylabel("Epoch")
    labelled = {}
    for ax in axes[0]:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            labelled.setdefault(label, handle)
    if labelled:
        style.figure_legend(fig, labelled.values(), labelled.keys(), fontsize=7)
    return fig


FIGURES = {"learning_curves": learning_curves, "convergence_time": convergence_time}
