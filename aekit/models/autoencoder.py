"""The one composed autoencoder model. Every member of the family is a choice of its parts.

::

    x ──corrupt──► standardise ──► encoder ──► bottleneck ──► decoder ──► likelihood(x | x̂)  + regularisers
       (training    (images:         (mlp |     (deterministic |  (mirror;    (mse | bce |       (sparsity-l1/-kl,
        only)        input_norm.py)   conv)      gaussian: + kl)   mse: back   mixed)            contractive)
                                                                   to data units)

``loss`` returns a dict of named terms (``recon``, then whatever the bottleneck and the regularisers report —
``kl``, ``sparsity``, ``contractive`` — and ``total``) so the trainer can log each without knowing which model it
trains. The model adds the terms the parts hand it; it has no branch per kind. ``encode``, ``decode`` and
``reconstruct`` work on tensors; the estimator layer maps arrays and tables in and out.
"""

from __future__ import annotations

import contextlib
from itertools import chain

import torch
from torch import nn

from ..data.batches import Batch
from .autocast import full_precision as _full_precision
from .autocast import without_autocast as _without_autocast
from .config import ModelConfig
from .corruption import build_corruption
from .input_norm import InputNorm
from .linear_path import LinearPath
from .missing_flags import MissingFlags


class _EncodingPath(nn.Module):
    """What a full autoencoder and a kept encoder share: input -> (input_norm, missing_flags) -> encoder -> code."""

    def encoder_features(self, x: torch.Tensor) -> torch.Tensor:
        """The encoder's output for input ``x`` (before the bottleneck)."""
        if self.input_norm.active:  # skipping no-op parts saves module calls on a small model's ~1 ms step
            x = self.input_norm(x)
        if self.missing_flags.active:
            x = self.missing_flags(x)
        return self.encoder(x)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """The code of ``x`` (the mean for Gaussian codes): ``(B, ...) -> (B, K)``; with ``missing_indicator``,
        NaN marks values the model is not shown."""
        return self.bottleneck(self.encoder_features(x)).mean


