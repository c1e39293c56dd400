"""Per-feature scaling that survives heavy tails and constant columns.

Standardising by mean and standard deviation lets one extreme value squash every other value of its column
towards zero, and divides by zero on constant columns; a network trained on such data spends its capacity on
a handful of rows. :class:`RankGaussScaler` maps each column through its empirical quantiles onto standard
normal quantiles, so every column arrives roughly N(0, 1) whatever its shape. Values outside the range seen in
``fit`` continue linearly beyond the last quantile, scaled by the column's robust spread, so an unseen extreme
value at scoring time still maps far out instead of being clipped to the largest training value.
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtri

FORMAT = "aekit.rankgauss/1"


class RankGaussScaler:
    """Quantile-to-normal scaling with linear tails. State is plain arrays (``to_dict``), never pickled.

    Parameters
    ----------
    n_quantiles : int, default=200
        Knots of the piecewise-linear map per column (fewer when there are fewer rows).
    """

    def __init__(self, n_quantiles: int = 200) -> None:
        self.n_quantiles = n_quantiles

    def fit(self, X: np.ndarray) -> RankGaussScaler:
        X = np.asarray(X, dtype=np.float64)
        n = len(X)
        probs = np.linspace(0, 1, int(min(self.n_quantiles, max(n, 2))))
        knots = np.quantile(X, probs, axis=0)  # (k, d), non-decreasing per column
        eps = 0.5 / max(n, 1)  # normal quantiles pulled in from ±inf by half a sample at each end
        targets = ndtri(np.clip(probs, eps, 1 - eps))
        q25, q75 = np.quantile(X, [0.25, 0.75], axis=0)
        spread = (q75 - q25) / 1.349  # the IQR of a normal distribution is 1.349 standard deviations
        std = X.std(axis=0)
        self.spread_ = np.where(spread > 0, spread, np.where(std > 0, std, 1.0))
        # np.interp needs strictly increasing knots: a run of tied knots maps to the middle of its targets.
        self.knots_, self.targets_ = [], []
        for j in range(X.shape[1]):
            uniq, first = np.unique(knots[:, j], return_index=True)
            last = np.append(first[1:] - 1, len(probs) - 1)
            self.knots_.append(uniq)
            self.targets_.append(0.5 * (targets[first] + targets[last]) if len(uniq) > 1 else np.zeros(1))
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        out = np.empty(X.shape, dtype=np.float32)
        for j, (knots, targets, spread) in enumerate(zip(self.knots_, self.targets_, self.spread_)):
            col = X[:, j]
            vals = np.interp(col, knots, targets)
            vals = np.where(col < knots[0], targets[0] + (col - knots[0]) / spread, vals)
            out[:, j] = np.where(col > knots[-1], targets[-1] + (col - knots[-1]) / spread, vals)
        return out

    def fit_transform(self, X: np.ndarray) -> np.ndarray:
        return self.fit(X).transform(X)

    def to_dict(self) -> dict:
        return {"format": FORMAT, "n_quantiles": self.n_quantiles, "knots": [k.tolist() for k in self.knots_],
                "targets": [t.tolist() for t in self.targets_], "spread": self.spread_.tolist()}

    @classmethod
    def from_dict(cls, d: dict) -> RankGaussScaler:
        if not isinstance(d, dict) or d.get("format") != FORMAT:
            found = d.get("format") if isinstance(d, dict) else None
            raise ValueError(f"scaler state has format {found!r}, expected {FORMAT!r}")
        obj = cls(int(d["n_quantiles"]))
        obj.knots_ = [np.asarray(k, dtype=np.float64) for k in d["knots"]]
        obj.targets_ = [np.asarray(t, dtype=np.float64) for t in d["targets"]]
        obj.spread_ = np.asarray(d["spread"], dtype=np.float64)
        return obj


class StandardColumnScaler:
    """Mean/std scaling with constant columns left unscaled (scale 1), state as plain arrays.

    Unlike scikit-learn's ``StandardScaler`` its state is JSON (``to_dict``), so a saved detector needs no pickle,
    and it keeps float64 state so a JSON round trip gives identical scores.
    """

    FORMAT = "aekit.standard-scaler/1"

    def fit(self, x: np.ndarray) -> StandardColumnScaler:
        x = np.asarray(x, dtype=np.float64)
        self.mean_ = x.mean(axis=0)
        std = x.std(axis=0)
        self.scale_ = np.where(std > 0, std, 1.0)
        return self

    def transform(self, x: np.ndarray) -> np.ndarray:
        return ((x - self.mean_) / self.scale_).astype(np.float32)

    def to_dict(self) -> dict:
        return {"format": self.FORMAT, "mean": self.mean_.tolist(), "scale": self.scale_.tolist()}

    @classmethod
    def from_dict(cls, d: dict) -> StandardColumnScaler:
        obj = cls()
        obj.mean_, obj.scale_ = np.asarray(d["mean"]), np.asarray(d["scale"])
        return obj


def scaler_from_dict(d: dict | None) -> RankGaussScaler | StandardColumnScaler | None:
    """Rebuild whichever column scaler wrote ``d`` (by its ``format`` field); ``None`` stays ``None``."""
    if d is None:
        return None
    if d.get("format") == FORMAT:
        return RankGaussScaler.from_dict(d)
    if d.get("format") == StandardColumnScaler.FORMAT:
        return StandardColumnScaler.from_dict(d)
    raise ValueError(f"unknown column scaler format {d.get('format')!r}")
