"""The one composed autoencoder model. Every member of the family is a choice of its parts.

::

    x ──corrupt──► encoder ──► bottleneck ──► decoder ──► likelihood(x | x̂)  + regularisers(z, encoder)
       (training    (mlp | conv)  (deterministic |  (mirror)   (mse | bce |        (sparsity l1 / kl,
        only)                      gaussian)                    mixed)            contractive, β·KL)

``loss`` returns a dict of named terms (``recon``, ``kl``, ``sparsity``, ``contractive``, ``total``) so the trainer
can log each without knowing which model it trains. ``encode``, ``decode`` and ``reconstruct`` work on tensors;
the estimator layer maps arrays and tables in and out.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import asdict, dataclass, field, fields

import torch
from torch import nn

from .bottleneck import BOTTLENECKS, gaussian_kl
from .conv import ConvDecoder, ConvEncoder
from .corruption import build_corruption
from .likelihood import LIKELIHOODS
from .mlp import MLPDecoder, MLPEncoder
from .regularizers import contractive_penalty, kl_sparsity, l1_sparsity


@dataclass
class ModelConfig:
    """Everything needed to rebuild a model's architecture; saved as JSON next to the weights."""

    input_shape: tuple[int, ...]  # (D,) for tables, (C, H, W) for images
    latent_dim: int
    encoder: str = "mlp"  # "mlp" | "conv"
    hidden: tuple[int, ...] = (256,)  # MLP widths, or conv channels per stride-2 stage
    activation: str = "relu"
    bottleneck: str = "deterministic"  # "deterministic" | "gaussian"
    code_activation: str | None = None
    loss: str = "mse"  # "mse" | "bce" | "mixed"
    blocks: list[dict] = field(default_factory=list)  # column layout for loss="mixed"
    corruption: str | None = None  # "gaussian" | "masking" | "salt-and-pepper"
    noise_level: float = 0.0
    beta: float = 1.0  # weight of the KL term (β-VAE when > 1)
    sparsity: str | None = None  # "l1" | "kl"
    sparsity_weight: float = 0.0
    sparsity_target: float = 0.05
    contractive_weight: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> ModelConfig:
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"unknown model config keys {sorted(unknown)}; this file was written by another tool")
        d = dict(d)
        d["input_shape"] = tuple(d["input_shape"])
        d["hidden"] = tuple(d["hidden"])
        return cls(**d)


class AutoEncoderModel(nn.Module):
    """Wires the parts named in a :class:`ModelConfig` together; see the module docstring for the picture."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = c = config
        if c.sparsity == "kl" and c.code_activation != "sigmoid":
            raise ValueError("sparsity='kl' needs code_activation='sigmoid' (rates must lie in (0, 1))")
        self.corruption = build_corruption(c.corruption, c.noise_level)
        if c.encoder == "conv":
            if len(c.input_shape) != 3:
                raise ValueError(f"a conv encoder needs image input (C, H, W), got input shape {c.input_shape}")
            self.encoder: nn.Module = ConvEncoder(c.input_shape, c.hidden, c.activation)
            self.decoder: nn.Module = ConvDecoder(c.latent_dim, c.input_shape, c.hidden, c.activation)
        elif c.encoder == "mlp":
            d = math.prod(c.input_shape)
            self.encoder = MLPEncoder(d, c.hidden, c.activation)
            self.decoder = MLPDecoder(c.latent_dim, c.hidden, d, c.activation)
        else:
            raise ValueError(f"unknown encoder {c.encoder!r}; choose 'mlp' or 'conv'")
        self.bottleneck = BOTTLENECKS.get(c.bottleneck)(self.encoder.out_dim, c.latent_dim, c.code_activation)
        self.likelihood = LIKELIHOODS.get(c.loss)(c.blocks)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """The code of ``x`` (the mean for Gaussian codes): ``(B, ...) -> (B, K)``."""
        return self.bottleneck(self.encoder(x)).mean

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Reconstruction in data space from codes: ``(B, K) -> (B, *input_shape)``."""
        params = self.decoder(z)
        return self.likelihood.mean(params.flatten(1)).view(-1, *self.config.input_shape)

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))

    def loss(self, x: torch.Tensor, observed: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """Named batch-mean loss terms (each unweighted) and their weighted ``total``."""
        return self.loss_and_code(x, observed)[0]

    def loss_and_code(self, x: torch.Tensor, observed: torch.Tensor | None = None
                      ) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
        """:meth:`loss` and the batch's codes (the mean for Gaussian codes), for objectives that also shape the
        code, without encoding the batch twice."""
        c = self.config
        x_in = self.corruption(x)
        contractive = c.contractive_weight > 0
        # The contractive term differentiates the code with respect to the input, also during validation.
        with torch.enable_grad() if contractive else contextlib.nullcontext():
            if contractive:
                x_in = x_in.detach().requires_grad_(True)
            code = self.bottleneck(self.encoder(x_in))
            if contractive:
                penalty = contractive_penalty(code.mean, x_in)
        params = self.decoder(code.z)
        terms = {"recon": self.likelihood.batch_nll(params, x, observed)}
        total = terms["recon"]
        if code.logvar is not None:
            terms["kl"] = gaussian_kl(code.mean, code.logvar).mean()
            total = total + c.beta * terms["kl"]
        if c.sparsity == "l1":
            terms["sparsity"] = l1_sparsity(code.mean)
        elif c.sparsity == "kl":
            terms["sparsity"] = kl_sparsity(code.mean, c.sparsity_target)
        if "sparsity" in terms:
            total = total + c.sparsity_weight * terms["sparsity"]
        if c.contractive_weight > 0:
            terms["contractive"] = penalty
            total = total + c.contractive_weight * terms["contractive"]
        terms["total"] = total
        return terms, code.mean


class EncoderModel(nn.Module):
    """Only the encoder and bottleneck of an autoencoder: what a user keeps to turn data into features."""

    def __init__(self, config: ModelConfig, parts: tuple[nn.Module, nn.Module] | None = None) -> None:
        """Fresh parts for ``config``, or ``parts=(encoder, bottleneck)`` shared with a trained autoencoder."""
        super().__init__()
        if parts is None:
            full = AutoEncoderModel(config)
            parts = (full.encoder, full.bottleneck)
        self.config = config
        self.encoder, self.bottleneck = parts

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.bottleneck(self.encoder(x)).mean
