"""``AutoEncoder``: the scikit-learn estimator for every member of the family.

It stores its parameters, and in ``fit`` fits the input mapping (``data/input.py``), splits off the rows that
decide early stopping (``training_rows.py``), resolves the model its kind and the data call for
(``model_spec.py``), builds the composed model (``models/``) and trains it for the autoencoder's default budget
(``training/budget.py``) with the one Trainer. A VAE's sampling and likelihoods are in ``generation.py``.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Callable
from numbers import Integral, Real
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sklearn.base import ClassNamePrefixFeaturesOutMixin, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted
from torch import nn

from ..data.batches import TensorBatches
from ..data.input import InputAdapter
from ..data.table_files import TableFiles
from ..data.tabular import TabularPreprocessor
from ..models import BOTTLENECKS, CORRUPTIONS, ENCODERS, LIKELIHOODS, AutoEncoderModel, ModelConfig
from ..models.activations import ACTIVATIONS
from ..models.flops import forward_macs
from ..models.inference import predict_batches
from ..models.missing_flags import blank_missing
from ..training import Budget, resolve_device
from ..training.budget import AUTOENCODER, default_batch_size
from ..training.layerwise import pretrain_layerwise
from ..training.precision import PRECISIONS
from .base import TRAINING_CONSTRAINTS, ModelEstimator, RegistryOptions, register_format
from .encoder import Encoder
from .generation import GenerativeMethods
from .reconstruction_scores import ReconstructionScores
from .model_spec import model_config, setting
from .presets import DEFAULT_LEARNING_RATE, KINDS, preset
from .training_rows import in_memory_rows, streamed_rows

logger = logging.getLogger("aekit")


@register_format
class AutoEncoder(ReconstructionScores, GenerativeMethods, ClassNamePrefixFeaturesOutMixin, TransformerMixin,
                  ModelEstimator):
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
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: object, y: object = None, *, resume: bool = False) -> AutoEncoder:
        """Train on ``X`` (labels are ignored: autoencoders learn without them).

        Parameters
        ----------
        X : array-like of shape (n, d), (n, h, w) or (n, c, h, w), pandas.DataFrame, or TableFiles
            :class:`~aekit.data.TableFiles` streams tables larger than memory.
        y : ignored
        resume : bool, default=False
            Continue from the checkpoint in ``checkpoint_dir`` (same data and parameters as the crashed run).

        Returns
        -------
        AutoEncoder
            ``self``, fitted.
        """
        seed = self._fit_seed()
        split = streamed_rows if isinstance(X, TableFiles) else in_memory_rows
        x, train, val = split(X, self._fit_input, validation_fraction=self.validation_fraction if self.early_stopping
                              else 0.0, seed=seed)
        self.config_ = model_config(self, self.input_, x)
        self.device_ = resolve_device(self.device)
        self.model_ = self._build_model(lambda: AutoEncoderModel(self.config_), seed)
        budget = Budget(epochs=self.max_iter or AUTOENCODER.epochs(
                            len(train), self.batch_size or default_batch_size(len(train)),
                            forward_macs(self.model_, train.example()), preset(self.kind).get("epochs")),
                        batch_size=self.batch_size or default_batch_size(len(train)))
        learning_rate = setting(self, "learning_rate", DEFAULT_LEARNING_RATE)
        settings = {"learning_rate": learning_rate, "early_stopping": self.early_stopping,
                    "n_iter_no_change": self.n_iter_no_change, "tol": self.tol, "loss_threshold": self.loss_threshold,
                    "checkpoint_path": None if self.checkpoint_dir is None else
                    str(Path(self.checkpoint_dir) / "checkpoint.safetensors")}
        self.pretrain_history_ = []
        if setting(self, "pretrain", False):
            self._pretrain(train, val, budget, seed, resume)
        result = self._fit_model(self.model_, train, budget, seed=seed, validation=val, resume=resume, **settings)
        self.loss_curve_ = [row["train_total"] for row in result.history]
        self.best_loss_ = result.best_loss
        self.budget_ = {"max_epochs": budget.epochs, "batch_size": budget.batch_size, "learning_rate": learning_rate,
                        "training_rows": len(train), "validation_rows": len(val) if val is not None else 0,
                        "threads": result.threads, "precision": result.precision}
        self._n_features_out = self.config_.latent_dim
        return self

    def _pretrain(self, train: TensorBatches, val: TensorBatches | None, budget: Budget, seed: int,
                  resume: bool) -> None:
        """Greedy layer-wise pre-training (the stacked kind) for a fifth of the epochs, at least 5."""
        if self.missing_indicator:
            raise ValueError("layer-wise pre-training (kind='stacked', pretrain=True) does not support "
                             "missing_indicator; use kind='deep'")
        if resume:  # the checkpoint holds the pre-trained and partly fine-tuned weights already
            return
        if not isinstance(train, TensorBatches):
            raise ValueError("layer-wise pre-training (kind='stacked', pretrain=True) needs the data in memory; "
                             "train streamed files with kind='deep' or pretrain=False")
        stages = Budget(epochs=max(5, budget.epochs // 5), batch_size=budget.batch_size)
        config = self._train_config(stages, seed=seed, label="pre-training",
                                    learning_rate=setting(self, "learning_rate", DEFAULT_LEARNING_RATE),
                                    early_stopping=self.early_stopping, n_iter_no_change=self.n_iter_no_change,
                                    tol=self.tol)
        self.pretrain_history_ = pretrain_layerwise(self.model_, train, val, config, self.device_)

    def fine_tune(self, X: object, y: object = None, *,
                  objective: Callable[[AutoEncoderModel, TensorBatches, torch.device], nn.Module] | None = None,
                  max_iter: int = 10, batch_size: int = 256, learning_rate: float = 1e-4) -> list[dict[str, float]]:
        """Train the fitted model further on ``X`` under ``objective`` (default: its own loss); returns the history.

        ``objective(model, data, device)`` builds a module whose ``loss(batch)`` the Trainer minimises; ``data``
        holds ``X`` in model space with ``y`` (integers) as each row's ``target``. This is how a task adds a term to
        the autoencoder's training (the Clusterer's pull towards its clusters) without a training loop of its own.
        Constant learning rate, no early stopping; seeded by ``random_state``. The fit's own record (``history_``,
        ``n_iter_``) is left as it was.
        """
        x, observed = self._model_input(X)
        target = None if y is None else np.asarray(y, dtype=np.int64)
        data = TensorBatches.from_numpy(x, observed, target)
        module = self.model_ if objective is None else objective(self.model_, data, self.device_)
        result = self._fit_model(module, data, Budget(epochs=max_iter, batch_size=batch_size), seed=self._fit_seed(),
                                 label="fine-tuning", record=False, learning_rate=learning_rate,
                                 lr_schedule="constant", early_stopping=False)
        self.model_.eval()
        return result.history

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

    @property
    def preprocessor_(self) -> TabularPreprocessor | None:
        """The fitted table encoding (scaling, one-hot columns, their ``blocks``) of a model fitted on a DataFrame;
        ``None`` for arrays and images, which the model reads as given."""
        check_is_fitted(self, "input_")
        return self.input_.preprocessor

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
        self.config_ = ModelConfig.from_dict(fitted["model"])
        self.model_ = self._placed(AutoEncoderModel(self.config_), saved["state_dict"], device)
        self.input_ = InputAdapter.from_dict(saved["preprocess"]["input"])
        self.pretrain_history_ = []
        self._n_features_out = self.config_.latent_dim
        self.history_ = saved["history"]
        self.loss_curve_ = [row.get("train_total", math.nan) for row in self.history_]
        self.best_loss_, self.n_iter_, self.stop_reason_ = fitted["best_loss"], fitted["n_iter"], fitted["stop_reason"]
        if fitted.get("budget"):
            self.budget_ = fitted["budget"]

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
