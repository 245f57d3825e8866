"""Small table helpers the figure modules share."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..analysis.stats import ordered_unique  # noqa: F401  (re-exported for the figure modules)


def rows_of(df: pd.DataFrame, **equal) -> pd.DataFrame:
    """Rows where each named column equals the value (floats compared with a tolerance)."""
    keep = np.ones(len(df), dtype=bool)
    for col, value in equal.items():
        if isinstance(value, float):
            keep &= np.isclose(pd.to_numeric(df[col], errors="coerce"), value, rtol=0, atol=1e-9)
        else:
            keep &= (df[col] == value).to_numpy()
    return df[keep]


def sorted_floats(values) -> list[float]:
    return sorted({round(float(v), 9) for v in values if v is not None and not pd.isna(v)})


def move_texts_off_data(ax, texts, half_width: float = 0.46) -> None:
    """Slide each text that a data line crosses to the left or right edge of its cell (heatmap cells
    are 1 wide in data units), whichever side the line leaves free."""
    from .layout import data_shapes

    fig = ax.figure
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    shapes = data_shapes(ax)

    def crossed(text) -> bool:
        box = text.get_window_extent(renderer)
        return any(s.touches(box) for s in shapes)

    for text in texts:
        if not crossed(text):
            continue
        x, y = text.get_position()
        for ha, nx in (("left", x - half_width), ("right", x + half_width)):
            text.set_horizontalalignment(ha)
            text.set_x(nx)
            if not crossed(text):
                break
