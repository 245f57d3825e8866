"""Sealed files (checkpoints, dataset cache): every kind of damage is detected on reading."""

import pytest
import torch

from dualgrad.errors import DamagedFileError
from dualgrad.io import load_sealed, save_sealed


def zero(offset_fraction, n=64):
    def damage(data):
        at = int(len(data) * offset_fraction)
        return data[:at] + bytes(n) + data[at + n:]
    return damage


def flip(data, at):
    return data[:at] + bytes([data[at] ^ 1]) + data[at + 1:]


DAMAGE = {
    "truncated to a third": lambda data: data[:len(data) // 3],
    "last byte missing": lambda data: data[:-1],
    "empty": lambda data: b"",
    "64 bytes zeroed in the middle": zero(0.5),
    "64 bytes zeroed near the end": zero(0.97),
    "one bit flipped": lambda data: flip(data, len(data) // 2),
    "bytes appended": lambda data: data + b"\0" * 16,
    "header altered": lambda data: data.replace(b"sha256=", b"sha256=0", 1),
    "no header (older format)": lambda data: data[data.index(b"\n") + 1:],
}


@pytest.fixture
def sealed(tmp_path):
    path = tmp_path / "state.ckpt"
    state = {"model": {"w": torch.randn(64, 64)}, "epochs_done": 3}
    save_sealed(path, state)
    return path, state


def test_intact_file_reads_back(sealed):
    path, state = sealed
    loaded = load_sealed(path)
    assert loaded["epochs_done"] == 3 and torch.equal(loaded["model"]["w"], state["model"]["w"])


@pytest.mark.parametrize("how", DAMAGE)
def test_damage_is_detected(sealed, how):
    path, _ = sealed
    data = path.read_bytes()
    damaged = DAMAGE[how](data)
    assert damaged != data
    path.write_bytes(damaged)
    with pytest.raises(DamagedFileError) as err:
        load_sealed(path)
    assert err.value.path == str(path)


def test_torch_alone_misses_zeroed_bytes(tmp_path):
    """Why the seal: torch.load does not notice bytes zeroed inside a tensor's data."""
    path = tmp_path / "plain.pt"
    torch.save({"w": torch.randn(256, 256)}, path)
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle:middle + 64] = bytes(64)
    path.write_bytes(bytes(data))
    assert torch.load(path, weights_only=True)["w"].shape == (256, 256)  # loads without complaint
