"""Nearest reference rows, with rows that have missing cells compared on their observed cells only."""

from __future__ import annotations

import numpy as np


def nearest_rows(reference: np.ndarray, x: np.ndarray, observed: np.ndarray | None,
                 k: int) -> tuple[np.ndarray, np.ndarray]:
    """Distances and indices of each row's ``k`` nearest rows of ``reference`` (Euclidean), ``(n, k)`` each.

    ``x`` is flattened to ``(n, d)``; a row with missing cells (``observed`` <= 0) is compared on its observed
    cells only, by scikit-learn's ``nan_euclidean`` distance (scaled up to all cells).
    """
    from sklearn.neighbors import NearestNeighbors

    flat = x.reshape(len(x), -1).astype(np.float32)
    dist, idx = NearestNeighbors(n_neighbors=k).fit(reference).kneighbors(flat)
    holed = np.zeros(len(flat), bool) if observed is None else (observed.reshape(len(x), -1) <= 0).any(axis=1)
    if holed.any():
        masked = np.where(observed.reshape(len(x), -1)[holed] > 0, flat[holed], np.nan)
        index = NearestNeighbors(n_neighbors=k, metric="nan_euclidean", algorithm="brute").fit(reference)
        dist[holed], idx[holed] = index.kneighbors(masked)
    return dist, idx


def difference_shares(flat: np.ndarray, reference: np.ndarray, idx: np.ndarray,
                      observed: np.ndarray | None) -> np.ndarray:
    """``(n, d)``: each feature's share of the squared difference between a row and the mean of its nearest
    reference rows (indices ``idx``); missing cells get none. What spreads a neighbour score over features."""
    flat = flat.reshape(len(flat), -1).astype(np.float64)
    diff = (flat - reference[idx].astype(np.float64).mean(axis=1)) ** 2
    if observed is not None:
        diff = np.where(observed.reshape(len(flat), -1) > 0, diff, 0.0)
    return diff / np.maximum(diff.sum(axis=1, keepdims=True), 1e-12)
