"""The CIFAR-10 path through torchvision's real dataset class, on a tiny dataset in CIFAR-10's
on-disk format (pickled batches). Only the expected MD5 sums are patched, in this test, to the
fake files' own."""

import hashlib
import json
import pickle

import numpy as np
import pytest
import torch
import torchvision

from dualgrad.config import RunConfig, Runtime
from dualgrad.data import load_dataset
from dualgrad.errors import DatasetNotFoundError
from dualgrad.train import train
from conftest import validate_run

PER_BATCH, N_TEST = 40, 60


def write_fake_cifar10(root):
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    rng = np.random.RandomState(0)
    images = {}

    def batch(name, n, offset):
        data = rng.randint(0, 256, size=(n, 3072), dtype=np.uint8)  # rows: R plane, G plane, B plane
        labels = [(offset + i) % 10 for i in range(n)]
        with open(folder / name, "wb") as fh:
            pickle.dump({"batch_label": name, "labels": labels, "data": data,
                         "filenames": [f"{name}_{i}.png" for i in range(n)]}, fh)
        images[name] = (data, labels)

    for i in range(1, 6):
        batch(f"data_batch_{i}", PER_BATCH, i)
    batch("test_batch", N_TEST, 0)
    with open(folder / "batches.meta", "wb") as fh:
        pickle.dump({"label_names": ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse",
                                     "ship", "truck"], "num_cases_per_batch": PER_BATCH, "num_vis": 3072}, fh)
    return folder, images


def md5(path):
    return hashlib.md5(path.read_bytes()).hexdigest()


@pytest.fixture
def fake_cifar(tmp_path, monkeypatch):
    folder, images = write_fake_cifar10(tmp_path / "data")
    cls = torchvision.datasets.CIFAR10
    monkeypatch.setattr(cls, "train_list", [[n, md5(folder / n)] for n, _ in cls.train_list])
    monkeypatch.setattr(cls, "test_list", [[n, md5(folder / n)] for n, _ in cls.test_list])
    monkeypatch.setattr(cls, "meta", dict(cls.meta, md5=md5(folder / "batches.meta")))
    return tmp_path / "data", images


def test_loads_through_torchvision_with_checksums(fake_cifar):
    root, images = fake_cifar
    data = load_dataset("cifar10", str(root))
    assert data.train_x.shape == (5 * PER_BATCH, 3, 32, 32) and data.train_x.dtype == torch.uint8
    assert data.test_x.shape == (N_TEST, 3, 32, 32) and data.num_classes == 10
    first, labels = images["data_batch_1"]
    # CIFAR rows are channel planes: image 0's red plane is its first 1024 bytes.
    assert torch.equal(data.train_x[0], torch.from_numpy(first[0].reshape(3, 32, 32)))
    assert data.train_y[:PER_BATCH].tolist() == labels
    assert data.mean == (0.4914, 0.4822, 0.4465) and data.std == (0.2023, 0.1994, 0.2010)
    assert "verified" in data.source["checksums"]


def test_corrupted_file_fails_its_checksum(fake_cifar):
    root, _ = fake_cifar
    path = root / "cifar-10-batches-py" / "data_batch_3"
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(DatasetNotFoundError, match="checksums"):
        load_dataset("cifar10", str(root))


def test_a_run_trains_on_the_cifar_path(fake_cifar, tmp_path):
    root, _ = fake_cifar
    cfg = RunConfig.from_dict({"arch": "SimpleCNN", "width": 0.25, "dataset": "cifar10", "epochs": 2,
                               "batch_size": 50, "milestones": [1], "lam": 0.3, "eta": 0.4})
    out = tmp_path / "run.json"
    result = train(cfg, Runtime(data_root=str(root), progress=False), out)
    assert json.loads(out.read_text()) == result
    validate_run(result)
    assert result["provenance"]["dataset"]["name"] == "cifar10"
    assert result["provenance"]["dataset"]["n_train"] == 5 * PER_BATCH
    assert result["provenance"]["labels"]["noise_fraction"] == pytest.approx(0.4)
    assert result["steps"] == 2 * (5 * PER_BATCH // 50)
