"""profiles/slurm on a real Slurm: the smoke DAG's GPU jobs through sbatch, and runs that survive
interruption.

Needs a running Slurm (tests/cluster/slurm_harness.sh start) and DUALGRAD_SLURM=1; the driver
tests/cluster/run_cluster_tests.sh does both. One module fixture runs the repository's Snakefile
at smoke scale (config.yaml + config/smoke.yaml + the test overlay cluster.yaml) in a temporary
folder, through a copy of profiles/slurm with the test-only changes of profile-overrides.yaml, and
meanwhile:

- `scancel`s the job of B2's run after its first checkpoint: Snakemake sees CANCELLED, and its
  `retries` resubmit the job, which resumes from the checkpoint;
- `scontrol requeue`s the job of C's Misaligned run (what preemption with requeue does): Slurm
  restarts the same job id, which resumes from its checkpoint.

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
from dualgrad.plan import FIGURES, build_plan

from conftest import validate_run
from workflow_helpers import deep_merge

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
BIN = Path(sys.executable).parent
DAG_TIMEOUT = float(os.environ.get("DUALGRAD_SLURM_DAG_TIMEOUT", "240"))  # the whole workflow, hard
CONFIG_FILES = [REPO / "config.yaml", REPO / "config" / "smoke.yaml", HERE / "cluster.yaml"]
GPU_RULES = {"train": "train", "start": "hysteresis_start", "sweep": "hysteresis_sweep"}  # plan kind -> rule
MINUTES = {"ResNet18": 35, "VGG11_BN_MLP": 30, "SimpleCNN": 20}  # the rules' runtime, attempt 1


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


def render_profile(folder: Path) -> Path:
    """profiles/slurm/config.yaml with the test-only changes merged in, as a profile folder."""
    profile = yaml.safe_load((REPO / "profiles" / "slurm" / "config.yaml").read_text())
    profile = json.loads(json.dumps(profile))  # YAML aliases (set-resources' *gpu_job) become copies
    deep_merge(profile, yaml.safe_load((HERE / "profile-overrides.yaml").read_text()))
    folder.mkdir(parents=True)
    (folder / "config.yaml").write_text(yaml.safe_dump(profile, sort_keys=False))
    return folder


def workflow_config() -> dict:
    config: dict = {}
    for path in CONFIG_FILES:
        deep_merge(config, yaml.safe_load(path.read_text()))
    return config


CONFIG = workflow_config()
RESULTS = CONFIG["results_dir"]  # relative to the work folder


PLAN = build_plan(CONFIG)  # every run, with its path and config, as the workflow has them
CANCELLED = PLAN.experiments["B2"].run_paths[0]  # B2 has one run (cluster.yaml makes it longer)
REQUEUED = next(row["run"] for row in PLAN.experiments["C"].rows if row["condition"] == "Misaligned")
INTERRUPTED = (CANCELLED, REQUEUED)
# Jobs moved to the top of Slurm's queue (see _run_first): the hysteresis starts (their sweeps
# wait for them), the interrupted runs (the cancelled one has a retry to come), the sweeps.
FIRST = (*PLAN.paths("start"), *INTERRUPTED, *PLAN.paths("sweep"))


def rule_of(path: str) -> str:
    return GPU_RULES[PLAN.runs[path].kind]


def comment_of(path: str) -> str:
    """The plugin's sbatch --comment for a run: rule_<rule>_wildcards_<wildcards joined by _, / -> _>."""
    kind = PLAN.runs[path].kind
    if kind == "train":
        wildcards = [path.removeprefix("runs/")]
    else:  # hysteresis/<run>/start~<start> or .../sweep~<sweep>
        run, _, last = path.removeprefix("hysteresis/").rpartition("/")
        wildcards = [run, last.partition("~")[2]]
    return f"rule_{rule_of(path)}_wildcards_" + "_".join(wildcards).replace("/", "_")


COMMENTS = {comment_of(path): path for path in PLAN.runs}


