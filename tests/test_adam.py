"""aekit's Adam: torch's Adam arithmetic without torch.optim's machinery."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from aekit.training.adam import Adam


def _params(seed: int = 0, channels_last: bool = False) -> list[torch.nn.Parameter]:
    g = torch.Generator().manual_seed(seed)
    conv = torch.randn(4, 3, 3, 3, generator=g)
    if channels_last:
        conv = conv.contiguous(memory_format=torch.channels_last)
    return [torch.nn.Parameter(conv), torch.nn.Parameter(torch.randn(5, generator=g))]


def _run(opt, params, steps: int, seed: int = 1, lrs=None) -> None:
    g = torch.Generator().manual_seed(seed)
    for k in range(steps):
        if lrs is not None:
            opt.param_groups[0]["lr"] = lrs[k]
        opt.zero_grad()
        for p in params:
            p.grad = torch.randn(p.shape, generator=g)
        opt.step()


@pytest.mark.parametrize("weight_decay", [0.0, 0.01])
def test_updates_equal_torch_adam(weight_decay):
    ours, theirs = _params(), _params()
    lrs = [1e-2 * (0.9 ** k) for k in range(7)]
    _run(Adam(ours, lr=1e-2, weight_decay=weight_decay), ours, 7, lrs=lrs)
    _run(torch.optim.Adam(theirs, lr=1e-2, weight_decay=weight_decay), theirs, 7, lrs=lrs)
    for a, b, start in zip(ours, theirs, _params()):
        torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-7)
        assert not torch.allclose(a, start, atol=1e-3)  # the parameters did move


@pytest.mark.parametrize("channels_last", [False, True])
def test_state_dict_round_trip_continues_exactly(channels_last):
    straight = _params(channels_last=channels_last)
    opt = Adam(straight, lr=1e-2)
    _run(opt, straight, 3, seed=1)
    # A state read back as contiguous tensors (as a checkpoint stores them) into a fresh optimizer.
    saved = {"state": {i: {k: v.contiguous() for k, v in s.items()} for i, s in opt.state_dict()["state"].items()},
             "param_groups": opt.state_dict()["param_groups"]}
    _run(opt, straight, 4, seed=2)

    resumed = _params(channels_last=channels_last)
    first = Adam(resumed, lr=1e-2)
    _run(first, resumed, 3, seed=1)
    fresh = Adam(resumed, lr=1e-2)
    fresh.load_state_dict(saved)
    _run(fresh, resumed, 4, seed=2)
    for a, b in zip(straight, resumed):
        assert torch.equal(a, b)


def test_load_state_dict_refuses_another_models_state():
    opt = Adam(_params(), lr=1e-2)
    other = Adam([torch.nn.Parameter(torch.zeros(3))], lr=1e-2)
    with pytest.raises(ValueError, match="parameters"):
        other.load_state_dict(opt.state_dict())


def test_training_does_not_import_torchs_compiler():
    """torch.optim's optimizers import torch._dynamo on construction (~1 s at start-up); ours must not."""
    code = ("import sys, numpy as np\n"
            "from aekit import AutoEncoder\n"
            "AutoEncoder(kind='basic', latent_dim=2, max_iter=2, random_state=0).fit(np.random.rand(40, 6))\n"
            "print('torch._dynamo' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={"OMP_NUM_THREADS": "1", "PATH": ""})
    assert out.stdout.strip() == "False"


def test_moments_of_weights_that_stop_learning_go_to_zero_not_subnormal():
    """A weight whose gradient becomes exactly zero (a dead unit) keeps a first moment that decays into subnormal
    floats and sticks there, slowing every later CPU step; ours zeroes such moments instead."""
    dead, alive = torch.nn.Parameter(torch.zeros(64)), torch.nn.Parameter(torch.zeros(64))
    ours = Adam([dead, alive], lr=1e-3)
    theirs_dead = torch.nn.Parameter(torch.zeros(64))
    theirs = torch.optim.Adam([theirs_dead], lr=1e-3, fused=True)
    g = torch.Generator().manual_seed(0)
    for k in range(1200):
        grad = torch.randn(64, generator=g) * 1e-3 if k < 20 else torch.zeros(64)
        dead.grad, alive.grad, theirs_dead.grad = grad, torch.randn(64, generator=g), grad.clone()
        ours.step()
        theirs.step()
    tiny = torch.finfo(torch.float32).tiny
    subnormal = lambda t: int(((t != 0) & (t.abs() < tiny)).sum())  # noqa: E731
    assert subnormal(theirs.state[theirs_dead]["exp_avg"]) > 0  # what the flush exists for
    assert subnormal(ours.exp_avgs[0]) == 0 and subnormal(ours.exp_avg_sqs[0]) == 0
    assert float(ours.exp_avgs[0].abs().max()) == 0.0
    torch.testing.assert_close(dead, theirs_dead, rtol=0, atol=1e-7)  # the weight moved as torch's did


def test_a_parameter_without_a_gradient_keeps_its_own_step_count():
    """All parameters share one step counter while each is updated at every step; when one sits a step out the
    counts part, as torch.optim.Adam's per-parameter steps do."""
    ours, theirs = _params(), _params()
    opt, ref = Adam(ours, lr=1e-2), torch.optim.Adam(theirs, lr=1e-2)
    g = torch.Generator().manual_seed(3)
    for k in range(6):
        for p, q in zip(ours, theirs):
            p.grad = q.grad = None
            if k % 2 == 0 or p is ours[0]:
                p.grad = torch.randn(p.shape, generator=g)
                q.grad = p.grad.clone()
        opt.step()
        ref.step()
    assert [float(s["step"]) for s in opt.state_dict()["state"].values()] == [6.0, 3.0]
    for a, b in zip(ours, theirs):
        torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-7)
