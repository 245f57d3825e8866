"""`dualgrad keys` and `--help`: every run key described from the one schema, defaults and allowed
values of the schema and of RunConfig agree (or say why not), plain-text help."""

import dataclasses

import yaml

from dualgrad import config as engine
from dualgrad.architectures import ARCHITECTURES
from dualgrad.cli import build_parser, main
from dualgrad.config import RunConfig
from dualgrad.keys import SCHEMA, SET_BY_THE_WORKFLOW, WHY_DEFAULTS_DIFFER, describe_keys, schema_run_values


def test_every_run_key_is_in_the_schema_or_said_to_be_set_by_the_workflow():
    fields = {f.name for f in dataclasses.fields(RunConfig)}
    entries = schema_run_values()
    assert set(entries) <= fields, set(entries) - fields
    assert fields - set(entries) == set(SET_BY_THE_WORKFLOW)
    assert all(row["description"] for row in describe_keys()), [r["name"] for r in describe_keys()
                                                                 if not r["description"]]


def test_defaults_agree_or_say_why_not():
    differ = {row["name"] for row in describe_keys() if row["default"] != row["workflow_default"]}
    assert differ == set(WHY_DEFAULTS_DIFFER), differ


def test_allowed_values_agree_with_the_engine():
    entries = schema_run_values()
    assert entries["arch"]["enum"] == list(ARCHITECTURES)
    assert entries["method"]["enum"] == list(engine.METHODS)
    assert entries["value_source"]["enum"] == list(engine.VALUE_SOURCES)
    assert entries["dataset"]["enum"] == list(engine.DATASETS)
    assert entries["noise"]["enum"] == list(engine.NOISE_SCHEMES)


def test_schema_has_no_key_split_off_a_description():
    # an unquoted comma inside a YAML flow mapping cuts a description and adds a stray key
    def stray(node, path=""):
        if isinstance(node, dict):
            for key, value in node.items():
                if value is None and key != "default":
                    yield f"{path}/{key}"
                yield from stray(value, f"{path}/{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                yield from stray(value, f"{path}[{i}]")

    assert not list(stray(yaml.safe_load(SCHEMA.read_text())))


def test_keys_prints_types_defaults_descriptions_and_the_lam_note(capsys):
    assert main(["keys"]) == 0
    out = capsys.readouterr().out
    assert "lam  [float, >= 0 and <= 1]  default 0.0 (workflow: 0.3)" in out
    assert "why the defaults differ" in out and "arch  [one of ResNet18" in out


def test_help_is_plain_text_and_lists_every_subcommand():
    text = build_parser().format_help()
    assert "``" not in text and ":class:" not in text
    for command in ("train", "sweep", "prepare-data", "import", "keys", "tables", "analyze", "plot"):
        assert command in text