def _cmd(*args: str, timeout: float = 15) -> str:
    return subprocess.run(args, check=True, capture_output=True, text=True, timeout=timeout).stdout


def dag_jobs(states: str = "RUNNING") -> dict[str, tuple[str, str]]:
    """Slurm job id -> (run path, state) of this DAG's jobs in ``states`` (the plugin's --comment
    names the run)."""
    jobs = {}
    for line in _cmd("squeue", "-h", "-t", states, "-o", "%i|%k|%T").splitlines():
        job_id, comment, state = line.split("|")
        if comment in COMMENTS:
            jobs[job_id] = (COMMENTS[comment], state)
    return jobs


def running_job(path: str) -> str | None:
    return next((job for job, (run, _) in dag_jobs().items() if run == path), None)


def job_info(job_id: str) -> str:
    return _cmd("scontrol", "show", "job", job_id)


class Dag:
    """Everything one run of the workflow left behind, for the tests to inspect."""

    def __init__(self, work: Path):
        self.work = work
        self.results = work / RESULTS
        self.returncode: int | None = None
        self.interrupted: dict[str, str] = {}  # run path -> Slurm job id interrupted
        self.timings: dict[str, float] = {}
        self.leftovers: list[str] = []  # processes of this DAG still alive after it ended

    @property
    def log(self) -> str:
        return (self.work / "snakemake.log").read_text(errors="replace")

    def result(self, path: str) -> dict:
        return json.loads((self.results / f"{path}.json").read_text())

    def reference(self, path: str) -> dict:
        return json.loads((self.work / "reference" / f"{INTERRUPTED.index(path)}.json").read_text())

    def checkpoint(self, path: str) -> Path:
        return self.results / "checkpoints" / f"{path}.ckpt"


def _stop(proc: subprocess.Popen | None) -> None:
    """End a process group we started: SIGINT (Snakemake then scancels its jobs and exits; SIGTERM
    would make it wait for its running jobs to finish), bounded wait, then SIGKILL."""
    if proc is None or proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGINT)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)


def _kill_leftovers(work: Path) -> list[str]:
    """SIGKILL processes still working in ``work`` (e.g. a cancelled job's jobstep snakemake that
    outlived its job). Each was started by this test's DAG: its working folder is the DAG's."""
    killed = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            if not f"{os.readlink(proc / 'cwd')}/".startswith(f"{work}/"):
                continue
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")[:200]
            os.kill(int(proc.name), signal.SIGKILL)
            killed.append(f"{proc.name}: {cmdline}")
        except (OSError, ValueError):
            continue
    return killed


def _interrupt(dag: Dag, path: str) -> None:
    job_id = running_job(path)
    if job_id is None:
        pytest.fail(f"the checkpoint of {path} exists but no running Slurm job has its comment")
    if path == CANCELLED:
        _cmd("scancel", job_id)
    else:  # what preemption with requeue does
        _cmd("scontrol", "requeue", job_id)
    dag.interrupted[path] = job_id


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


def _run_first(topped: set) -> None:
    """Move this DAG's pending jobs of FIRST to the top of Slurm's queue (scontrol top). Snakemake
    submits all ready jobs at once in no useful order, and Slurm starts them first come, first
    served on the two GPUs: a hysteresis start or the cancelled run submitted last would put its
    sweep or retry, and then its experiment's tables and figures, after everything else.
    ``topped``: job ids moved already (a requeued job that runs again may be moved again)."""
    jobs = {job: path for job, (path, state) in dag_jobs("PENDING").items() if path in FIRST}
    todo = sorted((job for job in jobs if job not in topped), key=lambda job: FIRST.index(jobs[job]))
    if todo:
        subprocess.run(["scontrol", "top", ",".join(todo)], capture_output=True, timeout=15)
        topped.update(todo)
    topped.intersection_update(jobs)


def _reference_script() -> str:
    """Uninterrupted runs of the interrupted runs' configs (as the workflow passes them), one after
    the other, locally without Slurm."""
    return "; ".join(
        f"python -m dualgrad train --config-json '{json.dumps(PLAN.runs[path].config.to_dict(), sort_keys=True)}' "
        f"--threads 1 --quiet --output reference/{i}.json --checkpoint reference/{i}.ckpt"
        for i, path in enumerate(INTERRUPTED))


