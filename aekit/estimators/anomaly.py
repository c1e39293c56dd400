"""``AnomalyDetector``: rows or images that an ensemble of autoencoders reconstructs badly are suspicious.

Why an ensemble, and why these defaults (mean AUROC over ADBench tables, fit and scored unsupervised; the
protocol and tables are in the benchmarks):

* Columns are standardised (constant columns kept at scale 1). Rank-gauss scaling (``scaling="rank-gauss"``)
  tames heavy tails but also squashes the extreme values that make many anomalies visible: mean AUROC 73.3
  against 75.0 for standardising.
* Each member is a small autoencoder trained on its own random subsample of rows (at most 2048), with its own
  width and code size, about 400 gradient steps and early stopping on held-out rows. Averaging members removes
  the luck of one initialisation, and short training on subsamples limits how well anomalies are learned.
  Three members per round score as well as eight, at a third of the time.
* A row's score has two parts per member: its reconstruction error (far from the learned manifold) and the
  Mahalanobis distance of its code among the training codes (on the manifold but far from the bulk). Either part
  alone scores lower (72.4 for reconstruction only against 75.0 for both).
* Each part is normalised by its median and inter-quartile range over the training rows, then everything is
  averaged, so no member or part dominates by scale.
* Two rounds: after the first, the 25% highest-scoring rows are left out and the ensemble is refitted on the
  rest, so the second round learns less of the anomalies (75.5 against 75.0 with eight members).
* Beside the autoencoders, an unlike score: each row's mean distance to its 10 nearest training rows in the
  scaled input space, normalised the same way, weighing two thirds of the final score. Autoencoders miss
  anomalies that sit alone in a region the manifold passes through; neighbours catch those, and the
  reconstruction catches what neighbours in many dimensions blur (mean AUROC 75.8 -> 77.3 on the design half of
  ADBench; neighbours in the code space instead: 75.7; weights of 1/3 and 1/2: 76.9 and 77.1).

``novelty=True`` (clean training rows, scikit-learn's ``LocalOutlierFactor`` convention) scores what is new without
autoencoders, which added nothing there: see ``estimators/novelty.py`` and its design-half figures.

The API is PyOD's, in ``estimators/detector_api.py``; after ``fit``: ``decision_scores_``, ``threshold_``, ``labels_``.
"""

from __future__ import annotations

import logging
import math
from numbers import Integral, Real
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from .._utils import clip, next_pow2
from ..data.input import InputAdapter
from ..data.scaling import RankGaussScaler, StandardColumnScaler, scaler_from_dict
from ..data.table_files import TableFiles
from ..training.budget import DETECTOR_MEMBER
from .autoencoder import AutoEncoder
from .reconstruction_scores import mean_over_shown
from .base import TRAINING_CONSTRAINTS, ModelEstimator, register_format, tensor
from .detector_api import PyODDetectorAPI
from .explanations import FeatureExplanations
from .neighbours import difference_shares, nearest_rows
from .novelty import NoveltyScorer, false_alarm_threshold

logger = logging.getLogger("aekit")


