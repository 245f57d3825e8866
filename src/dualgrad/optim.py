"""SGD with momentum and weight decay, and the MultiStepLR schedule, as torch.optim computes them.

The arithmetic is torch.optim.SGD's foreach path, operation for operation (dampening 0, no
Nesterov), so trajectories are bit-identical (tests compare against torch.optim). Owning these
30 lines saves every training process the ~2 s import of torch._dynamo that constructing a
torch.optim optimizer triggers — a large share of a short job.
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
        params = self.params
        grads = [p.grad for p in params]
        if self.weight_decay != 0:
            grads = torch._foreach_add(grads, params, alpha=self.weight_decay)
        if self.momentum != 0:
            if self.buffers is None:
                self.buffers = [g.detach().clone() for g in grads]
            else:
                torch._foreach_mul_(self.buffers, self.momentum)
                torch._foreach_add_(self.buffers, grads, alpha=1)
            grads = self.buffers
        torch._foreach_add_(params, grads, alpha=-self.lr)

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
