"""The workflow used from another project: deployed with snakedeploy (a Snakemake `module` in a
folder of its own) and run to the end at smoke scale, and as a hand-written module with renamed
rules. Every path must come from the workflow's own files, never from the importing folder."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from conftest import validate_run
from workflow_helpers import REPO, SNAKEMAKE, copy_workflow, job_counts, snakemake

pytestmark = pytest.mark.slow

SNAKEDEPLOY = str(Path(SNAKEMAKE).with_name("snakedeploy"))


def clean_env():
    """No PYTHONPATH to this checkout: the jobs must find the package in the deployed source."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}


def local_clone(folder: Path) -> Path:
    """What a `git clone` of the repository holds, without results, venv or caches."""
    folder.mkdir()
    clone = copy_workflow(folder)
    shutil.rmtree(clone / "profiles")
    shutil.copytree(REPO / "profiles", clone / "profiles")
    return clone


@pytest.fixture(scope="module")
def deployed(tmp_path_factory):
    root = tmp_path_factory.mktemp("deploy")
    clone = local_clone(root / "clone")
    dest = root / "project"
    subprocess.run([SNAKEDEPLOY, "deploy-workflow", str(clone), str(dest), "--tag", "v0.1.0"], check=True,
                   capture_output=True, text=True, env=clean_env(), timeout=120)
    snakefile = dest / "workflow" / "Snakefile"
    text = snakefile.read_text()
    # From a GitHub URL snakedeploy writes github("owner/name", path=..., tag=...); from a local
    # folder it writes the path inside that folder, which Snakemake reads relative to the
    # deployed Snakefile. Point it at the clone, as the README tells local users to do.
    assert '"workflow/Snakefile"' in text and 'configfile: "config/config.yaml"' in text
    snakefile.write_text(text.replace('"workflow/Snakefile"', f'"{clone}/workflow/Snakefile"'))
    assert (dest / "config" / "config.yaml").is_file() and (dest / "config" / "smoke.yaml").is_file()
    assert (dest / "profiles" / "slurm" / "config.yaml").is_file()
    snakemake("--cores", "2", "--configfile", "config/smoke.yaml", cwd=dest, env=clean_env(), timeout=1800)
    return clone, dest


def test_deployed_module_runs_the_smoke_dag_to_the_end(deployed):
    clone, dest = deployed
    root = dest / "results" / "smoke"
    runs = [p for p in root.glob("**/*.json")
            if ("/runs/" in str(p) or "/hysteresis/" in str(p)) and "/checkpoints/" not in str(p)]
    assert len(runs) == 20
    for path in runs:
        result = json.loads(path.read_text())
        validate_run(result)
        # the job ran the package of the deployed workflow, not one installed elsewhere
        assert result["provenance"]["argv"][0].startswith(str(clone / "src" / "dualgrad")), path
    for exp in ("P", "K", "B2", "B3", "A", "C", "N", "V3"):
        assert len(pd.read_csv(root / exp / "summary.csv")) > 0
        assert list((root / exp / "figures").glob("*.png"))
    assert not (clone / "results").exists()  # nothing is written into the workflow's own folder
    # the table of every run: one row per run and experiment, every run with its result
    table = pd.read_parquet(root / "runs.parquet")
    planned = sum(len(json.loads((root / exp / "tables" / "plan.json").read_text()))
                  for exp in ("P", "K", "B2", "B3", "A", "C", "N", "V3"))
    assert len(table) == planned and table["run"].nunique() == 20
    assert not table.duplicated(["run", "experiment"]).any() and (table["status"] != "missing").all()
    assert table["config.width"].eq(0.125).all() and table["provenance.torch"].str.startswith("2.14.1").all()
    assert len(pd.read_csv(root / "runs.csv")) == planned


def test_deployed_module_is_complete_after_the_run(deployed):
    _, dest = deployed
    dry = snakemake("-n", "--configfile", "config/smoke.yaml", cwd=dest, env=clean_env())
    assert not job_counts(dry), dry.stdout[-2000:]


def test_module_with_renamed_rules_from_another_folder(tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy2(REPO / "config.yaml", project / "base.yaml")
    shutil.copy2(REPO / "config" / "smoke.yaml", project / "smoke.yaml")
    (project / "Snakefile").write_text(
        'configfile: "base.yaml"\n'
        'configfile: "smoke.yaml"\n\n'
        "module dualgrad:\n"
        f'    snakefile: "{REPO}/workflow/Snakefile"\n'
        "    config: config\n\n"
        "use rule * from dualgrad as dualgrad_*\n"
    )
    dry = snakemake("-n", "--workflow-profile", "none", cwd=project, env=clean_env())
    text = dry.stdout + dry.stderr
    counts = job_counts(dry)
    assert counts["dualgrad_train"] == 16 and counts["dualgrad_figures_P"] == 1, counts
    assert "results/smoke/runs/" in text
