import pytest

from dualgrad.config import RunConfig
from dualgrad.errors import ConfigError


@pytest.mark.parametrize("values,key,fragment", [
    ({"arch": "ResNet19"}, "arch", "ResNet18"),
    ({"lam": 1.5}, "lam", "[0.0, 1.0]"),
    ({"lam": -0.1}, "lam", "[0.0, 1.0]"),
    ({"eta": 1.0}, "eta", "[0.0, 1.0)"),
    ({"K": 0}, "K", ">= 1"),
    ({"seed": -1}, "seed", ">= 0"),
    ({"seed": []}, "seed", "integer"),
    ({"method": "adam"}, "method", "dual"),
    ({"value_source": "oracle"}, "value_source", "negated_clean"),
    ({"lamda": 0.3}, "lamda", "did you mean 'lam'"),
    ({"milestones": [75, 50]}, "milestones", "increasing"),
    ({"renorm": "yes"}, "renorm", "true or false"),
    ({"dataset": "imagenet"}, "dataset", "cifar10"),
    ({"method": "loss_mix", "value_source": "negated_clean"}, "value_source", "random_labels"),
])
def test_invalid_values_name_the_key(values, key, fragment):
    with pytest.raises(ConfigError) as err:
        RunConfig.from_dict(values)
    assert err.value.key == key
    assert f"'{key}'" in str(err.value) and fragment in str(err.value)


def test_defaults_are_the_notebooks_protocol():
    cfg = RunConfig()
    assert (cfg.batch_size, cfg.lr, cfg.epochs, cfg.milestones, cfg.gamma, cfg.K) == (256, 0.1, 100, (50, 75), 0.1, 16)
    assert (cfg.momentum, cfg.weight_decay, cfg.drop_last) == (0.9, 5e-4, True)
    assert cfg.resolved_label_seed == 1000
    assert RunConfig(seed=2, noise_seed_offset=0).resolved_label_seed == 2


def test_canonical_form_makes_equivalent_runs_equal():
    a = RunConfig.from_dict({"method": "ce", "lam": 0.3, "K": 4, "renorm": True})
    b = RunConfig.from_dict({"method": "ce"})
    assert a == b and a.fingerprint() == b.fingerprint()
    assert RunConfig.from_dict({"lam": 0.3}).fingerprint() != RunConfig.from_dict({"lam": 0.35}).fingerprint()
    assert RunConfig.from_dict({"lam": 1}).lam == 1.0 and isinstance(RunConfig.from_dict({"lam": 1}).lam, float)


def test_lambda_schedule_defines_epochs():
    cfg = RunConfig.from_dict({"lam_schedule": [0.3, 0.35, 0.4], "epochs_per_lam": 3, "milestones": []})
    assert cfg.epochs == 9 and cfg.lam == 0.3
    with pytest.raises(ConfigError, match="epochs_per_lam"):
        RunConfig.from_dict({"lam_schedule": [0.3]})


def test_round_trip_through_dict():
    cfg = RunConfig.from_dict({"arch": "SimpleCNN", "milestones": [2, 3], "lam": 0.25})
    assert RunConfig.from_dict(cfg.to_dict()) == cfg
