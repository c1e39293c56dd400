"""Tables too large for memory: a folder, glob or single file of Parquet/CSV, read piece by piece.

:class:`TableFiles` only *describes* the data (its files, their row counts and columns) and reads one *unit* at a
time -- a Parquet row group, or a whole CSV file -- in chunks of ``chunk_rows`` rows, each row carrying its global
id (its position in the concatenated files). Units are what the streaming batch source shuffles and what ranks
split between them; global ids are what validation rows are hashed on, so a row is held out in every epoch and
on every rank alike. Parquet is the format for scale: its row groups are read independently and its row counts
come free from the file footer, while a CSV file must be read once just to count it.
"""

from __future__ import annotations

import glob
import os
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

#: Suffixes read as streamed tables (``.txt`` is left out: its delimiter is sniffed per file, not per chunk).
STREAM_SUFFIXES = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv", ".tsv": "tsv"}

_GOLDEN = 0x9E3779B97F4A7C15


def hashed_uniform(row_ids: np.ndarray, salt: int) -> np.ndarray:
    """A uniform number in [0, 1) per row id, the same in every process (splitmix64 of id and salt).

    Holding out the rows whose number is below a share gives a split fixed by the data, not by reading order."""
    z = row_ids.astype(np.uint64) + np.uint64((salt * _GOLDEN) % 2**64)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)).astype(np.float64) / float(2**53)


@dataclass(frozen=True)
class Unit:
    """A piece of the data read on its own: a Parquet row group, or a whole CSV file."""

    file: Path
    kind: str
    row_group: int | None
    rows: int
    start: int  # global id of its first row


@dataclass
class Survey:
    """One pass over the data: a spread sample to fit preprocessing on, and every held-out validation row."""

    sample: pd.DataFrame
    validation: pd.DataFrame


