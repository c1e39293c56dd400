"""``TextAutoEncoder``: sentence embeddings and sentence generation learned from the user's own texts.

Why this shape: a user with support tickets, product descriptions or notes wants vectors to search and cluster
them, trained on their own machine without downloading a model. ``fit`` learns a tokenizer on the corpus
(``data/tokenizer.py``) and a sequence autoencoder (``models/sequence_autoencoder.py``): a small
encoder turns each text into one code, a GRU writes the text back from it.

* ``kind="denoising"`` (after TSDAE): the encoder sees each text with ``deletion`` of its tokens removed, and
  from the code a bag-of-words decoder must name every word of the whole text, each weighted by its inverse
  document frequency -- codes for search and clustering. Then a word-by-word decoder learns to write texts from
  the codes, with its own copy of the token embedding, so the codes stay as the code phase made them (with the
  embedding shared, the decoder phase cost them 0.009 on the design split). Chosen on the design split of
  ``benchmarks/text.py`` (10-NN category accuracy; the text design notes have the screen): the TSDAE objective (the
  word-by-word decoder shapes the code) gave 0.43-0.45 for 2 minutes of training, the IDF-weighted bag of words
  0.55 in the same time (unweighted 0.42), and with the mean of the token embeddings as the encoder
  (``layers=0``) instead of a 2-layer transformer 0.61, in a quarter of the time per epoch. Two later changes,
  same split: a vocabulary of whole words instead of byte-pair pieces (0.643 against 0.615: a rare word such as
  "primrose" is one entry that the bag of words can name, not pieces shared with unrelated words), and the bag of
  words scoring cosines between the code and each word (+0.002 with 12,000 words, +0.008 with 24,530: codes
  trained in the geometry they are searched in).
* ``kind="vae"`` (Bowman et al.): a Gaussian code whose KL weight rises from 0 to ``beta`` over the first half of
  training, with word dropout on the decoder -- a smooth code space to ``sample`` and ``interpolate`` in.

The fitted texts and their codes are kept (``keep_corpus``) so ``neighbours`` can search them straight away.
"""

from __future__ import annotations

import itertools
import json
from numbers import Integral, Real
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from sklearn.base import TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from .._utils import clip
from ..data.texts import read_texts
from ..data.token_sequences import TokenSequences
from ..data.tokenizer import TextTokenizer
from ..models.sequence_autoencoder import SequenceAutoEncoder, SequenceConfig
from ..models.flops import forward_macs
from ..training import Budget, LinearRamp, epochs_for_steps, resolve_device
from ..training.budget import TEXT_CODES, TEXT_DECODER, TEXT_VAE
from .base import TRAINING_CONSTRAINTS, ModelEstimator, register_format, tensor

#: Fewer texts than this cannot train a tokenizer and a sequence model to anything useful.
MIN_TEXTS = 100
#: Vocabulary sizes when ``vocab_size`` is None. Words: on WordNet's design split 8,000 words scored 0.632, 12,000
#: scored 0.643 and all 24,530 seen twice 0.642 (10-NN accuracy), at twice the time.
DEFAULT_VOCABULARY = {"words": 12000, "pieces": 8000}
#: Starting scale of the denoising bag of words' cosines (``SequenceConfig.bow_scale``).
BOW_SCALE = 10.0
#: Texts per inference batch (sorted by length, so little of each batch is padding).
INFERENCE_BATCH = 512


