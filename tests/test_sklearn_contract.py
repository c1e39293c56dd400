"""scikit-learn's own estimator checks, run on every aekit estimator.

Checks that cannot hold are listed with the reason, so the list is the documentation.
"""

from __future__ import annotations

from sklearn.utils.estimator_checks import parametrize_with_checks

from aekit import AnomalyDetector, AutoEncoder, Clusterer

EXPECTED_FAILED: dict[str, dict[str, str]] = {"AutoEncoder": {}, "AnomalyDetector": {}, "Clusterer": {}}


@parametrize_with_checks(
    [
        AutoEncoder(latent_dim=2, max_iter=5, random_state=0),
        AnomalyDetector(n_estimators=1, max_iter=2, random_state=0),
        Clusterer(n_clusters=3, max_iter=5, random_state=0),
    ],
    expected_failed_checks=lambda est: EXPECTED_FAILED[type(est).__name__],
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
