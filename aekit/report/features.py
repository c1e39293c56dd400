"""Per-feature reconstruction errors of a table, largest first."""

from __future__ import annotations

import numpy as np

from .figures import (
    _MAX_NAME_CHARS,
    _check_positive_int,
    _empty_panel_text,
    _figure_to_png,
    _new_figure,
)

# --------------------------------------------------------------------------
# Per-feature error
# --------------------------------------------------------------------------


def _shorten(name: str, limit: int = _MAX_NAME_CHARS) -> str:
    """Truncate long feature names so the bar chart keeps a usable width."""
    return name if len(name) <= limit else name[: limit - 1] + "\u2026"


def feature_error_png(feature_names: list[str], errors: np.ndarray, top: int = 30) -> bytes:
    """Horizontal bar chart of the features the model reconstructs worst.

    Ranking features by mean reconstruction error shows which columns the
    model has not learned (or which are noise), which is where to look first.

    Parameters
    ----------
    feature_names : list of str
        One name per feature.
    errors : numpy.ndarray
        Shape ``(n_features,)``, the mean reconstruction error per feature.
        Non-finite entries are left out and counted in the title.
    top : int, default 30
        Show at most this many features, largest error first.

    Returns
    -------
    bytes
        PNG image.

    Raises
    ------
    ValueError
        If lengths differ, ``errors`` is not 1-D numeric, or ``top < 1``.
    """
    _check_positive_int(top, "top")
    names = [str(name) for name in feature_names]
    values = np.asarray(errors)
    if values.dtype.kind not in "biuf" or values.ndim != 1:
        raise ValueError(f"errors must be a 1-D numeric array, got dtype {values.dtype} and shape {values.shape}")
    if len(names) != values.shape[0]:
        raise ValueError(f"got {len(names)} feature names but {values.shape[0]} errors")
    values = values.astype(float)
    finite = np.flatnonzero(np.isfinite(values))
    order = finite[np.argsort(-values[finite], kind="stable")][: int(top)]
    shown = len(order)
    fig = _new_figure(6.5, 1.0 + 0.24 * max(shown, 3))
    ax = fig.add_subplot()
    title = f"Mean reconstruction error per feature (top {shown} of {len(names)})"
    if len(finite) < len(names):
        title += f"; {len(names) - len(finite)} non-finite omitted"
    ax.set_title(title, fontsize=10)
    if shown == 0:
        _empty_panel_text(ax, "no finite errors")
        ax.set_xticks([])
        ax.set_yticks([])
        return _figure_to_png(fig)
    positions = np.arange(shown)
    ax.barh(positions, values[order], color="C0", height=0.7)
    ax.set_yticks(positions, [_shorten(names[i]) for i in order], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("mean reconstruction error", fontsize=9)
    ax.tick_params(axis="x", labelsize=8)
    ax.grid(True, axis="x", alpha=0.3, linewidth=0.5)
    ax.set_axisbelow(True)
    return _figure_to_png(fig)
