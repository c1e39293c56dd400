"""Tests for aekit.datasets: names, digits, .npz tables, IDX parsing, verified downloads, real MNIST."""

from __future__ import annotations

import gzip
import hashlib
import os
import urllib.error
from pathlib import Path

import numpy as np
import pytest

from aekit import datasets

MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def _shared_data() -> Path:
    """The shared data drive: $AEKIT_DATA, else ../shared/data next to the repository."""
    env = os.environ.get("AEKIT_DATA")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture
def shared_home(monkeypatch: pytest.MonkeyPatch) -> Path:
    home = _shared_data()
    if not (home / "mnist").is_dir():
        pytest.skip(f"shared data not found at {home}; set AEKIT_DATA")
    monkeypatch.setenv("AEKIT_DATA", str(home))
    return home


def _idx(array: np.ndarray) -> bytes:
    """Encode a uint8 array in the IDX format."""
    header = bytes([0, 0, 0x08, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    return header + array.astype(np.uint8).tobytes()


# -------------------------------------------------------------------------------- names and homes


def test_data_home_env_and_default(monkeypatch, tmp_path):
    monkeypatch.setenv("AEKIT_DATA", str(tmp_path / "d"))
    assert datasets.data_home() == tmp_path / "d"
    monkeypatch.delenv("AEKIT_DATA")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert datasets.data_home() == tmp_path / ".cache" / "aekit"


def test_unknown_name_lists_available():
    assert set(datasets.available()) == {"digits", "mnist", "fashion-mnist"}
    with pytest.raises(ValueError, match="available: .*digits.*mnist"):
        datasets.load("cifar-7")


def test_digits_offline():
    X, y = datasets.load("digits")
    assert X.shape == (1797, 1, 8, 8) and X.dtype == np.float32
    assert X.min() == 0.0 and X.max() == 1.0
    assert y.dtype == np.int64 and set(np.unique(y)) == set(range(10))
    with pytest.raises(ValueError, match="no splits"):
        datasets.load("digits", split="train")


# -------------------------------------------------------------------------------------- .npz files


def test_npz_load_and_errors(tmp_path):
    path = tmp_path / "7_toy.npz"
    np.savez(path, X=np.arange(12, dtype=np.float64).reshape(4, 3), y=np.array([0, 1, 0, 1], dtype=np.int32))
    X, y = datasets.load(str(path))
    assert X.shape == (4, 3) and X.dtype == np.float32 and X[3, 2] == 11.0
    assert y.dtype == np.int64 and y.tolist() == [0, 1, 0, 1]

    with pytest.raises(FileNotFoundError, match="nothere.npz"):
        datasets.load(str(tmp_path / "nothere.npz"))
    bad = tmp_path / "bad.npz"
    np.savez(bad, X=np.zeros((3, 2)), y=np.array([0.0, 0.5, 1.0]))
    with pytest.raises(ValueError, match="non-integer"):
        datasets.load(str(bad))
    pickled = tmp_path / "obj.npz"
    np.savez(pickled, X=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ValueError, match="obj.npz"):
        datasets.load(str(pickled))


def test_npz_bare_name_found_in_data_home(monkeypatch, tmp_path):
    (tmp_path / "adbench").mkdir()
    np.savez(tmp_path / "adbench" / "1_tiny.npz", X=np.ones((2, 2)), y=np.array([0, 1]))
    monkeypatch.setenv("AEKIT_DATA", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    X, y = datasets.load("1_tiny.npz")
    assert X.shape == (2, 2) and y.tolist() == [0, 1]


def test_real_adbench_cardio(shared_home):
    X, y = datasets.load(str(shared_home / "adbench" / "6_cardio.npz"))
    assert X.shape == (1831, 21) and X.dtype == np.float32
    assert y.dtype == np.int64 and int(y.sum()) == 176


# -------------------------------------------------------------------------------------------- IDX


def test_parse_idx_roundtrip_and_corruption():
    arr = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    raw = _idx(arr)
    np.testing.assert_array_equal(datasets.parse_idx(raw), arr)
    with pytest.raises(ValueError, match="truncated"):
        datasets.parse_idx(raw[:-1], source="cut.idx")
    with pytest.raises(ValueError, match="magic"):
        datasets.parse_idx(b"\x01\x02" + raw[2:])
    ints = bytes([0, 0, 0x0C, 1]) + np.array([2], ">u4").tobytes() + np.array([-5, 70000], ">i4").tobytes()
    assert datasets.parse_idx(ints).tolist() == [-5, 70000]


# --------------------------------------------------------------------------------- downloads (fake)


@pytest.fixture
def fake_mirror(monkeypatch, tmp_path):
    """An empty data home, a fetch that serves tiny IDX files, and a checksum table matching them."""
    rng = np.random.default_rng(0)
    sets = {
        "train": (rng.integers(0, 256, (5, 28, 28)).astype(np.uint8), np.array([0, 1, 2, 3, 4], np.uint8)),
        "test": (rng.integers(0, 256, (3, 28, 28)).astype(np.uint8), np.array([9, 8, 7], np.uint8)),
    }
    files = {}
    for split, (images, labels) in sets.items():
        prefix = "train" if split == "train" else "t10k"
        files[f"{prefix}-images-idx3-ubyte.gz"] = _idx(images)
        files[f"{prefix}-labels-idx1-ubyte.gz"] = _idx(labels)
    served = {name: gzip.compress(raw, mtime=0) for name, raw in files.items()}
    calls = []

    def fetch(url, dest, **kwargs):
        calls.append(url)
        Path(dest).write_bytes(served[url.rsplit("/", 1)[1]])

    home = tmp_path / "home"
    monkeypatch.setenv("AEKIT_DATA", str(home))
    monkeypatch.setattr(datasets, "_fetch", fetch)
    tables = {
        "mnist": {n: ("sha256-decompressed", hashlib.sha256(raw).hexdigest()) for n, raw in files.items()},
        "fashion-mnist": {n: ("md5-gz", hashlib.md5(served[n]).hexdigest()) for n in files},
    }
    for name, table in tables.items():
        monkeypatch.setitem(datasets._CHECKSUMS, name, table)
    return {"home": home, "calls": calls, "sets": sets, "served": served}


@pytest.mark.parametrize("name", ["mnist", "fashion-mnist"])
def test_missing_files_are_downloaded_and_verified(fake_mirror, name):
    X, y = datasets.load(name, split="test")
    images, labels = fake_mirror["sets"]["test"]
    assert X.shape == (3, 1, 28, 28) and X.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_allclose(X[:, 0], images / 255.0, rtol=0, atol=1e-7)
    assert y.tolist() == labels.tolist()
    folder = fake_mirror["home"] / name
    assert sorted(p.name for p in folder.iterdir()) == ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]
    assert len(fake_mirror["calls"]) == 2

    X_all, y_all = datasets.load(name, split="all")  # test files are on disk now; only train is fetched
    assert len(fake_mirror["calls"]) == 4
    assert X_all.shape == (8, 1, 28, 28) and y_all.tolist() == [0, 1, 2, 3, 4, 9, 8, 7]


@pytest.mark.parametrize("name", ["mnist", "fashion-mnist"])
def test_download_checksum_mismatch_deletes_file(fake_mirror, monkeypatch, name):
    filename = "t10k-labels-idx1-ubyte.gz"
    kind, good = datasets._CHECKSUMS[name][filename]
    monkeypatch.setitem(datasets._CHECKSUMS[name], filename, (kind, "0" * len(good)))
    with pytest.raises(ValueError, match=rf"{filename}.*expected 0+, got {good}"):
        datasets.load(name, split="test")
    folder = fake_mirror["home"] / name
    assert not (folder / filename).exists()
    assert not [p for p in folder.iterdir() if p.name.endswith(".part")]


def test_local_file_mismatch_is_reported_not_deleted(fake_mirror):
    folder = fake_mirror["home"] / "mnist"
    folder.mkdir(parents=True)
    bad = folder / "t10k-images-idx3-ubyte.gz"
    bad.write_bytes(gzip.compress(_idx(np.zeros((3, 28, 28), np.uint8))))
    with pytest.raises(ValueError, match="t10k-images-idx3-ubyte.gz fails its checksum"):
        datasets.load("mnist", split="test")
    assert bad.exists() and fake_mirror["calls"] == []
    bad.write_bytes(b"not gzip at all")
    with pytest.raises(ValueError, match="not a valid gzip"):
        datasets.load("mnist", split="test")


def test_unreachable_mirrors_give_clear_error(monkeypatch, tmp_path):
    def offline(url, dest, **kwargs):
        raise urllib.error.URLError("no network")

    monkeypatch.setenv("AEKIT_DATA", str(tmp_path))
    monkeypatch.setattr(datasets, "_fetch", offline)
    with pytest.raises(FileNotFoundError, match=r"train-images-idx3-ubyte.gz is missing.*AEKIT_DATA"):
        datasets.load("mnist")
    assert list((tmp_path / "mnist").iterdir()) == []
    with pytest.raises(ValueError, match="split must be"):
        datasets.load("mnist", split="validation")


# ------------------------------------------------------------------------------------- real MNIST


def test_real_mnist_shapes_range_and_label_counts(shared_home, monkeypatch):
    def no_network(url, dest, **kwargs):  # the shared copy must be found and verified, never fetched
        raise AssertionError(f"tried to download {url}")

    monkeypatch.setattr(datasets, "_fetch", no_network)
    X, y = datasets.load("mnist")
    assert X.shape == (60000, 1, 28, 28) and X.dtype == np.float32
    assert X.min() == 0.0 and X.max() == 1.0
    assert y.dtype == np.int64 and np.bincount(y).tolist() == MNIST_TRAIN_COUNTS
    X, y = datasets.load("mnist", split="test")
    assert X.shape == (10000, 1, 28, 28)
    assert np.bincount(y).tolist() == MNIST_TEST_COUNTS
