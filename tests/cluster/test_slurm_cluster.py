"""profiles/slurm on a real Slurm: GPU jobs through sbatch, and runs that survive interruption.

Needs a running Slurm (tests/cluster/slurm_harness.sh start) and DUALGRAD_SLURM=1; the driver
tests/cluster/run_cluster_tests.sh does both. One module fixture runs a stand-in workflow
(tests/cluster/mini/Snakefile: the real `train` rule shape on tiny offline data) through a copy
of profiles/slurm with the test-only changes of profile-overrides.yaml, and meanwhile:

- `scancel`s one training job after its first checkpoint: Snakemake sees CANCELLED, and its
  `retries` resubmit the job, which resumes from the checkpoint;
- `scontrol requeue`s another (what preemption with requeue does): Slurm restarts the same job
  id, which resumes from its checkpoint.

Both results must equal uninterrupted runs of the same configs made locally without Slurm.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from conftest import validate_run

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
BIN = Path(sys.executable).parent
DAG_TIMEOUT = float(os.environ.get("DUALGRAD_SLURM_DAG_TIMEOUT", "240"))  # the whole workflow, hard
CANCELLED, REQUEUED, PLAIN = "SimpleCNN_cancelled", "SimpleCNN_requeued", "SimpleCNN_plain"


def _slurm_ready() -> str | None:
    """Why the cluster tests cannot run here, or None when they can."""
    if os.environ.get("DUALGRAD_SLURM") != "1":
        return "set DUALGRAD_SLURM=1 with a running Slurm (tests/cluster/run_cluster_tests.sh does both)"
    if shutil.which("sinfo") is None:
        return "no sinfo on PATH: Slurm is not installed"
    try:
        subprocess.run(["sinfo", "-h"], check=True, capture_output=True, timeout=15)
    except (subprocess.SubprocessError, OSError) as err:
        return f"sinfo does not answer ({err}): start Slurm with tests/cluster/slurm_harness.sh start"
    return None


_WHY_NOT = _slurm_ready()
pytestmark = [pytest.mark.cluster, pytest.mark.slow, pytest.mark.skipif(_WHY_NOT is not None, reason=_WHY_NOT or "")]


def _merge(base: dict, changes: dict) -> dict:
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = value
    return base


def render_profile(folder: Path) -> Path:
    """profiles/slurm/config.yaml with the test-only changes merged in, as a profile folder."""
    profile = yaml.safe_load((REPO / "profiles" / "slurm" / "config.yaml").read_text())
    _merge(profile, yaml.safe_load((HERE / "profile-overrides.yaml").read_text()))
    folder.mkdir(parents=True)
    (folder / "config.yaml").write_text(yaml.safe_dump(profile, sort_keys=False))
    return folder


def run_configs() -> dict:
    """The stand-in workflow's RUNS, read the way Snakemake sees them (config is empty)."""
    namespace = {"config": {}, "__builtins__": __builtins__}
    source = (HERE / "mini" / "Snakefile").read_text().split("localrules:")[0]  # the plain-Python head
    exec(compile(source, "mini/Snakefile", "exec"), namespace)
    return namespace["RUNS"]


def _cmd(*args: str, timeout: float = 15) -> str:
    return subprocess.run(args, check=True, capture_output=True, text=True, timeout=timeout).stdout


def running_job(run: str) -> str | None:
    """Slurm id of the running job of rule train for ``run`` (the plugin's --comment names it)."""
    for line in _cmd("squeue", "-h", "-t", "RUNNING", "-o", "%i|%k").splitlines():
        job_id, _, comment = line.partition("|")
        if comment.strip() == f"rule_train_wildcards_{run}":
            return job_id.strip()
    return None


def job_info(job_id: str) -> str:
    return _cmd("scontrol", "show", "job", job_id)


class Dag:
    """Everything one run of the stand-in workflow left behind, for the tests to inspect."""

    def __init__(self, work: Path):
        self.work = work
        self.results = work / "results"
        self.returncode: int | None = None
        self.interrupted: dict[str, str] = {}  # run -> Slurm job id interrupted
        self.timings: dict[str, float] = {}

    @property
    def log(self) -> str:
        return (self.work / "snakemake.log").read_text(errors="replace")

    def result(self, run: str) -> dict:
        return json.loads((self.results / "runs" / f"{run}.json").read_text())

    def reference(self, run: str) -> dict:
        return json.loads((self.work / "reference" / f"{run}.json").read_text())


