"""AnomalyDetector as a drop-in for a PyOD detector: PyOD's per-detector test suite (the checks PyOD runs on each of
its own detectors, e.g. ``pyod/test/test_knn.py``) run against it, and PyOD's prediction methods computed the same
way as PyOD's ``BaseDetector`` computes them."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import BaseEstimator, clone
from sklearn.metrics import roc_auc_score

from pyod.utils import data as pyod_data

from aekit import AnomalyDetector
from aekit.estimators.detector_api import PyODDetectorAPI


@pytest.fixture(scope="module")
def data():
    X_train, X_test, y_train, y_test = pyod_data.generate_data(n_train=200, n_test=100, n_features=5,
                                                               contamination=0.1, random_state=42)
    return X_train, X_test, y_train, y_test


@pytest.fixture(scope="module", params=[False, True], ids=["unsupervised", "novelty"])
def clf(request, data):
    X_train = data[0]
    if request.param:  # novelty: trained on the normal rows only
        X_train = X_train[data[2] == 0]
    return AnomalyDetector(contamination=0.1, novelty=request.param, n_estimators=2, random_state=0).fit(X_train)


def test_parameters(clf):
    assert clf.decision_scores_ is not None and clf.labels_ is not None and clf.threshold_ is not None


def test_train_scores(clf):
    assert clf.decision_scores_.shape == clf.labels_.shape


def test_prediction_scores(clf, data):
    scores = clf.decision_function(data[1])
    assert scores.shape == data[3].shape
    assert roc_auc_score(data[3], scores) >= 0.8


def test_prediction_labels(clf, data):
    assert clf.predict(data[1]).shape == data[3].shape
    np.testing.assert_array_equal(clf.predict(data[1]), clf.decision_function(data[1]) > clf.threshold_)
    np.testing.assert_array_equal(clf.labels_, clf.decision_scores_ > clf.threshold_)


def test_the_rate_behind_the_probabilities_is_the_modes_own(clf, data):
    """PyOD's rejection statistics use the expected outlier rate: ``contamination`` unsupervised, the target
    ``false_alarm_rate`` with novelty=True."""
    rate = clf.false_alarm_rate if clf.novelty else clf.contamination
    other = clone(clf).set_params(**({"false_alarm_rate": 0.2} if clf.novelty else {"contamination": 0.2}))
    other.fit(data[0][data[2] == 0] if clf.novelty else data[0])
    assert rate != 0.2 and clf.compute_rejection_stats() != other.compute_rejection_stats()


def test_prediction_proba(clf, data):
    proba = clf.predict_proba(data[1])
    assert proba.min() >= 0 and proba.max() <= 1


def test_prediction_proba_linear(clf, data):
    proba = clf.predict_proba(data[1], method="linear")
    assert proba.min() >= 0 and proba.max() <= 1


def test_prediction_proba_unify(clf, data):
    proba = clf.predict_proba(data[1], method="unify")
    assert proba.min() >= 0 and proba.max() <= 1


def test_prediction_proba_parameter(clf, data):
    with pytest.raises(ValueError, match="'something' is not a probability conversion method"):
        clf.predict_proba(data[1], method="something")


def test_prediction_labels_confidence(clf, data):
    labels, confidence = clf.predict(data[1], return_confidence=True)
    assert labels.shape == data[3].shape and confidence.shape == data[3].shape
    assert confidence.min() >= 0 and confidence.max() <= 1


def test_prediction_proba_linear_confidence(clf, data):
    proba, confidence = clf.predict_proba(data[1], method="linear", return_confidence=True)
    assert proba.min() >= 0 and proba.max() <= 1
    assert confidence.shape == data[3].shape and confidence.min() >= 0 and confidence.max() <= 1


def test_prediction_with_rejection(clf, data):
    labels = clf.predict_with_rejection(data[1], return_stats=False)
    assert labels.shape == data[3].shape and set(np.unique(labels)) <= {-2, 0, 1}


def test_prediction_with_rejection_stats(clf, data):
    _, [expected, upper_rate, upper_cost] = clf.predict_with_rejection(data[1], return_stats=True)
    assert 0 <= expected <= 1 and upper_rate >= 0 and upper_cost >= 0


def test_fit_predict(data):
    labels = AnomalyDetector(n_estimators=1, max_iter=3, random_state=0).fit_predict(data[0])
    assert labels.shape == data[2].shape


def test_model_clone(clf):
    assert clone(clf).get_params() == clf.get_params()


class _Borrowed(PyODDetectorAPI, BaseEstimator):
    """PyOD's own fitted KNN seen through aekit's mixin: the same scores, so every method must agree with PyOD's."""

    def __init__(self, det):
        self.det = det
        self.decision_scores_, self.threshold_, self.labels_ = det.decision_scores_, det.threshold_, det.labels_

    def fit(self, X, y=None):
        return self

    def decision_function(self, X):
        return self.det.decision_function(X)

    def _outlier_rate(self):
        return self.det.contamination


def test_every_method_means_what_pyod_means(data):
    from pyod.models.knn import KNN

    knn = KNN(contamination=0.1).fit(data[0])
    ours, X = _Borrowed(knn), data[1]
    assert_array_equal(ours.predict(X), knn.predict(X))
    for method in ("linear", "unify"):
        assert_allclose(ours.predict_proba(X, method=method), knn.predict_proba(X, method=method), atol=1e-12)
    assert_allclose(ours.predict_confidence(X), knn.predict_confidence(X), atol=1e-12)
    labels, confidence = ours.predict(X, return_confidence=True)
    assert_allclose(confidence, knn.predict(X, return_confidence=True)[1], atol=1e-12)
    for T in (2, 32):
        assert_array_equal(ours.predict_with_rejection(X, T=T), knn.predict_with_rejection(X, T=T))
    stats, pyod_stats = ours.predict_with_rejection(X, return_stats=True)[1], knn.predict_with_rejection(
        X, return_stats=True)[1]
    assert_allclose(stats, pyod_stats, rtol=1e-9)
    assert (ours.predict_with_rejection(X, T=2) == -2).any()  # a low T rejects the rows near the threshold
