"""The importance-weighted estimate of a VAE's log-likelihood log p(x) (Burda et al., 2016, the IWAE bound).

Why: the ELBO a VAE trains on is a lower bound that can be loose by several nats, so two models cannot be
compared by it. Drawing k codes from the encoder's q(z|x) and averaging the weights p(x|z) p(z) / q(z|x) gives a
bound that tightens towards log p(x) as k grows (k = 1 is the ELBO); k = 1000 is the usual standard for reporting
likelihoods on MNIST. Computed in float64 sums and with ``logsumexp``, so that 1000 weights of order e^-90 do not
underflow.
"""

from __future__ import annotations

import math

import torch

from .autoencoder import AutoEncoderModel
from .bottleneck import LOG_2PI, normal_log_density


def log_normaliser(model: AutoEncoderModel, n_values: int) -> float:
    """The part of log p(x|z) the training loss leaves out: ``-0.5 log(2π)`` per value for the unit-variance
    Gaussian ("mse"); nothing for the Bernoulli ("bce"), whose cross-entropy is its exact negative log-probability."""
    name = model.config.likelihood.name
    if name == "mse":
        return -0.5 * LOG_2PI * n_values
    if name == "bce":
        return 0.0
    raise ValueError(f"log-likelihoods are computed for the 'bce' and 'mse' losses; this model uses {name!r}")


@torch.no_grad()
def importance_log_likelihood(model: AutoEncoderModel, x: torch.Tensor, k: int, chunk: int = 100) -> torch.Tensor:
    """log p(x) estimated with ``k`` importance samples for each row of ``x``: shape ``(B,)``, in nats."""
    if model.config.bottleneck.name != "gaussian":
        raise ValueError("log_likelihood needs a VAE (a Gaussian code); this autoencoder's code is deterministic")
    model.eval()
    code = model.bottleneck(model.encoder_features(x))
    mean, logvar = code.mean.double(), code.logvar.double()
    const = log_normaliser(model, x[0].numel())
    flat = x.flatten(1)
    weights = []
    for start in range(0, k, chunk):
        m = min(chunk, k - start)
        z = mean + torch.exp(0.5 * logvar) * torch.randn((m, *mean.shape), dtype=mean.dtype, device=mean.device)
        params = model.decoder_params(z.flatten(0, 1).float()).float()
        nll = model.likelihood.nll(params, flat.repeat(m, 1)).view(m, -1).double()
        weights.append(-nll + const + normal_log_density(z) - normal_log_density(z, mean, logvar))
    return torch.logsumexp(torch.cat(weights), dim=0) - math.log(k)


__all__ = ["importance_log_likelihood", "log_normaliser"]
