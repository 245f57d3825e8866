"""One look for every figure: sizes for a two-column paper, fonts, colours, and drawing helpers.

Importing this module selects matplotlib's Agg backend (no display needed on a
cluster node). Figures are sized in inches at their printed size, so the font
sizes below are the sizes on paper.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Iterable

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

# Printed widths (inches): one column and the full text width of a two-column paper.
COLUMN = 3.4
TEXT = 7.0
DPI = 300

RC = {
    "font.family": "DejaVu Sans",  # has λ and η
    "font.size": 8,
    "axes.titlesize": 9,
    "axes.titleweight": "bold",
    "axes.labelsize": 8,
    "legend.fontsize": 7,
    "legend.frameon": True,
    "legend.framealpha": 0.85,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "grid.linewidth": 0.5,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "lines.linewidth": 1.5,
    "lines.markersize": 4,
    "errorbar.capsize": 2.5,
    "savefig.dpi": DPI,
    "savefig.bbox": "tight",
    "savefig.pad_inches": 0.03,
    "pdf.fonttype": 42,  # embed TrueType: text stays editable and searchable
    "figure.constrained_layout.use": True,
}

# Colour-blind-safe (Okabe–Ito) palette, in a fixed order.
PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000"]
PHASE_COLOURS = {"ordered": "#009E73", "critical": "#E69F00", "collapse": "#D55E00"}
REFERENCE = {"color": "0.35", "linestyle": "--", "linewidth": 1.0}
CHANCE = {"color": "0.5", "linestyle": ":", "linewidth": 1.0}
CRITICAL_BAND = {"color": PHASE_COLOURS["critical"], "alpha": 0.18, "linewidth": 0}
MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*"]

LAMBDA = "λ (value-gradient weight)"
ERROR = "Test error"


def apply() -> None:
    plt.rcParams.update(RC)


def figure(ncols: int = 1, nrows: int = 1, width: float = COLUMN, height: float | None = None, **kwargs):
    """A figure at printed size with an array of axes (always 2-D: axes[row, col])."""
    apply()
    height = height if height is not None else width * 0.62 * nrows / max(ncols, 1) ** 0.5
    fig, axes = plt.subplots(nrows, ncols, figsize=(width, height), squeeze=False, **kwargs)
    return fig, axes


def colour(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


def marker(i: int) -> str:
    return MARKERS[i % len(MARKERS)]


def percent(eta) -> str:
    return f"η = {float(eta) * 100:.0f}%"


def finite(values: Iterable) -> np.ndarray:
    return np.array([np.nan if v is None else float(v) for v in values], dtype=float)


def mean_std_line(ax, x, mean, std=None, *, band: bool = False, **kwargs):
    """Mean with ±std as error bars (or a shaded band); points without a std (one seed) get no bar."""
    x, mean = finite(x), finite(mean)
    std = finite(std) if std is not None else np.full_like(mean, np.nan)
    order = np.argsort(x)
    x, mean, std = x[order], mean[order], std[order]
    if band:
        line, = ax.plot(x, mean, **kwargs)
        ok = np.isfinite(std)
        if ok.any():
            ax.fill_between(x[ok], (mean - std)[ok], (mean + std)[ok], color=line.get_color(), alpha=0.2,
                            linewidth=0)
        return line
    yerr = np.where(np.isfinite(std), std, 0.0) if np.isfinite(std).any() else None
    return ax.errorbar(x, mean, yerr=yerr, **kwargs)


# A reference's 95 % band wider than this (on the error axis) tells nothing a reader can see and
# hides the data under it: it is not shaded, and the legend says so.
BAND_SHADE_MAX = 0.5


def reference_band(ax, lo, hi, **style) -> bool | None:
    """Shade [lo, hi] when it is an informative band: True; False when too wide; None when there is
    no interval (one seed)."""
    if lo is None or hi is None or lo != lo or hi != hi:
        return None
    if float(hi) - float(lo) > BAND_SHADE_MAX:
        return False
    ax.axhspan(float(lo), float(hi), linewidth=0, **style)
    return True


def band_note(shaded: list[bool | None]) -> str:
    """The legend's words for the reference bands drawn (all, some or none shaded)."""
    if all(b is True for b in shaded):
        return "band: 95% CI"
    if all(b is None for b in shaded):
        return "one seed: no CI"
    if not any(shaded):
        return "CI too wide to shade"
    return "band: 95% CI where narrow"


def reference_line(ax, y, label: str | None = None, **style) -> None:
    if y is None or (isinstance(y, float) and math.isnan(y)):
        return
    ax.axhline(float(y), label=label, **{**REFERENCE, **style})


def no_data(ax, message: str = "no data") -> None:
    """Say so in an empty panel instead of leaving it blank or failing."""
    ax.text(0.5, 0.5, message, transform=ax.transAxes, ha="center", va="center", fontsize=9, color="0.4")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)


LEGEND_PLACES = ("upper right", "upper left", "lower left", "lower right", "center right", "center left",
                 "upper center", "lower center")


