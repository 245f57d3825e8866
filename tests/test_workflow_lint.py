"""`snakemake --lint` reports nothing and the rule files are snakefmt-formatted."""

import subprocess
import sys
from pathlib import Path

from workflow_helpers import REPO, snakemake


def test_lint_is_clean():
    proc = snakemake("--lint", "--workflow-profile", "none", check=False, timeout=300)
    text = proc.stdout + proc.stderr
    assert proc.returncode == 0 and "Congratulations, your workflow is in a good condition!" in text, text[-3000:]
    assert "Lints for" not in text


def test_rule_files_are_snakefmt_formatted():
    snakefmt = Path(sys.executable).with_name("snakefmt")
    proc = subprocess.run([str(snakefmt), "--check", "Snakefile", "workflow/Snakefile", "workflow/rules"], cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_ruff_is_clean():
    ruff = Path(sys.executable).with_name("ruff")
    proc = subprocess.run([str(ruff), "check", "."], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_package_ships_its_typing_marker():
    import tomllib

    assert (REPO / "src" / "dualgrad" / "py.typed").is_file()
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert "py.typed" in pyproject["tool"]["setuptools"]["package-data"]["dualgrad"]
