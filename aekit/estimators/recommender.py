"""``Recommender``: multinomial autoencoders on user-item logs -- RecVAE (Shenbin et al., 2020,
https://arxiv.org/abs/1912.11160), Mult-VAE and Mult-DAE (Liang et al., 2018, https://arxiv.org/abs/1802.05814).

Why this shape: a user's history is read as a bag of items; the autoencoder encodes it (a bag encoder: the row
scaled to unit length, then fully connected layers), and decodes one softmax over all items (the multinomial
likelihood), so the items compete for probability and the unseen ones with the most of it are the
recommendations. The output biases start at the log of each item's popularity. Training drops a share of each
history at random (the ``masking`` corruption): the model learns to find the items a user has *not* shown it.
Mult-VAE adds a Gaussian code whose KL weight rises from 0 to ``beta`` over training (KL annealing); Mult-DAE
keeps a deterministic code. RecVAE, the default, deepens the encoder (five swish layers with layer norms), makes
the decoder one linear layer, and weighs each user's KL by the length of their history (a long history's
multinomial term is larger, so its code may cost more). All are the composed model of every other estimator,
trained by the same Trainer on sparse rows (never the whole matrix dense).

A share of users (``validation_fraction``) is held out of training; each epoch ranks the items of 80% of each of
their histories against the other 20% (NDCG@100, the paper's protocol) and the epoch that ranks best is kept.
New users need no retraining: their histories are encoded as they are ("fold-in").

Choices made on the validation users of two MovieLens-100K splits (the recommendation benchmark; EASE there: 0.442 / 0.464):

- an average of the probabilities of ``n_members`` models trained from different seeds (every kind);
- for the Mult- kinds, an item-item linear path from the (dropped-out) history to the output beside the code,
  its diagonal held at zero (EASE's idea inside the autoencoder: ``linear_path``): three Mult-DAE seeds with it
  0.444 / 0.474;
- RecVAE as the default kind: three members 0.451 / 0.473 against Mult-VAE's 0.442 / 0.468. RecVAE's composite
  prior and its alternating encoder/decoder updates were left out (the prior lowered NDCG there, the
  alternation changed nothing), and so is the item path (0.446 / 0.471 with it).
"""

from __future__ import annotations

import math
from numbers import Integral, Real
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch
from sklearn.base import _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from .._utils import clip, next_pow2
from ..data.interactions import fold_in_split, read_interactions
from ..data.sparse_rows import SparseRows
from ..models import AutoEncoderModel, ModelConfig
from ..training import Budget, Callback, LinearRamp, resolve_device
from ..training.budget import RECOMMENDER
from .base import TRAINING_CONSTRAINTS, ModelEstimator, register_format, tensor
from .ranking import BestRanking, item_probabilities

#: Largest catalogue for which ``linear_path="auto"`` adds the item-item path (10,000 items: 100 M weights).
LINEAR_PATH_MAX_ITEMS = 10_000
#: KL weight by kind: Mult-VAE's cap after annealing; RecVAE's weight per item of a user's history (its gamma).
DEFAULT_BETA = {"mult-vae": 0.2, "mult-dae": 0.0, "recvae": 0.005}
#: Adam's step size by kind (RecVAE's own; 1e-3 lost 0.010 on one of two validation splits there).
LEARNING_RATES = {"mult-vae": 1e-3, "mult-dae": 1e-3, "recvae": 5e-4}
#: Hidden layers of RecVAE's encoder.
RECVAE_DEPTH = 5


