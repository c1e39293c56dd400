"""Read large inputs in row chunks, and write row-wise results chunk by chunk, so memory stays bounded.

Used to score millions of rows: a CSV or Parquet file is never loaded whole, and the output file is written
as the chunks are scored (to a temporary name, renamed when complete).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from .files import TABLE_SUFFIXES, read_table
from .sources import load_source

OUTPUT_SUFFIXES = (".csv", ".parquet")


def iter_chunks(
    spec: str | os.PathLike, chunk_rows: int = 100_000, label_column: str | None = None, label_optional: bool = False
) -> Iterator[tuple[np.ndarray, np.ndarray | pd.DataFrame]]:
    """Yield ``(row_ids, X_chunk)`` for a CSV/Parquet table (streamed), a ``.npy`` array (memory-mapped) or any
    other source (read whole, then sliced). ``label_column`` is left out; with ``label_optional`` a table
    without it is read as it is."""
    if label_optional and label_column is not None and not _has_column(spec, label_column):
        label_column = None
    path = Path(os.fspath(spec))
    kind = TABLE_SUFFIXES.get(path.suffix.lower()) if path.is_file() else None
    if kind in ("csv", "tsv"):
        start = 0
        for chunk in pd.read_csv(path, sep="," if kind == "csv" else "\t", chunksize=chunk_rows):
            yield _split_label(chunk, label_column, start)
            start += len(chunk)
        return
    if kind == "parquet":
        import pyarrow.parquet as pq

        start = 0
        for batch in pq.ParquetFile(path).iter_batches(batch_size=chunk_rows):
            chunk = batch.to_pandas()
            yield _split_label(chunk, label_column, start)
            start += len(chunk)
        return
    if kind == "txt":
        yield _split_label(read_table(path), label_column, 0)
        return
    if path.suffix.lower() == ".npy" and path.is_file():
        arr = np.load(path, mmap_mode="r", allow_pickle=False)
        for a in range(0, len(arr), chunk_rows):
            yield np.arange(a, min(a + chunk_rows, len(arr))), np.asarray(arr[a : a + chunk_rows])
        return
    source = load_source(spec, label_column=label_column)
    for a in range(0, len(source.X), chunk_rows):
        yield source.ids[a : a + chunk_rows], source.rows(slice(a, a + chunk_rows))


def _has_column(spec: str | os.PathLike, column: str) -> bool:
    """Whether a CSV/Parquet table at ``spec`` has ``column`` (reading only its header); False for other sources."""
    path = Path(os.fspath(spec))
    kind = TABLE_SUFFIXES.get(path.suffix.lower()) if path.is_file() else None
    if kind == "parquet":
        import pyarrow.parquet as pq

        return column in pq.ParquetFile(path).schema_arrow.names
    if kind in ("csv", "tsv", "txt"):
        return column in read_table(path, nrows=1).columns
    return False


def _split_label(chunk: pd.DataFrame, label_column: str | None, start: int) -> tuple[np.ndarray, pd.DataFrame]:
    if label_column is not None:
        if label_column not in chunk.columns:
            raise ValueError(f"label column {label_column!r} not found; columns: {list(chunk.columns)}")
        chunk = chunk.drop(columns=[label_column])
    return np.arange(start, start + len(chunk)), chunk


class ChunkWriter:
    """Append DataFrames to a CSV or Parquet file; the file appears under its name only once ``close`` runs."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        if self.path.suffix.lower() not in OUTPUT_SUFFIXES:
            raise ValueError(f"--out must end in one of {', '.join(OUTPUT_SUFFIXES)}, got {self.path.name!r}")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = self.path.with_name(f".{self.path.name}.partial")
        self._parquet = None
        self.rows = 0

    def write(self, frame: pd.DataFrame) -> None:
        if self.path.suffix.lower() == ".csv":
            frame.to_csv(self.tmp, mode="w" if self.rows == 0 else "a", header=self.rows == 0, index=False)
        else:
            import pyarrow as pa
            import pyarrow.parquet as pq

            table = pa.Table.from_pandas(frame, preserve_index=False)
            if self._parquet is None:
                self._parquet = pq.ParquetWriter(self.tmp, table.schema)
            self._parquet.write_table(table.cast(self._parquet.schema))
        self.rows += len(frame)

    def close(self) -> int:
        if self._parquet is not None:
            self._parquet.close()
        if self.rows:
            os.replace(self.tmp, self.path)
        return self.rows

    def __enter__(self) -> ChunkWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            if self._parquet is not None:
                self._parquet.close()
            self.tmp.unlink(missing_ok=True)
