"""Adam for the Trainer: torch's own Adam arithmetic, with less machinery around each step.

Why not ``torch.optim.Adam``: every entry point of a ``torch.optim.Optimizer`` (its constructor included) is
wrapped to keep torch's compiler out, and the first call imports that compiler, ``torch._dynamo``, which takes
0.75-1 s on a 2-core machine — a quarter of a small ``aekit detect fit``. Its ``step`` also passes
through profiling and hook wrappers that cost about a tenth of a small model's step. This class keeps the
parameters and the moment buffers itself and calls torch's functional ``torch.optim.adam.adam`` (the fused
kernel where the device has one), so the update is the same arithmetic as ``torch.optim.Adam`` with the same
settings. ``state_dict`` has ``torch.optim.Adam``'s layout, so checkpoints read the same either way.

One difference, on the CPU only: moment entries smaller than ``MOMENT_FLOOR`` are set to zero every few steps.
A weight whose gradient is exactly zero (a dead ReLU unit, a pixel that is always blank) keeps a first moment
that shrinks by ``beta1`` per step until it is a subnormal float, and there it stays: rounding makes 0.9 times
the smallest subnormals equal to themselves. x86 CPUs do arithmetic on subnormals many times slower, so after
~750 steps every update slowed down (a dense MNIST model at batch 32 fell from 27.8k to 20.6k
samples/s with 10% of its first moments subnormal; on random data Adam's step took 9x longer). Moments that
small move no weight: an entry below 1e-30 changes its weight by less than ``lr * 1e-22`` per step (the
denominator holds ``eps``), far below a float32 weight's resolution. Setting the CPU's flush-to-zero mode
instead would reach only threads created after it is set.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable
from typing import Any

import torch
from torch.optim.adam import adam as adam_update

_FUSED_DEVICES = ("cpu", "cuda")

#: Moment entries below this magnitude are zeroed on the CPU, before decay makes them subnormal (see above).
MOMENT_FLOOR = 1e-30


@functools.lru_cache(maxsize=8)
def _flush_interval(beta: float) -> int:
    """Steps between flushes of a moment that decays by ``beta`` per step: half the steps it needs to fall from
    ``MOMENT_FLOOR`` to the smallest normal float, so no entry becomes subnormal between two flushes by decay
    alone (86 steps for the first moment at beta1 = 0.9, 9,200 for the second at beta2 = 0.999)."""
    beta = min(max(beta, 1e-3), 0.999999)
    steps = math.log(torch.finfo(torch.float32).tiny / MOMENT_FLOOR) / math.log(beta)
    return max(1, int(steps // 2))


class Adam:
    """Adam (Kingma & Ba), ``weight_decay`` added to the gradient as ``torch.optim.Adam`` does; one parameter group.

    ``param_groups[0]["lr"]`` is read at every step, so a schedule sets the rate there as with torch's optimizers.
    """

    def __init__(self, params: Iterable[torch.nn.Parameter], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0) -> None:
        self.params = [p for p in params if p.requires_grad]
        if not self.params:
            raise ValueError("Adam got no parameters that require gradients")
        self.param_groups = [{"lr": float(lr), "betas": tuple(betas), "eps": float(eps),
                              "weight_decay": float(weight_decay)}]
        self.fused = all(p.device.type in _FUSED_DEVICES and p.is_floating_point() for p in self.params)
        # One device and dtype: the fused kernel takes every parameter in one call, with no grouping pass.
        self.one_group = self.fused and len({(p.device, p.dtype) for p in self.params}) == 1
        self.flushes_moments = all(p.device.type == "cpu" for p in self.params)
        self._reset_state()

    def _reset_state(self) -> None:
        # Moments share their parameter's memory layout: the fused kernel walks both as flat memory, so a
        # channels-last conv weight with contiguous moments would pair the wrong elements.
        self.exp_avgs = [torch.zeros_like(p, memory_format=torch.preserve_format) for p in self.params]
        self.exp_avg_sqs = [torch.zeros_like(p, memory_format=torch.preserve_format) for p in self.params]
        step_dtype = torch.float32 if self.fused else torch.get_default_dtype()
        if self.one_group:  # while every parameter is updated at every step, one counter serves them all
            self.shared_step: torch.Tensor | None = torch.zeros((), dtype=step_dtype, device=self.params[0].device)
            self.steps = [self.shared_step] * len(self.params)
        else:
            self.shared_step = None
            self.steps = [torch.zeros((), dtype=step_dtype, device=p.device if self.fused else "cpu")
                          for p in self.params]
        self.updates = 0  # kept beside ``steps`` so the flush schedule needs no tensor read per step

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.params:
            if set_to_none:
                p.grad = None
            elif p.grad is not None:
                p.grad.zero_()

    @torch.no_grad()
    def step(self) -> None:
        """One Adam update of every parameter that has a gradient."""
        group = self.param_groups[0]
        beta1, beta2 = group["betas"]
        grads = [p.grad for p in self.params]
        if self.shared_step is not None and all(g is not None for g in grads):
            # What torch's fused path does after grouping, without its per-step wrappers (~0.1 ms of a small step).
            self.shared_step.add_(1)
            torch._fused_adam_(self.params, grads, self.exp_avgs, self.exp_avg_sqs, [], self.steps, amsgrad=False,
                               lr=group["lr"], beta1=beta1, beta2=beta2, weight_decay=group["weight_decay"],
                               eps=group["eps"], maximize=False)
        else:
            live = [i for i, g in enumerate(grads) if g is not None]
            if not live:
                return
            if self.shared_step is not None:  # some parameter sat this step out: from now on each counts its own
                self.steps = [s.clone() for s in self.steps]
                self.shared_step = None
            adam_update([self.params[i] for i in live], [grads[i] for i in live],
                        [self.exp_avgs[i] for i in live], [self.exp_avg_sqs[i] for i in live], [],
                        [self.steps[i] for i in live], foreach=None if self.fused else True,
                        fused=True if self.fused else None, amsgrad=False, beta1=beta1, beta2=beta2, lr=group["lr"],
                        weight_decay=group["weight_decay"], eps=group["eps"], maximize=False)
        self.updates += 1
        if self.flushes_moments:
            if self.updates % _flush_interval(beta1) == 0:
                for moment in self.exp_avgs:
                    moment.masked_fill_(moment.abs() < MOMENT_FLOOR, 0.0)
            if self.updates % _flush_interval(beta2) == 0:
                for moment in self.exp_avg_sqs:  # never negative
                    moment.masked_fill_(moment < MOMENT_FLOOR, 0.0)

    def state_dict(self) -> dict[str, Any]:
        """``torch.optim.Adam``'s layout: per-parameter ``step``, ``exp_avg``, ``exp_avg_sq`` and one group."""
        state = {i: {"step": self.steps[i].clone(), "exp_avg": self.exp_avgs[i].clone(),
                     "exp_avg_sq": self.exp_avg_sqs[i].clone()}
                 for i in range(len(self.params)) if float(self.steps[i]) > 0}
        group = {**self.param_groups[0], "betas": list(self.param_groups[0]["betas"]),
                 "params": list(range(len(self.params)))}
        return {"state": state, "param_groups": [group]}

    def load_state_dict(self, saved: dict[str, Any]) -> None:
        """Restore a state written by :meth:`state_dict` (or by ``torch.optim.Adam`` on the same parameters)."""
        groups = saved["param_groups"]
        if len(groups) != 1 or len(groups[0]["params"]) != len(self.params):
            raise ValueError(f"optimizer state is for {sum(len(g['params']) for g in groups)} parameters in "
                             f"{len(groups)} group(s); this model has {len(self.params)} in one")
        self.param_groups[0].update({k: groups[0][k] for k in ("lr", "eps", "weight_decay") if k in groups[0]})
        if "betas" in groups[0]:
            self.param_groups[0]["betas"] = tuple(groups[0]["betas"])
        self._reset_state()
        counts = {float(slots["step"]) for slots in saved["state"].values()}
        if self.shared_step is not None and (len(counts) > 1 or 0 < len(saved["state"]) < len(self.params)):
            self.steps = [s.clone() for s in self.steps]
            self.shared_step = None
        for key, slots in saved["state"].items():
            i = int(key)
            self.exp_avgs[i].copy_(slots["exp_avg"])
            self.exp_avg_sqs[i].copy_(slots["exp_avg_sq"])
            self.steps[i].fill_(float(slots["step"]))
        self.updates = max((int(slots["step"]) for slots in saved["state"].values()), default=0)


__all__ = ["Adam"]
