"""dualgrad: train and sweep single runs, prepare datasets, import released results, list the
run config keys; tables, analyze and plot are the workflow's steps (its rules call them)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import ConfigError, DualgradError

if TYPE_CHECKING:
    from .config import RunConfig

EPILOG = """\
A run's config is a YAML/JSON mapping of RunConfig keys (see `python -m dualgrad keys`);
unset keys take the notebooks' defaults (ResNet18, CIFAR-10, batch 256, lr 0.1, 100 epochs,
milestones 50/75, K=16). Examples:

  python -m dualgrad train --set arch=SimpleCNN --set dataset=synthetic --set epochs=4 --set milestones=[3] \\
      --set lam=0.3 --output results/demo.json
  python -m dualgrad train --config run.yaml --output out.json --checkpoint out.ckpt

A run killed mid-way resumes from its checkpoint when started again with the same command.
Bad input exits with status 2 before any training and names the offending key.
"""


def _parse_value(text: str):
    import yaml

    return yaml.safe_load(text)


def load_run_config(args) -> "RunConfig":
    from .config import RunConfig

    values: dict = {}
    if args.config:
        path = Path(args.config)
        if not path.is_file():
            raise ConfigError("config", f"no config file at '{path}'")
        import yaml

        try:
            loaded = yaml.safe_load(path.read_text())
        except yaml.YAMLError as err:
            mark = getattr(err, "problem_mark", None)
            where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
            problem = getattr(err, "problem", None) or type(err).__name__
            raise ConfigError("config", f"'{path}' is not valid YAML ({problem}{where})") from None
        if not isinstance(loaded, dict):
            raise ConfigError("config", f"'{path}' must hold a mapping of keys to values")
        values.update(loaded)
    if args.config_json:
        try:
            loaded = json.loads(args.config_json)
        except json.JSONDecodeError as err:
            raise ConfigError("config_json", f"not valid JSON: {err}") from None
        if not isinstance(loaded, dict):
            raise ConfigError("config_json", f"must be a JSON object of keys to values, got {type(loaded).__name__}")
        values.update(loaded)
    for item in args.set or []:
        if "=" not in item:
            raise ConfigError(item, "--set takes KEY=VALUE")
        key, text = item.split("=", 1)
        values[key.strip()] = _parse_value(text)
    return RunConfig.from_dict(values)


def _check_algorithm_version(expected: str | None) -> None:
    from . import ALGORITHM_VERSION

    if expected is not None and expected != ALGORITHM_VERSION:
        raise ConfigError("algorithm_version", f"the workflow expects algorithm version {expected}, the installed "
                                               f"engine implements {ALGORITHM_VERSION}: reinstall the package")


def _runtime(args):
    from .config import Runtime

    for key, value in (("threads", args.threads), ("eval_batch_size", args.eval_batch_size)):
        if value is not None and value < 1:
            raise ConfigError(key, f"must be >= 1, got {value}")

    return Runtime(data_root=args.data_root, download=args.download, device=args.device,
                   eval_batch_size=args.eval_batch_size, num_threads=args.threads, progress=not args.quiet)


def _add_run_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", help="YAML or JSON file with the run's config")
    p.add_argument("--config-json", help="the run's config as a JSON string (the workflow passes this)")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="override one key (repeatable)")
    p.add_argument("--output", required=True, help="result JSON path (written atomically at the end)")
    p.add_argument("--checkpoint", help="per-epoch checkpoint path (default: OUTPUT.ckpt); resumed if present")
    p.add_argument("--data-root", default=os.environ.get("DUALGRAD_DATA_ROOT", "resources/data"),
                   help="folder holding datasets (default: $DUALGRAD_DATA_ROOT or resources/data)")
    p.add_argument("--download", action="store_true", default=os.environ.get("DUALGRAD_DOWNLOAD") == "1",
                   help="allow downloading CIFAR into --data-root (default: $DUALGRAD_DOWNLOAD=1)")
    p.add_argument("--device", default=os.environ.get("DUALGRAD_DEVICE", "auto"),
                   help="auto (CUDA if available), cpu, cuda, cuda:N (default: $DUALGRAD_DEVICE or auto)")
    p.add_argument("--eval-batch-size", type=int, default=1024)
    p.add_argument("--threads", type=int, help="CPU threads for torch (default: torch's choice)")
    p.add_argument("--name", help="label for progress lines (default: the run, e.g. 'ResNet18 dual λ=0.35 η=0.4 s0')")
    p.add_argument("--algorithm-version", help="fail unless the installed engine implements this algorithm version "
                                               "(the workflow passes its own)")
    p.add_argument("--quiet", action="store_true", help="no progress lines")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m dualgrad", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("train", help="train one run and write its result JSON", epilog=EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    _add_run_args(p)
    p.add_argument("--init-model", help="start from this saved model state (hysteresis)")
    p.add_argument("--save-model", help="also save the final model state here")

    p = sub.add_parser("sweep", help="hysteresis sweep: a λ schedule from a start model",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    _add_run_args(p)
    p.add_argument("--start-model", required=True, help="model saved by the start run")
    p.add_argument("--require-accepted", action="append", default=[], metavar="RESULT_JSON",
                   help="start results that must have passed their threshold (else: a 'skipped' result)")

    p = sub.add_parser("prepare-data", help="verify (and optionally download) a dataset")
    p.add_argument("dataset", help="cifar10, cifar100, synthetic or digits")
    p.add_argument("--data-root", default="resources/data")
    p.add_argument("--download", action="store_true")
    p.add_argument("--manifest", help="write a JSON description of the verified dataset here")

    p = sub.add_parser("import", help="turn the notebooks' result files into run JSONs")
    p.add_argument("source", help="folder with the notebooks' results (e.g. the paper's released results)")
    p.add_argument("--workflow-config", default="config.yaml", help="workflow config whose runs to fill")
    p.add_argument("--results", default="results/paper", help="results folder to write run JSONs into")

    p = sub.add_parser("tables", help="(workflow) collect an experiment's run JSONs into tidy CSV tables")
    p.add_argument("--plan", required=True, help="the experiment's plan rows (JSON list, from the run_table rule)")
    p.add_argument("--results", required=True, help="results folder the run paths are relative to")
    p.add_argument("--out-dir", required=True)

    p = sub.add_parser("analyze", help="(workflow) summary table and analysis JSON of one experiment")
    p.add_argument("--analysis", required=True, help="analysis type (config: experiments.<name>.analysis)")
    p.add_argument("--params-json", default="{}")
    p.add_argument("--tables", required=True, help="folder written by `tables`")
    p.add_argument("--summary", required=True)
    p.add_argument("--analysis-json", required=True)
    p.add_argument("--baselines", metavar="SUMMARY_CSV",
                   help="summary of the experiment whose measured runs a claim is judged against (C's, for B2/B3)")

    p = sub.add_parser("plot", help="(workflow) the figures of one experiment, PNG and PDF")
    p.add_argument("--analysis", required=True)
    p.add_argument("--params-json", default="{}")
    p.add_argument("--tables", required=True)
    p.add_argument("--summary", required=True)
    p.add_argument("--analysis-json", required=True)
    p.add_argument("--out-dir", required=True)
    p.add_argument("--extra", action="append", default=[], metavar="NAME=SUMMARY_CSV",
                   help="another experiment's summary the figure draws on (e.g. baselines=results/C/summary.csv)")

    p = sub.add_parser("compare", help="(workflow) each cell two results trees share, rebuilt vs reference")
    p.add_argument("--rebuilt", required=True, help="results folder of the rebuild (its <experiment>/tables/)")
    p.add_argument("--reference", required=True, help="results folder to compare with (e.g. results/paper)")
    p.add_argument("--experiments", nargs="*", default=None, help="experiments to compare (default: all shared)")
    p.add_argument("--level", type=float, default=0.05, help="per-cell test level (default 0.05)")
    p.add_argument("--cells", required=True, help="CSV to write: one row per shared cell")
    p.add_argument("--summary-json", required=True, help="JSON to write: counts, rule and verdict")
    p.add_argument("--out-dir", required=True, help="folder for the overview figure (PNG and PDF)")

    p = sub.add_parser("report-section", help="(workflow) an experiment's results page and figure captions")
    p.add_argument("--experiment", required=True)
    p.add_argument("--analysis", required=True)
    p.add_argument("--summary", required=True)
    p.add_argument("--analysis-json", required=True)
    p.add_argument("--figures", nargs="*", default=[], help="figure names to write captions for")
    p.add_argument("--html", required=True, help="results page to write")
    p.add_argument("--captions", required=True, help="JSON to write: figure name -> RST caption")

    sub.add_parser("keys", help="list the run config keys: type, allowed values, default, description")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return _dispatch(args)
    except DualgradError as err:
        print(f"error: {err}", file=sys.stderr)
        return err.exit_status
    except KeyboardInterrupt:  # Ctrl-C: the last checkpoint stands; no traceback
        print("interrupted: run the same command again to resume from the last checkpoint", file=sys.stderr)
        return 130


def _dispatch(args) -> int:
    if args.command == "keys":
        from .keys import describe_keys, format_keys

        print(format_keys(describe_keys()))
        return 0
    if args.command == "prepare-data":
        from . import io
        from .config import DATASETS
        from .data import prepare_dataset

        if args.dataset not in DATASETS:
            raise ConfigError("dataset", f"unknown value {args.dataset!r}; allowed: {', '.join(DATASETS)}")
        info = prepare_dataset(args.dataset, args.data_root, args.download)
        if args.manifest:
            io.write_json(args.manifest, info)
        print(json.dumps(info, indent=2))
        return 0
    if args.command == "import":
        from .importer import import_results

        written = import_results(args.source, args.workflow_config, args.results)
        print(f"imported {len(written)} run JSONs into {args.results}")
        return 0
    if args.command in ("tables", "analyze", "plot", "compare", "report-section"):
        from .workflow_steps import run_step

        return run_step(args)
    _check_algorithm_version(args.algorithm_version)
    cfg = load_run_config(args)
    runtime = _runtime(args)
    from .gpu_slots import acquire_gpu_slot

    # Before torch initialises CUDA: with DUALGRAD_GPUS=N each process takes its own device.
    provenance = {"gpu_slot": acquire_gpu_slot()}
    if args.command == "train":
        from .train import train

        train(cfg, runtime, args.output, checkpoint=args.checkpoint, init_model=args.init_model,
              save_model=args.save_model, name=args.name, extra_provenance=provenance)
    else:
        from .hysteresis import run_sweep

        run_sweep(cfg, runtime, args.output, args.start_model, args.require_accepted, checkpoint=args.checkpoint,
                  name=args.name, extra_provenance=provenance)
    return 0
