"""The table of every run (dualgrad.runs_table): one row per run and experiment, settings as
config.*, metrics, provenance; Parquet and CSV that pandas reads back the same."""

import json

import pandas as pd

from dualgrad.runs_table import collect_runs, main


def write_run(results, run, lam, status="ok"):
    path = results / f"{run}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({
        "status": status, "run_id": run.replace("/", "_"), "algorithm_version": "1", "test_error": 0.25 + lam,
        "test_acc": 0.75 - lam, "config": {"arch": "SimpleCNN", "lam": lam, "width": 0.5, "epochs": 3,
                                           "lr": 0.1, "batch_size": 64, "dataset": "synthetic",
                                           "milestones": [1, 2], "label_seed": None},
        "provenance": {"package": {"version": "0.1.0", "commit": "abc", "dirty": False},
                       "versions": {"torch": "2.14.1"}, "device": {"type": "cpu", "name": "x"}, "host": "h",
                       "slurm": {"SLURM_JOB_ID": "42"}, "labels": {"noisy_labels_sha256": "f00"}},
    }))


def plans(tmp_path):
    results = tmp_path / "results"
    write_run(results, "runs/a", 0.2)
    write_run(results, "runs/b", 0.6)
    rows_p = [{"experiment": "P", "run": "runs/a", "kind": "train"},
              {"experiment": "P", "run": "runs/b", "kind": "train"}]
    rows_k = [{"experiment": "K", "run": "runs/a", "kind": "train", "region": "ordered"},
              {"experiment": "K", "run": "runs/never", "kind": "train", "region": "collapse"}]
    files = []
    for name, rows in (("P", rows_p), ("K", rows_k)):
        path = results / name / "tables" / "plan.json"
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps(rows))
        files.append(path)
    return results, files, rows_p + rows_k


def test_one_row_per_run_and_experiment_with_settings_metrics_and_provenance(tmp_path):
    results, _, rows = plans(tmp_path)
    table = collect_runs(rows, results)
    assert len(table) == 4 and not table.duplicated(["run", "experiment"]).any()
    shared = table[table["run"] == "runs/a"].set_index("experiment")
    assert set(shared.index) == {"P", "K"} and shared.loc["K", "region"] == "ordered"
    row = table.set_index(["experiment", "run"]).loc[("P", "runs/b")]
    assert row["config.lam"] == 0.6 and row["config.width"] == 0.5 and row["config.milestones"] == "[1, 2]"
    assert row["test_error"] == 0.85 and row["provenance.slurm_job_id"] == "42"
    assert row["provenance.commit"] == "abc" and row["provenance.noisy_labels_sha256"] == "f00"
    missing = table.set_index("run").loc["runs/never"]
    assert missing["status"] == "missing" and pd.isna(missing["test_error"])


def test_parquet_and_csv_read_back_with_pandas(tmp_path):
    results, plan_files, _ = plans(tmp_path)
    parquet, csv = tmp_path / "out" / "runs.parquet", tmp_path / "out" / "runs.csv"
    assert main(["--results", str(results), "--plans", *map(str, plan_files), "--parquet", str(parquet),
                 "--csv", str(csv)]) == 0
    from_parquet, from_csv = pd.read_parquet(parquet), pd.read_csv(csv)
    assert list(from_parquet.columns) == list(from_csv.columns)
    assert len(from_parquet) == len(from_csv) == 4
    assert from_parquet["config.epochs"].dropna().eq(3).all()
    assert not list((tmp_path / "out").glob(".*.tmp"))  # written under a temporary name, then renamed


def test_experiment_tables_carry_the_settings_that_tell_scales_apart(tmp_path):
    from dualgrad.tidy import collect_tables

    results, _, rows = plans(tmp_path)
    table = collect_tables([r for r in rows if r["experiment"] == "P"], results)["table"]
    assert table[["dataset", "width", "epochs", "lr", "batch_size"]].iloc[0].tolist() == ["synthetic", 0.5, 3, 0.1, 64]
