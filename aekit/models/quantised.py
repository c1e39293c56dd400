"""The quantised bottleneck of a learned codec: an integer code and the bits it costs.

Why this shape (Ballé et al., 2017/2018, "end-to-end optimised image compression"): the code is rounded to
integers so it can be entropy-coded; rounding has no gradient, so training adds uniform noise in [-0.5, 0.5)
instead, which has the same spread as rounding error. Each code dimension has its own learned prior, a Laplace
distribution around a learned centre ``mu`` with a learned scale; the probability of an integer symbol is the
prior's mass over its unit interval, and ``-log2`` of it is what the entropy coder will spend. The bottleneck
reports that as its ``rate`` term (bits per sample), so training minimises distortion + weight x bits with no
branch in the composed model.

The symbols are ``round(y - mu)``: centring first makes the most likely symbol 0 in every dimension. The same
per-dimension scales drive the entropy coder (``aekit.io.bitstream``), so the bits trained for are the bits
written.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from ..io.bitstream import (
    SYMBOL_RANGE,  # symbols are clipped to the coder's range: every one has a codeword
)
from .bottleneck import BOTTLENECKS, Code
from .parts import Term


@BOTTLENECKS.register("quantised")
class QuantisedBottleneck(nn.Module):
    @dataclass
    class Config:
        rate_weight: float = 0.01  # weight of the rate term (bits per sample) against the reconstruction loss
        # Quantisation step in the units of the encoder's output (about 1 at initialisation). A step of 1 makes
        # the training noise as large as the untrained code, the decoder learns to ignore it and the code
        # collapses to zeros; 1/16 leaves the code room to carry information from the first step.
        step: float = 1 / 16

    def __init__(self, in_dim: int, latent_dim: int, config: Config | None = None) -> None:
        super().__init__()
        config = config or self.Config()
        self.rate_weight, self.step = float(config.rate_weight), float(config.step)
        self.linear = nn.Linear(in_dim, latent_dim)
        self.centre = nn.Parameter(torch.zeros(latent_dim))
        self.log_scale = nn.Parameter(torch.zeros(latent_dim))

    def scales(self) -> torch.Tensor:
        """The Laplace scale of each code dimension (at least 0.05, so no symbol is ever impossible)."""
        return self.log_scale.exp().clamp_min(0.05)

    def symbols(self, h: torch.Tensor) -> torch.Tensor:
        """Integer symbols ``(B, K)`` of encoder features: what the entropy coder writes."""
        y = self.linear(h) / self.step
        return torch.round(y - self.centre).clamp(*SYMBOL_RANGE)

    def dequantise(self, symbols: torch.Tensor) -> torch.Tensor:
        """The code the decoder reads back from symbols."""
        return (symbols.to(self.centre.dtype) + self.centre) * self.step

    def bits(self, offset: torch.Tensor) -> torch.Tensor:
        """Bits per sample ``(B,)`` for codes at ``offset`` (= code - centre) from their centres."""
        b = self.scales()

        def cdf(t: torch.Tensor) -> torch.Tensor:
            return 0.5 + 0.5 * torch.sign(t) * (1 - torch.exp(-t.abs() / b))

        mass = (cdf(offset + 0.5) - cdf(offset - 0.5)).clamp_min(1e-9)
        return -(torch.log(mass) / math.log(2)).sum(dim=1)

    def forward(self, h: torch.Tensor) -> Code:
        y = self.linear(h) / self.step  # (B, K), in quantisation steps
        offset = y - self.centre
        if self.training:
            offset = offset + torch.rand_like(offset) - 0.5  # the noise stands in for rounding
        else:
            offset = torch.round(offset).clamp(*SYMBOL_RANGE)
        z = (offset + self.centre) * self.step
        return Code(z=z, mean=z, terms={"rate": Term(self.bits(offset).mean(), self.rate_weight)})
