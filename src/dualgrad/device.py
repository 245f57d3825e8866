"""Pick the training device and set the backend flags a config asks for."""

from __future__ import annotations

import torch

from .errors import ConfigError


def select_device(name: str = "auto") -> torch.device:
    """``auto``: CUDA when available (CUDA_VISIBLE_DEVICES decides which), else CPU."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise ConfigError("device", f"unknown device {name!r}; allowed: auto, cpu, cuda, cuda:N") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device", "CUDA requested but torch sees no GPU (check CUDA_VISIBLE_DEVICES)")
    return device


def configure_backends(device: torch.device, deterministic: bool, num_threads: int | None = None) -> None:
    if num_threads:
        torch.set_num_threads(num_threads)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = not deterministic
        torch.backends.cudnn.deterministic = deterministic
        # TF32 flags stay at torch's defaults, as in the notebooks; they are recorded in provenance.
    if deterministic:
        torch.use_deterministic_algorithms(True, warn_only=True)


def seed_everything(seed: int) -> None:
    """As the notebooks' set_seed: torch (CPU and all GPUs) and numpy's global RNG."""
    import numpy as np

    torch.manual_seed(seed)
    torch.cuda.manual_seed_all(seed)
    np.random.seed(seed)
