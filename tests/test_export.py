"""``aekit export --format onnx``: every exported graph matches PyTorch in onnxruntime at several batch sizes,
computes what the estimator's public methods compute from raw inputs, and what cannot be exported is refused with
the reason."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("onnxruntime")
pytest.importorskip("onnxscript")

from aekit import (AnomalyDetector, AutoEncoder, Clusterer, Codec, Denoiser, Imputer, Recommender,  # noqa: E402
                   TextAutoEncoder, load)
from aekit.cli import main  # noqa: E402
from aekit.export import check_onnx, export_onnx, graphs_for  # noqa: E402
from aekit.export.onnx import TOLERANCE, onnx_runner  # noqa: E402


@pytest.fixture(scope="module")
def table():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(150, 4)) * [1, 10, 100, 0.1] + [0, 5, -3, 1], columns=list("abcd"))
    return frame.mask(rng.random(frame.shape) < 0.1)  # holes: NaN is a missing cell in the graphs too


@pytest.fixture(scope="module")
def exported(tmp_path_factory, table, digits):
    images, _ = digits
    root = tmp_path_factory.mktemp("onnx")
    ae = AutoEncoder(latent_dim=2, hidden_dims=(8,), missing_indicator=True, max_iter=2, random_state=0).fit(table)
    den = Denoiser(level=0.2, widths=(4, 4, 4), max_iter=1, random_state=0).fit(images[:64])
    out = {"table": (ae, export_onnx(ae, root / "table")), "encoder": (ae.encoder_, export_onnx(ae.encoder_,
                                                                                                  root / "encoder")),
           "denoiser": (den, export_onnx(den, root / "denoiser"))}
    return root, out


def test_every_graph_matches_pytorch_at_batch_1_7_and_256(exported):
    root, out = exported
    assert [p.name for p in out["table"][1]] == ["encode.onnx", "decode.onnx", "reconstruction_error.onnx"]
    for name, (estimator, _) in out.items():
        rows = check_onnx(estimator, root / name)
        assert {r["batch"] for r in rows} == {1, 7, 256}
        assert max(r["max_abs_diff"] for r in rows) <= TOLERANCE, rows


def test_graphs_take_raw_features_and_compute_the_public_methods(exported, table):
    root, out = exported
    ae = out["table"][0]
    raw = table.to_numpy(np.float32)[:40]  # unscaled, with NaN holes
    encode, decode, error = (onnx_runner(root / "table" / f"{n}.onnx")
                             for n in ("encode", "decode", "reconstruction_error"))
    np.testing.assert_allclose(encode.run(None, {"x": raw})[0], ae.transform(table[:40]), atol=1e-5)
    np.testing.assert_allclose(error.run(None, {"x": raw})[0], ae.reconstruction_error(table[:40]), rtol=1e-4,
                               atol=1e-6)
    codes = ae.transform(table[:40])
    np.testing.assert_allclose(decode.run(None, {"codes": codes})[0], ae.inverse_transform(codes).to_numpy(),
                               rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(onnx_runner(root / "encoder" / "encode.onnx").run(None, {"x": raw})[0],
                               out["encoder"][0].transform(table[:40]), atol=1e-5)
    facts = json.loads((root / "table" / "export.json").read_text())
    assert [g["file"] for g in facts["graphs"]] == ["encode.onnx", "decode.onnx", "reconstruction_error.onnx"]
    assert [c["name"] for c in facts["inputs"]["columns"]] == list("abcd")


def test_the_denoising_graph_takes_any_image_size(exported):
    root, out = exported
    den, runner = out["denoiser"][0], onnx_runner(root / "denoiser" / "denoise.onnx")
    rng = np.random.default_rng(0)
    for h, w in ((8, 8), (13, 21), (40, 9)):
        noisy = rng.random((2, 1, h, w), dtype=np.float32)
        np.testing.assert_allclose(runner.run(None, {"x": noisy})[0][:, 0], den.transform(noisy[:, 0]), atol=1e-5)


def test_the_cli_exports_an_image_autoencoder_and_prints_the_check(tmp_path, digits, capsys):
    images, _ = digits
    AutoEncoder(latent_dim=3, hidden_dims=(16,), max_iter=1, random_state=0).fit(images[:100]).save(tmp_path / "ae")
    assert main(["export", str(tmp_path / "ae"), "--format", "onnx", "--out", str(tmp_path / "graphs"),
                 "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert len(printed["check"]) == 9 and max(r["max_abs_diff"] for r in printed["check"]) <= TOLERANCE
    decode = onnx_runner(tmp_path / "graphs" / "decode.onnx")
    assert decode.run(None, {"codes": np.zeros((5, 3), np.float32)})[0].shape == (5, 1, 8, 8)  # images as fitted
    ae = load(tmp_path / "ae", device="cpu")  # the graphs against the estimator itself, pixel scaling included
    codes = onnx_runner(tmp_path / "graphs" / "encode.onnx").run(None, {"x": images[:5]})[0]
    np.testing.assert_allclose(codes, ae.transform(images[:5]), atol=1e-5)
    np.testing.assert_allclose(decode.run(None, {"codes": codes})[0], ae.inverse_transform(codes), atol=1e-5)


@pytest.mark.parametrize("cls, words", [
    (AnomalyDetector, "neighbour search"), (Clusterer, "neighbour search"), (Imputer, "n_passes"),
    (Codec, "entropy coder"), (Recommender, "item ids"), (TextAutoEncoder, "tokenizer"),
])
def test_what_is_not_a_network_is_refused_with_the_reason(cls, words):
    with pytest.raises(ValueError, match=f"a {cls.__name__} cannot be exported to ONNX: .*{words}"):
        graphs_for(cls())


def test_a_categorical_column_is_refused_by_name(tmp_path):
    frame = pd.DataFrame({"x": np.arange(20.0), "colour": ["red", "blue"] * 10})
    ae = AutoEncoder(latent_dim=1, hidden_dims=(4,), max_iter=1, random_state=0).fit(frame)
    with pytest.raises(ValueError, match=r"\['colour'\] are categorical"):
        export_onnx(ae, tmp_path)
    assert not list(tmp_path.iterdir())  # nothing half-written
