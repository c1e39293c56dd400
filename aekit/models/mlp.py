"""Fully connected encoder and decoder: the body of basic, deep and stacked autoencoders.

The encoder maps ``(B, D)`` inputs to ``(B, H_last)`` features; the bottleneck (see ``bottleneck.py``) makes the
code from them. The decoder mirrors the encoder. Both keep their ``Linear`` layers in order in ``.layers`` so
greedy layer-wise pre-training can train them one at a time.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .activations import make_activation


class MLPEncoder(nn.Module):
    """``D -> hidden[0] -> ... -> hidden[-1]``, an activation after every layer (and, with ``layer_norm``, a layer
    norm after each activation, which keeps a deep stack trainable without tuning its initialisation).

    With ``linear_path`` a linear map of the input is added to the last layer's output, so the code (a linear map
    of these features) can be any linear map of the row -- what PCA finds -- plus what the layers add. Added, not
    concatenated beside them: concatenated, a row's code moved with the order of the rows around it (float32
    rounding, ~1e-7), which scikit-learn's estimator checks catch."""

    def __init__(self, in_dim: int, hidden: tuple[int, ...], activation: str, layer_norm: bool = False,
                 linear_path: bool = False) -> None:
        super().__init__()
        sizes = (in_dim, *hidden)
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        self.norms = nn.ModuleList(nn.LayerNorm(h) if layer_norm else nn.Identity() for h in hidden)
        self.layer_norm = layer_norm
        # Without hidden layers the whole model is linear already.
        self.linear = nn.Linear(in_dim, hidden[-1], bias=False) if linear_path and hidden else None
        self.act = make_activation(activation)
        self.out_dim = sizes[-1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.flatten(1)  # (B, D)
        h = x
        if not self.layer_norm:  # each module call costs a few microseconds of a small model's ~1 ms step
            for layer in self.layers:
                h = self.act(layer(h))
        else:
            for layer, norm in zip(self.layers, self.norms):
                h = norm(self.act(layer(h)))
        return h if self.linear is None else h + self.linear(x)  # (B, H_last)


class BagEncoder(MLPEncoder):
    """An :class:`MLPEncoder` over the input row scaled to unit length: a bag of items (a user's history) reads
    the same whether the user has 5 items or 500, as in Mult-VAE (Liang et al., 2018)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(F.normalize(x.flatten(1), dim=1))


class MLPDecoder(nn.Module):
    """``latent -> reversed(hidden) -> out_dim``; the last layer is linear and returns likelihood parameters.
    With ``linear_path``, a linear map of the code is added to them (the mirror of the encoder's)."""

    def __init__(self, latent_dim: int, hidden: tuple[int, ...], out_dim: int, activation: str,
                 linear_path: bool = False) -> None:
        super().__init__()
        sizes = (latent_dim, *reversed(hidden), out_dim)
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        self.act = make_activation(activation)
        self.linear = nn.Linear(latent_dim, out_dim, bias=False) if linear_path and hidden else None

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = z  # (B, K)
        *hidden, last = self.layers  # not ``self.layers[:-1]``: slicing builds a new ModuleList, ~30 us per step
        for layer in hidden:
            h = self.act(layer(h))
        return last(h) if self.linear is None else last(h) + self.linear(z)  # (B, D)
