"""Turn a mixed-type table into the float32 matrix an autoencoder trains on, and back.

Numeric columns are standardised and categorical columns one-hot encoded; a second matrix of the same
shape says which entries were observed, so a model can leave missing cells out of its loss and an
imputer knows what to fill. :attr:`TabularPreprocessor.blocks` describes which output columns belong
to which input column, which is what a mixed likelihood (Gaussian for numeric, softmax per categorical)
needs. The fitted state is plain data (:meth:`TabularPreprocessor.to_dict`), saved as JSON next to a
model rather than pickled, so loading a model never executes code.
"""

from __future__ import annotations

import copy
import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["ColumnBlock", "TabularPreprocessor"]

#: Version tag written by :meth:`TabularPreprocessor.to_dict`; bump it when the layout changes.
FORMAT = "aekit.tabular-preprocessor/1"

_TOP_KEYS = {"format", "columns"}
_NUMERIC_KEYS = {"name", "type", "dtype", "mean", "std"}
_CATEGORICAL_KEYS = {"name", "type", "dtype", "categories"}
_NUMERIC_DTYPES = ("float", "int")
_CATEGORICAL_DTYPES = ("bool", "category", "str")


@dataclass(frozen=True)
class ColumnBlock:
    """The slice ``[start, stop)`` of the encoded matrix that holds input column ``name``: one value for a
    ``"numeric"`` column, one per category for a ``"categorical"`` one."""

    name: str
    type: str
    start: int
    stop: int

    @property
    def is_categorical(self) -> bool:
        return self.type == "categorical"

    @property
    def width(self) -> int:
        return self.stop - self.start


