"""No legend or text over the data, no bar or band clipped: every figure of the paper import and of the
demo, checked in display coordinates (dualgrad.figures.layout), and the check shown to fail on figures
built to overlap."""

import os

import numpy as np
import pandas as pd
import pytest
import yaml

from dualgrad.analysis import analyze
from dualgrad.cli import main
from dualgrad.figures import layout, style
from dualgrad.plan import build_plan
from dualgrad.tidy import collect_tables, write_tables
from workflow_helpers import REPO, deep_merge

DEMO_RESULTS = os.environ.get("DUALGRAD_DEMO_RESULTS", str(REPO / "results" / "demo"))


def _plan(*overlays):
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    for overlay in overlays:
        deep_merge(config, yaml.safe_load((REPO / overlay).read_text()))
    return build_plan(config)


def _assert_clean(report: dict[str, list[str]]):
    assert report, "no figure was drawn"
    bad = {name: found for name, found in report.items() if found}
    assert not bad, "\n".join(f"{name}: {p}" for name, found in bad.items() for p in found)


# ------------------------------------------------------------------ the check can fail
def test_legend_over_a_line_is_found():
    fig, axes = style.figure()
    ax = axes[0, 0]
    ax.plot([0, 1], [0.9, 0.9], label="data near the top")
    ax.set_ylim(0, 1)
    ax.legend(loc="upper right")
    found = layout.problems(fig)
    assert any("legend" in p and "overlaps" in p for p in found), found


def test_text_over_markers_and_figure_legend_over_data_are_found():
    fig, axes = style.figure(ncols=2)
    axes[0, 0].plot([0.5], [0.5], marker="o", linestyle="none")
    axes[0, 0].text(0.5, 0.5, "on the point", ha="center")
    axes[0, 1].errorbar(np.linspace(0, 1, 11), np.full(11, 0.5), yerr=0.3, label="x")
    fig.legend(loc="center", bbox_to_anchor=(0.75, 0.5))  # in the middle of the right panel, over its data
    found = layout.problems(fig)
    assert any("text 'on the point' overlaps" in p for p in found), found
    assert any("figure legend overlaps" in p for p in found), found


def test_clipped_error_bar_bar_and_band_are_found():
    fig, axes = style.figure(ncols=3)
    axes[0, 0].errorbar([0.65], [0.74], yerr=[0.28])
    axes[0, 0].set_ylim(0, 1)  # the bar reaches 1.02: clipped
    axes[0, 1].bar([0], [0.8], yerr=[0.3])
    axes[0, 1].set_ylim(0, 1)
    axes[0, 2].fill_between([0, 1], [0.5, 0.5], [1.1, 1.1])
    axes[0, 2].set_ylim(0, 1)
    found = layout.problems(fig)
    assert sum("clipped" in p for p in found) >= 3, found
    style.error_ylim(axes[0, 0])
    style.error_ylim(axes[0, 1])
    style.error_ylim(axes[0, 2])
    assert not layout.problems(fig)


def test_a_legend_wider_than_the_figure_and_a_squeezed_axes_are_found():
    fig, axes = style.figure()
    ax = axes[0, 0]
    # B2's legend before `below` chose its columns: three entries side by side, wider than the figure.
    for i, label in enumerate(["CE, measured (exp C, n=2; CI too wide to shade), η = 40%", "chance",
                               "anti-aligned, η = 40%"]):
        ax.plot([0, 1], [0.1 * i, 0.2], label=label)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=3, fontsize=6)
    found = layout.problems(fig)
    assert any("past the figure" in p for p in found), found
    # A narrow axes beside a wide one: the layout keeps it, but it is a sliver.
    fig, axes = style.figure(ncols=2, width=style.COLUMN, gridspec_kw={"width_ratios": [1, 12]})
    for ax in axes[0]:
        ax.plot([0, 1], [0.1, 0.2])
    found = layout.problems(fig)
    assert any("squeezed" in p for p in found), found
    # `below` picks as many columns as fit: the same entries then pass.
    fig, axes = style.figure()
    ax = axes[0, 0]
    for i, label in enumerate(["CE, measured (exp C, n=2; CI too wide to shade), η = 40%", "chance",
                               "anti-aligned, η = 40%"]):
        ax.plot([0, 1], [0.1 * i, 0.2], label=label)
    style.below(ax, fontsize=6)
    assert layout.problems(fig) == []


def test_a_clean_figure_passes_and_reference_lines_are_not_data():
    fig, axes = style.figure()
    ax = axes[0, 0]
    ax.plot([0, 1], [0.1, 0.2], label="low data")
    style.reference_line(ax, 0.9, label="chance")
    ax.axvspan(0.4, 0.6, alpha=0.2)
    ax.set_ylim(0, 1)
    ax.legend(loc="upper right")  # over the chance line and the span, not over data
    assert layout.problems(fig) == []


def test_legend_helper_moves_off_the_data():
    fig, axes = style.figure()
    ax = axes[0, 0]
    ax.plot(np.linspace(0, 1, 20), np.linspace(0.1, 0.95, 20), label="rising")
    ax.plot(np.linspace(0, 1, 20), np.full(20, 0.9), label="flat high")
    ax.set_ylim(0, 1)
    style.legend(ax, loc="upper left")  # covers 'flat high': must go elsewhere
    assert layout.problems(fig) == []


# ------------------------------------------------------------------ every figure
@pytest.fixture(scope="module")
def paper_tree(tmp_path_factory, paper_results):
    """The paper's results imported, with each experiment's tables, summary and analysis (in process)."""
    from dualgrad import io

    results = tmp_path_factory.mktemp("paper") / "results"
    assert main(["import", str(paper_results), "--workflow-config", str(REPO / "config.yaml"),
                 "--results", str(results)]) == 0
    plan = _plan("config/paper-import.yaml")
    for name, exp in plan.experiments.items():
        tables = collect_tables(exp.rows, results)
        write_tables(tables, results / name / "tables")
        summary, analysis = analyze(exp.analysis, tables, exp.params)
        summary.to_csv(results / name / "summary.csv", index=False)
        io.write_json(results / name / "analysis.json", analysis)
    return results, plan


def test_every_figure_of_the_paper_import_keeps_clear(paper_tree):
    results, plan = paper_tree
    report = layout.check_tree(results, plan)
    assert len(report) == 10
    _assert_clean(report)


def test_every_figure_of_the_demo_keeps_clear():
    if not (pd.io.common.file_exists(f"{DEMO_RESULTS}/P/analysis.json")):
        pytest.skip(f"no demo results at {DEMO_RESULTS} (run `make demo`, or set DUALGRAD_DEMO_RESULTS)")
    report = layout.check_tree(DEMO_RESULTS, _plan("config/demo.yaml"))
    assert len(report) == 10
    _assert_clean(report)
