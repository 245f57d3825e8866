"""From the workflow config to runs: each experiment's run table and the registry of distinct runs.

A run's path is a function of its resolved config alone, so a run that
several experiments ask for (same config) has one path and is trained once:

    runs/arch~ResNet18/method~dual/value~clean/K~16/renorm~false/lam~0.35/eta~0.4/seed~0

Segments name the keys that define the paper's runs; any other key whose
value differs from the workflow's ``defaults`` adds a ``key~value`` segment
(sorted), so runs that differ anywhere never share a path. Hysteresis runs
live under ``hysteresis/<experiment>/`` with their start/sweep name.

Nothing here imports torch: the Snakefile calls it at parse time.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Iterable

from .config import RunConfig
from .errors import ConfigError

# The figures each analysis type draws (dualgrad.figures makes them; the DAG needs the names).
FIGURES = {
    "universality": ["error_vs_lambda"],
    "dynamics": ["learning_curves", "convergence_time"],
    "anti_aligned": ["anti_aligned"],
    "ablation": ["ablation"],
    "sweep": ["main_sweep"],
    "baselines": ["baselines"],
    "phase": ["phase_diagram", "phase_curves"],
    "hysteresis": ["hysteresis"],
    "sweep_rate": ["sweep_rate"],
    "size_control": ["size_control"],
}
ANALYSES = tuple(FIGURES)
# Analyses that judge a claim against another experiment's measured runs (the summary of
# params.baselines_from, i.e. C's CE runs of the same results tree): the DAG gives them its input.
USES_BASELINES = frozenset({"anti_aligned", "ablation"})
_CORE = ("arch", "method", "value_source", "K", "renorm", "lam", "eta", "seed")
_LABELS = ("condition", "region", "branch")


@dataclass(frozen=True)
class Run:
    path: str  # relative to the results folder, without ".json"
    kind: str  # train | start | sweep
    config: RunConfig
    start: str | None = None  # sweep: the start run whose model it continues
    requires: tuple[str, ...] = ()  # sweep: start runs that must pass their thresholds


@dataclass
class Experiment:
    name: str
    analysis: str
    rows: list[dict] = field(default_factory=list)  # one per run the experiment uses, with its labels
    params: dict = field(default_factory=dict)  # analysis settings from the config

    @property
    def run_paths(self) -> list[str]:
        return [row["run"] for row in self.rows]


@dataclass
class Plan:
    runs: dict[str, Run]
    experiments: dict[str, Experiment]

    def paths(self, kind: str) -> list[str]:
        return [p for p, r in self.runs.items() if r.kind == kind]

    def requested(self) -> int:
        """Runs asked for before sharing (each experiment counted on its own)."""
        return sum(len(e.rows) for e in self.experiments.values())


# -------------------------------------------------------------- formatting
def format_value(value: Any) -> str:
    """Path-safe text of a config value; floats via repr (0.35 stays '0.35')."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "none"
    if isinstance(value, (list, tuple)):
        return "-".join(format_value(v) for v in value) or "none"
    return repr(value) if isinstance(value, float) else str(value)


def run_path(cfg: RunConfig, defaults: RunConfig) -> str:
    segments = [f"arch~{cfg.arch}", f"method~{cfg.method}"]
    if cfg.method != "ce":
        segments.append(f"value~{cfg.value_source}")
    if cfg.method == "dual":
        segments += [f"K~{cfg.K}", f"renorm~{format_value(cfg.renorm)}"]
    ours, base = cfg.to_dict(), defaults.to_dict()
    segments += [f"{k}~{format_value(ours[k])}" for k in sorted(ours) if k not in _CORE and ours[k] != base[k]]
    if cfg.method != "ce":
        segments.append(f"lam~{format_value(cfg.lam)}")
    segments += [f"eta~{format_value(cfg.eta)}", f"seed~{cfg.seed}"]
    return "runs/" + "/".join(segments)


def decimal_range(spec: dict, key: str) -> list[float]:
    """``{start, stop, step}`` (stop included) in exact decimal steps: 0.30, 0.35, ... never 0.35000000000000003."""
    try:
        start, stop, step = (Decimal(str(spec[k])) for k in ("start", "stop", "step"))
    except KeyError as err:
        raise ConfigError(key, f"a range needs start, stop and step (missing {err})") from None
    if step == 0 or (stop - start) * step < 0:
        raise ConfigError(key, f"step {step} does not lead from {start} to {stop}")
    count = int((stop - start) / step) + 1
    return [float(start + i * step) for i in range(count)]


