"""A linear path around the code: a full-rank linear map from the (corrupted) input straight to the output.

Why: for bags of items (recommendation) an item-item map catches the pairwise co-occurrences that a code of a few
hundred dimensions blurs -- EASE's idea (Steck, 2019) -- and its diagonal is held at zero, so it cannot copy an
item to itself and must predict each item from the others. It is trained with the autoencoder on the same
denoising objective, with an L2 penalty (the ridge term EASE solves in closed form). It costs ``D**2`` weights, so
it is for inputs of thousands of features, not images.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from .parts import Term


@dataclass(frozen=True)
class LinearPathSpec:
    """A model's linear path around the code: ``l2`` is the weight of its squared weights in the loss."""

    l2: float = 0.0

    def __post_init__(self) -> None:
        if float(self.l2) < 0:
            raise ValueError(f"the linear path's l2 must be >= 0, got {self.l2}")
        object.__setattr__(self, "l2", float(self.l2))


class LinearPath(nn.Module):
    """``x -> x @ W`` with ``W``'s diagonal held at zero; starts at zero (the autoencoder alone)."""

    def __init__(self, dim: int, l2: float) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(dim, dim))
        self.l2 = float(l2)
        self.register_buffer("off_diagonal", 1 - torch.eye(dim), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, D) -> (B, D)`` output parameters to add to the decoder's."""
        return x.flatten(1).to(self.weight.dtype) @ (self.weight * self.off_diagonal)

    def penalty(self) -> Term:
        """Sum of squared weights, weighed by ``l2`` in the total."""
        return Term((self.weight * self.off_diagonal).square().sum(), self.l2)
