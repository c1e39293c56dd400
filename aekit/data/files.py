"""Read a table from disk by its suffix, with errors that say what to do.

One entry point for CSV and Parquet keeps the CLI and the estimator from each guessing formats, and
turns pandas' and pyarrow's low-level errors into messages that name the file.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

__all__ = ["read_table", "TABLE_SUFFIXES"]

#: Suffix -> reader kind. ``.txt`` has its delimiter sniffed (comma, tab, semicolon, ...).
TABLE_SUFFIXES = {".csv": "csv", ".tsv": "tsv", ".txt": "txt", ".parquet": "parquet", ".pq": "parquet"}


def read_table(path: str | os.PathLike, *, nrows: int | None = None) -> pd.DataFrame:
    """Read a CSV/TSV/TXT or Parquet file into a DataFrame.

    The first row of a text file is the header. ``.csv`` is comma-separated, ``.tsv`` tab-separated and
    ``.txt`` has its delimiter detected from its first lines, since ``.txt`` tables come in every style.

    Parameters
    ----------
    path : str or os.PathLike
        File ending in one of ``.csv``, ``.tsv``, ``.txt``, ``.parquet``, ``.pq`` (any letter case).
    nrows : int, optional
        Read only the first ``nrows`` rows of a text table (to look at its columns cheaply).

    Returns
    -------
    pandas.DataFrame
        The table, with at least one row and one column.

    Raises
    ------
    FileNotFoundError
        No file at ``path``.
    ValueError
        Unsupported suffix, unreadable content, or an empty table.
    """
    path = Path(path)
    kind = TABLE_SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise ValueError(
            f"cannot read {path}: unsupported suffix {path.suffix!r}; supported: {', '.join(TABLE_SUFFIXES)}"
        )
    if not path.exists():
        raise FileNotFoundError(f"no table file at {path}")
    if not path.is_file():
        raise ValueError(f"{path} is not a file")
    try:
        if kind == "parquet":
            df = pd.read_parquet(path)
        elif kind == "txt":
            df = pd.read_csv(path, sep=None, engine="python", nrows=nrows)
        else:
            df = pd.read_csv(path, sep="," if kind == "csv" else "\t", nrows=nrows)
    except pd.errors.EmptyDataError:
        raise ValueError(f"{path} is empty; a table needs a header row and at least one data row") from None
    except (ValueError, OSError, pd.errors.ParserError) as exc:
        raise ValueError(f"cannot read {path} as {kind}: {exc}") from exc
    except Exception as exc:  # pyarrow raises its own error types for damaged Parquet files
        if type(exc).__module__.startswith("pyarrow"):
            raise ValueError(f"cannot read {path} as parquet: {exc}") from exc
        raise
    if df.shape[0] == 0 or df.shape[1] == 0:
        raise ValueError(f"{path} holds an empty table (shape {df.shape}); it needs at least one row and column")
    return df
