"""What the HTML report says about one experiment: its numbers, verdicts and summary table (one
self-contained HTML page), and the captions of its figures (RST, with n, what bars and bands are,
and the experiment's numbers). Generated from the experiment's summary.csv and analysis.json.

The analysis JSON is rendered generically: every field an analysis writes (today's or one added
later) shows up, scalars as rows, records as tables, nested mappings as nested rows.
"""

from __future__ import annotations

import html
import math
from typing import Any

import pandas as pd

TITLES = {  # analysis type -> what the experiment shows (the report's category names)
    "universality": "architecture universality",
    "dynamics": "learning dynamics and critical slowing down",
    "anti_aligned": "anti-aligned value labels",
    "ablation": "ablation: direction vs step size",
    "sweep": "main λ sweep",
    "baselines": "baselines",
    "phase": "phase diagram λ × η",
    "hysteresis": "hysteresis",
    "comparison": "rebuild vs reference",
}
HEADER_KEYS = ("analysis", "params", "std_ddof")  # shown in the page's header, not among the numbers
COUNT_KEYS = ("n_runs", "n_missing", "status_counts", "imported_runs")  # in the page's header, not in captions
VERDICT_WORDS = ("verdict", "universal", "two_branch", "slowing", "phase", "collapse", "matches", "decided",
                 "accepted", "rejected", "significant")

FIGURE_TEXT = {
    "error_vs_lambda": "Final test error against λ per architecture; markers are seed means, error bars ±1 std "
                       "over seeds (ddof=1).",
    "learning_curves": "Test error per epoch for each λ (rows: noise rate η, columns: λ region); thin lines are "
                       "single seeds, thick lines their mean; dotted verticals mark the learning-rate drops.",
    "convergence_time": "First epoch with test error below the convergence threshold, per λ and η (mean ± std over "
                        "the seeds that converged; k/n says how many did); the shaded band is the critical region; "
                        "squares are the relaxation time at constant learning rate.",
    "anti_aligned": "Final test error against λ with anti-aligned value labels (y+1) mod 10, per η (mean ± std "
                    "over seeds); horizontal lines are the CE baselines per η and chance.",
    "ablation": "Per condition: final test error, mean ‖g_mix‖ and mean cos(g_struct, g_value) over the first "
                "logged steps, against λ (mean ± std over seeds for the error; means for the gradient panels).",
    "main_sweep": "Final test error against λ per η (mean ± std over seeds); horizontal lines are exp C's baselines "
                  "(line style: baseline, colour: η).",
    "baselines": "Final test error per baseline condition and η (bars: mean over seeds, whiskers ±1 std).",
    "phase_diagram": "Mean final test error over λ × η with each cell's phase label; the black line is the "
                     "critical line λ_c(η), where the mean error crosses the collapse threshold (interpolated).",
    "phase_curves": "Final test error against λ per η (mean ± std over seeds); triangles mark λ_c(η).",
    "hysteresis": "Error along the λ sweeps from the ordered start (λ ascending) and the collapsed start "
                  "(λ descending); lines are means over the swept seeds, bands ±1 std; the arrow is the gap.",
    "comparison": "Rebuilt against reference cell means, and each cell's difference in combined standard errors.",
}


# ------------------------------------------------------------------ formatting
def fmt(value: Any) -> str:
    """A number at 4 significant digits (integers as they are), None/NaN as '—'."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _is_verdict(key: str) -> bool:
    return any(word in key.lower() for word in VERDICT_WORDS)


def _records_table(records: list[dict]) -> str:
    columns: list[str] = []
    for r in records:
        columns += [k for k in r if k not in columns]
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{_value_html(r.get(c))}</td>" for c in columns) + "</tr>"
                   for r in records)
    return f"<table class='records'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _value_html(value: Any) -> str:
    if isinstance(value, dict):
        if value and all(isinstance(v, dict) for v in value.values()):
            return _records_table([{"": k, **v} for k, v in value.items()])
        return "<table class='nested'>" + "".join(
            f"<tr><th>{html.escape(str(k))}</th><td>{_value_html(v)}</td></tr>" for k, v in value.items()) + "</table>"
    if isinstance(value, list):
        if value and all(isinstance(v, dict) for v in value):
            return _records_table(value)
        return html.escape(", ".join(fmt(v) for v in value)) or "—"
    return html.escape(fmt(value))


def numbers_html(analysis: dict) -> str:
    """Every field of an analysis JSON as a table row (verdict-like fields first and marked)."""
    keys = [k for k in analysis if k not in HEADER_KEYS]
    keys.sort(key=lambda k: (not _is_verdict(k), isinstance(analysis[k], (dict, list))))
    rows = []
    for key in keys:
        cls = " class='verdict'" if _is_verdict(key) else ""
        rows.append(f"<tr{cls}><th>{html.escape(key)}</th><td>{_value_html(analysis[key])}</td></tr>")
    return "<table class='numbers'>" + "".join(rows) + "</table>"


def summary_html(summary: pd.DataFrame) -> str:
    if summary is None or summary.empty:
        return "<p>No run has a result yet: the summary is empty.</p>"
    table = summary.drop(columns=[c for c in ("std_ddof",) if c in summary])
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in table.columns)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(fmt(_plain(v)))}</td>" for v in row) + "</tr>"
                   for row in table.itertuples(index=False))
    return f"<table class='summary'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _plain(value):
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e6 and not math.isnan(value):
        return value  # kept as float: 0.0 stays '0' via fmt
    return value


STYLE = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;font-size:13px;margin:12px;color:#222}
h2{font-size:16px;margin:0 0 6px} h3{font-size:14px;margin:14px 0 4px}
table{border-collapse:collapse;margin:4px 0} th,td{border:1px solid #ddd;padding:2px 6px;text-align:left;
vertical-align:top} thead th{background:#f3f3f3;position:sticky;top:0} tr.verdict>th{color:#8a4b00}
tr.verdict>td{font-weight:600} table.summary td{font-variant-numeric:tabular-nums;text-align:right}
p.meta{color:#555;margin:2px 0 8px}
table.numbers td, table.nested td{max-width:80ch;overflow-wrap:break-word} th{white-space:nowrap}
"""


