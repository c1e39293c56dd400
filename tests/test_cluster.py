"""Clustering: the Hungarian accuracy metric, the Clusterer (codes -> UMAP -> mixture) and its run report."""

from __future__ import annotations

import numpy as np
import pytest

from aekit import Clusterer
from aekit.metrics import cluster_accuracy


def blobs(n_per: int, seed: int, d: int = 20, k: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """k well-separated Gaussian blobs in d dimensions: any working clusterer finds them."""
    rng = np.random.default_rng(seed)
    centres = np.random.default_rng(99).normal(scale=6.0, size=(k, d))
    y = np.repeat(np.arange(k), n_per)
    X = centres[y] + rng.normal(size=(k * n_per, d))
    return X.astype(np.float32), y


def test_cluster_accuracy_ignores_cluster_names_and_matches_one_to_one():
    y = np.array([0, 0, 1, 1, 2, 2])
    assert cluster_accuracy(y, np.array([5, 5, 3, 3, 9, 9])) == 1.0
    # Two classes merged into one cluster: only one of them can be matched to it.
    assert cluster_accuracy(y, np.array([0, 0, 0, 0, 1, 1])) == pytest.approx(4 / 6)
    assert cluster_accuracy(["a", "b", "b"], [1, 0, 0]) == 1.0
    with pytest.raises(ValueError, match="differ in length"):
        cluster_accuracy([0, 1], [0])


@pytest.mark.parametrize("manifold", ["umap", None])
def test_clusterer_finds_separated_blobs_and_assigns_new_rows(manifold):
    X, y = blobs(100, seed=0)
    c = Clusterer(n_clusters=3, manifold=manifold, max_iter=30, random_state=0).fit(X)
    assert cluster_accuracy(y, c.labels_) >= 0.98
    X_new, y_new = blobs(30, seed=1)
    assert cluster_accuracy(y_new, c.predict(X_new)) >= 0.98
    proba = c.predict_proba(X_new)
    assert proba.shape == (90, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert c.embedding_.shape == (300, 3 if manifold == "umap" else c.autoencoder_.config_.latent_dim)
    assert c.n_iter_ == c.autoencoder_.n_iter_


def test_clusterer_is_reproducible_and_fit_predict_gives_labels():
    X, _ = blobs(40, seed=2)
    a = Clusterer(n_clusters=3, max_iter=5, random_state=0).fit_predict(X)
    b = Clusterer(n_clusters=3, max_iter=5, random_state=0).fit(X).labels_
    np.testing.assert_array_equal(a, b)


def test_clusterer_rejects_too_few_rows_and_bad_input():
    with pytest.raises(ValueError, match="needs at least 5 samples"):
        Clusterer(n_clusters=5, max_iter=2, random_state=0).fit(np.random.default_rng(0).normal(size=(4, 3)))
    with pytest.raises(ValueError, match="contains nan"):
        Clusterer(n_clusters=2, max_iter=2).fit(np.array([[0.0, np.nan], [1.0, 2.0], [3.0, 4.0]]))
    with pytest.raises(ValueError, match="n_clusters"):
        Clusterer(n_clusters=0).fit(np.zeros((10, 2)))


def within_share(codes: np.ndarray, labels: np.ndarray) -> float:
    """Within-cluster share of the codes' total variance: smaller = tighter, better separated clusters."""
    within = sum(((codes[labels == c] - codes[labels == c].mean(0)) ** 2).sum() for c in np.unique(labels))
    return float(within / ((codes - codes.mean(0)) ** 2).sum())


def test_refinement_tightens_the_clusters_in_the_code_and_keeps_the_labels():
    X, _ = blobs(60, seed=3, k=4)
    X = X + np.random.default_rng(4).normal(scale=4.0, size=X.shape).astype(np.float32)  # overlapping blobs
    plain = Clusterer(n_clusters=4, manifold=None, refine_epochs=0, max_iter=20, random_state=0).fit(X)
    refined = Clusterer(n_clusters=4, manifold=None, refine_epochs=None, max_iter=20, random_state=0).fit(X)
    np.testing.assert_array_equal(plain.labels_, refined.labels_)  # refinement changes the code, not the clusters
    history = refined.refine_history_
    assert len(history) == 300 and history[-1]["train_cluster"] < history[0]["train_cluster"]
    before = within_share(plain.autoencoder_.transform(X), plain.labels_)
    after = within_share(refined.autoencoder_.transform(X), refined.labels_)
    assert after < 0.7 * before
    assert plain.refine_history_ == []


def test_save_and_load_keep_predictions(tmp_path):
    X, _ = blobs(40, seed=5)
    c = Clusterer(n_clusters=3, manifold=None, max_iter=5, refine_epochs=3, random_state=0).fit(X)
    c.save(tmp_path / "clusterer")
    loaded = Clusterer.load(tmp_path / "clusterer")
    np.testing.assert_array_equal(loaded.predict(X), c.predict(X))
    np.testing.assert_allclose(loaded.predict_proba(X), c.predict_proba(X))
    assert loaded.get_params() == {**c.get_params(), "device": "auto"}
    assert loaded.refine_history_ == c.refine_history_ and loaded.n_iter_ == c.n_iter_
    assert not any(p.suffix == ".pkl" for p in (tmp_path / "clusterer").rglob("*"))
