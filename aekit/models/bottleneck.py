"""Bottlenecks: how encoder features become the code, and the loss terms the code itself costs.

* ``deterministic``: a linear map (optionally followed by an activation) — basic, deep, sparse, contractive AEs.
  It costs nothing.
* ``gaussian``: the VAE's reparameterised code (Kingma & Welling, 2014, https://arxiv.org/abs/1312.6114):
  the encoder predicts a mean and log-variance, training samples ``z = mean + std * eps``, and the code reports
  its own ``kl`` term, the closed form ``0.5 * sum(mean² + var - 1 - log var)`` of KL(q(z|x) || N(0, I)),
  weighted by ``beta`` (β-VAE when > 1). With ``samples = k > 1`` it trains on the importance-weighted bound
  instead (IWAE; Burda et al., 2016, https://arxiv.org/abs/1509.00519): k codes per row, and the loss is
  ``-log mean_k p(x|z_k) p(z_k) / q(z_k|x)``, a bound on log p(x) that is tighter than the ELBO, so the decoder is
  fitted to a better likelihood (about 1 nat on binarised MNIST in the paper) at k decoder passes per row.

``forward(h)`` takes the encoder's features; a bottleneck whose cost depends on the clean input sets
``reads_input = True`` and is called as ``forward(h, x)`` (only the Gaussian code with ``kl_by_input_sum`` does).
The quantised bottleneck reports its rate the same way: the composed model adds whatever terms a code carries,
with no branch per kind.
"""

from __future__ import annotations

import math
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
    samples: int = 1  # codes drawn per row: z is (samples * B, K), sample-major, when more than one


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
        self.has_activation = bool(config.activation)

    def forward(self, h: torch.Tensor) -> Code:
        z = self.linear(h)  # (B, K)
        if self.has_activation:
            z = self.act(z)
        return Code(z=z, mean=z)


@BOTTLENECKS.register("gaussian")
class GaussianBottleneck(nn.Module):
    """With ``kl_by_input_sum``, each row's KL is multiplied by the sum of its (clean) input before the batch mean:
    for a bag of items, the length of a user's history. RecVAE (Shenbin et al., 2020,
    https://arxiv.org/abs/1912.11160) does this because a multinomial reconstruction term grows with the number of
    items, so a fixed KL weight regularises long histories too little and short ones too much; ``beta`` is then
    the weight per item (RecVAE's gamma, 0.005)."""

    # Log-variances outside this range only appear when training diverges; clamping keeps exp() finite.
    LOGVAR_RANGE = (-30.0, 20.0)

    @dataclass
    class Config:
        beta: float = 1.0  # weight of the KL term
        samples: int = 1  # codes per row in training: 1 = the ELBO, k > 1 = the importance-weighted bound
        kl_by_input_sum: bool = False  # each row's KL weighed by the sum of its input (see the class docstring)

    def __init__(self, in_dim: int, latent_dim: int, config: Config | None = None) -> None:
        super().__init__()
        config = config or self.Config()
        self.beta = float(config.beta)  # an attribute, so a schedule can anneal it
        self.samples = int(config.samples)
        self.kl_by_input_sum = bool(config.kl_by_input_sum)
        if self.samples < 1:
            raise ValueError(f"importance samples must be at least 1, got {self.samples}")
        if self.samples > 1 and self.beta != 1.0:
            raise ValueError(f"the importance-weighted bound is a bound on log p(x) only with beta=1; got "
                             f"beta={self.beta:g} with {self.samples} samples (use one of them)")
        if self.samples > 1 and self.kl_by_input_sum:
            raise ValueError("kl_by_input_sum reweighs the ELBO's KL term; the importance-weighted bound "
                             f"({self.samples} samples) has none to reweigh (use one of them)")
        self.linear = nn.Linear(in_dim, 2 * latent_dim)

    @property
    def reads_input(self) -> bool:
        """Whether the model should hand :meth:`forward` the clean input (see the module docstring)."""
        return self.kl_by_input_sum

    def forward(self, h: torch.Tensor, x: torch.Tensor | None = None) -> Code:
        """``x``, the clean input, is read only with ``kl_by_input_sum``."""
        mean, logvar = self.linear(h).chunk(2, dim=1)  # (B, K) each
        logvar = logvar.clamp(*self.LOGVAR_RANGE)
        k = self.samples if self.training else 1
        if not self.training:
            z = mean
        elif k == 1:
            z = mean + torch.exp(0.5 * logvar) * torch.randn_like(mean)
        else:
            z = (mean + torch.exp(0.5 * logvar) * torch.randn((k, *mean.shape), dtype=mean.dtype,
                                                              device=mean.device)).flatten(0, 1)
        kl_rows = gaussian_kl(mean, logvar)  # (B,)
        if self.kl_by_input_sum and x is not None:
            kl_rows = kl_rows * x.flatten(1).sum(dim=1).to(kl_rows.dtype)
        kl = Term(kl_rows.mean(), self.beta)
        return Code(z=z, mean=mean, logvar=logvar, terms={"kl": kl}, samples=k)

    @staticmethod
    def importance_gap(code: Code, nll: torch.Tensor) -> Term:
        """How much the importance-weighted bound improves on the ELBO estimate, as a loss term (usually negative).

        ``nll`` is ``(k, B)``: -log p(x|z) of every row under each of its k codes. The model's total adds the
        reconstruction term (the mean of ``nll``), ``kl`` and this gap, so the total *is* the IWAE loss
        ``-log mean_k w_k`` and its gradient the IWAE gradient; the log keeps ``recon`` and ``kl`` readable.
        """
        k = code.samples
        z = code.z.view(k, *code.mean.shape)
        log_ratio = normal_log_density(z) - normal_log_density(z, code.mean, code.logvar)  # log p(z) - log q(z|x)
        iwae = -(torch.logsumexp(log_ratio - nll, dim=0) - math.log(k)).mean()
        elbo = nll.mean() + code.terms["kl"].value
        return Term(iwae - elbo, 1.0)


LOG_2PI = math.log(2 * math.pi)


def normal_log_density(z: torch.Tensor, mean: torch.Tensor | None = None,
                       logvar: torch.Tensor | None = None) -> torch.Tensor:
    """log N(z; mean, exp(logvar)) summed over the last dimension; the standard normal (the prior) when
    ``mean`` and ``logvar`` are left out."""
    if mean is None:
        return -0.5 * (z.pow(2) + LOG_2PI).sum(dim=-1)
    return -0.5 * ((z - mean).pow(2) * torch.exp(-logvar) + logvar + LOG_2PI).sum(dim=-1)


def gaussian_kl(mean: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mean, exp(logvar)) || N(0, I)) per sample, summed over code dimensions: shape (B,)."""
    return 0.5 * (mean.pow(2) + logvar.exp() - 1.0 - logvar).sum(dim=1)
