"""Load a folder of images into one float32 array, with class labels from sub-folder names.

Convolutional autoencoders need every image at one size and one channel count, so this loader decides
both up front (the most common size, grey only if every file is grey) and converts everything, instead
of failing on the first odd file. Labels follow the common ``root/<class>/<image>`` layout so anomaly
and denoising experiments can keep their classes without a separate label file.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

__all__ = ["GREY_MODES", "IMAGE_SUFFIXES", "find_images", "image_files", "image_mode", "load_image_folder", "read_image",
           "unit_pixels"]

#: Suffixes that are read (compared in lower case).
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp")

#: Pillow modes treated as grey.
GREY_MODES = {"1", "L", "LA", "La", "I", "I;16", "I;16B", "I;16L", "I;16N", "F"}
#: EXIF orientations that swap width and height.
_TRANSPOSED = {5, 6, 7, 8}
_READ_ERRORS = (OSError, UnidentifiedImageError, ValueError, Image.DecompressionBombError, SyntaxError)


def load_image_folder(
    path: str | os.PathLike,
    *,
    size: tuple[int, int] | None = None,
    grayscale: bool | None = None,
) -> tuple[np.ndarray, np.ndarray | None, list[str]]:
    """Read every PNG/JPEG/BMP under ``path`` (recursively) into a ``(n, c, h, w)`` float32 array.

    Parameters
    ----------
    path : str or os.PathLike
        Folder of images. If the images sit in sub-folders (``path/<class>/...``) the sub-folder directly
        under ``path`` is the class; if they sit directly in ``path`` there are no labels. Mixing both is
        an error, since the loose files would have no class. Hidden files and folders (names starting
        with ``.``) are skipped.
    size : tuple of int, optional
        ``(height, width)`` every image is resized to (bilinear). ``None`` uses the most common size
        among the files (ties go to the size met first in sorted order), so a clean dataset is not
        resampled at all.
    grayscale : bool, optional
        ``True`` converts to one channel (colour images by luma), ``False`` to three (grey images are
        repeated), ``None`` gives one channel if every file has a grey Pillow mode (1, L, LA, I, I;16,
        F), else three. Alpha is dropped; palette images are converted to RGB.

    Returns
    -------
    X : numpy.ndarray
        float32 ``(n, c, h, w)`` in ``[0, 1]``; 8-bit files are divided by 255, 16-bit ones by 65535.
    y : numpy.ndarray or None
        int64 ``(n,)`` indices into ``classes``, or ``None`` without sub-folders.
    classes : list of str
        Sorted class (sub-folder) names, ``[]`` without sub-folders.

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist.
    ValueError
        ``path`` is not a folder, holds no images, mixes loose and foldered images, a file cannot be
        decoded, or ``size`` is invalid.

    Notes
    -----
    Files are ordered by their path relative to ``path`` (so by class, then name), which makes ``X``
    identical across machines. EXIF orientation is applied, so phone photos come out upright.
    """
    root = Path(path)
    if not root.exists():
        raise FileNotFoundError(f"no image folder at {root}")
    if not root.is_dir():
        raise ValueError(f"{root} is not a folder; load_image_folder expects a folder of images")
    target = _check_size(size)
    if grayscale not in (None, True, False):
        raise TypeError(f"grayscale must be True, False or None, got {grayscale!r}")

    files = find_images(root)
    if not files:
        raise ValueError(
            f"no images found under {root} (looked recursively for {', '.join(IMAGE_SUFFIXES)}, any case)"
        )
    y, classes = _labels(root, files)

    modes, sizes = [], []
    for file in files:
        mode, hw = _probe(file)
        modes.append(mode)
        sizes.append(hw)
    if target is None:
        counts = Counter(sizes)
        target = max(counts, key=lambda s: (counts[s], -sizes.index(s)))
    grey = all(m in GREY_MODES for m in modes) if grayscale is None else bool(grayscale)

    channels = 1 if grey else 3
    X = np.empty((len(files), channels, target[0], target[1]), dtype=np.float32)
    for i, file in enumerate(files):
        X[i] = _read(file, grey, target)
    return X, y, classes


def read_image(file: str | os.PathLike, *, grayscale: bool) -> np.ndarray:
    """One image file as ``(c, h, w)`` float32 in [0, 1] at its own size (upright; one channel if ``grayscale``)."""
    file = Path(file)
    if not file.is_file():
        raise FileNotFoundError(f"no image file at {file}")
    _, size = _probe(file)
    return _read(file, grayscale, size)


def image_mode(file: str | os.PathLike) -> str:
    """The file's Pillow mode ("L", "RGB", "RGBA", ...), from its header; grey ones are in :data:`GREY_MODES`."""
    return _probe(Path(file))[0]


def uint8_pixels(pixels: np.ndarray) -> np.ndarray:
    """Floats in [0, 1] as 8-bit pixels, rounded and clipped: the inverse of :func:`unit_pixels`, what a saved or
    decoded image holds."""
    return np.clip(np.rint(np.asarray(pixels) * 255.0), 0, 255).astype(np.uint8)


