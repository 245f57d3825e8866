"""SGD with momentum and weight decay, and the MultiStepLR schedule, as torch.optim computes them.

The update is torch's fused SGD kernel (``torch._fused_sgd_``, what ``torch.optim.SGD(fused=True)``
runs; dampening 0, no Nesterov): one pass over parameters, gradients and momentum buffers, on the
CPU about 3x faster than the foreach path. Bit-identical to torch.optim.SGD(fused=True); against
the notebooks' default (for-loop/foreach) it differs by fused multiply-add rounding, ~1 ulp per
step (tests check both). Owning these lines also saves every training process the ~2 s
import of torch._dynamo that constructing a torch.optim optimizer triggers.
"""

from __future__ import annotations

import torch


class SGD:
    def __init__(self, params, lr: float, momentum: float = 0.0, weight_decay: float = 0.0):
        self.params = list(params)
        self.lr = lr
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.buffers: list[torch.Tensor] | None = None

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        grads = [p.grad for p in self.params]
        first = self.buffers is None and self.momentum != 0
        if first:  # the kernel fills them with the first (weight-decayed) gradient
            self.buffers = [torch.empty_like(g) for g in grads]
        torch._fused_sgd_(self.params, grads, self.buffers if self.momentum != 0 else [],
                          weight_decay=self.weight_decay, momentum=self.momentum, lr=self.lr, dampening=0.0,
                          nesterov=False, maximize=False, is_first_step=first)

    def state_dict(self) -> dict:
        return {"lr": self.lr, "buffers": self.buffers}

    def load_state_dict(self, state: dict) -> None:
        self.lr = state["lr"]
        buffers = state["buffers"]
        if buffers is not None:  # copies: a loaded state must not alias the one it came from
            buffers = [b.to(p.device, copy=True) for b, p in zip(buffers, self.params)]
        self.buffers = buffers


class MultiStepSchedule:
    """lr × gamma at each milestone epoch, multiplied step by step as torch's MultiStepLR does."""

    def __init__(self, optimizer: SGD, milestones, gamma: float):
        self.optimizer = optimizer
        self.milestones = list(milestones)
        self.gamma = gamma
        self.epoch = 0

    def step(self) -> None:
        self.epoch += 1
        for _ in range(self.milestones.count(self.epoch)):
            self.optimizer.lr = self.optimizer.lr * self.gamma

    def state_dict(self) -> dict:
        return {"epoch": self.epoch}

    def load_state_dict(self, state: dict) -> None:
        self.epoch = state["epoch"]
