"""Anomaly score histogram with the decision threshold."""

from __future__ import annotations

import numpy as np

from .figures import (
    _figure_to_png,
    _new_figure,
)


def score_histogram_png(scores: np.ndarray, threshold: float, title: str = "") -> bytes:
    """Histogram of anomaly scores with the decision threshold drawn in, on a log count axis so the few
    high-scoring rows stay visible next to the bulk."""
    scores = np.asarray(scores, dtype=np.float64).ravel()
    scores = scores[np.isfinite(scores)]
    if scores.size == 0:
        raise ValueError("score_histogram_png needs at least one finite score")
    fig = _new_figure(6.5, 3.2)
    ax = fig.add_subplot(1, 1, 1)
    flagged = int((scores > threshold).sum())
    ax.hist(scores, bins=min(100, max(10, scores.size // 20)), color="#4c72b0", alpha=0.85, log=True)
    ax.axvline(threshold, color="#c44e52", linewidth=1.5, label=f"threshold {threshold:.4g} ({flagged} above)")
    ax.set_xlabel("anomaly score (higher = more anomalous)")
    ax.set_ylabel("rows (log scale)")
    ax.legend(loc="upper right", fontsize="small")
    if title:
        ax.set_title(title)
    return _figure_to_png(fig)
