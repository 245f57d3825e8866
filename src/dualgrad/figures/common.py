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
