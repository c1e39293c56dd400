"""Tests for aekit.data.images.load_image_folder on tiny generated folders."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from aekit.data import load_image_folder


def _grey(path, value: int, size=(4, 6)) -> None:
    """Save a constant grey image of (height, width) ``size``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full(size, value, dtype=np.uint8)).save(path)


def test_flat_grey_folder_no_labels(tmp_path):
    _grey(tmp_path / "b.png", 255)
    _grey(tmp_path / "a.PNG", 0)
    _grey(tmp_path / "c.bmp", 51)
    (tmp_path / "notes.txt").write_text("not an image")
    X, y, classes = load_image_folder(tmp_path)
    assert X.shape == (3, 1, 4, 6) and X.dtype == np.float32
    assert y is None and classes == []
    # sorted by name: a (0), b (255), c (51)
    np.testing.assert_allclose(X[:, 0, 0, 0], [0.0, 1.0, 0.2], atol=1e-6)


def test_class_subfolders_give_labels(tmp_path):
    _grey(tmp_path / "dog" / "1.png", 10)
    _grey(tmp_path / "cat" / "x.png", 20)
    _grey(tmp_path / "cat" / "deeper" / "y.png", 30)  # nested files belong to the top sub-folder
    _grey(tmp_path / ".hidden" / "z.png", 40)
    X, y, classes = load_image_folder(tmp_path)
    assert classes == ["cat", "dog"]
    assert y.dtype == np.int64 and y.tolist() == [0, 0, 1]
    np.testing.assert_allclose(X[:, 0, 0, 0] * 255, [30, 20, 10], atol=1e-4)


def test_colour_and_mode_handling(tmp_path):
    rgb = np.zeros((4, 6, 3), dtype=np.uint8)
    rgb[..., 0] = 255
    Image.fromarray(rgb).save(tmp_path / "a.jpg", quality=100)
    rgba = np.zeros((4, 6, 4), dtype=np.uint8)
    rgba[..., 2] = 255
    Image.fromarray(rgba).save(tmp_path / "b.png")  # alpha 0 is dropped, not composited
    _grey(tmp_path / "c.png", 128)
    X, _, _ = load_image_folder(tmp_path)
    assert X.shape == (3, 3, 4, 6)  # one colour file makes the whole set RGB
    assert X[0, 0].mean() > 0.95 and X[0, 2].mean() < 0.05  # red JPEG
    np.testing.assert_allclose(X[1, :, 0, 0], [0, 0, 1])  # RGBA -> RGB
    np.testing.assert_allclose(X[2, :, 0, 0], [128 / 255] * 3, atol=1e-6)  # grey repeated
    Xg, _, _ = load_image_folder(tmp_path, grayscale=True)
    assert Xg.shape == (3, 1, 4, 6) and 0.25 < Xg[0, 0, 0, 0] < 0.35  # luma of pure red ~ 0.299
    Xc, _, _ = load_image_folder(tmp_path, grayscale=False)
    assert Xc.shape[1] == 3


def test_sixteen_bit_png_keeps_full_range(tmp_path):
    Image.fromarray(np.full((4, 6), 65535, dtype=np.uint16)).save(tmp_path / "hi.png")
    Image.fromarray(np.full((4, 6), 32768, dtype=np.uint16)).save(tmp_path / "mid.png")
    X, _, _ = load_image_folder(tmp_path)
    assert X.shape == (2, 1, 4, 6)
    np.testing.assert_allclose(X[:, 0, 0, 0], [1.0, 32768 / 65535], atol=1e-6)


def test_resize_to_most_common_or_given_size(tmp_path):
    _grey(tmp_path / "a.png", 100, size=(4, 6))
    _grey(tmp_path / "b.png", 100, size=(4, 6))
    _grey(tmp_path / "c.png", 200, size=(8, 3))
    X, _, _ = load_image_folder(tmp_path)
    assert X.shape == (3, 1, 4, 6)
    np.testing.assert_allclose(X[2], 200 / 255, atol=1e-5)  # a constant image stays constant
    X, _, _ = load_image_folder(tmp_path, size=(5, 2))
    assert X.shape == (3, 1, 5, 2)
    with pytest.raises(ValueError, match="positive"):
        load_image_folder(tmp_path, size=(0, 2))
    with pytest.raises(TypeError, match="height, width"):
        load_image_folder(tmp_path, size=5)


def test_errors_name_the_problem(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing"):
        load_image_folder(tmp_path / "missing")
    (tmp_path / "readme.txt").write_text("x")
    with pytest.raises(ValueError, match=r"\.png, \.jpg, \.jpeg, \.bmp"):
        load_image_folder(tmp_path)
    (tmp_path / "broken.png").write_bytes(b"\x89PNG not really")
    with pytest.raises(ValueError, match="broken.png"):
        load_image_folder(tmp_path)
    mixed = tmp_path / "mixed"
    _grey(mixed / "loose.png", 1)
    _grey(mixed / "cls" / "inner.png", 1)
    with pytest.raises(ValueError, match="1 images directly in it and 1 in sub-folders"):
        load_image_folder(mixed)