@register_format
class AnomalyDetector(PyODDetectorAPI, FeatureExplanations, ModelEstimator):
    """Anomaly detection with an ensemble of autoencoders (PyOD's detector API), or novelty detection on clean data.

    Scores: **higher = more anomalous**; labels: **1 = outlier, 0 = inlier** (PyOD's convention, not
    scikit-learn's ``OutlierMixin`` -1/+1).

    Parameters
    ----------
    contamination : float, default=0.1
        Expected fraction of outliers; sets ``threshold_`` at that upper quantile of the training scores. Not used
        with ``novelty=True``.
    novelty : bool, default=False
        ``True``: ``X`` in ``fit`` holds normal rows only (a period known to be good) and new rows are scored by how
        unlike every training row they are. ``False``: ``X`` may hold anomalies, found among the training rows.
    false_alarm_rate : float, default=0.01
        With ``novelty=True``: the fraction of new normal rows the threshold may flag, set from the training rows'
        leave-one-out scores (each scored against the others, as a new row would be) by a conformal quantile.
    n_estimators : int, default=3
        Ensemble members per round. On 23 ADBench sets 3 members scored as well as 4 or 8 (75.9, 75.5, 75.5
        mean AUROC) at a third of the cost of 8.
    max_samples : int, default=None
        Rows per member's subsample; ``None``: all rows up to 2048.
    latent_dim : int, default=None
        Code size of every member; ``None`` draws one per member between a sixth and a third of the width.
    hidden_dims : tuple of int, default=None
        Hidden widths of every member; ``None`` draws one width per member near the input width.
    max_iter : int, default=None
        Epochs per member; ``None`` gives about 400 gradient steps each.
    batch_size : int, default=None
    learning_rate : float, default=1e-3
    scaling : {"standard", "rank-gauss", "none"}, default="standard"
        Column scaling of tables before training (images are used as given).
    device : str, default="auto"
    random_state : int, RandomState or None, default=None
    verbose : int, default=0

    Attributes
    ----------
    members_ : list of AutoEncoder
        Empty with ``novelty=True``.
    novelty_ : NoveltyScorer or None
        The neighbour and tail scores of ``novelty=True``; ``None`` otherwise.
    decision_scores_ : ndarray of shape (n_samples,)
        Scores of the training rows; leave-one-out scores with ``novelty=True``, where ``decision_function`` counts
        a training row as its own neighbour (an exact copy of a training row is as normal as it).
    threshold_ : float
    labels_ : ndarray of shape (n_samples,)
        1 for training rows whose score exceeds ``threshold_``.
    realised_false_alarm_rate_ : float
        With ``novelty=True``: the fraction of ``decision_scores_`` above ``threshold_`` (lower than
        ``false_alarm_rate`` when scores tie).
    """

    FORMAT = "aekit.anomaly-detector"

    _parameter_constraints: dict = {
        **TRAINING_CONSTRAINTS,
        "contamination": [Interval(Real, 0, 0.5, closed="right")],
        "novelty": ["boolean"],
        "false_alarm_rate": [Interval(Real, 0, 1, closed="neither")],
        "n_estimators": [Interval(Integral, 1, None, closed="left")],
        "max_samples": [Interval(Integral, 2, None, closed="left"), None],
        "latent_dim": [Interval(Integral, 1, None, closed="left"), None],
        "hidden_dims": ["array-like", None],
        "scaling": [StrOptions({"rank-gauss", "standard", "none"})],
    }

    def __init__(
        self,
        contamination: float = 0.1,
        *,
        novelty: bool = False,
        false_alarm_rate: float = 0.01,
        n_estimators: int = 3,
        max_samples: int | None = None,
        latent_dim: int | None = None,
        hidden_dims: tuple[int, ...] | None = None,
        max_iter: int | None = None,
        batch_size: int | None = None,
        learning_rate: float = 1e-3,
        scaling: str = "standard",
        device: str = "auto",
        random_state: int | np.random.RandomState | None = None,
        verbose: int = 0,
    ) -> None:
        self.contamination = contamination
        self.novelty = novelty
        self.false_alarm_rate = false_alarm_rate
        self.n_estimators = n_estimators
        self.max_samples = max_samples
        self.latent_dim = latent_dim
        self.hidden_dims = hidden_dims
        self.max_iter = max_iter
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.scaling = scaling
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------------------------------------ inputs
    def _scaled(self, X: object, reset: bool) -> tuple[np.ndarray, np.ndarray | None]:
        """User input -> the float32 matrix (or images) the members see, and the mask of observed cells (None when
        nothing is missing). Missing cells are filled with the column mean for the members' input, and left out
        of every score."""
        if reset:
            self._fit_input(X)
        x, observed = self.input_.transform(X) if reset else self._model_input(X)
        if self.input_.is_image:
            return x, observed
        if reset:
            scaler = {"rank-gauss": RankGaussScaler, "standard": StandardColumnScaler}.get(self.scaling)
            self.scaler_ = None if scaler is None else scaler().fit(x)
        return (x if self.scaler_ is None else self.scaler_.transform(x)), observed

    # ------------------------------------------------------------------------------------------------ fit
    def _member_params(self, rng: np.random.Generator, width: int, n_rows: int) -> dict:
        """One member's architecture and schedule: sizes drawn around the input width, the member budget."""
        if self.input_.is_image:
            params = {"kind": "conv", "latent_dim": self.latent_dim or int(rng.integers(8, 33))}
        else:
            hidden = self.hidden_dims or (clip(int(next_pow2(width) * rng.choice([0.5, 1.0])), 8, 256),)
            latent = self.latent_dim or int(rng.integers(max(1, width // 6), max(2, width // 3) + 1))
            # No linear path beside the layers: a member that can copy its input linearly reconstructs anomalies
            # too, and the ADBench figures were measured without one.
            params = {"kind": "basic", "hidden_dims": tuple(int(h) for h in hidden), "latent_dim": latent,
                      "loss": "mse", "linear_path": False}
        batch = self.batch_size or clip(next_pow2(n_rows / 16), 16, 128)
        # Members hold out a tenth of their rows for early stopping, so steps are counted on the other 90%.
        epochs = self.max_iter or DETECTOR_MEMBER.epochs(n_rows * 0.9, batch)
        return {**params, "batch_size": batch, "max_iter": epochs, "n_iter_no_change": 5,
                "learning_rate": self.learning_rate, "device": self.device}

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: object, y: object = None) -> AnomalyDetector:
        """Fit on unlabelled data (``y`` is ignored; with ``novelty=True``, normal rows), then score the training rows.

        ``X`` may be :class:`~aekit.data.TableFiles` (tables larger than memory): the detector then learns from
        ``STREAM_FIT_ROWS`` rows drawn evenly from all the files -- its members train on a few thousand rows
        anyway, and the threshold is a quantile that 100,000 rows pin down -- and ``decision_scores_`` are
        those rows' scores. Score every row with ``aekit detect score`` (streamed, split over processes).
        """
        seed = self._fit_seed()
        if isinstance(X, TableFiles):
            _, X, _ = X.sample(self.STREAM_FIT_ROWS, seed=seed)
        x, observed = self._scaled(X, reset=True)
        if len(x) < self.MIN_ROWS:
            raise ValueError(f"AnomalyDetector needs at least {self.MIN_ROWS} rows to fit (its members hold rows out "
                             f"and its threshold is a quantile of the training scores); got n_samples = {len(x)}")
        flat = x.reshape(len(x), -1)
        if np.all(flat.max(axis=0) == flat.min(axis=0)):
            raise ValueError(f"every column of X is constant over its {len(x)} rows, so no row differs from another; "
                             "fit the detector on data that varies")
        rng = np.random.default_rng(seed)
        if self.novelty:
            return self._fit_novelty(x, observed, rng)
        self.novelty_ = None
        n = len(x)
        m = min(n, self.max_samples or 2048)
        k = self.n_estimators
        width = math.prod(x.shape[1:])
        keep = np.arange(n)
        for round_ in range(2 if self.TRIM else 1):
            self.members_ = []
            for i in range(k):
                rows = keep[rng.choice(len(keep), size=min(m, len(keep)), replace=False)]
                member = AutoEncoder(**self._member_params(rng, width, len(rows)),
                                     random_state=int(rng.integers(2**31 - 1)))
                member.fit(x[rows])
                self.members_.append(member)
                logger.info("member %d/%d: %d epochs, %s", i + 1, k, member.n_iter_, member.stop_reason_)
            outputs = self._member_outputs(x, observed)
            self._fit_code_densities([z[keep] for z, _ in outputs])
            parts = self._member_parts(outputs)  # (k, n, P)
            ref = parts[:, keep]
            self.error_center_ = np.median(ref, axis=1)  # (k, P)
            spread = np.quantile(ref, 0.75, axis=1) - np.quantile(ref, 0.25, axis=1)
            self.error_scale_ = np.where(spread > 0, spread, 1.0)
            self.decision_scores_ = self._combine(parts)
            if self.TRIM:
                keep = np.flatnonzero(self.decision_scores_ <= np.quantile(self.decision_scores_, 1 - self.TRIM))
        distance = self._fit_neighbours(x, observed, rng)
        self.decision_scores_ = self._with_neighbours(self.decision_scores_, distance)
        self._set_threshold()
        return self

    def _fit_novelty(self, x: np.ndarray, observed: np.ndarray | None, rng: np.random.Generator) -> AnomalyDetector:
        """Clean training rows: the novelty scorer on at most ``NEIGHBOUR_ROWS`` of them, every row's held-out score,
        and the threshold at ``false_alarm_rate`` of those scores."""
        self.members_ = []
        self.novelty_ = NoveltyScorer(self.NOVELTY_NEIGHBOURS, self.NOVELTY_TAIL_WEIGHT)
        self.decision_scores_ = self.novelty_.fit_held_out(x, observed, self.NEIGHBOUR_ROWS, rng)
        self.threshold_, self.realised_false_alarm_rate_ = false_alarm_threshold(self.decision_scores_,
                                                                                 self.false_alarm_rate)
        self.labels_ = self._labels_for(self.decision_scores_)
        return self

    def _outlier_rate(self) -> float:
        return self.false_alarm_rate if self.novelty_ is not None else self.contamination

    def _fit_neighbours(self, x: np.ndarray, observed: np.ndarray | None, rng: np.random.Generator) -> np.ndarray:
        """Keep the reference rows (at most ``NEIGHBOUR_ROWS``, a seeded sample) and the median and inter-quartile
        range of the training rows' distances; returns those distances."""
        flat = x.reshape(len(x), -1).astype(np.float32)
        rows = np.sort(rng.choice(len(flat), self.NEIGHBOUR_ROWS, replace=False)) if len(flat) > self.NEIGHBOUR_ROWS \
            else np.arange(len(flat))
        self.reference_ = flat[rows]
        d = self._neighbours(x, observed)[0].mean(axis=1)
        spread = float(np.quantile(d, 0.75) - np.quantile(d, 0.25))
        self.neighbour_center_, self.neighbour_scale_ = float(np.median(d)), spread if spread > 0 else 1.0
        return d

    def _neighbours(self, x: np.ndarray, observed: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """Distances and indices of each row's ``NEIGHBOURS`` nearest reference rows, ``(n, k)``.

        A row whose nearest reference row is at distance 0 is taken to be that row (or its exact copy) and skips
        it: a training row is then scored the same while fitting and afterwards, so ``predict(X_train)`` agrees
        with ``labels_``. Rows with missing cells are compared on their observed cells only (scikit-learn's
        ``nan_euclidean``, scaled up to all cells)."""
        k = min(self.NEIGHBOURS, len(self.reference_) - 1)
        dist, idx = nearest_rows(self.reference_, x, observed, k + 1)
        cols = (dist[:, :1] == 0).astype(np.int64) + np.arange(k)
        return np.take_along_axis(dist, cols, axis=1), np.take_along_axis(idx, cols, axis=1)

    def _with_neighbours(self, ae_score: np.ndarray, distance: np.ndarray) -> np.ndarray:
        """The final score: the autoencoders' and the neighbours' normalised scores, weighed."""
        neighbours = (distance - self.neighbour_center_) / self.neighbour_scale_
        return (1 - self.NEIGHBOUR_WEIGHT) * ae_score + self.NEIGHBOUR_WEIGHT * neighbours

    def _neighbour_contributions(self, x: np.ndarray, observed: np.ndarray | None) -> np.ndarray:
        """The neighbour score of each row spread over its features by their share of the squared difference
        between the row and the mean of its nearest reference rows, ``(n, d)``; missing cells get none."""
        dist, idx = self._neighbours(x, observed)
        share = difference_shares(x, self.reference_, idx, observed)
        score = np.maximum((dist.mean(axis=1) - self.neighbour_center_) / self.neighbour_scale_, 0.0)
        return share * score[:, None]

    def _set_threshold(self) -> None:
        self.threshold_ = float(np.quantile(self.decision_scores_, 1 - self.contamination))
        self.labels_ = (self.decision_scores_ > self.threshold_).astype(np.int64)

    SCORE_PARTS = ("recon", "code")
    TRIM = 0.25  # fraction of highest-scoring rows left out of the second round
    NEIGHBOURS = 10  # nearest training rows whose mean distance is the neighbour score
    NEIGHBOUR_WEIGHT = 2 / 3  # share of the final score that is the neighbour score
    NEIGHBOUR_ROWS = 20_000  # reference rows kept (a seeded sample of larger training sets)
    NOVELTY_NEIGHBOURS = 2  # novelty=True: nearest training rows whose mean distance is the neighbour part
    NOVELTY_TAIL_WEIGHT = 1 / 3  # novelty=True: share of the score that is the tail part
    STREAM_FIT_ROWS = 100_000  # rows sampled from streamed files to fit on
    MIN_ROWS = 10  # fewer rows leave no held-out rows for the members and no quantile for the threshold

    def _member_errors(self, member: AutoEncoder, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """A member's codes and per-feature squared errors on ``x``, for the score and its explanation alike.

        Table members run in float64, so that a row scores the same whether it is scored alone or among others
        (the code part magnifies float32 rounding, which varies with the batch size); for tables that costs about
        twice a float32 pass of a small model. Image members stay in float32: float64 convolutions are about 9x
        slower on a CPU."""
        return member.codes_and_feature_errors(x, float64=not self.input_.is_image)

    def _member_outputs(self, x: np.ndarray, observed: np.ndarray | None) -> list[tuple[np.ndarray, np.ndarray]]:
        """Each member's codes and per-row reconstruction errors on ``x`` (the mean over the row's observed cells:
        a filled-in cell says nothing about the row), from one encoder pass per member."""
        seen = None if observed is None else observed.reshape(len(x), -1) > 0
        outputs = []
        for member in self.members_:
            z, sq = self._member_errors(member, x)
            outputs.append((z, mean_over_shown(sq, ~np.isnan(sq) if seen is None else seen)))
        return outputs

    def _fit_code_densities(self, codes: list[np.ndarray]) -> None:
        """Mean and inverse covariance of each member's training codes, for the code-space (Mahalanobis) part."""
        self.code_mean_, self.code_precision_ = [], []
        for z in codes:
            z = z.astype(np.float64)
            cov = np.atleast_2d(np.cov(z, rowvar=False))
            cov += np.eye(len(cov)) * (1e-6 * np.trace(cov) / len(cov) + 1e-12)
            self.code_mean_.append(z.mean(axis=0))
            self.code_precision_.append(np.linalg.pinv(cov))

    def _member_parts(self, outputs: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
        """Raw score parts of every row under every member: ``(k, n, P)``.

        ``recon``: mean squared reconstruction error (off the learned manifold). ``code``: Mahalanobis distance
        of the code among the training codes (on the manifold, but far from the bulk).
        """
        n = len(outputs[0][1])
        out = np.empty((len(outputs), n, len(self.SCORE_PARTS)), dtype=np.float64)
        for i, (z, recon) in enumerate(outputs):
            z = z.astype(np.float64) - self.code_mean_[i]
            values = {"recon": recon, "code": np.einsum("nk,kl,nl->n", z, self.code_precision_[i], z)}
            out[i] = np.column_stack([values[p] for p in self.SCORE_PARTS])
        return out

    def _combine(self, parts: np.ndarray) -> np.ndarray:
        """Normalise each member's parts by their training median and IQR, then average everything."""
        return ((parts - self.error_center_[:, None, :]) / self.error_scale_[:, None, :]).mean(axis=(0, 2))

    # ------------------------------------------------------------------------------------------- predict
    def decision_function(self, X: object) -> np.ndarray:
        """Anomaly score of each row (higher = more anomalous); computed in batches with bounded memory."""
        check_is_fitted(self)
        x, observed = self._scaled(X, reset=False)
        if self.novelty_ is not None:
            return self.novelty_.score(x, observed)
        ae_score = self._combine(self._member_parts(self._member_outputs(x, observed)))
        return self._with_neighbours(ae_score, self._neighbours(x, observed)[0].mean(axis=1))

    def _contributions(self, x: np.ndarray, observed: np.ndarray | None) -> np.ndarray:
        """What :meth:`explain` ranks, ``(n, d)``. A feature's contribution: its squared reconstruction error,
        averaged over members after dividing by each member's error scale, beside its share of the neighbour
        score, weighed as in the score; with ``novelty=True``, ``NoveltyScorer.contributions``."""
        return self.novelty_.contributions(x, observed) if self.novelty_ is not None else \
            self._member_contributions(x, observed)

    def _member_contributions(self, x: np.ndarray, observed: np.ndarray | None) -> np.ndarray:
        per_feature = np.zeros((len(x), math.prod(x.shape[1:])), dtype=np.float64)
        recon = self.SCORE_PARTS.index("recon")
        seen = None if observed is None else observed.reshape(len(x), -1) > 0
        for member, scale in zip(self.members_, self.error_scale_[:, recon]):
            errors = self._member_errors(member, x)[1]
            if seen is not None:
                errors = np.where(seen, errors, 0.0)  # a missing cell cannot drive the score
            per_feature += errors / (scale * per_feature.shape[1])
        per_feature /= len(self.members_)
        # the neighbour score's share, as in the score itself
        return (1 - self.NEIGHBOUR_WEIGHT) * per_feature + \
            self.NEIGHBOUR_WEIGHT * self._neighbour_contributions(x, observed)

    # -------------------------------------------------------------------------------------------- persist
    def _children(self) -> dict[str, ModelEstimator]:
        return {f"member{i}": member for i, member in enumerate(self.members_)}

    def _state(self) -> dict[str, Any]:
        scaler = None if self.scaler_ is None else self.scaler_.to_dict()
        preprocess = {"input": self.input_.to_dict(), "scaler": scaler}
        scores = tensor(np.asarray(self.decision_scores_, dtype=np.float64))
        if self.novelty_ is not None:
            config, arrays = self.novelty_.state()
            return {"config": {"n_members": 0, "threshold": self.threshold_, "novelty": config,
                               "realised_false_alarm_rate": self.realised_false_alarm_rate_},
                    "tensors": {"decision_scores": scores, **{f"novelty_{k}": tensor(v) for k, v in arrays.items()}},
                    "preprocess": preprocess}
        tensors = {"decision_scores": scores, "reference": tensor(self.reference_)}
        neighbours = {"center": self.neighbour_center_, "scale": self.neighbour_scale_}
        for i in range(len(self.members_)):
            tensors[f"code_mean{i}"] = tensor(self.code_mean_[i])
            tensors[f"code_precision{i}"] = tensor(self.code_precision_[i])
        return {
            "config": {"n_members": len(self.members_), "error_center": self.error_center_.tolist(),
                       "error_scale": self.error_scale_.tolist(), "threshold": self.threshold_,
                       "neighbours": neighbours},
            "tensors": tensors,
            "preprocess": preprocess,
        }

    def _restore(self, saved: dict[str, Any], path: Path, device: str) -> None:
        fitted, tensors = saved["config"]["fitted"], saved["state_dict"]
        self.members_ = [AutoEncoder.load(path / f"member{i}", device=device) for i in range(fitted["n_members"])]
        self.input_ = InputAdapter.from_dict(saved["preprocess"]["input"])
        self.scaler_ = scaler_from_dict(saved["preprocess"]["scaler"])
        self.decision_scores_ = tensors["decision_scores"].numpy()
        self.threshold_ = float(fitted["threshold"])
        self.labels_ = self._labels_for(self.decision_scores_)
        self.novelty_ = None
        if "novelty" in fitted:
            arrays = {k.removeprefix("novelty_"): v.numpy() for k, v in tensors.items() if k.startswith("novelty_")}
            self.novelty_ = NoveltyScorer.from_state(fitted["novelty"], arrays)
            self.realised_false_alarm_rate_ = float(fitted["realised_false_alarm_rate"])
            return
        self.code_mean_ = [tensors[f"code_mean{i}"].numpy() for i in range(len(self.members_))]
        self.code_precision_ = [tensors[f"code_precision{i}"].numpy() for i in range(len(self.members_))]
        self.error_center_ = np.asarray(fitted["error_center"], dtype=np.float64)
        self.error_scale_ = np.asarray(fitted["error_scale"], dtype=np.float64)
        self.reference_ = tensors["reference"].numpy()
        self.neighbour_center_ = float(fitted["neighbours"]["center"])
        self.neighbour_scale_ = float(fitted["neighbours"]["scale"])

    @classmethod
    def describe(cls, config: dict) -> dict[str, Any]:
        fitted = config.get("fitted", {})
        params = config.get("params", {})
        rate = {"false alarm rate": params.get("false_alarm_rate")} if params.get("novelty") else \
            {"contamination": params.get("contamination")}
        return {**super().describe(config), "members": fitted.get("n_members"), **rate,
                "threshold": fitted.get("threshold")}

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        return tags