@pytest.fixture(scope="module")
def dag(tmp_path_factory) -> Dag:
    work = tmp_path_factory.mktemp("slurm-dag")
    dag = Dag(work)
    profile = render_profile(work / "profile")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLURM_", "DUALGRAD_"))}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    cmd = [str(BIN / "snakemake"), "--snakefile", str(REPO / "Snakefile"), "--directory", str(work),
           "--workflow-profile", str(profile), "--configfile", *map(str, CONFIG_FILES), "--verbose"]
    # the references: the data folder and device the workflow gives its jobs (common.smk)
    ref_env = dict(env, DUALGRAD_DATA_ROOT=CONFIG["data_root"], DUALGRAD_DEVICE=CONFIG["device"])
    t0 = time.monotonic()
    deadline = t0 + DAG_TIMEOUT
    snakemake = references = None
    with open(work / "snakemake.log", "w") as log:
        try:
            snakemake = subprocess.Popen(cmd, cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True)
            # Interrupt each job right after its first checkpoint appears (written atomically once
            # per epoch; 7 more epochs leave seconds for the signal to land), and keep Slurm's queue
            # in a useful order. One loop that never blocks on one run, so that no checkpoint is
            # missed.
            pending, releasing, seen_pending, topped, next_top = set(INTERRUPTED), set(), set(), set(), 0.0
            while snakemake.poll() is None and time.monotonic() < deadline:
                for path in sorted(pending):
                    if dag.checkpoint(path).exists():
                        _interrupt(dag, path)
                        dag.timings[f"interrupted {PLAN.runs[path].config.value_source}"] = time.monotonic() - t0
                        pending.discard(path)
                        if path == REQUEUED:
                            releasing.add(dag.interrupted[path])
                releasing = {job for job in releasing if not _release_requeued(job, seen_pending)}
                if time.monotonic() >= next_top:
                    _run_first(topped)
                    next_top = time.monotonic() + 0.5
                if references is None and not pending:
                    # uninterrupted references, run locally without Slurm while the cluster works
                    references = subprocess.Popen(["bash", "-c", _reference_script()], cwd=work, env=ref_env,
                                                  start_new_session=True)
                time.sleep(0.1)
            for proc in (snakemake, references):
                if proc is not None:
                    proc.wait(timeout=max(deadline - time.monotonic(), 1))
            dag.returncode = snakemake.returncode
        except subprocess.TimeoutExpired:
            pass  # the tests report the unfinished workflow with its log
        finally:
            dag.timings["workflow"] = time.monotonic() - t0
            _stop(snakemake)
            _stop(references)
            for _ in range(10):  # never leave this DAG's jobs behind on the cluster
                if not (jobs := dag_jobs("PENDING,RUNNING,REQUEUED,SUSPENDED")):
                    break
                subprocess.run(["scancel", *jobs], timeout=15)
                time.sleep(0.5)
            dag.leftovers = _kill_leftovers(work)
    print(f"\nslurm DAG timings (s): { {k: round(v, 1) for k, v in dag.timings.items()} }")
    print(f"sbatch calls: {dag.log.count('sbatch call:')}")
    for line in dag.leftovers:
        print(f"killed a leftover process: {line}")
    return dag


def test_workflow_completes_within_its_time_limit(dag):
    assert dag.returncode == 0, f"snakemake exit {dag.returncode} after {dag.timings['workflow']:.0f}s " \
                                f"(limit {DAG_TIMEOUT:.0f}s); log tail:\n{dag.log[-6000:]}"


