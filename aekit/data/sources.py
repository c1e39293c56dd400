"""Resolve what a user names on the command line — a file, a folder of images or a built-in dataset — to data.

One place decides how each kind of source is read, so ``aekit train``, ``encode`` and ``reconstruct`` read the
same argument the same way.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from . import datasets
from .files import TABLE_SUFFIXES, read_table
from .images import find_images, load_image_folder
from .table_files import is_table_collection


@dataclass
class Source:
    """Data read from a source: ``X`` (array or DataFrame), optional labels and the row ids to write back."""

    name: str
    X: np.ndarray | pd.DataFrame
    y: np.ndarray | None = None
    ids: np.ndarray = field(default_factory=lambda: np.zeros(0))
    class_names: list[str] = field(default_factory=list)

    @property
    def is_image(self) -> bool:
        return isinstance(self.X, np.ndarray) and self.X.ndim >= 3

    def rows(self, index: np.ndarray | slice) -> np.ndarray | pd.DataFrame:
        """The rows ``index`` (positions) of ``X``, whether it is an array or a DataFrame."""
        return self.X.iloc[index] if isinstance(self.X, pd.DataFrame) else self.X[index]

    @property
    def display_labels(self) -> np.ndarray | None:
        """The labels as people read them: class names for image folders, the values themselves otherwise."""
        if self.y is None or not self.class_names:
            return self.y
        return np.asarray(self.class_names, dtype=object)[np.asarray(self.y)]


def read_array(path: Path) -> np.ndarray:
    """A ``.npy`` file's array; never unpickles (an object array is refused with a one-line error)."""
    if not path.is_file():
        raise FileNotFoundError(f"no array file at {path}")
    try:
        return np.load(path, allow_pickle=False)
    except ValueError as exc:
        raise ValueError(f"{path} is not a plain NumPy array file ({exc})") from exc


def load_source(
    spec: str | os.PathLike,
    *,
    label_column: str | None = None,
    image_size: tuple[int, int] | None = None,
    split: str | None = None,
    label_optional: bool = False,
) -> Source:
    """Read ``spec``: a built-in dataset name, an ``.npz``/``.npy`` array file, a CSV/Parquet table or an image folder.

    ``label_column`` names a table column to hold out as labels (for coloured maps); it is not trained on. With
    ``label_optional`` a table without that column is read whole, and a source that is not a table ignores it.
    """
    text = os.fspath(spec)
    path = Path(text)
    labels: np.ndarray | None = None
    classes: list[str] = []
    if path.is_dir():
        if is_table_collection(path) and not find_images(path):
            raise ValueError(f"{path} holds Parquet/CSV tables, not images: train on them with --streaming (read in "
                             "chunks), or name one file")
        X, labels, classes = load_image_folder(path, size=image_size)
    elif path.suffix.lower() == ".npy":
        X = read_array(path)
    elif path.suffix.lower() in TABLE_SUFFIXES:
        X = read_table(path)
        if label_column is not None and not (label_optional and label_column not in X.columns):
            if label_column not in X.columns:
                raise ValueError(f"label column {label_column!r} is not in {path}; columns: {list(X.columns)}")
            labels = X.pop(label_column).to_numpy()
        ids = X.index.to_numpy()
        return Source(name=path.name, X=X, y=labels, ids=ids)
    elif text.lower().endswith(".npz") or text.strip().lower() in datasets.available():
        X, labels = datasets.load(text, split=split)
    else:
        hint = "" if path.suffix else f" or a built-in dataset ({', '.join(datasets.available())})"
        if path.suffix and not path.exists():
            raise FileNotFoundError(f"no data file at {path}")
        raise ValueError(
            f"cannot read {text!r}: give a table ({', '.join(TABLE_SUFFIXES)}), an array (.npy, .npz), "
            f"a folder of images{hint}"
        )
    if label_column is not None and not label_optional and not isinstance(X, pd.DataFrame):
        raise ValueError("--label-col applies to tables (CSV/Parquet); this source has no columns")
    return Source(name=path.name or text, X=X, y=labels, ids=np.arange(len(X)), class_names=classes)
