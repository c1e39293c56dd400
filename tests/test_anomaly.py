"""AnomalyDetector: PyOD's contract, the score sign, explanations, persistence and a quality floor."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from aekit import AnomalyDetector
from aekit.data.scaling import RankGaussScaler


@pytest.fixture(scope="module")
def blobs():
    """Inliers on a 2-d plane inside 8-d space; outliers off the plane: reconstructable vs not."""
    rng = np.random.default_rng(0)
    basis = rng.normal(size=(2, 8))
    inliers = rng.normal(size=(400, 2)) @ basis + 0.05 * rng.normal(size=(400, 8))
    outliers = rng.normal(size=(20, 8)) * 2.0
    X = np.vstack([inliers, outliers]).astype(np.float32)
    y = np.r_[np.zeros(400), np.ones(20)].astype(int)
    return X, y


@pytest.fixture(scope="module")
def fitted(blobs):
    X, _ = blobs
    return AnomalyDetector(contamination=0.05, n_estimators=3, random_state=0).fit(X)


def test_scores_rank_outliers_high_and_follow_pyod_conventions(fitted, blobs):
    X, y = blobs
    assert roc_auc_score(y, fitted.decision_scores_) > 0.95  # higher score = more anomalous
    # A training row is never its own neighbour, while fitting or after: scoring the rows again changes nothing.
    np.testing.assert_allclose(fitted.decision_function(X), fitted.decision_scores_, rtol=1e-6, atol=1e-9)
    assert set(np.unique(fitted.labels_)) <= {0, 1}
    assert fitted.labels_.mean() == pytest.approx(0.05, abs=0.01)
    np.testing.assert_array_equal(fitted.predict(X), fitted.labels_)
    proba = fitted.predict_proba(X)
    assert proba.shape == (len(X), 2) and np.allclose(proba.sum(axis=1), 1)
    assert proba[y == 1, 1].mean() > proba[y == 0, 1].mean()


def test_a_row_scores_the_same_alone_as_in_a_batch(fitted, blobs):
    """Table members score in float64: float32 kernels round by batch size, and the code part magnifies that."""
    X, _ = blobs
    together = fitted.decision_function(X[:40])
    alone = np.array([fitted.decision_function(X[i : i + 1])[0] for i in range(40)])
    np.testing.assert_allclose(alone, together, rtol=1e-10, atol=1e-12)


def test_explanations_name_the_feature_that_was_corrupted(fitted, blobs):
    X, _ = blobs
    rows = X[:50].copy()
    rows[:, 5] += 6.0  # push one feature off the learned plane
    expl = fitted.explain(rows, top=2)
    assert list(expl.columns) == ["feature_1", "contribution_1", "feature_2", "contribution_2"]
    assert (expl["feature_1"] == "x5").mean() > 0.9
    assert (expl["contribution_1"] >= expl["contribution_2"]).all()


def test_save_load_gives_identical_scores(fitted, blobs, tmp_path):
    X, _ = blobs
    fitted.save(tmp_path / "det")
    loaded = AnomalyDetector.load(tmp_path / "det")
    np.testing.assert_array_equal(loaded.decision_function(X), fitted.decision_function(X))
    assert loaded.threshold_ == fitted.threshold_
    (tmp_path / "det" / "model.safetensors").write_bytes(b"junk")
    with pytest.raises(ValueError, match="damaged"):
        AnomalyDetector.load(tmp_path / "det")


def test_dataframe_with_categories_and_clone_and_pipeline(blobs):
    rng = np.random.default_rng(1)
    X, _ = blobs
    df = pd.DataFrame(X[:, :4], columns=list("abcd"))
    df["kind"] = rng.choice(["p", "q"], size=len(df))
    det = AnomalyDetector(n_estimators=2, random_state=0).fit(df)
    expl = det.explain(df.head(5), top=1)
    assert set(expl["feature_1"]) <= {"a", "b", "c", "d", "kind"}
    assert clone(det).get_params() == det.get_params()
    pipe = make_pipeline(StandardScaler(), AnomalyDetector(n_estimators=2, random_state=0)).fit(X)
    assert pipe.decision_function(X).shape == (len(X),)


def test_images_use_conv_members_and_explain_regions(digits):
    X, _ = digits
    det = AnomalyDetector(n_estimators=1, max_iter=3, random_state=0).fit(X[:200])
    assert det.members_[0].config_.encoder.name == "conv"
    expl = det.explain(X[:3], top=1)
    assert expl["feature_1"].str.startswith("rows ").all()


def test_bad_input_is_rejected(fitted):
    with pytest.raises(ValueError, match="row 1, column 0"):
        AnomalyDetector().fit(np.array([[1.0, 2.0], [np.nan, 1.0], [0.0, 0.0]]))
    with pytest.raises(ValueError, match="8 features|shape"):
        fitted.decision_function(np.zeros((3, 5)))
    with pytest.raises(ValueError, match="contamination"):
        AnomalyDetector(contamination=0.9).fit(np.zeros((10, 2)))


def test_rank_gauss_survives_heavy_tails_and_constant_columns():
    rng = np.random.default_rng(0)
    X = np.c_[rng.standard_cauchy(2000), np.full(2000, 7.0), rng.normal(size=2000)]
    scaler = RankGaussScaler().fit(X)
    Z = scaler.transform(X)
    assert np.isfinite(Z).all()
    assert Z[:, 0].std() == pytest.approx(1.0, abs=0.05)  # the Cauchy column arrives unit-scale
    assert np.all(Z[:, 1] == 0)  # constant column: zero, not NaN
    beyond = scaler.transform(np.array([[X[:, 0].max() + 100, 8.0, 0.0]]))
    assert beyond[0, 0] > Z[:, 0].max()  # unseen extremes are not clipped to the training range
    assert beyond[0, 1] == pytest.approx(1.0)
    again = RankGaussScaler.from_dict(scaler.to_dict()).transform(X)
    np.testing.assert_array_equal(again, Z)


def test_missing_cells_are_left_out_of_the_score_and_the_explanation():
    """A hole is filled with the column mean for the members' input, but the filled value is not scored: it
    disagrees with the row's other columns, and it must not be what a row is flagged or explained for."""
    rng = np.random.default_rng(0)
    a = rng.normal(size=1500)
    df = pd.DataFrame({"a": a, "b": a + 0.05 * rng.normal(size=1500), "c": -a + 0.05 * rng.normal(size=1500),
                       "d": rng.normal(size=1500)})
    holes = rng.choice(np.flatnonzero(np.abs(a) > 1.5), size=40, replace=False)  # where the mean is far off
    df.loc[holes, "b"] = np.nan
    det = AnomalyDetector(random_state=0).fit(df)
    explained = det.explain(df.iloc[holes], top=2)
    assert (explained["feature_1"] != "b").all() and (explained["feature_2"] != "b").all()
    x, observed = det._scaled(df.iloc[holes], reset=False)
    for (_, recon), member in zip(det._member_outputs(x, observed), det.members_):
        sq = member.feature_errors(x)
        b = list(df.columns).index("b")
        np.testing.assert_allclose(recon, np.delete(sq, b, axis=1).mean(axis=1), rtol=1e-6)
