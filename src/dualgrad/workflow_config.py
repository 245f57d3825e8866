"""Check the workflow config against its JSON schema, with one short message naming the key."""

from __future__ import annotations

from pathlib import Path

from .errors import ConfigError


def _dotted(path) -> str:
    return ".".join(str(p) for p in path) or "(top level)"


def coerce_command_line_booleans(config: dict, schema: dict) -> None:
    """`--config figures_only=true` arrives as the string 'true' (Snakemake parses only True/False)."""
    for key, spec in schema.get("properties", {}).items():
        value = config.get(key)
        if spec.get("type") == "boolean" and isinstance(value, str) and value.lower() in ("true", "false"):
            config[key] = value.lower() == "true"


def validate_workflow_config(config: dict, schema_path: str | Path) -> None:
    """Raise ConfigError for the most relevant schema violation (deepest first)."""
    import jsonschema
    import yaml
    from jsonschema.exceptions import best_match

    schema = yaml.safe_load(Path(schema_path).read_text())
    coerce_command_line_booleans(config, schema)
    validator = jsonschema.Draft202012Validator(schema)
    error = best_match(validator.iter_errors(config))
    if error is None:
        check_results_dir(config.get("results_dir", "results"))
        return
    while error.context:  # oneOf/anyOf: report the alternative that came closest
        error = best_match(error.context)
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        extra = sorted(set(error.instance) - set(allowed))
        key = _dotted([*error.absolute_path, extra[0]]) if extra else _dotted(error.absolute_path)
        hint = f"; allowed: {', '.join(allowed)}" if allowed else ""
        raise ConfigError(key, f"unknown key{hint}")
    raise ConfigError(_dotted(error.absolute_path), error.message)


def check_results_dir(results_dir: str) -> None:
    """Fail at parse time, naming the key, where results could never be written (no side effects)."""
    import os

    path = Path(results_dir)
    for folder in (path, *path.parents):
        if folder.exists():
            if not folder.is_dir():
                raise ConfigError("results_dir", f"cannot create '{path}': '{folder}' is a file, not a folder")
            if not os.access(folder, os.W_OK | os.X_OK):
                raise ConfigError("results_dir", f"cannot write under '{folder}' (read-only or no permission)")
            return


def exit_for_config_error(error: ConfigError) -> None:
    """End a Snakemake parse with the error's one line and status 2, as the CLI ends bad input.

    Raised as an exception, Snakemake would print its own banner and end with status 1, which
    does not tell a wrapper script a bad config from a failed job. SystemExit passes through
    Snakemake's handlers (they catch Exception), and at parse time nothing is locked yet."""
    import sys

    print(f"Error: {error}", file=sys.stderr)
    raise SystemExit(error.exit_status)
