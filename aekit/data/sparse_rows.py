"""A batch source over the rows of a sparse matrix (users x items), made dense one batch at a time.

A user-item log of a shop or a media site has tens of thousands of items and few per user; the whole matrix dense
would not fit in memory, one batch of rows does. The rows are taken by index like :class:`TensorBatches`, so
shuffling, ranks and resume behave the same.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import scipy.sparse as sp
import torch

from .batches import Batch, batches_per_epoch, shuffled_share


class SparseRows:
    """Batches of rows of ``matrix`` (any SciPy sparse format; kept as CSR float32), dense per batch."""

    def __init__(self, matrix: sp.spmatrix | sp.sparray) -> None:
        self.matrix = sp.csr_matrix(matrix, dtype=np.float32)

    def __len__(self) -> int:
        return self.matrix.shape[0]

    def dense(self, rows: np.ndarray | slice) -> Batch:
        return Batch(torch.from_numpy(self.matrix[rows].toarray()))

    def batches_per_epoch(self, batch_size: int, world: int = 1) -> int:
        return batches_per_epoch(len(self), batch_size, world)

    def example(self) -> torch.Tensor:
        """One dense row ``(1, n_columns)``."""
        return torch.zeros(1, self.matrix.shape[1])

    def epoch(self, batch_size: int, rank: int = 0, world: int = 1,
              generator: torch.Generator | None = None) -> Iterator[Batch]:
        """Shuffled rows (torch's generator, as for in-memory tensors); with ``world`` ranks, this rank's share."""
        mine = shuffled_share(len(self), rank, world, generator)
        for i in range(0, len(mine), batch_size):
            yield self.dense(np.sort(mine[i : i + batch_size]))

    def sequential(self, batch_size: int, rank: int = 0, world: int = 1) -> Iterator[Batch]:
        start, stop = len(self) * rank // world, len(self) * (rank + 1) // world
        for i in range(start, stop, batch_size):
            yield self.dense(slice(i, min(i + batch_size, stop)))