def _stop(proc: subprocess.Popen | None) -> None:
    """End a process group we started: SIGTERM, bounded wait, then SIGKILL."""
    if proc is None or proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def _interrupt(dag: Dag, run: str) -> None:
    job_id = running_job(run)
    if job_id is None:
        pytest.fail(f"the checkpoint of {run} exists but no running Slurm job has its comment")
    if run == CANCELLED:
        _cmd("scancel", job_id)
    else:  # what preemption with requeue does
        _cmd("scontrol", "requeue", job_id)
    dag.interrupted[run] = job_id


def _release_requeued(job_id: str, seen_pending: set) -> bool:
    """Slurm holds a requeued job for ~2 min (reason BeginTime): lift the hold. True when done."""
    state, _, reason = _cmd("squeue", "-h", "--states=all", "-j", job_id, "-o", "%T|%r").strip().partition("|")
    if state != "PENDING":
        return job_id in seen_pending  # before: still being requeued; after: running again
    seen_pending.add(job_id)
    if reason != "BeginTime":
        return True
    subprocess.run(["scontrol", "update", f"JobId={job_id}", "StartTime=now"], capture_output=True, timeout=15)
    return False


@pytest.fixture(scope="module")
def dag(tmp_path_factory) -> Dag:
    work = tmp_path_factory.mktemp("slurm-dag")
    dag = Dag(work)
    profile = render_profile(work / "profile")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLURM_", "DUALGRAD_GPU"))}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"  # jobs run `python -m dualgrad`
    cmd = [str(BIN / "snakemake"), "--snakefile", str(HERE / "mini" / "Snakefile"), "--directory", str(work),
           "--workflow-profile", str(profile), "--verbose"]
    t0 = time.monotonic()
    deadline = t0 + DAG_TIMEOUT
    snakemake = references = None
    with open(work / "snakemake.log", "w") as log:
        try:
            snakemake = subprocess.Popen(cmd, cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True)
            # Interrupt each job right after its first checkpoint appears (written atomically once
            # per epoch; 5 more epochs leave seconds for the signal to land). One loop that never
            # blocks on one run, so that no checkpoint is missed.
            pending, releasing, seen_pending = {CANCELLED, REQUEUED}, set(), set()
            while (pending or releasing) and time.monotonic() < deadline and snakemake.poll() is None:
                for run in sorted(pending):
                    if (dag.results / "checkpoints" / f"{run}.ckpt").exists():
                        _interrupt(dag, run)
                        dag.timings[f"interrupted {run}"] = time.monotonic() - t0
                        pending.discard(run)
                        if run == REQUEUED:
                            releasing.add(dag.interrupted[run])
                releasing = {job for job in releasing if not _release_requeued(job, seen_pending)}
                time.sleep(0.1)
            # Uninterrupted references, run locally without Slurm while the cluster finishes.
            configs = run_configs()
            script = "; ".join(
                f"python -m dualgrad train --config-json '{json.dumps(configs[run])}' --threads 1 --quiet "
                f"--output reference/{run}.json --checkpoint reference/{run}.ckpt" for run in (CANCELLED, REQUEUED))
            references = subprocess.Popen(["bash", "-c", script], cwd=work, env=env, start_new_session=True)
            for proc in (snakemake, references):
                proc.wait(timeout=max(deadline - time.monotonic(), 1))
            dag.returncode = snakemake.returncode
        except subprocess.TimeoutExpired:
            pass  # the tests report the unfinished workflow with its log
        finally:
            dag.timings["workflow"] = time.monotonic() - t0
            _stop(snakemake)
            _stop(references)
            for run in (CANCELLED, REQUEUED, PLAIN):  # never leave jobs behind on the cluster
                for _ in range(20):
                    if (job_id := running_job(run)) is None:
                        break
                    subprocess.run(["scancel", job_id], timeout=15)
                    time.sleep(0.5)
    print(f"\nslurm DAG timings (s): { {k: round(v, 1) for k, v in dag.timings.items()} }")
    return dag


