"""Local multi-GPU scheduling, simulated on the CPU: `DUALGRAD_GPUS=2 snakemake --resources gpu=2`
never gives two concurrent jobs the same device (read from the jobs' own result records), and the
slot of a job killed with SIGKILL is taken again by a later job."""

import datetime as dt
import json
import os
import signal
import subprocess
import time

import pytest
import yaml

from workflow_helpers import SNAKEMAKE, copy_workflow, p_only_overlay

pytestmark = pytest.mark.slow

OVERLAY = p_only_overlay("results/gpus", {"arch": ["SimpleCNN"], "lam": [0.1, 0.3, 0.5, 0.7], "eta": [0.4],
                                          "seed": [0, 1]}, gpus_per_job=1, n_train=512, epochs=3)


def instant(text):
    return dt.datetime.fromisoformat(text).timestamp()


def training_pids(folder):
    """Python training processes of this test's workflow (not their shell wrappers)."""
    out = subprocess.run(["pgrep", "-f", "dualgrad train"], capture_output=True, text=True).stdout
    pids = []
    for pid in map(int, out.split()):
        try:
            args = open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0")
            if os.readlink(f"/proc/{pid}/cwd") == str(folder) and [b"-m", b"dualgrad", b"train"] == args[1:4]:
                pids.append(pid)
        except OSError:  # ended meanwhile
            pass
    return pids


def held_device(lock_dir, pid):
    """The GPU whose slot lock names ``pid`` (each lock file holds its holder's pid)."""
    for path in lock_dir.glob("gpu*.slot*.lock"):
        if path.read_text().strip() == str(pid):
            return path.name[3:path.name.index(".")]
    return None


def test_two_simulated_gpus_one_job_each_and_killed_slots_are_reused(tmp_path):
    folder = copy_workflow(tmp_path)
    (folder / "gpus.yaml").write_text(yaml.safe_dump(OVERLAY))
    env = dict(os.environ, DUALGRAD_GPUS="2", DUALGRAD_GPU_LOCK_DIR=str(tmp_path / "locks"),
               DUALGRAD_GPU_WAIT_SECONDS="120")
    env.pop("CUDA_VISIBLE_DEVICES", None)
    proc = subprocess.Popen([SNAKEMAKE, "runs", "--cores", "4", "--resources", "gpu=2", "--retries", "1",
                             "--workflow-profile", "none", "--configfile", "gpus.yaml"], cwd=folder, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 300
    while not training_pids(folder):
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.1)
    victim = training_pids(folder)[0]
    while (killed_device := held_device(tmp_path / "locks", victim)) is None:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    killed_at = time.time()
    os.kill(victim, signal.SIGKILL)
    output, _ = proc.communicate(timeout=600)
    assert proc.returncode == 0, output[-3000:]

    results = [json.loads(p.read_text()) for p in (folder / "results" / "gpus" / "runs").glob("**/*.json")]
    assert len(results) == 8
    spans = []
    for result in results:
        prov = result["provenance"]
        assert prov["gpu_slot"]["device"] == prov["device"]["cuda_visible_devices"]  # the entry, as a string
        last = prov["segments"][-1]
        spans.append((instant(last["started"]), instant(prov["finished"]), prov["device"]["cuda_visible_devices"]))
    for i, (start_a, end_a, dev_a) in enumerate(spans):
        for start_b, end_b, dev_b in spans[i + 1:]:
            if start_a < end_b and start_b < end_a:  # ran at the same time
                assert dev_a != dev_b
    assert {dev for *_, dev in spans} == {"0", "1"}
    assert killed_device in {"0", "1"}
    assert any(start > killed_at and dev == killed_device for start, _, dev in spans), \
        "no job took the killed job's device afterwards"
