"""Bad input found by trying variants: each exits before any training with the key named, one line
(no traceback), and nothing at the output path."""

import subprocess
import sys

import pytest
import yaml

from storage_helpers import mounted_tmpfs
from workflow_helpers import snakemake

TINY = ["--set", "arch=SimpleCNN", "--set", "dataset=synthetic", "--set", "epochs=1", "--set", "milestones=[]",
        "--quiet"]


def cli(*args, timeout=120):
    return subprocess.run([sys.executable, "-m", "dualgrad", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout)


def assert_rejected(proc, key, status=2):
    err = proc.stdout + proc.stderr
    assert proc.returncode == status, err
    assert f"config key '{key}'" in err, err
    assert "Traceback" not in err, err


@pytest.mark.parametrize("extra,key", [
    (["--threads", "0"], "threads"),
    (["--threads", "-1"], "threads"),
    (["--eval-batch-size", "0"], "eval_batch_size"),
    (["--config-json", "[1, 2]"], "config_json"),
    (["--config-json", '"lam"'], "config_json"),
    (["--set", "epochs=4", "--set", "milestones=[2, 5]"], "milestones"),
    (["--set", "lam_schedule=[0.3, 0.5]", "--set", "epochs_per_lam=2", "--set", "milestones=[5]"], "milestones"),
])
def test_bad_run_option_is_rejected_before_training(tmp_path, extra, key):
    out = tmp_path / "r.json"
    assert_rejected(cli("train", *TINY, *extra, "--output", out), key)
    assert list(tmp_path.iterdir()) == []


def test_milestone_at_the_last_epoch_is_accepted():
    from dualgrad.config import RunConfig

    assert RunConfig.from_dict({"epochs": 4, "milestones": [2, 4]}).milestones == (2, 4)


def test_yaml_syntax_error_names_the_file_and_line(tmp_path):
    bad = tmp_path / "run.yaml"
    bad.write_text("arch: SimpleCNN\nlam: [0.3\nseed: 1\n")
    out = tmp_path / "out" / "r.json"
    proc = cli("train", "--config", bad, "--output", out)
    assert_rejected(proc, "config")
    assert str(bad) in proc.stderr and "line" in proc.stderr
    assert not out.parent.exists()


def test_output_under_a_regular_file_says_so(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    proc = cli("train", *TINY, "--output", blocker / "sub" / "r.json")
    assert_rejected(proc, "output")
    assert f"'{blocker}' is a file, not a folder" in proc.stderr and "File exists" not in proc.stderr
    assert blocker.read_text() == ""


# --------------------------------------------------------------- workflow config (real snakemake)
def workflow_config(tmp_path, results_dir, experiments=None):
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump({"results_dir": str(results_dir),
                                    "experiments": experiments or {"P": {"grid": {"lam": [0.3]}}}}))
    return path


def assert_snakemake_rejects(proc, key):
    text = proc.stdout + proc.stderr
    # The same status as the CLI's bad input (Snakemake's own parse errors end with 1).
    assert proc.returncode == 2, text
    assert f"config key '{key}'" in text, text
    assert "Traceback" not in text, text


def test_empty_grid_is_rejected(tmp_path):
    # A new experiment: an empty grid merged into an existing one would keep that one's keys.
    config = workflow_config(tmp_path, tmp_path / "results", {"Z": {"analysis": "sweep", "grid": {}}})
    proc = snakemake("-n", "--workflow-profile", "none", "--configfile", config, check=False, timeout=120)
    assert_snakemake_rejects(proc, "experiments.Z.grid")
    assert not (tmp_path / "results").exists()


def test_results_dir_under_a_regular_file(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    proc = snakemake("--cores", "1", "--workflow-profile", "none", "--configfile",
                     workflow_config(tmp_path, blocker / "results"), check=False, timeout=120)
    assert_snakemake_rejects(proc, "results_dir")
    assert "is a file, not a folder" in proc.stdout + proc.stderr


def test_results_dir_on_a_read_only_file_system(tmp_path):
    with mounted_tmpfs(tmp_path / "ro", "ro,size=1m") as ro:
        proc = snakemake("--cores", "1", "--workflow-profile", "none", "--configfile",
                         workflow_config(tmp_path, ro / "results"), check=False, timeout=120)
        assert_snakemake_rejects(proc, "results_dir")
        assert "read-only" in proc.stdout + proc.stderr


def test_sweep_names_a_damaged_start_result(tmp_path):
    start = tmp_path / "start.json"
    start.write_text('{"status": "ok", "test_err')
    model = tmp_path / "start.model.pt"
    model.write_bytes(b"")
    out = tmp_path / "sweep.json"
    proc = cli("sweep", *TINY, "--set", "lam_schedule=[0.3]", "--set", "epochs_per_lam=1", "--start-model", model,
               "--require-accepted", start, "--output", out)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert f"'{start}' is damaged (torn or not JSON" in proc.stderr and not out.exists()