@register_format
class TextAutoEncoder(TransformerMixin, ModelEstimator):
    """Embed, reconstruct and (VAE) generate texts with a sentence autoencoder trained on your corpus.

    Parameters
    ----------
    kind : {"denoising", "vae"}, default="denoising"
        ``denoising``: TSDAE-style codes for search and clustering; ``vae``: a sequence VAE to sample from.
    text_col : str, optional
        The text column of a DataFrame or CSV/Parquet file (default: its only text column).
    latent_dim : int, default=64
        Size of each text's code (the embedding).
    width, layers, heads : int, default=256, 0, 4
        Width of the token embeddings (and the GRU decoder); transformer layers over them before the mean
        (0: the code is made from the mean of the embeddings, measured best) and their attention heads.
    tokens : {"auto", "words", "pieces"}, default="auto"
        What the tokenizer's vocabulary holds: whole words (a word seen once becomes ``[UNK]``) or byte-pair
        pieces (every word can be written). ``auto``: words for ``denoising`` (codes), pieces for ``vae``
        (generation).
    vocab_size : int, default=None
        Most vocabulary entries the tokenizer learns (fewer on a small corpus); ``None``: 12,000 words or 8,000
        pieces.
    max_length : int, default=64
        Tokens kept per text (longer texts are cut).
    deletion : float, default=0.6
        Share of tokens the denoising encoder does not see while training (TSDAE's 0.6).
    word_dropout : float, default=0.3
        Share of the VAE decoder's input words replaced by ``[UNK]`` while training.
    beta : float, default=1.0
        The VAE's KL weight after annealing.
    bow_weight : float, default=1.0
        Weight of the bag-of-words term (the code predicts the text's words, order-free, weighted by IDF).
    keep_corpus : bool, default=True
        Keep the fitted texts and their codes in the model for :meth:`neighbours`.
    max_iter, batch_size : int, optional
        Epochs and texts per step. ``None``: batches of 128 and the text budgets of ``aekit.training.budget``,
        which follow the corpus: about 13,000 code steps but at most 20 epochs, then about 2,600 decoder steps but
        at most 4 epochs (denoising), or about 5,000 steps but at most 10 epochs (VAE), the decoder's cut further
        where long texts would make it exceed about ten minutes (10,000 texts of 25 words: about 4 minutes on
        2 CPU cores). ``max_iter`` sets the epochs of the code phase and lets the word-by-word decoder train up to
        2,600 steps within as many epochs (denoising), or sets the epochs of the whole training (VAE): raise it
        for a decoder that writes better, at the cost of time.
    learning_rate : float, default=3e-3
    device : str, default="auto"
    random_state : int, RandomState or None
    verbose : int, default=0

    Attributes
    ----------
    tokenizer_ : TextTokenizer
    model_ : SequenceAutoEncoder
    history_ : list of dict
        Per-epoch loss terms (``recon``, ``bow``, ``kl``) and ``token_accuracy`` of the teacher-forced decoder.
    corpus_ : list of str, corpus_codes_ : ndarray
        The fitted texts and their embeddings (with ``keep_corpus``).

    Examples
    --------
    >>> tae = TextAutoEncoder(random_state=0).fit(tickets)            # doctest: +SKIP
    >>> tae.neighbours("printer does not print", k=5)                 # doctest: +SKIP
    """

    FORMAT = "aekit.text"

    _parameter_constraints: dict = {
        **TRAINING_CONSTRAINTS,
        "kind": [StrOptions({"denoising", "vae"})],
        "text_col": [str, None],
        "latent_dim": [Interval(Integral, 1, None, closed="left")],
        "width": [Interval(Integral, 8, None, closed="left")],
        "layers": [Interval(Integral, 0, None, closed="left")],
        "heads": [Interval(Integral, 1, None, closed="left")],
        "tokens": [StrOptions({"auto", "words", "pieces"})],
        "vocab_size": [Interval(Integral, 100, None, closed="left"), None],
        "max_length": [Interval(Integral, 2, None, closed="left")],
        "deletion": [Interval(Real, 0, 1, closed="left")],
        "word_dropout": [Interval(Real, 0, 1, closed="left")],
        "beta": [Interval(Real, 0, None, closed="left")],
        "bow_weight": [Interval(Real, 0, None, closed="left")],
        "keep_corpus": ["boolean"],
    }

    def __init__(self, kind: str = "denoising", *, text_col: str | None = None, latent_dim: int = 64,
                 width: int = 256, layers: int = 0, heads: int = 4, tokens: str = "auto",
                 vocab_size: int | None = None, max_length: int = 64,
                 deletion: float = 0.6, word_dropout: float = 0.3, beta: float = 1.0, bow_weight: float = 1.0,
                 keep_corpus: bool = True, max_iter: int | None = None, batch_size: int | None = None,
                 learning_rate: float = 3e-3, device: str = "auto",
                 random_state: int | np.random.RandomState | None = None, verbose: int = 0) -> None:
        self.kind = kind
        self.text_col = text_col
        self.latent_dim = latent_dim
        self.width = width
        self.layers = layers
        self.heads = heads
        self.tokens = tokens
        self.vocab_size = vocab_size
        self.max_length = max_length
        self.deletion = deletion
        self.word_dropout = word_dropout
        self.beta = beta
        self.bow_weight = bow_weight
        self.keep_corpus = keep_corpus
        self.max_iter = max_iter
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------------------------------------------ fit
    def _model_config(self, vocab_size: int) -> SequenceConfig:
        vae = self.kind == "vae"
        if self.layers and self.width % self.heads:
            raise ValueError(f"width ({self.width}) must be a multiple of heads ({self.heads})")
        return SequenceConfig(vocab_size=vocab_size, latent_dim=self.latent_dim, width=self.width,
                              layers=self.layers, heads=self.heads, max_length=self.max_length, variational=vae,
                              beta=float(self.beta), deletion=0.0 if vae else float(self.deletion),
                              word_dropout=float(self.word_dropout) if vae else 0.0,
                              bow_weight=float(self.bow_weight), bow_scale=0.0 if vae else BOW_SCALE,
                              own_decoder_embedding=not vae)

    def _units(self) -> str:
        if self.tokens != "auto":
            return self.tokens
        return "pieces" if self.kind == "vae" else "words"

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: object, y: object = None) -> TextAutoEncoder:
        """Learn a tokenizer and the autoencoder from texts: a list/Series of strings, a DataFrame (``text_col``)
        or a CSV/Parquet path. ``y`` is ignored."""
        texts, _ = read_texts(X, self.text_col)
        if len(texts) < MIN_TEXTS:
            raise ValueError(f"a text autoencoder needs at least {MIN_TEXTS} texts to learn from (a few thousand for "
                             f"useful embeddings); got {len(texts)}")
        seed = self._fit_seed()
        units = self._units()
        self.tokenizer_ = TextTokenizer.train(texts, self.vocab_size or DEFAULT_VOCABULARY[units], units=units)
        data = TokenSequences(self.tokenizer_.encode(texts, self.max_length))
        self.n_features_in_ = 1
        self.config_ = self._model_config(self.tokenizer_.vocab_size)
        self.device_ = resolve_device(self.device)
        self.model_ = self._build_model(lambda: SequenceAutoEncoder(self.config_), seed)
        self.model_.set_token_weights(torch.from_numpy(data.document_frequency(self.config_.vocab_size)), len(data))
        batch = self.batch_size or clip(128, 1, len(texts))
        steps_per_epoch = data.batches_per_epoch(batch)
        macs = forward_macs(self.model_, data.example())  # a text of the mean length: longer texts cost more
        train = lambda phase, epochs, callbacks=(): self._fit_model(  # noqa: E731
            self.model_, data, Budget(epochs, batch), seed=seed, label=f"text {self.kind} ({phase})",
            callbacks=list(callbacks), early_stopping=False)
        if self.config_.variational or self.model_.bow is None:
            epochs = self.max_iter or TEXT_VAE.epochs(len(texts), batch, macs)
            ramps = [LinearRamp(self.model_.bottleneck, "beta", 0.0, float(self.beta),
                                max(epochs * steps_per_epoch // 2, 1))] if self.config_.variational else []
            result = train("joint", epochs, ramps)
            history = result.history
        else:
            epochs = self.max_iter or TEXT_CODES.epochs(len(texts), batch)
            self.model_.phase = "code"
            history, code_seconds = train("code", epochs).history, self.train_seconds_
            self.model_.phase = "decoder"
            self.model_.start_decoder_embedding()
            decoder_epochs = TEXT_DECODER.epochs(len(texts), batch, macs) if self.max_iter is None else \
                epochs_for_steps(TEXT_DECODER.steps, len(texts), batch, 1, self.max_iter)
            result = train("decoder", decoder_epochs)
            history = history + [{**row, "epoch": row["epoch"] + len(history), "seconds": row["seconds"] + code_seconds}
                                 for row in result.history]
            self.train_seconds_ = code_seconds + result.seconds
        self.model_.phase = "joint"
        self.history_, self.n_iter_ = history, len(history)
        self.stop_reason_ = result.stop_reason
        if self.keep_corpus:
            self.corpus_, self.corpus_codes_ = texts, self._encode(data)
        return self

    # ----------------------------------------------------------------------------------------- inference
    def _sequences(self, X: object, what: str = "texts") -> TokenSequences:
        check_is_fitted(self)
        texts, _ = read_texts(X, self.text_col, what)
        return TokenSequences(self.tokenizer_.encode(texts, self.max_length))

    @torch.no_grad()
    def _encode(self, data: TokenSequences) -> np.ndarray:
        """Codes of every sequence, computed in length-sorted batches and returned in the given order."""
        order = np.argsort(data.lengths, kind="stable")
        codes = np.zeros((len(data), self.latent_dim), dtype=np.float32)
        model = self.model_.eval()
        for i in range(0, len(order), INFERENCE_BATCH):
            rows = order[i:i + INFERENCE_BATCH]
            codes[rows] = model.encode(data.padded(rows).to(self.device_)).float().cpu().numpy()
        return codes

    def transform(self, X: object) -> np.ndarray:
        """``(n, latent_dim)`` float32 embeddings of texts: the code (a VAE's posterior mean). (Centring them on the
        corpus's mean code helped the transformer encoder, 0.455 vs 0.437 10-NN accuracy on the design split, and
        not the default one, 0.613 vs 0.615, so they are left as they are.)"""
        return self._encode(self._sequences(X))

    @torch.no_grad()
    def _decode(self, codes: np.ndarray) -> list[str]:
        out: list[str] = []
        for i in range(0, len(codes), INFERENCE_BATCH):
            z = torch.as_tensor(codes[i:i + INFERENCE_BATCH], dtype=torch.float32, device=self.device_)
            out += self.tokenizer_.decode(self.model_.eval().generate(z))
        return out

    def reconstruct(self, X: object) -> list[str]:
        """Each text as the decoder writes it back from its code (greedy decoding; lower-cased)."""
        return self._decode(self.transform(X))

    def inverse_transform(self, embeddings: np.ndarray) -> list[str]:
        """Texts written from embeddings (``(n, latent_dim)``)."""
        check_is_fitted(self)
        embeddings = np.asarray(embeddings, dtype=np.float32)
        if embeddings.ndim != 2 or embeddings.shape[1] != self.latent_dim:
            raise ValueError(f"embeddings must have shape (n, {self.latent_dim}); got {embeddings.shape}")
        return self._decode(embeddings)

    def sample(self, n: int = 10, random_state: int | None = None) -> list[str]:
        """``n`` new texts decoded from codes drawn from the prior N(0, I) (``kind="vae"`` only)."""
        check_is_fitted(self)
        if self.kind != "vae":
            raise ValueError("sample() draws from a VAE's prior; this model has kind='denoising' (fit kind='vae')")
        if not isinstance(n, Integral) or n < 1:
            raise ValueError(f"n must be a positive whole number, got {n!r}")
        z = np.random.default_rng(random_state).standard_normal((int(n), self.latent_dim)).astype(np.float32)
        return self._decode(z)

    def interpolate(self, a: str, b: str, steps: int = 5) -> list[str]:
        """Texts decoded from ``steps`` codes evenly between the codes of ``a`` and ``b`` (both ends included)."""
        if not isinstance(steps, Integral) or steps < 2:
            raise ValueError(f"steps must be a whole number of at least 2, got {steps!r}")
        za, zb = self.transform([a, b])
        t = np.linspace(0.0, 1.0, int(steps), dtype=np.float32)[:, None]
        return self._decode((1 - t) * za + t * zb)

    @torch.no_grad()
    def token_accuracy(self, X: object) -> float:
        """Share of the texts' tokens (and end marks) the decoder predicts right from the code and the true words
        before them (teacher forcing; the ``token_accuracy`` logged in training)."""
        data = self._sequences(X)
        right = total = 0.0
        model = self.model_.eval()
        for batch in data.sequential(INFERENCE_BATCH):
            terms = model.loss(batch.to(self.device_))
            n = float((batch.x != 0).sum() + len(batch))
            right, total = right + float(terms["token_accuracy"]) * n, total + n
        return right / total

    def neighbours(self, queries: str | list[str], k: int = 10, corpus: object = None) -> pd.DataFrame:
        """The ``k`` texts nearest each query by cosine similarity of codes, among ``corpus`` (texts) or else the
        fitted texts. Returns ``query``, ``rank`` (1 = nearest), ``id`` (row in the corpus), ``text``,
        ``similarity``."""
        check_is_fitted(self)
        if not isinstance(k, Integral) or k < 1:
            raise ValueError(f"k must be a positive whole number, got {k!r}")
        queries = [queries] if isinstance(queries, str) else queries
        if corpus is not None:
            texts, ids = read_texts(corpus, self.text_col, "corpus")
            codes = self.transform(texts)
        elif getattr(self, "corpus_", None) is not None:
            texts, ids, codes = self.corpus_, np.arange(len(self.corpus_)), self.corpus_codes_
        else:
            raise ValueError("this model kept no corpus (keep_corpus=False); pass corpus=texts to search")
        q = _unit(self.transform(queries))
        sims = q @ _unit(codes).T
        k = min(int(k), len(texts))
        top = np.argsort(-sims, axis=1, kind="stable")[:, :k]
        return pd.DataFrame({
            "query": np.repeat(np.asarray(queries, dtype=object), k),
            "rank": np.tile(np.arange(1, k + 1), len(queries)),
            "id": np.asarray(ids)[top.ravel()],
            "text": np.asarray(texts, dtype=object)[top.ravel()],
            "similarity": np.take_along_axis(sims, top, axis=1).ravel(),
        })

    # -------------------------------------------------------------------------------------- persist
    def _state(self) -> dict[str, Any]:
        tensors = {f"model.{k}": v for k, v in self.model_.state_dict().items()}
        if getattr(self, "corpus_", None) is not None:
            encoded = [t.encode("utf-8") for t in self.corpus_]
            tensors["corpus.bytes"] = tensor(np.frombuffer(b"".join(encoded), dtype=np.uint8).copy())
            tensors["corpus.offsets"] = tensor(np.cumsum([0] + [len(e) for e in encoded]).astype(np.int64))
            tensors["corpus.codes"] = tensor(self.corpus_codes_)
        return {"config": {"model": self.config_.to_dict(), "n_iter": self.n_iter_, "stop_reason": self.stop_reason_,
                           "train_seconds": self.train_seconds_},
                "tensors": tensors,
                "preprocess": {"tokenizer": json.loads(self.tokenizer_.to_json())},
                "history": self.history_}

    def _restore(self, saved: dict[str, Any], path: Path, device: str) -> None:
        fitted, tensors = saved["config"]["fitted"], saved["state_dict"]
        self.config_ = SequenceConfig.from_dict(fitted["model"])
        self.model_ = self._placed(SequenceAutoEncoder(self.config_),
                                   {k[6:]: v for k, v in tensors.items() if k.startswith("model.")}, device)
        self.tokenizer_ = TextTokenizer.from_json(json.dumps(saved["preprocess"]["tokenizer"]))
        self.history_ = saved["history"]
        self.n_iter_, self.stop_reason_ = fitted["n_iter"], fitted["stop_reason"]
        self.train_seconds_ = fitted["train_seconds"]
        if "corpus.bytes" in tensors:
            raw, offsets = tensors["corpus.bytes"].numpy().tobytes(), tensors["corpus.offsets"].numpy()
            self.corpus_ = [raw[a:b].decode("utf-8") for a, b in itertools.pairwise(offsets)]
            self.corpus_codes_ = tensors["corpus.codes"].numpy()

    @classmethod
    def describe(cls, config: dict) -> dict[str, Any]:
        fitted, params = config.get("fitted", {}), config.get("params", {})
        model = fitted.get("model", {})
        return {"estimator": cls.__name__, "kind": params.get("kind"), "embedding size": model.get("latent_dim"),
                "vocabulary": model.get("vocab_size"), "epochs run": fitted.get("n_iter"),
                "training seconds": fitted.get("train_seconds")}

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False  # texts, not tables
        tags.input_tags.string = True
        return tags


def _unit(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a, dtype=np.float32)
    return a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)


__all__ = ["TextAutoEncoder"]
