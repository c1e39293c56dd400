"""``Clusterer``: clusters found in an autoencoder's code space.

The recipe is N2D (McConville et al., 2020): train an autoencoder without labels, embed its codes with UMAP into
as many dimensions as there are clusters (``min_dist=0`` packs each cluster tightly), and fit a Gaussian mixture
there. The autoencoder removes pixel-level noise that k-means or UMAP on raw inputs get lost in; UMAP turns the
code's curved class manifolds into compact blobs that a mixture of Gaussians separates. The mixture is fitted from
five starts: on MNIST codes one start merged two digits and split another (accuracy 0.83; best of five 0.97).

DEC/IDEC-style fine-tuning then comes *after* the clusters are found, not instead of UMAP: the autoencoder is
trained a little more with a pull of each code towards its cluster's centre, so the code itself separates the
clusters (MNIST linear probe 0.923 -> 0.973). New rows are assigned in that refined code space. See
the clustering benchmark for what this measured.

UMAP (umap-learn) is an optional dependency: ``pip install "aekit[cluster]"``. ``manifold=None`` fits the
mixture on the standardised codes directly and needs nothing extra.
"""

from __future__ import annotations

import logging
from functools import partial
from numbers import Integral, Real
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from sklearn.base import ClusterMixin, _fit_context
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ..models.cluster_pull import ClusterPull
from ..training.budget import CLUSTER_REFINEMENT
from .autoencoder import AutoEncoder
from .base import ModelEstimator, register_format, tensor
from .presets import KINDS, preset

logger = logging.getLogger("aekit")

if TYPE_CHECKING:  # imported where used: ~65 ms that every ``aekit`` command would otherwise pay at start-up
    from sklearn.mixture import GaussianMixture

# New rows take the majority cluster of this many nearest training rows (in the standardised code space).
PREDICT_NEIGHBORS = 15


def _umap_class() -> type:
    try:
        from umap import UMAP
    except ImportError as exc:  # pragma: no cover - exercised only where umap-learn is absent
        raise ImportError(
            "manifold='umap' needs umap-learn: pip install 'aekit[cluster]' (or pass manifold=None to cluster the "
            "codes directly)"
        ) from exc
    return UMAP


