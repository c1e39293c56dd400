"""What a variational autoencoder adds to an autoencoder: new samples, interpolations, and log-likelihoods.

A mixin of :class:`~aekit.estimators.AutoEncoder`: the methods work on its fitted model and input mapping, and
say so when the model is not a VAE (a deterministic code has no prior to draw from).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from sklearn.utils.validation import check_is_fitted

from ..models.importance import importance_log_likelihood
from ..models.inference import predict_batches


class GenerativeMethods:
    """``sample``, ``interpolate`` and ``log_likelihood`` of a fitted autoencoder (the last two for VAEs)."""

    @property
    def is_variational(self) -> bool:
        """Whether the fitted model is a VAE (a Gaussian code with a prior to sample from)."""
        check_is_fitted(self)
        return self.config_.bottleneck.name == "gaussian"

    def _check_vae(self, what: str) -> None:
        if not self.is_variational:
            raise ValueError(f"{what} needs a variational autoencoder (kind='vae' or 'beta-vae'); this one is "
                             f"kind={self.kind!r}, whose codes have no prior to draw from")

    def sample(self, n: int = 16, random_state: int | None = None) -> np.ndarray:
        """``n`` new samples from a VAE: codes drawn from the prior N(0, I), decoded to their mean (for images, the
        pixel intensities), in the layout that was fitted."""
        self._check_vae("sample")
        if not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"n must be a positive whole number of samples, got {n!r}")
        gen = torch.Generator().manual_seed(0 if random_state is None else int(random_state))
        z = torch.randn(int(n), self.config_.latent_dim, generator=gen).numpy()
        return self.input_.inverse(predict_batches(self.model_.decode, z, self.device_))

    def interpolate(self, a: object, b: object, steps: int = 8) -> np.ndarray:
        """Decodings of ``steps`` codes on the straight line from the code of sample ``a`` to that of ``b``
        (both included), in the layout that was fitted: how the model morphs one input into another."""
        check_is_fitted(self)
        if not isinstance(steps, (int, np.integer)) or steps < 2:
            raise ValueError(f"steps must be a whole number of at least 2, got {steps!r}")
        if isinstance(a, pd.DataFrame) and isinstance(b, pd.DataFrame):
            ends = self.transform(pd.concat([a, b], ignore_index=True))
        else:
            ends = self.transform(np.stack([np.asarray(a), np.asarray(b)]))
        if len(ends) != 2:
            raise ValueError(f"interpolate takes two single samples; got {len(ends)} rows")
        t = np.linspace(0.0, 1.0, int(steps), dtype=np.float32)[:, None]
        return self.inverse_transform((1 - t) * ends[0] + t * ends[1])

    def log_likelihood(self, X: object, k: int = 1000, random_state: int | None = None) -> np.ndarray:
        """log p(x) per sample in nats, estimated by importance sampling with ``k`` codes from the encoder (the IWAE
        bound; ``k=1`` is the ELBO). Bernoulli (``loss="bce"``, for binary data) or unit-variance Gaussian
        (``loss="mse"``) decoders. Higher is better; report ``-mean`` as the negative log-likelihood."""
        self._check_vae("log_likelihood")
        if not isinstance(k, (int, np.integer)) or k < 1:
            raise ValueError(f"k must be a positive whole number of importance samples, got {k!r}")
        x, observed = self._model_input(X)
        if observed is not None and not observed.all():
            raise ValueError("log_likelihood needs complete samples; X has missing values")
        per = max(1, 20_000 // min(int(k), 100))  # rows per batch: about 20,000 decodings in memory at once
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0 if random_state is None else int(random_state))
            return predict_batches(lambda xb: importance_log_likelihood(self.model_, xb, int(k)), x, self.device_,
                                   batch_size=per).astype(np.float64)
