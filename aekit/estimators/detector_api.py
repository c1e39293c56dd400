"""PyOD's detector API on top of a fitted score: labels, probabilities, confidence and prediction with rejection.

A detector that has ``decision_function`` (higher = more anomalous), the training rows' ``decision_scores_``, a
``threshold_`` and an expected outlier rate (:meth:`PyODDetectorAPI._outlier_rate`) gets every prediction method
of PyOD's ``BaseDetector`` with the same meaning, so code written for a PyOD detector runs unchanged:

* ``predict(X, return_confidence=False)``: 1 for rows scoring above ``threshold_``, else 0.
* ``predict_proba(X, method="linear" | "unify", return_confidence=False)``: ``[inlier, outlier]`` probabilities,
  by min-max scaling against the training scores (clipped to [0, 1]) or by Kriegel et al.'s unified scores,
  ``erf((s - mean) / (std * sqrt(2)))`` clipped at 0, with the training scores' mean and std ("Interpreting and
  unifying outlier scores", SDM 2011).
* ``predict_confidence(X)``: how consistently the label would come out if the training rows were drawn again
  (Perini, Vercruyssen and Davis, "Quantifying the confidence of anomaly detectors in their example-wise
  predictions", ECML-PKDD 2020).
* ``predict_with_rejection(X, T=32)``: labels with -2 where that confidence is too low, and with
  ``return_stats=True`` the expected and upper-bound rejection rates and cost (Perini, Buzzega and Davis,
  "Unsupervised anomaly detection with rejection", NeurIPS 2023).
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import root_scalar
from scipy.special import erf
from scipy.stats import binom
from sklearn.utils.validation import check_is_fitted

PROBA_METHODS = ("linear", "unify")


class PyODDetectorAPI:
    """Mixin: PyOD's prediction methods for a detector with ``decision_function``, ``decision_scores_``,
    ``threshold_`` and ``_outlier_rate()``. Labels follow PyOD: 1 = outlier, 0 = inlier, -2 = rejected."""

    def _outlier_rate(self) -> float:
        """The fraction of rows the threshold is meant to flag (PyOD's ``contamination``)."""
        raise NotImplementedError

    def _labels_for(self, scores: np.ndarray) -> np.ndarray:
        return (scores > self.threshold_).astype(np.int64)

    def predict(self, X: object, return_confidence: bool = False) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """1 for outliers (score above ``threshold_``), 0 for inliers; with ``return_confidence``, also
        :meth:`predict_confidence`."""
        scores = self.decision_function(X)
        labels = self._labels_for(scores)
        return (labels, self._confidence(scores)) if return_confidence else labels

    def predict_proba(self, X: object, method: str = "linear",
                      return_confidence: bool = False) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """``(n, 2)``: [inlier, outlier] probabilities.

        Parameters
        ----------
        X : array-like or pandas.DataFrame
        method : {"linear", "unify"}, default="linear"
            ``"linear"``: the score min-max scaled against the training scores, clipped to [0, 1].
            ``"unify"``: ``erf((s - mean) / (std * sqrt(2)))`` of the training scores' mean and std, clipped to
            [0, 1] (Kriegel et al., SDM 2011).
        return_confidence : bool, default=False
            Also return :meth:`predict_confidence`.
        """
        if method not in PROBA_METHODS:
            raise ValueError(f"method={method!r} is not a probability conversion method; use one of "
                             f"{', '.join(map(repr, PROBA_METHODS))}")
        scores = self.decision_function(X)
        train = np.asarray(self.decision_scores_, dtype=np.float64)
        if method == "linear":
            lo, hi = train.min(), train.max()
            p = (scores - lo) / (hi - lo if hi > lo else 1.0)
        else:
            sigma = train.std()
            p = erf((scores - train.mean()) / ((sigma if sigma > 0 else 1.0) * np.sqrt(2)))
        p = np.clip(p, 0.0, 1.0)
        proba = np.column_stack([1 - p, p])
        return (proba, self._confidence(scores)) if return_confidence else proba

    def predict_confidence(self, X: object) -> np.ndarray:
        """Confidence in [0, 1] that each row's label would stay the same under another draw of the training rows
        (Perini et al., ECML-PKDD 2020, as PyOD computes it)."""
        return self._confidence(self.decision_function(X))

    def _confidence(self, scores: np.ndarray) -> np.ndarray:
        check_is_fitted(self, "threshold_")
        train = np.sort(np.asarray(self.decision_scores_, dtype=np.float64))
        n = len(train)
        below = np.searchsorted(train, scores, side="right")  # training scores <= each score
        posterior = (1 + below) / (2 + n)  # the row's outlier probability, Bayesian with a uniform prior
        confidence = 1 - binom.cdf(n - int(n * self._outlier_rate()), n, posterior)
        return np.where(self._labels_for(scores) == 1, confidence, 1 - confidence)

    def predict_with_rejection(self, X: object, T: int = 32, return_stats: bool = False, delta: float = 0.1,
                               c_fp: float = 1, c_fn: float = 1,
                               c_r: float = -1) -> np.ndarray | tuple[np.ndarray, list[float]]:
        """Labels (1 outlier, 0 inlier) with -2 where the confidence is at most ``1 - 2 exp(-T)``: the detector
        abstains on rows whose label a slightly different training set could flip (Perini et al., NeurIPS 2023).

        Parameters
        ----------
        X : array-like or pandas.DataFrame
        T : int, default=32
            Rejection threshold ``1 - 2 exp(-T)`` on the confidence; a larger T rejects more rows.
        return_stats : bool, default=False
            Also return ``[expected rejection rate, its upper bound, upper bound of the cost]``
            (:meth:`compute_rejection_stats`).
        delta : float, default=0.1
            The rejection-rate bound holds with probability ``1 - delta``; in (0, 1).
        c_fp, c_fn, c_r : float, default=1, 1, -1
            Costs of a false positive, a false negative and a rejection; a negative ``c_r`` means the expected
            outlier rate (PyOD's default).
        """
        scores = self.decision_function(X)
        labels = self._labels_for(scores)
        self.rejection_threshold_ = 1 - 2 * np.exp(-T)
        certainty = 2 * np.abs(self._confidence(scores) - 0.5)
        labels[certainty <= self.rejection_threshold_] = -2
        if return_stats:
            return labels, list(self.compute_rejection_stats(T=T, delta=delta, c_fp=c_fp, c_fn=c_fn, c_r=c_r))
        return labels

    def compute_rejection_stats(self, T: int = 32, delta: float = 0.1, c_fp: float = 1, c_fn: float = 1,
                                c_r: float = -1) -> tuple[float, float, float]:
        """``(expected rejection rate, upper bound of the rejection rate with probability 1 - delta, upper bound
        of the cost)`` of :meth:`predict_with_rejection` with the same arguments (Perini et al., NeurIPS 2023,
        Theorems 1-3, as PyOD computes them)."""
        check_is_fitted(self, "threshold_")
        if not 0 < delta < 1:
            raise ValueError(f"delta must be in (0, 1), got {delta}")
        gamma = self._outlier_rate()
        c_r = gamma if c_r < 0 else c_r
        n = len(self.decision_scores_)
        k = max(int(n * gamma) - 1, 0)  # at least 0: below, the cdf is 0 everywhere and has no root
        q1, q2 = (root_scalar(lambda p, c=c: binom.cdf(k, n, p) - c, bracket=[0, 1], method="brentq").root
                  for c in (1 - np.exp(-T), np.exp(-T)))
        expected = q2 - q1
        right = min(1.0, (-gamma * (n + 2) + n + 1) / n + (T * (n + 2)) / np.sqrt(2 * n**3 * T))
        inner = 2 * n * (-3 * gamma**2 - 2 * n * (1 - gamma) ** 2 + 4 * gamma - 3) + T * (n + 2) ** 2 - 8
        left = max(0.0, (2 + n * (1 - gamma) * (n + 1)) / n**2 - np.sqrt(0.5 * n**5 * inner) / n**4)
        upper_rate = right - left + 2 * np.sqrt(np.log(2 / delta) / (2 * n))
        upper_cost = min(gamma, q1) * c_fp + min(1 - q2, gamma) * c_fn + (q2 - q1) * c_r
        return float(expected), float(upper_rate), float(upper_cost)

    def fit_predict(self, X: object, y: object = None) -> np.ndarray:
        """Fit, then return ``labels_`` (the training rows' labels)."""
        return self.fit(X, y).labels_
