"""Model registry: every architecture by the name a config uses."""

from __future__ import annotations

from typing import Callable

import torch.nn as nn

from ..architectures import ARCHITECTURES
from .resnet import resnet18, resnet34
from .simple_cnn import SimpleCNN
from .vgg import VGG11, VGG11BNMLP

_BUILDERS: dict[str, Callable[..., nn.Module]] = {
    "ResNet18": resnet18,
    "ResNet34": resnet34,
    "VGG11": VGG11,  # Exp P: linear head
    "VGG11_BN_MLP": VGG11BNMLP,  # V3: MLP + Dropout head
    "SimpleCNN": SimpleCNN,
}
assert tuple(_BUILDERS) == ARCHITECTURES, "keep dualgrad.architectures in step with the registry"


def build_model(arch: str, num_classes: int = 10, width: float = 1.0) -> nn.Module:
    """Instantiate ``arch``; parameters are drawn from torch's global RNG (seed it first)."""
    try:
        builder = _BUILDERS[arch]
    except KeyError:
        raise ValueError(f"unknown architecture {arch!r}; allowed: {', '.join(ARCHITECTURES)}") from None
    return builder(num_classes=num_classes, width=width)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
