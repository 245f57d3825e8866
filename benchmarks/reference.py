"""The notebooks' training step and data pipeline (seeds/000 ``train_dual_gradient``), kept for timing.

Copied as written on purpose: the two forwards on refresh steps, ``retain_graph=True``,
the ``parameters_to_vector`` flatten, ``.item()`` per step and the per-parameter copy-back
are exactly the costs the engine's step is measured against. Only the notebook's
globals (K, λ, LR, BATCH_SIZE, NUM_WORKERS, device) became arguments.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.optim as optim
import torchvision.transforms as transforms
from PIL import Image
from torch.nn.utils import parameters_to_vector
from torch.utils.data import DataLoader, Dataset


class NotebookDualStep:
    """One iteration of the notebook's inner loop, from ``optimizer.zero_grad()`` to ``global_step += 1``."""

    def __init__(self, model: nn.Module, lam: float, K: int = 16, lr: float = 0.1):
        self.model = model
        self.optimizer = optim.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=5e-4)
        self.criterion = nn.CrossEntropyLoss()
        self.lam = lam
        self.K = K
        self.cached_g_value = None
        self.global_step = 0
        self.epoch_cos = []

    def __call__(self, inputs: torch.Tensor, batch_noisy: torch.Tensor, batch_clean: torch.Tensor) -> None:
        model, optimizer, criterion, lam, K = self.model, self.optimizer, self.criterion, self.lam, self.K

        # Structure gradient
        optimizer.zero_grad()
        outputs = model(inputs)
        loss_struct = criterion(outputs, batch_noisy)
        loss_struct.backward(retain_graph=True)
        g_struct = parameters_to_vector([p.grad for p in model.parameters()]).clone()

        # Value gradient
        if self.global_step % K == 0 or self.cached_g_value is None:
            optimizer.zero_grad()
            outputs = model(inputs)
            loss_value = criterion(outputs, batch_clean)
            loss_value.backward()
            self.cached_g_value = parameters_to_vector([p.grad for p in model.parameters()]).clone()

        # Normalize and mix
        g_struct_norm = g_struct / (g_struct.norm() + 1e-12)
        g_value_norm = self.cached_g_value / (self.cached_g_value.norm() + 1e-12)

        cos_sim = (g_struct_norm @ g_value_norm).item()
        self.epoch_cos.append(cos_sim)

        g_mix = (1 - lam) * g_struct_norm + lam * g_value_norm

        optimizer.zero_grad()
        idx = 0
        for p in model.parameters():
            numel = p.numel()
            p.grad = g_mix[idx:idx + numel].view(p.shape).clone()
            idx += numel
        optimizer.step()
        self.global_step += 1


class PILImages(Dataset):
    """torchvision's CIFAR10 ``__getitem__`` over in-memory uint8 images: HWC array -> PIL -> transform."""

    def __init__(self, images: torch.Tensor, labels, transform):
        self.data = images.permute(0, 2, 3, 1).contiguous().numpy()  # (N, H, W, C) as CIFAR10.data
        self.targets = [int(t) for t in labels]
        self.transform = transform

    def __getitem__(self, idx):
        img, target = self.data[idx], self.targets[idx]
        return self.transform(Image.fromarray(img)), target

    def __len__(self):
        return len(self.data)


class IndexedDataset(Dataset):
    """The notebook's wrapper: batches carry their dataset indices (to look up noisy/clean labels)."""

    def __init__(self, dataset):
        self.dataset = dataset

    def __getitem__(self, idx):
        img, label = self.dataset[idx]
        return img, label, idx

    def __len__(self):
        return len(self.dataset)


def notebook_train_loader(images: torch.Tensor, labels, mean, std, batch_size: int, num_workers: int,
                          device: torch.device) -> DataLoader:
    """The notebook's ``load_cifar10`` train transform and ``get_data_loaders`` train loader."""
    transform_train = transforms.Compose([
        transforms.RandomCrop(32, padding=4),
        transforms.RandomHorizontalFlip(),
        transforms.ToTensor(),
        transforms.Normalize(mean, std)])
    dataset = IndexedDataset(PILImages(images, labels, transform_train))
    # pin_memory only where there is a GPU to pin for; persistent workers need workers.
    return DataLoader(dataset, batch_size=batch_size, shuffle=True, num_workers=num_workers,
                      pin_memory=device.type == "cuda", persistent_workers=num_workers > 0, drop_last=True)


def notebook_epoch(step: NotebookDualStep, loader: DataLoader, noisy_labels_tensor: torch.Tensor,
                   clean_labels_tensor: torch.Tensor, device: torch.device) -> None:
    """One epoch of the notebook's training loop (without the scheduler and evaluation)."""
    step.model.train()
    step.epoch_cos = []
    for inputs, _, indices in loader:
        inputs = inputs.to(device, non_blocking=True)
        indices = indices.to(device, non_blocking=True)
        batch_noisy = noisy_labels_tensor[indices]
        batch_clean = clean_labels_tensor[indices]
        step(inputs, batch_noisy, batch_clean)


def loader_epoch(loader: DataLoader, device: torch.device) -> None:
    """The data half of the notebook's loop: fetch each batch and move it to the device."""
    for inputs, _, indices in loader:
        inputs.to(device, non_blocking=True)
        indices.to(device, non_blocking=True)
