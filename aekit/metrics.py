"""Scores for unsupervised results that scikit-learn does not ship."""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment


def cluster_accuracy(y_true: object, y_pred: object) -> float:
    """Accuracy of cluster ids against classes under the best one-to-one matching (Hungarian algorithm).

    Cluster ids are arbitrary, so each cluster is matched to the class it agrees with most, no two clusters to
    the same class; rows of unmatched clusters (more clusters than classes) count as wrong. This is the "ACC" of
    the deep-clustering literature (DEC, IDEC, N2D), so numbers can be set beside published ones.
    """
    true = np.asarray(y_true).ravel()
    pred = np.asarray(y_pred).ravel()
    if true.shape != pred.shape:
        raise ValueError(f"y_true and y_pred differ in length: {true.size} vs {pred.size}")
    if true.size == 0:
        raise ValueError("cluster_accuracy needs at least one row")
    classes, t = np.unique(true, return_inverse=True)
    clusters, p = np.unique(pred, return_inverse=True)
    counts = np.zeros((clusters.size, classes.size), dtype=np.int64)
    np.add.at(counts, (p, t), 1)
    rows, cols = linear_sum_assignment(counts, maximize=True)
    return float(counts[rows, cols].sum() / true.size)


def _top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Column indices of each row's ``k`` highest scores, best first."""
    k = min(k, scores.shape[1])
    part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    order = np.argsort(-np.take_along_axis(scores, part, axis=1), axis=1, kind="stable")
    return np.take_along_axis(part, order, axis=1)


def _held_out_hits(scores: np.ndarray, held_out: object, k: int) -> tuple[np.ndarray, np.ndarray]:
    import scipy.sparse as sp

    truth = sp.csr_matrix(held_out)
    if truth.shape != scores.shape:
        raise ValueError(f"scores {scores.shape} and held-out items {truth.shape} differ in shape")
    top = _top_k(np.asarray(scores, dtype=np.float64), k)
    hits = np.asarray(truth[np.arange(len(top))[:, None], top].todense()) > 0
    return hits, truth.getnnz(axis=1)


def ndcg_at_k(scores: np.ndarray, held_out: object, k: int = 100) -> np.ndarray:
    """Normalised discounted cumulative gain of each user's top ``k`` against their held-out items (binary
    relevance), as in Mult-VAE's evaluation (Liang et al., 2018); NaN for users with nothing held out.

    ``scores`` is ``(n_users, n_items)`` with items already seen set to ``-inf``; ``held_out`` the sparse
    ``(n_users, n_items)`` matrix of the items to find."""
    hits, n_true = _held_out_hits(scores, held_out, k)
    discount = 1.0 / np.log2(np.arange(2, hits.shape[1] + 2))
    dcg = (hits * discount).sum(axis=1)
    ideal = np.array([discount[: min(n, hits.shape[1])].sum() for n in n_true])
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n_true > 0, dcg / ideal, np.nan)


def recall_at_k(scores: np.ndarray, held_out: object, k: int = 20) -> np.ndarray:
    """Share of each user's held-out items in their top ``k``, over ``min(k, held-out count)`` -- the normalised
    recall of Liang et al. (2018), which is 1 when the top ``k`` is all hits; NaN for users with nothing held out."""
    hits, n_true = _held_out_hits(scores, held_out, k)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n_true > 0, hits.sum(axis=1) / np.minimum(k, n_true), np.nan)


def psnr(reference: object, estimate: object) -> np.ndarray:
    """PSNR in dB of each image of ``estimate`` against ``reference``, ``(n,)``: peak 255 for uint8 images, 1 for
    floats in [0, 1]. Both ``(n, ...)`` of one shape."""
    ref, est = np.asarray(reference), np.asarray(estimate)
    if ref.shape != est.shape:
        raise ValueError(f"reference and estimate differ in shape: {ref.shape} vs {est.shape}")
    peak = 255.0 if ref.dtype == np.uint8 else 1.0
    diff = ref.astype(np.float64) - est.astype(np.float64)
    mse = (diff**2).reshape(len(diff), -1).mean(axis=1)
    return 10 * np.log10(peak**2 / np.maximum(mse, 1e-10))
