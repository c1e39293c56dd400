"""The learned codec writes real files: a compact header and a range-coded stream that decodes to the same images in
any process; more weight on quality buys bytes for PSNR; files from another codec, damaged or truncated files and
codecs of a retired format are refused with a message, never decoded into a wrong image."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from aekit import Codec, load
from aekit.cli import main
from aekit.metrics import psnr


SMALL = {"latent_dim": 16, "channels": 16, "spatial_channels": 4, "learning_rate": 3e-3}


@pytest.fixture(scope="module")
def digits8():
    from aekit import datasets

    X, _ = datasets.load("digits")
    return np.rint(X[:, 0] * 255).astype(np.uint8)  # (1797, 8, 8) uint8


@pytest.fixture(scope="module")
def codec(digits8):
    return Codec(**SMALL, lmbda=3000, max_iter=20, random_state=0).fit(digits8)


def test_files_round_trip_and_both_layouts_decode_alike(codec, digits8):
    images = digits8[:50]
    files = codec.compress_each(images)
    many = codec.compress(images)
    assert all(f[0] == 0xA2 for f in files)
    assert many[:5] == b"AEKC\x02" and many[5:13] == codec.codec_id_[:8]
    one_by_one, together = codec.decompress(files), codec.decompress(many)
    np.testing.assert_array_equal(one_by_one, together)
    assert together.shape == images.shape and together.dtype == np.uint8
    np.testing.assert_array_equal(codec.images_from_symbols(codec.symbols(images)), together)
    assert psnr(images, together).mean() > 15  # a code of each digit: the mean digit scores about 11 dB
    # the header is 3 bytes; the stream is what the priors say the code costs, within the coder's word rounding
    stream_bits = np.array([len(f) - 3 for f in files]) * 8
    assert np.mean(stream_bits) < np.mean([len(f) for f in codec.compress_each(images)]) * 8
    model_bits = _model_bits(codec, images)
    assert np.all(stream_bits >= model_bits - 8) and np.all(stream_bits <= model_bits + 40), (stream_bits, model_bits)


def _model_bits(codec, images):
    """Bits per image that the codec's priors assign to its symbols (what the coder should spend)."""
    import torch

    from aekit.models.hyperprior import SCALE_TABLE, gaussian_bits

    sym = codec.symbols(images)
    scales = SCALE_TABLE[codec.model_.prior(torch.from_numpy(sym.global_).float())[1]].flatten(1)
    with torch.no_grad():
        g = codec.model_.global_code.bits(torch.from_numpy(sym.global_).float())
        s = gaussian_bits(torch.from_numpy(sym.spatial).double(), scales).sum(1)
    return (g.double() + s).numpy()


@pytest.mark.slow
def test_more_weight_on_quality_buys_bytes_for_psnr(codec, digits8):
    coarse = Codec(**{**codec.get_params(), "lmbda": codec.lmbda / 100}).fit(digits8)
    fine = codec
    images = digits8[:200]
    sizes = [np.mean([len(f) for f in c.compress_each(images)]) for c in (coarse, fine)]
    quality = [psnr(images, c.decompress(c.compress(images))).mean() for c in (coarse, fine)]
    assert sizes[0] < sizes[1] and quality[0] + 2 < quality[1], (sizes, quality)


