"""The rows an autoencoder trains on and the rows it holds out to stop early, in memory or streamed.

Both take the estimator's ``fit_input`` (which fits the input mapping and records the input facts) and return
``(x, train, validation)``: a sample of the data in model space (what data-aware defaults are read from), the
training batch source, and the held-out rows (``None`` when nothing is held out).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..data.batches import TensorBatches
from ..data.input import InputAdapter
from ..data.stream_batches import StreamBatches
from ..data.table_files import TableFiles

#: Rows of streamed files that the input mapping (scaling, categories) is fitted on before it is frozen.
STREAM_SAMPLE_ROWS = 100_000
#: At most this many streamed rows are held out for validation (kept in memory, evaluated every epoch).
STREAM_VALIDATION_ROWS = 50_000
#: Fewer rows than this hold none out: a handful of validation rows would stop training on noise.
MIN_ROWS_TO_HOLD_OUT = 10

FitInput = Callable[[object], InputAdapter]


def in_memory_rows(X: object, fit_input: FitInput, *, validation_fraction: float,
                   seed: int) -> tuple[np.ndarray, TensorBatches, TensorBatches | None]:
    """``X`` in model space and its seeded training/validation split (``validation_fraction`` of the rows)."""
    adapter = fit_input(X)
    x, observed = adapter.transform(X)
    n = len(x)
    if n < 2:
        raise ValueError(f"an autoencoder needs at least 2 samples to learn from; got {n} sample (n_samples = {n}); "
                         "an autoencoder fitted to one row only learns to copy it")
    n_val = int(n * validation_fraction) if n >= MIN_ROWS_TO_HOLD_OUT else 0
    order = np.random.default_rng(seed).permutation(n)
    data = TensorBatches.from_numpy(x, observed)
    return x, data.subset(order[n_val:]), (data.subset(order[:n_val]) if n_val else None)


def streamed_rows(files: TableFiles, fit_input: FitInput, *, validation_fraction: float,
                  seed: int) -> tuple[np.ndarray, StreamBatches, TensorBatches | None]:
    """One pass over ``files``: the input mapping fitted on a spread sample (then frozen), the validation rows in
    memory (a hashed share of row ids, at most ``STREAM_VALIDATION_ROWS``), the rest streamed."""
    share = min(validation_fraction, STREAM_VALIDATION_ROWS / max(files.n_rows, 1)) \
        if files.n_rows >= MIN_ROWS_TO_HOLD_OUT else 0.0
    survey = files.survey(validation_share=share, sample_rows=STREAM_SAMPLE_ROWS, seed=seed)
    if len(survey.sample) < 2:
        raise ValueError(f"{files.path} has {files.n_rows} row(s) to train on; an autoencoder needs at least 2")
    adapter = fit_input(survey.sample)
    x, _ = adapter.transform(survey.sample)
    val = TensorBatches.from_numpy(*adapter.transform(survey.validation)) if len(survey.validation) else None
    return x, StreamBatches(files, adapter.transform, validation_share=share, seed=seed), val