class TabularPreprocessor:
    """Standardise numeric columns and one-hot encode categorical ones, tracking missing values.

    Column kinds are decided from the dtypes seen in :meth:`fit`: numbers (not bool) are numeric;
    object, string, category and bool columns are categorical. Missing values (``NaN``/``None``/``NA``)
    are allowed everywhere and reported through the ``observed`` mask of :meth:`transform` instead of
    being imputed here, because the right fill depends on the model.

    Attributes
    ----------
    blocks : list of ColumnBlock
        One per input column, in input order: the slice of the output matrix that encodes it, and whether
        it is ``"numeric"`` or ``"categorical"``.
    feature_names_out : list of str
        Output column names: the column name for a numeric column, ``"name=category"`` for one-hot ones.

    Notes
    -----
    Column names are stored as strings (``str(name)``), so a frame with integer column labels works
    but :meth:`inverse_transform` returns string labels. Categories are compared as strings too, sorted,
    which keeps the encoding identical across CSV and Parquet readers that type a column differently.
    Extra columns at transform time are ignored.

    Examples
    --------
    >>> df = pd.DataFrame({"age": [30, None, 50], "color": ["red", "blue", None]})
    >>> pre = TabularPreprocessor().fit(df)
    >>> X, observed = pre.transform(df)
    >>> pre.feature_names_out
    ['age', 'color=blue', 'color=red']
    """

    def __init__(self) -> None:
        self._columns: list[dict[str, Any]] | None = None

    # ------------------------------------------------------------------------------------------ fit

    def fit(self, df: pd.DataFrame) -> TabularPreprocessor:
        """Learn column kinds, means/standard deviations and category lists from ``df``.

        Parameters
        ----------
        df : pandas.DataFrame
            Training table with at least one row and one column.

        Returns
        -------
        TabularPreprocessor
            ``self``, fitted.
        """
        _check_frame(df, "fit")
        if df.shape[0] == 0 or df.shape[1] == 0:
            raise ValueError(f"fit needs at least one row and one column, got a table of shape {df.shape}")
        names = [str(c) for c in df.columns]
        duplicated = sorted({n for n in names if names.count(n) > 1})
        if duplicated:
            raise ValueError(f"column names must be unique (as strings); duplicated: {duplicated}")
        columns = []
        for label, name in zip(df.columns, names):
            columns.append(_fit_column(name, df[label]))
        self._columns = columns
        return self

    def fit_transform(self, df: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`fit` then :meth:`transform` on the same table."""
        return self.fit(df).transform(df)

    # ------------------------------------------------------------------------------------ transform

    def transform(self, df: pd.DataFrame, unseen: str = "warn") -> tuple[np.ndarray, np.ndarray]:
        """Encode ``df`` with the fitted statistics.

        Parameters
        ----------
        df : pandas.DataFrame
            Table holding (at least) every column seen in :meth:`fit`, matched by name.
        unseen : {"warn", "error"}, default="warn"
            A category never seen in fit: encode it as no known category with an
            :class:`UnseenCategoryWarning`, or raise ``ValueError`` (for users such as an imputer, which can
            neither keep nor fill a value it has no column for).

        Returns
        -------
        X : numpy.ndarray
            float32 ``(n, n_features_out)``. Missing numeric cells are 0 (the mean after scaling);
            missing categorical cells and categories never seen in fit are all-zero one-hot rows.
        observed : numpy.ndarray
            float32 ``(n, n_features_out)``, 1 where the cell was present and 0 where it was missing
            (for a categorical column, on all of its one-hot columns). An unseen category counts as
            observed: the value was there, the encoder just has no column for it.
        """
        columns = self._fitted()
        if unseen not in ("warn", "error"):
            raise ValueError(f"unseen must be 'warn' or 'error', got {unseen!r}")
        _check_frame(df, "transform")
        by_name = {str(c): c for c in df.columns}
        missing = [c["name"] for c in columns if c["name"] not in by_name]
        if missing:
            raise ValueError(
                f"transform: columns {missing} were seen in fit but are missing from the table "
                f"(it has {list(by_name)})"
            )
        n = df.shape[0]
        X = np.zeros((n, self.n_features_out), dtype=np.float32)
        observed = np.zeros_like(X)
        for spec, block in zip(columns, self.blocks):
            series = df[by_name[spec["name"]]]
            start, stop = block.start, block.stop
            present = ~pd.isna(series).to_numpy(dtype=bool)
            if spec["type"] == "numeric":
                values = _numeric_values(series, spec["name"])
                scaled = (values - spec["mean"]) / spec["std"]
                X[:, start] = np.where(present, scaled, 0.0)
                observed[:, start] = present
            else:
                # -1 for missing and unseen values; int64 so that offsetting by start cannot overflow
                categories = pd.Index(spec["categories"], dtype=object)
                codes = categories.get_indexer(pd.Index(_as_strings(series), dtype=object)).astype(np.int64)
                new = present & (codes < 0)
                if new.any():
                    values = sorted({str(v) for v in series[new]})
                    found = (f"column {spec['name']!r}: {int(new.sum())} row(s) hold categories not seen in fit "
                             f"({', '.join(map(repr, values[:3]))}{', ...' if len(values) > 3 else ''})")
                    if unseen == "error":
                        raise ValueError(f"{found}; map them to known categories or refit on data that has them")
                    warnings.warn(f"{found}; they are encoded as no known category (an all-zero one-hot). Refit on "
                                  "data that includes them to learn them.", UnseenCategoryWarning, stacklevel=2)
                rows = np.flatnonzero(codes >= 0)
                X[rows, start + codes[rows]] = 1.0
                observed[:, start:stop] = present[:, None]
        return X, observed

    def inverse_transform(self, X: np.ndarray) -> pd.DataFrame:
        """Decode a matrix (e.g. a reconstruction) back into a table with the fitted columns.

        Numeric columns are un-scaled (and rounded back to integers if they were integers in fit);
        each categorical column takes the category with the largest score in its block, so soft
        reconstructions decode without thresholding. bool and category columns get their dtype back;
        other categorical columns come back as strings.

        Parameters
        ----------
        X : array-like
            ``(n, n_features_out)`` matrix in the layout of :meth:`transform`.

        Returns
        -------
        pandas.DataFrame
            ``n`` rows, columns in the order seen in fit.
        """
        columns = self._fitted()
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.n_features_out:
            raise ValueError(
                f"inverse_transform expects a 2-D array with {self.n_features_out} columns, got shape {X.shape}"
            )
        out: dict[str, Any] = {}
        for spec, block in zip(columns, self.blocks):
            start, stop = block.start, block.stop
            if spec["type"] == "numeric":
                values = X[:, start] * spec["std"] + spec["mean"]
                out[spec["name"]] = np.rint(values).astype(np.int64) if spec["dtype"] == "int" else values
                continue
            cats = spec["categories"]
            if not cats:  # every value was missing in fit: nothing to decode to
                out[spec["name"]] = pd.Series([None] * X.shape[0], dtype=object)
                continue
            picked = np.asarray(cats, dtype=object)[np.argmax(X[:, start:stop], axis=1)]
            if spec["dtype"] == "bool" and set(cats) <= {"True", "False"}:
                out[spec["name"]] = picked == "True"
            elif spec["dtype"] == "category":
                out[spec["name"]] = pd.Categorical(picked, categories=cats)
            else:
                out[spec["name"]] = picked  # pandas infers its default string dtype from these
        return pd.DataFrame(out, columns=[c["name"] for c in columns])

    # ---------------------------------------------------------------------------------- layout info

    @property
    def columns(self) -> list[str]:
        """Input column names, in fit order."""
        return [c["name"] for c in self._fitted()]

    @property
    def blocks(self) -> list[ColumnBlock]:
        """Slice of the output matrix per input column (see the class docstring)."""
        blocks, start = [], 0
        for spec in self._fitted():
            width = 1 if spec["type"] == "numeric" else len(spec["categories"])
            blocks.append(ColumnBlock(spec["name"], spec["type"], start, start + width))
            start += width
        return blocks

    @property
    def feature_names_out(self) -> list[str]:
        """Names of the output columns, e.g. ``["age", "color=blue", "color=red"]``."""
        names = []
        for spec in self._fitted():
            if spec["type"] == "numeric":
                names.append(spec["name"])
            else:
                names.extend(f"{spec['name']}={cat}" for cat in spec["categories"])
        return names

    @property
    def n_features_out(self) -> int:
        """Width of the encoded matrix."""
        return self.blocks[-1].stop

    # -------------------------------------------------------------------------------- serialisation

    def to_dict(self) -> dict[str, Any]:
        """Fitted state as JSON-serialisable data; :meth:`from_dict` restores it exactly.

        Floats are Python floats, which ``json`` writes with enough digits to round-trip bit-for-bit.
        """
        return {"format": FORMAT, "columns": copy.deepcopy(self._fitted())}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TabularPreprocessor:
        """Rebuild a fitted preprocessor from :meth:`to_dict` output, validating every field.

        The check is strict (unknown or missing keys are errors) because a silently ignored field in
        a hand-edited or newer file would encode data differently from how the model was trained.
        """
        if not isinstance(d, dict):
            raise TypeError(f"from_dict expects a dict (parsed JSON), got {type(d).__name__}")
        _check_keys(d, _TOP_KEYS, "preprocessor state")
        if d["format"] != FORMAT:
            raise ValueError(
                f"preprocessor state has format {d['format']!r}, this version of aekit reads {FORMAT!r}; "
                "re-fit the preprocessor or use the aekit version that wrote it"
            )
        raw_columns = d["columns"]
        if not isinstance(raw_columns, list) or not raw_columns:
            raise ValueError("preprocessor state: 'columns' must be a non-empty list")
        columns = [_validate_column(c, i) for i, c in enumerate(raw_columns)]
        names = [c["name"] for c in columns]
        if len(set(names)) != len(names):
            raise ValueError(f"preprocessor state: column names are not unique: {names}")
        obj = cls()
        obj._columns = columns
        return obj

    # ------------------------------------------------------------------------------------- helpers

    def _fitted(self) -> list[dict[str, Any]]:
        if self._columns is None:
            raise ValueError("this TabularPreprocessor is not fitted yet; call fit(df) or from_dict(state) first")
        return self._columns

    def __repr__(self) -> str:
        if self._columns is None:
            return "TabularPreprocessor(unfitted)"
        kinds = [c["type"] for c in self._columns]
        return (
            f"TabularPreprocessor(numeric={kinds.count('numeric')}, "
            f"categorical={kinds.count('categorical')}, n_features_out={self.n_features_out})"
        )


# ----------------------------------------------------------------------------------------------------


def _check_frame(df: Any, where: str) -> None:
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"{where} expects a pandas DataFrame, got {type(df).__name__}; read files with read_table")


#: A text column whose present values are numbers in at least this share is taken for a numeric column with a
#: few stray entries (a typo, "n/a" spelled oddly), not for a categorical column with hundreds of levels.
NUMERIC_SHARE = 0.9


class UnseenCategoryWarning(UserWarning):
    """A categorical cell holds a value that ``fit`` never saw; it is encoded as no known category."""


def _fit_column(name: str, series: pd.Series) -> dict[str, Any]:
    dtype = series.dtype
    if series.isna().all():
        raise ValueError(f"column {name!r} has no values (every cell is missing); drop it before fitting")
    if pd.api.types.is_bool_dtype(dtype):
        return _fit_categorical(name, series, "bool")
    if isinstance(dtype, pd.CategoricalDtype):
        return _fit_categorical(name, series, "category")
    if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_complex_dtype(dtype):
        values = _numeric_values(series, name)
        finite = values[~np.isnan(values)]
        mean = float(finite.mean()) if finite.size else 0.0
        std = float(finite.std()) if finite.size else 1.0
        if not math.isfinite(std) or std == 0.0:
            std = 1.0  # constant column: centring is enough, dividing by 0 is not an option
        kind = "int" if dtype.kind in "iu" else "float"
        return {"name": name, "type": "numeric", "dtype": kind, "mean": mean, "std": std}
    if pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype):
        present = series[~pd.isna(series)]
        _reject_stray_text(name, present)
        is_bool = len(present) > 0 and all(isinstance(v, (bool, np.bool_)) for v in present)
        return _fit_categorical(name, series, "bool" if is_bool else "str")
    raise TypeError(
        f"column {name!r} has dtype {dtype}, which is neither numeric nor categorical; convert it first "
        "(e.g. a datetime to a number of days, or to a string to treat it as a category)"
    )


def _reject_stray_text(name: str, present: pd.Series) -> None:
    """A mostly-numeric column with a few text cells is a data error, not a category column: say which cells."""
    as_numbers = pd.to_numeric(present, errors="coerce")
    text = present[as_numbers.isna()]
    if len(present) and 0 < len(text) and as_numbers.notna().mean() >= NUMERIC_SHARE:
        examples = ", ".join(f"{v!r} (row {i!r})" for i, v in list(text.items())[:3])
        raise ValueError(
            f"column {name!r} holds numbers except for {len(text)} text value(s): {examples}; fix them, or blank "
            "them to mark them missing (e.g. pd.to_numeric(df[col], errors='coerce')), or convert the whole column "
            "to str to treat it as categorical"
        )


def _fit_categorical(name: str, series: pd.Series, kind: str) -> dict[str, Any]:
    strings = _as_strings(series)
    categories = sorted({s for s in strings if s is not None})
    return {"name": name, "type": "categorical", "dtype": kind, "categories": categories}


def _as_strings(series: pd.Series) -> list[str | None]:
    """Values as strings, ``None`` where missing; the common currency for category matching."""
    missing = pd.isna(series).to_numpy(dtype=bool)
    return [None if m else str(v) for v, m in zip(series.astype(object).tolist(), missing)]


def _numeric_values(series: pd.Series, name: str) -> np.ndarray:
    """float64 values with NaN for missing; rejects text and infinities with the column's name."""
    try:
        values = pd.to_numeric(series, errors="raise").to_numpy(dtype=np.float64, na_value=np.nan)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"column {name!r} was numeric in fit but holds non-numeric values now: {exc}") from exc
    if np.isinf(values).any():
        raise ValueError(f"column {name!r} holds infinite values; replace them with a number or NaN (missing)")
    return values


