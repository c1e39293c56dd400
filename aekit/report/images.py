"""Image mosaics: inputs beside their reconstructions, and the members of each cluster."""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping

import numpy as np
from matplotlib.figure import Figure

from .figures import (
    _DPI,
    _GRID_BACKGROUND,
    _check_positive_int,
    _class_name,
    _figure_to_png,
    _new_figure,
)

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


def _mosaic(rows: list[np.ndarray], cols: int, gap: int, block_gap: int) -> tuple[np.ndarray, list[float]]:
    """Tile same-shaped image batches into blocks of ``len(rows)`` rows (e.g. inputs over reconstructions).

    The result is always RGB so the tile background can be a tint that stands
    out against both dark and light images. Returns the mosaic and the
    vertical centre of every image row, used to place the row labels.
    """
    if rows[0].shape[3] == 1:
        rows = [np.repeat(r, 3, axis=3) for r in rows]
    count, height, width, channels = rows[0].shape
    blocks = math.ceil(count / cols)
    block_height = len(rows) * (height + gap) - gap
    total_h = blocks * block_height + (blocks - 1) * block_gap
    total_w = cols * width + (cols - 1) * gap
    canvas = np.empty((total_h, total_w, channels), dtype=np.float32)
    canvas[:] = _GRID_BACKGROUND
    centres: list[float] = []
    for block in range(blocks):
        top = block * (block_height + block_gap)
        centres += [top + r * (height + gap) + height / 2 - 0.5 for r in range(len(rows))]
        for col in range(cols):
            index = block * cols + col
            if index >= count:
                break
            left = col * (width + gap)
            for r, images in enumerate(rows):
                y = top + r * (height + gap)
                canvas[y : y + height, left : left + width] = images[index]
    return canvas, centres


def _labelled_mosaic_figure(canvas: np.ndarray, row_centres: list[float], row_names: list[str], title: str,
                            max_width: int, fontsize: int) -> Figure:
    """Show an image mosaic with a name beside each image row; small images are scaled up by whole numbers so
    pixels stay crisp, wide mosaics are shrunk to ``max_width`` pixels."""
    width = canvas.shape[1]
    # Up to 12x, so 8x8 digits are drawn 96 px wide rather than as specks.
    scale = float(np.clip(math.floor(max_width / width), 1, 12)) if width <= max_width else max_width / width
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
    if np.shape(inputs) != np.shape(reconstructions):
        raise ValueError(
            "inputs and reconstructions must have the same shape, "
            f"got {np.shape(inputs)} and {np.shape(reconstructions)}"
        )
    count = min(int(n), len(inputs))
    return image_rows_png([("input", np.asarray(inputs)[:count]), ("recon.", np.asarray(reconstructions)[:count])],
                          f"{count} images: each input above its reconstruction")


def image_rows_png(rows: list[tuple[str, np.ndarray]], title: str, cols: int = 8) -> bytes:
    """Named rows of same-shaped images, column by column (e.g. clean / noisy / denoised, or an interpolation),
    ``cols`` per block; each row batch ``(n, c, h, w)`` or ``(n, h, w)`` in [0, 1]."""
    batches = [_as_image_batch(images, name) for name, images in rows]
    if len({b.shape for b in batches}) != 1:
        raise ValueError(f"image rows must share one shape, got {[np.shape(i) for _, i in rows]}")
    count = batches[0].shape[0]
    height, width = batches[0].shape[1:3]
    gap = max(1, min(height, width) // 14)
    mosaic, centres = _mosaic(batches, min(count, cols), gap=gap, block_gap=4 * gap)
    # Integer upscaling keeps small images (e.g. 28x28) crisp; big ones shrink.
    names = [name for name, _ in rows] * (len(centres) // len(rows))
    fig = _labelled_mosaic_figure(mosaic, centres, names, title, max_width=900, fontsize=9)
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


def tile_images(images: np.ndarray, cols: int = 8, gap: int = 1) -> np.ndarray:
    """Images ``(n, c, h, w)`` or ``(n, h, w)`` in [0, 1] as one uint8 picture ``(H, W)`` or ``(H, W, 3)``,
    ``cols`` to a row at their own resolution with ``gap`` white pixels between them: a plain grid to save as PNG."""
    batch = _as_image_batch(images, "images")
    n, h, w, c = batch.shape
    cols = max(1, min(int(cols), n))
    rows = math.ceil(n / cols)
    canvas = np.ones((rows * (h + gap) - gap, cols * (w + gap) - gap, c), dtype=np.float32)
    for i in range(n):
        top, left = (i // cols) * (h + gap), (i % cols) * (w + gap)
        canvas[top : top + h, left : left + w] = batch[i]
    pixels = np.rint(canvas * 255).astype(np.uint8)
    return pixels[:, :, 0] if c == 1 else pixels
