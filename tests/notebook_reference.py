"""Reference implementations copied from the notebooks in shared/seeds/ (the specification).

Kept as close to the notebooks' code as possible; only what the notebooks
hard-wire (the global ``K``, ``LR``, the data loader) became arguments.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils import parameters_to_vector


def inject_noise_p(labels, noise_rate, seed):
    """Notebooks 000-003 (P, K, B3, B2): numpy seed = seed + 1000."""
    np.random.seed(seed + 1000)
    noisy_labels = labels.copy()
    n_noisy = int(noise_rate * len(labels))
    noisy_indices = np.random.choice(len(labels), n_noisy, replace=False)
    for idx in noisy_indices:
        choices = [i for i in range(10) if i != labels[idx]]
        noisy_labels[idx] = np.random.choice(choices)
    return noisy_labels


def inject_noise_v3(labels, rate, seed):
    """Notebook 004 (V3): numpy seed = seed."""
    np.random.seed(seed); noisy = labels.copy(); idx = np.random.choice(len(labels), int(rate * len(labels)), False)  # noqa: E702
    for i in idx: noisy[i] = np.random.choice([l for l in range(10) if l != labels[i]])  # noqa: E701,E741
    return noisy


def create_anti_labels(clean_labels):
    """Notebook 003 (B2)."""
    return (clean_labels + 1) % 10


def random_value_labels(seed, n):
    """exp_C 'Misaligned' (SPEC §5): torch.manual_seed(seed+5000); torch.randint(0,10,(N,))."""
    torch.manual_seed(seed + 5000)
    return torch.randint(0, 10, (n,))


def notebook_dual_steps(model, optimizer, batches, lam, K=16, value_type="aligned", renorm=False):
    """Notebook 002's train_dual_gradient_ablation inner loop (a superset of 000/001/003/004's).

    ``batches`` yields (inputs, noisy labels, value labels); value_type 'anti' negates
    the value gradient (B3 TrueAnti). Returns per-step (cos, ||g_mix||).
    """
    criterion = nn.CrossEntropyLoss()
    cached_value_grad = None
    global_step = 0
    logs = []
    for inputs, batch_noisy, batch_clean in batches:
        optimizer.zero_grad()
        outputs = model(inputs)
        loss_struct = criterion(outputs, batch_noisy)
        loss_struct.backward(retain_graph=True)
        g_struct = parameters_to_vector([p.grad for p in model.parameters()]).clone()
        if global_step % K == 0 or cached_value_grad is None:
            optimizer.zero_grad()
            outputs = model(inputs)
            loss_value = criterion(outputs, batch_clean)
            loss_value.backward()
            g_clean = parameters_to_vector([p.grad for p in model.parameters()]).clone()
            if value_type == "aligned":
                cached_value_grad = g_clean
            elif value_type == "anti":
                cached_value_grad = -g_clean
        g_struct_norm = g_struct / (g_struct.norm() + 1e-12)
        g_value_norm = cached_value_grad / (cached_value_grad.norm() + 1e-12)
        g_mix = (1 - lam) * g_struct_norm + lam * g_value_norm
        if renorm:
            g_mix = g_mix / (g_mix.norm() + 1e-12)
        logs.append(((g_struct_norm @ g_value_norm).item(), g_mix.norm().item()))
        optimizer.zero_grad()
        idx = 0
        for p in model.parameters():
            numel = p.numel()
            p.grad = g_mix[idx:idx + numel].view(p.shape).clone()
            idx += numel
        optimizer.step()
        global_step += 1
    return logs


def plain_sgd_steps(model, optimizer, batches, lam=None):
    """Plain SGD on CE(noisy) ('CE'), or on (1-λ)CE(noisy) + λCE(clean) ('Loss-mix')."""
    for inputs, batch_noisy, batch_clean in batches:
        optimizer.zero_grad()
        outputs = model(inputs)
        loss = F.cross_entropy(outputs, batch_noisy)
        if lam is not None:
            loss = (1 - lam) * loss + lam * F.cross_entropy(outputs, batch_clean)
        loss.backward()
        optimizer.step()
