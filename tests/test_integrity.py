"""What a run trusts when it starts again: checkpoints tied to what made them, the kept result of a
finished run, one writer per output, left-over temporary files, damaged caches and full disks.

Each test runs the real CLI on tiny synthetic runs; the reference runs are uninterrupted.
"""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import torch

from dualgrad.io import file_sha256, load_sealed
from storage_helpers import fill, mounted_tmpfs

pytestmark = pytest.mark.slow

RUN = ["--set", "arch=SimpleCNN", "--set", "width=0.25", "--set", "dataset=synthetic", "--set", "n_train=2048",
       "--set", "n_test=128", "--set", "epochs=3", "--set", "batch_size=64", "--set", "milestones=[2]",
       "--set", "lam=0.35", "--set", "eta=0.4", "--set", "seed=1"]
METRICS = ("test_acc", "best_acc", "avg_cos_struct_value", "avg_cos_similarity", "avg_gmix_norm", "dynamics",
           "first_steps", "steps")


@pytest.fixture(scope="module")
def data_root(tmp_path_factory):
    return tmp_path_factory.mktemp("data")


def command(data_root, out, *extra, threads=1, verb="train", run=RUN):
    return [sys.executable, "-m", "dualgrad", verb, *run, "--threads", str(threads), "--data-root", str(data_root),
            "--output", str(out), *map(str, extra)]


def run(data_root, out, *extra, threads=1, check=True, **kw):
    proc = subprocess.run(command(data_root, out, *extra, threads=threads, **kw), capture_output=True, text=True,
                          timeout=600)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def metrics(path):
    result = json.loads(path.read_text())
    return {k: result[k] for k in METRICS}


def epochs_done(ckpt):
    try:
        return load_sealed(ckpt)["epochs_done"]
    except FileNotFoundError:
        return 0


