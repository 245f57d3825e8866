"""The GPU check: everything GPU-specific measured in one command, each phase on its own time budget.

    benchmarks/gpu_check.sh                      # on a GPU machine (installs benchmarks/wheels first)
    python benchmarks/gpu_check.py --cpu         # every phase at tiny size on the CPU (<= 60 s)

Phases, in order (README "GPU check" gives the budgets):

1. ``cuda_tests``: ``pytest -m cuda tests/test_cuda.py`` (correctness of the CUDA path);
2. ``step``: ``benchmarks/step.py`` at the device's setting (notebook / dual / CE step per arch);
3. ``short_run``: a ResNet-18 run on 50,000 random CIFAR-shaped images, batch 256, channels_last,
   fp32 and bf16: images/s, and projected GPU-minutes of a 100-epoch run and of the paper's runs
   (config.yaml's plan, per architecture);
4. ``packing``: the short run as 1, 2 and 4 concurrent jobs on one GPU (``DUALGRAD_SLOTS_PER_GPU``):
   total images/s;
5. ``smoke``: the smoke DAG (config/smoke.yaml) on the GPU with ``--resources gpu=1``, every job.

Each phase runs in child processes killed at the phase's budget; at the total budget the check
stops wherever it is. It writes one JSON after every phase (complete or partial: ``phases`` says
which finished) and prints one table at the end. Exit status: 0 all phases ok, 1 a phase failed,
3 stopped by a budget, 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "benchmarks" / "out" / "gpu_check.json"
PHASES = ("cuda_tests", "step", "short_run", "packing", "smoke")
PAPER_IMAGES = {"train": 50_000, "test": 10_000}  # CIFAR-10, evaluated after every epoch

# Seconds per phase and in all. GPU: estimates (none measured on a GPU yet) that fit 8 minutes;
# cuda_tests includes torch.compile's first compilation of ResNet-18, step.py ~15 s per arch.
BUDGETS = {
    "gpu": {"total": 480, "cuda_tests": 120, "step": 120, "short_run": 45, "packing": 60, "smoke": 135},
    "cpu": {"total": 60, "cuda_tests": 20, "step": 20, "short_run": 20, "packing": 20, "smoke": 40},
}
# What each phase runs in each mode. The CPU mode is the same code at tiny size (SimpleCNN
# stands in for ResNet-18: bf16 autocast on a CPU without bf16 units is 50x slower than fp32).
SETTINGS = {
    "gpu": {
        "step": [],  # step.py's CUDA defaults: batch 256, every architecture
        "short_run": ["--arch", "ResNet18", "--images", "50000", "--test-images", "10000", "--batch-size", "256",
                      "--epochs", "3"],
        "packing_epochs": "2",
        "packing_jobs": (1, 2, 4),
    },
    "cpu": {
        "step": ["--device", "cpu", "--reduced", "--archs", "SimpleCNN", "--width", "0.125", "--batch-size", "8",
                 "--steps", "16", "--reps", "1", "--warmup-steps", "1", "--epoch-batch-size", "64",
                 "--data-images", "256", "--e2e-images", "256", "--epoch-reps", "1", "--num-workers", "0",
                 "--threads", "1"],
        "short_run": ["--device", "cpu", "--arch", "SimpleCNN", "--width", "0.125", "--images", "256",
                      "--test-images", "128", "--batch-size", "64", "--epochs", "2", "--threads", "1"],
        "packing_epochs": "2",
        "packing_jobs": (1, 2),
    },
}
# The CPU mode's smoke DAG: experiment P alone, its one tiny SimpleCNN run (target `runs`: tables
# and figures would cost another four Python start-ups; tests/test_workflow_smoke.py runs them all).
CPU_SMOKE_OVERLAY = {
    "device": "cpu", "gpus_per_job": 0, "threads": 1,
    "defaults": {"n_train": 128, "n_test": 64, "epochs": 1, "milestones": [], "batch_size": 64},
    "experiments": {**{name: {"enabled": False} for name in ("K", "B2", "B3", "A", "C", "N", "V3")},
                    "P": {"grid": {"arch": ["SimpleCNN"], "lam": [0.3], "seed": [0]}}},
}

ENVIRONMENT_PROBE = """
import json, platform, shutil, subprocess, torch
info = {"python": platform.python_version(), "torch": torch.__version__, "cuda_build": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None,
        "cuda_available": torch.cuda.is_available(), "gpus": torch.cuda.device_count()}
