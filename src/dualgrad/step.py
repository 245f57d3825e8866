"""One optimisation step of each method, with its logged quantities kept on the device.

Dual-gradient step (SPEC §1): structure gradient g_s = ∇CE(f(x), ỹ) every
step; value gradient g_v = ∇CE(f(x), y_value) refreshed when
``step % K == 0`` and cached otherwise; both normalised to unit L2 norm over
all parameters; g_mix = (1-λ)ĝ_s + λĝ_v (optionally renormalised) replaces the
gradients before SGD steps.

How it differs from the notebooks' loop, without changing the maths:
- one forward pass; on refresh steps the value gradient is a second backward
  through the same graph (``faithful_second_forward`` restores their extra
  forward: BN running statistics updated twice, a fresh dropout mask);
- the gradient stays a list of per-parameter tensors (``torch._foreach_*``):
  no flatten, no copy back; the cache holds the already normalised ĝ_v;
- logged scalars are accumulated in device tensors: no ``.item()`` per step.
- cos(ĝ_s, ĝ_v) comes from the norm of the mix, which the step needs anyway:
  ‖a·ĝ_s + b·ĝ_v‖² = a²‖ĝ_s‖² + b²‖ĝ_v‖² + 2ab·cos (exact algebra; absolute error
  ~1e-7/(ab) in fp32); for λ ∈ {0, 1} a direct dot product is used instead.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

EPS = 1e-12


def global_norm(tensors: list[torch.Tensor]) -> torch.Tensor:
    """L2 norm over a list of tensors, combined from accurate per-tensor norms (0-d, on device)."""
    return torch.linalg.vector_norm(torch.stack(torch._foreach_norm(tensors)))


def global_dot(a: list[torch.Tensor], b: list[torch.Tensor]) -> torch.Tensor:
    return torch.stack([torch.sum(x * y) for x, y in zip(a, b)]).sum()


def cross_entropy(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """CE in at least fp32 (bf16 autocast logits are upcast; fp64 stays fp64)."""
    if logits.dtype in (torch.float16, torch.bfloat16):
        logits = logits.float()
    return F.cross_entropy(logits, labels)


@dataclass
class StepLog:
    """Per-epoch sums and the first ``log_steps`` per-step values, all device tensors."""

    loss_sum: torch.Tensor
    cos_sum: torch.Tensor
    gmix_sum: torch.Tensor
    steps: int
    first_cos: torch.Tensor
    first_gmix: torch.Tensor

    @classmethod
    def empty(cls, device, log_steps: int) -> "StepLog":
        zero = torch.zeros((), dtype=torch.float64, device=device)
        nan = torch.full((log_steps,), float("nan"), dtype=torch.float64, device=device)
        return cls(zero.clone(), zero.clone(), zero.clone(), 0, nan, nan.clone())

    def reset_epoch(self) -> None:
        self.loss_sum.zero_()
        self.cos_sum.zero_()
        self.gmix_sum.zero_()
        self.steps = 0


class Stepper:
    """Runs steps of one method on a model and optimiser; holds the value-gradient cache.

    ``step`` counts optimiser steps over the whole run (and across the λ values
    of a hysteresis sweep), as the notebooks' ``global_step``.
    """

    def __init__(self, model: nn.Module, optimizer, method: str, *, K: int | None = None,
                 renorm: bool = False, negate_value: bool = False, faithful_second_forward: bool = False,
                 autocast_dtype: torch.dtype | None = None, log_steps: int = 0, forward=None):
        self.model = model
        self.forward = model if forward is None else forward  # e.g. a torch.compile'd model (no bool())
        self.optimizer = optimizer
        self.method = method
        self.K = K
        self.renorm = renorm
        self.sign = -1.0 if negate_value else 1.0
        self.faithful = faithful_second_forward
        self.autocast_dtype = autocast_dtype
        self.params = [p for p in model.parameters() if p.requires_grad]
        device = self.params[0].device
        self.log = StepLog.empty(device, log_steps)
        self.log_steps = log_steps
        self.step = 0
        self.cache: list[torch.Tensor] | None = None  # unit-norm value gradient
        self.cache_norm: torch.Tensor | None = None  # its norm (≈1; exactly ‖g_v‖/(‖g_v‖+eps))

    # ------------------------------------------------------------- interface
    def __call__(self, x: torch.Tensor, y_noisy: torch.Tensor, y_value: torch.Tensor | None, lam: float) -> None:
        if self.method == "ce":
            self._plain(x, y_noisy, None, 0.0)
        elif self.method == "loss_mix":
            self._plain(x, y_noisy, y_value, lam)
        else:
            self._dual(x, y_noisy, y_value, lam)
        self.step += 1

    def state_dict(self) -> dict:
        return {"step": self.step, "cache": self.cache, "cache_norm": self.cache_norm,
                "first_cos": self.log.first_cos, "first_gmix": self.log.first_gmix}

    def load_state_dict(self, state: dict) -> None:
        self.step = state["step"]
        self.cache = state["cache"]
        self.cache_norm = state["cache_norm"]
        self.log.first_cos.copy_(state["first_cos"])
        self.log.first_gmix.copy_(state["first_gmix"])

    # --------------------------------------------------------------- methods
    def _autocast(self):
        if self.autocast_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.params[0].device.type, dtype=self.autocast_dtype)

    def _plain(self, x, y_noisy, y_value, lam) -> None:
        """``ce``: SGD on CE(ỹ). ``loss_mix``: one loss (1-λ)CE(ỹ) + λCE(y_value)."""
        with self._autocast():
            out = self.forward(x)
        loss_s = cross_entropy(out, y_noisy)
        loss = loss_s if y_value is None else (1 - lam) * loss_s + lam * cross_entropy(out, y_value)
        self._backward_into_grads(loss)
        self.optimizer.step()
        self.log.loss_sum += loss_s.detach()
        self.log.steps += 1

    def _backward_into_grads(self, loss: torch.Tensor) -> list[torch.Tensor]:
        """``loss.backward()`` into the parameters' ``.grad``, kept from step to step and zeroed in
        place: fresh multi-megabyte gradient tensors every step cost page faults on the CPU."""
        grads = [p.grad for p in self.params]
        if grads[0] is not None:
            torch._foreach_zero_(grads)
        loss.backward()
        return [p.grad for p in self.params]

    def _dual(self, x, y_noisy, y_value, lam) -> None:
        refresh = self.cache is None or self.step % self.K == 0
        with self._autocast():
            out = self.forward(x)
        loss_s = cross_entropy(out, y_noisy)
        if refresh and not self.faithful:  # both gradients from one graph: value first, kept alive
            loss_v = cross_entropy(out, y_value)
            self._store_value_gradient(torch.autograd.grad(loss_v, self.params, retain_graph=True))
            g_s = self._backward_into_grads(loss_s)
        else:
            g_s = self._backward_into_grads(loss_s)
            if refresh:  # the notebooks' second forward on the same batch
                with self._autocast():
                    out_v = self.forward(x)
                loss_v = cross_entropy(out_v, y_value)
                self._store_value_gradient(torch.autograd.grad(loss_v, self.params))
        g_v = self.cache
        a, b = 1.0 - lam, lam
        norm_s = global_norm(g_s)
        inv_s = 1.0 / (norm_s + EPS)
        if a == 0.0 or b == 0.0:  # the norm identity below is undefined: dot product instead
            cos = global_dot(g_s, g_v) * inv_s
        torch._foreach_mul_(g_s, a * inv_s)
        torch._foreach_add_(g_s, g_v, alpha=b)  # the parameters' .grad now hold g_mix
        mix_norm = global_norm(g_s)
        if a != 0.0 and b != 0.0:
            cos = (mix_norm.square() - (a * norm_s * inv_s).square() - (b * self.cache_norm).square()) / (2 * a * b)
        if self.renorm:
            torch._foreach_div_(g_s, mix_norm + EPS)
            mix_norm = mix_norm / (mix_norm + EPS)  # the notebooks log ||g_mix|| after renormalising
        self.optimizer.step()
        self._record(loss_s.detach(), cos.detach(), mix_norm.detach())

    def _store_value_gradient(self, grads) -> None:
        grads = list(grads)
        norm = global_norm(grads)
        torch._foreach_mul_(grads, self.sign / (norm + EPS))
        self.cache = grads
        self.cache_norm = norm / (norm + EPS)

    def _record(self, loss_s, cos, mix_norm) -> None:
        log = self.log
        log.loss_sum += loss_s
        log.cos_sum += cos
        log.gmix_sum += mix_norm
        log.steps += 1
        if self.step < self.log_steps:  # python ints: indexing needs no host sync
            log.first_cos[self.step] = cos
            log.first_gmix[self.step] = mix_norm

