"""The engine's step against the notebooks' loop, step by step on identical batches.

Float64 keeps the comparison about the maths: in fp32 two correct
implementations drift apart chaotically after a few steps (SPEC §1).
"""

import pytest
import torch
import torch.nn as nn

from dualgrad.step import Stepper
from notebook_reference import notebook_dual_steps, plain_sgd_steps

STEPS, K, LR = 24, 4, 0.1


def small_bn_net(dropout: bool = False) -> nn.Module:
    torch.manual_seed(0)
    head = [nn.Linear(8 * 4 * 4, 16), nn.ReLU(), nn.Dropout(0.5), nn.Linear(16, 10)] if dropout else \
        [nn.Linear(8 * 4 * 4, 10)]
    return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), *head).double()


def batches(value_labels: str = "clean"):
    gen = torch.Generator().manual_seed(1)
    out = []
    for _ in range(STEPS):
        x = torch.randn(16, 3, 8, 8, generator=gen, dtype=torch.float64)
        clean = torch.randint(0, 10, (16,), generator=gen)
        noisy = torch.where(torch.rand(16, generator=gen) < 0.4, torch.randint(0, 10, (16,), generator=gen), clean)
        value = {"clean": clean, "anti": (clean + 1) % 10, "random": torch.randint(0, 10, (16,), generator=gen)}
        out.append((x, noisy, value[value_labels]))
    return out


def sgd(model):
    return torch.optim.SGD(model.parameters(), lr=LR, momentum=0.9, weight_decay=5e-4)


def assert_close(a: torch.Tensor, b: torch.Tensor, rtol=1e-5):
    scale = b.abs().max().clamp_min(1e-12)
    assert ((a - b).abs().max() / scale).item() <= rtol


def run_both(lam, value_labels="clean", renorm=False, negate=False, faithful=False, dropout=False, k=K):
    ref, ours = small_bn_net(dropout), small_bn_net(dropout)
    data = batches(value_labels)
    torch.manual_seed(7)  # dropout masks come from the global RNG in both loops
    ref_logs = notebook_dual_steps(ref, sgd(ref), data, lam, K=k, value_type="anti" if negate else "aligned",
                                   renorm=renorm)
    opt = sgd(ours)
    stepper = Stepper(ours, opt, "dual", K=k, renorm=renorm, negate_value=negate, faithful_second_forward=faithful,
                      log_steps=STEPS)
    torch.manual_seed(7)
    for x, noisy, value in data:
        stepper(x, noisy, value, lam)
    return ref, ours, ref_logs, stepper


@pytest.mark.parametrize("lam", [0.0, 0.3, 0.55, 1.0])
@pytest.mark.parametrize("value_labels", ["clean", "anti", "random"])
def test_default_step_matches_notebook_parameters(lam, value_labels):
    ref, ours, ref_logs, stepper = run_both(lam, value_labels)
    for p_ref, p in zip(ref.parameters(), ours.parameters()):
        assert_close(p.detach(), p_ref.detach())
    cos = stepper.log.first_cos.tolist()
    gmix = stepper.log.first_gmix.tolist()
    for step, (c_ref, n_ref) in enumerate(ref_logs):
        assert cos[step] == pytest.approx(c_ref, abs=1e-6)
        assert gmix[step] == pytest.approx(n_ref, abs=1e-9)


@pytest.mark.parametrize("renorm,negate,k", [(True, False, 16), (True, False, 1), (True, True, 1), (False, True, 4)])
def test_ablation_conditions_match_notebook(renorm, negate, k):
    """B3's conditions: +Renorm, +Renorm+K1, TrueAnti+K1 (negated clean gradient)."""
    ref, ours, ref_logs, stepper = run_both(0.3, renorm=renorm, negate=negate, k=k)
    for p_ref, p in zip(ref.parameters(), ours.parameters()):
        assert_close(p.detach(), p_ref.detach())
    assert stepper.log.first_gmix.tolist() == pytest.approx([n for _, n in ref_logs], abs=1e-9)


def test_default_step_updates_batchnorm_statistics_once_per_step():
    """One forward per step: BN running stats differ from the notebooks' (updated twice on refresh steps)."""
    ref, ours, _, _ = run_both(0.3)
    assert ours[1].num_batches_tracked.item() == STEPS
    assert ref[1].num_batches_tracked.item() == STEPS + STEPS // K
    assert not torch.allclose(ours[1].running_mean, ref[1].running_mean)


@pytest.mark.parametrize("dropout", [False, True])
def test_faithful_second_forward_matches_notebook_including_buffers(dropout):
    ref, ours, _, _ = run_both(0.3, faithful=True, dropout=dropout)
    for p_ref, p in zip(ref.parameters(), ours.parameters()):
        assert_close(p.detach(), p_ref.detach())
    for (name, b_ref), (_, b) in zip(ref.named_buffers(), ours.named_buffers()):
        assert torch.equal(b, b_ref) if b.dtype == torch.int64 else torch.allclose(b, b_ref, rtol=1e-9), name


@pytest.mark.parametrize("method,lam", [("ce", None), ("loss_mix", 0.3)])
def test_plain_methods_match_reference_sgd(method, lam):
    ref, ours = small_bn_net(), small_bn_net()
    data = batches()
    plain_sgd_steps(ref, sgd(ref), data, lam=lam)
    stepper = Stepper(ours, sgd(ours), method)
    for x, noisy, value in data:
        stepper(x, noisy, value if method == "loss_mix" else None, lam or 0.0)
    for p_ref, p in zip(ref.parameters(), ours.parameters()):
        assert_close(p.detach(), p_ref.detach(), rtol=1e-10)
    assert stepper.step == STEPS and stepper.log.steps == STEPS


def test_value_gradient_cache_refreshes_every_k_steps(monkeypatch):
    model = small_bn_net()
    stepper = Stepper(model, sgd(model), "dual", K=K)
    refreshed = []
    original = stepper._store_value_gradient
    monkeypatch.setattr(stepper, "_store_value_gradient", lambda g: (refreshed.append(stepper.step), original(g)))
    for x, noisy, value in batches():
        stepper(x, noisy, value, 0.3)
    assert refreshed == list(range(0, STEPS, K))


def test_step_runs_in_float32_with_channels_last():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
                          nn.Flatten(), nn.Linear(8, 10)).to(memory_format=torch.channels_last)
    stepper = Stepper(model, sgd(model), "dual", K=2, log_steps=4)
    x = torch.randn(8, 3, 8, 8).to(memory_format=torch.channels_last)
    y = torch.randint(0, 10, (8,))
    for _ in range(4):
        stepper(x, y, y, 0.4)
    assert torch.isfinite(stepper.log.first_cos).all()
    # Same labels: structure and value gradients coincide on refresh steps.
    assert stepper.log.first_cos[0].item() == pytest.approx(1.0, abs=1e-5)
