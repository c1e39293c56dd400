"""What scorers built on an autoencoder read: codes and reconstruction errors, per feature or per sample.

A mixin of :class:`~aekit.estimators.AutoEncoder`. The anomaly detector scores rows from its members' codes and
per-feature errors; the reconstruction error is also the model's ``score`` (higher is better) for model
selection.
"""

from __future__ import annotations

import numpy as np

from ..models.inference import in_float64, predict_batches


def mean_over_shown(sq: np.ndarray, shown: np.ndarray) -> np.ndarray:
    """Each row's mean squared error over its shown cells ``(n,)`` (0 for a row with none): a cell that was
    missing, and so filled in, says nothing about the row."""
    return np.where(shown, sq, 0.0).sum(axis=1) / np.maximum(shown.sum(axis=1), 1)


class ReconstructionScores:
    """``codes_and_feature_errors``, ``feature_errors``, ``reconstruction_error``, ``codes_and_errors``, ``score``."""

    def codes_and_feature_errors(self, X: object, *, float64: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Codes ``(n, latent_dim)`` and the squared reconstruction error of every model-space feature ``(n, d)``
        (float64, NaN for missing cells), from one encoder pass: what a scorer built on autoencoders reads.

        Parameters
        ----------
        X : array-like, images or pandas.DataFrame
            Data laid out as in ``fit``.
        float64 : bool, default=False
            Run the model in double precision. A float32 matrix product can round a row's result differently by
            the number of rows beside it (the CPU library picks its kernel by batch size), so a score that
            magnifies the code (a Mahalanobis distance) would depend on which rows were scored together; in
            float64 a row scores the same alone as in a batch. About twice the cost of a float32 pass for a
            small dense model; convolutions in float64 are far slower on a CPU.
        """
        x, observed = self._model_input(X)
        run = in_float64(self.model_, "encode_reconstruct") if float64 else self.model_.encode_reconstruct
        z, x_hat = predict_batches(run, self._shown(x, observed), self.device_)
        sq = (x_hat.reshape(len(x), -1).astype(np.float64) - x.reshape(len(x), -1)) ** 2
        return z, (sq if observed is None else np.where(observed > 0, sq, np.nan))

    def feature_errors(self, X: object) -> np.ndarray:
        """Squared reconstruction error of every model-space feature, ``(n, d)`` float64; NaN for missing cells."""
        return self.codes_and_feature_errors(X)[1]

    def reconstruction_error(self, X: object) -> np.ndarray:
        """Per-sample mean squared error between ``X`` and its reconstruction, in model space: shape ``(n,)``.

        Tables fitted from DataFrames are compared after scaling and one-hot encoding; missing cells are left out
        (a row with nothing observed scores 0).
        """
        return self.codes_and_errors(X)[1]

    def codes_and_errors(self, X: object) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`transform` and :meth:`reconstruction_error` from one encoder pass (what an ensemble scorer needs)."""
        z, sq = self.codes_and_feature_errors(X)
        return z, mean_over_shown(sq, ~np.isnan(sq))

    def score(self, X: object, y: object = None) -> float:
        """Negative mean reconstruction error (higher is better), so model selection tools can compare fits."""
        return -float(np.mean(self.reconstruction_error(X)))
