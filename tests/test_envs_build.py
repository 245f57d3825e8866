"""The two environments built the way `--sdm conda` lays them out, then used by real jobs.

Snakemake copies each env file to `.snakemake/conda/<hash>.yaml` and creates the env from that
copy (`conda env create --file <copy> --prefix <hash>/`); conda's pip step writes the pip section
to a requirements file beside the copy and runs pip there, so a `-e ..` would name
`.snakemake/`. No conda channel is reachable here, so each env is a fresh venv at that prefix:

- the conda packages, which a channel would provide, and the pip section's packages (torch is
  the local install of torch==2.14.1: nothing is downloaded) are linked in from this machine's
  installed distributions, each with what it requires and nothing else;
- the pip section is then installed from the copy's folder with `pip --no-index`: every line
  must be installable from there and every pin must match what the env holds.

The dualgrad package is in neither env: the jobs must find it in the workflow's own src/.
"""

import hashlib
import os
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from workflow_helpers import REPO, copy_workflow, p_only_overlay, snakemake

pytestmark = pytest.mark.slow

CONDA_TO_PIP = {"matplotlib-base": "matplotlib"}  # conda-forge names that differ on PyPI
NOT_PACKAGES = {"python", "pip"}


def env_requirements(env_file: Path) -> tuple[list[str], list[str]]:
    """(conda packages as pip requirements, the pip section's lines)."""
    env = yaml.safe_load(env_file.read_text())
    conda, pip = [], []
    for entry in env["dependencies"]:
        if isinstance(entry, dict):
            pip += entry.get("pip", [])
            continue
        name, _, version = entry.partition("=")
        if name not in NOT_PACKAGES:
            conda.append(f"{CONDA_TO_PIP.get(name, name)}=={version.lstrip('=')}")
    return conda, pip


def requirement_closure(lines: list[str]) -> dict[str, metadata.Distribution]:
    """The installed distributions these requirements need, recursively (markers and extras
    evaluated, as pip would)."""
    found: dict[str, metadata.Distribution] = {}
    done: set[tuple[str, str]] = set()
    todo = [Requirement(line) for line in lines]
    while todo:
        req = todo.pop()
        key = canonicalize_name(req.name)
        extras = {""} | set(req.extras)
        if all((key, extra) in done for extra in extras):
            continue
        done |= {(key, extra) for extra in extras}
        found.setdefault(key, metadata.distribution(req.name))
        for text in found[key].requires or []:
            sub = Requirement(text)
            if sub.marker is None or any(sub.marker.evaluate({"extra": extra}) for extra in extras):
                todo.append(sub)
    return found


def link_distribution(dist: metadata.Distribution, site: Path) -> None:
    """Make an installed distribution importable in ``site`` (its top-level files and metadata)."""
    tops = {Path(str(f)).parts[0] for f in dist.files or []}
    for top in tops:
        if top == ".." or top.endswith(".pth") or top == "__pycache__":
            continue
        target = site / top
        if not target.exists():
            target.symlink_to(Path(dist.locate_file(top)))


def build_env_like_conda(env_file: Path, conda_dir: Path) -> Path:
    """Copy ``env_file`` to ``conda_dir/<hash>.yaml``, build ``conda_dir/<hash>/``, return its python."""
    content = env_file.read_bytes()
    digest = hashlib.sha256(content).hexdigest()[:16]
    conda_dir.mkdir(parents=True, exist_ok=True)
    copy = conda_dir / f"{digest}.yaml"
    copy.write_bytes(content)
    prefix = conda_dir / digest
    subprocess.run([sys._base_executable, "-m", "venv", "--without-pip", str(prefix)], check=True, timeout=120)
    python = prefix / "bin" / "python"
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())
    conda, pip_lines = env_requirements(copy)
    named = [line for line in pip_lines if re.match(r"^[A-Za-z0-9]", line)]  # not options or paths
    for dist in requirement_closure(conda + named).values():
        link_distribution(dist, site)
    if pip_lines:
        requirements = conda_dir / f"condaenv.{digest}.requirements.txt"
        requirements.write_text("\n".join(pip_lines) + "\n")
        env = {**os.environ, "PIP_CONFIG_FILE": os.devnull, "PIP_FIND_LINKS": "", "PIP_NO_INDEX": "1"}
        proc = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "-r",
                               requirements.name], cwd=conda_dir, env=env, capture_output=True, text=True,
                              timeout=600)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert "Successfully installed" not in proc.stdout, proc.stdout  # every pin was already there
    return python


def imports(python: Path, module: str) -> bool:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run([str(python), "-c", f"import {module}"], env=env, capture_output=True).returncode == 0


@pytest.fixture(scope="module")
def envs(tmp_path_factory):
    workflow = copy_workflow(tmp_path_factory.mktemp("condalike"))
    conda_dir = workflow / ".snakemake" / "conda"
    return workflow, {name: build_env_like_conda(workflow / "envs" / f"{name}.yaml", conda_dir)
                      for name in ("train", "analysis")}


def test_environments_hold_what_their_rules_need_and_not_the_package(envs):
    _, python = envs
    assert imports(python["train"], "torch") and imports(python["train"], "torchvision")
    assert imports(python["analysis"], "pandas") and imports(python["analysis"], "pyarrow")
    assert not imports(python["analysis"], "torch")
    for env in python.values():
        assert not imports(env, "dualgrad")


def test_a_relative_path_in_the_pip_section_fails_from_the_copy(tmp_path):
    # the defect the layout exposes: `-e ..` resolves against .snakemake/conda/, not the checkout
    broken = tmp_path / "broken.yaml"
    text = (REPO / "envs" / "train.yaml").read_text()
    broken.write_text(text.replace("      - torch==2.14.1\n", "      - torch==2.14.1\n      - -e ..\n"))
    with pytest.raises(AssertionError, match=r"\.\."):
        build_env_like_conda(broken, tmp_path / "workdir" / ".snakemake" / "conda")


def test_training_and_figure_rules_run_in_the_environments(envs):
    workflow, python = envs
    overlay = p_only_overlay("results/envs", {"arch": ["SimpleCNN"], "lam": [0.2, 0.6], "eta": [0.4], "seed": [0]},
                             gpus_per_job=0, n_train=128, epochs=1)
    (workflow / "envs-test.yaml").write_text(yaml.safe_dump(overlay))
    common = ["--cores", "2", "--workflow-profile", "none", "--configfile", "envs-test.yaml", "--printshellcmds"]
    clean = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    train = snakemake("runs", *common, cwd=workflow, env={**clean, "DUALGRAD_PYTHON": str(python["train"])})
    assert re.search(rf"{re.escape(str(python['train']))} -m dualgrad train", train.stdout + train.stderr)
    # params hold the interpreter: with another one, only missing outputs are built
    figures = snakemake(*common, "--rerun-triggers", "mtime", cwd=workflow,
                        env={**clean, "DUALGRAD_PYTHON": str(python["analysis"])})
    text = figures.stdout + figures.stderr
    assert re.search(rf"{re.escape(str(python['analysis']))} -m dualgrad plot", text)
    assert "dualgrad train" not in text
    results = workflow / "results" / "envs"
    assert len(list((results / "runs").glob("**/*.json"))) == 2
    for name in ("error_vs_lambda.png", "error_vs_lambda.pdf"):
        assert (results / "P" / "figures" / name).stat().st_size > 1000
