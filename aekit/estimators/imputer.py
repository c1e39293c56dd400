"""Missing-value imputation with a denoising autoencoder.

Why this shape: an autoencoder trained to rebuild a row from a copy with a random share of its *observed* cells
hidden learns to predict any cell from the others (the MIDAS / GAIN line of work). The hiding is the
``masking`` corruption of the model's input; the loss counts only cells that were observed in the data (the
tabular likelihoods take the observed mask), so the model is never taught that missing means zero. The encoder
reads a flag per cell beside its value (``missing_indicator``: shown, or missing/hidden), so a hole is not read
as a value at the column mean. Filling then runs the trained model on the row with its holes flagged and keeps
only the predictions for the holes; ``n_passes`` feeds the filled row back in, so a cell can use its
neighbours' filled values.

Before training a small share of observed cells (``check_fraction``) is hidden from the model and used after it,
as a held-out check: their error per column is reported (``check_``) and sets the spread of multiple
imputation (:meth:`Imputer.sample`): numeric draws add noise of the column's held-out error, categorical cells
are drawn from the decoder's class probabilities, and each draw also hides a fresh random share of the observed
cells, so a cell whose prediction rests on a few others varies more.
"""

from __future__ import annotations

from numbers import Integral, Real
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import _check_feature_names, check_is_fitted

from .._utils import clip, next_pow2
from ..data.input import check_n_features
from ..data.tabular import TabularPreprocessor
from ..data.validation import as_numeric_array, check_shape
from .autoencoder import AutoEncoder
from .base import TRAINING_CONSTRAINTS, ModelEstimator, register_format


