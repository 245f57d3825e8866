"""dualgrad.optim reproduces torch.optim.SGD (fused: bit for bit; foreach: to rounding) and MultiStepLR."""

import pytest

import copy

import torch

from dualgrad.optim import SGD, MultiStepSchedule


@pytest.mark.parametrize("implementation", ["fused", "foreach"])
def test_sgd_matches_torch_including_channels_last(implementation):
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4), torch.nn.Flatten(),
                                torch.nn.Linear(4 * 6 * 6, 3)).to(memory_format=torch.channels_last)
    twin = copy.deepcopy(model)
    ours = SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
    ref = torch.optim.SGD(twin.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4,
                          **{implementation: True})
    gen = torch.Generator().manual_seed(1)
    for _ in range(5):
        for p, q in zip(model.parameters(), twin.parameters()):
            g = torch.randn(p.shape, generator=gen).to(memory_format=torch.channels_last) if p.dim() == 4 \
                else torch.randn(p.shape, generator=gen)
            p.grad, q.grad = g.clone(), g.clone()
        ours.step()
        ref.step()
    for p, q in zip(model.parameters(), twin.parameters()):
        if implementation == "fused":
            assert torch.equal(p, q)
        else:  # fused multiply-add rounds differently: ~1 ulp
            torch.testing.assert_close(p, q, rtol=1e-6, atol=1e-7)


def test_sgd_with_gradients_kept_from_step_to_step_and_mixed_layouts():
    """As the Stepper drives it: the same .grad tensors refilled in place every step (the kernel's
    views of them are reused), one gradient in a layout other than its parameter's (torch's CPU
    fused kernel mixes up elements there; the reference gets its gradients in the right layout)."""
    torch.manual_seed(0)
    params = [torch.nn.Parameter(torch.randn(8, 4, 3, 3).to(memory_format=torch.channels_last)) for _ in range(2)]
    twins = [torch.nn.Parameter(p.detach().clone()) for p in params]
    params[0].grad = torch.zeros_like(params[0])  # channels_last, as the parameter
    params[1].grad = torch.zeros(params[1].shape)  # contiguous: not the parameter's layout
    ours = SGD(params, lr=0.1, momentum=0.9, weight_decay=5e-4)
    ref = torch.optim.SGD(twins, lr=0.1, momentum=0.9, weight_decay=5e-4, fused=True)
    gen = torch.Generator().manual_seed(1)
    for _ in range(4):
        for p, q in zip(params, twins):
            g = torch.randn(p.shape, generator=gen)
            p.grad.copy_(g)
            q.grad = torch.empty_like(q).copy_(g)
        ours.step()
        ref.step()
    for p, q in zip(params, twins):
        assert torch.equal(p, q)
        assert p.grad.stride() == p.stride()
        assert p.is_contiguous(memory_format=torch.channels_last)


def test_schedule_matches_multisteplr_and_state_round_trips():
    p = torch.nn.Parameter(torch.zeros(1))
    ours = SGD([p], lr=0.1)
    ref_opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    schedule = MultiStepSchedule(ours, [50, 75], 0.1)
    ref = torch.optim.lr_scheduler.MultiStepLR(ref_opt, [50, 75], 0.1)
    for epoch in range(100):
        assert ours.lr == ref_opt.param_groups[0]["lr"], epoch
        schedule.step()
        ref_opt.step()  # no gradients: a no-op, in the order torch's scheduler expects
        ref.step()
    again = MultiStepSchedule(SGD([p], lr=ours.lr), [50, 75], 0.1)
    again.load_state_dict(schedule.state_dict())
    assert again.epoch == 100


def test_momentum_buffers_survive_a_checkpoint():
    p = torch.nn.Parameter(torch.ones(3))
    opt = SGD([p], lr=0.1, momentum=0.9)
    p.grad = torch.ones(3)
    opt.step()
    state = opt.state_dict()
    q = torch.nn.Parameter(p.detach().clone())
    resumed = SGD([q], lr=0.1, momentum=0.9)
    resumed.load_state_dict(state)
    for param, optimizer in ((p, opt), (q, resumed)):
        param.grad = torch.full((3,), 2.0)
        optimizer.step()
    assert torch.equal(p, q)
