# Shared set-up: validate the config, build the plan (all runs of all experiments), and the
# small helpers the rules use to find a run's config and files.

import json
import os
import shlex
import sys
from pathlib import Path


def workflow_checkout():
    """The folder this workflow's files come from (two above this rules file). Not
    workflow.basedir: used as a module, that is the importing project's folder."""
    return Path(workflow.current_basedir.get_path_or_uri(secret_free=True)).parents[1]


# The package's sources travel with the workflow: Snakemake imports them here, and every job runs
# them (python_command), so a clone, a module and a conda env all run this checkout's code. Where they are missing (a remote module), an installed dualgrad is used.
SRC = workflow_checkout() / "src"
if (SRC / "dualgrad").is_dir():
    sys.path.insert(0, str(SRC))

import dualgrad
from dualgrad import ALGORITHM_VERSION
from dualgrad.estimate import extension_summary
from dualgrad.plan import FIGURES, USES_BASELINES, build_plan
from dualgrad.errors import ConfigError
from dualgrad.workflow_config import exit_for_config_error, validate_workflow_config


def python_command():
    """The interpreter of the jobs, with the workflow's own src/ as its PYTHONPATH.

    `python` of the job's conda env or container; otherwise the interpreter running Snakemake
    (so `.venv/bin/snakemake` works without an activated venv); DUALGRAD_PYTHON names another
    one, e.g. an environment built from envs/*.yaml with pip where conda is not used. The
    PYTHONPATH is set in the command itself because Snakemake drops an inherited one in conda
    envs; it holds only src/, so nothing else of the host leaks in."""
    if os.environ.get("DUALGRAD_PYTHON"):
        python = shlex.quote(os.environ.get("DUALGRAD_PYTHON"))
    elif workflow.deployment_settings.deployment_method:
        python = "python"
    else:
        python = shlex.quote(sys.executable)
    if (SRC / "dualgrad").is_dir():
        return f"env PYTHONPATH={shlex.quote(str(SRC))} {python}"
    return python


# A typo or out-of-range value stops here, before any job, naming the key. (Schema defaults are
# documentation: filling them in would let them override the overlays.)
try:
    validate_workflow_config(
        config, workflow.source_path("../schemas/config.schema.yaml")
    )
    PLAN = build_plan(config)
except ConfigError as error:
    exit_for_config_error(error)
# The opt-in extension experiments say what they cost (in dry runs too).
if config.get("extensions"):
    print("\n".join(extension_summary(PLAN, config)), file=sys.stderr)
RESULTS = config["results_dir"]
DATA_ROOT = config.get("data_root", "resources/data")
PACKAGE = Path(dualgrad.__file__).parent  # src/dualgrad, or the installed package
PYTHON = python_command()
EXPERIMENTS = "|".join(PLAN.experiments) or "none"


# Resources of one training job (train, hysteresis_start, hysteresis_sweep), in the rules so that
# any executor gets them and a profile only adds site settings. Wall time (minutes, sbatch -t) by
# architecture: measured ~9-12 GPU-minutes per 100-epoch ResNet-18 CIFAR run, ResNet-34 ~1.8x,
# VGG11 ~0.7x, SimpleCNN ~0.3x; value = 12 min x factor x 2 (slower GPUs, shared nodes) + 10 min
# (start-up, data, compile), rounded up to 5. Shorter runs (hysteresis starts, sweeps) get the
# same, safe value. Each retry gets the time and memory times the attempt (a retry resumes from
# its checkpoint anyway).
TRAIN_MINUTES = {
    "ResNet34": 55,
    "ResNet18": 35,
    "VGG11": 30,
    "VGG11_BN_MLP": 30,
    "SimpleCNN": 20,
}
TRAIN_MEM_MB = 8000  # host memory: PyTorch + CUDA context + CIFAR as uint8, with margin
GPUS_PER_JOB = config.get("gpus_per_job", 1)
# CPU threads of a training job = the CPUs it is given (Slurm: --cpus-per-task). A GPU job's data
# lives on the GPU; its CPU threads launch kernels, evaluate and compile.
TRAIN_THREADS = config.get("threads") or (4 if GPUS_PER_JOB else 1)


def train_runtime(path, attempt):
    return TRAIN_MINUTES.get(PLAN.runs[path].config.arch, 60) * attempt


def train_mem_mb(attempt):
    return TRAIN_MEM_MB * attempt


def run_config_json(path):
    """The resolved config of a run, as the training job receives it (and Snakemake compares)."""
    return json.dumps(PLAN.runs[path].config.to_dict(), sort_keys=True)


