"""The run config keys, described: ``python -m dualgrad keys``.

Names, types and defaults come from :class:`~dualgrad.config.RunConfig` (what the engine
accepts); descriptions, allowed values and the workflow's defaults from the workflow's JSON
schema (``workflow/schemas/config.schema.yaml``, ``$defs.run_values``), where a checkout has it.
Where the two defaults differ, :data:`WHY_DEFAULTS_DIFFER` says why (a test keeps it complete).
"""

from __future__ import annotations

import dataclasses
import typing
from pathlib import Path

from .config import RunConfig

SCHEMA = Path(__file__).resolve().parents[2] / "workflow" / "schemas" / "config.schema.yaml"

WHY_DEFAULTS_DIFFER = {
    "lam": "a bare run config mixes in no value gradient (λ = 0: the noisy labels alone); the "
           "workflow starts from the paper's main setting, λ = 0.3",
}
SET_BY_THE_WORKFLOW = {  # keys with no entry of their own in the schema's run values
    "lam_schedule": "λ per block of epochs_per_lam epochs (hysteresis sweeps; the workflow sets it "
                    "from experiments.V3.sweeps)",
    "epochs_per_lam": "epochs per λ of lam_schedule (hysteresis sweeps)",
}


def schema_run_values(path: Path = SCHEMA) -> dict[str, dict]:
    """Each run key's schema entry with its ``$ref`` chain resolved (empty without a schema)."""
    if not path.is_file():
        return {}
    import yaml

    schema = yaml.safe_load(path.read_text())
    defs = schema.get("$defs", {})

    def resolve(entry: dict) -> dict:
        ref = entry.get("$ref")
        if not ref:
            return dict(entry)
        base = resolve(defs[ref.rsplit("/", 1)[-1]])
        return {**base, **{k: v for k, v in entry.items() if k != "$ref"}}

    return {name: resolve(entry) for name, entry in defs["run_values"]["properties"].items()}


def _type_text(field: dataclasses.Field, entry: dict) -> str:
    if "enum" in entry:
        return "one of " + ", ".join(map(str, entry["enum"]))
    hints = typing.get_type_hints(RunConfig)
    text = str(hints[field.name]).replace("typing.", "").replace("<class '", "").replace("'>", "")
    bounds = []
    for key, sign in (("minimum", ">="), ("exclusiveMinimum", ">"), ("maximum", "<="), ("exclusiveMaximum", "<")):
        if key in entry:
            bounds.append(f"{sign} {entry[key]}")
    return text + (f", {' and '.join(bounds)}" if bounds else "")


def _default(field: dataclasses.Field):
    if field.default is not dataclasses.MISSING:
        return field.default
    return field.default_factory()  # type: ignore[misc]


def describe_keys(path: Path = SCHEMA) -> list[dict]:
    """One dict per run key: name, type, default, workflow_default, description, note."""
    entries = schema_run_values(path)
    rows = []
    for field in dataclasses.fields(RunConfig):
        entry = entries.get(field.name, {})
        default = _default(field)
        workflow_default = entry.get("default", default)
        if isinstance(default, tuple):
            default = list(default)
        rows.append({
            "name": field.name,
            "type": _type_text(field, entry),
            "default": default,
            "workflow_default": workflow_default,
            "description": entry.get("description") or SET_BY_THE_WORKFLOW.get(field.name, ""),
            "note": WHY_DEFAULTS_DIFFER.get(field.name, ""),
        })
    return rows


def format_keys(rows: list[dict]) -> str:
    lines = []
    for row in rows:
        default = f"default {row['default']!r}"
        if row["workflow_default"] != row["default"]:
            default += f" (workflow: {row['workflow_default']!r})"
        lines.append(f"{row['name']}  [{row['type']}]  {default}")
        if row["description"]:
            lines.append(f"    {row['description']}")
        if row["note"]:
            lines.append(f"    why the defaults differ: {row['note']}")
    return "\n".join(lines)
