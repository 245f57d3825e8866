"""Resources live in the rules: a dry run through profiles/slurm with one extra --set-resources key
keeps every GPU job's runtime, memory and CPUs (a command-line --set-resources replaces the
profile's whole key, so the profile must not be where they come from)."""

import re

import pytest

from dualgrad.plan import build_plan
from workflow_helpers import snakemake

pytestmark = pytest.mark.slow

GPU_RULES = ("train", "hysteresis_start", "hysteresis_sweep")
MINUTES = {"ResNet34": 55, "ResNet18": 35, "VGG11": 30, "VGG11_BN_MLP": 30, "SimpleCNN": 20}


def job_blocks(text: str):
    """(rule, block text) of each job of a dry run with printed shell commands."""
    for match in re.finditer(r"^(?:local)?rule (\w+):\n(.*?)(?=^\[|\Z)", text, re.S | re.M):
        yield match.group(1), match.group(2)


@pytest.fixture(scope="module")
def dry_run():
    # --cores 4: a dry run is local and caps threads at --cores (1 when not given); on Slurm the
    # jobs' threads are not capped by the submitting host.
    proc = snakemake("-n", "--cores", "4", "--workflow-profile", "profiles/slurm", "--printshellcmds",
                     "--set-resources", "train:gpu_model=a100", timeout=600)
    return proc.stdout + proc.stderr


def test_every_gpu_job_keeps_runtime_memory_and_cpus(dry_run, repo):
    import yaml

    plan = build_plan(yaml.safe_load((repo / "config.yaml").read_text()))
    seen = {rule: 0 for rule in GPU_RULES}
    for rule, block in job_blocks(dry_run):
        if rule not in GPU_RULES:
            continue
        seen[rule] += 1
        resources = dict(re.findall(r"(\w+)=([^,\s]+)", re.search(r"resources: (.*)", block).group(1)))
        output = re.search(r"output: (\S+?)\.json", block).group(1).removeprefix("results/")
        arch = plan.runs[output].config.arch
        assert resources["gpu"] == "1" and resources["runtime"] == str(MINUTES[arch]), (rule, resources)
        assert resources["mem_mb"] == "8000", (rule, resources)
        assert (resources.get("gpu_model") == "a100") == (rule == "train"), (rule, resources)
        assert "--threads 4 " in block, block[-400:]  # threads = the CPUs Slurm gives (--cpus-per-task)
    assert seen == {"train": 329, "hysteresis_start": 6, "hysteresis_sweep": 6}, seen
