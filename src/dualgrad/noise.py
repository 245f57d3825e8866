"""Label noise and value labels, bit-identical to the notebooks' generators.

The notebooks relabel with numpy's legacy global RNG, one ``np.random.choice``
over the other classes per noisy index. Here the same stream comes from a
private ``RandomState`` (same Mersenne Twister, same draws) and the per-index
choices are drawn in one vectorised ``randint`` call, which consumes the
stream exactly as the scalar calls do; tests check equality against the
notebooks' loop.
"""

from __future__ import annotations

import hashlib

import numpy as np
import torch


def symmetric_noise(labels: np.ndarray, eta: float, label_seed: int, num_classes: int = 10) -> np.ndarray:
    """Relabel exactly ``int(eta*N)`` distinct indices, each uniformly to one of the other classes.

    ``label_seed`` is the numpy seed itself (notebooks: ``seed + 1000`` for
    P/K/B2/B3/A/C/N, ``seed`` for V3).
    """
    labels = np.asarray(labels)
    noisy = labels.copy()
    n = len(labels)
    n_noisy = int(eta * n)
    if n_noisy == 0:
        return noisy
    rng = np.random.RandomState(label_seed)
    idx = rng.choice(n, n_noisy, replace=False)
    # np.random.choice(others) with len(others) == C-1 draws randint(0, C-1).
    draws = rng.randint(0, num_classes - 1, size=n_noisy)
    original = labels[idx]
    # others = [c for c in range(C) if c != y]: the r-th entry is r, or r+1 once r reaches y.
    noisy[idx] = draws + (draws >= original)
    return noisy


def anti_labels(labels: np.ndarray, num_classes: int = 10) -> np.ndarray:
    """Systematically wrong labels ``(y + 1) mod C`` (Exp B2)."""
    return (np.asarray(labels) + 1) % num_classes


def random_labels(n: int, seed: int, num_classes: int = 10) -> np.ndarray:
    """Uniformly random labels as exp_C: ``torch.manual_seed(seed); torch.randint(0, C, (N,))``.

    ``seed`` is the generator seed itself (exp_C used ``run seed + 5000``). A
    private generator yields the same stream as the seeded global one without
    disturbing it.
    """
    gen = torch.Generator().manual_seed(seed)
    return torch.randint(0, num_classes, (n,), generator=gen).numpy()


def label_hash(labels) -> str:
    """SHA-256 of the label vector as little-endian int64: stable across dtypes and platforms."""
    arr = np.ascontiguousarray(np.asarray(labels, dtype="<i8"))
    return hashlib.sha256(arr.tobytes()).hexdigest()
