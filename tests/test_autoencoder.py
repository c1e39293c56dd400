"""The estimator: every kind trains, inputs are checked, save/load and the encoder round-trip."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from aekit import KINDS, AutoEncoder, Encoder


@pytest.fixture(scope="module")
def small_digits(digits):
    X, y = digits
    return X[:400], y[:400]


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_trains_and_lowers_its_loss(kind, small_digits):
    X, _ = small_digits
    ae = AutoEncoder(kind=kind, latent_dim=4, max_iter=8, random_state=0, early_stopping=False)
    ae.fit(X if kind == "conv" else X.reshape(len(X), -1))
    assert ae.loss_curve_[-1] < 0.9 * ae.loss_curve_[0]
    codes = ae.transform(X if kind == "conv" else X.reshape(len(X), -1))
    assert codes.shape == (len(X), 4) and np.isfinite(codes).all()


@pytest.mark.parametrize(
    "params",
    [
        {"kind": "vae", "encoder": "conv", "corruption": "gaussian"},  # denoising convolutional VAE
        {"kind": "deep", "sparsity": "l1"},  # sparse deep AE
        {"kind": "conv", "corruption": "salt-and-pepper", "sparsity": "kl"},
    ],
)
def test_parts_combine(params, small_digits):
    X, _ = small_digits
    ae = AutoEncoder(**params, latent_dim=4, max_iter=3, random_state=0).fit(X)
    terms = {k[6:] for k in ae.history_[0] if k.startswith("train_")}
    if params.get("kind") == "vae":
        assert {"recon", "kl"} <= terms and ae.config_.encoder.name == "conv" and ae.config_.corruption.name == "gaussian"
    if "sparsity" in params:
        assert "sparsity" in terms
    assert ae.reconstruct(X).shape == X.shape


def test_vae_code_is_deterministic_at_inference(small_digits):
    X, _ = small_digits
    ae = AutoEncoder(kind="vae", latent_dim=3, max_iter=2, random_state=0).fit(X)
    np.testing.assert_array_equal(ae.transform(X), ae.transform(X))


def test_same_seed_same_model_and_different_seed_differs(small_digits):
    X, _ = small_digits
    a = AutoEncoder(latent_dim=3, max_iter=2, random_state=1).fit(X).transform(X)
    b = AutoEncoder(latent_dim=3, max_iter=2, random_state=1).fit(X).transform(X)
    c = AutoEncoder(latent_dim=3, max_iter=2, random_state=2).fit(X).transform(X)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_save_load_gives_identical_outputs(tmp_path, small_digits):
    X, _ = small_digits
    ae = AutoEncoder(kind="conv", latent_dim=5, max_iter=2, random_state=0).fit(X)
    ae.save(tmp_path / "run")
    assert {p.name for p in (tmp_path / "run").iterdir()} >= {"config.json", "model.safetensors",
                                                              "preprocess.json", "history.csv"}
    loaded = AutoEncoder.load(tmp_path / "run")
    np.testing.assert_array_equal(loaded.transform(X), ae.transform(X))
    np.testing.assert_array_equal(loaded.reconstruct(X), ae.reconstruct(X))
    assert loaded.get_params()["kind"] == "conv" and loaded.n_iter_ == ae.n_iter_
    assert [r["train_total"] for r in loaded.history_] == pytest.approx(ae.loss_curve_)


def test_encoder_alone_is_saved_and_gives_the_same_codes(tmp_path, small_digits):
    X, _ = small_digits
    ae = AutoEncoder(latent_dim=5, max_iter=2, random_state=0).fit(X)
    ae.encoder_.save(tmp_path / "enc")
    enc = Encoder.load(tmp_path / "enc")
    np.testing.assert_array_equal(enc.transform(X), ae.transform(X))
    from safetensors.torch import load_file

    keys = load_file(tmp_path / "enc" / "model.safetensors").keys()
    assert keys and not any(k.startswith("decoder.") for k in keys)


@pytest.mark.parametrize(
    "damage, match",
    [
        (lambda d: (d / "model.safetensors").write_bytes(b"\x00garbage"), "damaged"),
        (lambda d: (d / "config.json").write_text("{not json"), "not valid JSON"),
        (lambda d: (d / "config.json").write_text('{"format": "someone-else/9"}'), "format"),
        (lambda d: (d / "model.safetensors").unlink(), "not found"),
    ],
)
def test_damaged_or_foreign_model_dir_gives_clear_error(tmp_path, small_digits, damage, match):
    X, _ = small_digits
    AutoEncoder(latent_dim=2, max_iter=1, random_state=0).fit(X[:50]).save(tmp_path / "m")
    damage(tmp_path / "m")
    with pytest.raises((ValueError, FileNotFoundError), match=match):
        AutoEncoder.load(tmp_path / "m")


def test_nan_and_inf_are_rejected_naming_row_and_column(rng):
    X = rng.normal(size=(30, 4))
    X[7, 2] = np.nan
    with pytest.raises(ValueError, match=r"row 7, column 2"):
        AutoEncoder(max_iter=1).fit(X)
    X[7, 2] = 0.0
    ae = AutoEncoder(max_iter=1, random_state=0).fit(X)
    X2 = X.copy()
    X2[3, 1] = np.inf
    with pytest.raises(ValueError, match=r"inf at row 3, column 1"):
        ae.transform(X2)


@pytest.mark.parametrize(
    "X, error, match",
    [
        (np.zeros((0, 4)), ValueError, "empty"),
        (np.zeros(5), ValueError, r"Reshape your data: X.reshape\(1, -1\)"),
        (np.zeros((4, 0)), ValueError, "0 feature"),
        (np.ones((3, 2), dtype=complex), ValueError, "Complex"),
        (np.zeros((2, 2, 2, 2, 2)), ValueError, "must have shape"),
        ("data.csv", TypeError, "array-like"),
        (None, TypeError, "array-like"),
        ([["a", "b"], ["c", "d"]], TypeError, "DataFrame"),
    ],
)
def test_bad_inputs_are_rejected_clearly(X, error, match):
    with pytest.raises(error, match=match):
        AutoEncoder(max_iter=1).fit(X)


def test_wrong_shape_at_transform_and_conv_on_tables(rng, small_digits):
    ae = AutoEncoder(max_iter=1, random_state=0).fit(rng.normal(size=(20, 4)))
    with pytest.raises(ValueError, match="4 features"):
        ae.transform(rng.normal(size=(3, 5)))
    X, _ = small_digits
    conv = AutoEncoder(kind="conv", max_iter=1, random_state=0).fit(X[:20])
    with pytest.raises(ValueError, match=r"\(1, 8, 8\)"):
        conv.transform(X[:5, :, :4, :4])
    with pytest.raises(ValueError, match="needs images"):
        AutoEncoder(kind="conv", max_iter=1).fit(rng.normal(size=(20, 4)))
    with pytest.raises(ValueError, match="latent_dim"):
        AutoEncoder(latent_dim=0).fit(rng.normal(size=(20, 4)))


def test_dataframe_with_categories_and_missing_values_round_trips(rng):
    n = 120
    df = pd.DataFrame({
        "x": rng.normal(size=n),
        "y": rng.normal(size=n) * 10 + 3,
        "colour": rng.choice(["red", "green", "blue"], size=n),
    })
    df.loc[5, "x"] = np.nan
    df.loc[9, "colour"] = None
    ae = AutoEncoder(latent_dim=2, max_iter=30, random_state=0).fit(df)
    assert ae.config_.likelihood.name == "mixed"
    out = ae.reconstruct(df)
    assert isinstance(out, pd.DataFrame) and list(out.columns) == ["x", "y", "colour"]
    assert set(out["colour"]) <= {"red", "green", "blue"}
    assert abs(out["y"].mean() - df["y"].mean()) < 3  # un-scaled back to the original units
    err = ae.reconstruction_error(df)
    assert err.shape == (n,) and np.isfinite(err).all()
    assert list(ae.feature_names_in_) == ["x", "y", "colour"]


def test_pipeline_and_clone(small_digits):
    X, y = small_digits
    flat = X.reshape(len(X), -1)
    # Estimator defaults (epochs, batch size, widths) adapt to 300 rows: no tuning here.
    pipe = make_pipeline(AutoEncoder(latent_dim=8, random_state=0), StandardScaler(), LogisticRegression())
    pipe.fit(flat[:300], y[:300])
    assert pipe.score(flat[300:], y[300:]) > 0.8  # codes carry class information; chance is 0.1
    twin = clone(AutoEncoder(kind="sparse", latent_dim=3))
    assert twin.get_params()["kind"] == "sparse" and not hasattr(twin, "model_")


def test_stacked_pretraining_runs_one_stage_per_layer(small_digits):
    X, _ = small_digits
    ae = AutoEncoder(kind="stacked", latent_dim=4, hidden_dims=(32, 16), max_iter=10, random_state=0).fit(X)
    assert len(ae.pretrain_history_) == 3  # two hidden layers and the code layer
    # Pre-training made the fine-tuning start far better than a random network does.
    plain = AutoEncoder(kind="deep", latent_dim=4, hidden_dims=(32, 16), max_iter=10, random_state=0).fit(X)
    assert ae.loss_curve_[0] < plain.loss_curve_[0]


def test_resume_from_checkpoint_dir_continues_the_run(tmp_path, small_digits):
    X, _ = small_digits
    params = dict(latent_dim=3, random_state=0, checkpoint_dir=str(tmp_path), early_stopping=False)
    first = AutoEncoder(max_iter=2, **params).fit(X)  # stands for a run that stopped after epoch 2
    resumed = AutoEncoder(max_iter=4, **params).fit(X, resume=True)
    assert [int(r["epoch"]) for r in resumed.history_] == [1, 2, 3, 4]
    assert resumed.history_[:2] == first.history_  # the first two epochs come from the checkpoint
    assert resumed.loss_curve_[3] < resumed.loss_curve_[1]  # and training went on from there
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        AutoEncoder(max_iter=2, latent_dim=3, checkpoint_dir=str(tmp_path / "empty")).fit(X, resume=True)


def test_conv_default_plans_40_epochs_at_a_higher_rate_while_other_kinds_keep_theirs():
    X = np.random.default_rng(0).random((64, 1, 8, 8), dtype=np.float32)
    conv = AutoEncoder(kind="conv", latent_dim=4, early_stopping=False, random_state=0).fit(X)
    assert conv.budget_["max_epochs"] == 40 and conv.n_iter_ == 40 and conv.budget_["learning_rate"] == 1e-2
    assert conv.history_[0]["lr"] == pytest.approx(1e-2, rel=0.01)  # the rate the trainer used, not just a record
    assert conv.history_[-1]["lr"] < 1e-3  # and the schedule has decayed by the planned end
    mine = AutoEncoder(kind="conv", latent_dim=4, learning_rate=3e-3, early_stopping=False, random_state=0).fit(X)
    assert mine.history_[0]["lr"] == pytest.approx(3e-3, rel=0.01)  # a rate the user sets wins
    deep = AutoEncoder(kind="deep", latent_dim=4, random_state=0).fit(X.reshape(64, -1))
    assert deep.budget_["learning_rate"] == 1e-3 and deep.history_[0]["lr"] == pytest.approx(1e-3, rel=0.01)
    assert deep.budget_["max_epochs"] == 500  # tables still aim for ~20,000 steps (early stopping ends them)


def test_dense_kinds_default_to_a_linear_path_that_keeps_small_data_near_pca(digits):
    """300 rows are too few for a deep model's layers alone: held-out rows reconstruct over twice as badly as
    with PCA. The linear path beside the layers closes most of that gap (here 2.2x -> 1.26x PCA's error)."""
    from sklearn.decomposition import PCA

    X = digits[0].reshape(len(digits[0]), -1)
    train, test = X[:300], X[1000:]
    with_path = AutoEncoder(kind="deep", latent_dim=16, random_state=0).fit(train)
    without = AutoEncoder(kind="deep", latent_dim=16, linear_path=False, random_state=0).fit(train)
    pca = PCA(16).fit(train)
    pca_mse = float(np.mean((pca.inverse_transform(pca.transform(test)) - test) ** 2))
    with_mse, without_mse = (float(ae.reconstruction_error(test).mean()) for ae in (with_path, without))
    assert with_path.config_.encoder.settings.linear_path is True and without.config_.encoder.settings.linear_path is False
    assert without_mse > 2 * pca_mse  # the failure the path is for
    assert with_mse < 1.5 * pca_mse and with_mse < 0.7 * without_mse


@pytest.mark.parametrize("kind, expected", [("basic", True), ("deep", True), ("denoising", True), ("sparse", True),
                                            ("contractive", True), ("stacked", False), ("vae", False)])
def test_which_kinds_have_a_linear_path(kind, expected):
    X = np.random.default_rng(0).random((40, 6), dtype=np.float32)
    ae = AutoEncoder(kind=kind, latent_dim=2, max_iter=1, random_state=0).fit(X)
    assert ae.config_.encoder.settings.linear_path is expected
    images = np.random.default_rng(0).random((16, 1, 8, 8), dtype=np.float32)
    conv_vae = AutoEncoder(kind="vae", encoder="conv", latent_dim=2, max_iter=1, random_state=0).fit(images)
    assert conv_vae.config_.encoder.settings.linear_path is True  # a conv encoder has one whatever the kind


def test_estimators_built_on_autoencoders_keep_the_dense_model_their_figures_were_measured_with():
    """The Imputer, the Clusterer and the detector's members were benchmarked without the dense linear path; a
    change of the kinds' default must not move their figures unnoticed."""
    from aekit import AnomalyDetector, Clusterer, Imputer

    X = np.random.default_rng(0).normal(size=(60, 5)).astype(np.float32)
    holed = X.copy()
    holed[::7, 1] = np.nan
    assert Imputer(max_iter=1, random_state=0).fit(holed).autoencoder_.config_.encoder.settings.linear_path is False
    clusterer = Clusterer(n_clusters=2, manifold=None, max_iter=1, random_state=0).fit(X)
    assert clusterer.autoencoder_.config_.encoder.settings.linear_path is False
    detector = AnomalyDetector(n_estimators=1, max_iter=1, random_state=0).fit(X)
    assert all(m.config_.encoder.settings.linear_path is False for m in detector.members_)


def test_linear_path_refused_where_it_cannot_be_built():
    X = np.random.default_rng(0).random((40, 6), dtype=np.float32)
    with pytest.raises(ValueError, match="layer-wise pre-training.*linear_path=True"):
        AutoEncoder(kind="stacked", linear_path=True, max_iter=1).fit(X)
    with pytest.raises(ValueError, match="linear_path=True needs an 'mlp' or 'conv' encoder"):
        AutoEncoder(encoder="bag", linear_path=True, max_iter=1).fit(X)


def test_conv_autoencoder_on_colour_non_square_images():
    X = np.random.default_rng(0).random((24, 3, 32, 48), dtype=np.float32)
    ae = AutoEncoder(kind="conv", latent_dim=6, max_iter=2, random_state=0).fit(X)
    assert ae.transform(X).shape == (24, 6)
    rec = ae.reconstruct(X)
    assert rec.shape == X.shape and X.min() <= rec.min() and rec.max() <= X.max()


def test_images_are_standardised_per_channel(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.random((40, 2, 8, 8), dtype=np.float32) * np.array([1.0, 0.5], np.float32).reshape(1, 2, 1, 1)
    ae = AutoEncoder(kind="conv", latent_dim=4, max_iter=2, loss="mse", random_state=0).fit(X)
    norm = ae.config_.input_norm
    assert ae.model_.standardised_output
    np.testing.assert_allclose(norm.mean, X.mean(axis=(0, 2, 3)), rtol=1e-5)
    np.testing.assert_allclose(norm.std, X.std(axis=(0, 2, 3)), rtol=1e-4)
    assert (norm.low, norm.high) == (pytest.approx(X.min()), pytest.approx(X.max()))
    ae.save(tmp_path / "m")
    np.testing.assert_array_equal(AutoEncoder.load(tmp_path / "m").reconstruct(X), ae.reconstruct(X))
    ae.encoder_.save(tmp_path / "enc")  # the encoder alone standardises the same way
    np.testing.assert_array_equal(Encoder.load(tmp_path / "enc").transform(X), ae.transform(X))
    auto = AutoEncoder(kind="conv", latent_dim=4, max_iter=1, random_state=0).fit(X)
    assert auto.config_.encoder.settings.norm == "batch" and auto.config_.encoder.settings.linear_path is True
    assert auto.config_.likelihood.name == "bce" and auto.config_.input_norm is not None
    assert not auto.model_.standardised_output  # logits are not pixels
    table = AutoEncoder(latent_dim=2, max_iter=1, random_state=0).fit(X.reshape(40, -1)[:, :6])
    assert table.config_.input_norm is None  # tables are scaled by the input mapping, not here
