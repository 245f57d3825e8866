import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PAPER_RESULTS = Path(os.environ.get("DUALGRAD_PAPER_RESULTS", REPO.parent / "shared" / "paper-results"))
sys.path.insert(0, str(Path(__file__).resolve().parent))


@pytest.fixture
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def paper_results() -> Path:
    if not PAPER_RESULTS.is_dir():
        pytest.skip(f"the paper's released results are not at {PAPER_RESULTS} (set DUALGRAD_PAPER_RESULTS)")
    return PAPER_RESULTS


def run_schema():
    import yaml

    return yaml.safe_load((REPO / "workflow" / "schemas" / "run.schema.yaml").read_text())


def validate_run(result: dict) -> None:
    import jsonschema

    jsonschema.validate(result, run_schema())
