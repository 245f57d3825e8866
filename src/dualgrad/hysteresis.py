"""Hysteresis protocol (V3): start runs that must pass a threshold, and λ sweeps from them.

A start is an ordinary run with ``accept_below`` / ``accept_at_least`` and a
saved model. A sweep is a run that begins from a start's model with a fresh
optimiser (no schedule) and a λ schedule; its step counter and value-gradient
cache carry across λ because it is one run. When a required start missed its
threshold the sweep writes a ``skipped`` result instead of training, so the
workflow completes and the summary says why.

A sweep records, with each λ point, how far the model has moved and whether it
is alive (:class:`SweepProbe`): the L2 distance of the parameters from the start
model (absolute and relative to the start's norm), the share of test images
predicted as the most frequent class and the mean prediction entropy (nats).
A dead network (one class for every image, or a uniform output) sits at chance
and, at a small learning rate, cannot move: its branch is no evidence of a
second stable state. The start model itself is probed once, as ``start_probe``.
"""

from __future__ import annotations

import os

from . import io
from .config import RunConfig, Runtime
from .errors import ConfigError
from .provenance import host_info, now
from .result_files import read_result
from .train import train


class SweepProbe:
    """Movement and liveness of the model at each sweep point, against the start model's parameters."""

    def __init__(self, start_model):
        import torch

        self.start = {k: v.float() for k, v in torch.load(start_model, map_location="cpu", weights_only=True).items()}

    def distance(self, model) -> dict:
        import torch

        sq, norm = 0.0, 0.0
        with torch.no_grad():
            for name, p in model.named_parameters():
                ref = self.start[name].to(p.device)
                sq += float(torch.sum((p.detach().float() - ref) ** 2))
                norm += float(torch.sum(ref ** 2))
        return {"param_distance": sq ** 0.5, "param_distance_rel": (sq / norm) ** 0.5 if norm else None}

    @staticmethod
    def predictions(trainer) -> dict:
        import torch

        trainer.model.eval()
        counts = torch.zeros(trainer.data.num_classes, dtype=torch.int64, device=trainer.device)
        entropy = torch.zeros((), dtype=torch.float64, device=trainer.device)
        bs = trainer.runtime.eval_batch_size
        with torch.inference_mode():
            for i in range(0, len(trainer.test_x), bs):
                logits = trainer.forward(trainer.normalize(trainer.test_x[i:i + bs])).float()
                logp = torch.log_softmax(logits, dim=1)
                entropy += -(logp.exp() * logp).sum(1).double().sum()
                counts += torch.bincount(logits.argmax(1), minlength=trainer.data.num_classes)
        n = len(trainer.test_x)
        return {"modal_class_share": float(counts.max()) / n, "prediction_entropy": float(entropy) / n}

    def __call__(self, trainer) -> dict:
        return {**self.distance(trainer.model), **self.predictions(trainer)}


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
    probe = SweepProbe(start_model)
    return train(cfg, runtime, output, checkpoint=checkpoint, init_model=start_model, name=name,
                 extra_provenance={"start_runs": starts, "start_model": str(start_model), **(extra_provenance or {})},
                 trajectory_probe=probe)


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
