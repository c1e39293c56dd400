"""What a served model answers: one table of operations per saved format, each a call of the estimator's public API.

The server is written once against this table: every route, request schema and response form comes from an
:class:`Operation` (what it takes, what it gives, which public method it calls and with which parameters), and the
format registry (``aekit.load``) says which estimator a directory holds. A new estimator is served by adding its
row here; nothing else changes.

Input forms (``takes``): ``rows`` (the rows or images the estimator was fitted on: JSON records, an Open Inference
Protocol tensor, or a PNG for image models), ``codes`` (a tensor of codes), ``image`` (one PNG), ``file`` (raw
bytes), ``texts``, ``users`` (known user ids or new users' histories) and ``item``.

Output forms (``gives``): ``tensor`` (an Open Inference Protocol output), ``natural`` (a table -- a DataFrame or a
NumPy structured array -- as records; an array as a tensor, or as a PNG when the request was a PNG), ``png`` (one
image as PNG; several as a tensor) and ``bytes``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..estimators import (AnomalyDetector, AutoEncoder, Clusterer, Codec, Denoiser, Imputer, Recommender,
                          TextAutoEncoder)
from ..estimators.encoder import FORMAT as ENCODER_FORMAT

TAKES = ("rows", "codes", "image", "file", "texts", "users", "item")
GIVES = ("tensor", "natural", "png", "bytes")


@dataclass(frozen=True)
class Param:
    """A query parameter of an operation: a whole number in ``[low, high]`` or a boolean."""

    name: str
    kind: type
    default: Any
    help: str
    low: int = 1
    high: int = 1000


@dataclass(frozen=True)
class Operation:
    """One thing a served model does.

    Parameters
    ----------
    name : str
        The last segment of its route, ``POST /v1/models/{model}/{name}``.
    summary : str
        One line for the model description and the OpenAPI document.
    takes, gives : str
        Input and output forms (see the module docstring).
    call : callable
        ``call(estimator, inputs, params) -> result``: public methods of the estimator only.
    output : str
        Name of the output tensor when the result is an array.
    params : tuple of Param
    rowwise : bool
        Row ``i`` of the result depends on row ``i`` of the input alone, so concurrent requests may be stacked into
        one call (micro-batching) and the result split back.
    """

    name: str
    summary: str
    takes: str
    gives: str
    call: Callable[[Any, Any, dict[str, Any]], Any]
    output: str = "output"
    params: tuple[Param, ...] = ()
    rowwise: bool = False

    def __post_init__(self) -> None:
        if self.takes not in TAKES or self.gives not in GIVES:
            raise ValueError(f"operation {self.name!r}: takes must be one of {TAKES} and gives one of {GIVES}")


@dataclass(frozen=True)
class Offer:
    """What one saved format offers: how to describe its inputs, and its operations."""

    inputs: Callable[[Any], dict[str, Any]]
    operations: tuple[Operation, ...] = field(default_factory=tuple)


K = Param("k", int, 10, "how many results per query")
TOP = Param("top", int, 3, "how many features per row")
EXCLUDE_SEEN = Param("exclude_seen", bool, True, "leave out items already in the history")


def _scores(detector: AnomalyDetector, X: object, params: dict[str, Any]) -> np.ndarray:
    """Each row's anomaly score and label (1 = outlier: score above the fitted ``threshold_``), from one pass, as a
    table with named columns (a NumPy structured array: a DataFrame per request costs more than the answer)."""
    score = detector.decision_function(X)
    return np.rec.fromarrays([score, (score > detector.threshold_).astype(np.int64)], names=["score", "label"])


def _rows(estimator: Any) -> dict[str, Any]:
    return estimator.input_spec()


def _with_codes(estimator: AutoEncoder) -> dict[str, Any]:
    return {**estimator.input_spec(), "latent_dim": int(estimator.get_feature_names_out().shape[0])}


_ENCODE = Operation("encode", "codes of rows or images (transform)", "rows", "tensor",
                    lambda e, X, p: e.transform(X), output="codes", rowwise=True)

#: Saved format -> what a server offers for it.
OPERATIONS: dict[str, Offer] = {
    AutoEncoder.FORMAT: Offer(_with_codes, (
        _ENCODE,
        Operation("reconstruct", "rows or images encoded and decoded, in the layout they were fitted in", "rows",
                  "natural", lambda e, X, p: e.reconstruct(X), output="reconstruction", rowwise=True),
        Operation("reconstruction_error", "each row's mean squared reconstruction error (in model space)", "rows",
                  "tensor", lambda e, X, p: e.reconstruction_error(X), output="error", rowwise=True),
        Operation("decode", "codes decoded to rows or images (inverse_transform)", "codes", "natural",
                  lambda e, X, p: e.inverse_transform(X), output="decoded", rowwise=True),
    )),
    ENCODER_FORMAT: Offer(lambda e: {**e.input_spec(), "latent_dim": int(e.latent_dim)}, (_ENCODE,)),
    AnomalyDetector.FORMAT: Offer(_rows, (
        Operation("score", "anomaly score (higher = more anomalous) and label (1 = outlier) of each row", "rows",
                  "natural", _scores, rowwise=True),
        Operation("explain", "the features that drive each row's score, with their contributions", "rows",
                  "natural", lambda e, X, p: e.explain(X, top=p["top"]), params=(TOP,), rowwise=True),
    )),
    Clusterer.FORMAT: Offer(_rows, (
        Operation("predict", "the cluster of each row", "rows", "tensor", lambda e, X, p: e.predict(X),
                  output="cluster", rowwise=True),
        Operation("predict_proba", "each cluster's share of a row's nearest training rows", "rows", "tensor",
                  lambda e, X, p: e.predict_proba(X), output="proba", rowwise=True),
    )),
    Imputer.FORMAT: Offer(_rows, (
        Operation("impute", "the rows with every missing cell (null) filled, observed cells unchanged", "rows",
                  "natural", lambda e, X, p: e.transform(X), output="imputed", rowwise=True),
    )),
    Denoiser.FORMAT: Offer(lambda e: {"kind": "images", "channels": int(e.channels_), "shape": None}, (
        Operation("denoise", "one noisy PNG image cleaned (same size and channels)", "image", "png",
                  lambda e, X, p: e.transform(X), output="denoised"),
    )),
    Codec.FORMAT: Offer(lambda e: {"kind": "images", "shape": list(e.image_shape_)}, (
        Operation("compress", "one PNG image compressed to a one-image codec file", "image", "bytes",
                  lambda e, X, p: e.compress_each(X)[0]),
        Operation("decompress", "a codec file decoded (one image as PNG, several as a tensor)", "file", "png",
                  lambda e, X, p: e.decompress(X, name="the request body"), output="images"),
    )),
    Recommender.FORMAT: Offer(lambda e: {"kind": "interactions", "users": len(e.user_ids_),
                                         "items": len(e.item_ids_)}, (
        Operation("recommend", "the k most likely items for known users or new users' histories", "users",
                  "natural", lambda e, X, p: e.recommend(X, k=p["k"], exclude_seen=p["exclude_seen"]),
                  params=(K, EXCLUDE_SEEN)),
        Operation("similar", "the k items most similar to one item", "item", "natural",
                  lambda e, X, p: e.similar_items(X, k=p["k"]), params=(K,)),
    )),
    TextAutoEncoder.FORMAT: Offer(lambda e: {"kind": "texts", "latent_dim": int(e.latent_dim)}, (
        Operation("embed", "an embedding per text", "texts", "tensor", lambda e, X, p: e.transform(X),
                  output="embeddings", rowwise=True),
        Operation("neighbours", "the k fitted texts nearest each query", "texts", "natural",
                  lambda e, X, p: e.neighbours(X, k=p["k"]), params=(K,)),
    )),
}


__all__ = ["GIVES", "OPERATIONS", "TAKES", "Offer", "Operation", "Param"]
