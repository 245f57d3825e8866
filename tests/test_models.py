import pytest
import torch

from dualgrad.models import ARCHITECTURES, build_model, count_parameters

PAPER_COUNTS = {
    "ResNet18": 11_173_962,
    "ResNet34": 21_282_122,
    "VGG11": 9_231_114,
    "VGG11_BN_MLP": 9_493_770,
    "SimpleCNN": 399_626,
}


@pytest.mark.parametrize("arch", sorted(PAPER_COUNTS))
def test_parameter_counts_match_the_notebooks(arch):
    assert count_parameters(build_model(arch, num_classes=10)) == PAPER_COUNTS[arch]


def test_every_architecture_is_registered_and_runs_narrow():
    assert set(ARCHITECTURES) == set(PAPER_COUNTS)
    for arch in ARCHITECTURES:
        model = build_model(arch, num_classes=100, width=0.25)
        assert model(torch.zeros(2, 3, 32, 32)).shape == (2, 100)
        assert count_parameters(model) < PAPER_COUNTS[arch] / 4


def test_vgg_heads_differ():
    assert isinstance(build_model("VGG11").classifier, torch.nn.Linear)
    assert any(isinstance(m, torch.nn.Dropout) for m in build_model("VGG11_BN_MLP").classifier)


def test_unknown_architecture_names_the_allowed_ones():
    with pytest.raises(ValueError, match="ResNet18"):
        build_model("ResNet19")
