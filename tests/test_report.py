"""The report: a results page per experiment rendering every analysis field (also ones added later),
captions with n and the experiment's numbers, and `snakemake --report` before any run exists."""

import json

import pandas as pd
import pytest
import yaml

from dualgrad import report
from dualgrad.cli import main
from workflow_helpers import REPO, snakemake

SUMMARY = pd.DataFrame({"model": ["ResNet18", "ResNet18"], "lambda": [0.35, 0.65],
                        "test_error_mean": [0.1143, 0.9], "test_error_std": [0.0015, 0.0],
                        "test_error_count": [3, 3], "std_ddof": [1, 1]})
ANALYSIS = {"analysis": "universality", "params": {"universality_std": 0.1}, "n_runs": 6, "n_missing": 0,
            "std_ddof": 1, "universal": False, "best_lambda": {"ResNet18": 0.35},
            "models": [{"model": "ResNet18", "best_lambda": 0.35, "critical_lambda": 0.55}],
            # a field another analysis adds later: rendered without the report knowing it
            "robust_lambda_c": {"ResNet18": {"estimate": 0.5647, "interval": [0.52, 0.61], "verdict": "undecided"}}}


def test_results_page_renders_every_field_and_the_summary():
    page = report.results_page("P", "universality", SUMMARY, ANALYSIS)
    assert "P · architecture universality" in page
    for text in ("universal", "best_lambda", "critical_lambda", "robust_lambda_c", "0.5647", "0.52, 0.61",
                 "undecided", "0.1143", "test_error_count", "6 runs with results, 0 missing"):
        assert text in page, text
    assert "std_ddof</th>" not in page  # said once in the header, not as a column
    assert "<tr class='verdict'><th>universal</th>" in page


def test_caption_states_n_bars_and_numbers():
    text = report.figure_caption("P", "universality", "error_vs_lambda", SUMMARY, ANALYSIS)
    assert "n = 3 seeds per point" in text and "±1 std" in text
    assert "universal = no" in text and "ResNet18: 0.35" in text
    assert "universality\\_std" not in text  # a setting, not a result
    empty = report.figure_caption("P", "universality", "error_vs_lambda", SUMMARY.iloc[0:0], {})
    assert "no run has a result yet" in empty


def test_report_of_the_full_config_before_any_run(tmp_path):
    proc = snakemake("--report", tmp_path / "report.html", "--workflow-profile", "none", "--config",
                     f"results_dir={tmp_path}/results", timeout=300)
    out = proc.stdout + proc.stderr
    assert "Missing metadata" not in out
    assert "report: 0 of" in out and "Missing (" in out and "Run snakemake" in out
    assert (tmp_path / "report.html").stat().st_size > 10_000


@pytest.mark.slow
def test_report_of_imported_results_has_sections_and_captions(tmp_path, paper_results):
    results = tmp_path / "paper"
    assert main(["import", str(paper_results), "--workflow-config", str(REPO / "config.yaml"),
                 "--results", str(results)]) == 0
    overlay = tmp_path / "two.yaml"  # P and N only: quick
    overlay.write_text(yaml.safe_dump({"experiments": {e: {"enabled": False}
                                                        for e in ("K", "B2", "B3", "A", "C", "V3")}}))
    args = ["--workflow-profile", "none", "--configfile", "config/paper-import.yaml", overlay,
            "--config", f"results_dir={results}"]
    snakemake("--cores", "2", *args, timeout=900)
    page = (results / "P" / "report" / "results.html").read_text()
    assert "best_lambda" in page and "ResNet34" in page
    captions = json.loads((results / "N" / "report" / "captions.json").read_text())
    assert set(captions) == {"phase_diagram", "phase_curves"} and "n = 5 seeds per point" in captions["phase_curves"]
    proc = snakemake("--report", tmp_path / "report.html", *args, timeout=300)
    assert "Missing metadata" not in proc.stdout + proc.stderr
    html = (tmp_path / "report.html").read_text()
    # The report embeds its items as JSON: non-ASCII text appears \u-escaped.
    def shows(text):
        return text in html or json.dumps(text)[1:-1] in html

    assert shows("P · architecture universality") and shows("N · phase diagram λ × η")
    assert shows("n = 5 seeds per point")  # a generated caption made it into the report
    assert not shows("P · architecture universality (not there)")