if info["cuda_available"]:
    p = torch.cuda.get_device_properties(0)
    info.update(gpu=p.name, capability=f"{p.major}.{p.minor}", gpu_memory_gib=round(p.total_memory / 2**30, 1))
# The torch features the package relies on (all older than torch 2.4): missing ones are listed.
needed = ["_fused_sgd_", "_foreach_norm", "_foreach_mul_", "_foreach_add_", "_foreach_div_", "_foreach_zero_",
          "compile", "autocast", "inference_mode"]
info["torch_features_missing"] = [name for name in needed if not hasattr(torch, name)]
if shutil.which("nvidia-smi"):
    q = subprocess.run(["nvidia-smi", "--query-gpu=name,driver_version,memory.total", "--format=csv,noheader"],
                       capture_output=True, text=True)
    info["nvidia_smi"] = q.stdout.strip() or q.stderr.strip()
from importlib.metadata import PackageNotFoundError, version
try:
    info["snakemake"] = version("snakemake")  # by metadata: importing it takes a second or two
except PackageNotFoundError:
    info["snakemake"] = None
print(json.dumps(info))
"""


class Stopped(Exception):
    """A phase ran out of its own budget or of the total one."""


class Interrupted(Exception):
    """SIGTERM or SIGINT: stop, keep what is finished."""


def _interrupt(signum, frame):
    raise Interrupted(signal.Signals(signum).name)


class Check:
    def __init__(self, mode: str, budgets: dict, out: Path, work: Path, python: str):
        self.mode, self.budgets, self.out, self.work, self.python = mode, budgets, out, work, python
        self.start = time.monotonic()
        self.total_deadline = self.start + budgets["total"]
        self.phase_deadline = self.total_deadline
        self.phase_name = None
        self.results: dict = {}  # the running phase's results so far (kept when it is stopped)
        self.report = {"kind": "dualgrad-gpu-check", "mode": mode, "started": _now(), "finished": None,
                       "budgets": budgets, "environment": None, "phases": {}, "finished_phases": [],
                       "stopped": None}

    # ------------------------------------------------------------ processes
    def env(self, **extra) -> dict:
        env = dict(os.environ, PYTHONUNBUFFERED="1", **extra)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO / "src"), os.environ.get("PYTHONPATH")) if p)
        return env

    def run_all(self, commands: list[list[str]], *, log: str, env: dict | None = None,
                cwd: Path = REPO) -> list[int]:
        """Run commands at once; wait for all until the phase's or the total deadline, then kill them."""
        deadline = min(self.phase_deadline, self.total_deadline)
        logs_dir = self.work / "logs"
        logs_dir.mkdir(parents=True, exist_ok=True)
        procs = []
        try:
            for i, cmd in enumerate(commands):
                name = log if len(commands) == 1 else f"{log}.{i}"
                handle = open(logs_dir / f"{name}.log", "w")
                procs.append((subprocess.Popen(cmd, cwd=cwd, env=env or self.env(), stdout=handle,
                                               stderr=subprocess.STDOUT, start_new_session=True), handle))
            codes = []
            for proc, _ in procs:
                try:
                    codes.append(proc.wait(timeout=max(deadline - time.monotonic(), 0.0)))
                except subprocess.TimeoutExpired:
                    which = "total" if self.total_deadline <= self.phase_deadline else "phase"
                    raise Stopped(f"stopped at the {which} budget") from None
            return codes
        finally:
            for proc, handle in procs:
                _end(proc)
                handle.close()

    def run(self, cmd: list[str], *, log: str, env: dict | None = None, cwd: Path = REPO) -> None:
        code = self.run_all([cmd], log=log, env=env, cwd=cwd)[0]
        if code != 0:
            raise RuntimeError(f"exit status {code}: {self.tail(log)}")

    def tail(self, log: str, lines: int = 15) -> str:
        path = self.work / "logs" / f"{log}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    # --------------------------------------------------------------- phases
    def run_phase(self, name: str, body) -> bool:
        """Run one phase; record it (status, seconds, results) and write the JSON. False: stop here."""
        now = time.monotonic()
        entry = {"status": None, "budget_seconds": self.budgets[name], "seconds": 0.0, "results": {}}
        self.report["phases"][name] = entry
        if now >= self.total_deadline:
            entry["status"] = "not_started"
            entry["error"] = "the total budget was spent before this phase"
            self.save()
            return False
        self.phase_name, self.results = name, entry["results"]
        self.phase_deadline = now + self.budgets[name]
        go_on = True
        try:
            body(self)
            entry["status"] = "ok"
            self.report["finished_phases"].append(name)
        except Stopped as err:
            entry["status"], entry["error"] = "stopped", str(err)
            go_on = time.monotonic() < self.total_deadline
        except Interrupted as err:
            entry["status"], entry["error"] = "interrupted", f"received {err}"
            self.report["stopped"] = f"interrupted by {err} during {name}"
            raise
        except Exception as err:  # a failed phase does not stop the others
            entry["status"], entry["error"] = "failed", f"{type(err).__name__}: {err}"
        finally:
            entry["seconds"] = round(time.monotonic() - now, 2)
            self.save()
        return go_on

    def save(self) -> None:
        self.report["elapsed_seconds"] = round(time.monotonic() - self.start, 2)
        self.out.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.out.with_name(f".{self.out.name}.tmp")
        tmp.write_text(json.dumps(self.report, indent=2, default=str) + "\n")
        os.replace(tmp, self.out)  # never a half-written report


