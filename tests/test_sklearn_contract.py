"""scikit-learn's own estimator checks, run on AutoEncoder.

Checks that cannot hold for a neural autoencoder are listed with the reason, so the list is the documentation.
"""

from __future__ import annotations

from sklearn.utils.estimator_checks import parametrize_with_checks

from aekit import AutoEncoder

EXPECTED_FAILED = {}


@parametrize_with_checks(
    [AutoEncoder(latent_dim=2, max_iter=5, random_state=0)],
    expected_failed_checks=lambda est: EXPECTED_FAILED,
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