@register_format
class Recommender(ModelEstimator):
    """Recommend items to users from their histories with a multinomial autoencoder (Mult-VAE / Mult-DAE).

    Parameters
    ----------
    kind : {"recvae", "mult-vae", "mult-dae"}, default="recvae"
        ``"recvae"``: RecVAE's model (Shenbin et al., 2020) without its composite prior -- five swish layers with
        layer norms, a linear decoder, the KL weighed by each user's number of items. ``"mult-vae"`` /
        ``"mult-dae"``: the paper's one-hidden-layer models, with a Gaussian code (KL annealing) or none.
    user_col, item_col : str, default="user", "item"
        Columns of the interactions table.
    rating_col : str, optional
        A rating column: with ``min_rating``, only rows rated at least that count (implicit feedback); alone, each
        interaction is weighed by its rating.
    min_rating : float, optional
    hidden_dim, latent_dim : int, default=600, 200
        Layer width and code size: the Mult- papers' ``[items -> 600 -> 200 -> 600 -> items]``; RecVAE's
        ``[items -> 600 x 5 -> 200 -> items]``.
    dropout : float, default=0.5
        Share of each history hidden from the encoder at every step.
    beta : float, optional
        The KL weight. Mult-VAE: its value at the end of annealing (0 -> ``beta`` linearly over the planned steps;
        default 0.2). RecVAE: the weight per item of a user's history, held fixed (default 0.005). Unused by
        Mult-DAE.
    linear_path : bool or "auto", default="auto"
        An item-item linear path (zero diagonal) from the history to the output beside the code. It has
        ``n_items**2`` weights (and Adam keeps two more copies), so ``"auto"`` uses it for the Mult- kinds up to
        ``LINEAR_PATH_MAX_ITEMS`` (10,000) items and leaves it out above; never for RecVAE (it lowered RecVAE's
        validation NDCG).
    linear_path_l2 : float, default=1e-3
        L2 weight on that path (the sum of its squared weights is added to the loss).
    n_members : int, default=3
        Models trained from different seeds whose probabilities are averaged (``n_members`` times the time).
    weight_decay : float, default=0.0
    max_iter, batch_size : int, optional
        Epochs and users per step; ``None`` sizes them to the data (about 3,000 steps, batches of 32 to 512).
    learning_rate : float, optional
        Adam's step size: 5e-4 for RecVAE, 1e-3 for the Mult- kinds when left out.
    validation_fraction : float, default=0.1
        Users held out to pick the best epoch by NDCG@100 (0: keep the last epoch).
    n_iter_no_change : int, default=20
        Epochs without a better validation NDCG before training stops.
    unknown_items : {"ignore", "error"}, default="ignore"
        Items in a history given later that the model was not fitted on: dropped with a warning that counts
        them, or refused.
    device : str, default="auto"
    random_state : int, RandomState or None
    verbose : int, default=0

    Attributes
    ----------
    item_ids_, user_ids_ : ndarray
        The fitted items (the columns of every score matrix) and the users seen in fit.
    models_ : list of AutoEncoderModel
    history_ : list of dict
        The last member's per-epoch training loss terms and ``val_ndcg@100``.
    best_epoch_ : list of int
        Each member's best epoch.
    validation_ndcg_ : float
    validation_metrics_ : dict
        NDCG@100, Recall@20 and Recall@50 of the validation users with the members averaged (empty without them).

    Examples
    --------
    >>> rec = Recommender(user_col="user_id", item_col="movie_id", rating_col="rating", min_rating=4)  # doctest: +SKIP
    >>> rec.fit(ratings).recommend([1, 2], k=10)                                                  # doctest: +SKIP
    """

    FORMAT = "aekit.recommender"

    _parameter_constraints: dict = {
        **TRAINING_CONSTRAINTS,
        "learning_rate": [Interval(Real, 0, None, closed="neither"), None],
        "kind": [StrOptions({"mult-vae", "mult-dae", "recvae"})],
        "user_col": [str],
        "item_col": [str],
        "rating_col": [str, None],
        "min_rating": [Real, None],
        "hidden_dim": [Interval(Integral, 1, None, closed="left")],
        "latent_dim": [Interval(Integral, 1, None, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "beta": [Interval(Real, 0, None, closed="left"), None],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "linear_path": ["boolean", StrOptions({"auto"})],
        "linear_path_l2": [Interval(Real, 0, None, closed="left")],
        "n_members": [Interval(Integral, 1, None, closed="left")],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "unknown_items": [StrOptions({"ignore", "error"})],
    }

    def __init__(self, kind: str = "recvae", *, user_col: str = "user", item_col: str = "item",
                 rating_col: str | None = None, min_rating: float | None = None, hidden_dim: int = 600,
                 latent_dim: int = 200, dropout: float = 0.5, beta: float | None = None, weight_decay: float = 0.0,
                 linear_path: bool | str = "auto", linear_path_l2: float = 1e-3, n_members: int = 3,
                 max_iter: int | None = None, batch_size: int | None = None, learning_rate: float | None = None,
                 validation_fraction: float = 0.1, n_iter_no_change: int = 20, unknown_items: str = "ignore",
                 device: str = "auto", random_state: int | np.random.RandomState | None = None,
                 verbose: int = 0) -> None:
        self.kind = kind
        self.user_col = user_col
        self.item_col = item_col
        self.rating_col = rating_col
        self.min_rating = min_rating
        self.hidden_dim = hidden_dim
        self.latent_dim = latent_dim
        self.dropout = dropout
        self.beta = beta
        self.weight_decay = weight_decay
        self.linear_path = linear_path
        self.linear_path_l2 = linear_path_l2
        self.n_members = n_members
        self.max_iter = max_iter
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.unknown_items = unknown_items
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------------------------------------------ fit
    def _beta(self) -> float:
        return DEFAULT_BETA[self.kind] if self.beta is None else float(self.beta)

    def _model_config(self, n_items: int) -> ModelConfig:
        if self.kind == "recvae":
            encoder = {"name": "bag", "hidden": [self.hidden_dim] * RECVAE_DEPTH, "activation": "silu",
                       "layer_norm": True, "linear_decoder": True}
            bottleneck = {"name": "gaussian", "beta": self._beta(), "kl_by_input_sum": True}
        else:
            encoder = {"name": "bag", "hidden": [self.hidden_dim], "activation": "tanh"}
            bottleneck = {"name": "gaussian", "beta": self._beta()} if self.kind == "mult-vae" else \
                {"name": "deterministic"}
        return ModelConfig(
            input_shape=(n_items,), latent_dim=self.latent_dim, encoder=encoder, bottleneck=bottleneck,
            likelihood={"name": "multinomial"},
            corruption={"name": "masking", "level": float(self.dropout)} if self.dropout > 0 else None,
            linear_path={"l2": float(self.linear_path_l2)} if self._uses_linear_path(n_items) else None,
        )

    def _uses_linear_path(self, n_items: int) -> bool:
        """Whether the model gets the item-item path (``linear_path``; ``"auto"``: the Mult- kinds up to
        ``LINEAR_PATH_MAX_ITEMS`` items, never RecVAE, which the path made worse on the validation users)."""
        if self.linear_path == "auto":
            return self.kind != "recvae" and n_items <= LINEAR_PATH_MAX_ITEMS
        return bool(self.linear_path)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: object, y: object = None, *, validation: object = None) -> Recommender:
        """Learn from interactions: a DataFrame or CSV/Parquet path with user and item columns, or a SciPy sparse
        users x items matrix (items are its columns, in order). ``y`` is ignored.

        ``validation``: interactions of other users (same layout) to choose the best epoch on, instead of holding
        out ``validation_fraction`` of ``X``'s users; their items outside ``X``'s are ignored."""
        data = read_interactions(X, user_col=self.user_col, item_col=self.item_col, rating_col=self.rating_col,
                                 min_rating=self.min_rating)
        active = np.flatnonzero(data.matrix.getnnz(axis=1) > 0)
        if len(active) < 2:
            raise ValueError(f"a recommender needs the histories of at least 2 users; got {len(active)} with items")
        self.item_ids_, self.user_ids_, self.histories_ = data.item_ids, data.user_ids, data.matrix
        self.n_features_in_ = len(self.item_ids_)
        rng = np.random.default_rng(self._fit_seed())
        seed = int(rng.integers(2**31 - 1))
        if validation is not None:
            held = read_interactions(validation, user_col=self.user_col, item_col=self.item_col,
                                     rating_col=self.rating_col, min_rating=self.min_rating, item_ids=self.item_ids_)
            train, validation = SparseRows(data.matrix[active]), fold_in_split(held.matrix, rng)
        else:
            n_val = int(len(active) * self.validation_fraction) if len(active) >= 20 else 0
            order = rng.permutation(active)
            train = SparseRows(data.matrix[np.sort(order[n_val:])])
            validation = fold_in_split(data.matrix[np.sort(order[:n_val])], rng) if n_val else None

        self.config_ = self._model_config(len(self.item_ids_))
        self.device_ = resolve_device(self.device)
        batch = self.batch_size or clip(next_pow2(len(train) / 16), 32, 512)
        epochs = self.max_iter or RECOMMENDER.epochs(len(train), batch)
        self.models_, self.best_epoch_ = [], []
        for _ in range(self.n_members):
            model = self._build_model(lambda: AutoEncoderModel(self.config_), seed)
            _start_from_popularity(model, train.matrix)
            callbacks: list[Callback] = []
            if self.kind == "mult-vae":
                callbacks.append(LinearRamp(model.bottleneck, "beta", 0.0, self._beta(),
                                            epochs * train.batches_per_epoch(batch)))
            best = BestRanking(validation, self.device_, self.n_iter_no_change) if validation else None
            callbacks += [best] if best else []
            self._fit_model(model, train, Budget(epochs, batch), seed=seed, label="recommender", callbacks=callbacks,
                            weight_decay=self.weight_decay, lr_schedule="constant", early_stopping=False,
                            learning_rate=self.learning_rate or LEARNING_RATES[self.kind])
            self.models_.append(model)
            self.best_epoch_.append(best.best_epoch if best else self.n_iter_)
            seed = int(rng.integers(2**31 - 1))
        # every member saw the same validation users: the last one's scorer rates the average of all
        self.validation_metrics_ = best.metrics(self.models_) if best else {}
        self.validation_ndcg_ = self.validation_metrics_.get("NDCG@100", float("nan"))
        return self

    # ------------------------------------------------------------------------------------------- predict
    def _histories(self, users_or_histories: object) -> tuple[np.ndarray, sp.csr_matrix]:
        """``(user labels, histories as rows over the fitted items)`` for known user ids, a table of (possibly
        new) users' interactions, a ``{user: [items]}`` dict or a sparse matrix."""
        check_is_fitted(self)
        given = users_or_histories
        if isinstance(given, dict):
            given = pd.DataFrame([(u, i) for u, items in given.items() for i in items],
                                 columns=[self.user_col, self.item_col])
        if isinstance(given, pd.DataFrame) and self.item_col in given.columns or sp.issparse(given) or \
                isinstance(given, (str, Path)):
            rating = self.rating_col if isinstance(given, pd.DataFrame) and self.rating_col in given.columns else None
            data = read_interactions(given, user_col=self.user_col, item_col=self.item_col, rating_col=rating,
                                     min_rating=self.min_rating if rating else None, item_ids=self.item_ids_,
                                     unknown_items=self.unknown_items)
            labels, rows = data.user_ids, data.matrix
        else:
            labels = np.asarray(given[self.user_col] if isinstance(given, pd.DataFrame) else given).ravel()
            index = pd.Index(self.user_ids_).get_indexer(labels)
            if (index < 0).any():
                unknown = ", ".join(map(repr, labels[index < 0][:3]))
                raise ValueError(f"{int((index < 0).sum())} user(s) were not seen in fit ({unknown}); pass their "
                                 f"histories instead (a table with {self.user_col!r} and {self.item_col!r} columns)")
            rows = self.histories_[index]
        empty = rows.getnnz(axis=1) == 0
        if empty.any():
            names = ", ".join(map(repr, labels[empty][:3]))
            raise ValueError(f"{int(empty.sum())} user(s) have an empty history ({names}); a recommendation needs at "
                             "least one known item")
        return labels, rows

    def _batches(self, rows: sp.csr_matrix, batch_size: int = 1024):
        for start in range(0, rows.shape[0], batch_size):
            yield start, item_probabilities(self.models_, rows[start : start + batch_size], self.device_)

    def predict_scores(self, histories: object) -> np.ndarray:
        """``(n_users, n_items)`` probabilities of every fitted item (columns in ``item_ids_`` order); rows follow
        the users as given (known ids), sorted user ids (tables) or the rows of a sparse matrix."""
        _, rows = self._histories(histories)
        return np.concatenate([scores for _, scores in self._batches(rows)])

    def recommend(self, users_or_histories: object, k: int = 10, exclude_seen: bool = True) -> pd.DataFrame:
        """The ``k`` most likely items per user: known user ids, or histories of new users (a table of user,
        item rows, a ``{user: [items]}`` dict or a sparse matrix) folded in without retraining.

        Returns a DataFrame with ``user``, ``rank`` (1 = best), ``item`` and ``score`` (probability)."""
        if not isinstance(k, Integral) or k < 1:
            raise ValueError(f"k must be a positive whole number, got {k!r}")
        labels, rows = self._histories(users_or_histories)
        k = min(int(k), len(self.item_ids_))
        frames = []
        for start, scores in self._batches(rows):
            if exclude_seen:
                seen = rows[start : start + len(scores)]
                scores[seen.nonzero()] = -np.inf
            top = np.argsort(-scores, axis=1, kind="stable")[:, :k]
            frames.append(pd.DataFrame({
                "user": np.repeat(labels[start : start + len(scores)], k),
                "rank": np.tile(np.arange(1, k + 1), len(scores)),
                "item": self.item_ids_[top.ravel()],
                "score": np.take_along_axis(scores, top, axis=1).ravel(),
            }))
        out = pd.concat(frames, ignore_index=True)
        return out[np.isfinite(out["score"])].reset_index(drop=True)

    def similar_items(self, item: object, k: int = 10) -> pd.DataFrame:
        """Items whose output embeddings (the decoder's last layer) are closest in cosine to ``item``'s (the
        cosine averaged over the members: each learns its own embedding space)."""
        check_is_fitted(self)
        index = pd.Index(self.item_ids_).get_indexer([item])[0]
        if index < 0:
            raise ValueError(f"item {item!r} was not seen in fit")
        sim = np.zeros(len(self.item_ids_))
        for model in self.models_:
            emb = model.decoder.layers[-1].weight.detach().cpu().numpy().astype(np.float64)
            emb /= np.maximum(np.linalg.norm(emb, axis=1, keepdims=True), 1e-12)
            sim += emb @ emb[index] / len(self.models_)
        sim[index] = -np.inf
        top = np.argsort(-sim, kind="stable")[: min(k, len(sim) - 1)]
        return pd.DataFrame({"item": self.item_ids_[top], "similarity": sim[top]})

    # -------------------------------------------------------------------------------------- persist
    def _state(self) -> dict[str, Any]:
        h = self.histories_
        tensors = {f"model{i}.{k}": v for i, model in enumerate(self.models_) for k, v in model.state_dict().items()}
        tensors.update({"histories.indptr": tensor(h.indptr.astype(np.int64)),
                        "histories.indices": tensor(h.indices.astype(np.int64)), "histories.data": tensor(h.data)})
        return {"config": {"model": self.config_.to_dict(), "n_members": len(self.models_), "n_iter": self.n_iter_,
                           "stop_reason": self.stop_reason_,
                           "best_epoch": self.best_epoch_, "validation_metrics": self.validation_metrics_,
                           "validation_ndcg": None if math.isnan(self.validation_ndcg_) else self.validation_ndcg_},
                "tensors": tensors,
                "preprocess": {"item_ids": _plain(self.item_ids_), "user_ids": _plain(self.user_ids_)},
                "history": self.history_}

    def _restore(self, saved: dict[str, Any], path: Path, device: str) -> None:
        fitted, tensors = saved["config"]["fitted"], saved["state_dict"]
        self.config_ = ModelConfig.from_dict(fitted["model"])
        prefixes = [f"model{i}." for i in range(fitted["n_members"])]
        self.models_ = [self._placed(AutoEncoderModel(self.config_),
                                     {k[len(p):]: v for k, v in tensors.items() if k.startswith(p)}, device)
                        for p in prefixes]
        self.item_ids_ = np.asarray(saved["preprocess"]["item_ids"])
        self.user_ids_ = np.asarray(saved["preprocess"]["user_ids"])
        self.histories_ = sp.csr_matrix(
            (tensors["histories.data"].numpy(), tensors["histories.indices"].numpy(),
             tensors["histories.indptr"].numpy()), shape=(len(self.user_ids_), len(self.item_ids_)))
        self.history_ = saved["history"]
        self.n_iter_, self.stop_reason_ = fitted["n_iter"], fitted["stop_reason"]
        self.best_epoch_ = list(fitted["best_epoch"])
        self.validation_ndcg_ = fitted["validation_ndcg"] if fitted["validation_ndcg"] is not None else float("nan")
        self.validation_metrics_ = dict(fitted["validation_metrics"])

    @classmethod
    def describe(cls, config: dict) -> dict[str, Any]:
        fitted = config.get("fitted", {})
        return {**super().describe(config), "kind": config.get("params", {}).get("kind"),
                "items": fitted.get("n_features_in"), "members": fitted.get("n_members", 1),
                "epochs run": fitted.get("n_iter"),
                "best epoch": fitted.get("best_epoch"), "validation NDCG@100": fitted.get("validation_ndcg")}

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False  # user-item interactions (a table of pairs or a sparse matrix)
        tags.input_tags.sparse = True
        tags.input_tags.categorical = True
        return tags


@torch.no_grad()
def _start_from_popularity(model: AutoEncoderModel, matrix: sp.csr_matrix) -> None:
    """Set the output layer's biases to the log of each item's count, so the untrained model already ranks by
    popularity and training learns each user's departure from it. On MovieLens-100K validation users this raised
    Mult-VAE's NDCG@100 from 0.426 to 0.434 (two splits, the recommendation benchmark); the biases are otherwise learned from
    zero while every softmax logit competes."""
    counts = np.asarray(matrix.sum(axis=0), dtype=np.float64).ravel()
    bias = np.log1p(counts)
    model.decoder.layers[-1].bias.copy_(torch.from_numpy(bias - bias.mean()).float())


def _plain(ids: np.ndarray) -> list:
    """Ids as JSON values (NumPy scalars become Python ones)."""
    return [v.item() if isinstance(v, np.generic) else v for v in ids]


__all__ = ["Recommender"]
