"""Every figure renders from the paper's imported results, and from partial or no data without failing."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

from conftest import PAPER_RESULTS, REPO
from dualgrad.analysis import analyze
from dualgrad.figures import FIGURES, plot, style
from dualgrad.figures import universality as universality_figures
from dualgrad.importer import import_results
from dualgrad.plan import ANALYSES, build_plan
from dualgrad.tidy import collect_tables

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def plan():
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    return build_plan({**config, "share_runs": False})


@pytest.fixture(scope="module")
def analysed(tmp_path_factory, plan):
    if not PAPER_RESULTS.is_dir():
        pytest.skip(f"the paper's released results are not at {PAPER_RESULTS} (set DUALGRAD_PAPER_RESULTS)")
    results = tmp_path_factory.mktemp("paper")
    import_results(PAPER_RESULTS, REPO / "config.yaml", results)
    out = {}
    for name, exp in plan.experiments.items():
        tables = collect_tables(exp.rows, results)
        out[name] = (tables, *analyze(exp.analysis, tables, exp.params))
    return out


@pytest.fixture
def draft_quality(monkeypatch):
    """Low resolution and Type 3 PDF fonts: the same drawing code, several times faster to save."""
    monkeypatch.setitem(style.RC, "savefig.dpi", 50)
    monkeypatch.setitem(style.RC, "pdf.fonttype", 3)


def _check_written(paths, analysis, out_dir):
    expected = [out_dir / f"{name}.{ext}" for name in FIGURES[analysis] for ext in ("png", "pdf")]
    assert paths == expected
    for path in paths:
        data = path.read_bytes()
        assert len(data) > 500, path
        assert data.startswith(PNG if path.suffix == ".png" else b"%PDF"), path
    assert not list(out_dir.glob(".*tmp*")), "temporary files left behind"


def test_figure_names_cover_every_analysis():
    assert set(FIGURES) == set(ANALYSES)


@pytest.mark.parametrize("name", ["P", "K", "B2", "B3", "A", "C", "N", "V3"])
def test_every_figure_renders_from_the_paper_results(analysed, plan, tmp_path, name):
    exp = plan.experiments[name]
    tables, summary, result = analysed[name]
    extra = {"baselines": analysed["C"][1]} if name == "A" else None
    paths = plot(exp.analysis, tables, summary, result, exp.params, tmp_path, extra)
    _check_written(paths, exp.analysis, tmp_path)


def _subset(tables: dict, keep) -> dict:
    runs = set(tables["table"].loc[keep, "run"])
    return {k: (v[v["run"].isin(runs)] if "run" in v and k != "missing" else v) for k, v in tables.items()}


@pytest.mark.parametrize("name", ["P", "K", "B2", "B3", "A", "C", "N", "V3"])
@pytest.mark.parametrize("variant", ["empty", "one_seed", "first_row"])
def test_figures_render_from_partial_data(analysed, plan, tmp_path, name, variant, draft_quality):
    exp = plan.experiments[name]
    tables = analysed[name][0]
    table = tables["table"]
    keep = {"empty": np.zeros(len(table), dtype=bool),
            "one_seed": (table["seed"] == table["seed"].min()).to_numpy(),
            "half": np.arange(len(table)) % 2 == 0,
            "first_row": np.arange(len(table)) == 0}[variant]
    partial = _subset(tables, keep)
    summary, result = analyze(exp.analysis, partial, exp.params)
    extra = {"baselines": analysed["C"][1].iloc[:3]} if name == "A" else None  # C partial too
    paths = plot(exp.analysis, partial, summary, result, exp.params, tmp_path, extra)
    _check_written(paths, exp.analysis, tmp_path)


def test_figures_render_from_summaries_read_back_from_csv(analysed, plan, tmp_path, draft_quality):
    """The workflow may hand plot() a summary it wrote and read back: NaN instead of None, etc."""
    for name in ("N", "K", "V3"):
        exp = plan.experiments[name]
        tables, summary, result = analysed[name]
        summary.to_csv(tmp_path / "summary.csv", index=False)
        paths = plot(exp.analysis, tables, pd.read_csv(tmp_path / "summary.csv"), result, exp.params,
                     tmp_path / name)
        _check_written(paths, exp.analysis, tmp_path / name)


def test_empty_panel_says_no_data():
    fig = universality_figures.error_vs_lambda(tables={"table": pd.DataFrame()}, summary=pd.DataFrame(),
                                               analysis_json={}, params={})
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert "no data" in texts
    style.plt.close(fig)


def test_unknown_analysis_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="unknown analysis"):
        plot("nope", {}, pd.DataFrame(), {}, {}, tmp_path)


def test_a_reference_band_too_wide_to_inform_is_not_shaded_and_the_legend_says_so():
    import matplotlib.pyplot as plt

    from dualgrad.figures import style

    fig, ax = plt.subplots()
    assert style.reference_band(ax, 0.2, 0.3, color="k") is True
    assert style.reference_band(ax, 0.0, 0.95, color="k") is False  # n = 2: the CI spans the axis
    assert style.reference_band(ax, None, None, color="k") is None
    assert len(ax.patches) == 1
    assert style.band_note([True]) == "band: 95% CI"
    assert "too wide to shade" in style.band_note([False]) and "no CI" in style.band_note([None])
    plt.close(fig)