def _end(proc: subprocess.Popen) -> None:
    """Stop a child and everything it started (its own session), politely first."""
    if proc.poll() is not None:
        return
    for sig, grace in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            continue


def _now() -> str:
    import datetime as dt

    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


# ------------------------------------------------------------------- phases
def phase_cuda_tests(check: Check) -> None:
    junit, report_dir = check.work / "cuda-junit.xml", check.work / "cuda-report"
    shutil.rmtree(report_dir, ignore_errors=True)
    junit.unlink(missing_ok=True)
    codes = check.run_all([[check.python, "-m", "pytest", "-m", "cuda", "tests/test_cuda.py", "-q", "-p",
                            "no:cacheprovider", f"--junitxml={junit}"]], log="cuda_tests",
                          env=check.env(DUALGRAD_CUDA_REPORT=str(report_dir)))
    tests = _junit_outcomes(junit)
    check.results["tests"] = tests
    check.results["measured"] = {p.stem: json.loads(p.read_text()) for p in sorted(report_dir.glob("*.json"))}
    counts = {k: sum(1 for t in tests if t["outcome"] == k) for k in ("passed", "failed", "skipped")}
    check.results["counts"] = counts
    if codes[0] != 0 or counts["failed"] or not tests:
        raise RuntimeError(f"pytest exit status {codes[0]}: {check.tail('cuda_tests')}")


def _junit_outcomes(path: Path) -> list[dict]:
    if not path.exists():
        return []
    out = []
    for case in ET.parse(path).getroot().iter("testcase"):
        outcome, message = "passed", None
        for child in case:
            if child.tag in ("failure", "error", "skipped"):
                outcome = "skipped" if child.tag == "skipped" else "failed"
                message = (child.get("message") or "")[:500]
        out.append({"test": case.get("name"), "outcome": outcome, "message": message})
    return out


def phase_step(check: Check) -> None:
    out = check.work / "step.json"
    out.unlink(missing_ok=True)
    check.run([check.python, "benchmarks/step.py", *SETTINGS[check.mode]["step"], "--out", str(out)], log="step")
    step = json.loads(out.read_text())
    check.results["file"] = str(out)
    check.results["batch_size"] = step["settings"]["batch_size"]
    check.results["archs"] = {
        arch: {**{m: r["methods"][m]["images_per_s"]["median"] for m in ("notebook", "dual", "ce")},
               "dual_vs_notebook": r["ratios"]["dual_vs_notebook"]["median"],
               "dual_vs_ce": r["ratios"]["dual_vs_ce"]["median"]}
        for arch, r in step["step"].items()}
    check.results["data_ratio"] = step["data"]["ratio"]["median"]
    check.results["e2e_ratio"] = step["e2e"]["ratio"]["median"]


def short_run_command(check: Check, precisions: list[str], out: Path, epochs: str | None = None) -> list[str]:
    args = list(SETTINGS[check.mode]["short_run"])
    if epochs is not None:
        args[args.index("--epochs") + 1] = epochs
    return [check.python, "benchmarks/gpu_check_run.py", *args, "--precision", *precisions, "--out", str(out)]