def test_foreign_damaged_and_truncated_files_are_refused(codec, digits8):
    other = Codec(**SMALL, lmbda=3000, max_iter=1, random_state=1).fit(digits8)
    one, many = codec.compress_each(digits8[:1])[0], codec.compress(digits8[:10])
    with pytest.raises(ValueError, match="does not match this codec: it was written by another codec"):
        other.decompress(one)
    with pytest.raises(ValueError, match="written by another codec"):
        other.decompress(many)
    for broken in (one[:-1], one[:-4], one[:3], many[:-4], many[:15]):
        with pytest.raises(ValueError, match="damaged or truncated|header is incomplete"):
            codec.decompress(broken)
    for i in range(1, len(one)):  # any flipped bit of a one-image file is refused
        flip = bytearray(one)
        flip[i] ^= 0x04
        with pytest.raises(ValueError, match="damaged or truncated"):
            codec.decompress(bytes(flip))
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
    Image.fromarray(np.stack([digits8[0]] * 3, axis=-1)).save(tmp_path / "rgb.png")
    assert main(["compress", str(run), str(tmp_path / "rgb.png"), "--out", str(tmp_path / "rgb.aek")]) == 0
    assert "1 colour image(s) (rgb.png) converted to grey" in capsys.readouterr().err
    np.save(tmp_path / "objects.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    assert main(["compress", str(run), str(tmp_path / "objects.npy"), "--out", str(tmp_path / "o.aek")]) == 2
    assert "objects.npy is not a plain NumPy array file" in capsys.readouterr().err


# ------------------------------------------------------------------------------------------ the two-level model
def _tiny_model(shape=(1, 12, 10)):
    import torch

    from aekit.models.hyperprior import HyperpriorCodecModel, HyperpriorConfig

    torch.manual_seed(0)
    return HyperpriorCodecModel(HyperpriorConfig(input_shape=shape, channels=8, spatial_channels=2, global_dim=4,
                                                 mean=[0.3] * shape[0], std=[0.2] * shape[0], lmbda=50.0))


def test_gaussian_bits_are_the_discretised_gaussian_mass_even_far_in_the_tail():
    import torch

    from aekit.models.hyperprior import gaussian_bits

    offset = torch.tensor([-3.0, -1.0, 0.0, 1.0, 2.0, 3.0], dtype=torch.float64)
    scale = torch.tensor([0.5, 1.0, 2.0, 0.7, 4.0, 1.5], dtype=torch.float64)
    normal = torch.distributions.Normal(0.0, scale)
    expected = -torch.log2(normal.cdf(offset + 0.5) - normal.cdf(offset - 0.5))
    torch.testing.assert_close(gaussian_bits(offset, scale), expected)
    torch.testing.assert_close(gaussian_bits(-offset, scale), gaussian_bits(offset, scale))  # symmetric
    # in float32 too, a value six scales out costs its true ~22 bits (1 - cdf would round its mass to 0)
    far = gaussian_bits(torch.tensor([3.0]), torch.tensor([0.5]))
    truth = -np.log2(0.5 * (math.erfc(2.5 / 0.5 / math.sqrt(2)) - math.erfc(3.5 / 0.5 / math.sqrt(2))))
    assert abs(far.item() - truth) < 1e-3 * truth and 20 < truth < 25
    # beyond the coder's smallest probability the bits are capped, never infinite
    assert torch.isfinite(gaussian_bits(torch.tensor([40.0]), torch.tensor([0.11]))).all()


def test_scale_indices_snap_to_the_table_and_stay_inside_it():
    import torch

    from aekit.models.hyperprior import SCALE_TABLE, scale_index

    np.testing.assert_array_equal(scale_index(SCALE_TABLE).numpy(), np.arange(len(SCALE_TABLE)))
    assert scale_index(torch.tensor([1e-6, 1e6])).tolist() == [0, len(SCALE_TABLE) - 1]
    between = (SCALE_TABLE[10] * SCALE_TABLE[11]).sqrt() * 0.99  # just below the geometric midpoint
    assert scale_index(between[None]).item() == 10


def test_the_coder_sees_the_same_scales_for_a_row_alone_and_in_a_batch():
    import torch

    model = _tiny_model().eval()
    symbols = torch.randint(-20, 20, (64, 4)).float()
    mean, index = model.prior(symbols)
    for i in (0, 17, 63):
        one_mean, one_index = model.prior(symbols[i : i + 1])
        assert torch.equal(one_index[0], index[i])  # what decoding needs exactly (float64 keeps it off the edges)
        torch.testing.assert_close(one_mean[0], mean[i], rtol=1e-12, atol=1e-12)  # float32 would differ by ~1e-7


def test_the_loss_is_bits_plus_lmbda_times_squared_error_and_coding_matches_eval():
    import torch

    from aekit.data.batches import Batch

    model = _tiny_model((3, 9, 13))
    x = torch.rand(6, 3, 9, 13)
    noisy = [model.loss(Batch(x))["total"].item() for _ in range(2)]
    assert noisy[0] != noisy[1]  # training draws fresh noise in place of rounding
    model.eval()
    terms = model.loss(Batch(x))
    pixels = 3 * 9 * 13
    torch.testing.assert_close(terms["total"], (terms["bits"] + 50.0 * terms["mse"] * pixels) / pixels)
    g, s, _ = model.symbols(x)
    assert g.shape == (6, 4) and s.shape == (6, 2 * 3 * 4)  # a quarter of 9 x 13, rounded up
    assert torch.equal(g, g.round()) and torch.equal(s, s.round())
    decoded = model.decode(g, s)
    assert decoded.shape == x.shape and decoded.min() >= 0 and decoded.max() <= 1
    torch.testing.assert_close(model.reconstruct(x), decoded)


def test_a_file_of_another_bitstream_version_is_refused(codec):
    with pytest.raises(ValueError, match="format version 1"):
        codec.decompress(b"\xa1\x12\x34\x56\x78\x9a")
    with pytest.raises(ValueError, match="format version 1"):
        codec.decompress(b"AEKC\x01" + bytes(30))


@pytest.mark.slow
def test_a_target_psnr_steers_lmbda_to_reach_it(digits8):
    reached = {}
    for target in (17.0, 21.0):
        codec = Codec(**SMALL, target_psnr=target, max_iter=20, random_state=0).fit(digits8)
        files = codec.compress_each(digits8[:300])
        reached[target] = (psnr(digits8[:300], codec.decompress(files)).mean(), np.mean([len(f) for f in files]),
                           codec.lmbda_)
        assert codec.history_[-1]["lmbda"] == codec.lmbda_ and codec.lmbda_ != codec.lmbda
    for target, (quality, _, _) in reached.items():
        assert abs(quality - target) < 1.5, reached
    assert reached[17.0][1] < reached[21.0][1] and reached[17.0][2] < reached[21.0][2]
