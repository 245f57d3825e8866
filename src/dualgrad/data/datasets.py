"""Datasets by name, each returned as uint8 image tensors and integer labels.

- ``cifar10`` / ``cifar100``: torchvision's dataset classes on a local root;
  their MD5 checks run on every load, and downloading happens only when asked.
- ``synthetic``: a deterministic CIFAR-shaped dataset generated in memory
  whose classes differ in structure (orientation, frequency and colour of
  gratings), so a CNN must learn features, not memorise noise.
- ``digits``: scikit-learn's bundled handwritten digits (a real dataset that
  ships inside the package), upsampled from 8x8 to 3x32x32.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sys
from dataclasses import dataclass, field

import numpy as np
import torch

from ..errors import ConfigError, DatasetNotFoundError

# The notebooks' normalisation constants (CIFAR-10); CIFAR-100's are the usual ones.
CIFAR10_MEAN, CIFAR10_STD = (0.4914, 0.4822, 0.4465), (0.2023, 0.1994, 0.2010)
CIFAR100_MEAN, CIFAR100_STD = (0.5071, 0.4865, 0.4409), (0.2673, 0.2564, 0.2762)

SYNTHETIC_SIZES = (12000, 2000)  # train, test
SYNTHETIC_VERSION = 1  # bump when the generator changes: it changes every synthetic result
DIGITS_TEST_SIZE = 400


@dataclass
class ImageData:
    """A dataset split into train/test, images uint8 (N, 3, 32, 32), labels int64."""

    name: str
    train_x: torch.Tensor
    train_y: np.ndarray
    test_x: torch.Tensor
    test_y: np.ndarray
    num_classes: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    source: dict = field(default_factory=dict)

    def subset(self, n_train: int | None, n_test: int | None) -> "ImageData":
        """The first ``n_train`` / ``n_test`` examples of each split (None = all)."""
        for key, n, total in (("n_train", n_train, len(self.train_y)), ("n_test", n_test, len(self.test_y))):
            if n is not None and n > total:
                raise ConfigError(key, f"{n} requested but dataset '{self.name}' has only {total}")
        return ImageData(
            self.name,
            self.train_x[:n_train],
            self.train_y[:n_train],
            self.test_x[:n_test],
            self.test_y[:n_test],
            self.num_classes,
            self.mean,
            self.std,
            dict(self.source, n_train=n_train or len(self.train_y), n_test=n_test or len(self.test_y)),
        )


def dataset_location(name: str, root: str) -> str:
    """Where a dataset lives on disk (for messages and the workflow's data rule)."""
    folder = {"cifar10": "cifar-10-batches-py", "cifar100": "cifar-100-python"}.get(name)
    return os.path.join(root, folder) if folder else f"(generated in memory: {name})"


def load_dataset(name: str, root: str = "resources/data", download: bool = False) -> ImageData:
    """Load a dataset; the first of several concurrent jobs downloads or caches it, the others wait."""
    if name in ("cifar10", "cifar100"):
        if not download:
            return _load_cifar(name, root, download)
        with _root_lock(root):
            return _load_cifar(name, root, download)
    if name in ("synthetic", "digits"):
        cached = _offline_cache(name, root)
        data = _load_cached(cached)
        if data is not None:
            return data
        with _root_lock(root) as locked:
            data = _load_cached(cached)
            if data is not None:
                return data
            data = _synthetic() if name == "synthetic" else _digits()
            if locked:
                _write_cache(cached, data)
            return data
    raise ConfigError("dataset", f"unknown value {name!r}; allowed: cifar10, cifar100, synthetic, digits")


def prepare_dataset(name: str, root: str, download: bool = False) -> dict:
    """Make sure a dataset is usable (verify checksums, download if allowed); return its description.

    Offline datasets are generated once and cached under ``root``, so that training jobs load
    them in milliseconds (their content does not depend on the cache).
    """
    data = load_dataset(name, root, download)
    return {
        "dataset": name,
        "location": dataset_location(name, root),
        "n_train": len(data.train_y),
        "n_test": len(data.test_y),
        "num_classes": data.num_classes,
        **data.source,
    }


@contextlib.contextmanager
def _root_lock(root: str):
    """An exclusive lock on the data folder (released by the kernel even if the holder dies).

    Yields False, without locking, where the folder cannot be created or written.
    """
    try:
        os.makedirs(root, exist_ok=True)
        handle = open(os.path.join(root, ".dualgrad.lock"), "a")
    except OSError:
        yield False
        return
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _offline_cache(name: str, root: str):
    from pathlib import Path

    version = SYNTHETIC_VERSION if name == "synthetic" else 1
    return Path(root) / "offline" / f"{name}-v{version}.pt"


def _load_cached(path) -> ImageData | None:
    """The cached dataset, or None where there is none or it is damaged (then it is rebuilt)."""
    from .. import io
    from ..errors import DamagedFileError

    if not path.is_file():
        return None
    try:
        fields = io.load_sealed(path, weights_only=False)  # our own file, written by _write_cache
        return ImageData(**fields)
    except (DamagedFileError, OSError, TypeError) as err:
        print(f"warning: dataset cache {path} is damaged ({getattr(err, 'reason', err)}); rebuilding it",
              file=sys.stderr, flush=True)
        return None


def _write_cache(path, data: ImageData) -> None:
    """Best effort: a full disk or a read-only root just means generating the data each time."""
    from .. import io
    from ..errors import StorageError

    stale = io.remove_stale_temps(path)
    try:
        io.save_sealed(path, data.__dict__, what="dataset cache")
    except StorageError as err:
        with contextlib.suppress(OSError):
            path.unlink()  # never leave a stale cache behind a failed rewrite
        print(f"warning: {err}; going on without the cache (the data are generated in memory)",
              file=sys.stderr, flush=True)
    if stale:
        print(f"removed {len(stale)} temporary file(s) of interrupted cache writes in {path.parent}",
              file=sys.stderr, flush=True)


# --------------------------------------------------------------------- CIFAR
def _load_cifar(name: str, root: str, download: bool) -> ImageData:
    import torchvision

    cls = torchvision.datasets.CIFAR10 if name == "cifar10" else torchvision.datasets.CIFAR100
    try:
        train = cls(root=root, train=True, download=download)
        test = cls(root=root, train=False, download=download)
    except RuntimeError as err:  # torchvision: "Dataset not found or corrupted"
        pretty = "CIFAR-10" if name == "cifar10" else "CIFAR-100"
        raise DatasetNotFoundError(
            f"config key 'dataset': {pretty} not found or failing its checksums at "
            f"'{dataset_location(name, root)}' ({err}). Get it with "
            f"`python -m dualgrad prepare-data {name} --data-root {root} --download` on a machine with "
            f"internet access, or copy the extracted '{os.path.basename(dataset_location(name, root))}' "
            f"folder there (the workflow's `data_root`; `download: true` lets the workflow fetch it)."
        ) from None
    mean, std = (CIFAR10_MEAN, CIFAR10_STD) if name == "cifar10" else (CIFAR100_MEAN, CIFAR100_STD)
    return ImageData(
        name=name,
        train_x=_hwc_to_tensor(train.data),
        train_y=np.asarray(train.targets, dtype=np.int64),
        test_x=_hwc_to_tensor(test.data),
        test_y=np.asarray(test.targets, dtype=np.int64),
        num_classes=len(train.classes),
        mean=mean,
        std=std,
        source={"location": dataset_location(name, root), "checksums": "verified (torchvision md5)"},
    )


def _hwc_to_tensor(images: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(images.transpose(0, 3, 1, 2)))


def _channel_stats(images: torch.Tensor) -> tuple[tuple[float, ...], tuple[float, ...]]:
    x = images.to(torch.float64) / 255.0
    return tuple(x.mean(dim=(0, 2, 3)).tolist()), tuple(x.std(dim=(0, 2, 3)).tolist())


# ----------------------------------------------------------------- synthetic
def _synthetic(num_classes: int = 10) -> ImageData:
    n_train, n_test = SYNTHETIC_SIZES
    images, labels = _synthetic_images(n_train + n_test, num_classes, seed=20240611)
    train_x, test_x = images[:n_train], images[n_train:]
    mean, std = _channel_stats(train_x)
    return ImageData(
        name="synthetic",
        train_x=train_x,
        train_y=labels[:n_train],
        test_x=test_x,
        test_y=labels[n_train:],
        num_classes=num_classes,
        mean=mean,
        std=std,
        source={"generator": f"dualgrad synthetic v{SYNTHETIC_VERSION}"},
    )


def _synthetic_images(n: int, num_classes: int, seed: int) -> tuple[torch.Tensor, np.ndarray]:
    """Each class: two oriented colour gratings with its own frequencies; each image: random
    phases, amplitudes, a weaker grating of another class as a distractor, and pixel noise."""
    gen = torch.Generator().manual_seed(seed)

    def uniform(low, high, *shape):
        return low + (high - low) * torch.rand(*shape, generator=gen)

    freq = uniform(1.5, 5.0, num_classes, 2)
    theta = uniform(0.0, torch.pi, num_classes, 2)
    colour = uniform(-1.0, 1.0, num_classes, 2, 3)
    colour /= colour.norm(dim=2, keepdim=True)
    labels = (torch.arange(n) % num_classes)[torch.randperm(n, generator=gen)]
    distractor = (labels + torch.randint(1, num_classes, (n,), generator=gen)) % num_classes
    yy, xx = torch.meshgrid(torch.arange(32.0), torch.arange(32.0), indexing="ij")
    img = torch.zeros(n, 3, 32, 32)
    for cls_idx, weight in ((labels, 1.0), (distractor, 0.45)):
        for k in range(2):
            th = theta[cls_idx, k][:, None, None]
            proj = torch.cos(th) * xx + torch.sin(th) * yy
            phase = uniform(0.0, 2 * torch.pi, n)[:, None, None]
            wave = torch.cos((2 * torch.pi / 32) * freq[cls_idx, k][:, None, None] * proj + phase)
            coef = weight * uniform(0.6, 1.0, n)[:, None] * colour[cls_idx, k]
            for c in range(3):  # in place: large temporaries cost more than the arithmetic
                img[:, c].addcmul_(wave, coef[:, c, None, None])
    img.add_(torch.randn(img.shape, generator=gen), alpha=0.35).add_(uniform(-0.3, 0.3, n, 3, 1, 1))
    out = img.mul_(55.0).add_(127.5).clamp_(0, 255).to(torch.uint8)
    return out, labels.numpy().astype(np.int64)


# -------------------------------------------------------------------- digits
def _digits() -> ImageData:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = torch.from_numpy(bunch.images.astype(np.float32))[:, None]  # (N, 1, 8, 8), 0..16
    up = torch.nn.functional.interpolate(images, size=(32, 32), mode="bilinear", align_corners=False)
    up = (up * (255.0 / 16.0)).round().clamp(0, 255).to(torch.uint8).expand(-1, 3, -1, -1).contiguous()
    labels = bunch.target.astype(np.int64)
    order = np.random.RandomState(0).permutation(len(labels))  # fixed split, independent of run seeds
    train_idx, test_idx = order[:-DIGITS_TEST_SIZE], order[-DIGITS_TEST_SIZE:]
    train_x = up[torch.from_numpy(train_idx)]
    mean, std = _channel_stats(train_x)
    return ImageData(
        name="digits",
        train_x=train_x,
        train_y=labels[train_idx],
        test_x=up[torch.from_numpy(test_idx)],
        test_y=labels[test_idx],
        num_classes=10,
        mean=mean,
        std=std,
        source={"origin": "sklearn.datasets.load_digits (UCI optical digits), 8x8 -> 32x32 bilinear"},
    )