def phase_short_run(check: Check) -> None:
    out = check.work / "short_run.json"
    out.unlink(missing_ok=True)
    check.run(short_run_command(check, ["fp32", "bf16"], out), log="short_run")  # one process: one start-up
    result = json.loads(out.read_text())
    settings = result["settings"]
    for precision, run in result["runs"].items():
        timed = run["timed"]
        check.results[precision] = {
            "arch": settings["arch"], "images": settings["images"], "test_images": settings["test_images"],
            "batch_size": settings["batch_size"], "epochs": settings["epochs"], "images_per_s": timed["images_per_s"],
            "epoch_seconds": timed["epoch_seconds"],
            "first_epoch_seconds": run["epochs"][0]["end"] - run["epochs"][0]["start"],
            "peak_memory_gib": None if run["peak_memory_bytes"] is None else run["peak_memory_bytes"] / 2**30,
            "train_loss_finite": run["train_loss_finite"],
            "paper_epoch_seconds": paper_epoch_seconds(timed, settings),
        }
    check.results["startup_seconds"] = result["startup_seconds"]
    step = check.report["phases"].get("step", {}).get("results", {}).get("archs")
    check.results["projection"] = project_paper(check.results, step)


def paper_epoch_seconds(timed: dict, settings: dict) -> float:
    """Seconds of one CIFAR-sized epoch (50,000 trained, 10,000 evaluated) at the measured rates."""
    epochs = settings["epochs"] - 1
    per_train_image = timed["train_seconds"] / timed["images"]
    per_test_image = timed["eval_seconds"] / (epochs * settings["test_images"])
    return per_train_image * PAPER_IMAGES["train"] + per_test_image * PAPER_IMAGES["test"]


def paper_plan() -> dict:
    """Runs and epochs per architecture in config.yaml's plan (the paper's full scale)."""
    import yaml

    from dualgrad.plan import build_plan

    plan = build_plan(yaml.safe_load((REPO / "config.yaml").read_text()))
    per_arch: dict = {}
    for run in plan.runs.values():
        entry = per_arch.setdefault(run.config.arch, {"runs": 0, "epochs": 0})
        entry["runs"] += 1
        entry["epochs"] += run.config.epochs
    return per_arch


def project_paper(short: dict, step_archs: dict | None) -> dict:
    """GPU-minutes of a 100-epoch run and of every run of the paper, per architecture.

    The short run's architecture is measured; another one is scaled by step.py's dual-step rates
    (its epoch takes rate(short-run arch) / rate(arch) times as long); one step.py did not time
    is left out (None).
    """
    base = short["fp32"]["arch"]
    out = {"base_arch": base, "scaled_by": "step.py dual-step images/s relative to the base arch", "archs": {}}
    for arch, counts in paper_plan().items():
        if arch == base:
            factor = 1.0
        elif step_archs and arch in step_archs and base in step_archs:
            factor = step_archs[base]["dual"] / step_archs[arch]["dual"]
        else:
            factor = None
        row = {**counts, "scale": factor}
        for precision in ("fp32", "bf16"):
            epoch = short[precision]["paper_epoch_seconds"]
            row[f"run_100_epochs_minutes_{precision}"] = None if factor is None else 100 * epoch * factor / 60
            row[f"all_runs_minutes_{precision}"] = None if factor is None else counts["epochs"] * epoch * factor / 60
        out["archs"][arch] = row
    total = sum(counts["runs"] for counts in out["archs"].values())
    out["total_runs"] = total
    for precision in ("fp32", "bf16"):
        values = [r[f"all_runs_minutes_{precision}"] for r in out["archs"].values()]
        out[f"all_runs_minutes_{precision}"] = None if None in values else sum(values)
    return out


