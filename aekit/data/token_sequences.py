"""A batch source over token sequences of different lengths.

Sentences are short and vary (1 to 80 words in WordNet's definitions): padding every batch to the longest
sentence in the corpus would spend most of the work on padding. Each epoch shuffles, then sorts the sentences by
length within windows of many batches and shuffles the batches: a batch holds sentences of nearly one length,
yet the order still changes every epoch. A batch is ``Batch(x=ids)``: ``(B, L)`` int64 ids, padded with 0
(``PAD_ID``) to the batch's longest sentence.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import torch

from .batches import Batch, batches_per_epoch, shuffled_share

#: Batches whose sentences are sorted by length together (one window), before the batches are shuffled.
SORT_WINDOW_BATCHES = 50


class TokenSequences:
    """Ragged id sequences stored flat (``ids`` with ``offsets``), batched with little padding."""

    def __init__(self, sequences: Sequence[np.ndarray]) -> None:
        lengths = np.fromiter((len(s) for s in sequences), dtype=np.int64, count=len(sequences))
        self.offsets = np.concatenate([[0], np.cumsum(lengths)])
        self.ids = np.concatenate(list(sequences)).astype(np.int64) if len(sequences) else np.zeros(0, np.int64)
        self.lengths = lengths

    def __len__(self) -> int:
        return len(self.lengths)

    def document_frequency(self, vocab_size: int) -> np.ndarray:
        """How many sequences hold each token id at least once."""
        rows = np.repeat(np.arange(len(self)), self.lengths)
        pairs = np.unique(rows * np.int64(vocab_size) + self.ids)
        return np.bincount(pairs % vocab_size, minlength=vocab_size)

    def padded(self, rows: np.ndarray) -> torch.Tensor:
        """The sequences ``rows`` as one ``(len(rows), longest)`` int64 tensor padded with 0."""
        lengths = self.lengths[rows]
        out = np.zeros((len(rows), max(int(lengths.max(initial=0)), 1)), dtype=np.int64)
        for r, (i, n) in enumerate(zip(rows, lengths)):
            out[r, :n] = self.ids[self.offsets[i]:self.offsets[i] + n]
        return torch.from_numpy(out)

    def batches_per_epoch(self, batch_size: int, world: int = 1) -> int:
        return batches_per_epoch(len(self), batch_size, world)

    def example(self) -> torch.Tensor:
        """A text of the mean length, ``(1, tokens)``: a step's cost grows with its texts' lengths."""
        return torch.ones(1, max(int(np.ceil(self.lengths.mean())) if len(self) else 1, 1), dtype=torch.long)

    def epoch(self, batch_size: int, rank: int = 0, world: int = 1,
              generator: torch.Generator | None = None) -> Iterator[Batch]:
        mine = shuffled_share(len(self), rank, world, generator)
        window = batch_size * SORT_WINDOW_BATCHES
        batches = []
        for start in range(0, len(mine), window):
            chunk = mine[start:start + window]
            chunk = chunk[np.argsort(self.lengths[chunk], kind="stable")]
            batches += [chunk[i:i + batch_size] for i in range(0, len(chunk), batch_size)]
        order = torch.randperm(len(batches), generator=generator).numpy()
        for b in order:
            yield Batch(self.padded(batches[b]))

    def sequential(self, batch_size: int, rank: int = 0, world: int = 1) -> Iterator[Batch]:
        start, stop = len(self) * rank // world, len(self) * (rank + 1) // world
        for i in range(start, stop, batch_size):
            yield Batch(self.padded(np.arange(i, min(i + batch_size, stop))))
