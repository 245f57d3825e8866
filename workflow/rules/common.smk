# Shared set-up: validate the config, build the plan (all runs of all experiments), and the
# small helpers the rules use to find a run's config and files.

import json
import os
import shlex
import sys
from pathlib import Path

# Import the package from this checkout even where it is not installed (parse time only).
sys.path.insert(0, str(Path(workflow.basedir) / "src"))

from dualgrad import ALGORITHM_VERSION
from dualgrad.estimate import extension_summary
from dualgrad.plan import FIGURES, build_plan
from dualgrad.workflow_config import validate_workflow_config


def python_command():
    """`python` of the job's conda env or container; otherwise the interpreter running Snakemake
    (so `.venv/bin/snakemake` works without an activated venv)."""
    return (
        "python"
        if workflow.deployment_settings.deployment_method
        else shlex.quote(sys.executable)
    )


# A typo or out-of-range value stops here, before any job, naming the key. (Schema defaults are
# documentation: filling them in would let them override the overlays.)
validate_workflow_config(config, workflow.source_path("../schemas/config.schema.yaml"))

PLAN = build_plan(config)
# The opt-in extension experiments say what they cost (in dry runs too).
if config.get("extensions"):
    print("\n".join(extension_summary(PLAN, config)), file=sys.stderr)
RESULTS = config["results_dir"]
DATA_ROOT = config.get("data_root", "resources/data")
PACKAGE = Path(workflow.basedir) / "src" / "dualgrad"
PYTHON = python_command()
EXPERIMENTS = "|".join(PLAN.experiments) or "none"


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
    targets = []
    for name in PLAN.experiments:
        targets += [f"{RESULTS}/{name}/summary.csv", f"{RESULTS}/{name}/analysis.json"]
        targets += figure_files(name, "png") + figure_files(name, "pdf")
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


def sweep_run(wc):
    return PLAN.runs[f"hysteresis/{wc.run}/sweep~{wc.sweep}"]


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
