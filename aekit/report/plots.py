"""Static PNG plots for training reports.

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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

__all__ = [
    "PNG_SIGNATURE",
    "cluster_examples_png",
    "code_map_2d",
    "code_map_png",
    "feature_error_png",
    "loss_curves_png",
    "reconstruction_grid_png",
    "save_png",
]

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


# --------------------------------------------------------------------------
# Loss curves
# --------------------------------------------------------------------------


def _as_float(value: object) -> float:
    """Coerce one history cell to float; anything non-numeric becomes NaN.

    History rows are free-form dicts, so a missing or odd entry must not stop
    the whole plot.
    """
    if isinstance(value, numbers.Real):
        return float(value)
    return math.nan


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
    terms = _history_terms(rows)
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


# --------------------------------------------------------------------------
# Reconstruction grid
# --------------------------------------------------------------------------


def _as_image_batch(images: object, name: str) -> np.ndarray:
    """Convert ``(n, c, h, w)`` or ``(n, h, w)`` images to ``(n, h, w, c)`` floats in [0, 1].

    Values are clipped (and NaN shown as black) because decoders without a
    final sigmoid overshoot slightly and the picture should still render.
    """
    array = np.asarray(images)
    if array.dtype.kind not in "biuf":
        raise ValueError(f"{name} must be numeric, got dtype {array.dtype}")
    if array.ndim == 3:
        array = array[:, np.newaxis, :, :]
    elif array.ndim != 4:
        raise ValueError(f"{name} must have shape (n, c, h, w) or (n, h, w), got {array.shape}")
    channels = array.shape[1]
    if channels not in (1, 3):
        hint = " (looks channels-last; transpose to (n, c, h, w))" if array.shape[-1] in (1, 3) else ""
        raise ValueError(f"{name} must have 1 or 3 channels in axis 1, got shape {array.shape}{hint}")
    if array.shape[0] == 0 or array.shape[2] == 0 or array.shape[3] == 0:
        raise ValueError(f"{name} is empty: shape {array.shape}")
    array = np.nan_to_num(array.astype(np.float32), nan=0.0, posinf=1.0, neginf=0.0)
    return np.clip(array, 0.0, 1.0).transpose(0, 2, 3, 1)


def _mosaic(
    inputs: np.ndarray, recons: np.ndarray, cols: int, gap: int, block_gap: int
) -> tuple[np.ndarray, list[float]]:
    """Tile images into blocks of two rows (inputs over reconstructions).

    The result is always RGB so the tile background can be a tint that stands
    out against both dark and light images. Returns the mosaic and the
    vertical centre of every image row, used to place the row labels.
    """
    if inputs.shape[3] == 1:
        inputs, recons = np.repeat(inputs, 3, axis=3), np.repeat(recons, 3, axis=3)
    count, height, width, channels = inputs.shape
    blocks = math.ceil(count / cols)
    block_height = 2 * height + gap
    total_h = blocks * block_height + (blocks - 1) * block_gap
    total_w = cols * width + (cols - 1) * gap
    canvas = np.empty((total_h, total_w, channels), dtype=np.float32)
    canvas[:] = _GRID_BACKGROUND
    centres: list[float] = []
    for block in range(blocks):
        top = block * (block_height + block_gap)
        centres += [top + height / 2 - 0.5, top + height + gap + height / 2 - 0.5]
        for col in range(cols):
            index = block * cols + col
            if index >= count:
                break
            left = col * (width + gap)
            canvas[top : top + height, left : left + width] = inputs[index]
            canvas[top + height + gap : top + block_height, left : left + width] = recons[index]
    return canvas, centres


def _labelled_mosaic_figure(canvas: np.ndarray, row_centres: list[float], row_names: list[str], title: str,
                            max_width: int, fontsize: int) -> Figure:
    """Show an image mosaic with a name beside each image row; small images are scaled up by whole numbers so
    pixels stay crisp, wide mosaics are shrunk to ``max_width`` pixels."""
    width = canvas.shape[1]
    scale = float(np.clip(math.floor(max_width / width), 1, 4)) if width <= max_width else max_width / width
    fig = _new_figure(width * scale / _DPI, canvas.shape[0] * scale / _DPI, constrained=False)
    ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
    ax.imshow(canvas, interpolation="nearest" if scale >= 1 else "antialiased")
    ax.set_xticks([])
    ax.set_yticks(row_centres, row_names, fontsize=fontsize)
    ax.tick_params(axis="y", length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.set_title(title, fontsize=10)
    return fig


def reconstruction_grid_png(inputs: np.ndarray, reconstructions: np.ndarray, n: int = 16) -> bytes:
    """Show the first ``n`` images above their reconstructions.

    Putting each reconstruction directly under its input makes blur, missing
    detail and colour shifts visible at a glance, which a scalar loss hides.

    Parameters
    ----------
    inputs, reconstructions : numpy.ndarray
        Same shape, ``(N, c, h, w)`` with ``c`` 1 (grey) or 3 (RGB), or
        ``(N, h, w)`` for grey. Values are expected in roughly [0, 1] and are
        clipped.
    n : int, default 16
        Maximum number of pairs to show (the first ``n``).

    Returns
    -------
    bytes
        PNG image with up to 8 pairs per block, each block labelled
        "input" / "recon.".

    Raises
    ------
    ValueError
        If shapes differ, are not image batches, or ``n < 1``.
    """
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    originals = _as_image_batch(inputs, "inputs")
    recons = _as_image_batch(reconstructions, "reconstructions")
    if originals.shape != recons.shape:
        raise ValueError(
            "inputs and reconstructions must have the same shape, "
            f"got {np.shape(inputs)} and {np.shape(reconstructions)}"
        )
    count = min(int(n), originals.shape[0])
    cols = min(count, 8)
    height, width = originals.shape[1:3]
    gap = max(1, min(height, width) // 14)
    mosaic, centres = _mosaic(originals[:count], recons[:count], cols, gap=gap, block_gap=4 * gap)
    # Integer upscaling keeps small images (e.g. 28x28) crisp; big ones shrink.
    fig = _labelled_mosaic_figure(mosaic, centres, ["input", "recon."] * (len(centres) // 2),
                                  f"First {count} of {originals.shape[0]} images: inputs above reconstructions",
                                  max_width=900, fontsize=9)
    return _figure_to_png(fig)


def cluster_examples_png(images: np.ndarray, clusters: np.ndarray, per_cluster: int = 10,
                         sizes: Mapping[object, int] | None = None) -> bytes:
    """One row of example images per cluster, labelled with the cluster id and its size.

    Looking at members is how one learns what a cluster *means* (and spots a cluster that mixes two kinds of
    image); a size or a score cannot say that.

    Parameters
    ----------
    images : numpy.ndarray
        ``(n, c, h, w)`` or ``(n, h, w)``, values in roughly [0, 1]. Put the most typical members of each cluster
        first: the first ``per_cluster`` of each cluster are shown.
    clusters : numpy.ndarray
        Cluster id of each image, shape ``(n,)``.
    per_cluster : int, default 10
        Images shown per cluster.
    sizes : mapping, optional
        Size of each whole cluster, shown beside its row; by default the number of images given for it.

    Returns
    -------
    bytes
        PNG image.
    """
    _check_positive_int(per_cluster, "per_cluster")
    batch = _as_image_batch(images, "images")
    ids = np.asarray(clusters).ravel()
    if ids.shape[0] != batch.shape[0]:
        raise ValueError(f"clusters must have one id per image: {ids.shape[0]} ids for {batch.shape[0]} images")
    if batch.shape[3] == 1:
        batch = np.repeat(batch, 3, axis=3)
    names, given = np.unique(ids, return_counts=True)
    cols = int(min(per_cluster, given.max()))
    counts = [int(sizes[n]) if sizes is not None else int(c) for n, c in zip(names, given)]
    height, width = batch.shape[1:3]
    gap = max(1, min(height, width) // 14)
    canvas = np.empty((names.size * (height + gap) - gap, cols * (width + gap) - gap, 3), dtype=np.float32)
    canvas[:] = _GRID_BACKGROUND
    for row, name in enumerate(names):
        members = np.flatnonzero(ids == name)[:cols]
        top = row * (height + gap)
        for col, index in enumerate(members):
            left = col * (width + gap)
            canvas[top : top + height, left : left + width] = batch[index]
    centres = [row * (height + gap) + height / 2 - 0.5 for row in range(names.size)]
    fig = _labelled_mosaic_figure(canvas, centres, [f"{_class_name(n)} ({c})" for n, c in zip(names, counts)],
                                  "Members of each cluster (cluster id and size on the left)", max_width=700,
                                  fontsize=8)
    return _figure_to_png(fig)


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


# --------------------------------------------------------------------------
# Latent code map
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Projection:
    """A 2-D view of codes plus the words that say how it was obtained."""

    xy: np.ndarray
    xlabel: str
    ylabel: str
    description: str


def _as_codes(codes: object) -> np.ndarray:
    """Validate codes as a float ``(n, k)`` array; 1-D input means ``k == 1``."""
    array = np.asarray(codes)
    if array.dtype.kind not in "biuf":
        raise ValueError(f"codes must be numeric, got dtype {array.dtype}")
    if array.ndim == 1:
        array = array[:, np.newaxis]
    if array.ndim != 2:
        raise ValueError(f"codes must have shape (n, k), got {array.shape}")
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise ValueError(f"codes are empty: shape {array.shape}")
    return array.astype(float)


def _pca_projection(codes: np.ndarray) -> _Projection:
    """Project k > 2 codes onto their two leading principal components.

    PCA is linear and deterministic, so the map is reproducible and its axes
    carry an explained-variance figure; a nonlinear embedding would look nicer
    but can invent structure.
    """
    from sklearn.decomposition import PCA  # deferred: only needed for k > 2

    k = codes.shape[1]
    if codes.shape[0] < 2 or float(codes.var(axis=0).sum()) == 0.0:
        xy = codes[:, :2] - codes[:, :2].mean(axis=0)
        return _Projection(xy, "code[0]", "code[1]", f"first two of {k} code dimensions (too little variation for PCA)")
    pca = PCA(n_components=2, svd_solver="full")
    xy = pca.fit_transform(codes)
    r1, r2 = (float(r) for r in pca.explained_variance_ratio_)
    return _Projection(
        xy,
        f"PCA of code: PC1 ({r1:.0%} of variance)",
        f"PCA of code: PC2 ({r2:.0%} of variance)",
        f"PCA of code ({k}-D \u2192 2-D, {r1 + r2:.0%} of variance)",
    )


def _umap_projection(codes: np.ndarray, seed: int) -> _Projection:
    """Embed k > 2 codes with UMAP (umap-learn, optional): clusters that PCA overlaps come apart.

    Distances between far-apart groups mean little in a UMAP map; the caption says which projection was used.
    """
    try:
        from umap import UMAP
    except ImportError as exc:  # pragma: no cover - exercised only where umap-learn is absent
        raise ValueError("projection='umap' needs umap-learn: pip install 'aekit[cluster]'") from exc
    k = codes.shape[1]
    if codes.shape[0] < 4:
        return _pca_projection(codes)
    xy = UMAP(n_components=2, n_neighbors=min(15, codes.shape[0] - 1), random_state=seed, n_jobs=1).fit_transform(codes)
    return _Projection(np.asarray(xy, dtype=float), "UMAP 1", "UMAP 2", f"UMAP of code ({k}-D \u2192 2-D)")


def _project(codes: np.ndarray, seed: int, method: str = "pca") -> _Projection:
    """Turn ``(n, k)`` codes into 2-D points, choosing the method by ``k`` (and ``method`` for k > 2)."""
    if method not in PROJECTIONS:
        raise ValueError(f"projection must be one of {PROJECTIONS}, got {method!r}")
    k = codes.shape[1]
    if k == 2:
        return _Projection(codes.copy(), "code[0]", "code[1]", "code (2-D, shown as is)")
    if k == 1:
        # Jitter spreads overlapping points vertically; the y-axis means nothing.
        jitter = np.random.default_rng(seed).uniform(-0.5, 0.5, size=codes.shape[0])
        xy = np.column_stack([codes[:, 0], jitter])
        return _Projection(xy, "code[0]", "random jitter (no meaning)", "1-D code with random vertical jitter")
    return _umap_projection(codes, seed) if method == "umap" else _pca_projection(codes)


def code_map_2d(codes: np.ndarray, *, seed: int = 0, projection: str = "pca") -> tuple[np.ndarray, str]:
    """Map latent codes to 2-D points for plotting.

    Parameters
    ----------
    codes : numpy.ndarray
        Shape ``(n, k)`` (or ``(n,)`` for ``k == 1``), finite values.
    seed : int, default 0
        Seed of the vertical jitter used when ``k == 1`` (and of UMAP).
    projection : {"pca", "umap"}, default "pca"
        How ``k > 2`` codes are brought to 2-D: PCA is linear and exact; UMAP (needs umap-learn) keeps
        neighbourhoods and separates clusters better.

    Returns
    -------
    xy : numpy.ndarray
        Shape ``(n, 2)``. ``k == 2``: the codes themselves; ``k == 1``: the
        code against random jitter; ``k > 2``: the first two principal
        components, or a UMAP embedding.
    description : str
        How ``xy`` was obtained, e.g. ``"PCA of code (10-D → 2-D, 71% of
        variance)"``, so that a reader never mistakes a projection for the
        raw code.

    Raises
    ------
    ValueError
        If ``codes`` is not a non-empty numeric 1-D/2-D array or contains
        NaN/inf.
    """
    array = _as_codes(codes)
    if not np.isfinite(array).all():
        raise ValueError("codes contain NaN or inf; drop those rows first")
    result = _project(array, seed, projection)
    return result.xy, result.description


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


def _class_name(value: object) -> str:
    """Legend text for a class; whole floats print as integers ("3", not "3.0")."""
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)


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
