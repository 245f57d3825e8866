"""CIFAR ResNet-18/34 exactly as the notebooks define them (3x3 stem, no max-pool)."""

from __future__ import annotations

import torch.nn as nn
import torch.nn.functional as F


def _channels(base: int, width: float) -> int:
    return max(1, int(round(base * width)))


class BasicBlock(nn.Module):
    def __init__(self, in_planes: int, planes: int, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut = nn.Sequential()
        if stride != 1 or in_planes != planes:
            self.shortcut = nn.Sequential(nn.Conv2d(in_planes, planes, 1, stride, bias=False), nn.BatchNorm2d(planes))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out = out + self.shortcut(x)
        return F.relu(out)


class ResNet(nn.Module):
    def __init__(self, blocks: tuple[int, int, int, int], num_classes: int = 10, width: float = 1.0):
        super().__init__()
        planes = [_channels(c, width) for c in (64, 128, 256, 512)]
        self.in_planes = planes[0]
        self.conv1 = nn.Conv2d(3, planes[0], 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes[0])
        self.layer1 = self._make_layer(planes[0], blocks[0], 1)
        self.layer2 = self._make_layer(planes[1], blocks[1], 2)
        self.layer3 = self._make_layer(planes[2], blocks[2], 2)
        self.layer4 = self._make_layer(planes[3], blocks[3], 2)
        self.linear = nn.Linear(planes[3], num_classes)

    def _make_layer(self, planes: int, num_blocks: int, stride: int) -> nn.Sequential:
        layers = []
        for s in [stride] + [1] * (num_blocks - 1):
            layers.append(BasicBlock(self.in_planes, planes, s))
            self.in_planes = planes
        return nn.Sequential(*layers)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer4(self.layer3(self.layer2(self.layer1(out))))
        out = F.adaptive_avg_pool2d(out, 1).flatten(1)
        return self.linear(out)


def resnet18(num_classes: int = 10, width: float = 1.0) -> ResNet:
    return ResNet((2, 2, 2, 2), num_classes, width)


def resnet34(num_classes: int = 10, width: float = 1.0) -> ResNet:
    return ResNet((3, 4, 6, 3), num_classes, width)