def checkpoint_path(path):
    # Not a declared output: it survives Snakemake's clean-up of a failed job, so a retry resumes.
    return f"{RESULTS}/checkpoints/{path}.ckpt"


def export_runtime_settings():
    """Where jobs run (data folder, device, downloading) reaches them through the environment,
    not params: moving the data or switching GPUs must not make finished runs look outdated.
    """
    os.environ["DUALGRAD_DATA_ROOT"] = DATA_ROOT
    os.environ["DUALGRAD_DEVICE"] = str(config.get("device", "auto"))
    os.environ["DUALGRAD_DOWNLOAD"] = "1" if config.get("download") else "0"


def experiment_results(experiment):
    """Run JSONs an experiment reads; in figures-only mode just those that exist."""
    files = [
        f"{RESULTS}/{path}.json" for path in PLAN.experiments[experiment].run_paths
    ]
    if config["figures_only"]:
        files = [f for f in files if Path(f).is_file()]
    return files


def all_run_results():
    """Every run JSON of the plan; in figures-only mode just those that exist."""
    files = [f"{RESULTS}/{path}.json" for path in PLAN.runs]
    if config["figures_only"]:
        files = [f for f in files if Path(f).is_file()]
    return files


def package_files(*parts):
    """Package sources a step reads; editing them reruns that step and everything after it."""
    target = PACKAGE.joinpath(*parts)
    return (
        sorted(str(p) for p in target.glob("*.py"))
        if target.is_dir()
        else [str(target)]
    )


def figure_files(experiment, ext):
    names = FIGURES[PLAN.experiments[experiment].analysis]
    return [f"{RESULTS}/{experiment}/figures/{name}.{ext}" for name in names]


def all_targets():
    targets = (
        [f"{RESULTS}/runs.parquet", f"{RESULTS}/runs.csv"] if PLAN.experiments else []
    )
    for name in PLAN.experiments:
        targets += [f"{RESULTS}/{name}/summary.csv", f"{RESULTS}/{name}/analysis.json"]
        targets += figure_files(name, "png") + figure_files(name, "pdf")
    if not config["figures_only"]:
        # Every run is a target itself: Snakemake rebuilds a missing intermediate file only when a
        # target needs it, so a deleted or set-aside run JSON would otherwise never be trained again.
        targets += [f"{RESULTS}/{path}.json" for path in PLAN.runs]
    return targets


def report_missing():
    have = sum(Path(f"{RESULTS}/{p}.json").is_file() for p in PLAN.runs)
    if have < len(PLAN.runs):
        print(
            f"figures only: {have} of {len(PLAN.runs)} runs have results in {RESULTS}; "
            f"the others are listed per experiment in {RESULTS}/<experiment>/tables/missing.csv",
            file=sys.stderr,
        )


if config["figures_only"]:
    report_missing()
    # Damaged run JSONs are named here and listed as missing by the tables (not a failure).
    from dualgrad.result_files import DAMAGED_AS_MISSING, report_damaged

    report_damaged([f"{RESULTS}/{p}.json" for p in PLAN.runs])
    os.environ[DAMAGED_AS_MISSING] = "1"


def sweep_run(wc):
    return PLAN.runs[f"hysteresis/{wc.run}/sweep~{wc.sweep}"]


def analysis_inputs(wildcards):
    """An experiment's tables and the analysis code; for B2/B3 also the summary of the experiment
    whose measured CE runs their claims are judged against (params.baselines_from)."""
    exp = PLAN.experiments[wildcards.experiment]
    inputs = {
        "tables": [
            f"{RESULTS}/{wildcards.experiment}/tables/{name}.csv"
            for name in ("runs", "table", "dynamics", "trajectory", "missing")
        ],
        "code": package_files("analysis"),
    }
    other = exp.params.get("baselines_from")
    if exp.analysis in USES_BASELINES and other in PLAN.experiments:
        inputs["baselines"] = f"{RESULTS}/{other}/summary.csv"
    return inputs


def figure_inputs(experiment):
    params = PLAN.experiments[experiment].params
    inputs = {
        "tables": f"{RESULTS}/{experiment}/tables/table.csv",
        "summary": f"{RESULTS}/{experiment}/summary.csv",
        "analysis": f"{RESULTS}/{experiment}/analysis.json",
        "code": package_files("figures"),
    }
    other = params.get("baselines_from")
    if other in PLAN.experiments:
        inputs["baselines"] = f"{RESULTS}/{other}/summary.csv"
    return inputs


def parent(path, levels=1):
    """A folder derived from a job's own file (lint: no hard-coded path prefixes in params)."""
    return str(Path(path).parents[levels - 1])


export_runtime_settings()