class AutoEncoderModel(_EncodingPath):
    """Wires the parts named in a :class:`ModelConfig` together; see the module docstring for the picture."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = c = config
        self.corruption = build_corruption(c.corruption)
        self.input_norm = InputNorm(c.input_norm, c.input_shape)
        self.missing_flags = MissingFlags(c.missing_indicator)
        family, settings = c.encoder.part, c.encoder.settings
        self.encoder, self.decoder = family.build(c.input_shape, c.latent_dim, settings)
        if c.missing_indicator:  # the encoder reads a shown flag beside each value
            self.encoder = family.build((2 * c.input_shape[0],), c.latent_dim, settings)[0]
            self.corruption.blank = float("nan")
        self.bottleneck = c.bottleneck.part(self.encoder.out_dim, c.latent_dim, c.bottleneck.settings)
        self.likelihood = c.likelihood.part(c.likelihood.settings)
        self.standardised_output = self.input_norm.active and self.likelihood.params_in_data_units
        self.regularizers = nn.ModuleList(r.part(r.settings) for r in c.regularizers)
        self.linear_path = None
        if c.linear_path is not None:
            if len(c.input_shape) != 1 or self.input_norm.active or getattr(self.bottleneck, "samples", 1) > 1:
                raise ValueError("a linear path around the code (an input -> output map) needs flat inputs without "
                                 "input_norm and one code per row")
            self.linear_path = LinearPath(c.input_shape[0], c.linear_path.l2)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Reconstruction in data space from codes: ``(B, K) -> (B, *input_shape)`` (without a linear path around the
        code, which needs the input)."""
        return self._mean(self.decoder_params(z))

    def _mean(self, params: torch.Tensor) -> torch.Tensor:
        mean = self.likelihood.mean(params.flatten(1)).view(-1, *self.config.input_shape)
        return self.input_norm.clip(mean)  # logits' means too: a sigmoid's (0, 1) is wider than the data's range

    def decoder_params(self, z: torch.Tensor) -> torch.Tensor:
        """The likelihood's parameters for codes ``z`` (in data units when they are the data's values)."""
        params = self.decoder(z)
        return self.input_norm.inverse(params) if self.standardised_output else params

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        return self.encode_reconstruct(x)[1]

    def encode_reconstruct(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Codes and reconstructions from one encoder pass."""
        z = self.encode(x)
        if self.linear_path is None:
            return z, self.decode(z)
        return z, self._mean(self.decoder_params(z) + self.linear_path(x))

    def loss(self, batch: Batch) -> dict[str, torch.Tensor]:
        """Named batch-mean loss terms (each unweighted) and their weighted ``total``."""
        return self.loss_and_code(batch)[0]

    def loss_and_code(self, batch: Batch) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
        """:meth:`loss` and the batch's codes (the mean for Gaussian codes), for objectives that also shape the
        code, without encoding the batch twice."""
        x = batch.x
        x_in = x
        if self.missing_flags.active and batch.observed is not None:  # missing cells are not shown, nor 0
            x_in = x.masked_fill(batch.observed == 0, float("nan"))
        if self.corruption.active:
            x_in = self.corruption(x_in)
        input_grad = bool(self.regularizers) and any(r.needs_input_grad for r in self.regularizers)
        with torch.enable_grad() if input_grad else contextlib.nullcontext():
            if input_grad:
                x_in = x_in.detach().requires_grad_(True)
            features = self.encoder_features(x_in)
            # Under a trainer's bfloat16 autocast only the encoder and decoder bodies compute in bfloat16; the
            # code, its terms and the loss stay in float32 (a KL or a summed BCE loses too much in 8 bits).
            with _without_autocast(x):
                features = _full_precision(features)
                reads_input = getattr(self.bottleneck, "reads_input", False)  # see bottleneck.py
                code = self.bottleneck(features, x) if reads_input else self.bottleneck(features)
                extra = [r.terms(x_in, code) for r in self.regularizers]
        params = _full_precision(self.decoder_params(code.z))
        with _without_autocast(x):
            if self.linear_path is not None:  # the path sees the input at the scale it will see after training
                params = params + self.linear_path(self.corruption.unbiased(x_in))
                extra.append({"linear_path_l2": self.linear_path.penalty()})
            if code.samples == 1:
                terms = {"recon": self.likelihood.batch_nll(params, x, batch.observed)}
            else:  # k codes per row (the importance-weighted bound): the bottleneck weighs each row's k decodings
                k = code.samples
                observed = None if batch.observed is None else _tiled(batch.observed, k)
                nll = self.likelihood.nll(params, _tiled(x, k), observed).view(k, len(x))
                terms = {"recon": nll.mean()}
                extra.append({"importance_gap": self.bottleneck.importance_gap(code, nll)})
        total = terms["recon"]
        for name, term in chain(code.terms.items(), *(e.items() for e in extra)):
            terms[name] = term.value
            total = total + term.weight * term.value
        terms["total"] = total
        return terms, code.mean


def _tiled(x: torch.Tensor, k: int) -> torch.Tensor:
    """``k`` copies of the batch, one after another: rows line up with a sample-major ``(k * B, K)`` code."""
    return x.repeat(k, *([1] * (x.dim() - 1)))


class EncoderModel(_EncodingPath):
    """Only the encoder and bottleneck of an autoencoder: what a user keeps to turn data into features."""

    def __init__(self, config: ModelConfig, parts: tuple[nn.Module, nn.Module] | None = None) -> None:
        """Fresh parts for ``config``, or ``parts=(encoder, bottleneck)`` shared with a trained autoencoder."""
        super().__init__()
        if parts is None:
            full = AutoEncoderModel(config)
            parts = (full.encoder, full.bottleneck)
        self.config = config
        self.input_norm = InputNorm(config.input_norm, config.input_shape)
        self.missing_flags = MissingFlags(config.missing_indicator)
        self.encoder, self.bottleneck = parts
