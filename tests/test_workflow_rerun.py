"""Rerun semantics with the real snakemake on a private copy of the workflow.

One tiny experiment is trained for real; then edits to the config and to package sources are
followed by dry runs that must schedule exactly the expected jobs.
"""

import json
import os
import time

import pytest
import yaml

from workflow_helpers import copy_workflow, job_counts, p_only_overlay, snakemake

pytestmark = pytest.mark.slow

TINY = p_only_overlay("results/tiny", {"arch": ["SimpleCNN"], "lam": [0.2, 0.6], "eta": [0.4], "seed": [0]},
                      gpus_per_job=0, n_train=128, epochs=1)


def write_overlay(folder, **changes):
    overlay = yaml.safe_load(yaml.safe_dump(TINY))
    for dotted, value in changes.items():
        node = overlay
        *parents, last = dotted.split(".")
        for key in parents:
            node = node[key]
        node[last] = value
    path = folder / "tiny.yaml"
    path.write_text(yaml.safe_dump(overlay))
    return path


def touch_later(path, text=None):
    """Edit (or touch) a file so that its mtime is surely newer than the outputs."""
    time.sleep(1.1)
    if text is not None:
        path.write_text(path.read_text() + text)
    os.utime(path)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    folder = copy_workflow(tmp_path_factory.mktemp("workflow"))
    overlay = write_overlay(folder)
    snakemake("--cores", "2", "--workflow-profile", "none", "--configfile", overlay, cwd=folder)
    return folder


def dry_run(folder, *extra, overlay=None):
    overlay = overlay or write_overlay(folder)
    proc = snakemake("-n", "--cores", "2", "--workflow-profile", "none", "--configfile", overlay, *extra, cwd=folder)
    return job_counts(proc), proc.stdout + proc.stderr


def test_nothing_to_do_after_a_complete_run(built):
    counts, _ = dry_run(built)
    assert counts == {}


def test_touching_a_training_module_reruns_nothing(built):
    touch_later(built / "src" / "dualgrad" / "step.py", "\n# a comment that keeps the maths\n")
    touch_later(built / "src" / "dualgrad" / "train.py")
    counts, _ = dry_run(built)
    assert counts == {}


def test_changing_a_plotting_function_reruns_only_figures(built):
    module = sorted((built / "src" / "dualgrad" / "figures").glob("*.py"))[-1]
    touch_later(module, "\n\ndef _unused_helper():\n    return None\n")
    counts, _ = dry_run(built)
    assert set(counts) == {"figures_P", "all"}


def test_adding_a_grid_value_adds_only_that_run(built):
    overlay = write_overlay(built, **{"experiments.P.grid.lam": [0.2, 0.4, 0.6]})
    counts, text = dry_run(built, overlay=overlay)
    assert counts["train"] == 1 and "lam~0.4" in text
    assert set(counts) <= {"train", "run_table", "tables", "analyze", "figures_P", "report_section", "runs_table",
                           "all"}


def test_changing_one_runs_settings_reruns_exactly_that_run(built):
    overlay = write_overlay(built, **{"experiments.P.grid.lam": [0.2, 0.6],
                                      "experiments.P.conditions": {"a": {"lam": [0.2]}, "b": {"lam": [0.6],
                                                                                               "K": 4}}})
    counts, text = dry_run(built, overlay=overlay)
    assert counts["train"] == 1 and "K~4" in text


def test_bumping_the_algorithm_version_reruns_all_training(built):
    init = built / "src" / "dualgrad" / "__init__.py"
    original = init.read_text()
    init.write_text(original.replace('ALGORITHM_VERSION = "1"', 'ALGORITHM_VERSION = "2"'))
    try:
        counts, text = dry_run(built)
        assert counts["train"] == 2 and "Params have changed" in text
        figures_only, text = dry_run(built, "--config", "figures_only=true")
        assert "train" not in figures_only
    finally:
        init.write_text(original)


def test_figures_only_uses_what_exists_and_names_what_is_missing(built):
    overlay = write_overlay(built, **{"experiments.P.grid.lam": [0.2, 0.6, 0.8]})
    proc = snakemake("--cores", "2", "--workflow-profile", "none", "--configfile", overlay,
                     "--config", "figures_only=true", cwd=built)
    text = proc.stdout + proc.stderr
    assert "train" not in job_counts(snakemake("-n", "--workflow-profile", "none", "--configfile", overlay,
                                               "--config", "figures_only=true", "--forceall", cwd=built))
    assert "2 of 3 runs have results" in text
    missing = (built / "results" / "tiny" / "P" / "tables" / "missing.csv").read_text()
    assert "lam~0.8" in missing
    assert (built / "results" / "tiny" / "P" / "figures" / "error_vs_lambda.png").stat().st_size > 0


def test_torn_run_json_is_named_in_figures_only_mode_and_retrained_by_a_normal_run(built):
    results = built / "results" / "tiny"
    run = next(p for p in (results / "runs").rglob("*.json") if "/lam~0.2/" in str(p))
    metrics = ("test_acc", "dynamics", "first_steps", "steps")
    before = json.loads(run.read_text())
    run.write_text(run.read_text()[:300])  # in place: the copy kept beside the checkpoint is torn too
    overlay = write_overlay(built)
    proc = snakemake("--cores", "2", "--workflow-profile", "none", "--configfile", overlay,
                     "--config", "figures_only=true", cwd=built)
    rel = run.relative_to(built)
    assert f"damaged run result {rel} (torn or not JSON" in proc.stdout + proc.stderr
    missing = (results / "P" / "tables" / "missing.csv").read_text()
    assert "lam~0.2" in missing and "damaged: torn or not JSON" in missing
    proc = snakemake("--cores", "2", "--workflow-profile", "none", "--configfile", overlay, cwd=built)
    text = proc.stdout + proc.stderr
    assert f"set aside as {run.name}.damaged" in text and job_counts(proc)["train"] == 1
    after = json.loads(run.read_text())
    assert {k: after[k] for k in metrics} == {k: before[k] for k in metrics}
    log = results / "logs" / run.relative_to(results).with_suffix(".log")
    assert "kept result" in log.read_text() and "epoch   1/1" in log.read_text()
