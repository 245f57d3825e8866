"""Hysteresis primitives: a start run that saves its model and checks its threshold, and a λ
sweep that continues it with a fresh optimiser, carrying step counter and cache across λ."""

import json

import pytest
import torch

from conftest import validate_run
from dualgrad.config import RunConfig, Runtime
from dualgrad.hysteresis import run_sweep
from dualgrad.train import train

BASE = {"arch": "VGG11_BN_MLP", "width": 0.125, "dataset": "synthetic", "n_train": 256, "n_test": 128,
        "batch_size": 64, "drop_last": False, "lr": 0.05, "noise_seed_offset": 0, "eval_every": 1,
        "log_steps": 4}
RUNTIME = Runtime(progress=False, num_threads=1)


@pytest.fixture(scope="module")
def start(tmp_path_factory):
    folder = tmp_path_factory.mktemp("start")
    cfg = RunConfig.from_dict({**BASE, "lam": 0.35, "epochs": 2, "milestones": [1], "seed": 0, "label_seed": 0,
                               "accept_below": 1.0})
    result = train(cfg, RUNTIME, folder / "start.json", save_model=folder / "start.pt")
    return folder, result


def sweep_config(**extra):
    return RunConfig.from_dict({**BASE, "lam_schedule": [0.3, 0.5, 0.7], "epochs_per_lam": 1, "milestones": [],
                                "lr": 0.0005, "seed": 200, "label_seed": 0, **extra})


def test_start_saves_its_model_and_records_acceptance(start):
    folder, result = start
    validate_run(result)
    assert result["accepted"] is True
    state = torch.load(folder / "start.pt", weights_only=True)
    assert any(k.startswith("classifier.") for k in state)


def test_sweep_continues_the_start_model_through_the_schedule(start, tmp_path):
    folder, start_result = start
    result = run_sweep(sweep_config(), RUNTIME, tmp_path / "up.json", folder / "start.pt", [folder / "start.json"])
    validate_run(result)
    assert [p["lambda"] for p in result["trajectory"]] == [0.3, 0.5, 0.7]
    assert result["dynamics"]["lam"] == [0.3, 0.5, 0.7]
    assert set(result["dynamics"]["lr"]) == {0.0005}
    assert result["steps"] == 3 * 4  # one run: the step counter (and K-cache phase) carry across λ
    assert result["provenance"]["start_runs"] == {str(folder / "start.json"): start_result["run_id"]}
    # A continued model starts near the start's error, not at chance.
    assert abs(result["trajectory"][0]["error"] - start_result["test_error"]) < 0.3


def test_sweep_from_a_rejected_start_is_skipped_not_failed(tmp_path, start):
    folder, start_result = start
    rejected = dict(start_result, accepted=False)
    (tmp_path / "rejected.json").write_text(json.dumps(rejected))
    result = run_sweep(sweep_config(), RUNTIME, tmp_path / "down.json", folder / "start.pt",
                       [tmp_path / "rejected.json"])
    validate_run(result)
    assert result["status"] == "skipped" and result["test_error"] is None
    assert json.loads((tmp_path / "down.json").read_text())["rejected_starts"][0]["path"].endswith("rejected.json")


def test_sweep_records_how_far_the_model_moved_and_whether_it_is_alive(start, tmp_path):
    folder, _ = start
    slow = run_sweep(sweep_config(), RUNTIME, tmp_path / "slow.json", folder / "start.pt", [folder / "start.json"])
    fast = run_sweep(sweep_config(lr=0.05), RUNTIME, tmp_path / "fast.json", folder / "start.pt",
                     [folder / "start.json"])
    for result in (slow, fast):
        validate_run(result)
        for point in result["trajectory"]:
            assert 0 < point["param_distance_rel"] and point["param_distance"] > 0
            assert 0.1 <= point["modal_class_share"] <= 1.0  # 10 classes: at least one in ten
            assert 0 <= point["prediction_entropy"] <= torch.log(torch.tensor(10.0)).item() + 1e-6
    # a 100x larger learning rate moves the model much further from its start
    assert fast["trajectory"][-1]["param_distance"] > 5 * slow["trajectory"][-1]["param_distance"]
