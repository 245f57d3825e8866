"""Does a figure keep its words off its data? Legends and texts against drawn data, in display
coordinates, and axis limits against every drawn bar, error bar and band.

:func:`problems` draws the figure and returns one line per defect:

- a legend (of an axes or of the figure) whose box touches a data line, marker, bar, error bar or
  band of any axes;
- a legend over an axis label or title;
- a text or annotation whose box touches data of its own axes;
- a data point, bar end, error-bar end or band edge outside its axes' view limits (clipped);
- a legend wider than the figure, or an axes with data squeezed below ``MIN_AXES_INCHES`` in
  width or height (a legend too wide for the figure makes the layout shrink the plot to a sliver).

*Data* are what is drawn in data coordinates: lines and markers, error-bar collections, bands
(fill_between) and bars. Reference lines and spans (axhline, axvline, axvspan) span the axes by
design and are not data; images (the phase diagram's heatmap) are the background their cell
texts are written on. Texts of an axes with no data (a 'no data' panel) are not checked.
"""

from __future__ import annotations

import numpy as np
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle
from matplotlib.path import Path
from matplotlib.transforms import Bbox

PAD = 1.0  # display pixels of slack around a box (antialiasing, rounding)
MIN_AXES_INCHES = 0.75  # the narrowest panel of a three-panel column figure is ~1.5 in


def _not_blended(artist, ax) -> bool:
    # axhline/axvline/axvspan use a blended (data, axes) transform: reference marks, not data
    t = artist.get_transform()
    return t != ax.get_xaxis_transform() and t != ax.get_yaxis_transform()


def _marker_radius(line: Line2D, fig) -> float:
    if line.get_marker() in (None, "", "None", " ", "none"):
        return 0.0
    return line.get_markersize() * fig.dpi / 72.0 / 2.0


class _Shape:
    """One drawn data element in display coordinates, and how to test it against a box."""

    def __init__(self, label: str, ax, path=None, points=None, radius: float = 0.0, filled: bool = False,
                 data_xy=None):
        self.label, self.ax, self.path, self.points, self.radius, self.filled = label, ax, path, points, radius, \
            filled
        self.data_xy = data_xy  # vertices in data coordinates, for the clipping check

    def touches(self, box: Bbox) -> bool:
        if self.points is not None and len(self.points):
            grown = box.padded(self.radius + PAD)
            inside = ((self.points[:, 0] >= grown.x0) & (self.points[:, 0] <= grown.x1)
                      & (self.points[:, 1] >= grown.y0) & (self.points[:, 1] <= grown.y1))
            if inside.any():
                return True
        if self.path is not None and len(self.path.vertices) > 1:
            return bool(self.path.intersects_bbox(box.padded(PAD), filled=self.filled))
        return False


def _finite(xy) -> np.ndarray:
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    return xy[np.isfinite(xy).all(axis=1)]


def data_shapes(ax) -> list[_Shape]:
    """Every data element of an axes, in display coordinates."""
    fig = ax.figure
    shapes = []
    for line in ax.lines:
        if not line.get_visible() or not _not_blended(line, ax):
            continue
        xy = _finite(np.column_stack([np.asarray(line.get_xdata(), dtype=float),
                                      np.asarray(line.get_ydata(), dtype=float)]))
        if not len(xy):
            continue
        disp = ax.transData.transform(xy)
        drawn = line.get_linestyle() not in ("None", "none", "", " ")

        shapes.append(_Shape(f"line {line.get_label()!r}", ax, path=Path(disp) if drawn and len(disp) > 1 else None,
                             points=disp, radius=_marker_radius(line, fig), data_xy=xy))
    for coll in ax.collections:
        if not coll.get_visible() or not _not_blended(coll, ax):
            continue
        if isinstance(coll, LineCollection):
            for seg in coll.get_segments():
                xy = _finite(seg)
                if len(xy) > 1:

                    shapes.append(_Shape("error bar", ax, path=Path(ax.transData.transform(xy)), data_xy=xy))
        elif isinstance(coll, PolyCollection):
            for path in coll.get_paths():
                xy = _finite(path.vertices)
                if len(xy) > 2:

                    shapes.append(_Shape("band", ax, path=Path(ax.transData.transform(xy), closed=True),
                                         filled=True, data_xy=xy))
    for patch in ax.patches:
        if isinstance(patch, Rectangle) and patch.get_visible() and _not_blended(patch, ax) \
                and patch.get_transform() == ax.transData and np.isfinite(patch.get_height()):
            x, y, w, h = patch.get_x(), patch.get_y(), patch.get_width(), patch.get_height()
            xy = np.array([[x, y], [x + w, y], [x + w, y + h], [x, y + h]], dtype=float)

            shapes.append(_Shape("bar", ax, path=Path(ax.transData.transform(xy), closed=True), filled=True,
                                 data_xy=xy))
    return shapes


def legend_covers_data(ax, legend) -> bool:
    """Does ``legend`` (just placed) cover a data element of its axes?"""
    fig = ax.figure
    fig.canvas.draw()
    box = legend.get_window_extent(fig.canvas.get_renderer())
    return any(s.touches(box) for s in data_shapes(ax))


