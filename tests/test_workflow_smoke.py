"""The whole DAG at smoke scale with real Snakemake: every run, table, figure and the report."""

import json

import pandas as pd
import pytest

from conftest import validate_run
from dualgrad.plan import FIGURES
from workflow_helpers import copy_workflow, snakemake

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    folder = copy_workflow(tmp_path_factory.mktemp("smoke"))
    snakemake("--cores", "2", "--workflow-profile", "none", "--configfile", "config/smoke.yaml", cwd=folder,
              timeout=1200)
    return folder


def test_every_run_json_is_valid(smoke):
    runs = sorted((smoke / "results" / "smoke").glob("**/*.json"))
    results = [json.loads(p.read_text()) for p in runs
               if ("/runs/" in str(p) or "/hysteresis/" in str(p)) and "/checkpoints/" not in str(p)]
    assert len(results) == 20
    for result in results:
        validate_run(result)
        if result["status"] == "ok":
            assert result["provenance"]["labels"]["noisy_labels_sha256"]
            assert result["provenance"]["versions"]["torch"].startswith("2.14.1")


def test_every_experiment_has_tables_summary_analysis_and_figures(smoke):
    root = smoke / "results" / "smoke"
    for exp in ("P", "K", "B2", "B3", "A", "C", "N", "V3"):
        table = pd.read_csv(root / exp / "tables" / "table.csv")
        assert len(table) > 0 and pd.read_csv(root / exp / "tables" / "missing.csv").empty
        assert len(pd.read_csv(root / exp / "summary.csv")) > 0
        json.loads((root / exp / "analysis.json").read_text())
    analysis = {exp: json.loads((root / exp / "analysis.json").read_text()) for exp in ("K",)}
    assert analysis["K"]
    for exp, kind in (("P", "universality"), ("K", "dynamics"), ("N", "phase"), ("V3", "hysteresis")):
        for name in FIGURES[kind]:
            for ext in ("png", "pdf"):
                assert (root / exp / "figures" / f"{name}.{ext}").stat().st_size > 1000


def test_dynamics_are_long_form(smoke):
    dynamics = pd.read_csv(smoke / "results" / "smoke" / "K" / "tables" / "dynamics.csv")
    assert set(dynamics["epoch"]) == {1, 2}
    assert len(dynamics) == 2 * dynamics["run"].nunique()


def test_report_builds_with_every_figure(smoke):
    report = smoke / "report.html"
    snakemake("--workflow-profile", "none", "--configfile", "config/smoke.yaml", "--report", report, cwd=smoke,
              timeout=600)
    html = report.read_text(errors="replace")
    assert report.stat().st_size > 10_000
    for name in ("error_vs_lambda", "learning_curves", "phase_diagram", "hysteresis", "ablation"):
        assert name in html