def interrupted(data_root, out, ckpt, *extra, threads=1, **kw):
    """Start a run and SIGKILL it once its checkpoint holds the first epoch."""
    proc = subprocess.Popen(command(data_root, out, "--checkpoint", ckpt, *extra, threads=threads, **kw),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while epochs_done(ckpt) < 1:
        assert proc.poll() is None, "the run ended before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert not out.exists() and 1 <= epochs_done(ckpt) < 3


@pytest.fixture(scope="module")
def reference(data_root, tmp_path_factory):
    """Uninterrupted results at 1 and 2 threads (the numbers differ between them)."""
    folder = tmp_path_factory.mktemp("reference")
    out = {}
    for threads in (1, 2):
        out[threads] = folder / f"threads{threads}.json"
        run(data_root, out[threads], threads=threads)
    return out


def segments(path):
    return json.loads(path.read_text())["provenance"]["segments"]


def test_resume_records_every_segment(data_root, reference, tmp_path):
    out, ckpt = tmp_path / "r.json", tmp_path / "r.ckpt"
    interrupted(data_root, out, ckpt)
    killed_at = epochs_done(ckpt)
    proc = run(data_root, out, "--checkpoint", ckpt)
    assert f"after epoch {killed_at}" in proc.stderr
    assert metrics(out) == metrics(reference[1])
    first, second = segments(out)
    assert (first["start_epoch"], first["end_epoch"], second["start_epoch"], second["end_epoch"]) == (
        0, killed_at, killed_at, 3)
    for seg in (first, second):
        assert seg["threads"] == 1 and seg["device"] == "cpu" and seg["host"] and seg["started"] <= seg["ended"]
    assert first["pid"] != second["pid"]


def test_other_thread_count_restarts_instead_of_mixing(data_root, reference, tmp_path):
    out, ckpt = tmp_path / "r.json", tmp_path / "r.ckpt"
    interrupted(data_root, out, ckpt, threads=2)
    proc = run(data_root, out, "--checkpoint", ckpt, threads=1)
    assert "threads: 2 when it was made, 1 now" in proc.stderr and "starting from scratch" in proc.stderr
    assert metrics(out) == metrics(reference[1])  # exactly the threads-1 run, nothing of the threads-2 start
    assert [(s["start_epoch"], s["threads"]) for s in segments(out)] == [(0, 1)]
    assert metrics(reference[1]) != metrics(reference[2]), "the check matters: thread counts change the numbers"


def test_checkpoint_with_bytes_zeroed_in_the_middle_restarts(data_root, reference, tmp_path):
    out, ckpt = tmp_path / "r.json", tmp_path / "r.ckpt"
    interrupted(data_root, out, ckpt)
    data = bytearray(ckpt.read_bytes())
    middle = len(data) // 2
    data[middle:middle + 64] = bytes(64)
    ckpt.write_bytes(bytes(data))
    proc = run(data_root, out, "--checkpoint", ckpt)
    assert "is damaged (checksum mismatch" in proc.stderr and "starting from scratch" in proc.stderr
    assert metrics(out) == metrics(reference[1])
    assert [s["start_epoch"] for s in segments(out)] == [0]


def start_model(path, seed):
    from dualgrad.models import build_model

    torch.manual_seed(seed)
    torch.save(build_model("SimpleCNN", 10, 0.25).state_dict(), path)
    return path


SWEEP = [*RUN[:-8], "--set", "lam_schedule=[0.3, 0.5, 0.7]", "--set", "epochs_per_lam=1", "--set", "milestones=[]",
         "--set", "seed=1"]


def test_sweep_from_another_start_model_restarts(data_root, tmp_path):
    model_a, model_b = start_model(tmp_path / "a.pt", 0), start_model(tmp_path / "b.pt", 1)
    out, ckpt = tmp_path / "sweep.json", tmp_path / "sweep.ckpt"
    interrupted(data_root, out, ckpt, "--start-model", model_a, verb="sweep", run=SWEEP)
    proc = run(data_root, out, "--checkpoint", ckpt, "--start-model", model_b, verb="sweep", run=SWEEP)
    assert "start_model_sha256: " in proc.stderr and "starting from scratch" in proc.stderr
    result = json.loads(out.read_text())
    assert result["provenance"]["start_model_sha256"] == file_sha256(model_b)
    assert [s["start_epoch"] for s in segments(out)] == [0]
    reference = tmp_path / "reference.json"
    run(data_root, reference, "--start-model", model_b, verb="sweep", run=SWEEP)
    assert metrics(out) == metrics(reference)


def test_a_finished_run_whose_files_were_deleted_is_restored_not_retrained(data_root, tmp_path):
    out, ckpt, model = tmp_path / "out" / "r.json", tmp_path / "ckpt" / "r.ckpt", tmp_path / "out" / "r.model.pt"
    run(data_root, out, "--checkpoint", ckpt, "--save-model", model)
    first, first_model = out.read_bytes(), model.read_bytes()
    assert not ckpt.exists() and ckpt.with_name("r.ckpt.result.json").is_file()
    for _ in range(2):  # as Snakemake's clean-up of an incomplete job, twice in a row
        out.unlink()
        model.unlink()
        proc = run(data_root, out, "--checkpoint", ckpt, "--save-model", model)
        assert "restored the finished run" in proc.stderr and "epoch   1/3" not in proc.stderr
        assert out.read_bytes() == first and model.read_bytes() == first_model


def test_kept_result_of_another_config_or_damaged_is_not_restored(data_root, tmp_path):
    out, ckpt = tmp_path / "r.json", tmp_path / "r.ckpt"
    kept = ckpt.with_name("r.ckpt.result.json")
    run(data_root, out, "--checkpoint", ckpt, "--set", "epochs=1", "--set", "milestones=[]")
    out.unlink()
    proc = run(data_root, out, "--checkpoint", ckpt)
    assert "is not this run's (made with another config); training" in proc.stderr
    assert json.loads(out.read_text())["config"]["epochs"] == 3
    out.unlink()
    kept.write_text(kept.read_text()[:100])  # torn
    proc = run(data_root, out, "--checkpoint", ckpt)
    assert "is not this run's (unreadable" in proc.stderr and "epoch   3/3" in proc.stderr


def test_second_run_of_the_same_output_waits_then_restores(data_root, tmp_path):
    out = tmp_path / "r.json"
    runs = [subprocess.Popen(command(data_root, out), stderr=subprocess.PIPE, text=True) for _ in range(2)]
    errs = [proc.communicate(timeout=600)[1] for proc in runs]
    assert [proc.returncode for proc in runs] == [0, 0], errs
    trained = [err for err in errs if "epoch   3/3" in err]
    waited = [err for err in errs if f"is writing {out}; waiting for it to finish" in err]
    assert len(trained) == 1 and len(waited) == 1 and trained != waited, errs
    assert "restored the finished run" in waited[0] and "epoch   1/3" not in waited[0]


def test_temp_files_of_interrupted_writes_are_removed_by_the_next_run(data_root, tmp_path):
    out = tmp_path / "r.json"
    ours = [tmp_path / ".r.json.k2j3h4.tmp", tmp_path / ".r.json.ckpt.9x8y7z.tmp",
            tmp_path / ".r.json.ckpt.result.json.abc.tmp"]
    theirs = tmp_path / ".other.json.q1w2e3.tmp"
    for path in (*ours, theirs):
        path.write_bytes(b"half written")
    proc = run(data_root, out, "--set", "epochs=1", "--set", "milestones=[]")
    assert "removed 3 temporary file(s) of interrupted writes" in proc.stderr
    assert not any(p.exists() for p in ours) and theirs.exists()
    assert list(tmp_path.glob(".*.tmp")) == [theirs]


def test_truncated_dataset_cache_is_rebuilt(tmp_path):
    root = tmp_path / "data"
    first = run(root, tmp_path / "a.json", "--set", "epochs=1", "--set", "milestones=[]")
    cache = root / "offline" / "synthetic-v1.pt"
    size = cache.stat().st_size
    with open(cache, "r+b") as fh:
        fh.truncate(size // 3)
    proc = run(root, tmp_path / "b.json", "--set", "epochs=1", "--set", "milestones=[]")
    assert f"dataset cache {cache} is damaged" in proc.stderr and "rebuilding it" in proc.stderr
    assert cache.stat().st_size == size
    a, b = (json.loads((tmp_path / n).read_text()) for n in ("a.json", "b.json"))
    assert a["test_acc"] == b["test_acc"] and "Traceback" not in first.stderr + proc.stderr


def test_full_disk_under_the_dataset_cache_does_not_stop_the_run(tmp_path):
    with mounted_tmpfs(tmp_path / "small", "size=1m") as small:
        proc = run(small / "data", tmp_path / "r.json", "--set", "epochs=1", "--set", "milestones=[]")
        assert "could not write dataset cache" in proc.stderr and "No space left on device" in proc.stderr
        assert (tmp_path / "r.json").is_file() and not list((small / "data" / "offline").iterdir())


def assert_one_line_storage_error(proc, *fragments):
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert proc.returncode == 1 and len(errors) == 1 and "Traceback" not in proc.stderr, proc.stderr
    for fragment in fragments:
        assert fragment in errors[0], errors[0]


def test_full_disk_while_checkpointing_says_what_failed_and_what_was_saved(data_root, tmp_path):
    with mounted_tmpfs(tmp_path / "small", "size=256k") as small:
        out, ckpt = small / "r.json", small / "r.ckpt"
        proc = run(data_root, out, "--checkpoint", ckpt, check=False)
        assert_one_line_storage_error(proc, f"could not write checkpoint '{ckpt}'", "No space left on device",
                                      "no epoch was saved yet")
        assert not out.exists() and not list(small.glob(".*.tmp"))


def test_full_disk_while_writing_the_result_keeps_the_run_and_finishes_on_rerun(data_root, tmp_path):
    with mounted_tmpfs(tmp_path / "small", "size=256k") as small:
        out, ckpt = small / "r.json", tmp_path / "ckpt" / "r.ckpt"
        fill(small)
        proc = run(data_root, out, "--checkpoint", ckpt, check=False)
        assert_one_line_storage_error(proc, f"could not write result '{out}'", "No space left on device",
                                      f"epochs 1-3 of 3 are saved in '{ckpt}'")
        assert not out.exists() and not list(small.glob(".*.tmp"))
        (small / "filler").unlink()
        again = run(data_root, out, "--checkpoint", ckpt)
        assert "restored the finished run" in again.stderr and out.is_file()