def _text_boxes(ax, renderer) -> list[tuple[str, Bbox]]:
    boxes = []
    for text in ax.texts:
        if text.get_visible() and text.get_text().strip():
            boxes.append((f"text {text.get_text().strip()[:40]!r}", text.get_window_extent(renderer)))
    return boxes


def problems(fig) -> list[str]:
    """Every legend/text over data and every clipped data element of ``fig`` (empty: the figure is clean)."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    axes = [ax for ax in fig.axes if ax.get_visible()]
    shapes = {ax: data_shapes(ax) for ax in axes}
    found = []
    legends = [(f"legend of '{ax.get_title()}'", ax.get_legend()) for ax in axes if ax.get_legend() is not None]
    legends += [("figure legend", leg) for leg in fig.legends]
    for name, legend in legends:
        box = legend.get_window_extent(renderer)
        if box.x0 < fig.bbox.x0 - PAD or box.x1 > fig.bbox.x1 + PAD:
            found.append(f"{name} is {box.width / fig.dpi:.2f} in wide, past the figure's "
                         f"{fig.bbox.width / fig.dpi:.2f} in (the layout squeezes or gives up)")
        for ax in axes:
            hit = next((s for s in shapes[ax] if s.touches(box)), None)
            if hit is not None:
                found.append(f"{name} overlaps {hit.label} in '{ax.get_title()}'")
            for what, label in (("x label", ax.xaxis.label), ("y label", ax.yaxis.label), ("title", ax.title)):
                if label.get_visible() and label.get_text().strip() and \
                        box.overlaps(label.get_window_extent(renderer)):
                    found.append(f"{name} overlaps the {what} '{label.get_text()[:30]}' of '{ax.get_title()}'")
    for ax in axes:
        if not shapes[ax]:
            continue
        for name, box in _text_boxes(ax, renderer):
            hit = next((s for s in shapes[ax] if s.touches(box)), None)
            if hit is not None:
                found.append(f"{name} overlaps {hit.label} in '{ax.get_title()}'")
        found += clipped(ax, shapes[ax])
        found += squeezed(ax, fig)
    return found


def squeezed(ax, fig) -> list[str]:
    """The axes, if the layout left it too small to read."""
    box = ax.get_window_extent()
    width, height = box.width / fig.dpi, box.height / fig.dpi
    if min(width, height) < MIN_AXES_INCHES:
        return [f"axes '{ax.get_title()}' squeezed to {width:.2f} x {height:.2f} in "
                f"(under {MIN_AXES_INCHES} in: a legend or label too wide for the figure?)"]
    return []


def clipped(ax, shapes) -> list[str]:
    """Data elements reaching outside the view limits (a bar, error bar or band cut off by the axes)."""
    (x0, x1), (y0, y1) = sorted(ax.get_xlim()), sorted(ax.get_ylim())
    tol_x, tol_y = 1e-9 * max(1.0, abs(x1 - x0)), 1e-9 * max(1.0, abs(y1 - y0))
    out = []
    for s in shapes:
        if s.data_xy is None or not len(s.data_xy):
            continue
        xs, ys = s.data_xy[:, 0], s.data_xy[:, 1]
        if s.label == "bar":  # a bar's base may sit on the axis; its top must be inside
            ys = ys[np.abs(ys) > 0] if (ys == 0).any() else ys
        if (xs < x0 - tol_x).any() or (xs > x1 + tol_x).any() or (ys < y0 - tol_y).any() or (ys > y1 + tol_y).any():
            out.append(f"{s.label} clipped by the limits of '{ax.get_title()}' "
                       f"(x {xs.min():.3g}..{xs.max():.3g} in {x0:.3g}..{x1:.3g}, "
                       f"y {ys.min():.3g}..{ys.max():.3g} in {y0:.3g}..{y1:.3g})")
    return out


def check_tree(results_dir, plan) -> dict[str, list[str]]:
    """Draw every figure of every experiment of ``plan`` from ``results_dir``'s tables, summaries and
    analyses (as the figures rule does) and return each figure's problems."""
    from pathlib import Path as FsPath

    import matplotlib.pyplot as plt
    import pandas as pd

    from .. import io
    from ..tidy import read_tables
    from . import _MODULES

    results_dir = FsPath(results_dir)
    report = {}
    for name, exp in plan.experiments.items():
        folder = results_dir / name
        if not (folder / "analysis.json").is_file():
            continue
        extra = None
        other = exp.params.get("baselines_from")
        if other and (results_dir / other / "summary.csv").is_file():
            extra = {"baselines": pd.read_csv(results_dir / other / "summary.csv")}
        tables = read_tables(folder / "tables")
        summary, analysis = pd.read_csv(folder / "summary.csv"), io.read_json(folder / "analysis.json")
        for figure, draw in _MODULES[exp.analysis].FIGURES.items():
            fig = draw(tables=tables, summary=summary, analysis_json=analysis, params=exp.params, extra=extra)
            report[f"{name}/{figure}"] = problems(fig)
            plt.close(fig)
    return report
