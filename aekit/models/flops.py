"""Multiply-accumulate count of one forward pass, used to size default training budgets.

Counting is done once on a single dummy sample with forward hooks on the layers that dominate the cost
(linear and convolution layers); element-wise work is ignored.
"""

from __future__ import annotations

import math

import torch
from torch import nn


def _layer_macs(module: nn.Module, inputs: tuple[torch.Tensor, ...], output: torch.Tensor) -> int:
    if isinstance(module, nn.Linear):
        return module.in_features * module.out_features
    if isinstance(module, nn.Conv2d):
        k = math.prod(module.kernel_size) * module.in_channels // module.groups
        return k * output[0].numel()  # every output value is a k-term dot product
    if isinstance(module, nn.ConvTranspose2d):
        k = math.prod(module.kernel_size) * module.out_channels // module.groups
        return k * inputs[0][0].numel()  # every input value is scattered into k outputs
    return 0


@torch.no_grad()
def forward_macs(model: nn.Module, x: torch.Tensor) -> int | None:
    """Multiply-accumulates for ``model.reconstruct`` (or ``model``) on the single sample ``x`` of shape (1, ...);
    ``None`` for a model that has neither (only a ``loss``). A model whose work is mostly outside linear and
    convolution layers (recurrent layers, an output layer that shares the embedding) counts its own with a
    ``macs(x)`` method."""
    if hasattr(model, "macs"):
        return int(model.macs(x))
    if not hasattr(model, "reconstruct") and type(model).forward is nn.Module.forward:
        return None
    total = 0

    def hook(module, inputs, output):
        nonlocal total
        total += _layer_macs(module, inputs, output)

    handles = [m.register_forward_hook(hook) for m in model.modules()
               if isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d))]
    was_training = model.training
    try:
        model.eval()
        (model.reconstruct if hasattr(model, "reconstruct") else model)(x)
    finally:
        model.train(was_training)
        for h in handles:
            h.remove()
    return total


def parameter_count(model: nn.Module) -> int:
    """Trainable parameters: the weights a bfloat16 step casts once per batch (``training/precision.py``)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
