"""Input checks that tell the user what was wrong and what to do about it.

scikit-learn's own checks say *that* an array has NaN; ours say *where* (row and column), because the first
thing a user does with such an error is look at that row.
"""

from __future__ import annotations

import numbers

import numpy as np


def as_numeric_array(X: object, what: str = "X") -> np.ndarray:
    """``X`` as a float32 NumPy array, or a ``TypeError`` that names the type that was passed.

    Accepts arrays, nested lists and anything with ``__array__`` (torch tensors, pandas objects).
    """
    if hasattr(X, "toarray") or type(X).__module__.startswith("scipy.sparse"):
        raise TypeError(
            f"{what} is a sparse matrix; autoencoders here need dense input: pass {what}.toarray() if it fits in memory"
        )
    if X is None or isinstance(X, (str, bytes, dict, numbers.Number)):
        raise TypeError(
            f"{what} must be an array-like of numbers (NumPy array, list of rows, DataFrame), got {type(X).__name__}"
        )
    try:
        arr = np.asarray(X)
    except Exception as exc:  # noqa: BLE001 - any conversion failure is a type problem for the user
        raise TypeError(f"{what} could not be converted to a numeric array: {exc}") from exc
    if arr.dtype == object or arr.dtype.kind in "USV":
        try:
            arr = arr.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise TypeError(
                f"{what} holds non-numeric values ({exc}); pass a pandas DataFrame to one-hot encode categorical "
                "columns, or convert them to numbers first"
            ) from exc
    if arr.dtype.kind == "c":
        raise ValueError(f"Complex data not supported: {what} holds complex numbers; pass real values")
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{what} has dtype {arr.dtype}, which is not numeric")
    return arr.astype(np.float32, copy=False)


def check_shape(X: np.ndarray, what: str = "X", allowed_ndim: tuple[int, ...] = (2, 3, 4)) -> None:
    """Reject empty inputs and ranks the models cannot read, naming the expected layouts."""
    if X.ndim not in allowed_ndim:
        layouts = {1: "(n_samples,)", 2: "(n_samples, n_features)", 3: "(n_samples, height, width)",
                   4: "(n_samples, channels, height, width)"}
        expected = " or ".join(layouts[d] for d in allowed_ndim)
        hint = (" Reshape your data: X.reshape(1, -1) if it is a single sample, X.reshape(-1, 1) if a single feature."
                if X.ndim == 1 else "")
        raise ValueError(f"{what} must have shape {expected}; got an array of shape {X.shape}.{hint}")
    if X.shape[0] == 0:
        raise ValueError(f"{what} is empty (0 samples, shape {X.shape}); at least 1 sample is required")
    if X.size == 0:
        raise ValueError(f"{what} has 0 feature(s) (shape={X.shape}) while a minimum of 1 is required.")


def check_finite(X: np.ndarray, what: str = "X") -> None:
    """Raise a ``ValueError`` naming the first row and column holding NaN or ±inf."""
    bad = ~np.isfinite(X)
    if not bad.any():
        return
    flat = bad.reshape(len(X), -1)
    rows, cols = np.nonzero(flat)
    r, c = int(rows[0]), int(cols[0])
    value = X.reshape(len(X), -1)[r, c]
    column = f"column {c}" if X.ndim == 2 else f"flattened feature {c} (index {np.unravel_index(c, X.shape[1:])})"
    more = f" ({len(rows) - 1} more non-finite values)" if len(rows) > 1 else ""
    raise ValueError(
        f"{what} contains {value} at row {r}, {column}{more}. This estimator does not accept missing or "
        "infinite values: remove or impute them, or pass a pandas DataFrame, whose missing values are masked."
    )
