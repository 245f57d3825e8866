"""The GPU check (benchmarks/gpu_check.py): its CPU mode end to end, and its time budgets."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "benchmarks" / "gpu_check.py"
sys.path.insert(0, str(SCRIPT.parent))

import gpu_check  # noqa: E402

KILL_GRACE = 15  # seconds past a budget: a child's SIGTERM clean-up (10 s at most) and our own exit


def run_check(tmp_path, *args, timeout=300):
    out = tmp_path / "check.json"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(REPO / "src"), os.environ.get("PYTHONPATH")])))
    start = time.monotonic()
    proc = subprocess.run([sys.executable, str(SCRIPT), "--cpu", "--out", str(out), *args], capture_output=True,
                          text=True, timeout=timeout, env=env, cwd=REPO)
    return proc, json.loads(out.read_text()), time.monotonic() - start


@pytest.mark.slow
def test_cpu_mode_runs_every_phase_within_a_minute_and_prints_the_table(tmp_path):
    proc, report, seconds = run_check(tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]
    assert report["mode"] == "cpu" and report["complete"] and report["budgets"]["total"] == 60
    assert report["finished_phases"] == list(gpu_check.PHASES)
    assert seconds <= 60 + KILL_GRACE
    phases = report["phases"]
    assert all(phases[name]["status"] == "ok" for name in gpu_check.PHASES)
    # CUDA tests: collected, and skipped here with their reason.
    cuda = phases["cuda_tests"]["results"]
    assert cuda["counts"]["skipped"] == len(cuda["tests"]) >= 7
    assert all("needs a CUDA GPU" in t["message"] for t in cuda["tests"])
    # CPU figures in every phase.
    assert phases["step"]["results"]["archs"]["SimpleCNN"]["dual"] > 0
    short = phases["short_run"]["results"]
    assert short["fp32"]["images_per_s"] > 0 and short["bf16"]["images_per_s"] > 0
    assert short["projection"]["total_runs"] == 341
    assert short["projection"]["archs"]["SimpleCNN"]["all_runs_minutes_fp32"] > 0
    packing = phases["packing"]["results"]
    assert packing["2"]["distinct_slots"] and packing["2"]["total_images_per_s"] > 0
    smoke = phases["smoke"]["results"]
    assert smoke["jobs_done"] == smoke["jobs_total"] > 0 and smoke["run_results_by_device"] == {"cpu": 1}
    table = proc.stdout
    assert "GPU check (cpu mode)" in table and "torch " in table
    for name in gpu_check.PHASES:
        assert f"\n{name}" in table
    assert "images/s" in table and "GPU-minutes" in table


@pytest.mark.slow
def test_a_tiny_total_budget_stops_the_check_cleanly_with_a_partial_report(tmp_path):
    # 8 s: past the environment probe (2-4 s), short of the phases (16-26 s on 2-core machines:
    # the smoke phase alone starts Snakemake and two jobs, and comes last).
    proc, report, seconds = run_check(tmp_path, "--budget", "8")
    assert proc.returncode == 3, proc.stdout + proc.stderr[-3000:]
    assert seconds <= 8 + KILL_GRACE
    assert not report["complete"] and "total budget" in report["stopped"]
    statuses = [report["phases"][name]["status"] for name in gpu_check.PHASES]
    done = report["finished_phases"]
    assert statuses == ["ok"] * len(done) + ["stopped"] + ["not_started"] * (len(statuses) - len(done) - 1)
    assert "stopped" in proc.stdout and all(f"\n{name}" in proc.stdout for name in gpu_check.PHASES)


def test_phases_stop_at_their_budgets_and_the_children_are_killed(tmp_path):
    """In-process, with real child processes: a fast phase finishes, a phase that outlasts its own
    budget is stopped and the next one still runs, and one that outlasts the total is stopped
    with everything after it left unstarted."""
    budgets = {"total": 4.0, "cuda_tests": 10, "step": 1.0, "short_run": 10, "packing": 10, "smoke": 10}
    check = gpu_check.Check("cpu", budgets, tmp_path / "report.json", tmp_path / "work", sys.executable)
    pids = []

    def sleeper(seconds):
        def body(c):
            c.results["started"] = True  # what a phase records before it is stopped is kept
            code = f"import os, time; print(os.getpid(), flush=True); time.sleep({seconds})"
            c.run([sys.executable, "-c", code], log=f"sleep{seconds}")
        return body

    start = time.monotonic()
    assert check.run_phase("cuda_tests", sleeper(0))
    assert check.run_phase("step", sleeper(30))  # its own 1 s budget: stopped, the check goes on
    assert not check.run_phase("short_run", sleeper(60))  # the total's 4 s: stopped, the check ends
    assert not check.run_phase("packing", sleeper(0))
    elapsed = time.monotonic() - start
    assert elapsed <= budgets["total"] + KILL_GRACE
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["finished_phases"] == ["cuda_tests"]
    phases = report["phases"]
    assert [phases[n]["status"] for n in ("cuda_tests", "step", "short_run", "packing")] == \
        ["ok", "stopped", "stopped", "not_started"]
    assert phases["step"]["error"] == "stopped at the phase budget" and 0.9 <= phases["step"]["seconds"] < 5
    assert phases["short_run"]["error"] == "stopped at the total budget"
    assert phases["step"]["results"] == {"started": True}
    for log in ("sleep30", "sleep60"):
        pid = int((tmp_path / "work" / "logs" / f"{log}.log").read_text().split()[0])
        pids.append(pid)
    for pid in pids:  # the stopped children are gone, not left running
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_a_failed_phase_is_reported_and_the_next_one_runs(tmp_path):
    budgets = {"total": 30.0, **{name: 30 for name in gpu_check.PHASES}}
    check = gpu_check.Check("cpu", budgets, tmp_path / "report.json", tmp_path / "work", sys.executable)
    fail = lambda c: c.run([sys.executable, "-c", "import sys; print('broken'); sys.exit(4)"], log="fail")  # noqa: E731
    assert check.run_phase("cuda_tests", fail)
    assert check.run_phase("step", lambda c: None)
    phases = json.loads((tmp_path / "report.json").read_text())["phases"]
    assert phases["cuda_tests"]["status"] == "failed" and "exit status 4" in phases["cuda_tests"]["error"]
    assert "broken" in phases["cuda_tests"]["error"] and phases["step"]["status"] == "ok"


def test_projection_scales_other_architectures_by_the_step_rates():
    short = {p: {"arch": "ResNet18", "paper_epoch_seconds": s} for p, s in (("fp32", 6.0), ("bf16", 3.0))}
    step = {"ResNet18": {"dual": 1000.0}, "ResNet34": {"dual": 500.0}, "VGG11": {"dual": 2000.0},
            "SimpleCNN": {"dual": 4000.0}}
    p = gpu_check.project_paper(short, step)
    r18, r34 = p["archs"]["ResNet18"], p["archs"]["ResNet34"]
    assert (r18["runs"], r18["epochs"]) == (275, 27500) and p["total_runs"] == 341
    assert r18["run_100_epochs_minutes_fp32"] == pytest.approx(10.0)  # 100 epochs x 6 s
    assert r18["all_runs_minutes_bf16"] == pytest.approx(27500 * 3.0 / 60)
    assert r34["scale"] == 2.0 and r34["all_runs_minutes_fp32"] == pytest.approx(1800 * 12.0 / 60)
    assert p["archs"]["VGG11_BN_MLP"]["all_runs_minutes_fp32"] is None  # step.py does not time it
    assert p["all_runs_minutes_fp32"] is None


def test_phase_budgets_are_validated():
    with pytest.raises(SystemExit):
        gpu_check.parse_args(["--phase-budget", "warp=3"])
    args = gpu_check.parse_args(["--cpu", "--budget", "30", "--phase-budget", "smoke=5"])
    assert args.budgets["total"] == 30 and args.budgets["smoke"] == 5 and args.mode == "cpu"
    assert gpu_check.parse_args([]).budgets == gpu_check.BUDGETS["gpu"]