def test_workflow_completes_within_its_time_limit(dag):
    assert dag.returncode == 0, f"snakemake exit {dag.returncode} after {dag.timings['workflow']:.0f}s " \
                                f"(limit {DAG_TIMEOUT:.0f}s); log tail:\n{dag.log[-6000:]}"
    summary = json.loads((dag.results / "summary.json").read_text())
    assert set(summary) == {CANCELLED, REQUEUED, PLAIN}
    for run in summary:
        result = dag.result(run)
        validate_run(result)
        assert result["status"] == "ok" and 0 <= result["test_acc"] <= 1
        assert not (dag.results / "checkpoints" / f"{run}.ckpt").exists(), "a finished run keeps no checkpoint"


def test_training_jobs_went_through_sbatch_with_one_gpu(dag):
    assert dag.returncode == 0
    sbatch_calls = [line for line in dag.log.splitlines() if "sbatch call:" in line]
    assert len(sbatch_calls) == 4, "3 training jobs + 1 retry of the cancelled one, nothing else"
    minutes = {}
    for call in sbatch_calls:
        assert "--gpus=1" in call and "-p debug" in call and "--requeue" in call, call
        run = re.search(r"--comment rule_train_wildcards_(\S+)", call).group(1)
        minutes.setdefault(run, []).append(int(re.search(r" -t (\d+) ", call).group(1)))
    # the profile's runtime: SimpleCNN's 20 minutes, times the attempt
    assert minutes == {CANCELLED: [20, 40], REQUEUED: [20], PLAIN: [20]}
    assert "localrule aggregate" in dag.log
    for run in (CANCELLED, REQUEUED, PLAIN):
        prov = dag.result(run)["provenance"]
        job_id = prov["slurm"]["SLURM_JOB_ID"]
        assert prov["device"]["cuda_visible_devices"] in {"0", "1"}, "Slurm's --gpus sets CUDA_VISIBLE_DEVICES"
        info = job_info(job_id)  # finished jobs stay visible for MinJobAge (300 s)
        assert "TresPerJob=gres:gpu:1" in info and f"TimeLimit=00:{minutes[run][-1]}:00" in info, info
        # the plugin keeps the logs of successful jobs (slurm-keep-successful-logs)
        assert (dag.work / ".snakemake" / "slurm_logs" / "rule_train" / run / f"{job_id}.log").is_file()


def _assert_resumed(dag: Dag, run: str, same_job: bool) -> dict:
    assert dag.returncode == 0
    assert run in dag.interrupted, f"{run} was never interrupted"
    result = dag.result(run)
    segments = result["provenance"]["segments"]
    assert [s["start_epoch"] for s in segments][:1] == [0] and len(segments) == 2, segments
    resumed_at = segments[1]["start_epoch"]
    assert 1 <= resumed_at < result["config"]["epochs"], "resumed from a checkpoint, not from scratch"
    assert segments[0]["slurm_job_id"] == dag.interrupted[run]
    assert (segments[1]["slurm_job_id"] == dag.interrupted[run]) is same_job
    job_log = (dag.results / "logs" / f"{run}.log").read_text()
    assert f"resuming from checkpoint results/checkpoints/{run}.ckpt after epoch {resumed_at}" in job_log
    return result


def _assert_equals_reference(dag: Dag, run: str) -> None:
    got, want = dag.result(run), dag.reference(run)
    assert got["run_id"] == want["run_id"]
    for key in ("test_acc", "test_error", "best_acc", "convergence_epoch", "avg_cos_struct_value"):
        assert got[key] == want[key], key
    assert got["dynamics"] == want["dynamics"]
    assert got["provenance"]["labels"] == want["provenance"]["labels"]


def test_cancelled_job_is_retried_and_resumes_from_its_checkpoint(dag):
    result = _assert_resumed(dag, CANCELLED, same_job=False)
    assert "CANCELLED" in dag.log and "Trying to restart job" in dag.log
    assert result["provenance"]["slurm"]["SLURM_JOB_ID"] != dag.interrupted[CANCELLED]
    _assert_equals_reference(dag, CANCELLED)


def test_requeued_job_restarts_in_place_and_resumes_from_its_checkpoint(dag):
    result = _assert_resumed(dag, REQUEUED, same_job=True)
    assert "Restarts=1" in job_info(result["provenance"]["slurm"]["SLURM_JOB_ID"])
    _assert_equals_reference(dag, REQUEUED)


def test_uninterrupted_job_ran_once(dag):
    assert dag.returncode == 0
    segments = dag.result(PLAIN)["provenance"]["segments"]
    assert len(segments) == 1 and segments[0]["start_epoch"] == 0