def phase_packing(check: Check) -> None:
    for jobs in SETTINGS[check.mode]["packing_jobs"]:
        lock_dir = check.work / f"locks-{jobs}"
        shutil.rmtree(lock_dir, ignore_errors=True)
        env = check.env(DUALGRAD_GPUS="1", DUALGRAD_SLOTS_PER_GPU=str(jobs), DUALGRAD_GPU_LOCK_DIR=str(lock_dir),
                        DUALGRAD_GPU_WAIT_SECONDS="0")
        env.pop("CUDA_VISIBLE_DEVICES", None)  # else the slots leave the device alone
        outs = [check.work / f"packing_{jobs}.{i}.json" for i in range(jobs)]
        for out in outs:
            out.unlink(missing_ok=True)
        commands = [short_run_command(check, ["fp32"], out, SETTINGS[check.mode]["packing_epochs"]) for out in outs]
        codes = check.run_all(commands, log=f"packing_{jobs}", env=env)
        if any(codes):
            raise RuntimeError(f"{jobs} concurrent jobs: exit statuses {codes}: {check.tail(f'packing_{jobs}.0')}")
        runs = [json.loads(out.read_text()) for out in outs]
        timed = [r["runs"]["fp32"]["timed"] for r in runs]
        window = max(t["end"] for t in timed) - min(t["start"] for t in timed)
        slots = sorted((r["gpu_slot"]["device"], r["gpu_slot"]["slot"]) for r in runs)
        check.results[str(jobs)] = {
            "jobs": jobs, "total_images_per_s": sum(t["images"] for t in timed) / window,
            "per_job_images_per_s": [t["images_per_s"] for t in timed], "window_seconds": window,
            "slots": slots,  # one GPU (its CUDA_VISIBLE_DEVICES entry), slots 0..jobs-1
            "distinct_slots": len({d for d, _ in slots}) == 1 and [s for _, s in slots] == list(range(jobs)),
            "peak_memory_gib": [None if r["runs"]["fp32"]["peak_memory_bytes"] is None
                                else r["runs"]["fp32"]["peak_memory_bytes"] / 2**30 for r in runs],
        }
        if not check.results[str(jobs)]["distinct_slots"]:
            raise RuntimeError(f"{jobs} concurrent jobs did not get distinct slots: {slots}")
    one = check.results[str(SETTINGS[check.mode]["packing_jobs"][0])]["total_images_per_s"]
    check.results["speedup"] = {k: v["total_images_per_s"] / one for k, v in check.results.items()
                                if isinstance(v, dict) and "total_images_per_s" in v}


def phase_smoke(check: Check) -> None:
    try:
        import snakemake  # noqa: F401
    except ImportError:
        raise RuntimeError("snakemake is not importable: prepare the wheels (benchmarks/gpu_check_wheels.sh) "
                           "and start the check with benchmarks/gpu_check.sh") from None
    folder = check.work / "smoke"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for name in ("Snakefile", "config.yaml"):
        shutil.copy2(REPO / name, folder / name)
    for name in ("workflow", "config", "envs", "src"):
        shutil.copytree(REPO / name, folder / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    data_root = REPO / "resources" / "data"  # the synthetic set's cache, shared with step.py
    args = ["--cores", "all", "--workflow-profile", "none", "--configfile", "config/smoke.yaml"]
    if check.mode == "gpu":
        args += ["--config", "device=cuda", "gpus_per_job=1", f"data_root={data_root}", "--resources", "gpu=1"]
    else:
        import yaml

        (folder / "cpu_smoke.yaml").write_text(yaml.safe_dump(CPU_SMOKE_OVERLAY))
        args += ["cpu_smoke.yaml", "--config", f"data_root={data_root}", "--resources", "gpu=1", "--", "runs"]
    env = check.env()
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(folder / "src"), os.environ.get("PYTHONPATH")) if p)
    try:
        codes = check.run_all([[check.python, "-m", "snakemake", *args]], log="smoke", cwd=folder, env=env)
    finally:
        check.results.update(_smoke_progress(check.tail("smoke", 100000), folder))
    if codes[0] != 0:
        raise RuntimeError(f"snakemake exit status {codes[0]}: {check.tail('smoke')}")
    if check.results["jobs_done"] != check.results["jobs_total"]:
        raise RuntimeError(f"{check.results['jobs_done']} of {check.results['jobs_total']} jobs done")


def _smoke_progress(log: str, folder: Path) -> dict:
    steps = re.findall(r"(\d+) of (\d+) steps \(", log)
    done, total = (int(steps[-1][0]), int(steps[-1][1])) if steps else (0, None)
    devices: dict = {}
    for path in (folder / "results").glob("**/*.json"):
        if "checkpoints" in path.parts:
            continue  # the copy of a finished result kept beside its checkpoint
        try:
            device = json.loads(path.read_text())["provenance"]["device"]["type"]
        except (KeyError, TypeError, ValueError):
            continue  # tables, analyses and skipped runs
        devices[device] = devices.get(device, 0) + 1
    return {"jobs_done": done, "jobs_total": total, "run_results_by_device": devices}


