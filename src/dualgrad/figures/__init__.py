"""Figures of each analysis type, as PNG and PDF, in one shared style (:mod:`.style`; Agg backend, no torch).

``plot(analysis, tables, summary, analysis_json, params, out_dir, extra)``
draws every figure of the analysis type (names in :data:`FIGURES`) from the
experiment's tidy tables, its summary and analysis JSON (from
:func:`dualgrad.analysis.analyze`) and writes ``<out_dir>/<name>.png`` and
``.pdf``. Missing runs, one seed (no std) or an empty experiment give sparser
figures or a panel saying 'no data', never an error.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from . import (
    ablation,
    anti_aligned,
    baselines,
    dynamics,
    hysteresis,
    phase,
    size_control,
    style,
    sweep,
    sweep_rate,
    universality,
)

_MODULES = {
    "universality": universality,
    "dynamics": dynamics,
    "anti_aligned": anti_aligned,
    "ablation": ablation,
    "sweep": sweep,
    "baselines": baselines,
    "phase": phase,
    "hysteresis": hysteresis,
    "sweep_rate": sweep_rate,
    "size_control": size_control,
}
FIGURES: dict[str, list[str]] = {analysis: list(module.FIGURES) for analysis, module in _MODULES.items()}


def plot(analysis: str, tables: dict[str, pd.DataFrame], summary: pd.DataFrame, analysis_json: dict, params: dict,
         out_dir: str | Path, extra: dict | None = None) -> list[Path]:
    """Write every figure of ``analysis``; return the paths (PNG and PDF of each)."""
    if analysis not in _MODULES:
        raise ValueError(f"unknown analysis {analysis!r}; known: {', '.join(_MODULES)}")
    summary = summary if summary is not None else pd.DataFrame()
    written = []
    for name, draw in _MODULES[analysis].FIGURES.items():
        fig = draw(tables=tables, summary=summary, analysis_json=analysis_json or {}, params=params or {},
                   extra=extra)
        written += style.save(fig, Path(out_dir), name)
    return written


__all__ = ["FIGURES", "plot"]