def test_all_outputs_are_valid(dag):
    assert dag.returncode == 0
    for path, run in PLAN.runs.items():
        result = dag.result(path)
        validate_run(result)
        assert result["config"] == run.config.to_dict(), path
        assert result["status"] == "ok" and 0 <= result["test_acc"] <= 1, path
        assert not dag.checkpoint(path).exists(), "a finished run keeps no checkpoint"
    for name, experiment in PLAN.experiments.items():
        folder = dag.results / name
        summary = (folder / "summary.csv").read_text().splitlines()
        assert len(summary) >= 2, f"{name}: summary.csv has no rows"
        assert isinstance(json.loads((folder / "analysis.json").read_text()), dict)
        for figure in FIGURES[experiment.analysis]:
            assert (folder / "figures" / f"{figure}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", (name, figure)
            assert (folder / "figures" / f"{figure}.pdf").read_bytes()[:5] == b"%PDF-", (name, figure)


def _sbatch_calls(dag: Dag) -> dict[str, list[str]]:
    """Run path -> its sbatch command lines, in order."""
    calls: dict[str, list[str]] = {}
    for line in dag.log.splitlines():
        if "sbatch call:" in line:
            comment = re.search(r"--comment '?(rule_\w+_wildcards_[^' ]+)'?", line).group(1)
            assert comment in COMMENTS, f"a job that is no training run went through sbatch: {line}"
            calls.setdefault(COMMENTS[comment], []).append(line)
    return calls


def test_training_jobs_went_through_sbatch_with_one_gpu(dag):
    assert dag.returncode == 0
    calls = _sbatch_calls(dag)
    assert set(calls) == set(PLAN.runs), "every training run is one Slurm job"
    for path, lines in calls.items():
        attempts = 2 if path == CANCELLED else 1  # + the retry of the cancelled job
        assert len(lines) == attempts, (path, lines)
        minutes = MINUTES[PLAN.runs[path].config.arch]
        for attempt, line in enumerate(lines, start=1):
            assert "--gpus=1" in line and "-p debug" in line and "--requeue" in line, line
            assert "--cpus-per-task=1" in line, line  # the rules' threads (smoke: 1)
            assert "--mem 1500" in line or "--mem=1500" in line, line
            # the rules' runtime by architecture, times the attempt
            assert re.search(rf" -t {minutes * attempt} ", line), line
    # tables, analyses and figures ran locally (localrules), not through sbatch
    for rule in ("run_table", "tables", "analyze", *(f"figures_{name}" for name in PLAN.experiments)):
        assert f"localrule {rule}:" in dag.log, rule


def test_each_run_ran_in_its_slurm_job_on_one_gpu(dag):
    assert dag.returncode == 0
    for path in PLAN.runs:
        prov = dag.result(path)["provenance"]
        job_id = prov["slurm"]["SLURM_JOB_ID"]
        assert prov["device"]["cuda_visible_devices"] in {"0", "1"}, "Slurm's --gpus sets CUDA_VISIBLE_DEVICES"
        info = job_info(job_id)  # finished jobs stay visible for MinJobAge (300 s)
        assert "TresPerJob=gres:gpu:1" in info and f"Comment={comment_of(path)}" in info, info
        # the plugin keeps the logs of successful jobs (slurm-keep-successful-logs)
        wildcards = comment_of(path).partition("_wildcards_")[2]
        slurm_log = dag.work / ".snakemake" / "slurm_logs" / f"rule_{rule_of(path)}" / wildcards / f"{job_id}.log"
        assert slurm_log.is_file(), slurm_log


def _assert_resumed(dag: Dag, path: str, same_job: bool) -> dict:
    assert dag.returncode == 0
    assert path in dag.interrupted, f"{path} was never interrupted"
    result = dag.result(path)
    segments = result["provenance"]["segments"]
    assert [s["start_epoch"] for s in segments][:1] == [0] and len(segments) == 2, segments
    resumed_at = segments[1]["start_epoch"]
    assert 1 <= resumed_at < result["config"]["epochs"], "resumed from a checkpoint, not from scratch"
    assert segments[0]["slurm_job_id"] == dag.interrupted[path]
    assert (segments[1]["slurm_job_id"] == dag.interrupted[path]) is same_job
    job_log = (dag.results / "logs" / f"{path}.log").read_text()
    assert f"resuming from checkpoint {RESULTS}/checkpoints/{path}.ckpt after epoch {resumed_at}" in job_log
    return result


def _assert_equals_reference(dag: Dag, path: str) -> None:
    got, want = dag.result(path), dag.reference(path)
    assert got["run_id"] == want["run_id"]
    assert len(want["provenance"]["segments"]) == 1, "the reference ran without interruption"
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


def test_other_runs_ran_once(dag):
    assert dag.returncode == 0
    for path in set(PLAN.runs) - set(INTERRUPTED):
        segments = dag.result(path)["provenance"]["segments"]
        assert len(segments) == 1 and segments[0]["start_epoch"] == 0, (path, segments)


def test_no_process_outlived_the_dag(dag):
    assert not dag.leftovers, "processes of the DAG were still running after it ended (killed now):\n" + \
        "\n".join(dag.leftovers)


# --- Slurm job arrays: the training runs of a small experiment as one array (plugin 2.8's
# --slurm-array-jobs). All runs have one architecture, hence one time limit: the plugin submits
# an array with its first job's resources (docs/cluster.md).
ARRAY_DAG_TIMEOUT = float(os.environ.get("DUALGRAD_SLURM_ARRAY_TIMEOUT", "150"))
ARRAY_LAMS = [0.2, 0.4, 0.6]


@pytest.fixture(scope="module")
def array_dag(tmp_path_factory) -> Dag:
    from workflow_helpers import p_only_overlay

    work = tmp_path_factory.mktemp("slurm-arrays")
    dag = Dag(work)
    dag.results = work / "results" / "arrays"
    profile = render_profile(work / "profile")
    overlay = p_only_overlay("results/arrays", {"arch": ["SimpleCNN"], "lam": ARRAY_LAMS, "eta": [0.4], "seed": [0]},
                             gpus_per_job=1, n_train=128, epochs=1)
    (work / "arrays.yaml").write_text(yaml.safe_dump(overlay))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLURM_", "DUALGRAD_"))}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    cmd = [str(BIN / "snakemake"), "--snakefile", str(REPO / "Snakefile"), "--directory", str(work),
           "--workflow-profile", str(profile), "--configfile", str(REPO / "config.yaml"), "arrays.yaml",
           "--slurm-array-jobs=train", "--verbose"]
    t0 = time.monotonic()
    with open(work / "snakemake.log", "w") as log:
        snakemake = subprocess.Popen(cmd, cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        try:
            dag.returncode = snakemake.wait(timeout=ARRAY_DAG_TIMEOUT)
        except subprocess.TimeoutExpired:
            pass
        finally:
            dag.timings["workflow"] = time.monotonic() - t0
            _stop(snakemake)
            if jobs := dag_jobs("PENDING,RUNNING,REQUEUED,SUSPENDED"):
                subprocess.run(["scancel", *jobs], timeout=15)
            dag.leftovers = _kill_leftovers(work)
    print(f"\nslurm array DAG: {dag.timings['workflow']:.0f}s")
    return dag


def test_training_runs_can_go_as_one_slurm_array(array_dag):
    assert array_dag.returncode == 0, array_dag.log[-3000:]
    log = array_dag.log
    calls = [line for line in log.splitlines() if "Submitting array job with sbatch call:" in line]
    assert len(calls) == 1 and f"--array=1-{len(ARRAY_LAMS)}" in calls[0], calls
    assert " -t 20 " in calls[0] and "--gpus=1" in calls[0] and "--cpus-per-task=1" in calls[0], calls[0]
    tasks = set()
    for path in (array_dag.results / "runs").glob("**/*.json"):
        result = json.loads(path.read_text())
        validate_run(result)
        assert result["status"] == "ok"
        tasks.add(result["provenance"]["slurm"]["SLURM_ARRAY_TASK_ID"])
    assert tasks == {str(i) for i in range(1, len(ARRAY_LAMS) + 1)}, "each run is one task of the array"
    assert (array_dag.results / "P" / "figures" / "error_vs_lambda.png").is_file()
    assert not array_dag.leftovers
