"""A log of (user, item[, rating]) rows as a sparse users x items matrix, and back to ids.

What a shop, a library or a media site has is a table of who took what, often with a rating. A recommender
reads it as one row per user: the bag of items that user interacted with. This module is the one place that
turns tables, CSV/Parquet files or SciPy matrices into that matrix, checks them, and maps item ids to columns
(and, for new users' histories, unknown items to a count or an error).
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .files import read_table


@dataclass
class Interactions:
    """``matrix`` (users x items, CSR float32) with the user id of each row and the item id of each column."""

    matrix: sp.csr_matrix
    user_ids: np.ndarray
    item_ids: np.ndarray


def read_interactions(data: object, *, user_col: str = "user", item_col: str = "item", rating_col: str | None = None,
                      min_rating: float | None = None, item_ids: np.ndarray | None = None,
                      unknown_items: str = "ignore") -> Interactions:
    """Read ``data``: a DataFrame or CSV/Parquet path with user and item columns, or a SciPy sparse matrix
    (rows = users, columns = items in ``item_ids`` order, or ``0..n-1``).

    ``rating_col`` with ``min_rating`` keeps the rows rated at least that as interactions (implicit feedback);
    ``rating_col`` alone weighs each interaction by its rating; otherwise every (user, item) pair counts 1, however
    often it appears. With ``item_ids`` (a fitted model's columns), items outside it are dropped with a warning
    that counts them (``unknown_items="ignore"``) or refused (``"error"``).
    """
    if unknown_items not in ("ignore", "error"):
        raise ValueError(f"unknown_items must be 'ignore' or 'error', got {unknown_items!r}")
    if sp.issparse(data):
        matrix = sp.csr_matrix(data, dtype=np.float32)
        n_items = matrix.shape[1] if item_ids is None else len(item_ids)
        if matrix.shape[1] != n_items:
            raise ValueError(f"the sparse matrix has {matrix.shape[1]} columns but the model knows {n_items} items; "
                             "columns must be the fitted items in their order")
        if matrix.nnz and matrix.data.min() < 0:
            raise ValueError("interaction counts must be non-negative; the sparse matrix holds negative values")
        ids = np.arange(n_items) if item_ids is None else np.asarray(item_ids)
        return Interactions(matrix, np.arange(matrix.shape[0]), ids)
    frame = _as_frame(data)
    needed = [c for c in (user_col, item_col, rating_col) if c is not None]
    lacking = [c for c in needed if c not in frame.columns]
    if lacking:
        raise ValueError(f"column(s) {lacking} not in the interactions (columns: {list(frame.columns)}); name the "
                         "user and item columns with user_col/item_col (--user-col/--item-col)")
    frame = frame[needed]
    empty_ids = frame[[user_col, item_col]].isna().any(axis=1)
    if empty_ids.any():
        raise ValueError(f"{int(empty_ids.sum())} interaction row(s) have no user or no item id; drop them first")
    weights = np.ones(len(frame), dtype=np.float32)
    if rating_col is not None:
        ratings = pd.to_numeric(frame[rating_col], errors="coerce").to_numpy(dtype=np.float64)
        if np.isnan(ratings).any():
            raise ValueError(f"rating column {rating_col!r} has {int(np.isnan(ratings).sum())} missing or "
                             "non-numeric value(s)")
        if min_rating is not None:
            keep = ratings >= min_rating
            frame, ratings = frame[keep], ratings[keep]
            weights = np.ones(len(frame), dtype=np.float32)
        else:
            if (ratings < 0).any():
                raise ValueError(f"rating column {rating_col!r} has negative values; pass min_rating to keep only "
                                 "the rows rated at least that")
            weights = ratings.astype(np.float32)
    elif min_rating is not None:
        raise ValueError("min_rating needs rating_col (the column that holds the ratings)")
    if len(frame) == 0:
        raise ValueError("no interactions left" + (f" with {rating_col} >= {min_rating}" if min_rating is not None
                                                   else "") + "; an empty history cannot be learned from")
    users, user_index = np.unique(frame[user_col].to_numpy(), return_inverse=True)
    items = frame[item_col].to_numpy()
    if item_ids is None:
        item_ids, item_index = np.unique(items, return_inverse=True)
    else:
        item_index = pd.Index(item_ids).get_indexer(items)
        unknown = item_index < 0
        if unknown.any():
            examples = ", ".join(map(repr, pd.unique(items[unknown])[:3]))
            found = f"{int(unknown.sum())} interaction(s) name items the model was not fitted on ({examples}, ...)"
            if unknown_items == "error":
                raise ValueError(f"{found}; drop them or pass unknown_items='ignore'")
            warnings.warn(f"{found}; they are ignored", stacklevel=3)
            user_index, item_index, weights = user_index[~unknown], item_index[~unknown], weights[~unknown]
    matrix = sp.csr_matrix((weights, (user_index, item_index)), shape=(len(users), len(item_ids)), dtype=np.float32)
    if rating_col is None or min_rating is not None:
        matrix.data[:] = 1.0  # a pair counts once, however often it was logged
    return Interactions(matrix, users, np.asarray(item_ids))


def _as_frame(data: object) -> pd.DataFrame:
    if isinstance(data, pd.DataFrame):
        return data
    if isinstance(data, (str, os.PathLike)):
        return read_table(data)
    raise TypeError(f"interactions must be a DataFrame, a CSV/Parquet path or a SciPy sparse matrix, got "
                    f"{type(data).__name__}")


def fold_in_split(matrix: object, rng: np.random.Generator, share: float = 0.2) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """Each user's items split at random into ``(fold-in, held-out)`` rows: about ``share`` of them held out, at
    least one where a user has two or more items. The protocol of Mult-VAE's evaluation (Liang et al., 2018): a
    model sees the fold-in items and is scored on finding the held-out ones."""
    m = sp.csr_matrix(matrix, dtype=np.float32)
    held = np.zeros(m.nnz, dtype=bool)
    for u in range(m.shape[0]):
        a, b = m.indptr[u], m.indptr[u + 1]
        if b - a >= 2:
            held[a + rng.choice(b - a, size=max(1, round(share * (b - a))), replace=False)] = True

    def only(mask: np.ndarray) -> sp.csr_matrix:
        part = m.copy()
        part.data = np.where(mask, part.data, 0.0).astype(np.float32)
        part.eliminate_zeros()
        return part

    return only(~held), only(held)
