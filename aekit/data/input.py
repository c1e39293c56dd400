"""The fitted mapping between what a user passes (arrays, images, DataFrames) and the tensors a model sees.

Arrays are used as given (tables ``(n, d)``, images ``(n, h, w)`` or ``(n, c, h, w)``); DataFrames go through a
:class:`~aekit.data.tabular.TabularPreprocessor`, which scales numeric columns, one-hot encodes categorical ones
and masks missing values. The mapping is plain data (``to_dict``), saved with a model as ``preprocess.json``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .tabular import ColumnBlock, TabularPreprocessor
from .validation import as_numeric_array, check_finite, check_shape

FORMAT = "aekit.input/1"


class InputAdapter:
    """Converts user inputs to model arrays ``(n, *model_shape)`` and model outputs back.

    Parameters
    ----------
    sample_shape : tuple of int
        Shape of one sample as the user passes it: ``(d,)``, ``(h, w)`` or ``(c, h, w)``; for DataFrames, the
        width after encoding.
    preprocessor : TabularPreprocessor or None
        Set when fitted on a DataFrame.
    """

    def __init__(self, sample_shape: tuple[int, ...], preprocessor: TabularPreprocessor | None = None) -> None:
        self.sample_shape = tuple(int(s) for s in sample_shape)
        self.preprocessor = preprocessor

    # -- construction ---------------------------------------------------------------------------------
    @classmethod
    def fit(cls, X: object) -> InputAdapter:
        if isinstance(X, pd.DataFrame):
            pre = TabularPreprocessor().fit(X)
            return cls((pre.n_features_out,), pre)
        arr = as_numeric_array(X)
        check_shape(arr)
        return cls(arr.shape[1:])

    @property
    def is_image(self) -> bool:
        return len(self.sample_shape) >= 2

    @property
    def model_shape(self) -> tuple[int, ...]:
        """``(d,)`` for tables, ``(c, h, w)`` for images (a missing channel axis becomes 1)."""
        return (1, *self.sample_shape) if len(self.sample_shape) == 2 else self.sample_shape

    @property
    def blocks(self) -> list[ColumnBlock]:
        return self.preprocessor.blocks if self.preprocessor is not None else []

    @property
    def feature_names(self) -> list[str] | None:
        return self.preprocessor.feature_names_out if self.preprocessor is not None else None

    def spec(self) -> dict:
        """What this mapping takes, as plain data: ``{"kind": "table", "columns": [...]}`` for DataFrames (each
        column's ``name``, ``type`` numeric/categorical, ``dtype`` and, for categorical ones, ``categories``),
        ``{"kind": "array", "shape": [d]}`` for numeric arrays, ``{"kind": "images", "shape": [...]}`` for images
        (the shape of one image as fitted)."""
        if self.preprocessor is not None:
            keys = ("name", "type", "dtype", "categories")
            return {"kind": "table", "columns": [{k: c[k] for k in keys if k in c}
                                                 for c in self.preprocessor.to_dict()["columns"]]}
        return {"kind": "images" if self.is_image else "array", "shape": list(self.sample_shape)}

    # -- conversion -------------------------------------------------------------------------------------
    def transform(self, X: object, what: str = "X") -> tuple[np.ndarray, np.ndarray | None]:
        """``(x, observed)``: float32 model input and, for tables with missing values, the observed mask."""
        if self.preprocessor is not None:
            if not isinstance(X, pd.DataFrame):
                arr = as_numeric_array(X, what)
                check_shape(arr, what, allowed_ndim=(2,))
                if arr.shape[1] != len(self.preprocessor.columns):
                    raise ValueError(
                        f"{what} has {arr.shape[1]} columns, but the model was fitted on a table with "
                        f"{len(self.preprocessor.columns)} columns {self.preprocessor.columns}"
                    )
                X = pd.DataFrame(arr, columns=self.preprocessor.columns)
            if len(X) == 0:
                raise ValueError(f"{what} is empty (0 rows); at least 1 row is required")
            x, observed = self.preprocessor.transform(X)
            return x, (observed if observed.min() < 1 else None)
        arr = as_numeric_array(X, what)
        check_shape(arr, what)
        if arr.shape[1:] != self.sample_shape:
            raise ValueError(
                f"{what} has samples of shape {arr.shape[1:]}, but the model was fitted on samples of shape "
                f"{self.sample_shape}; pass data shaped like the training data"
            )
        check_finite(arr, what)
        return arr.reshape(len(arr), *self.model_shape), None

    def inverse(self, x: np.ndarray) -> np.ndarray | pd.DataFrame:
        """Model-space outputs ``(n, *model_shape)`` back to the user's layout (a DataFrame for tables)."""
        if self.preprocessor is not None:
            return self.preprocessor.inverse_transform(x.reshape(len(x), -1))
        return x.reshape(len(x), *self.sample_shape)

    # -- persistence --------------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        return {
            "format": FORMAT,
            "sample_shape": list(self.sample_shape),
            "tabular": None if self.preprocessor is None else self.preprocessor.to_dict(),
        }

    @classmethod
    def from_dict(cls, d: dict) -> InputAdapter:
        if not isinstance(d, dict) or d.get("format") != FORMAT:
            found = d.get("format") if isinstance(d, dict) else type(d).__name__
            raise ValueError(f"preprocess.json has format {found!r}, expected {FORMAT!r}; not an aekit model file")
        unknown = set(d) - {"format", "sample_shape", "tabular"}
        if unknown:
            raise ValueError(f"preprocess.json has unknown keys {sorted(unknown)}")
        pre = None if d["tabular"] is None else TabularPreprocessor.from_dict(d["tabular"])
        return cls(tuple(d["sample_shape"]), pre)


def check_n_features(estimator: object, X: object) -> None:
    """scikit-learn's wording for a table with the wrong number of columns, before any other conversion."""
    shape = getattr(X, "shape", None)
    if shape is None and isinstance(X, list) and X and isinstance(X[0], (list, tuple)):
        shape = (len(X), len(X[0]))
    expected = getattr(estimator, "n_features_in_", None)
    adapter = getattr(estimator, "input_", None)
    if shape is not None and len(shape) > 2 and adapter is not None and not adapter.is_image:
        raise ValueError(f"X must have shape (n_samples, n_features), like the table the model was fitted on; got "
                         f"an array of shape {tuple(shape)}")
    if shape is not None and len(shape) == 2 and adapter is not None and not adapter.is_image \
            and expected is not None and shape[1] != expected:
        raise ValueError(f"X has {shape[1]} features, but {type(estimator).__name__} is expecting {expected} "
                         "features as input.")