PHASE_BODIES = {"cuda_tests": phase_cuda_tests, "step": phase_step, "short_run": phase_short_run,
                "packing": phase_packing, "smoke": phase_smoke}


# -------------------------------------------------------------------- table
def _f(value, fmt="{:,.0f}") -> str:
    return "n/a" if value is None else fmt.format(value)


def phase_lines(name: str, entry: dict) -> list[str]:
    r = entry.get("results") or {}
    lines = []
    if name == "cuda_tests" and "counts" in r:
        c = r["counts"]
        lines.append(f"{c['passed']} passed, {c['failed']} failed, {c['skipped']} skipped")
        skipped = next((t["message"] for t in r["tests"] if t["outcome"] == "skipped"), None)
        if skipped:
            lines.append(f"skip reason: {skipped}")
        for t in r["tests"]:
            if t["outcome"] == "failed":
                lines.append(f"FAILED {t['test']}: {(t['message'] or '')[:120]}")
        m = r.get("measured", {})
        for key in ("step_fp32", "step_tf32_default"):
            if key in m:
                lines.append(f"dual step vs float64 CPU ({key[5:]}): "
                             f"max rel. param diff {m[key]['max_rel_param_diff']:.1e}"
                             f" (tolerance {m[key]['tolerance']:.0e})")
        for key in ("short_run_bf16", "short_run_compile"):
            if key in m:
                d = m[key]
                lines.append(f"{key[10:]} vs fp32: train loss {100 * d['max_rel_train_loss_diff']:.1f}%, test error "
                             f"{d['abs_test_error_diff']:.3f} (other seed: "
                             f"{100 * d['seed_change']['max_rel_train_loss_diff']:.1f}%, "
                             f"{d['seed_change']['abs_test_error_diff']:.3f})")
        if "resume" in m:
            lines.append(f"resume on CUDA equals the uninterrupted run: {m['resume']['equal']}")
    elif name == "step" and "archs" in r:
        lines.append(f"images/s at batch {r['batch_size']}: notebook / dual / CE, dual/notebook")
        for arch, a in r["archs"].items():
            lines.append(f"{arch:10} {_f(a['notebook'])} / {_f(a['dual'])} / {_f(a['ce'])}, "
                         f"{a['dual_vs_notebook']:.2f}x")
        if "data_ratio" in r:
            lines.append(f"data path {r['data_ratio']:.1f}x PIL loader; end-to-end epoch {r['e2e_ratio']:.2f}x")
    elif name == "short_run":
        for precision in ("fp32", "bf16"):
            if precision in r:
                s = r[precision]
                lines.append(f"{s['arch']} {precision}: {_f(s['images_per_s'])} images/s (batch {s['batch_size']}, "
                             f"{s['images']:,} images), CIFAR epoch {s['paper_epoch_seconds']:.1f} s, first epoch "
                             f"{s['first_epoch_seconds']:.1f} s, peak {_f(s['peak_memory_gib'], '{:.1f}')} GiB")
        p = r.get("projection")
        if p:
            lines.append("GPU-minutes fp32 / bf16: one 100-epoch run; all the paper's runs of the arch")
            for arch, a in p["archs"].items():
                lines.append(f"{arch:12} {a['runs']:3d} runs {a['epochs']:6,d} epochs: "
                             f"{_f(a['run_100_epochs_minutes_fp32'], '{:,.1f}')} / "
                             f"{_f(a['run_100_epochs_minutes_bf16'], '{:,.1f}')}; "
                             f"{_f(a['all_runs_minutes_fp32'])} / {_f(a['all_runs_minutes_bf16'])}")
            lines.append(f"all {p['total_runs']} runs: {_f(p['all_runs_minutes_fp32'])} / "
                         f"{_f(p['all_runs_minutes_bf16'])} GPU-minutes (other archs scaled by step.py)")
    elif name == "packing":
        for key, v in r.items():
            if isinstance(v, dict) and "total_images_per_s" in v:
                speedup = r.get("speedup", {}).get(key)
                lines.append(f"{v['jobs']} job(s): {_f(v['total_images_per_s'])} images/s in all"
                             + ("" if speedup is None else f" ({speedup:.2f}x one job)"))
    elif name == "smoke" and "jobs_total" in r:
        lines.append(f"{r['jobs_done']} of {r['jobs_total']} jobs done; run results by device: "
                     f"{r['run_results_by_device']}")
    if entry.get("error") and entry["status"] != "ok":
        lines.append(f"{entry['status']}: {entry['error'].splitlines()[0][:150]}")
    return lines or ["-"]


