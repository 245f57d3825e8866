"""Exp P's SimpleCNN: four conv3x3+BN+ReLU+maxpool stages (32, 64, 128, 256), Linear(256*2*2, C)."""

from __future__ import annotations

import torch.nn as nn
import torch.nn.functional as F


class SimpleCNN(nn.Module):
    def __init__(self, num_classes: int = 10, width: float = 1.0):
        super().__init__()
        c = [max(1, int(round(base * width))) for base in (32, 64, 128, 256)]
        self.conv1 = nn.Conv2d(3, c[0], 3, 1, 1)
        self.conv2 = nn.Conv2d(c[0], c[1], 3, 1, 1)
        self.conv3 = nn.Conv2d(c[1], c[2], 3, 1, 1)
        self.conv4 = nn.Conv2d(c[2], c[3], 3, 1, 1)
        self.pool = nn.MaxPool2d(2, 2)
        self.fc = nn.Linear(c[3] * 2 * 2, num_classes)
        # Registered after the convs, as in the notebook: parameters() order matters
        # for the flattened reference step and for checkpoints.
        self.bn1 = nn.BatchNorm2d(c[0])
        self.bn2 = nn.BatchNorm2d(c[1])
        self.bn3 = nn.BatchNorm2d(c[2])
        self.bn4 = nn.BatchNorm2d(c[3])

    def forward(self, x):
        x = self.pool(F.relu(self.bn1(self.conv1(x))))
        x = self.pool(F.relu(self.bn2(self.conv2(x))))
        x = self.pool(F.relu(self.bn3(self.conv3(x))))
        x = self.pool(F.relu(self.bn4(self.conv4(x))))
        return self.fc(x.flatten(1))
