"""Loss curves: one panel per loss term, training and validation, from a run's history rows."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.ticker import MaxNLocator

from .figures import (
    _SPLITS,
    _as_float,
    _empty_panel_text,
    _figure_to_png,
    _new_figure,
)


def _history_terms(history: Sequence[Mapping[str, object]]) -> list[str]:
    """Loss terms found as ``train_<term>`` / ``val_<term>`` keys, ``total`` first."""
    terms: list[str] = []
    split_names = {name for name, _, _ in _SPLITS}
    for row in history:
        for key in row:
            split, sep, term = str(key).partition("_")
            if sep and term and split in split_names and term not in terms:
                terms.append(term)
    if "total" in terms:
        terms.remove("total")
        terms.insert(0, "total")
    return terms


def _same_as_total(history: Sequence[Mapping[str, object]], term: str) -> bool:
    """A term that equals ``total`` in every row and split (a model with one loss term) needs no panel of its own."""
    if term == "total":
        return False
    return all(_as_float(row.get(f"{split}_{term}")) == _as_float(row.get(f"{split}_total"))
               for row in history for split, _, _ in _SPLITS
               if f"{split}_{term}" in row or f"{split}_total" in row)


def _history_column(history: Sequence[Mapping[str, object]], key: str) -> np.ndarray:
    """One history column as floats, with missing and infinite values as NaN (plot gaps)."""
    column = np.array([_as_float(row.get(key)) for row in history], dtype=float)
    column[~np.isfinite(column)] = np.nan
    return column


def _epoch_axis(history: Sequence[Mapping[str, object]]) -> np.ndarray:
    """Use the recorded ``epoch`` numbers when complete, else count from 1."""
    epochs = _history_column(history, "epoch")
    if epochs.size and np.isfinite(epochs).all():
        return epochs
    return np.arange(1, len(history) + 1, dtype=float)


def _use_log_scale(*series: np.ndarray) -> bool:
    """Whether a panel should use a log y-axis.

    Losses typically fall over orders of magnitude, so log scale shows late
    progress; it is only valid when every finite value is strictly positive.
    """
    values = np.concatenate([np.asarray(s, dtype=float).ravel() for s in series]) if series else np.empty(0)
    finite = values[np.isfinite(values)]
    return bool(finite.size) and bool((finite > 0).all())


def _validate_history(history: object) -> list[Mapping[str, object]]:
    """Check the history is a non-empty list of dict rows."""
    if isinstance(history, (str, bytes)) or not isinstance(history, Sequence):
        raise ValueError("history must be a list of per-epoch dicts")
    rows = list(history)
    if not rows:
        raise ValueError("history is empty: nothing to plot")
    for index, row in enumerate(rows):
        if not isinstance(row, Mapping):
            raise ValueError(f"history[{index}] is {type(row).__name__}, expected a dict")
    return rows


def _plot_loss_panel(ax: Axes, epochs: np.ndarray, history: Sequence[Mapping[str, object]], term: str) -> None:
    """Draw train and val curves of one loss term on ``ax``."""
    columns = {split: _history_column(history, f"{split}_{term}") for split, _, _ in _SPLITS}
    marker = "o" if len(epochs) <= 30 else None
    drawn = False
    for split, style, colour in _SPLITS:
        values = columns[split]
        if not np.isfinite(values).any():
            continue
        ax.plot(epochs, values, linestyle=style, color=colour, marker=marker, markersize=3, linewidth=1.4, label=split)
        drawn = True
    ax.set_title(term, fontsize=10)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.tick_params(which="both", labelsize=8)
    ax.grid(True, alpha=0.3, linewidth=0.5)
    if not drawn:
        _empty_panel_text(ax, "no finite values")
        return
    if _use_log_scale(*columns.values()):
        ax.set_yscale("log")
    ax.legend(fontsize=7, frameon=False)


def loss_curves_png(history: list[dict[str, float]]) -> bytes:
    """Plot per-epoch train/validation losses, one small panel per loss term.

    Separate panels matter because terms such as reconstruction and KL live on
    very different scales; overlaying them would flatten the smaller one.

    Parameters
    ----------
    history : list of dict
        One dict per epoch, e.g. ``{"epoch": 1, "train_total": 0.5,
        "val_total": 0.6, "train_kl": 0.1}``. Keys ``train_<term>`` and
        ``val_<term>`` define the panels (``total`` first); other keys such as
        ``lr`` or ``seconds`` are ignored. Missing, NaN and infinite values
        leave gaps instead of failing.

    Returns
    -------
    bytes
        PNG image. A panel uses a log y-axis when all its finite values are
        positive.

    Raises
    ------
    ValueError
        If ``history`` is empty, not a list of dicts, or has no
        ``train_*``/``val_*`` keys.
    """
    rows = _validate_history(history)
    terms = [t for t in _history_terms(rows) if not _same_as_total(rows, t)]
    if not terms:
        raise ValueError("history has no 'train_<term>' or 'val_<term>' keys to plot")
    epochs = _epoch_axis(rows)
    ncols = min(3, len(terms))
    nrows = math.ceil(len(terms) / ncols)
    fig = _new_figure(3.6 * ncols, 2.7 * nrows)
    axes = fig.subplots(nrows, ncols, squeeze=False, sharex=True)
    for index, ax in enumerate(axes.ravel()):
        if index >= len(terms):
            ax.set_visible(False)
            continue
        _plot_loss_panel(ax, epochs, rows, terms[index])
        if index // ncols == nrows - 1 or index + ncols >= len(terms):
            ax.set_xlabel("epoch", fontsize=8)
    return _figure_to_png(fig)
