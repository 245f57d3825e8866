"""A run killed with SIGKILL after its 2nd of 4 epochs and restarted with the same command
ends with exactly the metrics of an uninterrupted run; two identical runs agree exactly."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import validate_run
from dualgrad.io import load_sealed

pytestmark = pytest.mark.slow

ARGS = ["--set", "arch=SimpleCNN", "--set", "width=0.5", "--set", "dataset=synthetic", "--set", "n_train=3072",
        "--set", "n_test=512", "--set", "epochs=4", "--set", "batch_size=128", "--set", "milestones=[3]",
        "--set", "lam=0.35", "--set", "eta=0.4", "--set", "seed=3", "--threads", "1"]
METRICS = ("test_acc", "test_error", "best_acc", "best_acc_any_epoch", "convergence_epoch", "avg_cos_struct_value",
           "avg_cos_similarity", "avg_gmix_norm", "dynamics", "first_steps", "steps")


def command(out, ckpt):
    return [sys.executable, "-m", "dualgrad", "train", *ARGS, "--output", str(out), "--checkpoint", str(ckpt)]


def metrics(path):
    result = json.loads(path.read_text())
    validate_run(result)
    return {k: result[k] for k in METRICS}, result


def checkpoint_epochs(path):
    try:
        return load_sealed(path)["epochs_done"]
    except FileNotFoundError:  # not written yet (the file appears atomically, so never torn)
        return 0


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    folder = tmp_path_factory.mktemp("uninterrupted")
    out = folder / "run.json"
    subprocess.run(command(out, folder / "run.ckpt"), check=True, timeout=600, capture_output=True)
    return out


def test_identical_runs_give_identical_metrics(uninterrupted, tmp_path):
    out = tmp_path / "again.json"
    subprocess.run(command(out, tmp_path / "again.ckpt"), check=True, timeout=600, capture_output=True)
    assert metrics(out)[0] == metrics(uninterrupted)[0]


def test_sigkill_after_epoch_two_then_restart_resumes_and_matches(uninterrupted, tmp_path):
    out, ckpt = tmp_path / "run.json", tmp_path / "run.ckpt"
    proc = subprocess.Popen(command(out, ckpt), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while checkpoint_epochs(ckpt) < 2:
        assert proc.poll() is None, "the run ended before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert not out.exists(), "a killed run must not leave a result"
    assert checkpoint_epochs(ckpt) == 2

    restarted = subprocess.run(command(out, ckpt), capture_output=True, text=True, timeout=600, check=True)
    assert "resuming from checkpoint" in restarted.stderr and "after epoch 2" in restarted.stderr
    resumed_metrics, result = metrics(out)
    assert resumed_metrics == metrics(uninterrupted)[0]
    assert [s["start_epoch"] for s in result["provenance"]["segments"]] == [0, 2]
    assert not ckpt.exists(), "the checkpoint is removed once the result is written"
    assert ckpt.with_name("run.ckpt.result.json").read_bytes() == out.read_bytes(), "kept beside the checkpoint"
