"""Bottlenecks: how encoder features become the code.

* ``deterministic``: a linear map (optionally followed by an activation) — basic, deep, sparse, contractive AEs.
* ``gaussian``: the VAE's reparameterised code (Kingma & Welling, 2014, https://arxiv.org/abs/1312.6114):
  the encoder predicts a mean and log-variance, training samples ``z = mean + std * eps``, and the KL
  divergence to N(0, I) has the closed form ``0.5 * sum(mean² + var - 1 - log var)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..registry import Registry
from .activations import make_activation

BOTTLENECKS: Registry[type[nn.Module]] = Registry("bottleneck")


@dataclass
class Code:
    """What a bottleneck returns: the code used by the decoder and, for Gaussian codes, its distribution."""

    z: torch.Tensor  # (B, K) sample during training, mean otherwise
    mean: torch.Tensor  # (B, K) the deterministic code used by `encode`
    logvar: torch.Tensor | None = None  # (B, K) for Gaussian codes


@BOTTLENECKS.register("deterministic")
class DeterministicBottleneck(nn.Module):
    def __init__(self, in_dim: int, latent_dim: int, activation: str | None = None) -> None:
        super().__init__()
        self.linear = nn.Linear(in_dim, latent_dim)
        self.act = make_activation(activation) if activation else nn.Identity()

    def forward(self, h: torch.Tensor) -> Code:
        z = self.act(self.linear(h))  # (B, K)
        return Code(z=z, mean=z)


@BOTTLENECKS.register("gaussian")
class GaussianBottleneck(nn.Module):
    # Log-variances outside this range only appear when training diverges; clamping keeps exp() finite.
    LOGVAR_RANGE = (-30.0, 20.0)

    def __init__(self, in_dim: int, latent_dim: int, activation: str | None = None) -> None:
        super().__init__()
        if activation:
            raise ValueError("a gaussian bottleneck takes no code activation; leave code_activation unset")
        self.linear = nn.Linear(in_dim, 2 * latent_dim)

    def forward(self, h: torch.Tensor) -> Code:
        mean, logvar = self.linear(h).chunk(2, dim=1)  # (B, K) each
        logvar = logvar.clamp(*self.LOGVAR_RANGE)
        z = mean + torch.exp(0.5 * logvar) * torch.randn_like(mean) if self.training else mean
        return Code(z=z, mean=mean, logvar=logvar)


def gaussian_kl(mean: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mean, exp(logvar)) || N(0, I)) per sample, summed over code dimensions: shape (B,)."""
    return 0.5 * (mean.pow(2) + logvar.exp() - 1.0 - logvar).sum(dim=1)
