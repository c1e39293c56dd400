"""Built-in datasets: scikit-learn's digits, MNIST, Fashion-MNIST and ADBench ``.npz`` tables.

Every loader returns ``(X, y)`` with ``X`` float32 and ``y`` int64 (or ``None``), so that the models,
the trainer and the benchmarks never have to guess dtypes. Image datasets come as ``(n, 1, h, w)`` in
``[0, 1]``; tables as ``(n, d)``.

MNIST-style files are looked up in :func:`data_home` first and downloaded only when missing, because
the development machines and CI have no internet but carry the files in ``$AEKIT_DATA``. Every file is
checked against a checksum table in this module, whether it was found or downloaded, so a damaged or
swapped file is caught before anyone trains on it.

Which checksum is checked
-------------------------
* MNIST: the SHA-256 of the *decompressed* IDX bytes. The copies on the shared data drive were
  re-compressed, so their ``.gz`` hashes differ from the mirrors', while the decompressed contents are
  the standard ones; hashing the decompressed bytes accepts both.
* Fashion-MNIST: the MD5 of the ``.gz`` file as published by Zalando Research (the same values
  torchvision checks). Its decompressed hashes are not pinned here, so a re-compressed copy of
  Fashion-MNIST is rejected; keep the original ``.gz`` files.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import tempfile
import urllib.error
import urllib.request
import zlib
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np

from ..registry import Registry

__all__ = ["DATASETS", "available", "data_home", "load", "parse_idx"]

#: Built-in datasets by name: each entry loads ``(X, y)`` for a ``split``. A new dataset is one registered
#: loader; :func:`available`, :func:`load` and the CLI's help read this table.
DATASETS: Registry[Callable[[str | None], tuple[np.ndarray, np.ndarray | None]]] = Registry("dataset")

#: Files of one split: (images file, labels file).
_SPLIT_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}

#: Checksum per dataset and file: (kind, hex digest). ``kind`` is ``"sha256-decompressed"`` (hash of
#: the IDX bytes after gunzip) or ``"md5-gz"`` (hash of the ``.gz`` file as published).
_CHECKSUMS: dict[str, dict[str, tuple[str, str]]] = {
    "mnist": {
        "train-images-idx3-ubyte.gz": (
            "sha256-decompressed",
            "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        ),
        "train-labels-idx1-ubyte.gz": (
            "sha256-decompressed",
            "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        ),
        "t10k-images-idx3-ubyte.gz": (
            "sha256-decompressed",
            "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        ),
        "t10k-labels-idx1-ubyte.gz": (
            "sha256-decompressed",
            "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
        ),
    },
    "fashion-mnist": {
        "train-images-idx3-ubyte.gz": ("md5-gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
        "train-labels-idx1-ubyte.gz": ("md5-gz", "25c81989df183df01b3e8a0aad5dffbe"),
        "t10k-images-idx3-ubyte.gz": ("md5-gz", "bef4ecab320f06d8554ea6380940ec79"),
        "t10k-labels-idx1-ubyte.gz": ("md5-gz", "bb300cfdad3c16e7a12a480ee83cd310"),
    },
}

#: Mirrors tried in order when a file is missing from the data home.
_MIRRORS: dict[str, tuple[str, ...]] = {
    "mnist": (
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
    ),
    "fashion-mnist": (
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
    ),
}

#: IDX type codes (third magic byte) -> big-endian numpy dtype.
_IDX_DTYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def available() -> list[str]:
    """Names of the built-in datasets that :func:`load` accepts.

    A path ending in ``.npz`` (ADBench format) is accepted too; it is not listed because it is not a
    name but a file.
    """
    return DATASETS.names()


def data_home() -> Path:
    """Folder where dataset files are looked up and downloaded to.

    ``$AEKIT_DATA`` when set (CI and the development machines point it at the shared data drive, which
    has no internet behind it), else ``~/.cache/aekit``. The folder is not created here; it is created
    only when a download needs it.
    """
    env = os.environ.get("AEKIT_DATA")
    if env:
        return Path(env).expanduser()
    return Path.home() / ".cache" / "aekit"


def load(name: str, *, split: str | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """Load a built-in dataset or an ADBench ``.npz`` file as ``(X, y)``.

    Parameters
    ----------
    name : str
        ``"digits"`` (scikit-learn's bundled 8x8 digits, offline), ``"mnist"``, ``"fashion-mnist"``, or
        a path ending in ``.npz`` with arrays ``X`` (features) and ``y`` (0/1 anomaly labels, optional).
        A bare ``.npz`` file name that does not exist as given is also looked up in
        ``data_home()/adbench/``, so ``load("6_cardio.npz")`` finds the shared ADBench copy.
    split : str or None
        For MNIST-style sets ``"train"`` (the default, 60,000 images), ``"test"`` (10,000) or
        ``"all"`` (train then test). Digits and ``.npz`` files have no split: only ``None``/``"all"``.

    Returns
    -------
    X : numpy.ndarray
        float32; images as ``(n, 1, h, w)`` scaled to ``[0, 1]``, tables as ``(n, d)``.
    y : numpy.ndarray or None
        int64 class labels (``(n,)``), or ``None`` for an ``.npz`` file without ``y``.

    Raises
    ------
    TypeError
        ``name`` is not a string or path.
    ValueError
        Unknown name, unsupported split, checksum mismatch or a damaged file.
    FileNotFoundError
        A ``.npz`` file that does not exist, or an MNIST file that is missing and cannot be downloaded.
    """
    if not isinstance(name, (str, os.PathLike)):
        raise TypeError(f"name must be a dataset name or a path to a .npz file, got {type(name).__name__}")
    text = os.fspath(name)
    if text.lower().endswith(".npz"):
        _check_no_split(text, split)
        return _load_npz(Path(text))
    key = text.strip().lower()
    if key not in DATASETS:
        raise ValueError(
            f"unknown dataset {text!r}; available: {', '.join(available())}, or a path ending in '.npz'"
        )
    return DATASETS.get(key)(split)


def parse_idx(raw: bytes, *, source: str = "<bytes>") -> np.ndarray:
    """Decode the IDX format (the MNIST file format) into a numpy array of native byte order.

    The layout is two zero bytes, a type code, the number of dimensions, one big-endian uint32 per
    dimension, then the values, big-endian. Parsing it here keeps aekit free of torchvision and lets a
    truncated or foreign file fail with a message instead of a reshape error.

    Parameters
    ----------
    raw : bytes
        The decompressed file contents.
    source : str
        Name used in error messages (usually the file path).

    Returns
    -------
    numpy.ndarray
        Array with the shape given by the header.

    Raises
    ------
    ValueError
        The header is malformed or the payload size does not match the dimensions.
    """
    if len(raw) < 4:
        raise ValueError(f"{source} is not an IDX file: only {len(raw)} bytes, need a 4-byte header")
    if raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES:
        raise ValueError(
            f"{source} is not an IDX file: magic bytes {raw[:4].hex()} (expected 0000 + type code "
            f"in {sorted(hex(c) for c in _IDX_DTYPES)} + ndim)"
        )
    dtype = _IDX_DTYPES[raw[2]]
    ndim = raw[3]
    header = 4 + 4 * ndim
    if ndim == 0 or len(raw) < header:
        raise ValueError(f"{source}: IDX header declares {ndim} dimensions but the file is too short")
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(raw) - header != expected:
        raise ValueError(
            f"{source}: IDX header declares shape {shape} ({expected} bytes of data) but the file holds "
            f"{len(raw) - header} bytes; the file is truncated or damaged, delete it and download it again"
        )
    data = np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)
    return data.astype(dtype.newbyteorder("="))


# ---------------------------------------------------------------------------------------------------
# digits and .npz


def _check_no_split(name: str, split: str | None) -> None:
    if split not in (None, "all"):
        raise ValueError(f"dataset {name!r} has no splits; pass split=None or 'all', got {split!r}")


@DATASETS.register("digits")
def _load_digits(split: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    _check_no_split("digits", split)

    bunch = load_digits()
    X = (np.asarray(bunch.images, dtype=np.float32) / np.float32(16.0)).reshape(-1, 1, 8, 8)
    return np.ascontiguousarray(X), np.asarray(bunch.target, dtype=np.int64)


def _load_npz(path: Path) -> tuple[np.ndarray, np.ndarray | None]:
    tried = [path]
    if not path.is_file() and not path.is_absolute() and len(path.parts) == 1:
        tried.append(data_home() / "adbench" / path)
        path = tried[-1]
    if not path.is_file():
        raise FileNotFoundError(f"no .npz file at {' or '.join(str(p) for p in tried)}")
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {k: archive[k] for k in archive.files}
    except (ValueError, OSError, zlib.error) as exc:
        raise ValueError(f"cannot read {path} as a .npz archive of plain arrays: {exc}") from exc
    if "X" not in arrays:
        raise ValueError(f"{path} has no array 'X' (found {sorted(arrays)}); expected ADBench format X, y")
    X = arrays["X"]
    if X.ndim != 2 or not (np.issubdtype(X.dtype, np.number) or X.dtype == np.bool_):
        raise ValueError(f"{path}: 'X' must be a 2-D numeric array, got shape {X.shape} dtype {X.dtype}")
    X = np.ascontiguousarray(X, dtype=np.float32)
    y = arrays.get("y")
    if y is None:
        return X, None
    y = np.asarray(y).reshape(-1)
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"{path}: 'y' has {y.shape[0]} entries but 'X' has {X.shape[0]} rows")
    if not (np.issubdtype(y.dtype, np.number) or y.dtype == np.bool_):
        raise ValueError(f"{path}: 'y' must hold integer labels, got dtype {y.dtype}")
    y_int = y.astype(np.int64)
    if not np.array_equal(y_int, y):
        raise ValueError(f"{path}: 'y' holds non-integer values; expected 0/1 (1 = anomaly) labels")
    return X, y_int


# ---------------------------------------------------------------------------------------------------
# MNIST-style IDX datasets


def _load_idx_dataset(name: str, split: str | None) -> tuple[np.ndarray, np.ndarray]:
    split = "train" if split is None else split
    if split == "all":
        parts = [_load_idx_split(name, s) for s in ("train", "test")]
        return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
    if split not in _SPLIT_FILES:
        raise ValueError(f"dataset {name!r}: split must be 'train', 'test' or 'all', got {split!r}")
    return _load_idx_split(name, split)


for _name in _CHECKSUMS:
    DATASETS.register(_name)(partial(_load_idx_dataset, _name))


def _load_idx_split(name: str, split: str) -> tuple[np.ndarray, np.ndarray]:
    image_file, label_file = _SPLIT_FILES[split]
    images = parse_idx(_read_verified(name, image_file), source=str(data_home() / name / image_file))
    labels = parse_idx(_read_verified(name, label_file), source=str(data_home() / name / label_file))
    if images.ndim != 3 or labels.ndim != 1 or images.shape[0] != labels.shape[0]:
        raise ValueError(
            f"{name} {split}: images of shape {images.shape} and labels of shape {labels.shape} do not "
            "form a dataset (expected (n, h, w) and (n,))"
        )
    X = images.astype(np.float32)
    X /= np.float32(255.0)
    return X[:, None, :, :], labels.astype(np.int64)


def _read_verified(name: str, filename: str) -> bytes:
    """Return the decompressed bytes of one file, downloading it first when it is missing."""
    path = data_home() / name / filename
    if path.is_file():
        raw, problem = _check_file(path, _CHECKSUMS[name][filename])
        if problem:
            raise ValueError(
                f"{path} {problem}. The file is damaged or not the published one; delete it to have it "
                "downloaded again, or replace it with a good copy"
            )
        return raw
    return _download_verified(name, filename, path)


def _check_file(path: Path, checksum: tuple[str, str]) -> tuple[bytes, str]:
    """Decompress ``path`` and check it; return the IDX bytes and a problem description (empty if OK)."""
    kind, expected = checksum
    packed = path.read_bytes()
    try:
        raw = gzip.decompress(packed)
    except (OSError, EOFError, zlib.error) as exc:
        return b"", f"is not a valid gzip file ({exc})"
    if kind == "sha256-decompressed":
        actual = hashlib.sha256(raw).hexdigest()
    elif kind == "md5-gz":
        actual = hashlib.md5(packed, usedforsecurity=False).hexdigest()
    else:  # pragma: no cover - guards edits to the table
        raise ValueError(f"unknown checksum kind {kind!r} for {path.name}")
    if actual != expected:
        return b"", f"fails its checksum ({kind}): expected {expected}, got {actual}"
    return raw, ""


def _download_verified(name: str, filename: str, dest: Path) -> bytes:
    """Fetch ``filename`` from the mirrors into ``dest`` atomically, keeping it only if it verifies."""
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FileNotFoundError(
            f"{dest} is missing and its folder cannot be created to download it ({exc}); copy the file "
            "there or point AEKIT_DATA at a folder that has it"
        ) from exc
    failures = []
    for base in _MIRRORS[name]:
        url = base + filename
        fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=f".{filename}.", suffix=".part")
        os.close(fd)
        tmp = Path(tmp_name)
        try:
            try:
                _fetch(url, tmp)
            except (urllib.error.URLError, OSError, TimeoutError) as exc:
                failures.append(f"{url}: {exc}")
                continue
            raw, problem = _check_file(tmp, _CHECKSUMS[name][filename])
            if problem:
                raise ValueError(f"download of {filename} from {url} {problem}; the download was deleted")
            os.chmod(tmp, 0o644)  # mkstemp makes it private; a dataset file is meant to be shared
            os.replace(tmp, dest)
            return raw
        finally:
            tmp.unlink(missing_ok=True)
    raise FileNotFoundError(
        f"{dest} is missing and could not be downloaded ({'; '.join(failures)}). Without internet, copy "
        f"the {name} files into {dest.parent} or point AEKIT_DATA at a folder holding {name}/{filename}"
    )


def _fetch(url: str, dest: Path, *, timeout: float = 60.0) -> None:
    """Write the body of ``url`` to ``dest``; the only function here that touches the network.

    Kept separate and tiny so tests can replace it with one that serves local bytes.
    """
    request = urllib.request.Request(url, headers={"User-Agent": "aekit"})
    with urllib.request.urlopen(request, timeout=timeout) as response, open(dest, "wb") as fh:
        while chunk := response.read(1 << 20):
            fh.write(chunk)
