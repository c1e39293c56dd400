"""The Denoiser cleans images: trained on fresh noise, it raises PSNR well above the noisy input; outputs keep the
input's form, shape and dtype; one network serves any size (tiles join exactly); colour and grey; the CLI writes
cleaned files of the same size, mode and format; bad input gets one clear line."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from aekit import Denoiser, load
from aekit.cli import main
from aekit.data.image_crops import ImageCrops
from aekit.estimators import denoiser as denoiser_module
from aekit.metrics import psnr
from aekit.models.corruption import GaussianNoise


@pytest.fixture(scope="module")
def digits8():
    from aekit import datasets

    X, _ = datasets.load("digits")
    return np.rint(X[:, 0] * 255).astype(np.uint8)  # (1797, 8, 8)


@pytest.fixture(scope="module")
def fitted(digits8):
    return Denoiser(level=0.3, widths=(16, 16, 16), max_iter=40, random_state=0).fit(digits8[:1500])


def test_denoising_raises_psnr_on_held_out_images(fitted, digits8):
    clean = digits8[1500:]
    noisy = fitted.corrupt(clean, random_state=1)
    cleaned = fitted.transform(noisy)
    assert cleaned.shape == clean.shape and cleaned.dtype == np.uint8
    before, after = psnr(clean, noisy).mean(), psnr(clean, cleaned).mean()
    assert after > before + 3.5, (before, after)


def test_loss_follows_the_pixels_and_bce_reaches_pure_black(fitted, digits8):
    assert fitted.config_.loss == "bce"  # digits: most pixels are 0
    noisy = fitted.corrupt(digits8[1500:1600], random_state=2)
    residual = Denoiser(level=0.3, widths=(16, 16, 16), max_iter=40, random_state=0, loss="mse").fit(digits8[:1500])
    near_black = [(den.transform(noisy) <= 2).mean() for den in (fitted, residual)]
    assert near_black[0] > near_black[1] + 0.05, near_black  # the background comes out black, not faintly noisy
    photos = [np.random.default_rng(0).uniform(0.1, 0.9, (1, 16, 16)).astype(np.float32) for _ in range(4)]
    assert Denoiser(widths=(4, 4, 4), max_iter=1).fit(photos).config_.loss == "mse"


def test_training_noise_is_fresh_and_clipped(fitted, digits8):
    x = torch.from_numpy(digits8[:4, None].astype(np.float32) / 255)
    a, b = fitted.model_.corrupted(x), fitted.model_.corrupted(x)
    assert not torch.equal(a, b)
    assert float(a.min()) >= 0 and float(a.max()) <= 1


def test_blind_gaussian_draws_a_sigma_per_image():
    noise = GaussianNoise(0.05, max_level=0.5).train()
    out = noise(torch.zeros(400, 1, 32, 32))
    sigmas = out.flatten(1).std(dim=1)
    assert 0.03 < float(sigmas.min()) < 0.1 and 0.4 < float(sigmas.max()) < 0.6
    from_zero = GaussianNoise(0.0, max_level=0.2).train()  # a range from no noise still corrupts
    assert float(from_zero(torch.zeros(50, 1, 8, 8)).abs().max()) > 0
    with pytest.raises(ValueError, match="max_level"):
        GaussianNoise(0.5, max_level=0.1)


def test_forms_dtypes_and_sizes_come_back_as_given(fitted):
    rng = np.random.default_rng(0)
    floats = rng.random((3, 1, 12, 20)).astype(np.float32)
    out = fitted.transform(floats)
    assert out.shape == floats.shape and out.dtype == np.float32 and out.min() >= 0 and out.max() <= 1
    odd = [rng.integers(0, 256, (13, 17), dtype=np.uint8), rng.random((1, 30, 9)).astype(np.float64)]
    back = fitted.transform(odd)
    assert isinstance(back, list) and back[0].shape == (13, 17) and back[0].dtype == np.uint8
    assert back[1].shape == (1, 30, 9) and back[1].dtype == np.float64
    colour = rng.integers(0, 256, (2, 3, 32, 48), dtype=np.uint8)  # a grey denoiser cleans each channel
    cleaned = fitted.transform(colour)
    assert cleaned.shape == colour.shape
    np.testing.assert_array_equal(cleaned[:, 1], fitted.transform(colour[:, 1]))


def test_tiles_join_exactly(fitted, monkeypatch):
    image = np.random.default_rng(1).random((1, 150, 170)).astype(np.float32)
    whole = fitted.transform([image])[0]
    monkeypatch.setattr(denoiser_module, "INFERENCE_PIXELS", 104 * 104)  # tiles of 24 px with 40 px of context
    monkeypatch.setattr(denoiser_module, "TILE_MARGIN", 40)
    tiled = fitted._tiled(image)
    np.testing.assert_allclose(np.clip(tiled, 0, 1), whole, atol=1e-5)


def test_colour_images_of_many_sizes_train_on_crops():
    rng = np.random.default_rng(0)
    photos = [rng.random((3, 32, 48)).astype(np.float32), rng.random((3, 40, 36)).astype(np.float32)]
    den = Denoiser(level=0.1, widths=(4, 4, 4), patch_size=16, max_iter=2, random_state=0).fit(photos)
    assert den.channels_ == 3
    out = den.transform(photos)
    assert [o.shape for o in out] == [(3, 32, 48), (3, 40, 36)]
    with pytest.raises(ValueError, match="3-channel"):
        den.transform(np.zeros((1, 1, 16, 16), dtype=np.float32))


def test_crops_are_seeded_sized_and_cover_images():
    images = [np.arange(20 * 30, dtype=np.float32).reshape(1, 20, 30) / 600]
    crops = ImageCrops(images, patch=8, crops_per_epoch=50)
    torch.manual_seed(0)
    first = torch.cat([b.x for b in crops.epoch(16)])
    torch.manual_seed(0)
    again = torch.cat([b.x for b in crops.epoch(16)])
    assert first.shape == (50, 1, 8, 8) and torch.equal(first, again)
    assert len({float(c.min()) for c in first}) > 10  # different places
    with pytest.raises(ValueError, match="at least that large"):
        ImageCrops([np.zeros((1, 4, 4), np.float32)], patch=8, crops_per_epoch=5)


def test_save_load_gives_the_same_output(fitted, digits8, tmp_path):
    fitted.save(tmp_path / "d")
    again = load(tmp_path / "d")
    assert isinstance(again, Denoiser)
    noisy = fitted.corrupt(digits8[:20], random_state=3)
    np.testing.assert_array_equal(again.transform(noisy), fitted.transform(noisy))


@pytest.mark.parametrize("bad, message", [
    (np.full((2, 8, 8), np.nan, dtype=np.float32), "NaN"),
    (np.full((2, 8, 8), 3.0, dtype=np.float32), "in \\[0, 1\\]"),
    ([], "empty"),
    ("pictures", "NumPy array"),
    (np.zeros((2, 8, 8, 3), dtype=np.uint8), "channels-first"),
    (np.zeros((2, 8), dtype=np.uint8), "\\(n, h, w\\)"),
])
def test_bad_images_are_named(fitted, bad, message):
    with pytest.raises((ValueError, TypeError), match=message):
        fitted.transform(bad)


def test_bad_settings_are_named(digits8):
    with pytest.raises(ValueError, match="range of levels"):
        Denoiser("masking", (0.1, 0.2)).fit(digits8[:10])
    with pytest.raises(ValueError, match="fraction"):
        Denoiser("salt-and-pepper", 1.5).fit(digits8[:10])
    with pytest.raises(ValueError, match="mix channel"):
        Denoiser(max_iter=1).fit([np.zeros((1, 8, 8)), np.zeros((3, 8, 8))])


def _write_png(path, pixels):
    Image.fromarray(pixels).save(path)


def test_cli_fits_then_cleans_files_in_their_own_format(tmp_path, capsys):
    rng = np.random.default_rng(0)
    clean = tmp_path / "clean"
    clean.mkdir()
    for i in range(6):
        _write_png(clean / f"c{i}.png", rng.integers(0, 256, (24 + 4 * i, 32), dtype=np.uint8))
    assert main(["denoise", "fit", str(clean), "--out", str(tmp_path / "run"), "--level", "0.05:0.2",
                 "--widths", "4,4,4", "--patch-size", "16", "--epochs", "1", "-q"]) == 0
    assert (tmp_path / "run" / "report.html").is_file()
    noisy = tmp_path / "noisy"
    noisy.mkdir()
    _write_png(noisy / "grey.png", rng.integers(0, 256, (21, 35), dtype=np.uint8))
    Image.fromarray(rng.integers(0, 256, (18, 26, 3), dtype=np.uint8)).save(noisy / "colour.jpg", quality=90)
    alpha = rng.integers(0, 256, (20, 24), dtype=np.uint8)
    Image.fromarray(np.dstack([rng.integers(0, 256, (20, 24, 3), dtype=np.uint8), alpha])).save(noisy / "rgba.png")
    np.save(tmp_path / "arr.npy", rng.random((2, 16, 16)).astype(np.float32))
    assert main(["denoise", str(tmp_path / "run"), str(noisy), str(tmp_path / "arr.npy"),
                 "--out", str(tmp_path / "out")]) == 0
    with Image.open(tmp_path / "out" / "grey.png") as g, Image.open(tmp_path / "out" / "colour.jpg") as c:
        assert (g.mode, g.size, g.format) == ("L", (35, 21), "PNG")
        assert (c.mode, c.size, c.format) == ("RGB", (26, 18), "JPEG")
    with Image.open(tmp_path / "out" / "rgba.png") as t:
        assert (t.mode, t.size) == ("RGBA", (24, 20))
        np.testing.assert_array_equal(np.asarray(t)[:, :, 3], alpha)  # transparency kept as it was
    arr = np.load(tmp_path / "out" / "arr.npy")
    assert arr.shape == (2, 16, 16) and arr.dtype == np.float32
    capsys.readouterr()
    assert main(["denoise", str(tmp_path / "run"), str(tmp_path / "nothing"), "--out", str(tmp_path / "o2")]) == 2
    assert main(["denoise", "fit", str(clean), "--out", str(tmp_path / "run"), "--epochs", "1", "-q"]) == 2
    assert main(["denoise", "fit", str(clean), "--out", str(tmp_path / "r3"), "--level", "x"]) == 2
    err = capsys.readouterr().err
    assert err.count("aekit: error:") == 3 and "Traceback" not in err