def _check_keys(d: dict[str, Any], expected: set[str], what: str) -> None:
    unknown = sorted(set(d) - expected)
    missing = sorted(expected - set(d))
    if unknown or missing:
        raise ValueError(f"{what}: unknown keys {unknown}, missing keys {missing} (expected {sorted(expected)})")


def _validate_column(c: Any, i: int) -> dict[str, Any]:
    what = f"preprocessor state, column {i}"
    if not isinstance(c, dict):
        raise ValueError(f"{what}: expected a dict, got {type(c).__name__}")
    kind = c.get("type")
    if kind == "numeric":
        _check_keys(c, _NUMERIC_KEYS, what)
        if c["dtype"] not in _NUMERIC_DTYPES:
            raise ValueError(f"{what}: numeric dtype must be one of {_NUMERIC_DTYPES}, got {c['dtype']!r}")
        for key in ("mean", "std"):
            value = c[key]
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ValueError(f"{what}: {key!r} must be a finite number, got {value!r}")
        if c["std"] <= 0:
            raise ValueError(f"{what}: 'std' must be positive, got {c['std']!r}")
        out = {"name": c["name"], "type": kind, "dtype": c["dtype"], "mean": float(c["mean"]), "std": float(c["std"])}
    elif kind == "categorical":
        _check_keys(c, _CATEGORICAL_KEYS, what)
        if c["dtype"] not in _CATEGORICAL_DTYPES:
            raise ValueError(f"{what}: categorical dtype must be one of {_CATEGORICAL_DTYPES}, got {c['dtype']!r}")
        cats = c["categories"]
        if not isinstance(cats, list) or not all(isinstance(s, str) for s in cats) or len(set(cats)) != len(cats):
            raise ValueError(f"{what}: 'categories' must be a list of distinct strings, got {cats!r}")
        out = {"name": c["name"], "type": kind, "dtype": c["dtype"], "categories": list(cats)}
    else:
        raise ValueError(f"{what}: 'type' must be 'numeric' or 'categorical', got {kind!r}")
    if not isinstance(c["name"], str):
        raise ValueError(f"{what}: 'name' must be a string, got {c['name']!r}")
    return out