def unit_pixels(arr: np.ndarray, what: str = "images") -> np.ndarray:
    """Pixels as float32 in [0, 1]: uint8 divided by 255, floats checked to be finite and in [0, 1] (a one-line
    error otherwise: what every estimator that takes image arrays needs)."""
    if arr.dtype == np.uint8:
        return arr.astype(np.float32) / np.float32(255.0)
    if not np.issubdtype(arr.dtype, np.floating):
        raise TypeError(f"{what} must be uint8 or float, got dtype {arr.dtype}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{what} contain NaN or infinite values")
    if arr.min() < 0 or arr.max() > 1:
        raise ValueError(f"{what} must hold floats in [0, 1] or uint8 values 0..255; got values in "
                         f"[{arr.min():.3g}, {arr.max():.3g}]")
    return np.ascontiguousarray(arr, dtype=np.float32)


def image_files(inputs: list[str | os.PathLike]) -> list[Path]:
    """Image files named on a command line: files, and folders searched recursively; anything else is an error."""
    files: list[Path] = []
    for text in inputs:
        path = Path(text)
        if path.is_dir():
            found = find_images(path)
            if not found:
                raise ValueError(f"{path} holds no images ({', '.join(IMAGE_SUFFIXES)})")
            files += found
        elif not path.exists():
            raise FileNotFoundError(f"no such file or folder: {path}")
        elif path.suffix.lower() not in IMAGE_SUFFIXES:
            raise ValueError(f"{path} is not an image file; give files ending in {', '.join(IMAGE_SUFFIXES)} or "
                             "folders of them")
        else:
            files.append(path)
    return files


def _check_size(size: tuple[int, int] | None) -> tuple[int, int] | None:
    if size is None:
        return None
    if (
        not isinstance(size, (tuple, list))
        or len(size) != 2
        or not all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) for s in size)
    ):
        raise TypeError(f"size must be a (height, width) tuple of two ints or None, got {size!r}")
    if min(size) < 1:
        raise ValueError(f"size must be positive, got {tuple(size)}")
    return int(size[0]), int(size[1])


def find_images(root: Path) -> list[Path]:
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        for name in filenames:
            if not name.startswith(".") and os.path.splitext(name)[1].lower() in IMAGE_SUFFIXES:
                found.append(Path(dirpath) / name)
    return sorted(found, key=lambda p: p.relative_to(root).as_posix())


def _labels(root: Path, files: list[Path]) -> tuple[np.ndarray | None, list[str]]:
    firsts = [f.relative_to(root).parts for f in files]
    loose = sum(1 for parts in firsts if len(parts) == 1)
    if loose == len(files):
        return None, []
    if loose:
        raise ValueError(
            f"{root} has {loose} images directly in it and {len(files) - loose} in sub-folders; put all "
            "images in class sub-folders (for labels) or all directly in the folder (no labels)"
        )
    classes = sorted({parts[0] for parts in firsts})
    index = {name: i for i, name in enumerate(classes)}
    return np.array([index[parts[0]] for parts in firsts], dtype=np.int64), classes


def _probe(file: Path) -> tuple[str, tuple[int, int]]:
    """Mode and upright (height, width) from the header, without decoding the pixels."""
    try:
        with Image.open(file) as img:
            width, height = img.size
            if img.getexif().get(0x0112) in _TRANSPOSED:
                width, height = height, width
            return img.mode, (height, width)
    except _READ_ERRORS as exc:
        raise ValueError(f"cannot read image {file}: {exc}") from exc


def _read(file: Path, grey: bool, target: tuple[int, int]) -> np.ndarray:
    """Decode one file to a ``(c, h, w)`` float32 array in [0, 1] at the target size."""
    try:
        with Image.open(file) as img:
            img.load()
            img = ImageOps.exif_transpose(img)
            pixels = _to_float(img, grey)
    except _READ_ERRORS as exc:
        raise ValueError(f"cannot read image {file}: {exc}") from exc
    h, w = target
    if pixels.shape[:2] != (h, w):
        # resize each channel in float mode "F" so 16-bit data keeps its precision
        pixels = np.stack(
            [
                np.asarray(
                    Image.fromarray(np.ascontiguousarray(pixels[:, :, k])).resize((w, h), Image.Resampling.BILINEAR)
                )
                for k in range(pixels.shape[2])
            ],
            axis=2,
        )
    return np.clip(pixels, 0.0, 1.0).transpose(2, 0, 1)


def _to_float(img: Image.Image, grey: bool) -> np.ndarray:
    """``(h, w, c)`` float32 in [0, 1] with c = 1 if ``grey`` else 3."""
    if img.mode.startswith("I") or img.mode == "F":
        # Pillow clips 16-bit data when converting to "L", so scale it here instead
        scale = 1.0 if img.mode == "F" else 65535.0
        data = np.asarray(img, dtype=np.float32) / np.float32(scale)
        data = data[:, :, None]
        return data if grey else np.repeat(data, 3, axis=2)
    if grey:
        data = np.asarray(img.convert("L"), dtype=np.float32)[:, :, None]
    else:
        if img.mode == "P" and "transparency" in img.info:
            img = img.convert("RGBA")
        data = np.asarray(img.convert("RGB"), dtype=np.float32)
    return data / np.float32(255.0)