def results_page(experiment: str, analysis_type: str, summary: pd.DataFrame, analysis: dict) -> str:
    """One self-contained HTML page: header, key numbers and verdicts, the summary table."""
    title = f"{experiment} · {TITLES.get(analysis_type, analysis_type)}"
    params = analysis.get("params") or {}
    settings = ", ".join(f"{k} = {fmt(v) if not isinstance(v, (dict, list)) else v}" for k, v in params.items())
    meta = (f"{fmt(analysis.get('n_runs'))} runs with results, {fmt(analysis.get('n_missing'))} missing; "
            f"std over seeds with ddof = {fmt(analysis.get('std_ddof'))}." + (f" Settings: {settings}." if settings
                                                                                else ""))
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{STYLE}</style></head><body><h2>{html.escape(title)}</h2>"
            f"<p class='meta'>{html.escape(meta)}</p><h3>Numbers and verdicts (analysis.json)</h3>"
            f"{numbers_html(analysis)}<h3>Summary table (summary.csv)</h3>{summary_html(summary)}</body></html>")


# ------------------------------------------------------------------ captions
def seeds_per_point(summary: pd.DataFrame) -> str:
    counts = [c for c in summary.columns if c.endswith("_count")] if summary is not None else []
    if not counts or summary.empty:
        return "no run has a result yet"
    n = pd.to_numeric(summary[counts[0]], errors="coerce").dropna()
    if n.empty:
        return "no run has a result yet"
    lo, hi = int(n.min()), int(n.max())
    return f"n = {lo} seed{'s' if lo != 1 else ''} per point" if lo == hi else f"n = {lo}–{hi} seeds per point"


def headline_numbers(analysis: dict, limit: int = 8) -> str:
    """The analysis' scalar verdicts and numbers as one sentence (nested values are in the results page)."""
    parts = []
    params = analysis.get("params") or {}
    for key, value in analysis.items():
        if key in HEADER_KEYS or key in COUNT_KEYS or key in params or value is None or isinstance(value, list):
            continue
        if isinstance(value, dict):
            if not value or any(isinstance(v, (dict, list)) for v in value.values()):
                continue
            value = ", ".join(f"{k}: {fmt(v)}" for k, v in value.items())
        parts.append(f"{key} = {fmt(value)}")
    parts.sort(key=lambda p: not _is_verdict(p.split(" = ")[0]))
    return "; ".join(parts[:limit])


def _rst_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("*", "\\*").replace("`", "\\`").replace("_", "\\_").replace("|", "\\|")


def figure_caption(experiment: str, analysis_type: str, figure: str, summary: pd.DataFrame, analysis: dict) -> str:
    """RST caption of one figure: what it draws, n, and the experiment's numbers."""
    title = f"{experiment} · {TITLES.get(analysis_type, analysis_type)}"
    text = FIGURE_TEXT.get(figure, "")
    numbers = headline_numbers(analysis)
    out = f"**{_rst_escape(title)}.** {_rst_escape(text)} {_rst_escape(seeds_per_point(summary))}."
    if numbers:
        out += f" Numbers: {_rst_escape(numbers)}."
    out += " The experiment's full numbers, verdicts and summary table are its *results* item."
    return out + "\n"


def captions(experiment: str, analysis_type: str, figures: list[str], summary: pd.DataFrame,
             analysis: dict) -> dict[str, str]:
    return {name: figure_caption(experiment, analysis_type, name, summary, analysis) for name in figures}
