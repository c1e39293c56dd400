"""scikit-learn's estimator contract, checked once for all eight estimators.

The estimators of tables (AutoEncoder, AnomalyDetector, Clusterer, Imputer) run scikit-learn's own
``parametrize_with_checks``; a check that cannot hold is listed with the reason, so the list is the documentation.

The estimators of images (Denoiser, Codec), interactions (Recommender) and texts (TextAutoEncoder) say so in their
input tags (``two_d_array=False``), and scikit-learn then skips every check that feeds an estimator a random
table. What still applies runs here: scikit-learn's checks that need no data, and the same contract checked with
data of the estimator's own kind (``fit`` returns ``self`` and leaves the parameters as they were, fitted state ends
in ``_``, an unfitted estimator says so, a seeded fit repeats, ``clone`` gives an unfitted copy).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils import get_tags
from sklearn.utils.estimator_checks import (
    check_do_not_raise_errors_in_init_or_set_params,
    check_estimator_cloneable,
    check_estimator_repr,
    check_estimator_tags_renamed,
    check_get_params_invariance,
    check_mixin_order,
    check_no_attributes_set_in_init,
    check_parameters_default_constructible,
    check_set_params,
    check_valid_tag_types,
    parametrize_with_checks,
)

from aekit import AnomalyDetector, AutoEncoder, Clusterer, Codec, Denoiser, Imputer, Recommender, TextAutoEncoder

EXPECTED_FAILED: dict[str, dict[str, str]] = {"AutoEncoder": {}, "AnomalyDetector": {}, "Clusterer": {}, "Imputer": {}}


@parametrize_with_checks(
    [
        AutoEncoder(latent_dim=2, max_iter=5, random_state=0),
        AnomalyDetector(n_estimators=1, max_iter=2, random_state=0),
        Clusterer(n_clusters=3, max_iter=5, random_state=0),
        Imputer(max_iter=2, random_state=0),
    ],
    expected_failed_checks=lambda est: EXPECTED_FAILED[type(est).__name__],
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


# ------------------------------------------------------------------------------------ images, interactions, texts
def _images() -> np.ndarray:
    return np.random.default_rng(0).random((24, 1, 8, 8), dtype=np.float32)


def _interactions() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = [(u, i) for u in range(30) for i in rng.choice(12, size=4, replace=False)]
    return pd.DataFrame(rows, columns=["user", "item"])


def _texts() -> list[str]:
    rng = np.random.default_rng(0)
    words = ["red", "green", "cat", "dog", "runs", "sleeps", "near", "the", "house", "river"]
    return [" ".join(rng.choice(words, size=5)) for _ in range(120)]


#: (estimator, a small input of its own kind, the method that uses a fitted model)
OTHER_INPUTS = [
    (Denoiser(widths=(4, 4, 4), max_iter=1, random_state=0), _images, "transform"),
    (Codec(latent_dim=4, spatial_channels=2, channels=4, max_iter=1, random_state=0), _images, "compress"),
    (Recommender(hidden_dim=8, latent_dim=4, n_members=1, max_iter=2, random_state=0), _interactions,
     "predict_scores"),
    (TextAutoEncoder(latent_dim=4, width=8, vocab_size=100, max_iter=1, random_state=0), _texts, "transform"),
]
NAMES = [type(est).__name__ for est, _, _ in OTHER_INPUTS]
#: scikit-learn's checks that need no data: they hold for every estimator whatever it reads.
DATA_FREE_CHECKS = [check_estimator_cloneable, check_estimator_repr, check_no_attributes_set_in_init,
                    check_parameters_default_constructible, check_get_params_invariance, check_set_params,
                    check_do_not_raise_errors_in_init_or_set_params, check_estimator_tags_renamed,
                    check_valid_tag_types, check_mixin_order]


@pytest.mark.parametrize("estimator, data, method", OTHER_INPUTS, ids=NAMES)
def test_inputs_that_are_not_tables_are_declared(estimator, data, method):
    tags = get_tags(estimator).input_tags
    assert not tags.two_d_array  # scikit-learn's table checks would feed it random tables
    assert tags.three_d_array or tags.string or tags.sparse or tags.categorical


@pytest.mark.parametrize("check", DATA_FREE_CHECKS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("estimator, data, method", OTHER_INPUTS, ids=NAMES)
def test_data_free_sklearn_checks(estimator, data, method, check):
    check(type(estimator).__name__, estimator)


@pytest.fixture(scope="module", params=range(len(OTHER_INPUTS)), ids=NAMES)
def fitted_pair(request):
    estimator, data, method = OTHER_INPUTS[request.param]
    X = data()
    before = {k: v for k, v in estimator.get_params().items()}
    fitted = clone(estimator)
    returned = fitted.fit(X)
    return estimator, fitted, returned, before, X, method


def test_fit_returns_self_and_leaves_the_parameters_alone(fitted_pair):
    estimator, fitted, returned, before, _, _ = fitted_pair
    assert returned is fitted
    after = fitted.get_params()
    assert set(after) == set(before)
    for key, value in before.items():
        assert after[key] is value or after[key] == value, key


def test_fitted_state_ends_in_an_underscore(fitted_pair):
    estimator, fitted, *_ = fitted_pair
    added = set(vars(fitted)) - set(vars(estimator))
    assert added and all(k.endswith("_") or k.startswith("_") for k in added), sorted(added)
    assert hasattr(fitted, "n_features_in_")


def test_an_unfitted_estimator_says_so(fitted_pair):
    estimator, _, _, _, X, method = fitted_pair
    with pytest.raises(NotFittedError):
        getattr(clone(estimator), method)(X)


def test_a_seeded_fit_repeats_and_clone_is_unfitted(fitted_pair):
    estimator, fitted, _, _, X, method = fitted_pair
    again = clone(estimator).fit(X)
    first, second = getattr(fitted, method)(X), getattr(again, method)(X)
    if isinstance(first, pd.DataFrame):
        pd.testing.assert_frame_equal(first, second)
    elif isinstance(first, bytes):
        assert first == second
    else:
        np.testing.assert_allclose(first, second, rtol=1e-5, atol=1e-6)
    assert not hasattr(clone(fitted), "n_features_in_")
