"""The authors' released notebook results -> run JSONs of this workflow (for the figures-only path).

Each notebook result file (found by name under ``source``) belongs to one
experiment of the workflow config; each of its records is matched to the plan
row of that experiment with the same (model, condition, λ, η, seed), numbers
compared by their text (:func:`dualgrad.plan.format_value`) so that float
representation cannot break a match. The plan is built with
``share_runs: false``: the authors trained "identical" settings separately in
each experiment, and each experiment keeps its own runs.

A written JSON holds the plan's resolved config, the notebook's metrics under
the workflow's names, and ``provenance.imported = true`` with the source file
and record. Nothing here imports torch.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from types import SimpleNamespace
from typing import Iterable

import yaml

from . import io
from .plan import Plan, build_plan, format_value
from .results import SCHEMA_VERSION, _accepted, summary_metrics

log = logging.getLogger(__name__)

SOURCE = "HIDEKI-SQ/dual-gradient-learning notebooks/Paper-A/results @48b95f5"

# file name (glob under source) -> experiment and the record field holding the condition label
SOURCES = (
    ("exp_A_fixed_results.json", "A", None),
    ("exp_C_fixed_results.json", "C", "method"),  # C's 'method' (CE, Aligned, ...) is our condition
    ("exp_B2_results.json", "B2", None),
    ("exp_B3_results.json", "B3", "condition"),
    ("exp_P_results.json", "P", None),
    ("exp_K*/results.json", "K", None),
    ("exp_N1_results.json", "N", None),
    ("exp_N2_results.json", "N", None),
)
HYSTERESIS_SOURCE = ("V3_results.json", "V3")
ARCH_ALIASES = {"VGG11-BN": "VGG11_BN_MLP"}  # V3's name for its VGG11-BN with an MLP head
COPIED = ("avg_cos_struct_value", "avg_cos_similarity", "avg_gmix_norm", "convergence_epoch", "time_seconds")


# ------------------------------------------------------------------ matching
def _key(model, condition, lam, eta, seed) -> tuple:
    return (model, condition, format_value(float(lam)), format_value(float(eta)), int(seed))


def _index(plan: Plan, experiment: str) -> dict[tuple, dict]:
    return {_key(r["model"], r["condition"], r["lambda"], r["noise_rate"], r["seed"]): r
            for r in plan.experiments[experiment].rows if r["kind"] == "train"}


def _record_key(record: dict, rows: Iterable[dict], label_field: str | None) -> tuple:
    models = {r["model"] for r in rows}
    model = record.get("model") or record.get("arch")
    model = ARCH_ALIASES.get(model, model)
    if model is None and len(models) == 1:  # the file has one architecture and does not name it
        model = next(iter(models))
    condition = record.get(label_field) if label_field else None
    return _key(model, condition, record["lambda"], record["noise_rate"], record["seed"])


# ------------------------------------------------------------------ results
def _provenance(source_file: str, index: int, derived: list[str]) -> dict:
    return {"imported": True, "source_file": source_file, "source_record": index, "source": SOURCE,
            "derived": derived}


def _base(cfg) -> dict:
    return {"schema_version": SCHEMA_VERSION, "status": "ok", "run_id": cfg.fingerprint()[:16],
            "arch": cfg.arch, "method": cfg.method, "lambda": cfg.lam, "noise_rate": cfg.eta, "seed": cfg.seed}


def _schedule(cfg, epochs: list[int]) -> tuple[list[float], list[float]]:
    """lr and λ during each epoch, from the config (MultiStepLR stepped after each epoch)."""
    lr = [cfg.lr * cfg.gamma ** sum(m <= e - 1 for m in cfg.milestones) for e in epochs]
    return lr, [cfg.lam] * len(epochs)


def _dynamics(cfg, record: dict) -> tuple[dict | None, dict, list[str]]:
    """Per-epoch records with lr/λ from the config, and the metrics our definitions derive from them."""
    dyn = record.get("dynamics")
    if not dyn:
        return None, {}, []
    out = {k: list(dyn[k]) for k in ("epoch", "test_acc", "test_error", "train_loss", "avg_cos", "avg_gmix_norm")}
    out["lr"], out["lam"] = _schedule(cfg, out["epoch"])
    metrics = summary_metrics(cfg, SimpleNamespace(**out))
    derived = {"best_acc": metrics["best_acc"], "best_error": metrics["best_error"],
               "best_test_error": metrics["best_test_error"], "avg_cos_struct_value": metrics["avg_cos_struct_value"],
               "best_acc_any_epoch": record.get("best_acc", metrics["best_acc_any_epoch"])}
    if record.get("convergence_epoch") != metrics["convergence_epoch"]:
        log.warning("convergence_epoch %s in the record differs from %s recomputed from its dynamics",
                    record.get("convergence_epoch"), metrics["convergence_epoch"])
    return out, derived, ["dynamics.lr", "dynamics.lam", "best_acc", "best_error", "avg_cos_struct_value"]


def train_result(cfg, record: dict, source_file: str, index: int) -> dict:
    result = _base(cfg)
    result["test_acc"] = record["test_acc"]
    result["test_error"] = record.get("test_error", 1 - record["test_acc"])
    derived_names = []
    best_error = record.get("best_error", record.get("best_test_error"))
    if best_error is not None:
        if "best_acc" not in record:
            derived_names.append("best_acc")
        result.update(best_acc=record.get("best_acc", 1 - best_error), best_error=best_error,
                      best_test_error=best_error)
    result.update({k: record[k] for k in COPIED if k in record})
    dynamics, derived, from_dynamics = _dynamics(cfg, record)
    result.update(derived)  # Exp K: best_* per our definition, the notebook's best_acc kept as best_acc_any_epoch
    derived_names = sorted(set(derived_names + from_dynamics))
    result.update(dynamics=dynamics, trajectory=None, accepted=None, config=cfg.to_dict(),
                  provenance=_provenance(source_file, index, derived_names))
    return result


def start_result(cfg, error: float, source_file: str, index: int) -> dict:
    result = _base(cfg)
    result.update(test_acc=1 - error, test_error=error, dynamics=None, trajectory=None,
                  accepted=_accepted(cfg, error), config=cfg.to_dict(),
                  provenance=_provenance(source_file, index, ["test_acc", "accepted"]))
    return result


def sweep_result(cfg, trajectory: list[dict], source_file: str, index: int) -> dict:
    last = trajectory[-1]["error"]
    result = _base(cfg)
    result.update(test_acc=1 - last, test_error=last, dynamics=None, accepted=None, config=cfg.to_dict(),
                  trajectory=[{"lambda": float(t["lambda"]), "error": float(t["error"])} for t in trajectory],
                  provenance=_provenance(source_file, index, ["test_acc", "test_error"]))
    return result


# ------------------------------------------------------------------ files
def _find(source: Path, pattern: str) -> list[Path]:
    return sorted(p for p in source.rglob(pattern) if p.is_file())


def _import_train(plan: Plan, source: Path, results_dir: Path) -> list[Path]:
    written = []
    for pattern, experiment, label_field in SOURCES:
        if experiment not in plan.experiments:
            continue
        index = _index(plan, experiment)
        for path in _find(source, pattern):
            rel = path.relative_to(source).as_posix()
            for i, record in enumerate(io.read_json(path)):
                key = _record_key(record, index.values(), label_field)
                row = index.get(key)
                if row is None:
                    log.warning("%s record %d %s: no run of experiment %s matches; skipped", rel, i, key, experiment)
                    continue
                if record.get("region") not in (None, row["region"]):
                    log.warning("%s record %d: region %s, the config says %s", rel, i, record["region"], row["region"])
                out = results_dir / f"{row['run']}.json"
                io.write_json(out, train_result(plan.runs[row["run"]].config, record, rel, i))
                written.append(out)
    return written


def _import_hysteresis(plan: Plan, source: Path, results_dir: Path) -> list[Path]:
    pattern, experiment = HYSTERESIS_SOURCE
    if experiment not in plan.experiments:
        return []
    rows = plan.experiments[experiment].rows
    written = []
    for path in _find(source, pattern):
        rel = path.relative_to(source).as_posix()
        for i, record in enumerate(io.read_json(path)):
            arch = ARCH_ALIASES.get(record.get("arch"), record.get("arch"))
            mine = [r for r in rows if r["seed"] == record["seed"] and r["model"] == arch]
            if not mine:
                log.warning("%s record %d (seed %s, %s): no run of %s matches; skipped", rel, i, record["seed"],
                            record.get("arch"), experiment)
                continue
            for row in mine:
                run = plan.runs[row["run"]]
                cfg = run.config
                if run.kind == "start":
                    field = "collapse_init" if "collapse" in row["branch"] else "ordered_init"
                    result = start_result(cfg, record[field], rel, i)
                else:
                    start_branch = next(r["branch"] for r in rows if r["run"] == run.start)
                    field = "collapse_trajectory" if "collapse" in start_branch else "ordered_trajectory"
                    trajectory = record[field]
                    ours = [format_value(float(v)) for v in cfg.lam_schedule]
                    theirs = [format_value(float(t["lambda"])) for t in trajectory]
                    if ours != theirs:
                        log.warning("%s record %d %s: λ %s, the config sweeps %s; skipped", rel, i, field, theirs, ours)
                        continue
                    result = sweep_result(cfg, trajectory, rel, i)
                out = results_dir / f"{row['run']}.json"
                io.write_json(out, result)
                written.append(out)
    return written


def import_results(source: str | Path, workflow_config: str | Path | dict, results_dir: str | Path) -> list[Path]:
    """Write a run JSON for every record of the notebooks' result files under ``source``; return their paths.

    ``workflow_config``: the workflow config (a path to its YAML, or the dict).
    Records that match no plan row are reported (logging warning) and skipped;
    plan rows no record matched are simply not written (the tables list them as missing).
    """
    source, results_dir = Path(source), Path(results_dir)
    if not source.is_dir():
        raise FileNotFoundError(f"no folder of notebook results at {source}")
    config = workflow_config if isinstance(workflow_config, dict) else yaml.safe_load(Path(workflow_config).read_text())
    plan = build_plan({**config, "share_runs": False})
    written = _import_train(plan, source, results_dir) + _import_hysteresis(plan, source, results_dir)
    duplicates = len(written) - len(set(written))
    if duplicates:
        log.warning("%d runs were written by more than one record (the last one stands)", duplicates)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dualgrad.importer", description=import_results.__doc__)
    parser.add_argument("source", help="folder holding the notebooks' result files")
    parser.add_argument("config", help="the workflow config (config.yaml)")
    parser.add_argument("results_dir", help="where the run JSONs go (e.g. results/paper)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    written = import_results(args.source, args.config, args.results_dir)
    log.info("wrote %d run JSONs under %s", len(written), args.results_dir)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
