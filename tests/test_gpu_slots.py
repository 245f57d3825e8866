"""GPU slots (dualgrad.gpu_slots): real processes competing for flock'd slots, GPUs simulated by count."""

import json
import os
import select
import shutil
import subprocess
import sys

import pytest

from dualgrad.errors import ConfigError
from dualgrad.gpu_slots import acquire_gpu_slot

# A training process stand-in: take a slot, report it as one JSON line, hold it until stdin closes.
CHILD = """
import json, os, sys
from dualgrad.errors import DualgradError
from dualgrad.gpu_slots import acquire_gpu_slot
try:
    info = acquire_gpu_slot(wait_seconds=float(sys.argv[1]), poll_seconds=0.05)
except DualgradError as err:
    print(json.dumps({"error": str(err)}), flush=True)
    sys.exit(3)
print(json.dumps({"info": info, "cvd": os.environ.get("CUDA_VISIBLE_DEVICES")}), flush=True)
sys.stdin.read()
"""


@pytest.fixture
def env(tmp_path):
    """Environment for the children: a private lock dir, no scheduler-set device."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DUALGRAD_") and k != "CUDA_VISIBLE_DEVICES"}
    env["DUALGRAD_GPU_LOCK_DIR"] = str(tmp_path / "locks")
    return env


class Child:
    def __init__(self, env: dict, wait: float = 0.0, **extra):
        self.proc = subprocess.Popen([sys.executable, "-c", CHILD, str(wait)], env={**env, **extra},
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def report(self, timeout: float = 30.0) -> dict:
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        assert ready, "child did not report within the timeout"
        line = self.proc.stdout.readline()
        assert line, f"child exited without a report: {self.proc.stderr.read()}"
        return json.loads(line)

    def finish(self) -> str:
        """Release the slot (close stdin), wait for exit, return stderr."""
        _, err = self.proc.communicate(timeout=30)
        return err

    def kill(self) -> None:
        self.proc.kill()  # SIGKILL: no Python clean-up runs
        self.proc.communicate(timeout=30)


@pytest.fixture
def children():
    started: list[Child] = []

    def start(env, wait=0.0, **extra) -> Child:
        child = Child(env, wait, **extra)
        started.append(child)
        return child

    yield start
    for child in started:  # never leave a child behind, whatever the test did
        if child.proc.poll() is None:
            child.kill()


def test_two_processes_get_different_devices(env, children):
    a = children(env, DUALGRAD_GPUS="2").report()
    b = children(env, DUALGRAD_GPUS="2").report()
    assert {a["cvd"], b["cvd"]} == {"0", "1"}
    for r in (a, b):
        assert r["info"]["device"] == r["cvd"] and r["info"]["slot"] == 0 and r["info"]["gpus"] == 2


def test_sigkill_releases_the_slot(env, children):
    first = children(env, DUALGRAD_GPUS="1")
    assert first.report()["cvd"] == "0"
    busy = children(env, wait=0.2, DUALGRAD_GPUS="1").report()
    assert "stayed busy" in busy["error"]
    first.kill()
    again = children(env, DUALGRAD_GPUS="1").report()
    assert again["cvd"] == "0" and again["info"]["slot"] == 0


def test_slots_per_gpu_share_one_device(env, children):
    a = children(env, DUALGRAD_GPUS="1", DUALGRAD_SLOTS_PER_GPU="2").report()
    b = children(env, DUALGRAD_GPUS="1", DUALGRAD_SLOTS_PER_GPU="2").report()
    assert a["cvd"] == b["cvd"] == "0"
    assert {a["info"]["slot"], b["info"]["slot"]} == {0, 1}
    third = children(env, wait=0.2, DUALGRAD_GPUS="1", DUALGRAD_SLOTS_PER_GPU="2").report()
    assert "error" in third


def test_slots_fill_every_gpu_before_sharing(env, children):
    got = [children(env, DUALGRAD_GPUS="2", DUALGRAD_SLOTS_PER_GPU="2").report()["info"] for _ in range(4)]
    assert [(g["device"], g["slot"]) for g in got] == [("0", 0), ("1", 0), ("0", 1), ("1", 1)]


def test_waits_for_a_slot_to_free_up(env, children):
    holder = children(env, DUALGRAD_GPUS="1")
    holder.report()
    waiter = children(env, wait=30, DUALGRAD_GPUS="1")
    ready, _, _ = select.select([waiter.proc.stdout], [], [], 1.0)
    assert not ready, "the waiter got a slot that was held"
    holder.finish()
    got = waiter.report()
    assert got["cvd"] == "0" and got["info"]["waited_seconds"] > 0
    assert "busy; waiting up to 30s" in waiter.finish()


def test_scheduler_assigned_device_is_left_alone(env, children, tmp_path):
    r = children(env, DUALGRAD_GPUS="2", CUDA_VISIBLE_DEVICES="3").report()
    assert r == {"info": None, "cvd": "3"}
    assert not (tmp_path / "locks").exists()


def test_nothing_happens_without_a_gpu_to_share(env, children):
    if os.path.isdir("/proc/driver/nvidia/gpus"):
        assert children(env, DUALGRAD_GPUS="0").report() == {"info": None, "cvd": None}
    else:  # no GPU, nothing to share out
        assert children(env).report() == {"info": None, "cvd": None}
    assert children(env, DUALGRAD_GPUS="0").report() == {"info": None, "cvd": None}
    assert children(env, CUDA_VISIBLE_DEVICES="").report() == {"info": None, "cvd": ""}


def test_entries_of_an_existing_visible_list_are_shared_out(env, children):
    # an exported list or a multi-GPU allocation: two concurrent jobs get 3 and 5, not 3 twice
    a = children(env, CUDA_VISIBLE_DEVICES="3,5").report()
    b = children(env, CUDA_VISIBLE_DEVICES="3,5").report()
    assert (a["cvd"], b["cvd"]) == ("3", "5")
    assert a["info"]["gpus"] == 2 and a["info"]["lock"].endswith("gpu3.slot0.lock")
    third = children(env, wait=0.2, CUDA_VISIBLE_DEVICES="3,5").report()
    assert "stayed busy" in third["error"] and "devices 3,5" in third["error"]


def test_dualgrad_gpus_takes_the_first_entries_of_the_visible_list(env, children):
    a = children(env, CUDA_VISIBLE_DEVICES="3,5,7", DUALGRAD_GPUS="1").report()
    assert a["cvd"] == "3"
    assert "error" in children(env, wait=0.2, CUDA_VISIBLE_DEVICES="3,5,7", DUALGRAD_GPUS="1").report()


def test_a_lock_file_that_cannot_be_opened_counts_as_busy(env, children, tmp_path):
    locks = tmp_path / "locks"
    (locks / "gpu0.slot0.lock").mkdir(parents=True)  # not openable as a file
    child = children(env, DUALGRAD_GPUS="2")
    got = child.report()
    assert got["cvd"] == "1"
    assert "cannot open" in child.finish()


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None,
                    reason="needs root and setpriv to own a file as another user and drop the override")
def test_another_users_unreadable_lock_file_does_not_crash_a_job(env, tmp_path):
    locks = tmp_path / "locks"
    locks.mkdir()
    foreign = locks / "gpu0.slot0.lock"
    foreign.write_text("1\n")
    os.chown(foreign, 65534, 65534)  # another user's (nobody's) lock file, unreadable for others
    foreign.chmod(0o600)
    # the job: this user without the capabilities that let root open any file
    proc = subprocess.run(["setpriv", "--bounding-set", "-dac_override,-dac_read_search", sys.executable, "-c",
                           CHILD, "0"], env={**env, "DUALGRAD_GPUS": "2"}, input="", capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.splitlines()[0])["cvd"] == "1"
    assert "Permission denied" in proc.stderr and "counting that slot as busy" in proc.stderr


def test_default_lock_folder_is_per_user(monkeypatch):
    from dualgrad.gpu_slots import default_lock_dir

    assert default_lock_dir().endswith(f"dualgrad-gpu-locks-{os.getuid()}")


@pytest.mark.parametrize("key, value", [("DUALGRAD_GPUS", "two"), ("DUALGRAD_GPUS", "-1"),
                                        ("DUALGRAD_SLOTS_PER_GPU", "0")])
def test_bad_settings_name_the_variable(monkeypatch, tmp_path, key, value):
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    monkeypatch.setenv("DUALGRAD_GPU_LOCK_DIR", str(tmp_path))
    monkeypatch.setenv("DUALGRAD_GPUS", "1")
    monkeypatch.setenv(key, value)
    with pytest.raises(ConfigError) as err:
        acquire_gpu_slot(wait_seconds=0)
    assert err.value.key == key
