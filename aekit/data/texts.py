"""Texts from whatever a user holds them in: a list or Series of strings, a DataFrame column, a CSV/Parquet file.

One place checks them, so fitting, embedding and the CLI refuse the same things with the same words: a missing
value, a number where text should be, an empty string, a table whose text column cannot be told.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from .files import TABLE_SUFFIXES, read_table


def _text_column(frame: pd.DataFrame, text_col: str | None, where: str) -> pd.Series:
    if text_col is not None:
        if text_col not in frame.columns:
            raise ValueError(f"text column {text_col!r} is not in {where}; columns: {list(map(str, frame.columns))}")
        return frame[text_col]
    texty = [c for c in frame.columns if frame[c].dtype == object or pd.api.types.is_string_dtype(frame[c])]
    if len(texty) != 1:
        found = f"text-like columns {list(map(str, texty))}" if texty else "no text column"
        raise ValueError(f"{where} has {found}; name the one to use (text_col=..., or --text-col on the command line)")
    return frame[texty[0]]


def read_texts(X: object, text_col: str | None = None, what: str = "texts") -> tuple[list[str], np.ndarray]:
    """``(texts, row ids)`` from a list/tuple/array/Series of strings, a DataFrame (its ``text_col``, or its one
    text column) or the path of a CSV/Parquet table. Raises ``TypeError``/``ValueError`` naming the first bad row."""
    if isinstance(X, (str, os.PathLike)):
        path = Path(X)
        if path.suffix.lower() not in TABLE_SUFFIXES:
            raise TypeError(f"{what} must be a list of strings or a CSV/Parquet file; got the string {str(X)[:40]!r} "
                            "(to embed one text, pass [text])")
        X = read_table(path)
        where = path.name
    else:
        where = "the DataFrame"
    if isinstance(X, pd.DataFrame):
        column = _text_column(X, text_col, where)
        values, ids = column.to_numpy(dtype=object), X.index.to_numpy()
    elif isinstance(X, pd.Series):
        values, ids = X.to_numpy(dtype=object), X.index.to_numpy()
    elif isinstance(X, (list, tuple)) or (isinstance(X, np.ndarray) and X.ndim == 1):
        values, ids = np.asarray(list(X), dtype=object), np.arange(len(X))
    else:
        raise TypeError(f"{what} must be a list, Series or 1-D array of strings, a DataFrame with a text column, or a "
                        f"CSV/Parquet path; got {type(X).__name__}")
    if len(values) == 0:
        raise ValueError(f"{what}: got none (an empty list or table)")
    not_text = [i for i, v in enumerate(values) if not isinstance(v, str)]
    if not_text:
        i = not_text[0]
        kind = "missing" if values[i] is None or (isinstance(values[i], float) and np.isnan(values[i])) else \
            f"a {type(values[i]).__name__}"
        raise TypeError(f"{what}: {len(not_text)} value(s) are not text (row {ids[i]!r} is {kind}); drop them or "
                        "convert them to strings")
    empty = [i for i, v in enumerate(values) if not v.strip()]
    if empty:
        rows = ", ".join(repr(ids[i]) for i in empty[:3])
        raise ValueError(f"{what}: {len(empty)} text(s) are empty (rows {rows}); drop them or fill them in")
    return list(values), ids
