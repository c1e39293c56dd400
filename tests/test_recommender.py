"""Recommender: learns who likes what from a log, folds in new users, ranks unseen items, explains by item
similarity; ranking metrics match hand-computed values; errors say what to do."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import torch

from aekit import Recommender, load
from aekit.cli import main
from aekit.data.sparse_rows import SparseRows
from aekit.metrics import ndcg_at_k, recall_at_k
from aekit.models.likelihood import MultinomialLikelihood

FAST = {"max_iter": 30, "hidden_dim": 32, "latent_dim": 8, "batch_size": 32, "random_state": 0}


@pytest.fixture(scope="module")
def log() -> pd.DataFrame:
    """240 users in two tastes: 'a' users take about 6 of items a0..a14, 'b' users of b0..b14; ratings 1-5, and
    only ratings >= 4 are real interest."""
    rng = np.random.default_rng(0)
    rows = []
    for u in range(240):
        taste = "a" if u % 2 == 0 else "b"
        for i in rng.choice(15, size=6, replace=False):
            rows.append((f"u{u}", f"{taste}{i}", int(rng.integers(4, 6))))
        other = "b" if taste == "a" else "a"
        rows.append((f"u{u}", f"{other}{int(rng.integers(15))}", 1))  # disliked: filtered out by min_rating
    return pd.DataFrame(rows, columns=["user", "item", "rating"])


@pytest.fixture(scope="module")
def fitted(log) -> Recommender:
    return Recommender(rating_col="rating", min_rating=4, **FAST).fit(log)


def test_it_recommends_from_the_users_own_taste(fitted):
    recs = fitted.recommend({"new-a": ["a0", "a1", "a2"], "new-b": ["b3", "b4"]}, k=5)
    assert list(recs.columns) == ["user", "rank", "item", "score"]
    for user, taste in (("new-a", "a"), ("new-b", "b")):
        top = recs[recs["user"] == user]
        assert list(top["rank"]) == [1, 2, 3, 4, 5]
        assert all(item.startswith(taste) for item in top["item"]), top
        assert not set(top["item"]) & {"a0", "a1", "a2", "b3", "b4"}  # seen items are not recommended
        assert top["score"].is_monotonic_decreasing
    # A held-out item is one of the ~9 unseen items of the user's taste: ranking those first (in any order) scores
    # about 0.45, a random ranking of all unseen items about 0.3.
    assert fitted.validation_metrics_["NDCG@100"] > 0.4 and min(fitted.best_epoch_) >= 1


def test_a_known_user_and_the_same_history_folded_in_score_alike(fitted, log):
    history = log[(log["user"] == "u4") & (log["rating"] >= 4)]
    folded = fitted.predict_scores(history.assign(user="someone new"))
    known = fitted.predict_scores(["u4"])
    np.testing.assert_allclose(folded, known, rtol=1e-5)
    assert known.shape == (1, len(fitted.item_ids_)) and abs(known.sum() - 1) < 1e-4
    assert sorted(fitted.item_ids_) == list(fitted.item_ids_) and len(fitted.item_ids_) == 30


def test_a_sparse_matrix_in_gives_scores_in_its_column_order(rng):
    m = sp.random(60, 12, density=0.3, format="csr", random_state=0)
    m.data[:] = 1
    rec = Recommender(kind="mult-dae", validation_fraction=0, **FAST).fit(m)
    assert list(rec.item_ids_) == list(range(12)) and rec.best_epoch_ == [30] * rec.n_members and rec.n_iter_ == 30
    assert rec.predict_scores(m[:5]).shape == (5, 12)
    with pytest.raises(ValueError, match="13 columns but the model knows 12 items"):
        rec.predict_scores(sp.csr_matrix((2, 13)))


def test_similar_items_come_from_the_same_taste(log):
    # Trained past the epoch the validation users favour: output embeddings need longer than the ranking.
    rec = Recommender(rating_col="rating", min_rating=4, validation_fraction=0, **{**FAST, "max_iter": 60}).fit(log)
    similar = rec.similar_items("a3", k=29)
    assert list(similar.columns) == ["item", "similarity"] and "a3" not in set(similar["item"])
    assert all(item.startswith("a") for item in similar["item"][:5])
    by_taste = similar.groupby(similar["item"].str[0])["similarity"].mean()
    assert by_taste["a"] - by_taste["b"] > 0.5
    with pytest.raises(ValueError, match="item 'zz' was not seen in fit"):
        rec.similar_items("zz")


def test_errors_say_what_to_do(fitted, log):
    with pytest.raises(ValueError, match="not seen in fit .*'nobody'.*pass their histories"):
        fitted.recommend(["u1", "nobody"])
    with pytest.warns(UserWarning, match="1 interaction\\(s\\) name items the model was not fitted on"):
        fitted.recommend({"x": ["a1", "zzz"]})
    with pytest.warns(UserWarning), pytest.raises(ValueError, match="1 user\\(s\\) have an empty history \\('x'\\)"):
        fitted.recommend({"x": ["zzz"]})
    strict = Recommender(unknown_items="error", **FAST).fit(log)
    with pytest.raises(ValueError, match="name items the model was not fitted on.*unknown_items='ignore'"):
        strict.recommend({"x": ["zzz"]})
    with pytest.raises(ValueError, match=r"column\(s\) \['user_id'\] not in the interactions.*--user-col"):
        Recommender(user_col="user_id").fit(log)
    with pytest.raises(ValueError, match="min_rating needs rating_col"):
        Recommender(min_rating=4).fit(log)
    with pytest.raises(ValueError, match="no interactions left with rating >= 9"):
        Recommender(rating_col="rating", min_rating=9).fit(log)
    with pytest.raises(ValueError, match="k must be a positive whole number"):
        fitted.recommend(["u1"], k=0)


def test_save_and_load_keep_scores_and_histories(fitted, tmp_path):
    fitted.save(tmp_path / "rec")
    again = load(tmp_path / "rec")
    assert isinstance(again, Recommender)
    np.testing.assert_array_equal(again.predict_scores(["u0", "u7"]), fitted.predict_scores(["u0", "u7"]))
    pd.testing.assert_frame_equal(again.recommend(["u3"], k=4), fitted.recommend(["u3"], k=4))
    assert again.validation_metrics_ == fitted.validation_metrics_


def test_ranking_metrics_match_hand_computed_values():
    scores = np.array([[0.9, 0.8, 0.1, 0.5], [0.1, 0.2, 0.3, 0.4]])
    held = sp.csr_matrix(np.array([[0, 1, 1, 0], [0, 0, 0, 0]]))
    # user 0 ranks items 0, 1, 3, 2: hits at ranks 2 and 4 of 2 relevant items
    ndcg = ndcg_at_k(scores, held, k=4)
    assert ndcg[0] == pytest.approx((1 / np.log2(3) + 1 / np.log2(5)) / (1 + 1 / np.log2(3)))
    assert np.isnan(ndcg[1])  # nothing held out: not scored
    assert recall_at_k(scores, held, k=2)[0] == pytest.approx(0.5)
    assert recall_at_k(scores, held, k=1)[0] == pytest.approx(0.0)


def test_multinomial_likelihood_and_sparse_batches():
    lik = MultinomialLikelihood()
    logits = torch.tensor([[0.0, 0.0, 0.0, 0.0]])
    counts = torch.tensor([[1.0, 0.0, 2.0, 0.0]])
    assert lik.nll(logits, counts).item() == pytest.approx(3 * np.log(4))
    assert torch.allclose(lik.mean(logits), torch.full((1, 4), 0.25))
    m = sp.csr_matrix(np.arange(20, dtype=np.float32).reshape(10, 2))
    rows = SparseRows(m)
    torch.manual_seed(0)
    batches = list(rows.epoch(4))
    assert [len(b) for b in batches] == [4, 4, 2]
    got = np.sort(np.concatenate([b.x.numpy()[:, 0] for b in batches]))
    np.testing.assert_array_equal(got, np.arange(0, 20, 2))


def test_cli_fits_and_recommends(log, tmp_path, capsys):
    log.to_csv(tmp_path / "log.csv", index=False)
    run = tmp_path / "rec"
    assert main(["recommend", "fit", str(tmp_path / "log.csv"), "--rating-col", "rating", "--min-rating", "4",
                 "--epochs", "5", "--out", str(run), "-q"]) == 0
    assert (run / "report.html").is_file() and "held-out users" in (run / "report.html").read_text()
    pd.DataFrame({"user": ["u0", "u1"]}).to_csv(tmp_path / "users.csv", index=False)
    assert main(["recommend", str(run), "--users", str(tmp_path / "users.csv"), "--k", "3",
                 "--out", str(tmp_path / "recs.csv")]) == 0
    recs = pd.read_csv(tmp_path / "recs.csv")
    assert len(recs) == 6 and set(recs["user"]) == {"u0", "u1"}
    capsys.readouterr()
    assert main(["recommend", str(run), "--users", str(tmp_path / "log.csv"), "--out", str(tmp_path / "r.txt")]) == 2
    assert "--out must end in one of .csv, .parquet" in capsys.readouterr().err
    assert main(["recommend"]) == 2
    small = tmp_path / "small"
    assert main(["recommend", "fit", str(tmp_path / "log.csv"), "--epochs", "2", "--members", "1",
                 "--linear-path", "off", "--out", str(small), "-q"]) == 0
    rec = load(small)
    assert len(rec.models_) == 1 and rec.config_.linear_path is None
    assert main(["recommend", "fit", str(tmp_path / "log.csv"), "--members", "0", "--out", str(tmp_path / "z")]) == 2
    assert "n_members" in capsys.readouterr().err


def test_members_are_averaged_and_the_linear_path_takes_part(log):
    """The score is the mean of the members' probabilities, each including its item-item path (a Mult- kind:
    RecVAE goes without one)."""
    from aekit.estimators.ranking import item_probabilities

    fitted = Recommender(kind="mult-vae", rating_col="rating", min_rating=4, **{**FAST, "max_iter": 5}).fit(log)
    _, rows = fitted._histories(["u0", "u5"])
    assert len(fitted.models_) == fitted.n_members == 3
    each = [item_probabilities([m], rows, fitted.device_) for m in fitted.models_]
    np.testing.assert_allclose(fitted.predict_scores(["u0", "u5"]), np.mean(each, axis=0), rtol=1e-5)
    assert not np.allclose(each[0], each[1])  # different seeds, different models
    model = fitted.models_[0]
    x = torch.from_numpy(rows.toarray())
    assert model.linear_path is not None and model.linear_path.weight.abs().sum() > 0  # the path was trained
    without = model.decode(model.encode(x))  # the code alone
    assert not torch.allclose(model.reconstruct(x), without)


def test_the_linear_path_cannot_copy_an_item_to_itself():
    from aekit.models import AutoEncoderModel, ModelConfig

    config = ModelConfig(input_shape=(6,), latent_dim=2, encoder={"name": "bag", "hidden": [4]},
                         likelihood={"name": "multinomial"}, linear_path={"l2": 0.5})
    assert ModelConfig.from_dict(config.to_dict()) == config
    assert "linear_path" not in ModelConfig(input_shape=(6,), latent_dim=2).to_dict()  # older readers see no change
    model = AutoEncoderModel(config)
    with torch.no_grad():
        model.linear_path.weight.copy_(torch.randn(6, 6))
    x = torch.eye(6)
    # item i alone in a history: the path adds row i of the map, whose own entry is 0
    np.testing.assert_allclose(torch.diagonal(model.linear_path(x)).detach().numpy(), 0.0)
    from aekit.data.batches import Batch

    terms = model.loss(Batch(x))
    off = model.linear_path.weight.detach() * (1 - torch.eye(6))
    assert terms["linear_path_l2"].item() == pytest.approx(off.square().sum().item(), rel=1e-5)
    with pytest.raises(ValueError, match="flat inputs"):
        AutoEncoderModel(ModelConfig(input_shape=(1, 4, 4), latent_dim=2, encoder={"name": "conv"},
                                     linear_path={"l2": 0.0}))


def test_linear_path_auto_leaves_large_catalogues_and_recvae_alone(monkeypatch):
    from aekit.estimators import recommender

    assert Recommender(kind="mult-vae")._model_config(30).linear_path is not None  # 30 items: on
    assert Recommender(kind="recvae")._model_config(30).linear_path is None
    monkeypatch.setattr(recommender, "LINEAR_PATH_MAX_ITEMS", 10)
    assert Recommender(kind="mult-dae")._model_config(30).linear_path is None
    assert Recommender(linear_path=True)._model_config(30).linear_path.l2 == 1e-3


def test_the_linear_path_sees_dropped_histories_at_the_scale_of_whole_ones():
    """Masking hides half the items in training; the linear path's input is scaled back up so that a history sums to
    the same on average in training and afterwards (otherwise the path speaks twice as loud at prediction)."""
    from aekit.models.corruption import build_corruption

    masking = build_corruption({"name": "masking", "level": 0.5}).train()
    torch.manual_seed(0)
    x = torch.ones(2000, 50)
    assert masking.unbiased(masking(x)).mean().item() == pytest.approx(1.0, abs=0.01)
    masking.eval()
    assert torch.equal(masking.unbiased(masking(x)), x)
    assert torch.equal(build_corruption({"name": "gaussian", "level": 0.1}).unbiased(x), x)
    assert torch.equal(build_corruption(None).train().unbiased(x), x)

    # and the model's training loss uses it: recompute the loss by hand from the same random mask
    from aekit.data.batches import Batch
    from aekit.models import AutoEncoderModel, ModelConfig

    config = ModelConfig(input_shape=(6,), latent_dim=2, encoder={"name": "bag", "hidden": [4]},
                         likelihood={"name": "multinomial"}, corruption={"name": "masking", "level": 0.5},
                         linear_path={"l2": 0.0})
    model = AutoEncoderModel(config).train()
    with torch.no_grad():
        model.linear_path.weight.copy_(torch.randn(6, 6))
    h = torch.bernoulli(torch.full((64, 6), 0.5))
    torch.manual_seed(1)
    got = model.loss(Batch(h))["recon"]
    torch.manual_seed(1)
    kept = model.corruption(h)
    params = model.decoder_params(model.bottleneck(model.encoder(kept)).z) + model.linear_path(kept * 2)
    assert got.item() == pytest.approx(model.likelihood.batch_nll(params, h, None).item(), rel=1e-5)


def test_the_default_kind_is_recvae_shaped(fitted):
    """Five layer-normed swish layers, a one-layer decoder, a KL weighed per item, and no item-item path."""
    model = fitted.models_[0]
    assert fitted.kind == "recvae" and fitted.config_.linear_path is None and model.linear_path is None
    assert len(model.encoder.layers) == 5
    assert all(isinstance(norm, torch.nn.LayerNorm) for norm in model.encoder.norms)
    assert isinstance(model.encoder.act, torch.nn.SiLU)
    assert len(model.decoder.layers) == 1 and model.decoder.layers[0].in_features == FAST["latent_dim"]
    assert model.bottleneck.kl_by_input_sum and model.bottleneck.beta == pytest.approx(0.005)


def test_kl_by_input_sum_weighs_each_row_by_its_history_length():
    from aekit.models.bottleneck import GaussianBottleneck, gaussian_kl

    torch.manual_seed(0)
    plain = GaussianBottleneck(4, 3, GaussianBottleneck.Config(beta=0.5))
    weighed = GaussianBottleneck(4, 3, GaussianBottleneck.Config(beta=0.5, kl_by_input_sum=True))
    weighed.load_state_dict(plain.state_dict())
    h = torch.randn(2, 4)
    x = torch.tensor([[1.0, 0.0, 1.0], [1.0, 1.0, 1.0]])  # histories of 2 and 3 items
    per_row = gaussian_kl(*plain.linear(h).chunk(2, dim=1))
    assert plain(h, x).terms["kl"].value.item() == pytest.approx(per_row.mean().item(), rel=1e-6)
    got = weighed(h, x).terms["kl"]
    assert got.value.item() == pytest.approx(((2 * per_row[0] + 3 * per_row[1]) / 2).item(), rel=1e-6)
    assert got.weight == 0.5
    with pytest.raises(ValueError, match="importance-weighted bound"):
        GaussianBottleneck(4, 3, GaussianBottleneck.Config(samples=4, kl_by_input_sum=True))


def test_the_composed_model_hands_the_history_to_a_kl_weighed_by_it():
    """Through the model's loss, not the bottleneck alone: each row's KL counts its history's length times."""
    from aekit.data.batches import Batch
    from aekit.models import AutoEncoderModel, ModelConfig
    from aekit.models.bottleneck import gaussian_kl

    config = ModelConfig(input_shape=(6,), latent_dim=2, encoder={"name": "bag", "hidden": [4]},
                         bottleneck={"name": "gaussian", "kl_by_input_sum": True}, likelihood={"name": "multinomial"})
    torch.manual_seed(0)
    model = AutoEncoderModel(config).eval()  # no corruption, the mean as the code
    x = torch.tensor([[1.0, 1, 0, 0, 0, 0], [1, 1, 1, 1, 0, 0]])
    with torch.no_grad():
        per_row = gaussian_kl(*model.bottleneck.linear(model.encoder_features(x)).chunk(2, dim=1))
        assert model.loss(Batch(x))["kl"].item() == pytest.approx(((2 * per_row[0] + 4 * per_row[1]) / 2).item(),
                                                                  rel=1e-6)
