"""Malformed input: exit status 2 before any training, a message naming the key, no output file."""

import subprocess
import sys

import pytest

from dualgrad.cli import main

TINY = ["--set", "arch=SimpleCNN", "--set", "dataset=synthetic", "--set", "epochs=1", "--set", "milestones=[]",
        "--quiet"]


@pytest.mark.parametrize("override,key", [
    ("arch=ResNet19", "arch"),
    ("lam=1.5", "lam"),
    ("eta=1.0", "eta"),
    ("eta=-0.2", "eta"),
    ("K=0", "K"),
    ("seed=[]", "seed"),
    ("seed=-3", "seed"),
    ("method=sgd", "method"),
    ("value_source=oracle", "value_source"),
    ("epochs=0", "epochs"),
])
def test_bad_value_is_rejected_naming_the_key(tmp_path, capsys, override, key):
    out = tmp_path / "r.json"
    assert main(["train", *TINY, "--set", override, "--output", str(out)]) == 2
    assert f"config key '{key}'" in capsys.readouterr().err
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_missing_dataset_says_where_it_looked_and_how_to_get_it(tmp_path, capsys):
    out = tmp_path / "r.json"
    root = tmp_path / "data"
    assert main(["train", "--set", "dataset=cifar10", "--data-root", str(root), "--output", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "'dataset'" in err and str(root / "cifar-10-batches-py") in err and "--download" in err
    assert not out.exists()


def test_unwritable_output(tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    assert main(["train", *TINY, "--output", str(blocker / "r.json")]) == 2
    assert "config key 'output'" in capsys.readouterr().err


def test_unknown_key_and_bad_config_file(tmp_path, capsys):
    out = tmp_path / "r.json"
    assert main(["train", *TINY, "--set", "lamda=0.3", "--output", str(out)]) == 2
    assert "did you mean 'lam'" in capsys.readouterr().err
    assert main(["train", "--config", str(tmp_path / "nope.yaml"), "--output", str(out)]) == 2
    assert "config key 'config'" in capsys.readouterr().err
    assert not out.exists()


def test_exit_status_from_a_real_process(tmp_path):
    out = tmp_path / "r.json"
    proc = subprocess.run([sys.executable, "-m", "dualgrad", "train", *TINY, "--set", "lam=2", "--output", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "config key 'lam'" in proc.stderr and not out.exists()


def test_help_describes_train():
    proc = subprocess.run([sys.executable, "-m", "dualgrad", "train", "--help"], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0 and "--checkpoint" in proc.stdout and "resumes" in proc.stdout
