"""Bottlenecks: how encoder features become the code, and the loss terms the code itself costs.

* ``deterministic``: a linear map (optionally followed by an activation) — basic, deep, sparse, contractive AEs.
  It costs nothing.
* ``gaussian``: the VAE's reparameterised code (Kingma & Welling, 2014, https://arxiv.org/abs/1312.6114):
  the encoder predicts a mean and log-variance, training samples ``z = mean + std * eps``, and the code reports
  its own ``kl`` term, the closed form ``0.5 * sum(mean² + var - 1 - log var)`` of KL(q(z|x) || N(0, I)),
  weighted by ``beta`` (β-VAE when > 1).

A future quantised bottleneck reports its rate the same way: the composed model adds whatever terms a code
carries, with no branch per kind.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

from ..registry import Registry
from .activations import make_activation
from .parts import Term

BOTTLENECKS: Registry[type[nn.Module]] = Registry("bottleneck")


@dataclass
class Code:
    """What a bottleneck returns: the code for the decoder, the deterministic code, and its loss terms."""

    z: torch.Tensor  # (B, K) sample during training, mean otherwise
    mean: torch.Tensor  # (B, K) the deterministic code used by `encode`
    logvar: torch.Tensor | None = None  # (B, K) for Gaussian codes
    terms: dict[str, Term] = field(default_factory=dict)


@BOTTLENECKS.register("deterministic")
class DeterministicBottleneck(nn.Module):
    @dataclass
    class Config:
        activation: str | None = None  # e.g. "sigmoid" for codes in (0, 1), which KL sparsity needs

    def __init__(self, in_dim: int, latent_dim: int, config: Config | None = None) -> None:
        super().__init__()
        config = config or self.Config()
        self.linear = nn.Linear(in_dim, latent_dim)
        self.act = make_activation(config.activation) if config.activation else nn.Identity()

    def forward(self, h: torch.Tensor) -> Code:
        z = self.act(self.linear(h))  # (B, K)
        return Code(z=z, mean=z)


@BOTTLENECKS.register("gaussian")
class GaussianBottleneck(nn.Module):
    # Log-variances outside this range only appear when training diverges; clamping keeps exp() finite.
    LOGVAR_RANGE = (-30.0, 20.0)

    @dataclass
    class Config:
        beta: float = 1.0  # weight of the KL term

    def __init__(self, in_dim: int, latent_dim: int, config: Config | None = None) -> None:
        super().__init__()
        self.beta = float((config or self.Config()).beta)  # an attribute, so a schedule can anneal it
        self.linear = nn.Linear(in_dim, 2 * latent_dim)

    def forward(self, h: torch.Tensor) -> Code:
        mean, logvar = self.linear(h).chunk(2, dim=1)  # (B, K) each
        logvar = logvar.clamp(*self.LOGVAR_RANGE)
        z = mean + torch.exp(0.5 * logvar) * torch.randn_like(mean) if self.training else mean
        kl = Term(gaussian_kl(mean, logvar).mean(), self.beta)
        return Code(z=z, mean=mean, logvar=logvar, terms={"kl": kl})


def gaussian_kl(mean: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mean, exp(logvar)) || N(0, I)) per sample, summed over code dimensions: shape (B,)."""
    return 0.5 * (mean.pow(2) + logvar.exp() - 1.0 - logvar).sum(dim=1)