@register_format
class Imputer(TransformerMixin, ModelEstimator):
    """Fill missing values (NaN/None) in numeric and categorical tables with a denoising autoencoder.

    Parameters
    ----------
    mask_rate : float, default=0.25
        Share of observed cells hidden from the model's input at every training step.
    n_passes : int, default=1
        Times the model fills the table; from the second pass on it sees its own earlier fills as input.
    missing_indicator : bool, default=True
        The encoder also reads which cells it was shown, so a hole is not read as a value at the column mean.
    latent_dim, hidden_dims, max_iter, batch_size, learning_rate
        The autoencoder's (``AutoEncoder(kind="deep")``); ``None`` uses its data-sized defaults.
    check_fraction : float, default=0.05
        Share of observed cells held out of training to measure the imputation error per column.
    device : str, default="auto"
    random_state : int, RandomState or None, default=None
    verbose : int, default=0

    Attributes
    ----------
    autoencoder_ : AutoEncoder
    n_iter_ : int
        Epochs the autoencoder trained.
    check_ : pandas.DataFrame
        Per column: the held-out cells, their RMSE in standard deviations (numeric) or accuracy (categorical).
    missing_share_ : dict
        Share of missing cells per column in the fitted table.
    """

    FORMAT = "aekit.imputer"

    _parameter_constraints: dict = {
        **TRAINING_CONSTRAINTS,
        "mask_rate": [Interval(Real, 0, 1, closed="neither")],
        "n_passes": [Interval(Integral, 1, None, closed="left")],
        "missing_indicator": ["boolean"],
        "latent_dim": [Interval(Integral, 1, None, closed="left"), None],
        "hidden_dims": ["array-like", None],
        "check_fraction": [Interval(Real, 0, 0.5, closed="left")],
    }

    def __init__(self, *, mask_rate: float = 0.25, n_passes: int = 1, missing_indicator: bool = True, latent_dim: int | None = None,
                 hidden_dims: tuple[int, ...] | None = None, max_iter: int | None = None,
                 batch_size: int | None = None, learning_rate: float = 1e-3, check_fraction: float = 0.05,
                 device: str = "auto", random_state: int | np.random.RandomState | None = None,
                 verbose: int = 0) -> None:
        self.mask_rate = mask_rate
        self.n_passes = n_passes
        self.missing_indicator = missing_indicator
        self.latent_dim = latent_dim
        self.hidden_dims = hidden_dims
        self.max_iter = max_iter
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.check_fraction = check_fraction
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------------------------------------ inputs
    def _frame(self, X: object, reset: bool) -> pd.DataFrame:
        """The table as a DataFrame: arrays become numeric columns ``x0, x1, ...``; checked against fit."""
        if reset:
            _check_feature_names(self, X, reset=True)
        else:
            check_is_fitted(self)
            check_n_features(self, X)
            _check_feature_names(self, X, reset=False)
        if isinstance(X, pd.DataFrame):
            frame = X
        else:
            as_numeric_array(X, "X")  # the type checks and their messages
            arr = np.asarray(X, dtype=np.float64)
            check_shape(arr, "X", allowed_ndim=(2,))
            frame = pd.DataFrame(arr, columns=[f"x{i}" for i in range(arr.shape[1])])
        if len(frame) == 0:
            raise ValueError("X is empty (0 rows); at least 1 row is required")
        if frame.shape[1] == 0:
            raise ValueError(f"0 feature(s) (shape={frame.shape}) while a minimum of 1 is required: give the table "
                             "whose cells to fill")
        if reset:
            self.n_features_in_ = frame.shape[1]
            self.columns_ = [str(c) for c in frame.columns]
        elif frame.shape[1] != self.n_features_in_:
            raise ValueError(f"X has {frame.shape[1]} features, but Imputer is expecting {self.n_features_in_} "
                             f"features as input (the columns {self.columns_})")
        elif not isinstance(X, pd.DataFrame):
            frame.columns = self.columns_
        return frame

    # ------------------------------------------------------------------------------------------------ fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: object, y: object = None) -> Imputer:
        """Learn to fill ``X``'s missing cells from its observed ones (``y`` is ignored)."""
        frame = self._frame(X, reset=True)
        if len(frame) < 2:
            raise ValueError(f"Imputer needs at least 2 rows to learn from; got n_samples = {len(frame)}")
        rng = np.random.default_rng(self._fit_seed())
        present = frame.notna().to_numpy()
        self.missing_share_ = {c: float(1 - present[:, j].mean()) for j, c in enumerate(self.columns_)}
        held = present & (rng.random(present.shape) < self.check_fraction)
        held &= (present.sum(axis=0) - held.sum(axis=0) >= 2)[None, :]  # every column keeps 2 training values
        width = TabularPreprocessor().fit(frame).n_features_out
        # No squeeze: the hidden cells, not a narrow code, keep the model from copying its input; and no early
        # stopping, whose validation loss (inputs uncorrupted) does not measure filling (stopping on the check
        # cells' error fills worse: it stops early on noise). Hidden layers about 8x the encoded
        # width (64 to 256): tables with many related columns underfit at 2x (cardio 0.677 -> 0.620 RMSE), narrow
        # noisy ones (8-13 columns) overfit when wider (the imputation benchmark).
        hidden = self.hidden_dims or (clip(next_pow2(8 * width), 64, 256),) * 2
        # Without the dense kinds' linear path: these choices were measured without it.
        self.autoencoder_ = AutoEncoder(
            kind="deep", linear_path=False, corruption="masking", noise_level=self.mask_rate,
            missing_indicator=self.missing_indicator,
            latent_dim=self.latent_dim or clip(width, 2, 64), hidden_dims=tuple(hidden), max_iter=self.max_iter,
            batch_size=self.batch_size, learning_rate=self.learning_rate, early_stopping=False,
            device=self.device, random_state=int(rng.integers(2**31 - 1)), verbose=self.verbose,
        ).fit(frame.mask(held) if held.any() else frame)
        self.n_iter_ = self.autoencoder_.n_iter_
        self._measure_check(frame, held)
        return self

    def _measure_check(self, frame: pd.DataFrame, held: np.ndarray) -> None:
        """Error on the held-out cells per column (``check_``); :meth:`sample` takes its noise scale from it."""
        pre = self.autoencoder_.preprocessor_
        x, observed = pre.transform(frame)
        held_model = np.zeros_like(observed, dtype=bool)
        for j, block in enumerate(pre.blocks):
            held_model[:, block.start:block.stop] = held[:, j : j + 1]
        filled = self._fill(x, observed * ~held_model)  # the held-out cells count as missing
        rows = []
        for j, block in enumerate(pre.blocks):
            cells = held[:, j]
            a, b = block.start, block.stop
            row = {"column": block.name, "type": block.type, "held-out cells": int(cells.sum())}
            if not block.is_categorical:
                rmse = float(np.sqrt(np.mean((filled[cells, a] - x[cells, a]) ** 2))) if cells.any() else float("nan")
                row["rmse (std units)"] = rmse
            else:
                hit = np.argmax(filled[cells, a:b], axis=1) == np.argmax(x[cells, a:b], axis=1)
                row["accuracy"] = float(hit.mean()) if cells.any() else float("nan")
            rows.append(row)
        self.check_ = pd.DataFrame(rows)

    # ------------------------------------------------------------------------------------------ filling
    def _fill(self, x: np.ndarray, observed: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
        """Model-space ``x`` with its unobserved entries predicted (``n_passes`` times); with ``rng``, each pass
        also hides a fresh random share of the observed entries (one draw of multiple imputation)."""
        missing = observed == 0
        current = np.where(missing, np.nan, x).astype(np.float32)  # NaN: not shown to the model
        for _ in range(self.n_passes):
            shown = current
            if rng is not None:
                shown = np.where(rng.random(current.shape) < self.mask_rate, np.nan, current).astype(np.float32)
            recon = self.autoencoder_.reconstruct_shown(shown)
            current = np.where(missing, recon, x).astype(np.float32)
        return current

    def _model_table(self, X: object) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
        frame = self._frame(X, reset=False)
        # A category never seen in fit can be neither kept (no column for it) nor filled: refuse it.
        x, observed = self.autoencoder_.preprocessor_.transform(frame, unseen="error")
        return frame, x, observed

    def transform(self, X: object) -> np.ndarray | pd.DataFrame:
        """``X`` with every missing cell filled and every observed cell unchanged (a DataFrame for a DataFrame,
        with its column names and dtypes; a float array for an array)."""
        frame, x, observed = self._model_table(X)
        return self._output(X, frame, self._fill(x, observed))

    def sample(self, X: object, n_draws: int = 5, random_state: int | None = None) -> list:
        """``n_draws`` different plausible completions of ``X`` (multiple imputation); observed cells are the same
        in all of them, filled cells vary by how uncertain they are."""
        if not isinstance(n_draws, Integral) or n_draws < 1:
            raise ValueError(f"n_draws must be a positive integer, got {n_draws!r}")
        frame, x, observed = self._model_table(X)
        rng = np.random.default_rng(random_state)
        pre = self.autoencoder_.preprocessor_
        draws = []
        # A numeric cell's noise is its column's held-out RMSE (1 standard deviation where nothing was held out).
        rmse = self.check_.get("rmse (std units)", pd.Series(np.nan, index=self.check_.index)).fillna(1.0)
        for _ in range(n_draws):
            filled = self._fill(x, observed, rng)
            for block, scale in zip(pre.blocks, rmse):
                a, b = block.start, block.stop
                holes = observed[:, a] == 0
                if not holes.any():
                    continue
                if not block.is_categorical:
                    filled[holes, a] += scale * rng.standard_normal(int(holes.sum()))
                else:
                    probs = np.clip(filled[holes, a:b], 1e-12, None)
                    probs /= probs.sum(axis=1, keepdims=True)
                    picks = (probs.cumsum(axis=1) > rng.random((len(probs), 1))).argmax(axis=1)
                    filled[holes, a:b] = np.eye(b - a, dtype=np.float32)[picks]
            draws.append(self._output(X, frame, filled))
        return draws

    def _output(self, X: object, frame: pd.DataFrame, filled: np.ndarray) -> np.ndarray | pd.DataFrame:
        """Put the predictions into the user's table: only where a value was missing, in the column's own type."""
        decoded = self.autoencoder_.preprocessor_.inverse_transform(filled)
        out = frame.copy()
        for label, name in zip(frame.columns, self.columns_):
            holes = out[label].isna().to_numpy()
            if not holes.any():
                continue
            values = decoded[name].to_numpy()[holes]
            if values.dtype == object:  # categories come back as strings: give them the column's own values
                known = {str(v): v for v in out[label].dropna().unique()}
                values = np.array([known.get(str(v), v) for v in values], dtype=object)
            if isinstance(out[label].dtype, pd.CategoricalDtype):
                out[label] = out[label].astype(object)
                out.loc[holes, label] = values
                out[label] = pd.Categorical(out[label], categories=frame[label].cat.categories)
            else:
                out.loc[holes, label] = values
        if isinstance(X, pd.DataFrame):
            return out
        return out.to_numpy(dtype=np.float64)

    def input_spec(self) -> dict[str, Any]:
        """What ``transform`` takes: the fitted table's columns (``{"kind": "table", ...}``) when fitted on a
        DataFrame, else ``{"kind": "array", "shape": [n_columns]}``; NaN marks the cells to fill either way."""
        check_is_fitted(self)
        if getattr(self, "feature_names_in_", None) is None:
            return {"kind": "array", "shape": [int(self.n_features_in_)]}
        return self.autoencoder_.input_spec()

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        check_is_fitted(self)
        return np.asarray(self.columns_, dtype=object)

    # -------------------------------------------------------------------------------------------- persist
    def _children(self) -> dict[str, ModelEstimator]:
        return {"autoencoder": self.autoencoder_}

    def _state(self) -> dict[str, Any]:
        return {"config": {"columns": self.columns_, "missing_share": self.missing_share_,
                           "check": [{k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in row.items()}
                                     for row in self.check_.to_dict(orient="records")],
                           "check_columns": list(self.check_.columns)}}

    def _restore(self, saved: dict[str, Any], path: Path, device: str) -> None:
        fitted = saved["config"]["fitted"]
        self.autoencoder_ = AutoEncoder.load(path / "autoencoder", device=device)
        self.n_iter_ = self.autoencoder_.n_iter_
        self.columns_ = list(fitted["columns"])
        self.missing_share_ = dict(fitted["missing_share"])
        self.check_ = pd.DataFrame(fitted["check"], columns=fitted["check_columns"])

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags


__all__ = ["Imputer"]
