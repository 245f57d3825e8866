"""Hysteresis protocol (V3): start runs that must pass a threshold, and λ sweeps from them.

A start is an ordinary run with ``accept_below`` / ``accept_at_least`` and a
saved model. A sweep is a run that begins from a start's model with a fresh
optimiser (no schedule) and a λ schedule; its step counter and value-gradient
cache carry across λ because it is one run. When a required start missed its
threshold the sweep writes a ``skipped`` result instead of training, so the
workflow completes and the summary says why.
"""

from __future__ import annotations

import os

from . import io
from .config import RunConfig, Runtime
from .errors import ConfigError
from .provenance import host_info, now
from .result_files import read_result
from .train import train


def rejected_starts(start_results: list[str | os.PathLike]) -> list[dict]:
    rejected = []
    for path in start_results:
        if not os.path.isfile(path):
            raise ConfigError("require_accepted", f"no start result at '{path}'")
        start = read_result(path)
        if start.get("accepted") is False:
            rejected.append({"path": str(path), "test_error": start.get("test_error"),
                             "accept_below": start["config"].get("accept_below"),
                             "accept_at_least": start["config"].get("accept_at_least")})
    return rejected


def run_sweep(cfg: RunConfig, runtime: Runtime, output, start_model, require_accepted: list, checkpoint=None,
              name: str | None = None, extra_provenance: dict | None = None) -> dict:
    if cfg.lam_schedule is None:
        raise ConfigError("lam_schedule", "a sweep needs a λ schedule")
    rejected = rejected_starts(require_accepted)
    if rejected:
        io.check_writable(output, "output")
        result = skipped_result(cfg, rejected)
        io.write_json(output, result)
        return result
    starts = {str(p): read_result(p).get("run_id") for p in require_accepted}
    return train(cfg, runtime, output, checkpoint=checkpoint, init_model=start_model, name=name,
                 extra_provenance={"start_runs": starts, "start_model": str(start_model), **(extra_provenance or {})})


def skipped_result(cfg: RunConfig, rejected: list[dict]) -> dict:
    from .results import result_header

    return {
        **result_header(cfg, "skipped"),
        "skip_reason": "start run(s) missed their acceptance threshold",
        "rejected_starts": rejected,
        "test_acc": None,
        "test_error": None,
        "trajectory": None,
        "config": cfg.to_dict(),
        "provenance": {"started": now(), "finished": now(), "imported": False, **host_info()},
    }
