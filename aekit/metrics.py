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
