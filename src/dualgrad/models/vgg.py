"""VGG-11 with BatchNorm: Exp P's linear head and V3's MLP/Dropout head (two distinct networks)."""

from __future__ import annotations

import torch.nn as nn

CFG_VGG11 = (64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M")


def _features(width: float) -> tuple[nn.Sequential, int]:
    layers: list[nn.Module] = []
    in_ch = 3
    for v in CFG_VGG11:
        if v == "M":
            layers.append(nn.MaxPool2d(2, 2))
        else:
            out_ch = max(1, int(round(v * width)))
            layers += [nn.Conv2d(in_ch, out_ch, 3, 1, 1), nn.BatchNorm2d(out_ch), nn.ReLU(inplace=True)]
            in_ch = out_ch
    return nn.Sequential(*layers), in_ch


class VGG11(nn.Module):
    """Exp P: conv+BN+ReLU features, a single Linear(512, C) classifier."""

    def __init__(self, num_classes: int = 10, width: float = 1.0):
        super().__init__()
        self.features, out_ch = _features(width)
        self.classifier = nn.Linear(out_ch, num_classes)

    def forward(self, x):
        return self.classifier(self.features(x).flatten(1))


class VGG11BNMLP(nn.Module):
    """V3 (hysteresis): the same features, head Linear(512,512)-ReLU-Dropout(0.5)-Linear(512, C)."""

    def __init__(self, num_classes: int = 10, width: float = 1.0):
        super().__init__()
        self.features, out_ch = _features(width)
        hidden = max(1, int(round(512 * width)))
        self.classifier = nn.Sequential(
            nn.Linear(out_ch, hidden), nn.ReLU(True), nn.Dropout(0.5), nn.Linear(hidden, num_classes)
        )

    def forward(self, x):
        return self.classifier(self.features(x).flatten(1))
