"""Figure plumbing shared by every report figure: Agg-bound figures, PNG bytes, and the shared style.

Every public function returns the PNG as ``bytes`` so that callers can inline
it into an HTML report, write it next to a checkpoint, or send it anywhere
else without touching the file system here.

Figures are built with :class:`matplotlib.figure.Figure` and rendered through
:class:`matplotlib.backends.backend_agg.FigureCanvasAgg` directly, never via
``pyplot``: that keeps these functions free of global state (no backend
switch, no figure registry that leaks memory in long training loops, no rcParams
changes) and makes them safe to call from a headless server or a worker thread.

Bad *shapes* raise :class:`ValueError`; bad *values* (NaN/inf from a diverged
run) are tolerated and shown as such, because a report is most useful exactly
when training went wrong.
"""

from __future__ import annotations

import io
import logging
import math
import numbers
import os
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure

logger = logging.getLogger(__name__)

#: The eight bytes every PNG file starts with.
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

_DPI = 100
_SPLITS = (("train", "-", "C0"), ("val", "--", "C1"))
_MISSING_COLOUR = to_rgba("#b0b0b0")
# Pale blue-grey between grid tiles: distinct from both black and white pixels.
_GRID_BACKGROUND = (0.80, 0.85, 0.93)
_MAX_DISCRETE_CLASSES = 20
_MAX_NAME_CHARS = 40
PROJECTIONS = ("pca", "umap")


# --------------------------------------------------------------------------
# Figure plumbing
# --------------------------------------------------------------------------


def _new_figure(width: float, height: float, *, constrained: bool = True) -> Figure:
    """Create a figure bound to an Agg canvas, bypassing pyplot entirely.

    Binding the canvas explicitly means rendering never depends on (or
    changes) the user's configured interactive backend.
    """
    fig = Figure(figsize=(width, height), dpi=_DPI, layout="constrained" if constrained else None)
    FigureCanvasAgg(fig)
    return fig


def _check_positive_int(value: object, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")


def _figure_to_png(fig: Figure) -> bytes:
    """Render ``fig`` to PNG bytes.

    Constrained-layout figures already make room for legends and tick labels
    outside the axes; others are saved with ``bbox_inches="tight"``, which
    grows the saved area to include them (at the cost of a second draw). The
    ``Software`` metadata is dropped so the same input yields byte-identical
    output across matplotlib patch versions.
    """
    buffer = io.BytesIO()
    tight = {} if fig.get_layout_engine() is not None else {"bbox_inches": "tight", "pad_inches": 0.1}
    fig.savefig(buffer, format="png", dpi=_DPI, facecolor="white", metadata={"Software": None}, **tight)
    return buffer.getvalue()


def save_png(png: bytes, path: str | os.PathLike[str]) -> Path:
    """Write PNG bytes produced by this module to ``path``.

    Parameters
    ----------
    png : bytes
        PNG data, e.g. the return value of :func:`loss_curves_png`.
    path : str or os.PathLike
        Destination file. Missing parent directories are created so that a
        fresh run directory needs no extra setup.

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    ValueError
        If ``png`` is not PNG data; catching this early beats discovering an
        unreadable ``.png`` file later.
    """
    if not isinstance(png, (bytes, bytearray)) or not bytes(png[:8]) == PNG_SIGNATURE:
        raise ValueError("save_png expects PNG bytes (missing PNG signature)")
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(bytes(png))
    logger.debug("wrote %d-byte PNG to %s", len(png), target)
    return target


def _empty_panel_text(ax: Axes, message: str) -> None:
    """Put a centred note on an axis that has nothing to plot."""
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes, fontsize=9, color="0.4")



def _as_float(value: object) -> float:
    """Coerce one history cell to float; anything non-numeric becomes NaN.

    History rows are free-form dicts, so a missing or odd entry must not stop
    the whole plot.
    """
    if isinstance(value, numbers.Real):
        return float(value)
    return math.nan


def _class_name(value: object) -> str:
    """Legend text for a class; whole floats print as integers ("3", not "3.0")."""
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)
