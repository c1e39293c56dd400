"""A batch source that streams :class:`~aekit.data.table_files.TableFiles` through a bounded shuffle buffer.

Each epoch the units (Parquet row groups, CSV files) are put in a fresh random order, a few are read at once with
their chunks interleaved, the rows are encoded by the frozen preprocessing and gathered in a buffer of
``buffer_rows``; the buffer is shuffled and handed out as batches. Memory is the buffer plus a few chunks, whatever
the size of the data. Validation rows (a hashed share of row ids, see ``table_files``) are never trained on.

With several ranks, every rank orders the units alike (the order is seeded the same on all) and reads every
``world``-th unit; with fewer units than ranks, each rank reads all of them and keeps every ``world``-th row.
Chunks are read and encoded in a background thread while the model trains on the previous ones. Every rank
hands out exactly ``len // world`` rows per epoch -- a rank whose share is smaller reads its units
again -- so all ranks make the same number of updates and none waits forever for another.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterator

import numpy as np
import pandas as pd
import torch

from .batches import Batch
from .prefetch import prefetched
from .table_files import TableFiles, Unit, hashed_uniform, validation_rows
from .tabular import UnseenCategoryWarning

Encode = Callable[[pd.DataFrame], tuple[np.ndarray, np.ndarray | None]]

#: Units read at the same time, their chunks interleaved, so one buffer mixes rows from several places ...
INTERLEAVE = 4
#: ... as long as their rows together stay below this: a reader holds its whole Parquet row group decoded, and
#: files written with pyarrow's defaults have row groups of a million rows.
INTERLEAVE_ROWS = 600_000


class StreamBatches:
    """Shuffled batches of the training rows of ``files``, encoded by ``encode`` (a fitted input mapping).

    Parameters
    ----------
    files : TableFiles
    encode : callable
        ``DataFrame -> (x float32 (n, d), observed mask or None)``; fitted before streaming and never refitted.
    validation_share, seed : float, int
        The hashed split (see :meth:`TableFiles.survey`): rows it holds out are skipped here.
    buffer_rows : int, default=262144
        Rows shuffled together; larger mixes better and costs ``buffer_rows * d * 4`` bytes.
    """

    def __init__(self, files: TableFiles, encode: Encode, *, validation_share: float = 0.0, seed: int = 0,
                 buffer_rows: int = 262_144) -> None:
        self.files, self.encode = files, encode
        self.validation_share, self.seed, self.buffer_rows = validation_share, seed, max(int(buffer_rows), 1)
        self._rows = files.n_rows - validation_rows(files.units, validation_share, seed)
        if self._rows < 1:
            raise ValueError(f"{files.path}: no rows left to train on after holding out validation rows")
        self._warned = False

    def __len__(self) -> int:
        return self._rows

    def batches_per_epoch(self, batch_size: int, world: int = 1) -> int:
        return math.ceil(max(self._rows // world, 1) / batch_size)

    def example(self) -> torch.Tensor:
        """One encoded row ``(1, d)`` (from the first chunk of the first file)."""
        x, _ = next(self._chunks(self.files.units[0], 0, 1, False))
        return torch.from_numpy(np.ascontiguousarray(x[:1]))

    # ------------------------------------------------------------------------------------------- reading
    def _shard(self, units: list[Unit], rank: int, world: int) -> tuple[list[Unit], bool]:
        """This rank's units, and whether rows must also be split by id (fewer units than ranks)."""
        if world <= 1:
            return units, False
        if len(units) >= world:
            return units[rank::world], False
        return units, True

    def _chunks(self, unit: Unit, rank: int, world: int, by_row: bool) -> Iterator[tuple[np.ndarray, np.ndarray | None]]:
        """Encoded training rows of ``unit`` (this rank's share of them when ``by_row``)."""
        for ids, frame in self.files.read(unit):
            keep = np.ones(len(ids), dtype=bool)
            if self.validation_share > 0:
                keep &= hashed_uniform(ids, 2 * self.seed + 1) >= self.validation_share
            if by_row:
                keep &= ids % world == rank
            if not keep.all():
                frame = frame[keep]
            if len(frame):
                yield self._encode(frame)

    def _encode(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray | None]:
        """Encode one chunk; a category the preprocessing sample never saw is reported once, not per chunk."""
        # catch_warnings is process-wide, and this runs in the reading thread: a warning the training thread
        # raises meanwhile is caught here too, so anything that is not ours is passed on as it came.
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", UnseenCategoryWarning)
            x, observed = self.encode(frame.reset_index(drop=True))
        unseen = [w for w in caught if issubclass(w.category, UnseenCategoryWarning)]
        for w in caught:
            if not issubclass(w.category, UnseenCategoryWarning):
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        if unseen and not self._warned:
            self._warned = True
            warnings.warn(f"{unseen[0].message} (further chunks with unseen categories are not reported)",
                          UnseenCategoryWarning, stacklevel=2)
        return x, observed

    def _interleaved(self, units: list[Unit], rank: int, world: int, by_row: bool):
        """Chunks of ``units`` in order, ``INTERLEAVE`` units at a time, one chunk from each in turn."""
        pending = list(units)
        active: list[Iterator] = []
        width = max(1, min(INTERLEAVE, INTERLEAVE_ROWS // max(self.files.largest_unit, 1)))
        while pending or active:
            while pending and len(active) < width:
                active.append(self._chunks(pending.pop(0), rank, world, by_row))
            for it in list(active):
                chunk = next(it, None)
                if chunk is None:
                    active.remove(it)
                else:
                    yield chunk

    # ------------------------------------------------------------------------------------------- batches
    def epoch(self, batch_size: int, rank: int = 0, world: int = 1,
              generator: torch.Generator | None = None) -> Iterator[Batch]:
        """``len // world`` rows of this rank's share, shuffled within the buffer, in batches of ``batch_size``
        (the last may be smaller). The order is drawn from ``generator`` (else torch's global generator)."""
        rng = np.random.default_rng(int(torch.randint(0, 2**62, (1,), generator=generator).item()))
        quota = self._rows // world if world > 1 else self._rows
        order = [self.files.units[i] for i in rng.permutation(len(self.files.units))]
        mine, by_row = self._shard(order, rank, world)
        buffer, emitted = _ShuffleBuffer(), 0
        while True:
            produced = 0
            for x, observed in prefetched(self._interleaved(mine, rank, world, by_row)):
                buffer.add(x, observed)
                produced += len(x)
                if buffer.rows >= quota - emitted:  # the end of the epoch: exactly the quota
                    yield from buffer.drain(rng, batch_size, quota - emitted)
                    return
                if buffer.rows >= self.buffer_rows:
                    for batch in buffer.drain(rng, batch_size, buffer.rows // batch_size * batch_size):
                        emitted += len(batch)
                        yield batch
            if produced == 0:
                raise ValueError(f"rank {rank} of {world} found no training rows in its share of {self.files.path}")
            rng.shuffle(mine)  # this rank's share ran out before its quota: read it again, in a new order

    def sequential(self, batch_size: int, rank: int = 0, world: int = 1) -> Iterator[Batch]:
        """The training rows in file order (this rank's share of the units), for evaluation."""
        mine, by_row = self._shard(self.files.units, rank, world)
        for unit in mine:
            for x, observed in self._chunks(unit, rank, world, by_row):
                for i in range(0, len(x), batch_size):
                    yield Batch(torch.from_numpy(x[i : i + batch_size]),
                                None if observed is None else torch.from_numpy(observed[i : i + batch_size]))


class _ShuffleBuffer:
    """Encoded rows waiting to be shuffled and handed out; rows with a mask and rows without mix freely."""

    def __init__(self) -> None:
        self.xs: list[np.ndarray] = []
        self.masks: list[np.ndarray | None] = []
        self.rows = 0

    def add(self, x: np.ndarray, observed: np.ndarray | None) -> None:
        self.xs.append(x)
        self.masks.append(observed)
        self.rows += len(x)

    def drain(self, rng: np.random.Generator, batch_size: int, n_out: int) -> Iterator[Batch]:
        """Shuffle everything held, hand out ``n_out`` rows in batches and keep the rest."""
        x = np.concatenate(self.xs) if len(self.xs) > 1 else self.xs[0]
        observed = None
        if any(m is not None for m in self.masks):
            observed = np.concatenate([np.ones_like(a) if m is None else m for a, m in zip(self.xs, self.masks)])
        perm = rng.permutation(len(x))
        out, rest = perm[:n_out], perm[n_out:]
        self.xs = [x[rest]] if len(rest) else []
        self.masks = [None if observed is None else observed[rest]] if len(rest) else []
        self.rows = len(rest)
        x_out = torch.from_numpy(x[out])
        obs_out = None if observed is None else torch.from_numpy(observed[out])
        for i in range(0, n_out, batch_size):
            yield Batch(x_out[i : i + batch_size], None if obs_out is None else obs_out[i : i + batch_size])