def format_table(report: dict) -> str:
    env = report.get("environment") or {}
    device = env.get("gpu") or "no GPU (CPU)"
    head = (f"GPU check ({report['mode']} mode): {device}, torch {env.get('torch')}, CUDA {env.get('cuda_build')}, "
            f"Python {env.get('python')}, snakemake {env.get('snakemake')}; "
            f"{report.get('elapsed_seconds', 0):.0f} s of {report['budgets']['total']} s")
    rows = [head, f"{'phase':11} {'status':12} {'s / budget':>11}  figures", "-" * 100]
    for name in PHASES:
        entry = report["phases"].get(name)
        if entry is None:
            rows.append(f"{name:11} {'not_run':12} {'':>11}  -")
            continue
        lines = phase_lines(name, entry)
        rows.append(f"{name:11} {entry['status']:12} {entry['seconds']:5.0f}/{entry['budget_seconds']:<5}  {lines[0]}")
        rows += [f"{'':31}  {line}" for line in lines[1:]]
    if env.get("torch_features_missing"):
        rows.append(f"torch lacks features the package uses: {env['torch_features_missing']}")
    if report.get("stopped"):
        rows.append(f"stopped: {report['stopped']}")
    return "\n".join(rows)


# --------------------------------------------------------------------- main
def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cpu", action="store_true", help="every phase at tiny size on the CPU (CI)")
    p.add_argument("--budget", type=float, help="total seconds (GPU 480, CPU 60)")
    p.add_argument("--phase-budget", action="append", default=[], metavar="PHASE=SECONDS",
                   help=f"one phase's budget (repeatable); phases: {', '.join(PHASES)}")
    p.add_argument("--phases", nargs="+", choices=PHASES, default=list(PHASES), help="run only these")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="the JSON report")
    p.add_argument("--work-dir", type=Path, help="logs and intermediate files (default: next to --out)")
    args = p.parse_args(argv)
    mode = "cpu" if args.cpu else "gpu"
    args.budgets = dict(BUDGETS[mode])
    if args.budget is not None:
        args.budgets["total"] = args.budget
    for item in args.phase_budget:
        name, _, seconds = item.partition("=")
        if name not in PHASES:
            p.error(f"--phase-budget: unknown phase {name!r}; phases: {', '.join(PHASES)}")
        try:
            args.budgets[name] = float(seconds)
        except ValueError:
            p.error(f"--phase-budget {item}: seconds must be a number")
    if args.budgets["total"] <= 0:
        p.error("--budget must be positive")
    args.mode = mode
    args.work_dir = args.work_dir or args.out.with_suffix("")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    args.work_dir.mkdir(parents=True, exist_ok=True)
    check = Check(args.mode, args.budgets, args.out, args.work_dir, sys.executable)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, _interrupt)
    status = 0
    try:
        probe = subprocess.run([sys.executable, "-c", ENVIRONMENT_PROBE], capture_output=True, text=True,
                               env=check.env(), timeout=max(min(60.0, args.budgets["total"]), 1.0))
        check.report["environment"] = json.loads(probe.stdout) if probe.returncode == 0 else \
            {"error": probe.stderr[-2000:]}
        check.save()
        for name in args.phases:
            if not check.run_phase(name, PHASE_BODIES[name]):
                check.report["stopped"] = f"total budget of {args.budgets['total']:.0f} s reached during {name}"
                break
    except Interrupted:
        status = 130
    except subprocess.TimeoutExpired:
        check.report["stopped"] = "total budget reached while probing the environment"
    statuses = [check.report["phases"].get(n, {}).get("status") for n in args.phases]
    for name in args.phases:  # phases never reached still appear, as not started
        check.report["phases"].setdefault(name, {"status": "not_started", "budget_seconds": args.budgets[name],
                                                 "seconds": 0.0, "results": {}})
    check.report["finished"] = _now()
    check.report["complete"] = check.report["finished_phases"] == list(args.phases)
    check.save()
    print(format_table(check.report))
    print(f"wrote {args.out}", file=sys.stderr)
    if status:
        return status
    if "failed" in statuses:
        return 1
    return 0 if check.report["complete"] else 3


if __name__ == "__main__":
    sys.exit(main())
