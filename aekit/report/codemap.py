"""The code map: codes in 2-D, coloured by label (discrete classes or a continuous value)."""

from __future__ import annotations

import logging
import math

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from .figures import (
    _MAX_DISCRETE_CLASSES,
    _MISSING_COLOUR,
    _check_positive_int,
    _class_name,
    _empty_panel_text,
    _figure_to_png,
    _new_figure,
)
from .projection import _as_codes, _project

logger = logging.getLogger(__name__)


def _draw_order(n: int, max_points: int, seed: int) -> np.ndarray:
    """Seeded random subset (at most ``max_points``) in random order.

    Random order also stops the last-drawn class from hiding the others.
    """
    rng = np.random.default_rng(seed)
    if n <= max_points:
        return rng.permutation(n)
    return rng.choice(n, size=max_points, replace=False)


def _as_label_array(labels: object, n: int) -> np.ndarray:
    """Validate labels as one value per code row."""
    array = np.asarray(labels)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1 or array.shape[0] != n:
        raise ValueError(f"labels must have shape ({n},) to match codes, got {array.shape}")
    if array.dtype.kind == "O":
        # Object arrays of numbers behave as numbers; anything else as strings.
        try:
            array = array.astype(float)
        except (TypeError, ValueError):
            array = array.astype(str)
    return array


def _label_kind(labels: np.ndarray) -> str:
    """Decide between a legend of classes (``"discrete"``) and a colorbar (``"continuous"``).

    Strings are always classes. Numbers are classes only when they are whole
    and there are at most 20 distinct values; beyond that a legend is
    unreadable and a colour scale says more.
    """
    if labels.dtype.kind not in "biuf":
        return "discrete"
    values = labels.astype(float)
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return "discrete"
    whole = bool(np.all(finite == np.round(finite)))
    return "discrete" if whole and np.unique(finite).size <= _MAX_DISCRETE_CLASSES else "continuous"



def _discrete_colours(labels: np.ndarray) -> tuple[np.ndarray, list[tuple[str, tuple[float, ...]]]]:
    """Per-point RGBA colours and legend entries for class labels.

    At most 20 classes get their own colour (tab10/tab20); rarer classes are
    pooled as grey "other" and missing numeric labels as grey "missing".
    """
    if labels.dtype.kind == "f":
        present = np.isfinite(labels)
    else:
        present = np.ones(labels.shape[0], dtype=bool)
    classes, counts = np.unique(labels[present], return_counts=True)
    if classes.size > _MAX_DISCRETE_CLASSES:
        keep = np.sort(np.argsort(-counts, kind="stable")[: _MAX_DISCRETE_CLASSES - 1])
        kept, pooled = classes[keep], classes.size - keep.size
    else:
        kept, pooled = classes, 0
    from matplotlib import colormaps

    palette = colormaps["tab10" if kept.size <= 10 else "tab20"]
    colours = np.tile(np.asarray(_MISSING_COLOUR), (labels.shape[0], 1))
    entries: list[tuple[str, tuple[float, ...]]] = []
    for index, value in enumerate(kept):
        colour = palette(index % palette.N)
        colours[present & (labels == value)] = colour
        entries.append((_class_name(value), colour))
    if pooled:
        entries.append((f"other ({pooled} classes)", _MISSING_COLOUR))
    if not present.all():
        entries.append(("missing", _MISSING_COLOUR))
    return colours, entries


def _marker_size(n: int) -> float:
    """Smaller markers for more points so dense maps stay readable."""
    return float(np.clip(20.0 * math.sqrt(500.0 / max(n, 1)), 3.0, 20.0))


def _scatter_discrete(ax: Axes, xy: np.ndarray, labels: np.ndarray, size: float, title: str = "label") -> None:
    """Scatter coloured by class with a legend outside the axes."""
    colours, entries = _discrete_colours(labels)
    ax.scatter(xy[:, 0], xy[:, 1], c=colours, s=size, alpha=0.6, linewidths=0)
    handles = [
        Line2D([], [], marker="o", linestyle="", markersize=6, markerfacecolor=colour, markeredgewidth=0, label=name)
        for name, colour in entries
    ]
    ax.legend(
        handles=handles,
        title=title,
        fontsize=8,
        title_fontsize=8,
        frameon=False,
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
    )