@register_format
class Clusterer(ClusterMixin, ModelEstimator):
    """Cluster rows or images without labels: autoencoder codes, a UMAP embedding, a Gaussian mixture (N2D).

    Parameters
    ----------
    n_clusters : int, default=10
        Number of clusters (mixture components).
    kind : str, default="deep"
        Autoencoder family member trained first (see ``aekit.KINDS``). Dense ``"deep"`` is the default because
        it clusters MNIST as well as a convolutional one in a third of the time.
    latent_dim : int or None, default=None
        Code size; ``None`` adapts to the data as in :class:`AutoEncoder`.
    manifold : {"umap"} or None, default="umap"
        Embed the codes with UMAP before the mixture (N2D), or ``None`` to fit the mixture on standardised codes.
    n_components : int or None, default=None
        Dimensions of the UMAP embedding; ``None`` means ``n_clusters`` (N2D's choice).
    n_neighbors : int, default=20
        UMAP's neighbourhood size: larger values favour global structure (N2D uses 20).
    covariance_type : {"full", "diag", "tied", "spherical"}, default="full"
        Gaussian mixture covariance.
    n_init : int, default=5
        Mixture fits from different starts; the most likely is kept. One start can merge two classes and split
        another (on MNIST codes one seed gave accuracy 0.83 where the best of five gave 0.97).
    refine_epochs : int or None, default=None
        After clustering, fine-tune the autoencoder so codes gather around their clusters' centres (IDEC-style,
        see :mod:`aekit.models.cluster_pull`); ``None`` adapts (about 3000 updates), 0 skips it. The clusters found
        stay the same; what changes is the code, which then separates them on its own (``autoencoder_`` and
        ``predict`` use the refined code).
    refine_weight : float, default=2.0
        Weight of the pull towards the centres, relative to the reconstruction loss before refinement.
    max_iter : int or None, default=None
        Autoencoder training epochs; ``None`` adapts to the data.
    device : str, default="auto"
    random_state : int, RandomState or None, default=None
        Seeds the autoencoder, UMAP and the mixture. A fixed seed makes UMAP single-threaded (its own rule).
    verbose : int, default=0
        1 shows the autoencoder's progress bar.

    Attributes
    ----------
    autoencoder_ : AutoEncoder
        The fitted autoencoder; ``autoencoder_.encoder_`` keeps only its encoder.
    embedding_ : ndarray of shape (n_samples, n_components)
        The training rows where the mixture was fitted: their UMAP embedding (or standardised codes).
    mixture_ : sklearn.mixture.GaussianMixture
    labels_ : ndarray of shape (n_samples,)
        Cluster of each training row.
    training_codes_ : ndarray of shape (n_samples, latent_dim)
        The training rows' standardised codes (after refinement): what new rows are compared with.
    neighbors_ : sklearn.neighbors.KNeighborsClassifier
        Assigns new rows (see ``predict``).
    n_iter_ : int
        Epochs the autoencoder trained.
    refine_history_ : list of dict
        Mean reconstruction and cluster terms per refinement epoch.
    n_features_in_ : int

    Notes
    -----
    ``predict`` gives a new row the majority cluster of its 15 nearest training rows in the code space rather
    than pushing it through UMAP: UMAP's ``transform`` depends on which other rows share the batch and took 63 s
    for the 10k MNIST test images, where the vote is per row, deterministic and takes a fraction of a second.
    On MNIST test the two agreed on 99.2% of rows (and on accuracy: 0.829 vs 0.827 for one mixture fit).
    """

    FORMAT = "aekit.clusterer"
    REFINE_BATCH = 256
    REFINE_LEARNING_RATE = 1e-4

    _parameter_constraints: dict = {
        "n_clusters": [Interval(Integral, 1, None, closed="left")],
        "kind": [StrOptions(set(KINDS))],
        "latent_dim": [Interval(Integral, 1, None, closed="left"), None],
        "manifold": [StrOptions({"umap"}), None],
        "n_components": [Interval(Integral, 1, None, closed="left"), None],
        "n_neighbors": [Interval(Integral, 2, None, closed="left")],
        "covariance_type": [StrOptions({"full", "diag", "tied", "spherical"})],
        "n_init": [Interval(Integral, 1, None, closed="left")],
        "refine_epochs": [Interval(Integral, 0, None, closed="left"), None],
        "refine_weight": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left"), None],
        "device": [str],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        n_clusters: int = 10,
        *,
        kind: str = "deep",
        latent_dim: int | None = None,
        manifold: str | None = "umap",
        n_components: int | None = None,
        n_neighbors: int = 20,
        covariance_type: str = "full",
        n_init: int = 5,
        refine_epochs: int | None = None,
        refine_weight: float = 2.0,
        max_iter: int | None = None,
        device: str = "auto",
        random_state: int | np.random.RandomState | None = None,
        verbose: int = 0,
    ) -> None:
        self.n_clusters = n_clusters
        self.kind = kind
        self.latent_dim = latent_dim
        self.manifold = manifold
        self.n_components = n_components
        self.n_neighbors = n_neighbors
        self.covariance_type = covariance_type
        self.n_init = n_init
        self.refine_epochs = refine_epochs
        self.refine_weight = refine_weight
        self.max_iter = max_iter
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: object, y: object = None) -> Clusterer:
        """Train the autoencoder on ``X`` (labels are ignored), embed its codes and fit the mixture."""
        seeds = [int(s) for s in np.random.default_rng(self._fit_seed()).integers(2**31 - 1, size=3)]
        fixed = self.random_state is not None
        n_rows = np.shape(X)[0] if np.ndim(X) else None  # checked before the costly training
        if n_rows is not None and n_rows < max(2, self.n_clusters):
            raise ValueError(f"n_clusters={self.n_clusters} needs at least {max(2, self.n_clusters)} samples, got "
                             f"{n_rows} sample{'s' if n_rows != 1 else ''}")
        # A dense model without the dense kinds' linear path (the clustering figures were measured without it); a
        # conv encoder keeps its own.
        dense_linear_path = None if preset(self.kind)["encoder"] == "conv" else False
        self.autoencoder_ = AutoEncoder(kind=self.kind, latent_dim=self.latent_dim, max_iter=self.max_iter,
                                        linear_path=dense_linear_path, device=self.device, random_state=seeds[0],
                                        verbose=self.verbose).fit(X)
        self._copy_input_facts(self.autoencoder_)
        codes = self.autoencoder_.transform(X)
        self.scaler_ = StandardScaler().fit(codes)
        points = self.scaler_.transform(codes)
        self.embedding_ = points
        if self.manifold == "umap":
            UMAP = _umap_class()
            if self.verbose:
                logger.info("embedding %d codes with UMAP (about a minute per 50k rows on 2 cores)", len(points))
            self.embedding_ = UMAP(
                n_components=self.n_components or self.n_clusters,
                n_neighbors=min(self.n_neighbors, len(points) - 1),
                min_dist=0.0,
                random_state=seeds[1] if fixed else None,
                n_jobs=1 if fixed else -1,
            ).fit(points).embedding_
        self.mixture_ = self._fit_mixture(self.embedding_, seeds[2])
        self.labels_ = self.mixture_.predict(self.embedding_)
        self.refine_history_ = []
        epochs = self.refine_epochs
        if epochs is None:
            epochs = CLUSTER_REFINEMENT.epochs(len(points), self.REFINE_BATCH)
        if epochs and np.unique(self.labels_).size > 1:
            # Cluster ids as 0..C-1, so each row's target indexes the centre it is pulled towards.
            _, targets = np.unique(self.labels_, return_inverse=True)
            objective = partial(ClusterPull.for_data, weight=self.refine_weight, seed=seeds[2])
            self.refine_history_ = self.autoencoder_.fine_tune(
                X, targets, objective=objective, max_iter=epochs, batch_size=self.REFINE_BATCH,
                learning_rate=self.REFINE_LEARNING_RATE)
            codes = self.autoencoder_.transform(X)
            self.scaler_ = StandardScaler().fit(codes)
            points = self.scaler_.transform(codes)
        self.training_codes_ = points
        self.neighbors_ = _neighbour_vote(points, self.labels_)
        self.n_iter_ = self.autoencoder_.n_iter_
        return self

    def _fit_mixture(self, points: np.ndarray, seed: int) -> GaussianMixture:
        """The Gaussian mixture, with a stronger covariance floor when codes collapse onto a few points.

        Short training or duplicated rows can leave clusters of identical codes, whose covariance is singular;
        scikit-learn then stops with advice about ``reg_covar``, which this estimator does not expose. Raising the
        floor (on standardised points, from scikit-learn's 1e-6 up to 1) fits a mixture anyway; if even that
        fails, the error says what the user can change.
        """
        from sklearn.mixture import GaussianMixture

        reg_covar = 1e-6
        for _ in range(4):
            try:
                return GaussianMixture(self.n_clusters, covariance_type=self.covariance_type, n_init=self.n_init,
                                       reg_covar=reg_covar, random_state=seed).fit(points)
            except ValueError as exc:
                if "covariance" not in str(exc):
                    raise
                reg_covar *= 100
        raise ValueError(f"the codes of these {len(points)} rows collapse onto too few distinct points for "
                         f"{self.n_clusters} clusters; train the autoencoder longer (max_iter / --epochs), ask for "
                         "fewer clusters, or check the data for duplicated rows")

    def _codes(self, X: object) -> np.ndarray:
        check_is_fitted(self)
        return self.scaler_.transform(self.autoencoder_.transform(X))

    def predict(self, X: object) -> np.ndarray:
        """Cluster of each row of ``X``: the majority cluster of its nearest training rows in the code space.

        A row whose code is a training row's code (the row was in the training data) keeps that row's cluster, so
        ``predict(X_train)`` gives ``labels_``; the neighbour vote would reassign the few rows that sit among
        another cluster's codes."""
        return self._assign(self._codes(X))[0]

    def predict_proba(self, X: object) -> np.ndarray:
        """Share of each cluster among a row's nearest training rows, shape ``(n, n_clusters)``: how clearly the
        neighbourhood of a row belongs to one cluster (1.0 deep inside a cluster, lower near a border)."""
        return self._assign(self._codes(X))[1]

    def _assign(self, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(clusters, neighbour shares)`` for codes; exact matches of training codes keep their cluster."""
        distance, index = self.neighbors_.kneighbors(codes)
        neighbour_labels = self.labels_[index]  # (n, k)
        proba = np.zeros((len(codes), self.n_clusters))
        for c in range(self.n_clusters):
            proba[:, c] = (neighbour_labels == c).mean(axis=1)
        clusters = self.neighbors_.classes_[np.argmax(proba[:, self.neighbors_.classes_], axis=1)]
        seen = distance[:, 0] == 0.0
        clusters[seen] = neighbour_labels[seen, 0]
        return clusters, proba

    def input_spec(self) -> dict[str, Any]:
        """What ``predict`` takes: the input of the autoencoder the clusters were found with."""
        check_is_fitted(self)
        return self.autoencoder_.input_spec()

    def _children(self) -> dict[str, ModelEstimator]:
        return {"autoencoder": self.autoencoder_}

    def _state(self) -> dict[str, Any]:
        """What ``predict`` needs: the training rows' codes and clusters and the code scaling. UMAP and the
        mixture are not kept: new rows are assigned without them."""
        return {
            "config": {"n_iter": self.n_iter_},
            "tensors": {"codes": tensor(np.asarray(self.training_codes_, dtype=np.float32)),
                        "labels": tensor(np.asarray(self.labels_, dtype=np.int64)),
                        "scale_mean": tensor(self.scaler_.mean_.astype(np.float64)),
                        "scale_std": tensor(self.scaler_.scale_.astype(np.float64))},
            "history": self.refine_history_,
        }

    def _restore(self, saved: dict[str, Any], path: Path, device: str) -> None:
        """``predict`` and ``predict_proba`` work after loading; ``mixture_`` and ``embedding_`` are absent."""
        self.n_iter_ = saved["config"]["fitted"]["n_iter"]
        self.autoencoder_ = AutoEncoder.load(path / "autoencoder", device=device)
        self.refine_history_ = saved["history"]
        tensors = saved["state_dict"]
        codes, self.labels_ = tensors["codes"].numpy(), tensors["labels"].numpy()
        self.scaler_ = StandardScaler()
        self.scaler_.mean_, self.scaler_.scale_ = tensors["scale_mean"].numpy(), tensors["scale_std"].numpy()
        self.scaler_.var_ = self.scaler_.scale_**2
        self.scaler_.n_features_in_ = codes.shape[1]
        self.training_codes_ = codes
        self.neighbors_ = _neighbour_vote(codes, self.labels_)

    @classmethod
    def describe(cls, config: dict) -> dict[str, Any]:
        params = config.get("params", {})
        return {**super().describe(config), "clusters": params.get("n_clusters"), "kind": params.get("kind"),
                "manifold": params.get("manifold"), "autoencoder epochs": config.get("fitted", {}).get("n_iter")}

    def fit_predict(self, X: object, y: object = None) -> np.ndarray:
        """Fit on ``X`` and return the clusters of its rows (``labels_``)."""
        return self.fit(X).labels_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        tags.non_deterministic = self.random_state is None
        return tags


def _neighbour_vote(points: np.ndarray, labels: np.ndarray) -> Any:
    """The k-nearest-neighbour classifier that assigns new rows to the training rows' clusters."""
    from sklearn.neighbors import KNeighborsClassifier

    return KNeighborsClassifier(n_neighbors=min(PREDICT_NEIGHBORS, len(points))).fit(points, labels)
