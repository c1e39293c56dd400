"""The learned codec writes real files: a compact header and an ANS stream that decodes to the same images in any
process; more weight on quality buys bytes for PSNR; files from another codec, damaged or truncated files are
refused with a message, never decoded into a wrong image."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from aekit import Codec, load
from aekit.cli import main
from aekit.metrics import psnr


@pytest.fixture(scope="module")
def digits8():
    from aekit import datasets

    X, _ = datasets.load("digits")
    return np.rint(X[:, 0] * 255).astype(np.uint8)  # (1797, 8, 8) uint8


@pytest.fixture(scope="module")
def codec(digits8):
    return Codec(lmbda=300, latent_dim=16, hidden_dims=(8, 16), dense=64, max_iter=8, random_state=0).fit(digits8)


def test_files_round_trip_and_both_layouts_decode_alike(codec, digits8):
    images = digits8[:50]
    files = codec.compress_each(images)
    many = codec.compress(images)
    assert all(f[0] == 0xA1 and f[1:3] == codec.codec_id_[:2] for f in files)
    assert many[:4] == b"AEKC" and many[5:13] == codec.codec_id_[:8]
    one_by_one, together = codec.decompress(files), codec.decompress(many)
    np.testing.assert_array_equal(one_by_one, together)
    assert together.shape == images.shape and together.dtype == np.uint8
    np.testing.assert_array_equal(codec.images_from_symbols(codec.symbols(images)), together)
    assert psnr(images, together).mean() > 15  # a code of each digit: the mean digit scores about 11 dB
    # the header is 5 bytes; the stream is what the prior says the code costs, within 32-bit word rounding
    predicted_bits = np.mean([len(f) - 5 for f in files]) * 8
    import torch

    with torch.no_grad():
        sym = torch.from_numpy(codec.symbols(images).astype(np.float32))
        model_bits = codec.model_.bottleneck.bits(sym).mean().item()
    assert model_bits - 8 <= predicted_bits <= model_bits + 64


def test_more_weight_on_quality_buys_bytes_for_psnr(digits8):
    coarse = Codec(lmbda=3, latent_dim=16, hidden_dims=(8, 16), dense=64, max_iter=8, random_state=0).fit(digits8)
    fine = Codec(lmbda=3000, latent_dim=16, hidden_dims=(8, 16), dense=64, max_iter=8, random_state=0).fit(digits8)
    images = digits8[:200]
    sizes = [np.mean([len(f) for f in c.compress_each(images)]) for c in (coarse, fine)]
    quality = [psnr(images, c.decompress(c.compress(images))).mean() for c in (coarse, fine)]
    assert sizes[0] < sizes[1] and quality[0] + 2 < quality[1], (sizes, quality)


def test_foreign_damaged_and_truncated_files_are_refused(codec, digits8):
    other = Codec(lmbda=300, latent_dim=16, hidden_dims=(8, 16), dense=64, max_iter=1, random_state=1).fit(digits8)
    one, many = codec.compress_each(digits8[:1])[0], codec.compress(digits8[:10])
    with pytest.raises(ValueError, match="written by another codec"):
        other.decompress(one)
    with pytest.raises(ValueError, match="written by another codec"):
        other.decompress(many)
    for broken in (one[:-1], one[:-4], many[:-4], many[:15]):
        with pytest.raises(ValueError, match="damaged or truncated|header is incomplete"):
            codec.decompress(broken)
    flipped = bytearray(many)
    flipped[-3] ^= 0x10
    with pytest.raises(ValueError, match="damaged or truncated"):
        codec.decompress(bytes(flipped))
    with pytest.raises(ValueError, match="not an aekit compressed file"):
        codec.decompress(b"\x89PNG\r\n\x1a\n....")
    with pytest.raises(ValueError, match=r"codes images of shape \(1, 8, 8\).*got \(1, 9, 9\)"):
        codec.compress(np.zeros((2, 9, 9), np.uint8))
    with pytest.raises(ValueError, match="floats in \\[0, 1\\] or uint8"):
        codec.compress(np.full((2, 8, 8), 3.0))


def test_another_process_decodes_the_same_images(codec, digits8, tmp_path):
    codec.save(tmp_path / "codec")
    data = codec.compress(digits8[:20])
    (tmp_path / "f.aek").write_bytes(data)
    script = ("import sys, numpy as np; from aekit import load; c = load(sys.argv[1]); "
              "np.save(sys.argv[3], c.decompress(open(sys.argv[2], 'rb').read()))")
    subprocess.run([sys.executable, "-c", script, str(tmp_path / "codec"), str(tmp_path / "f.aek"),
                    str(tmp_path / "out.npy")], check=True)
    np.testing.assert_array_equal(np.load(tmp_path / "out.npy"), codec.decompress(data))
    again = load(tmp_path / "codec")
    assert again.codec_id_ == codec.codec_id_


def test_cli_trains_compresses_and_decompresses(tmp_path, digits8, capsys):
    folder = tmp_path / "pngs"
    folder.mkdir()
    for i in range(5):
        Image.fromarray(digits8[i]).save(folder / f"d{i}.png")
    run = tmp_path / "codec"
    assert main(["codec", "train", "digits", "--out", str(run), "--epochs", "2", "--latent-dim", "8", "-q"]) == 0
    assert (run / "report.html").is_file()
    assert main(["compress", str(run), str(folder), "--out", str(tmp_path / "each"), "--each"]) == 0
    assert sorted(p.name for p in (tmp_path / "each").iterdir()) == [f"d{i}.aek" for i in range(5)]
    assert main(["compress", str(run), str(folder), "--out", str(tmp_path / "all.aek")]) == 0
    assert main(["decompress", str(run), *map(str, sorted((tmp_path / "each").iterdir())), str(tmp_path / "all.aek"),
                 "--out", str(tmp_path / "back")]) == 0
    back = sorted(p.name for p in (tmp_path / "back").iterdir())
    assert back == [f"all-{i:05d}.png" for i in range(5)] + [f"d{i}.png" for i in range(5)]
    assert np.asarray(Image.open(tmp_path / "back" / "d0.png")).shape == (8, 8)
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "back" / "d3.png")),
                                  np.asarray(Image.open(tmp_path / "back" / "all-00003.png")))
    (tmp_path / "junk.aek").write_bytes(b"hello")
    capsys.readouterr()
    assert main(["decompress", str(run), str(tmp_path / "junk.aek"), "--out", str(tmp_path / "x")]) == 2
    assert "not an aekit compressed file" in capsys.readouterr().err and not (tmp_path / "x").exists()