def legend(ax, loc: str | None = None, **kwargs):
    """The axes' legend where it covers no data: ``loc`` if free, else the first free corner or side,
    else below the axes. A legend anchored by the caller (``bbox_to_anchor``) stays where it is told."""
    from .layout import legend_covers_data

    handles, labels = ax.get_legend_handles_labels()
    if not handles:
        return None
    if "bbox_to_anchor" in kwargs:
        return ax.legend(loc=loc, **kwargs)
    for place in [loc] + [p for p in LEGEND_PLACES if p != loc] if loc else LEGEND_PLACES:
        placed = ax.legend(loc=place, **kwargs)
        if not legend_covers_data(ax, placed):
            return placed
    placed.remove()
    return below(ax, **kwargs)


def below(ax, ncol: int | None = None, **kwargs):
    """The axes' legend under its x label (outside the data area: it never covers data)."""
    fig = ax.figure
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    legend_now = ax.get_legend()
    if legend_now is not None:
        legend_now.remove()
    handles = kwargs.pop("handles", None) or ax.get_legend_handles_labels()[0]
    kwargs.pop("loc", None)
    # As many columns as fit the figure's width: a wider legend makes the layout squeeze the axes.
    for columns in range(ncol or min(len(handles), 3), 0, -1):
        placed = ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.3), ncol=columns, **kwargs)
        if columns == 1 or placed.get_window_extent(renderer).width <= 0.95 * fig.bbox.width:
            break
    # The anchor is in axes fractions and the layout resizes the axes around the legend: place it
    # under the x label again until the layout settles.
    for _ in range(4):
        fig.canvas.draw()
        placed.set_in_layout(False)
        bottom = ax.get_tightbbox(renderer).y0
        placed.set_in_layout(True)
        y = ax.transAxes.inverted().transform((0, bottom))[1] - 0.02
        old_y = placed.get_bbox_to_anchor().transformed(ax.transAxes.inverted()).y0
        placed.set_bbox_to_anchor((0.5, y), transform=ax.transAxes)
        if abs(old_y - y) < 0.005:
            break
    return placed


def figure_legend(fig, handles, labels=None, ncol: int | None = None, **kwargs):
    """One legend under all panels ("outside lower center"), in as many columns as fit the
    figure's width (at most ``ncol``): a legend wider than the figure widens the saved image past
    its printed size."""
    labels = list(labels) if labels is not None else [h.get_label() for h in handles]
    handles = list(handles)
    renderer = fig.canvas.get_renderer()
    placed = None
    for columns in range(min(ncol or len(handles), len(handles)), 0, -1):
        if placed is not None:
            placed.remove()
        placed = fig.legend(handles, labels, loc="outside lower center", ncol=columns, **kwargs)
        if columns == 1 or placed.get_window_extent(renderer).width <= 0.98 * fig.bbox.width:
            break
    return placed


def seeds_note(summary, count: str = "test_error_count", bars: str = "bars ±1 std over seeds (ddof=1)") -> str | None:
    """'n = 3 seeds per point; bars ±1 std over seeds (ddof=1)' from a summary's count column."""
    if summary is None or count not in summary or summary[count].dropna().empty:
        return None
    n = summary[count].dropna().astype(int)
    lo, hi = int(n.min()), int(n.max())
    seeds = f"n = {lo} seed{'s' if hi != 1 else ''}" if lo == hi else f"n = {lo}–{hi} seeds"
    return f"{seeds} per point; " + (bars if hi > 1 else "one seed: no error bars")


def curves_legend(fig, colours: dict, seeds=None, lr_drops: bool = False) -> None:
    """One legend under a grid of learning-curve panels: a colour per λ, what thin and thick lines
    are, and the learning-rate drops."""
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], color=c, linewidth=1.6, label=f"λ = {lam:g}") for lam, c in colours.items()]
    n = sorted({int(v) for v in seeds}) if seeds is not None and len(seeds) else []
    n_text = "" if not n else f" (n = {n[0]})" if len(n) == 1 else f" (n = {n[0]}–{n[-1]})"
    handles += [Line2D([], [], color="0.3", linewidth=0.5, alpha=0.6, label="thin: one seed"),
                Line2D([], [], color="0.3", linewidth=1.6, label=f"thick: mean over seeds{n_text}")]
    if lr_drops:
        handles.append(Line2D([], [], color="0.6", linewidth=0.6, linestyle=":", label="learning-rate drop"))
    if colours:
        figure_legend(fig, handles, ncol=6, fontsize=6.5)


def error_ylim(ax, lo: float = 0.0, hi: float = 1.0, margin: float = 0.02) -> None:
    """Error axis [lo, hi], widened where a mean, error bar or band reaches beyond it (never clip one)."""
    from .layout import data_shapes

    ys = [s.data_xy[:, 1] for s in data_shapes(ax) if s.data_xy is not None and len(s.data_xy)]
    ys = np.concatenate(ys) if ys else np.array([])
    ys = ys[np.isfinite(ys)]
    top = max(hi, float(ys.max()) + margin) if ys.size and ys.max() > hi else hi
    bottom = min(lo, float(ys.min()) - margin) if ys.size and ys.min() < lo else lo
    ax.set_ylim(bottom, top)


def save(fig, out_dir: Path, name: str) -> list[Path]:
    """``<out_dir>/<name>.png`` and ``.pdf``; closes the figure."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / f"{name}.png", out_dir / f"{name}.pdf"]
    for path in paths:
        tmp = path.with_name(f".{path.stem}.tmp{path.suffix}")
        fig.savefig(tmp)
        tmp.replace(path)  # never a half-written figure at the final path
    plt.close(fig)
    return paths
