"""A fully convolutional denoising autoencoder for images of any size: a small U-Net that predicts the noise.

Why this shape: a denoiser must keep every detail the noise did not destroy, so a single code vector (the
classic convolutional DAE's 7x7x32 bottleneck) throws away what it should pass on. Here the encoder halves the
resolution twice and widens the channels; the decoder doubles it back and adds each encoder stage's features
(skip connections), so fine structure can skip the bottleneck while the coarse stages see enough context to tell
signal from noise. The output is the *noise* (DnCNN's residual learning, Zhang et al. 2017,
https://arxiv.org/abs/1608.03981): clean = corrupted - predicted noise. Predicting a residual is easier to learn
than the image itself, and near-clean inputs pass through almost unchanged. Batch norm after each convolution
trains faster at the same cost. No dense layer anywhere, so one trained network applies to whole images of any
size (``forward`` pads to a multiple of 4 and crops back).

Two output forms, by ``loss``. ``"mse"``: the residual above, scored by squared error -- for photographs, whose
values spread over the range. ``"bce"``: the same identity path in logit space, clean = sigmoid(logit(corrupted) +
correction), scored by cross-entropy -- for images whose pixels pile up at the ends of the range (digits, scans,
masks): the sigmoid reaches pure black and white, where a residual leaves faint noise that SSIM punishes. Both
losses are minimised by the clean image's conditional mean. Measured (150 s of training each): on MNIST
validation images at σ = 0.5, mse 21.02 dB / SSIM 0.870, bce 20.98 dB / 0.893; on held-out train400 photographs at
σ = 25, mse 28.01 dB, bce 27.83 dB.

``loss`` corrupts the clean batch afresh at every step (so every epoch sees new noise), keeps the corrupted image
in the value range, and scores the cleaned result against the clean image.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from ..data.batches import Batch
from .corruption import build_corruption

#: Two stride-2 stages: sizes are padded to a multiple of this.
MULTIPLE = 4
#: How close to the ends of the range the logit identity path reaches (logit(0.01) = -4.6).
LOGIT_EPS = 0.01


@dataclass
class DenoiserConfig:
    """What defines a denoising network: image channels, stage widths, the training corruption, value range."""

    channels: int = 1
    widths: tuple[int, int, int] = (32, 64, 128)
    corruption: dict = field(default_factory=lambda: {"name": "gaussian", "level": 0.5})
    loss: str = "mse"  # "mse" (residual in pixels) | "bce" (residual in logits)
    low: float = 0.0
    high: float = 1.0

    def to_dict(self) -> dict:
        return {"channels": self.channels, "widths": list(self.widths), "corruption": dict(self.corruption),
                "loss": self.loss, "low": self.low, "high": self.high}

    @classmethod
    def from_dict(cls, d: dict) -> DenoiserConfig:
        return cls(channels=int(d["channels"]), widths=tuple(int(w) for w in d["widths"]),
                   corruption=dict(d["corruption"]), loss=str(d["loss"]), low=float(d["low"]), high=float(d["high"]))


def _block(c_in: int, c_out: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False), nn.BatchNorm2d(c_out),
                         nn.ReLU(inplace=True))


class DenoisingUNet(nn.Module):
    """Corrupted images ``(B, c, h, w)`` in ``[low, high]`` -> cleaned images (see the module docstring)."""

    def __init__(self, config: DenoiserConfig) -> None:
        super().__init__()
        self.config = config
        c, (w1, w2, w3) = config.channels, config.widths
        self.enc1 = nn.Sequential(_block(c, w1), _block(w1, w1))
        self.enc2 = nn.Sequential(_block(w1, w2, stride=2), _block(w2, w2))
        self.enc3 = nn.Sequential(_block(w2, w3, stride=2), _block(w3, w3), _block(w3, w3))
        self.up2 = nn.ConvTranspose2d(w3, w2, 2, stride=2)
        self.dec2 = nn.Sequential(_block(w2, w2), _block(w2, w2))
        self.up1 = nn.ConvTranspose2d(w2, w1, 2, stride=2)
        self.dec1 = _block(w1, w1)
        self.out = nn.Conv2d(w1, c, 3, padding=1)
        self.corrupt = build_corruption(config.corruption)
        mid, half = (config.high + config.low) / 2, (config.high - config.low) / 2
        self.register_buffer("centre", torch.tensor(mid), persistent=False)
        self.register_buffer("spread", torch.tensor(half), persistent=False)

    def body(self, x: torch.Tensor) -> torch.Tensor:
        """The network's output for ``x`` (sizes a multiple of 4), float32: the noise in pixel units ("mse") or the
        correction in logit units ("bce")."""
        e1 = self.enc1((x - self.centre) / self.spread)
        e2 = self.enc2(e1)
        d2 = self.dec2(self.up2(self.enc3(e2)) + e2)
        out = self.out(self.dec1(self.up1(d2) + e1)).float()
        return out * self.spread if self.config.loss == "mse" else out

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """("bce") Logits of the cleaned image: the corrupted image's own logits plus the predicted correction."""
        p = ((x.float() - self.config.low) / (self.config.high - self.config.low)).clamp(LOGIT_EPS, 1 - LOGIT_EPS)
        return torch.log(p / (1 - p)) + self.body(x)

    def clean(self, x: torch.Tensor) -> torch.Tensor:
        """Cleaned images for ``x`` whose sizes are a multiple of 4."""
        if self.config.loss == "bce":
            return self.config.low + (self.config.high - self.config.low) * torch.sigmoid(self.logits(x))
        return x.float() - self.body(x)

    def forward(self, x: torch.Tensor, as_logits: bool = False) -> torch.Tensor:
        """Cleaned images (or with ``as_logits``, their logits), same size as ``x``: reflect-padded to a multiple of 4
        inside, cropped back."""
        h, w = x.shape[-2:]
        ph, pw = -h % MULTIPLE, -w % MULTIPLE
        padded = F.pad(x, (0, pw, 0, ph), mode="reflect" if min(h, w) > max(ph, pw) else "replicate") \
            if ph or pw else x
        return (self.logits(padded) if as_logits else self.clean(padded))[..., :h, :w]

    def corrupted(self, x: torch.Tensor) -> torch.Tensor:
        """A fresh corruption of clean ``x`` (in any mode), kept in the value range (as a saved noisy image would
        be)."""
        return self.corrupt.corrupt(x).clamp(self.config.low, self.config.high)

    def loss(self, batch: Batch) -> dict[str, torch.Tensor]:
        """Per-pixel error of the cleaned fresh corruption against the clean batch: squared error, or cross-entropy
        with the clean intensities as targets ("bce")."""
        clean = batch.x
        with torch.no_grad():
            noisy = self.corrupted(clean)
        if self.config.loss == "bce":
            target = (clean - self.config.low) / (self.config.high - self.config.low)
            err = F.binary_cross_entropy_with_logits(self(noisy, as_logits=True), target)
            return {"bce": err, "total": err}
        err = F.mse_loss(self(noisy), clean)
        return {"mse": err, "total": err}


__all__ = ["DenoiserConfig", "DenoisingUNet"]
