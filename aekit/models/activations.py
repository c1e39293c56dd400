"""Activation functions by name, so configs and the CLI can choose them with a string."""

from __future__ import annotations

from torch import nn

from ..registry import Registry

ACTIVATIONS: Registry[type[nn.Module]] = Registry("activation")
for _name, _cls in {
    "relu": nn.ReLU,
    "leaky_relu": nn.LeakyReLU,
    "elu": nn.ELU,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
}.items():
    ACTIVATIONS.register(_name)(_cls)


def make_activation(name: str) -> nn.Module:
    """A fresh activation module for ``name``."""
    return ACTIVATIONS.get(name)()