def _values(spec: Any, key: str) -> list:
    if isinstance(spec, dict):
        return decimal_range(spec, key)
    values = list(spec) if isinstance(spec, (list, tuple)) else [spec]
    if not values:
        raise ConfigError(key, "must list at least one value")
    seen = [format_value(v) for v in values]
    dup = next((v for v in seen if seen.count(v) > 1), None)
    if dup is not None:
        raise ConfigError(key, f"value {dup} is listed twice")
    return values


def _config(values: dict, where: dict[str, str]) -> RunConfig:
    """RunConfig.from_dict, re-raising errors with the config path the bad key came from."""
    try:
        return RunConfig.from_dict(values)
    except ConfigError as err:
        raise ConfigError(where.get(err.key, f"defaults.{err.key}"), str(err).split(": ", 1)[1]) from None


def _scaled(value: float, factor: float) -> float:
    return float(Decimal(str(value)) * Decimal(str(factor)))


# ------------------------------------------------------------------ build
def build_plan(config: dict) -> Plan:
    """All runs of all experiments in ``config`` (the workflow config, already schema-validated).

    Experiments marked ``extension: true`` join only when the config says
    ``extensions: true``. ``share_runs: false`` gives every experiment its own copy of each run
    (``runs/<experiment>/...``): for imported results, where the authors
    trained "identical" runs separately in each experiment.
    """
    share = config.get("share_runs", True)
    defaults_dict = dict(config.get("defaults") or {})
    defaults = _config(defaults_dict, {k: f"defaults.{k}" for k in defaults_dict})
    runs: dict[str, Run] = {}
    experiments: dict[str, Experiment] = {}
    for name, spec in (config.get("experiments") or {}).items():
        if spec.get("enabled", True) is False:
            continue
        if spec.get("extension", False) and not config.get("extensions", False):
            continue  # an opt-in extension experiment: only with `extensions: true`
        analysis = spec.get("analysis")
        if analysis not in ANALYSES:
            raise ConfigError(f"experiments.{name}.analysis",
                              f"unknown value {analysis!r}; allowed: {', '.join(ANALYSES)}")
        exp = Experiment(name, analysis, params=dict(spec.get("params") or {}))
        expand = _hysteresis_runs if spec.get("kind") == "hysteresis" else _grid_runs
        for run, labels in expand(name, spec, defaults_dict, defaults):
            if not share and run.kind == "train":
                run = Run(run.path.replace("runs/", f"runs/{name}/", 1), run.kind, run.config)
            existing = runs.setdefault(run.path, run)
            if existing.config != run.config:  # cannot happen by construction; guards future path changes
                raise ConfigError(f"experiments.{name}", f"run path {run.path} would hold two configs")
            exp.rows.append(_row(name, run, labels))
        paths = exp.run_paths
        if len(set(paths)) != len(paths):
            dup = next(p for p in paths if paths.count(p) > 1)
            raise ConfigError(f"experiments.{name}", f"lists the same run twice ({dup})")
        experiments[name] = exp
    return Plan(runs, experiments)


def _row(experiment: str, run: Run, labels: dict) -> dict:
    cfg = run.config
    row = {"experiment": experiment, "run": run.path, "kind": run.kind}
    row.update({k: labels.get(k) for k in _LABELS})
    row.update(model=cfg.arch, method=cfg.method, value_source=cfg.value_source, renorm=cfg.renorm, K=cfg.K,
               noise_rate=cfg.eta, seed=labels.get("seed", cfg.seed))
    row["lambda"] = cfg.lam if cfg.lam_schedule is None else None
    return row


