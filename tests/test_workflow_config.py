"""Bad workflow configs are rejected before any job runs, naming the key; the plan's rules."""

import copy

import pytest
import yaml

from dualgrad.errors import ConfigError
from dualgrad.plan import build_plan, decimal_range
from dualgrad.workflow_config import validate_workflow_config
from workflow_helpers import REPO, deep_merge, snakemake

SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"


@pytest.fixture(scope="module")
def paper_config():
    return yaml.safe_load((REPO / "config.yaml").read_text())


@pytest.mark.parametrize("overlay,key", [
    ({"experiments": {"P": {"grid": {"lamda": [0.3]}}}}, "experiments.P.grid.lamda"),
    ({"experiments": {"P": {"grid": {"lam": [0.3, 1.5]}}}}, "experiments.P.grid.lam.1"),
    ({"experiments": {"P": {"grid": {"arch": ["ResNet18", "ResNet19"]}}}}, "experiments.P.grid.arch.1"),
    ({"defaults": {"lam": 1.5}}, "defaults.lam"),
    ({"defaults": {"eta": 1.0}}, "defaults.eta"),
    ({"defaults": {"K": 0}}, "defaults.K"),
    ({"experiments": {"V3": {"seeds": []}}}, "experiments.V3.seeds"),
    ({"results_dirr": "x"}, "results_dirr"),
])
def test_schema_names_the_offending_key(paper_config, overlay, key):
    config = deep_merge(copy.deepcopy(paper_config), overlay)
    with pytest.raises(ConfigError) as err:
        validate_workflow_config(config, SCHEMA)
    assert err.value.key == key


def test_the_shipped_configs_are_valid(paper_config):
    for overlay in ("demo", "smoke", "paper-import"):
        path = REPO / "config" / f"{overlay}.yaml"
        if path.exists():
            config = deep_merge(copy.deepcopy(paper_config), yaml.safe_load(path.read_text()))
            validate_workflow_config(config, SCHEMA)
            assert build_plan(config).runs


@pytest.mark.parametrize("overlay,fragment", [
    ({"lamda": [0.3]}, "'experiments.P.grid.lamda'"),
    ({"lam": [0.3, 1.5]}, "'experiments.P.grid.lam.1'"),
    ({"arch": ["ResNet19"]}, "'experiments.P.grid.arch.0'"),
])
def test_snakemake_rejects_before_any_job(tmp_path, overlay, fragment):
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"results_dir": str(tmp_path / "results"),
                                   "experiments": {"P": {"grid": overlay}}}))
    proc = snakemake("--cores", "1", "--workflow-profile", "none", "--configfile", bad, check=False, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    assert f"config key {fragment}" in proc.stdout + proc.stderr
    assert not (tmp_path / "results").exists()


def test_semantic_errors_name_the_key(paper_config):
    config = copy.deepcopy(paper_config)
    config["experiments"]["K"]["regions"]["critical"] = [0.43, 0.45]  # 0.47 left without a region
    with pytest.raises(ConfigError) as err:
        build_plan(config)
    assert err.value.key == "experiments.K.regions"
    config = copy.deepcopy(paper_config)
    config["experiments"]["C"]["conditions"]["Loss-mix"]["value_source"] = "negated_clean"
    with pytest.raises(ConfigError) as err:
        build_plan(config)
    assert err.value.key == "experiments.C.conditions.Loss-mix.value_source"
    config = copy.deepcopy(paper_config)
    config["experiments"]["P"]["grid"]["seed"] = [0, 1, 1]
    with pytest.raises(ConfigError, match="listed twice"):
        build_plan(config)


def test_ranges_are_exact_decimals():
    assert decimal_range({"start": 0.1, "stop": 0.5, "step": 0.05}, "k") == \
        [0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5]
    assert decimal_range({"start": 0.7, "stop": 0.3, "step": -0.05}, "k")[1] == 0.65
    with pytest.raises(ConfigError):
        decimal_range({"start": 0.1, "stop": 0.5, "step": -0.1}, "k")


def test_adding_an_experiment_is_a_config_edit(paper_config):
    config = copy.deepcopy(paper_config)
    config["experiments"]["V3_resnet"] = dict(copy.deepcopy(config["experiments"]["V3"]))
    config["experiments"]["V3_resnet"]["overrides"]["arch"] = "ResNet18"
    config["experiments"]["P2"] = {"analysis": "universality", "grid": {"arch": ["ResNet18"], "lam": [0.3, 0.7],
                                                                       "eta": [0.4], "seed": [0, 1, 2]}}
    validate_workflow_config(config, SCHEMA)
    plan = build_plan(config)
    assert len(plan.experiments["V3_resnet"].rows) == 12
    assert len(plan.runs) == 341 + 12 + 3  # λ=0.3 at η=0.4, seeds 0-2 are already in K/A/C/N


def test_unshared_runs_get_one_copy_per_experiment(paper_config):
    plan = build_plan({**paper_config, "share_runs": False})
    assert len(plan.runs) == 458
    assert all(p.startswith(("runs/", "hysteresis/")) for p in plan.runs)

