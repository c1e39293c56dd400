"""Convolutional encoder and decoder for images of any size and channel count.

Each encoder stage halves the resolution with a stride-2 3×3 convolution (``ceil(s / 2)``), so the decoder can
record the encoder's sizes and undo every stage exactly with a transposed convolution whose ``output_padding``
restores odd sizes. The flattened features go to the bottleneck; the decoder starts from a linear layer that
rebuilds the smallest feature map.
"""

from __future__ import annotations

import torch
from torch import nn

from .activations import make_activation


def stage_sizes(height: int, width: int, n_stages: int) -> list[tuple[int, int]]:
    """Spatial sizes before the first and after every stride-2 stage: ``[(h, w), (ceil(h/2), ceil(w/2)), ...]``."""
    sizes = [(height, width)]
    for _ in range(n_stages):
        h, w = sizes[-1]
        sizes.append(((h + 1) // 2, (w + 1) // 2))
    return sizes


def _norm(kind: str, channels: int) -> list[nn.Module]:
    """The normalisation layer after a convolution: none, or batch normalisation."""
    if kind == "none":
        return []
    if kind == "batch":
        return [nn.BatchNorm2d(channels)]
    raise ValueError(f"norm must be 'none' or 'batch', got {kind!r}")


class ConvEncoder(nn.Module):
    """``(B, C, H, W) -> (B, channels[-1] * h * w)`` through ``len(channels)`` stride-2 stages, then optionally a
    dense layer of ``dense`` units (``(B, dense)``), as a deep MLP has between its input and its code."""

    def __init__(self, in_shape: tuple[int, int, int], channels: tuple[int, ...], activation: str,
                 dense: int = 0, norm: str = "none", linear_path: bool = False) -> None:
        super().__init__()
        c, h, w = in_shape
        layers: list[nn.Module] = []
        for c_in, c_out in zip((c, *channels[:-1]), channels):
            layers += [nn.Conv2d(c_in, c_out, 3, stride=2, padding=1), *_norm(norm, c_out), make_activation(activation)]
            layers += [nn.Conv2d(c_out, c_out, 3, padding=1), *_norm(norm, c_out), make_activation(activation)]
        self.body = nn.Sequential(*layers)
        self.sizes = stage_sizes(h, w, len(channels))
        self.out_dim = channels[-1] * self.sizes[-1][0] * self.sizes[-1][1]
        self.head = nn.Identity()
        if dense:
            self.head = nn.Sequential(nn.Linear(self.out_dim, dense), make_activation(activation))
            self.out_dim = dense
        self.linear_path = linear_path
        if linear_path:
            self.out_dim += c * h * w
        self.to(memory_format=torch.channels_last)  # about 30% faster convolutions on CPU (oneDNN)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = self.head(self.body(x.contiguous(memory_format=torch.channels_last)).flatten(1))
        if self.linear_path:  # the code also sees the pixels themselves, so it can be at least PCA's
            features = torch.cat([features, x.flatten(1)], dim=1)
        return features  # (B, C_last * h * w), or (B, dense), (+ C * H * W)


class ConvDecoder(nn.Module):
    """Mirror of :class:`ConvEncoder`: ``(B, K) -> (B, C, H, W)`` likelihood parameters (e.g. logits)."""

    def __init__(
        self, latent_dim: int, out_shape: tuple[int, int, int], channels: tuple[int, ...], activation: str,
        dense: int = 0, upsample: str = "transpose", norm: str = "none", linear_path: bool = False,
    ) -> None:
        super().__init__()
        if upsample not in ("transpose", "resize"):
            raise ValueError(f"upsample must be 'transpose' or 'resize', got {upsample!r}")
        c, h, w = out_shape
        sizes = stage_sizes(h, w, len(channels))
        self.start_shape = (channels[-1], *sizes[-1])
        first = [nn.Linear(latent_dim, dense), make_activation(activation)] if dense else []
        self.project = nn.Sequential(
            *first, nn.Linear(dense or latent_dim, channels[-1] * sizes[-1][0] * sizes[-1][1]),
            make_activation(activation)
        )
        layers: list[nn.Module] = []
        rev = list(reversed(channels))
        for i, (c_in, c_out) in enumerate(zip(rev, rev[1:] + [rev[-1]])):
            (h_in, w_in), (h_out, w_out) = sizes[-1 - i], sizes[-2 - i]
            # ConvTranspose2d(k=3, s=2, p=1) gives 2*s - 1 + output_padding, so odd targets need padding 0.
            pad = (h_out - (2 * h_in - 1), w_out - (2 * w_in - 1))
            layers += [nn.Conv2d(c_in, c_in, 3, padding=1), *_norm(norm, c_in), make_activation(activation)]
            if upsample == "transpose":
                layers += [nn.ConvTranspose2d(c_in, c_out, 3, stride=2, padding=1, output_padding=pad)]
            else:  # resize then convolve: no checkerboard pattern from overlapping transposed kernels
                layers += [nn.Upsample(size=(h_out, w_out), mode="nearest"), nn.Conv2d(c_in, c_out, 3, padding=1)]
            layers += [*_norm(norm, c_out), make_activation(activation)]
        layers.append(nn.Conv2d(rev[-1], c, 3, padding=1))
        self.body = nn.Sequential(*layers)
        self.linear = nn.Linear(latent_dim, c * h * w) if linear_path else None
        self.out_shape = (c, h, w)
        self.to(memory_format=torch.channels_last)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = self.project(z).view(-1, *self.start_shape)  # (B, C_last, h, w)
        out = self.body(h.contiguous(memory_format=torch.channels_last)).contiguous()  # (B, C, H, W)
        if self.linear is not None:
            out = out + self.linear(z).view(-1, *self.out_shape)
        return out
