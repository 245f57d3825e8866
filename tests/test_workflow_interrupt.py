"""Interrupting the real snakemake right after a job's result appears never costs a finished run.

Snakemake deletes the outputs of jobs it has not recorded as complete (``--rerun-incomplete``);
the job that runs next restores its kept result instead of training again. Three ways to stop
the workflow, cycled over the trials: kill -9 of the controller alone (its jobs finish as
orphans), kill -9 of the whole process group, and SIGINT (Ctrl-C).
"""

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from workflow_helpers import SNAKEMAKE, copy_workflow, p_only_overlay, snakemake

pytestmark = pytest.mark.slow

RESULTS = "results/interrupt"
OVERLAY = p_only_overlay(RESULTS, {"arch": ["SimpleCNN"], "lam": [0.2, 0.6], "eta": [0.4], "seed": list(range(6))},
                         gpus_per_job=0, n_train=256, epochs=2)
MODES = ("kill -9 controller", "kill -9 group", "SIGINT")
TRIALS = 12
METRICS = ("test_acc", "best_acc", "avg_cos_struct_value", "dynamics", "first_steps", "steps")


def workflow(folder: Path) -> Path:
    copy_workflow(folder)
    (folder / "overlay.yaml").write_text(yaml.safe_dump(OVERLAY))
    return folder


ARGS = ["runs", "--cores", "2", "--workflow-profile", "none", "--configfile", "overlay.yaml"]


def results(folder: Path) -> dict[str, bytes]:
    found = {}
    for path in (folder / RESULTS / "runs").rglob("*.json"):
        try:
            found[str(path.relative_to(folder))] = path.read_bytes()
        except FileNotFoundError:  # deleted by Snakemake between listing and reading
            pass
    return found


def appearances(folder: Path) -> set[tuple]:
    """(path, inode, ctime) of each result: a result deleted and restored (re-linked) counts anew."""
    seen = set()
    for path in (folder / RESULTS / "runs").rglob("*.json"):
        try:
            st = path.stat()
        except FileNotFoundError:
            continue
        seen.add((str(path), st.st_ino, st.st_ctime_ns))
    return seen


def session_processes(sid: int) -> list[int]:
    """Processes still alive in the session the test started (orphaned jobs included)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.getsid(int(entry.name)) == sid and (entry / "stat").read_text().split()[2] != "Z":
                    pids.append(int(entry.name))
            except (ProcessLookupError, FileNotFoundError, PermissionError):
                pass
    return pids


def interrupt_once(folder: Path, mode: str, sessions: list[int], unlock: bool) -> bool:
    """Start snakemake, stop it as ``mode`` says once a result appears (new or restored); False if it
    finished first."""
    if unlock:  # a killed Snakemake leaves its lock, as a user would find it
        snakemake("--unlock", *ARGS, cwd=folder)
    before = appearances(folder)
    # One job at a time: each interruption then catches about one finished job, not a batch.
    proc = subprocess.Popen([SNAKEMAKE, *ARGS, "--cores", "1", "--rerun-incomplete"], cwd=folder,
                            start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    sessions.append(proc.pid)
    deadline = time.monotonic() + 300
    while not appearances(folder) - before:
        if proc.poll() is not None:
            return False
        assert time.monotonic() < deadline, "no result appeared"
        time.sleep(0.02)
    if mode == "kill -9 controller":
        os.kill(proc.pid, signal.SIGKILL)
    elif mode == "kill -9 group":
        os.killpg(proc.pid, signal.SIGKILL)
    else:
        os.kill(proc.pid, signal.SIGINT)
    try:
        proc.wait(timeout=120)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    return True


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    folder = workflow(tmp_path_factory.mktemp("uninterrupted"))
    snakemake(*ARGS, cwd=folder)
    return results(folder)


def test_interrupted_workflow_retrains_no_finished_run(tmp_path, uninterrupted):
    folder = workflow(tmp_path)
    first_seen: dict[str, bytes] = {}
    sessions: list[int] = []
    trials = []
    try:
        for trial in range(TRIALS):
            mode = MODES[trial % len(MODES)]
            if not interrupt_once(folder, mode, sessions, unlock=bool(trials) and trials[-1] != "SIGINT"):
                break
            trials.append(mode)
            for path, content in results(folder).items():  # finished runs, right after the interruption
                first_seen.setdefault(path, content)
        for sid in sessions:  # orphans of a killed controller finish their runs; wait for them
            deadline = time.monotonic() + 300
            while session_processes(sid) and time.monotonic() < deadline:
                time.sleep(0.2)
        snakemake("--unlock", *ARGS, cwd=folder)
        snakemake(*ARGS, "--rerun-incomplete", cwd=folder)
    finally:
        for sid in sessions:
            for pid in session_processes(sid):
                os.kill(pid, signal.SIGKILL)
    final = results(folder)
    retrained = sorted(path for path, content in first_seen.items() if final[path] != content)
    print(f"{len(trials)} interruptions ({', '.join(f'{trials.count(m)} x {m}' for m in MODES)}); "
          f"{len(first_seen)} runs seen finished; {len(retrained)} of them retrained")
    assert len(trials) >= 10 and set(trials) == set(MODES)
    assert retrained == []
    assert set(final) == set(uninterrupted)
    for path, content in final.items():
        result, reference = json.loads(content), json.loads(uninterrupted[path])
        assert {k: result[k] for k in METRICS} == {k: reference[k] for k in METRICS}, path
