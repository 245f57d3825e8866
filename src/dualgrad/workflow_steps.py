"""The workflow's downstream steps behind the CLI: tables, analyze, plot, compare, report-section (torch-free)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from . import io


def run_step(args) -> int:
    return {"tables": _tables, "analyze": _analyze, "plot": _plot, "compare": _compare,
            "report-section": _report_section}[args.command](args)


def _tables(args) -> int:
    from .tidy import collect_tables, write_tables

    rows = io.read_json(args.plan)
    tables = collect_tables(rows, args.results)
    write_tables(tables, args.out_dir)
    missing = tables["missing"]
    if len(missing):
        print(f"warning: {len(missing)} of {len(rows)} runs have no result yet "
              f"(listed in {Path(args.out_dir) / 'missing.csv'}):", file=sys.stderr)
        for run in missing["run"].head(20):
            print(f"  missing {run}", file=sys.stderr)
    return 0


def _analyze(args) -> int:
    from .analysis import analyze
    from .tidy import read_tables

    tables = read_tables(args.tables)
    if args.baselines:
        import pandas as pd

        tables["baselines"] = pd.read_csv(args.baselines)
    summary, analysis = analyze(args.analysis, tables, json.loads(args.params_json))
    tmp = Path(args.summary).with_name(f".{Path(args.summary).name}.tmp")
    summary.to_csv(tmp, index=False)
    tmp.replace(args.summary)
    io.write_json(args.analysis_json, analysis)
    return 0


def _plot(args) -> int:
    import pandas as pd

    from .figures import plot
    from .tidy import read_tables

    extra = {}
    for item in args.extra:
        name, _, path = item.partition("=")
        extra[name] = pd.read_csv(path)
    plot(args.analysis, read_tables(args.tables), pd.read_csv(args.summary), io.read_json(args.analysis_json),
         json.loads(args.params_json), Path(args.out_dir), extra or None)
    return 0


def _compare(args) -> int:
    from . import compare
    from .figures import comparison, style

    rebuilt = compare.read_run_tables(args.rebuilt, args.experiments)
    reference = compare.read_run_tables(args.reference, args.experiments)
    cells = compare.compare(rebuilt, reference, args.level)
    headline = compare.verdict(cells, args.level, rebuilt=str(args.rebuilt), reference=str(args.reference))
    tmp = Path(args.cells).with_name(f".{Path(args.cells).name}.tmp")
    tmp.parent.mkdir(parents=True, exist_ok=True)
    cells.to_csv(tmp, index=False)
    tmp.replace(args.cells)
    io.write_json(args.summary_json, headline)
    for name, draw in comparison.FIGURES.items():
        style.save(draw(cells, headline), Path(args.out_dir), name)
    print(f"{headline['verdict']}: {headline['differ']} of {headline['decided']} shared cells differ at "
          f"p < {args.level:g}, {headline['differ_after_holm']} after Holm; {headline['undecided']} undecided",
          file=sys.stderr)
    return 0


def _report_section(args) -> int:
    import pandas as pd

    from . import report

    summary, analysis = pd.read_csv(args.summary), io.read_json(args.analysis_json)
    page = report.results_page(args.experiment, args.analysis, summary, analysis)
    _write_text(args.html, page)
    io.write_json(args.captions, report.captions(args.experiment, args.analysis, args.figures, summary, analysis))
    return 0


def _write_text(path, text: str) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