def _scatter_continuous(fig: Figure, ax: Axes, xy: np.ndarray, labels: np.ndarray, size: float) -> None:
    """Scatter coloured by a numeric label with a colorbar; NaN labels in grey."""
    values = labels.astype(float)
    present = np.isfinite(values)
    if (~present).any():
        ax.scatter(xy[~present, 0], xy[~present, 1], color=_MISSING_COLOUR, s=size, alpha=0.6, linewidths=0)
    mappable = ax.scatter(
        xy[present, 0], xy[present, 1], c=values[present], cmap="viridis", s=size, alpha=0.7, linewidths=0
    )
    colorbar = fig.colorbar(mappable, ax=ax)
    colorbar.set_label("label", fontsize=8)
    colorbar.ax.tick_params(labelsize=8)


def code_map_png(
    codes: np.ndarray,
    labels: np.ndarray | None = None,
    title: str = "",
    *,
    max_points: int = 5000,
    seed: int = 0,
    projection: str = "pca",
    legend_title: str = "label",
) -> bytes:
    """Scatter plot of the latent codes in 2-D, optionally coloured by label.

    Seeing whether known classes separate in the latent space is the quickest
    sanity check of what an autoencoder has learned.

    Parameters
    ----------
    codes : numpy.ndarray
        Shape ``(n, k)`` (or ``(n,)``). Projected by :func:`code_map_2d`; the
        axis labels say which projection was used. Rows with NaN/inf are left
        out and counted in the title.
    labels : numpy.ndarray, optional
        One label per row. Up to 20 whole-number or any string classes get a
        legend (string classes beyond 19 are pooled as "other"); other numeric
        labels get a colour scale.
    title : str, optional
        Plot title; defaults to "Latent code map".
    max_points : int, default 5000
        A seeded random subset of at most this many points is drawn, which
        keeps the PNG fast to render and the cloud readable.
    seed : int, default 0
        Seed for subsampling and jitter, so the same data gives the same image.
    projection : {"pca", "umap"}, default "pca"
        Projection of ``k > 2`` codes (see :func:`code_map_2d`).
    legend_title : str, default "label"
        Heading of the class legend (e.g. "cluster").

    Returns
    -------
    bytes
        PNG image.

    Raises
    ------
    ValueError
        If ``codes`` is not a non-empty numeric (n, k) array, ``labels`` has
        the wrong length, or ``max_points < 1``.
    """
    _check_positive_int(max_points, "max_points")
    array = _as_codes(codes)
    label_array = None if labels is None else _as_label_array(labels, array.shape[0])
    finite_rows = np.isfinite(array).all(axis=1)
    dropped = int((~finite_rows).sum())
    if dropped:
        logger.warning("code map: leaving out %d rows with NaN/inf codes", dropped)
    candidates = np.flatnonzero(finite_rows)
    order = candidates[_draw_order(candidates.size, int(max_points), seed)]

    fig = _new_figure(6.4, 5.0)
    ax = fig.add_subplot()
    heading = str(title) if title else "Latent code map"
    notes = []
    if order.size < candidates.size:
        notes.append(f"{order.size} of {candidates.size} points shown")
    if dropped:
        notes.append(f"{dropped} non-finite rows omitted")
    ax.set_title(heading + (f"\n({'; '.join(notes)})" if notes else ""), fontsize=10)
    ax.tick_params(labelsize=8)
    if order.size == 0:
        _empty_panel_text(ax, "no finite codes")
        return _figure_to_png(fig)

    view = _project(array[order], seed, projection)
    ax.set_xlabel(view.xlabel, fontsize=9)
    ax.set_ylabel(view.ylabel, fontsize=9)
    size = _marker_size(order.size)
    if label_array is None:
        ax.scatter(view.xy[:, 0], view.xy[:, 1], color="C0", s=size, alpha=0.5, linewidths=0)
    elif _label_kind(label_array[order]) == "discrete":
        _scatter_discrete(ax, view.xy, label_array[order], size, legend_title)
    else:
        _scatter_continuous(fig, ax, view.xy, label_array[order], size)
    return _figure_to_png(fig)
