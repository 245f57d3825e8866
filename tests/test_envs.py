"""Conda environments pin the same versions as requirements.txt (conda cannot run here)."""

import re

import yaml

from workflow_helpers import REPO


def pins(lines):
    out = {}
    for line in lines:
        match = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*={1,2}\s*([0-9][^\s;#]*)", line)
        if match:
            out[match.group(1).lower().replace("_", "-")] = match.group(2)
    return out


def env_pins(name):
    env = yaml.safe_load((REPO / "envs" / f"{name}.yaml").read_text())
    lines = [d for d in env["dependencies"] if isinstance(d, str)]
    for d in env["dependencies"]:
        if isinstance(d, dict):
            lines += d.get("pip", [])
    found = pins(lines)
    if "matplotlib-base" in found:
        found["matplotlib"] = found.pop("matplotlib-base")
    return found


def test_env_pins_agree_with_requirements():
    required = pins((REPO / "requirements.txt").read_text().splitlines())
    for name in ("train", "analysis"):
        found = env_pins(name)
        found.pop("python", None)
        assert found, name
        for package, version in found.items():
            assert required.get(package) == version, f"envs/{name}.yaml pins {package}={version}, " \
                                                     f"requirements.txt {required.get(package)}"


def test_training_env_has_torch_and_analysis_env_has_none():
    assert {"torch", "torchvision"} <= set(env_pins("train"))
    assert not {"torch", "torchvision"} & set(env_pins("analysis"))


def test_rules_declare_their_environment():
    rules = (REPO / "workflow" / "rules")
    for name, env in (("train.smk", "train"), ("hysteresis.smk", "train"), ("data.smk", "train"),
                      ("aggregate.smk", "analysis"), ("figures.smk", "analysis")):
        assert f'"../../envs/{env}.yaml"' in (rules / name).read_text(), name


def test_env_files_hold_no_path_relative_to_themselves():
    # Snakemake builds an env from a copy in .snakemake/conda/<hash>.yaml: `-e ..` or `./x` would
    # point there. The package reaches jobs from the workflow's src/ instead (common.smk).
    for name in ("train", "analysis"):
        env = yaml.safe_load((REPO / "envs" / f"{name}.yaml").read_text())
        entries = [d for d in env["dependencies"] if isinstance(d, str)]
        entries += [p for d in env["dependencies"] if isinstance(d, dict) for p in d.get("pip", [])]
        for entry in entries:
            assert not re.match(r"^(-e\b|-r\b|\.|/|file:)", entry.strip()), f"envs/{name}.yaml: {entry}"
