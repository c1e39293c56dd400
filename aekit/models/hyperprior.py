"""A two-level learned image code: a small global code, and a spatial code whose prior the global code predicts.

Why this shape. A codec with one global code vector (``QuantisedBottleneck`` on a flattened feature map) draws
the gist of an image in a few bytes, but stops improving at about 28 dB on MNIST however many bytes it may spend:
the detail that PSNR rewards at higher quality (where a stroke's edge falls) is local, and a vector of code
values, each with one fixed prior, is the wrong shape to carry it. So, after Ballé et al. 2018 ("Variational
image compression with a scale hyperprior", https://arxiv.org/abs/1802.01436):

::

    x ─► encoder (two stride-2 stages) ─► features (B, C, h/4, w/4) ─┬─► spatial code y (B, cy, h/4, w/4)
                                                                      └─► global code z (B, K): QuantisedBottleneck
    z ─► prior net ─► mean and scale of every value of y (a Gaussian per value, given z)
    (z, y) ─► decoder (z drawn out to a feature map, beside y; a transposed stride-2 stage, then a
              sub-pixel one) ─► x̂

* The global code ``z`` costs its own learned per-dimension prior (``QuantisedBottleneck``); it says where the
  strokes are, so the prior net can predict each spatial value's **mean and scale**. Values the global code
  already explains cost almost nothing (a narrow Gaussian around the predicted mean); the rest, the detail, is
  what the file pays for. Unlike Ballé's hyperprior, the global code also feeds the decoder, so at low rates it
  can carry the image alone.
* Spatial symbols are ``round(y - mean)``: centred on the prediction, so the likeliest symbol is 0 wherever the
  prediction is good. The coder sees each symbol's scale as an index into :data:`SCALE_TABLE` (log-spaced), which
  the prior net's output is snapped to: encoder and decoder must agree on every probability to the last bit, and
  an index computed in float64 from the same integers is far more robust to the arithmetic than a raw float.
* Training minimises ``bits + lmbda x squared error`` per image (pixels in [0, 1]) with uniform noise standing in
  for rounding, as the global code does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from ..data.batches import Batch
from ..io.bitstream import SYMBOL_RANGE
from .autocast import full_precision, without_autocast
from .bottleneck import BOTTLENECKS
from .conv import stage_sizes
from .inference import in_float64
from .quantised import QuantisedBottleneck

#: Smallest and largest scale (in quantisation steps) of a spatial value's Gaussian; the coder uses this table.
SCALE_MIN, SCALE_MAX, SCALE_LEVELS = 0.11, 256.0, 80
#: Quantisation step of the spatial code, in the units of the network's output (about 1 at initialisation). With a
#: step of 1 the training noise is as large as the untrained code and the decoder learns to ignore it; 1/16 gave
#: +2 dB at the same rate on MNIST in the design screen (the global code's ``QuantisedBottleneck`` found the same).
SPATIAL_STEP = 1 / 16
SCALE_TABLE = torch.exp(torch.linspace(math.log(SCALE_MIN), math.log(SCALE_MAX), SCALE_LEVELS, dtype=torch.float64))


@dataclass
class HyperpriorConfig:
    """What defines a two-level codec: image shape, widths, code sizes, the input standardisation, the trade-off."""

    input_shape: tuple[int, int, int]
    channels: int = 64  # convolution width
    spatial_channels: int = 8  # channels of the spatial code (at a quarter of the image's height and width)
    global_dim: int = 64  # values of the global code
    mean: list[float] = field(default_factory=lambda: [0.0])  # per image channel, for standardising the input
    std: list[float] = field(default_factory=lambda: [1.0])
    lmbda: float = 1000.0  # weight of the squared error (summed over an image's pixels in [0, 1]) against bits

    def to_dict(self) -> dict:
        return {"input_shape": list(self.input_shape), "channels": self.channels,
                "spatial_channels": self.spatial_channels, "global_dim": self.global_dim,
                "mean": list(self.mean), "std": list(self.std), "lmbda": self.lmbda}

    @classmethod
    def from_dict(cls, d: dict) -> HyperpriorConfig:
        return cls(input_shape=tuple(int(s) for s in d["input_shape"]), channels=int(d["channels"]),
                   spatial_channels=int(d["spatial_channels"]), global_dim=int(d["global_dim"]),
                   mean=[float(v) for v in d["mean"]], std=[float(v) for v in d["std"]], lmbda=float(d["lmbda"]))


def gaussian_bits(offset: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """Bits of integer (or noisy) ``offset`` under a Gaussian of ``scale`` centred at 0, discretised to unit bins.
    Computed on the tail that is small, so a value far out costs its true bits, not 1 - (1 - tiny)."""
    # The bin [|o| - 1/2, |o| + 1/2] mirrored onto the negative side, where Phi is small and exact:
    # mass = Phi((1/2 - |o|) / s) - Phi((-1/2 - |o|) / s), with Phi(t) = erfc(-t / sqrt 2) / 2.
    root2s = scale * math.sqrt(2)
    mass = 0.5 * (torch.erfc((offset.abs() - 0.5) / root2s) - torch.erfc((offset.abs() + 0.5) / root2s))
    return -torch.log2(mass.clamp_min(1e-9))  # the floor: the coder gives no symbol less than about 2^-24 anyway


def scale_index(scale: torch.Tensor) -> torch.Tensor:
    """Index of the nearest :data:`SCALE_TABLE` entry (in log scale) for each scale."""
    log_table = SCALE_TABLE.log().to(scale.device)
    step = log_table[1] - log_table[0]
    idx = torch.round((scale.double().clamp(SCALE_MIN, SCALE_MAX).log() - log_table[0]) / step)
    return idx.long().clamp(0, SCALE_LEVELS - 1)


class HyperpriorCodecModel(nn.Module):
    """Images ``(B, c, h, w)`` in [0, 1] -> a global and a spatial integer code -> images; see the module docstring."""

    def __init__(self, config: HyperpriorConfig) -> None:
        super().__init__()
        self.config = cfg = config
        c, h, w = cfg.input_shape
        width, cy = cfg.channels, cfg.spatial_channels
        self.sizes = stage_sizes(h, w, 2)  # [(h, w), (h/2, w/2), (h/4, w/4)], rounded up
        gh, gw = self.sizes[-1]
        self.grid = (gh, gw)
        self.spatial_size = cy * gh * gw  # symbols of the spatial code per image
        self.register_buffer("in_mean", torch.tensor(cfg.mean).view(1, -1, 1, 1), persistent=False)
        self.register_buffer("in_std", torch.tensor(cfg.std).view(1, -1, 1, 1), persistent=False)
        act = nn.GELU
        self.encoder = nn.Sequential(
            nn.Conv2d(c, width, 3, 2, 1), act(), nn.Conv2d(width, width, 3, 1, 1), act(),
            nn.Conv2d(width, width, 3, 2, 1), act(), nn.Conv2d(width, width, 3, 1, 1), act(),
        )  # (B, C, h/4, w/4)
        self.spatial_head = nn.Conv2d(width, cy, 3, 1, 1)
        features = width * gh * gw
        self.global_code = BOTTLENECKS.get("quantised")(features, cfg.global_dim, QuantisedBottleneck.Config())
        self.prior_net = nn.Sequential(nn.Linear(cfg.global_dim, 256), act(), nn.Linear(256, 2 * cy * gh * gw))
        self.global_map = nn.Sequential(nn.Linear(cfg.global_dim, 256), act(), nn.Linear(256, features))
        (mh, mw), (gh, gw) = self.sizes[1], self.sizes[2]
        pad = (mh - (2 * gh - 1), mw - (2 * gw - 1))  # output_padding restoring an odd half size
        # The last stage draws 2x2 pixels per position of the half-size map (a sub-pixel convolution) instead of a
        # transposed convolution at full size: +0.5 dB on MNIST in the design screen, and a third less arithmetic.
        self.decoder = nn.Sequential(
            nn.Conv2d(width + cy, width, 3, 1, 1), act(),
            nn.ConvTranspose2d(width, width, 3, 2, 1, output_padding=pad), act(),
            nn.Conv2d(width, width, 3, 1, 1), act(),
            nn.Conv2d(width, 4 * c, 3, 1, 1), nn.PixelShuffle(2),  # (B, c, 2 * h/2, 2 * w/2), cropped in draw
        )
        self.to(memory_format=torch.channels_last)  # faster convolutions on CPU (oneDNN)

    # ------------------------------------------------------------------------------------------- pieces
    def features(self, x: torch.Tensor) -> torch.Tensor:
        x = (x - self.in_mean) / self.in_std
        return self.encoder(x.contiguous(memory_format=torch.channels_last))  # (B, C, h/4, w/4)

    def spatial_prior(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and scale ``(B, cy, h/4, w/4)`` of every spatial value, given the dequantised global code."""
        out = full_precision(self.prior_net(z)).view(-1, 2, self.config.spatial_channels, *self.grid)
        return out[:, 0], (F.softplus(out[:, 1]) + SCALE_MIN).clamp_max(SCALE_MAX)

    def draw(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Images in [0, 1] scale (not yet clipped) from the global code and the dequantised spatial code."""
        g = self.global_map(z).view(-1, self.config.channels, *self.grid)
        out = self.decoder(torch.cat([g, y.to(g.dtype)], 1).contiguous(memory_format=torch.channels_last))
        h, w = self.sizes[0]
        return full_precision(out[..., :h, :w]).contiguous() * self.in_std + self.in_mean  # (B, c, h, w)

    # ------------------------------------------------------------------------------------------ training
    def loss(self, batch: Batch) -> dict[str, torch.Tensor]:
        """``bits`` (per image, both codes), ``mse`` (per pixel) and ``total`` = (bits + lmbda x squared error
        summed over the image) per pixel, with uniform noise in place of rounding while training."""
        x = batch.x
        h = self.features(x)
        y = self.spatial_head(h)
        with without_autocast(x):
            code = self.global_code(full_precision(h).flatten(1))
            mean, scale = self.spatial_prior(code.z)
            offset = full_precision(y) / SPATIAL_STEP - mean
            offset = offset + torch.rand_like(offset) - 0.5 if self.training else torch.round(offset)
            bits = code.terms["rate"].value + gaussian_bits(offset, scale).flatten(1).sum(1).mean()  # per image
        x_hat = self.draw(code.z, offset + mean)
        squared = (x_hat - x).pow(2).flatten(1).sum(1).mean()  # per image
        pixels = x[0].numel()
        return {"bits": bits, "mse": squared / pixels, "total": (bits + self.config.lmbda * squared) / pixels}

    # ----------------------------------------------------------------------------------------- coding
    @torch.no_grad()
    def symbols(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Integer global symbols ``(B, K)``, spatial symbols ``(B, M)`` (M = cy * h/4 * w/4) and the coder's
        scale-table index of each spatial symbol ``(B, M)``, for images."""
        h = self.features(x)
        global_symbols = self.global_code.symbols(h.flatten(1))
        mean, index = self.prior(global_symbols)
        spatial = torch.round(self.spatial_head(h).flatten(1).double() / SPATIAL_STEP - mean)
        return global_symbols, spatial.clamp(*SYMBOL_RANGE), index

    @torch.no_grad()
    def prior(self, global_symbols: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The spatial values' means (float64) and scale-table indices, ``(B, M)`` each, given the global symbols.
        Computed in float64: encoder and decoder must agree on every probability, and float32 kernels round by
        how many rows are computed together."""
        z = self.global_code.dequantise(global_symbols.double())
        with without_autocast(z):  # a caller's bfloat16 autocast speeds the convolutions, never the probabilities
            mean, scale = in_float64(self, "spatial_prior")(z)
        return mean.flatten(1), scale_index(scale).flatten(1)

    @torch.no_grad()
    def decode(self, global_symbols: torch.Tensor, spatial_symbols: torch.Tensor,
               mean: torch.Tensor | None = None) -> torch.Tensor:
        """Images in [0, 1] from both codes' symbols (``mean``: the prior's spatial means, when already known)."""
        if mean is None:
            mean = self.prior(global_symbols)[0]
        y = (spatial_symbols.double() + mean).view(-1, self.config.spatial_channels, *self.grid)
        return self.draw(self.global_code.dequantise(global_symbols), y.float()).clamp(0.0, 1.0)

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        """Images after a round trip through both codes' symbols."""
        global_symbols, spatial_symbols, _ = self.symbols(x)
        return self.decode(global_symbols, spatial_symbols)


__all__ = ["SCALE_TABLE", "HyperpriorCodecModel", "HyperpriorConfig", "gaussian_bits", "scale_index"]