def _grid_runs(name: str, spec: dict, defaults_dict: dict, defaults: RunConfig) -> Iterable[tuple[Run, dict]]:
    overrides = dict(spec.get("overrides") or {})
    grid = dict(spec.get("grid") or {})
    conditions = spec.get("conditions") or {None: {}}
    regions = spec.get("regions")
    for cond_name, cond in conditions.items():
        cond = dict(cond or {})
        where = {k: f"defaults.{k}" for k in defaults_dict}
        where.update({k: f"experiments.{name}.overrides.{k}" for k in overrides})
        where.update({k: f"experiments.{name}.grid.{k}" for k in grid})
        where.update({k: f"experiments.{name}.conditions.{cond_name}.{k}" for k in cond})
        axes = {k: _values(v, where[k]) for k, v in {**grid, **cond}.items() if isinstance(v, (list, dict))}
        fixed = {k: v for k, v in cond.items() if not isinstance(v, (list, dict))}
        for k in fixed:
            axes.pop(k, None)
        keys = list(axes)
        for combo in itertools.product(*(axes[k] for k in keys)):
            values = {**defaults_dict, **overrides, **fixed, **dict(zip(keys, combo))}
            cfg = _config(values, where)
            labels = {"condition": cond_name}
            if regions:
                labels["region"] = _region(regions, cfg.lam, f"experiments.{name}.regions")
            yield Run(run_path(cfg, defaults), "train", cfg), labels


def _region(regions: dict, lam: float, key: str) -> str:
    for region, lams in regions.items():
        if any(format_value(float(v)) == format_value(lam) for v in lams):
            return region
    raise ConfigError(key, f"λ={format_value(lam)} is in the grid but in no region")


def _hysteresis_runs(name: str, spec: dict, defaults_dict: dict, defaults: RunConfig) -> Iterable[tuple[Run, dict]]:
    base = {**defaults_dict, **(spec.get("overrides") or {})}
    where = {k: f"experiments.{name}.overrides.{k}" for k in spec.get("overrides") or {}}
    starts, sweeps = spec.get("starts") or {}, spec.get("sweeps") or {}
    if not starts or not sweeps:
        raise ConfigError(f"experiments.{name}", "a hysteresis experiment needs 'starts' and 'sweeps'")
    seeds = _values(spec.get("seeds"), f"experiments.{name}.seeds")
    offset = base.get("noise_seed_offset", defaults.noise_seed_offset)
    for seed in seeds:
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise ConfigError(f"experiments.{name}.seeds", f"seeds must be integers >= 0, got {seed!r}")
        probe = _config({**base, "seed": seed}, where)
        folder = f"hysteresis/{name}/arch~{probe.arch}/eta~{format_value(probe.eta)}/seed~{seed}"
        start_paths = {}
        for start_name, st in starts.items():
            st = dict(st)
            key = f"experiments.{name}.starts.{start_name}"
            values = {**base, **{k: v for k, v in st.items() if k != "seed_offset"},
                      "seed": seed + st.get("seed_offset", 0), "label_seed": seed + offset}
            cfg = _config(values, {**where, **{k: f"{key}.{k}" for k in st}})
            start_paths[start_name] = f"{folder}/start~{start_name}"
            yield Run(start_paths[start_name], "start", cfg), {"branch": start_name, "seed": seed}
        for sweep_name, sw in sweeps.items():
            sw = dict(sw)
            key = f"experiments.{name}.sweeps.{sweep_name}"
            if sw.get("start") not in start_paths:
                raise ConfigError(f"{key}.start", f"unknown start {sw.get('start')!r}; allowed: {', '.join(starts)}")
            own = {k: v for k, v in sw.items() if k not in ("start", "lams", "lr_factor", "seed_offset")}
            values = {**base, **own, "lam_schedule": _values(sw.get("lams"), f"{key}.lams"),
                      "epochs_per_lam": sw.get("epochs_per_lam", 1), "milestones": [],
                      "lr": _scaled(base.get("lr", defaults.lr), sw.get("lr_factor", 1.0)),
                      "seed": seed + sw.get("seed_offset", 0), "label_seed": seed + offset}
            cfg = _config(values, {**where, **{k: f"{key}.{k}" for k in sw}})
            requires = tuple(start_paths.values()) if spec.get("require_all_starts", True) \
                else (start_paths[sw["start"]],)
            yield (Run(f"{folder}/sweep~{sweep_name}", "sweep", cfg, start=start_paths[sw["start"]],
                       requires=requires), {"branch": sweep_name, "seed": seed})