class TableFiles:
    """Parquet or CSV files read in chunks, never whole: pass one to ``AutoEncoder.fit`` to train out of core.

    Parameters
    ----------
    path : str or os.PathLike
        A file, a folder (every ``.parquet``/``.pq``/``.csv``/``.tsv`` file under it, sorted by path), or a glob
        pattern such as ``"data/part-*.parquet"``. All files need the same columns.
    label_column : str, optional
        A column to leave out of training (kept for reports).
    chunk_rows : int, default=65536
        Rows read at a time; memory for reading is a few chunks.

    Examples
    --------
    >>> from aekit import AutoEncoder
    >>> from aekit.data import TableFiles
    >>> ae = AutoEncoder(kind="deep").fit(TableFiles("transactions/"))  # doctest: +SKIP
    """

    def __init__(self, path: str | os.PathLike, *, label_column: str | None = None, chunk_rows: int = 65_536) -> None:
        if chunk_rows < 1:
            raise ValueError(f"chunk_rows must be at least 1, got {chunk_rows}")
        self.path, self.label_column, self.chunk_rows = os.fspath(path), label_column, int(chunk_rows)
        files = _list_files(self.path)
        self.columns, self.units = _scan(files, label_column)

    @property
    def n_rows(self) -> int:
        return sum(u.rows for u in self.units)

    @property
    def largest_unit(self) -> int:
        return max(u.rows for u in self.units)

    @property
    def name(self) -> str:
        return Path(self.path.rstrip("/")).name or self.path

    def __repr__(self) -> str:
        files = len({u.file for u in self.units})
        return (f"TableFiles({self.path!r}: {self.n_rows:,} rows x {len(self.columns)} columns in {files} file(s), "
                f"{len(self.units)} unit(s))")

    def read(self, unit: Unit, rows: int | None = None, *,
             with_label: bool = False) -> Iterator[tuple[np.ndarray, pd.DataFrame]]:
        """``(global row ids, frame)`` chunks of ``unit`` in order; only its first ``rows`` rows if given; the
        label column (last) too with ``with_label``."""
        start, left = unit.start, unit.rows if rows is None else min(rows, unit.rows)
        columns = self.columns + ([self.label_column] if with_label and self.label_column is not None else [])
        for frame in self._frames(unit, min(self.chunk_rows, max(left, 1)), columns):
            if left <= 0:
                return
            frame = frame.iloc[:left] if len(frame) > left else frame
            yield np.arange(start, start + len(frame), dtype=np.int64), frame.reset_index(drop=True)
            start, left = start + len(frame), left - len(frame)

    def _frames(self, unit: Unit, chunk_rows: int, columns: list[str]) -> Iterator[pd.DataFrame]:
        try:
            if unit.kind == "parquet":
                import pyarrow.parquet as pq

                # Memory-mapped and opened per unit: an open reader keeps its decoded row group in Arrow's pool.
                pf = pq.ParquetFile(unit.file, memory_map=True, pre_buffer=False)
                for batch in pf.iter_batches(batch_size=chunk_rows, row_groups=[unit.row_group], columns=columns,
                                             use_threads=False):
                    yield batch.to_pandas()
            else:
                sep = "," if unit.kind == "csv" else "\t"
                with pd.read_csv(unit.file, sep=sep, usecols=columns, chunksize=chunk_rows) as reader:
                    for frame in reader:
                        yield frame[columns]
        except (OSError, ValueError, pd.errors.ParserError) as exc:
            raise ValueError(f"cannot read {unit.file}: {exc}") from exc

    def _split_label(self, frame: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray | None]:
        if self.label_column is None:
            return frame, None
        return frame.drop(columns=[self.label_column]), frame[self.label_column].to_numpy()

    def preview(self, rows: int) -> tuple[pd.DataFrame, np.ndarray | None]:
        """About ``rows`` rows from the start of every unit, with their labels: cheap, for a report's plots."""
        per_unit = max(1, -(-rows // len(self.units)))
        frames = []
        for unit in self.units:
            frames += [f for _, f in self.read(unit, per_unit, with_label=True)]
            if sum(len(f) for f in frames) >= rows:
                break
        return self._split_label(pd.concat(frames, ignore_index=True))

    def sample(self, rows: int, seed: int = 0) -> tuple[np.ndarray, pd.DataFrame, np.ndarray | None]:
        """About ``rows`` rows drawn evenly from all the data (one pass; hashed row ids, so every process
        agrees): ``(global row ids, frame, labels or None)``. What a detector learns from."""
        keep = min(1.0, rows / self.n_rows)
        ids, frames = [], []
        for unit in self.units:
            for chunk_ids, frame in self.read(unit, with_label=True):
                picked = hashed_uniform(chunk_ids, 2 * seed + 2) < keep
                if picked.any():
                    ids.append(chunk_ids[picked])
                    frames.append(frame[picked])
        if not frames:
            raise ValueError(f"a sample of {rows} row(s) of {self.path} came out empty; ask for more rows")
        frame, labels = self._split_label(pd.concat(frames, ignore_index=True))
        return np.concatenate(ids), frame, labels

    def survey(self, *, validation_share: float, sample_rows: int, seed: int) -> Survey:
        """Read everything once: the rows held out for validation, and a sample of about ``sample_rows`` rows
        (fewer by the validation share) of the others spread over the whole data (both chosen by hashing row ids,
        so every process agrees)."""
        keep = min(1.0, sample_rows / self.n_rows)
        sample, held_out = [], []
        for unit in self.units:
            for ids, frame in self.read(unit):
                is_val = hashed_uniform(ids, 2 * seed + 1) < validation_share
                if is_val.any():
                    held_out.append(frame[is_val])
                picked = ~is_val & (hashed_uniform(ids, 2 * seed + 2) < keep)
                if picked.any():
                    sample.append(frame[picked])
        empty = pd.DataFrame(columns=self.columns)
        return Survey(sample=pd.concat(sample, ignore_index=True) if sample else empty,
                      validation=pd.concat(held_out, ignore_index=True) if held_out else empty)


def is_table_collection(path: str | os.PathLike) -> bool:
    """Whether ``path`` names several tables at once: a glob pattern, or a folder holding Parquet/CSV files."""
    text = os.fspath(path)
    p = Path(text)
    if p.is_dir():
        return any(f.is_file() and f.suffix.lower() in STREAM_SUFFIXES for f in p.rglob("*"))
    return not p.exists() and glob.has_magic(text)


def validation_rows(units: list[Unit], share: float, seed: int) -> int:
    """How many rows the hashed split holds out (counted without reading the data)."""
    if share <= 0:
        return 0
    total = 0
    for unit in units:
        for a in range(0, unit.rows, 1 << 22):
            ids = np.arange(unit.start + a, unit.start + min(unit.rows, a + (1 << 22)), dtype=np.int64)
            total += int(np.count_nonzero(hashed_uniform(ids, 2 * seed + 1) < share))
    return total


def _list_files(path: str) -> list[Path]:
    p = Path(path)
    if p.is_dir():
        files = sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in STREAM_SUFFIXES)
        if not files:
            raise ValueError(f"{p} holds no {'/'.join(STREAM_SUFFIXES)} files to stream")
        return files
    if p.is_file():
        if p.suffix.lower() not in STREAM_SUFFIXES:
            raise ValueError(f"cannot stream {p}: give Parquet or CSV files ({', '.join(STREAM_SUFFIXES)})")
        return [p]
    if glob.has_magic(path):
        files = sorted(Path(f) for f in glob.glob(path, recursive=True)
                       if Path(f).is_file() and Path(f).suffix.lower() in STREAM_SUFFIXES)
        if not files:
            raise ValueError(f"no Parquet/CSV files match {path!r}")
        return files
    raise FileNotFoundError(f"no file or folder at {path}")


def _scan(files: list[Path], label_column: str | None) -> tuple[list[str], list[Unit]]:
    """Columns (from the first non-empty file) and the units of every file; empty files are skipped with a
    warning, a file whose columns differ is refused by name."""
    columns: list[str] | None = None
    first: Path | None = None
    units: list[Unit] = []
    start = 0
    for f in files:
        kind = STREAM_SUFFIXES[f.suffix.lower()]
        names, sizes = _describe(f, kind)
        if sum(sizes) == 0:
            warnings.warn(f"{f} holds no rows; skipped", stacklevel=3)
            continue
        if label_column is not None:
            if label_column not in names:
                raise ValueError(f"label column {label_column!r} is not in {f}; columns: {names}")
            names = [n for n in names if n != label_column]
        if columns is None:
            columns, first = names, f
        elif set(names) != set(columns):
            extra, lacking = sorted(set(names) - set(columns)), sorted(set(columns) - set(names))
            raise ValueError(f"{f} has different columns from {first}: "
                             f"{'extra ' + str(extra) if extra else ''}{'; ' if extra and lacking else ''}"
                             f"{'missing ' + str(lacking) if lacking else ''}; all files must share one schema")
        for group, rows in enumerate(sizes):
            if rows:
                units.append(Unit(f, kind, group if kind == "parquet" else None, rows, start))
                start += rows
    if columns is None:
        raise ValueError(f"every file under {files[0].parent} is empty; nothing to train on")
    if not columns:
        raise ValueError(f"{first} has no columns besides the label column")
    return columns, units


def _describe(f: Path, kind: str) -> tuple[list[str], list[int]]:
    """Column names and row counts (per Parquet row group; one count for a CSV file, which is read to count)."""
    try:
        if kind == "parquet":
            import pyarrow.parquet as pq

            meta = pq.ParquetFile(f)
            md = meta.metadata
            return list(meta.schema_arrow.names), [md.row_group(i).num_rows for i in range(md.num_row_groups)]
        sep = "," if kind == "csv" else "\t"
        names = list(pd.read_csv(f, sep=sep, nrows=0).columns)
        rows = 0
        with pd.read_csv(f, sep=sep, usecols=[0], chunksize=1 << 20) as reader:
            for chunk in reader:
                rows += len(chunk)
        return names, [rows]
    except pd.errors.EmptyDataError:
        return [], [0]
    except Exception as exc:  # pyarrow raises its own error types for damaged files
        if isinstance(exc, (OSError, ValueError, pd.errors.ParserError)) or type(exc).__module__.startswith("pyarrow"):
            raise ValueError(f"cannot read {f} as {kind}: {exc}") from exc
        raise
