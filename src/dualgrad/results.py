"""The run JSON: the notebooks' field names and meanings, plus config, provenance and status."""

from __future__ import annotations

import math

import numpy as np

from . import ALGORITHM_VERSION, __version__
from .provenance import device_info, git_commit, host_info, now, package_versions

SCHEMA_VERSION = 1


def _mean(values) -> float | None:
    vals = [v for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]
    return float(np.mean(vals)) if vals else None


def _finite(x):
    return x if x is None or math.isfinite(x) else None


def summary_metrics(cfg, history) -> dict:
    """Final / best / convergence metrics from the per-epoch history (the notebooks' definitions)."""
    acc = history.test_acc
    final = acc[-1]
    every = [a for e, a in zip(history.epoch, acc) if e % cfg.eval_every == 0]
    best = max(every + [final])  # P/B2/B3/C: evaluations every N epochs and at the end
    conv = next((e for e, err in zip(history.epoch, history.test_error) if err < cfg.convergence_threshold), None)
    return {
        "test_acc": final,
        "test_error": 1 - final,
        "best_acc": best,
        "best_error": 1 - best,
        "best_test_error": 1 - best,  # exp_A/B2/B3/C name for best_error
        "best_acc_any_epoch": max(acc),  # Exp K's best_acc: max over every epoch
        "convergence_epoch": conv,
        "avg_cos_struct_value": _mean(history.avg_cos),
    }


def result_header(cfg, status: str) -> dict:
    """What every run JSON starts with: status, identity, and the notebooks' run keys."""
    return {
        "schema_version": SCHEMA_VERSION,
        "status": status,
        "run_id": cfg.fingerprint()[:16],
        "algorithm_version": ALGORITHM_VERSION,
        "arch": cfg.arch,
        "method": cfg.method,
        "lambda": cfg.lam,
        "noise_rate": cfg.eta,
        "seed": cfg.seed,
    }


def build_result(cfg, trainer, labels, data, *, started: str, extra_provenance: dict | None = None) -> dict:
    history = trainer.history
    first_cos = [_finite(v) for v in trainer.stepper.log.first_cos.tolist()]
    first_gmix = [_finite(v) for v in trainer.stepper.log.first_gmix.tolist()]
    n_first = min(cfg.log_steps, trainer.stepper.step)
    result = {
        **result_header(cfg, history.status),
        **summary_metrics(cfg, history),
        "avg_cos_similarity": _mean(first_cos[:n_first]),  # B3: mean over the first log_steps steps
        "avg_gmix_norm": _mean(first_gmix[:n_first]),
        "time_seconds": history.train_seconds + history.eval_seconds,
        "dynamics": {k: getattr(history, k) for k in
                     ("epoch", "test_acc", "test_error", "train_loss", "avg_cos", "avg_gmix_norm", "lr", "lam")},
        "first_steps": {"cos": first_cos[:n_first], "gmix_norm": first_gmix[:n_first]},
        "trajectory": history.trajectory if cfg.lam_schedule is not None else None,
        "accepted": _accepted(cfg, 1 - history.test_acc[-1]),
        "steps": trainer.stepper.step,
        "num_parameters": sum(p.numel() for p in trainer.model.parameters()),
        "throughput": {
            "train_images_per_s": history.images_seen / history.train_seconds if history.train_seconds else None,
            "train_seconds": history.train_seconds,
            "eval_seconds": history.eval_seconds,
            "images_seen": history.images_seen,
        },
        "config": cfg.to_dict(),
        "provenance": {
            "package": {"name": "dualgrad", "version": __version__, **git_commit()},
            "versions": package_versions(),
            "device": device_info(trainer.device),
            **host_info(),
            "started": started,
            "finished": now(),
            "segments": history.segments,
            "seeds": {"torch": cfg.seed, "data_stream": cfg.seed, "label_noise": cfg.resolved_label_seed,
                      "random_value_labels": cfg.random_label_seed if cfg.value_source == "random_labels"
                      else None},
            "labels": {**labels.hashes(), "noise_fraction": labels.noise_fraction()},
            "dataset": {"name": data.name, "n_train": len(data.train_y), "n_test": len(data.test_y),
                        "num_classes": data.num_classes, **data.source},
            "imported": False,
            **(extra_provenance or {}),
        },
    }
    return result


def _accepted(cfg, error: float) -> bool | None:
    if cfg.accept_below is None and cfg.accept_at_least is None:
        return None
    ok = True
    if cfg.accept_below is not None:
        ok &= error < cfg.accept_below
    if cfg.accept_at_least is not None:
        ok &= error >= cfg.accept_at_least
    return bool(ok)


def result_problem(result) -> str | None:
    """What makes a parsed run JSON unusable downstream (None if it is sound)."""
    if not isinstance(result, dict):
        return f"a JSON {type(result).__name__}, not an object"
    if result.get("status") not in ("ok", "diverged", "skipped"):
        return f"status {result.get('status')!r}"
    for key in ("config", "provenance"):
        if not isinstance(result.get(key), dict):
            return f"no '{key}' object"
    for key in ("test_acc", "test_error"):
        if key not in result or not (result[key] is None or isinstance(result[key], (int, float))):
            return f"'{key}' missing or not a number"
    dyn = result.get("dynamics")
    if dyn is not None:
        if not isinstance(dyn, dict) or not isinstance(dyn.get("epoch"), list):
            return "'dynamics' has no epoch list"
        for key, values in dyn.items():
            if values is not None and (not isinstance(values, list) or len(values) != len(dyn["epoch"])):
                return f"'dynamics.{key}' does not have one entry per epoch"
    trajectory = result.get("trajectory")
    if trajectory is not None:
        if not isinstance(trajectory, list) or not all(
                isinstance(p, dict) and isinstance(p.get("lambda"), (int, float))
                and isinstance(p.get("error"), (int, float)) for p in trajectory):
            return "'trajectory' entries need numeric 'lambda' and 'error'"
    return None
