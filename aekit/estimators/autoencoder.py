"""``AutoEncoder``: the scikit-learn estimator for every member of the family.

It stores its parameters, and in ``fit`` resolves the preset of ``kind``, the data-adaptive defaults
(``presets.py``), the input mapping (``_input.py``), builds the composed model (``models/``) and trains it with
the model-agnostic ``Trainer``.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Callable
from dataclasses import fields, replace
from numbers import Integral, Real
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from sklearn.base import ClassNamePrefixFeaturesOutMixin, TransformerMixin, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted
from torch import nn

from ..data.batches import TensorBatches
from ..data.stream_batches import StreamBatches
from ..data.table_files import TableFiles
from ..data.input import InputAdapter
from ..data.tabular import TabularPreprocessor
from ..models import (
    BOTTLENECKS,
    CORRUPTIONS,
    ENCODERS,
    LIKELIHOODS,
    REGULARIZERS,
    AutoEncoderModel,
    ModelConfig,
)
from ..models.activations import ACTIVATIONS
from ..models.flops import forward_macs, parameter_count
from ..models.importance import importance_log_likelihood
from ..models.inference import in_float64, predict_batches
from ..models.missing_flags import blank_missing
from ..models.input_norm import channel_moments
from ..models.parts import resolve
from ..registry import Registry
from ..training import Trainer, TrainConfig, default_training, resolve_device
from ..training.distributed import same_on_all_ranks
from ..training.precision import PRECISIONS, step_arithmetic
from ..training.layerwise import pretrain_layerwise
from .base import TRAINING_CONSTRAINTS, ModelEstimator, RegistryOptions, register_format
from .encoder import Encoder
from .presets import (DEFAULT_LEARNING_RATE, ENCODER_SETTINGS, KINDS, NOISE_LEVELS, SPARSITY_WEIGHTS, default_hidden,
                      default_latent_dim, preset)

logger = logging.getLogger("aekit")

#: Rows of streamed files that the input mapping (scaling, categories) is fitted on before it is frozen.
STREAM_SAMPLE_ROWS = 100_000
#: At most this many streamed rows are held out for validation (kept in memory, evaluated every epoch).
STREAM_VALIDATION_ROWS = 50_000


def _settings_for(registry: Registry, name: str, candidates: dict[str, Any]) -> dict[str, Any]:
    """The spec of part ``name`` with those ``candidates`` (flat estimator settings) that the part takes."""
    cls, _ = resolve(registry, name)
    taken = {f.name for f in fields(cls.Config)} if hasattr(cls, "Config") else set()
    return {"name": name, **{k: v for k, v in candidates.items() if k in taken and v is not None}}


def mean_over_shown(sq: np.ndarray, shown: np.ndarray) -> np.ndarray:
    """Each row's mean squared error over its shown cells ``(n,)`` (0 for a row with none): a cell that was
    missing, and so filled in, says nothing about the row."""
    return np.where(shown, sq, 0.0).sum(axis=1) / np.maximum(shown.sum(axis=1), 1)


@register_format
class AutoEncoder(ClassNamePrefixFeaturesOutMixin, TransformerMixin, ModelEstimator):
    """An autoencoder of any kind, trained on arrays, images or tables, with scikit-learn's API.

    ``transform`` encodes, ``inverse_transform`` decodes, ``reconstruct`` does both, and
    ``reconstruction_error`` gives each sample's mean squared reconstruction error.

    Parameters
    ----------
    kind : {"basic", "deep", "stacked", "conv", "denoising", "sparse", "contractive", "vae", "beta-vae"}, default="deep"
        Preset choice of parts. Any part parameter below that is set overrides the preset, so
        ``AutoEncoder(kind="vae", encoder="conv", corruption="gaussian")`` is a denoising convolutional VAE.
    latent_dim : int, default=None
        Code size; ``None`` picks a quarter of the input width, between 2 and 32.
    hidden_dims : tuple of int, default=None
        MLP layer widths (or conv channels per stride-2 stage); ``None`` adapts them to the input size.
    activation : str, default="relu"
        Hidden activation: relu, leaky_relu, elu, gelu, silu, tanh or sigmoid.
    encoder : {"mlp", "conv"}, default=None
        Overrides the preset's encoder. ``"conv"`` needs images ``(n, h, w)`` or ``(n, c, h, w)``.
    linear_path : bool, default=None
        A linear map from the input to the code and from the code back, beside the layers, so the code can be at
        least what PCA finds; it keeps a dense autoencoder on a few hundred rows from reconstructing 2-5x worse
        than PCA. ``None``: on for conv encoders and for "basic", "deep", "denoising", "sparse" and
        "contractive"; off for "stacked" (layer-wise pre-training) and the dense VAEs.
    bottleneck : {"deterministic", "gaussian"}, default=None
        ``"gaussian"`` makes a VAE.
    loss : {"auto", "mse", "bce", "mixed"}, default="auto"
        Reconstruction loss. ``"auto"``: ``"mixed"`` for tables with categorical columns, ``"bce"`` (on logits)
        for data in [0, 1], else ``"mse"``.
    corruption : {"gaussian", "masking", "salt-and-pepper"}, default=None
        Denoising corruption, applied only during training.
    noise_level : float, default=None
        Corruption strength: std as a fraction of the data's std for ``"gaussian"`` (default 0.5), fraction of
        values for ``"masking"`` (0.25) and ``"salt-and-pepper"`` (0.1).
    missing_indicator : bool, default=False
        For tables with missing values: the encoder also reads, for each value, whether it was shown (observed
        and not hidden by ``masking``), so a missing cell is not mistaken for a value of 0. Imputation uses it.
    sparsity : {"l1", "kl"}, default=None
        Sparse code penalty: L1 on the code, or KL divergence of each unit's mean (sigmoid) activation to
        ``sparsity_target``.
    sparsity_weight : float, default=None
        Weight of the sparsity term (1e-3 for l1, 1.0 for kl).
    sparsity_target : float, default=0.05
        Target activation rate for ``sparsity="kl"``.
    contractive_weight : float, default=None
        Weight of the squared Frobenius norm of the encoder's Jacobian (0.1 for kind="contractive").
    beta : float, default=None
        Weight of the KL term of a VAE (1 for "vae", 4 for "beta-vae").
    importance_samples : int, default=1
        Codes drawn per row in each training step of a VAE. 1 trains on the ELBO; k > 1 on the tighter
        importance-weighted bound (IWAE), which fits a better likelihood (``log_likelihood``) at about k times the
        decoder's cost per step. Needs ``beta=1``.
    pretrain : bool, default=None
        Greedy layer-wise pre-training before fine-tuning (on for kind="stacked").
    max_iter : int, default=None
        Maximum epochs; ``None`` gives about 20,000 gradient steps, between 20 and 500 epochs (40 epochs for
        kind="conv"), fewer for data so large that this would take more than about ten minutes.
    batch_size : int, default=None
        ``None`` grows with the data, from 32 to 256.
    learning_rate : float, default=None
        Adam's initial learning rate, decayed with a cosine schedule over ``max_iter`` epochs; ``None``: 1e-2 for
        kind="conv" (batch-normalised), 1e-3 otherwise.
    tol : float, default=1e-4
        Relative improvement of the monitored loss that counts as progress for early stopping.
    loss_threshold : float, default=None
        Stop as soon as the monitored loss (validation, else training) is at or below this value.
    early_stopping : bool, default=True
        Hold out ``validation_fraction`` of the data and stop when its loss stops improving; the best weights
        are kept.
    validation_fraction : float, default=0.1
    n_iter_no_change : int, default=10
        Epochs without improvement before early stopping.
    checkpoint_dir : str, default=None
        Where to write a checkpoint after every epoch; ``fit(X, resume=True)`` continues from it.
    precision : {"auto", "float32", "bfloat16"}, default="auto"
        Number format of the training step's encoder and decoder arithmetic (weights, code and loss stay
        float32). ``"auto"``: bfloat16 on CPUs with native bfloat16 instructions for models big enough to gain
        (over 10^7 multiply-adds per batch, each weight used at least 112 times per batch: a dense model at batch
        128 or more, any conv model; ``training/precision.py`` has the timings), float32 elsewhere. Prediction
        always runs in float32.
    device : str, default="auto"
        ``"auto"`` uses CUDA when available.
    random_state : int, RandomState or None, default=None
        Seeds weights, shuffling and noise: the same seed gives the same model on CPU.
    verbose : int, default=0
        1 shows a progress bar, 2 also prints every epoch's losses.

    Attributes
    ----------
    model_ : AutoEncoderModel
    config_ : ModelConfig
    history_ : list of dict
        Per-epoch losses (``train_<term>``, ``val_<term>``), learning rate and elapsed seconds.
    loss_curve_ : list of float
        Training total loss per epoch.
    best_loss_ : float
        Best monitored loss (validation if used).
    n_iter_ : int
        Epochs run.
    stop_reason_ : str
    budget_ : dict
        What the run was allowed: ``max_epochs``, ``batch_size``, ``training_rows``, ``validation_rows`` and the
        CPU ``threads`` it trained in (see ``aekit.training.budget`` and ``aekit.training.threads``).
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when fitted on a DataFrame.

    Examples
    --------
    >>> from aekit import AutoEncoder, datasets
    >>> X, y = datasets.load("digits")
    >>> ae = AutoEncoder(kind="conv", latent_dim=8, max_iter=2, random_state=0).fit(X)
    >>> ae.transform(X).shape
    (1797, 8)
    """

    FORMAT = "aekit.autoencoder"

    _parameter_constraints: dict = {
        **TRAINING_CONSTRAINTS,
        "learning_rate": [Interval(Real, 0, None, closed="neither"), None],
        "kind": [StrOptions(set(KINDS))],
        "latent_dim": [Interval(Integral, 1, None, closed="left"), None],
        "hidden_dims": ["array-like", None],
        "activation": [RegistryOptions(ACTIVATIONS)],
        "encoder": [RegistryOptions(ENCODERS), None],
        "linear_path": ["boolean", None],
        "bottleneck": [RegistryOptions(BOTTLENECKS), None],
        "loss": [RegistryOptions(LIKELIHOODS, extra=("auto",))],
        "corruption": [RegistryOptions(CORRUPTIONS, extra=("none",)), None],
        "noise_level": [Interval(Real, 0, None, closed="left"), None],
        "missing_indicator": ["boolean"],
        "sparsity": [StrOptions({"l1", "kl"}), None],
        "sparsity_weight": [Interval(Real, 0, None, closed="left"), None],
        "sparsity_target": [Interval(Real, 0, 1, closed="neither")],
        "contractive_weight": [Interval(Real, 0, None, closed="left"), None],
        "beta": [Interval(Real, 0, None, closed="left"), None],
        "importance_samples": [Interval(Integral, 1, None, closed="left")],
        "pretrain": ["boolean", None],
        "tol": [Interval(Real, 0, None, closed="left")],
        "loss_threshold": [Real, None],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "checkpoint_dir": [str, os.PathLike, None],
        "precision": [StrOptions(set(PRECISIONS))],
    }

    def __init__(
        self,
        kind: str = "deep",
        *,
        latent_dim: int | None = None,
        hidden_dims: tuple[int, ...] | None = None,
        activation: str = "relu",
        encoder: str | None = None,
        linear_path: bool | None = None,
        bottleneck: str | None = None,
        loss: str = "auto",
        corruption: str | None = None,
        noise_level: float | None = None,
        missing_indicator: bool = False,
        sparsity: str | None = None,
        sparsity_weight: float | None = None,
        sparsity_target: float = 0.05,
        contractive_weight: float | None = None,
        beta: float | None = None,
        importance_samples: int = 1,
        pretrain: bool | None = None,
        max_iter: int | None = None,
        batch_size: int | None = None,
        learning_rate: float | None = None,
        tol: float = 1e-4,
        loss_threshold: float | None = None,
        early_stopping: bool = True,
        validation_fraction: float = 0.1,
        n_iter_no_change: int = 10,
        checkpoint_dir: str | os.PathLike | None = None,
        precision: str = "auto",
        device: str = "auto",
        random_state: int | np.random.RandomState | None = None,
        verbose: int = 0,
    ) -> None:
        self.kind = kind
        self.latent_dim = latent_dim
        self.hidden_dims = hidden_dims
        self.activation = activation
        self.encoder = encoder
        self.linear_path = linear_path
        self.bottleneck = bottleneck
        self.loss = loss
        self.corruption = corruption
        self.noise_level = noise_level
        self.missing_indicator = missing_indicator
        self.sparsity = sparsity
        self.sparsity_weight = sparsity_weight
        self.sparsity_target = sparsity_target
        self.contractive_weight = contractive_weight
        self.beta = beta
        self.importance_samples = importance_samples
        self.pretrain = pretrain
        self.max_iter = max_iter
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.tol = tol
        self.loss_threshold = loss_threshold
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.checkpoint_dir = checkpoint_dir
        self.precision = precision
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------------------------------------------ fit
    def _setting(self, name: str, default: Any = None) -> Any:
        """Parameter ``name`` as the user set it, else as the kind's preset has it, else ``default``."""
        value = getattr(self, name)
        return value if value is not None else preset(self.kind).get(name, default)

    def _linear_path(self, encoder: str) -> dict[str, bool]:
        """The encoder's ``linear_path`` setting, for encoders that have one: the user's, else the kind's, else on
        for conv encoders. Off by default under layer-wise pre-training, which chains the MLP's layers alone."""
        cls, _ = resolve(ENCODERS, encoder)
        pretrain = self._setting("pretrain", False)
        if "linear_path" not in {f.name for f in fields(cls.Config)}:
            if self.linear_path:
                raise ValueError(f"linear_path=True needs an 'mlp' or 'conv' encoder; encoder={encoder!r} has none")
            return {}
        if self.linear_path and pretrain:
            raise ValueError("layer-wise pre-training (kind='stacked', pretrain=True) trains the MLP's layers alone "
                             "and does not support linear_path=True; use kind='deep' for a linear path")
        return {"linear_path": bool(self._setting("linear_path", encoder == "conv")) and not pretrain}

    def _resolve_config(self, adapter: InputAdapter, x: np.ndarray) -> ModelConfig:
        """Preset of ``kind``, overridden by every parameter the user set, completed by data-aware defaults."""
        pick = self._setting
        encoder = pick("encoder", "mlp")
        if encoder == "conv" and not adapter.is_image:
            raise ValueError(
                f"kind={self.kind!r} with a conv encoder needs images shaped (n, h, w) or (n, c, h, w), got samples "
                f"of shape {adapter.sample_shape}; reshape the rows (e.g. X.reshape(-1, 28, 28)) or use kind='deep'"
            )
        shape = adapter.model_shape
        latent = self.latent_dim or default_latent_dim(math.prod(shape))
        hidden = tuple(int(h) for h in self.hidden_dims) if self.hidden_dims is not None else \
            default_hidden(encoder, preset(self.kind).get("depth", 2), shape, latent)
        if not hidden:
            raise ValueError("hidden_dims must name at least one layer width")
        loss = self.loss
        lo, hi = float(x.min()), float(x.max())
        if loss == "auto":
            # bce for [0, 1] data, images included: at full training budgets it beat mse on test MSE for the
            # dense autoencoder on MNIST (0.0039 vs 0.0053) and tied for conv (docs: benchmarks, conv design notes), though
            # mse led in 20-epoch screens -- short runs favour it.
            loss = "mixed" if any(b["type"] == "categorical" for b in adapter.blocks) else \
                "bce" if lo >= 0 and hi <= 1 else "mse"
        if loss == "bce" and (lo < 0 or hi > 1):
            raise ValueError(f"loss='bce' needs data in [0, 1], but it ranges over [{lo:.3g}, {hi:.3g}]; "
                             "scale it (e.g. MinMaxScaler) or use loss='mse'")
        corruption = pick("corruption")
        corruption = None if corruption == "none" else corruption
        level = self.noise_level if self.noise_level is not None else NOISE_LEVELS.get(corruption, 0.0)
        if corruption == "gaussian" and self.noise_level is None:
            level *= float(x.std()) or 1.0
        if self.missing_indicator and (adapter.is_image or len(shape) != 1):
            raise ValueError("missing_indicator is for tables (n, d); these samples have shape "
                             f"{adapter.sample_shape}")
        corruption_spec = None if corruption is None else {"name": corruption, "level": float(level)}
        if corruption == "masking" and any(b["type"] == "categorical" for b in adapter.blocks):
            # A hidden categorical cell hides its whole one-hot run, as a missing one is (else the shown zeros of
            # the other categories would give the hidden one away to the missing indicator).
            corruption_spec["groups"] = [b["stop"] - b["start"] for b in adapter.blocks]
        sparsity = pick("sparsity")
        bottleneck = _settings_for(BOTTLENECKS, pick("bottleneck", "deterministic"),
                                   {"beta": float(pick("beta", 1.0)), "samples": int(self.importance_samples),
                                    "activation": "sigmoid" if sparsity == "kl" else None})
        if self.importance_samples > 1 and bottleneck["name"] != "gaussian":
            raise ValueError(f"importance_samples={self.importance_samples} needs a variational autoencoder "
                             f"(kind='vae'); kind={self.kind!r} has a deterministic code")
        if sparsity == "kl" and bottleneck.get("activation") != "sigmoid":
            raise ValueError(f"sparsity='kl' needs codes in (0, 1) (a sigmoid code), which the "
                             f"{bottleneck['name']!r} bottleneck does not give; use sparsity='l1'")
        regularizers = []
        if sparsity is not None:
            weight = self.sparsity_weight if self.sparsity_weight is not None else SPARSITY_WEIGHTS[sparsity]
            regularizers.append(_settings_for(REGULARIZERS, f"sparsity-{sparsity}",
                                              {"weight": float(weight), "target": float(self.sparsity_target)}))
        contractive = float(pick("contractive_weight", 0.0))
        if contractive > 0:
            regularizers.append({"name": "contractive", "weight": contractive})
        return ModelConfig(
            input_shape=shape,
            latent_dim=int(latent),
            encoder={"name": encoder, "hidden": list(hidden), "activation": self.activation,
                     **self._linear_path(encoder), **ENCODER_SETTINGS.get(encoder, {})},
            bottleneck=bottleneck,
            likelihood=_settings_for(LIKELIHOODS, loss, {"blocks": adapter.blocks}),
            corruption=corruption_spec,
            regularizers=regularizers,
            missing_indicator=bool(self.missing_indicator),
            # Images are used as given (pixels in [0, 1] or 0..255), so the encoder standardises them itself;
            # tables from DataFrames are already scaled by the input mapping.
            input_norm={**channel_moments(x), "low": lo, "high": hi} if adapter.is_image else None,
        )

    def _arithmetic(self, macs_per_batch: float) -> tuple[int, str]:
        """CPU threads and number format ("float32" or "bfloat16") for training steps of this size."""
        return step_arithmetic(self.precision, self.device_, macs_per_batch, parameter_count(self.model_))

    def _seed(self) -> int:
        return int(check_random_state(self.random_state).randint(0, 2**31 - 1))

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: object, y: object = None, *, resume: bool = False) -> AutoEncoder:
        """Train on ``X`` (labels are ignored: autoencoders learn without them).

        Parameters
        ----------
        X : array-like of shape (n, d), (n, h, w) or (n, c, h, w), or pandas.DataFrame
        y : ignored
        resume : bool, default=False
            Continue from the checkpoint in ``checkpoint_dir`` (same data and parameters as the crashed run).
        """
        seed = same_on_all_ranks(self._seed())  # one seed for the whole job under torchrun
        if isinstance(X, TableFiles):
            adapter, x, train, val = self._streamed_data(X, seed)
        else:
            adapter, x, train, val = self._in_memory_data(X, seed)
        n_val = len(val) if val is not None else 0
        self.config_ = self._resolve_config(adapter, x)
        self.device_ = resolve_device(self.device)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.model_ = AutoEncoderModel(self.config_)
        macs = forward_macs(self.model_, torch.zeros(1, *self.config_.input_shape))
        defaults = default_training(len(train), self.batch_size, self.max_iter, macs,
                                    planned_epochs=preset(self.kind).get("epochs"))
        learning_rate = self._setting("learning_rate", DEFAULT_LEARNING_RATE)
        threads, precision = self._arithmetic(macs * defaults.batch_size)
        self.budget_ = {"max_epochs": defaults.max_epochs, "batch_size": defaults.batch_size,
                        "learning_rate": learning_rate, "training_rows": len(train), "validation_rows": n_val,
                        "threads": threads, "precision": precision}
        logger.info("training for at most %d epochs of batch %d (%d rows) at learning rate %g in %d thread(s), %s",
                    defaults.max_epochs, defaults.batch_size, len(train), learning_rate, threads, precision)
        train_config = TrainConfig(
            max_epochs=defaults.max_epochs,
            batch_size=defaults.batch_size,
            learning_rate=learning_rate,
            early_stopping=self.early_stopping,
            n_iter_no_change=self.n_iter_no_change,
            tol=self.tol,
            loss_threshold=self.loss_threshold,
            seed=seed,
            verbose=int(self.verbose),
            checkpoint_path=None if self.checkpoint_dir is None else
            str(Path(self.checkpoint_dir) / "checkpoint.safetensors"),
            num_threads=threads,
            precision=precision,
        )
        self.pretrain_history_ = []
        pretrain = self._setting("pretrain", False)
        if pretrain and self.missing_indicator:
            raise ValueError("layer-wise pre-training (kind='stacked', pretrain=True) does not support "
                             "missing_indicator; use kind='deep'")
        if pretrain and not resume:
            if not isinstance(train, TensorBatches):
                raise ValueError("layer-wise pre-training (kind='stacked', pretrain=True) needs the data in memory; "
                                 "train streamed files with kind='deep' or pretrain=False")
            stage_config = replace(train_config, max_epochs=max(5, train_config.max_epochs // 5))
            self.pretrain_history_ = pretrain_layerwise(self.model_, train, val, stage_config, self.device_)
        result = Trainer(self.model_, train_config, self.device_).fit(train, val, resume=resume)
        self.history_ = result.history
        self.loss_curve_ = [row["train_total"] for row in result.history]
        self.best_loss_ = result.best_loss
        self.n_iter_ = result.epochs_run
        self.stop_reason_ = result.stop_reason
        self.train_seconds_ = result.seconds
        self._n_features_out = self.config_.latent_dim
        return self

    def _in_memory_data(self, X: object, seed: int) -> tuple[InputAdapter, np.ndarray, TensorBatches,
                                                              TensorBatches | None]:
        """The input mapping fitted on ``X``, ``X`` in model space, and its seeded training/validation split."""
        adapter = self._fit_input(X)
        x, observed = adapter.transform(X)
        if len(x) < 2:
            raise ValueError(f"AutoEncoder needs at least 2 samples to learn from; got {len(x)} sample (n_samples = "
                             f"{len(x)}); an autoencoder fitted to one row only learns to copy it")
        n = len(x)
        n_val = int(n * self.validation_fraction) if self.early_stopping and n >= 10 else 0
        order = np.random.default_rng(seed).permutation(n)
        data = TensorBatches.from_numpy(x, observed)
        return adapter, x, data.subset(order[n_val:]), (data.subset(order[:n_val]) if n_val else None)

    def _streamed_data(self, files: TableFiles, seed: int) -> tuple[InputAdapter, np.ndarray, StreamBatches,
                                                                     TensorBatches | None]:
        """One pass over ``files``: the input mapping fitted on a spread sample (then frozen), the validation rows
        in memory (a hashed share of row ids, at most ``STREAM_VALIDATION_ROWS``), the rest streamed."""
        share = min(self.validation_fraction, STREAM_VALIDATION_ROWS / max(files.n_rows, 1)) \
            if self.early_stopping and files.n_rows >= 10 else 0.0
        survey = files.survey(validation_share=share, sample_rows=STREAM_SAMPLE_ROWS, seed=seed)
        if len(survey.sample) < 2:
            raise ValueError(f"{files.path} has {files.n_rows} row(s) to train on; an autoencoder needs at least 2")
        adapter = self._fit_input(survey.sample)
        x, _ = adapter.transform(survey.sample)
        val = TensorBatches.from_numpy(*adapter.transform(survey.validation)) if len(survey.validation) else None
        train = StreamBatches(files, adapter.transform, validation_share=share, seed=seed)
        return adapter, x, train, val

    def fine_tune(self, X: object, y: object = None, *,
                  objective: Callable[[AutoEncoderModel, TensorBatches, torch.device], nn.Module] | None = None,
                  max_iter: int = 10, batch_size: int = 256, learning_rate: float = 1e-4) -> list[dict[str, float]]:
        """Train the fitted model further on ``X`` under ``objective`` (default: its own loss); returns the history.

        ``objective(model, data, device)`` builds a module whose ``loss(batch)`` the Trainer minimises; ``data``
        holds ``X`` in model space with ``y`` (integers) as each row's ``target``. This is how a task adds a term to the
        autoencoder's training (the Clusterer's pull towards its clusters) without a training loop of its own.
        Constant learning rate, no early stopping; seeded by ``random_state``.
        """
        x, observed = self._model_input(X)
        target = None if y is None else np.asarray(y, dtype=np.int64)
        data = TensorBatches.from_numpy(x, observed, target)
        module = self.model_ if objective is None else objective(self.model_, data, self.device_)
        macs = forward_macs(self.model_, torch.zeros(1, *self.config_.input_shape, device=self.device_))
        threads, precision = self._arithmetic(macs * batch_size)
        config = TrainConfig(max_epochs=max_iter, batch_size=batch_size, learning_rate=learning_rate,
                             lr_schedule="constant", early_stopping=False, seed=self._seed(),
                             verbose=int(self.verbose), progress_label="fine-tuning",
                             num_threads=threads, precision=precision)
        history = Trainer(module, config, self.device_).fit(data).history
        self.model_.eval()
        return history

    # ------------------------------------------------------------------------------------------- predict
    def _shown(self, x: np.ndarray, observed: np.ndarray | None) -> np.ndarray:
        """What the model reads for model-space ``x``: missing cells as NaN when it flags them, else as 0."""
        return blank_missing(x, observed, self.config_.missing_indicator)

    def transform(self, X: object) -> np.ndarray:
        """Codes ``(n, latent_dim)`` (the mean code for VAEs), float32."""
        return predict_batches(self.model_.encode, self._shown(*self._model_input(X)), self.device_)

    def reconstruct_shown(self, x: np.ndarray) -> np.ndarray:
        """Reconstructions of rows already in model space (the layout of :meth:`model_space`), float32, where NaN
        marks a value the model is not shown (flagged with ``missing_indicator``, else read as 0): what an
        imputer fills holes from, with cells of its own choosing hidden."""
        check_is_fitted(self)
        x = np.asarray(x, dtype=np.float32)
        if not self.config_.missing_indicator:
            x = np.nan_to_num(x, nan=0.0)
        return predict_batches(self.model_.reconstruct, x, self.device_)

    def inverse_transform(self, X: object) -> np.ndarray:
        """Decode codes ``(n, latent_dim)`` to data in the layout that was fitted (a DataFrame for tables)."""
        check_is_fitted(self)
        z = np.asarray(X, dtype=np.float32)
        if z.ndim != 2 or z.shape[1] != self.config_.latent_dim:
            raise ValueError(f"inverse_transform expects codes of shape (n, {self.config_.latent_dim}), got {z.shape}")
        return self.input_.inverse(predict_batches(self.model_.decode, z, self.device_))

    def reconstruct(self, X: object) -> np.ndarray:
        """Encode then decode ``X``; same layout as the input."""
        return self.input_.inverse(predict_batches(self.model_.reconstruct, self._shown(*self._model_input(X)),
                                                   self.device_))

    # ------------------------------------------------------------------------------------------ generate
    @property
    def is_variational(self) -> bool:
        """Whether the fitted model is a VAE (a Gaussian code with a prior to sample from)."""
        check_is_fitted(self)
        return self.config_.bottleneck["name"] == "gaussian"

    def _check_vae(self, what: str) -> None:
        if not self.is_variational:
            raise ValueError(f"{what} needs a variational autoencoder (kind='vae' or 'beta-vae'); this one is "
                             f"kind={self.kind!r}, whose codes have no prior to draw from")

    def sample(self, n: int = 16, random_state: int | None = None) -> np.ndarray:
        """``n`` new samples from a VAE: codes drawn from the prior N(0, I), decoded to their mean (for images, the
        pixel intensities), in the layout that was fitted."""
        self._check_vae("sample")
        if not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"n must be a positive whole number of samples, got {n!r}")
        gen = torch.Generator().manual_seed(0 if random_state is None else int(random_state))
        z = torch.randn(int(n), self.config_.latent_dim, generator=gen).numpy()
        return self.input_.inverse(predict_batches(self.model_.decode, z, self.device_))

    def interpolate(self, a: object, b: object, steps: int = 8) -> np.ndarray:
        """Decodings of ``steps`` codes on the straight line from the code of sample ``a`` to that of ``b``
        (both included), in the layout that was fitted: how the model morphs one input into another."""
        check_is_fitted(self)
        if not isinstance(steps, (int, np.integer)) or steps < 2:
            raise ValueError(f"steps must be a whole number of at least 2, got {steps!r}")
        if isinstance(a, pd.DataFrame) and isinstance(b, pd.DataFrame):
            ends = self.transform(pd.concat([a, b], ignore_index=True))
        else:
            ends = self.transform(np.stack([np.asarray(a), np.asarray(b)]))
        if len(ends) != 2:
            raise ValueError(f"interpolate takes two single samples; got {len(ends)} rows")
        t = np.linspace(0.0, 1.0, int(steps), dtype=np.float32)[:, None]
        return self.inverse_transform((1 - t) * ends[0] + t * ends[1])

    def log_likelihood(self, X: object, k: int = 1000, random_state: int | None = None) -> np.ndarray:
        """log p(x) per sample in nats, estimated by importance sampling with ``k`` codes from the encoder (the IWAE
        bound; ``k=1`` is the ELBO). Bernoulli (``loss="bce"``, for binary data) or unit-variance Gaussian
        (``loss="mse"``) decoders. Higher is better; report ``-mean`` as the negative log-likelihood."""
        self._check_vae("log_likelihood")
        if not isinstance(k, (int, np.integer)) or k < 1:
            raise ValueError(f"k must be a positive whole number of importance samples, got {k!r}")
        x, observed = self._model_input(X)
        if observed is not None and not observed.all():
            raise ValueError("log_likelihood needs complete samples; X has missing values")
        per = max(1, 20_000 // min(int(k), 100))  # rows per batch: about 20,000 decodings in memory at once
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0 if random_state is None else int(random_state))
            return predict_batches(lambda xb: importance_log_likelihood(self.model_, xb, int(k)), x, self.device_,
                                   batch_size=per).astype(np.float64)

    def model_space(self, X: object) -> np.ndarray:
        """``X`` as the model sees it, flattened to ``(n, d)``: scaled and one-hot encoded for tables (names in
        :attr:`model_feature_names`), pixels for images. Missing cells are 0."""
        x, _ = self._model_input(X)
        return x.reshape(len(x), -1)

    @property
    def model_feature_names(self) -> list[str]:
        """Names of the model-space features (one-hot columns as ``column=value``)."""
        check_is_fitted(self)
        return self.input_.feature_names or [f"x{i}" for i in range(math.prod(self.config_.input_shape))]

    def codes_and_feature_errors(self, X: object, *, float64: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Codes ``(n, latent_dim)`` and the squared reconstruction error of every model-space feature ``(n, d)``
        (float64, NaN for missing cells), from one encoder pass: what a scorer built on autoencoders reads.

        Parameters
        ----------
        X : array-like, images or pandas.DataFrame
            Data laid out as in ``fit``.
        float64 : bool, default=False
            Run the model in double precision. A float32 matrix product can round a row's result differently by
            the number of rows beside it (the CPU library picks its kernel by batch size), so a score that
            magnifies the code (a Mahalanobis distance) would depend on which rows were scored together; in
            float64 a row scores the same alone as in a batch. About twice the cost of a float32 pass for a
            small dense model; convolutions in float64 are far slower on a CPU.
        """
        x, observed = self._model_input(X)
        run = in_float64(self.model_, "encode_reconstruct") if float64 else self.model_.encode_reconstruct
        z, x_hat = predict_batches(run, self._shown(x, observed), self.device_)
        sq = (x_hat.reshape(len(x), -1).astype(np.float64) - x.reshape(len(x), -1)) ** 2
        return z, (sq if observed is None else np.where(observed > 0, sq, np.nan))

    def feature_errors(self, X: object) -> np.ndarray:
        """Squared reconstruction error of every model-space feature, ``(n, d)`` float64; NaN for missing cells."""
        return self.codes_and_feature_errors(X)[1]

    def reconstruction_error(self, X: object) -> np.ndarray:
        """Per-sample mean squared error between ``X`` and its reconstruction, in model space: shape ``(n,)``.

        Tables fitted from DataFrames are compared after scaling and one-hot encoding; missing cells are left out
        (a row with nothing observed scores 0).
        """
        return self.codes_and_errors(X)[1]

    def codes_and_errors(self, X: object) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`transform` and :meth:`reconstruction_error` from one encoder pass (what an ensemble scorer needs)."""
        z, sq = self.codes_and_feature_errors(X)
        return z, mean_over_shown(sq, ~np.isnan(sq))

    @property
    def preprocessor_(self) -> TabularPreprocessor | None:
        """The fitted table encoding (scaling, one-hot columns, their ``blocks``) of a model fitted on a DataFrame;
        ``None`` for arrays and images, which the model reads as given."""
        check_is_fitted(self, "input_")
        return self.input_.preprocessor

    def score(self, X: object, y: object = None) -> float:
        """Negative mean reconstruction error (higher is better), so model selection tools can compare fits."""
        return -float(np.mean(self.reconstruction_error(X)))

    # -------------------------------------------------------------------------------------- keep/persist
    @property
    def encoder_(self) -> Encoder:
        """Only the encoder, sharing this model's weights: save it alone and use it for features."""
        check_is_fitted(self)
        return Encoder.from_autoencoder(self.model_, self.input_, self.device_)

    def _state(self) -> dict[str, Any]:
        return {
            "config": {"model": self.config_.to_dict(), "best_loss": self.best_loss_, "n_iter": self.n_iter_,
                       "stop_reason": self.stop_reason_, "budget": getattr(self, "budget_", None)},
            "tensors": self.model_.state_dict(),
            "preprocess": {"input": self.input_.to_dict()},
            "history": self.history_,
        }

    def _restore(self, saved: dict[str, Any], path: Path, device: str) -> None:
        fitted = saved["config"]["fitted"]
        self._set_model(ModelConfig.from_dict(fitted["model"]), saved["state_dict"],
                        InputAdapter.from_dict(saved["preprocess"]["input"]), device)
        self.history_ = saved["history"]
        self.loss_curve_ = [row.get("train_total", math.nan) for row in self.history_]
        self.best_loss_, self.n_iter_, self.stop_reason_ = fitted["best_loss"], fitted["n_iter"], fitted["stop_reason"]
        if fitted.get("budget"):
            self.budget_ = fitted["budget"]

    def _set_model(self, config: ModelConfig, state_dict: dict[str, torch.Tensor], adapter: InputAdapter,
                   device: str) -> None:
        self.config_ = config
        self.model_ = self._placed(AutoEncoderModel(config), state_dict, device)
        self.input_ = adapter
        self.pretrain_history_ = []
        self._n_features_out = config.latent_dim

    @classmethod
    def describe(cls, config: dict) -> dict[str, Any]:
        fitted, model = config.get("fitted", {}), config.get("fitted", {}).get("model", {})
        return {**super().describe(config), "kind": config.get("params", {}).get("kind"),
                "encoder": model.get("encoder", {}).get("name"), "hidden": model.get("encoder", {}).get("hidden"),
                "input shape": model.get("input_shape"), "latent dim": model.get("latent_dim"),
                "bottleneck": model.get("bottleneck", {}).get("name"), "loss": model.get("likelihood", {}).get("name"),
                "epochs run": fitted.get("n_iter"), "best loss": fitted.get("best_loss"),
                "stop reason": fitted.get("stop_reason")}

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float32"]
        tags.input_tags.allow_nan = False
        tags.non_deterministic = False
        return tags
