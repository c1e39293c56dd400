"""The model an :class:`~aekit.estimators.AutoEncoder`'s parameters and data call for.

A *kind* is a preset choice of parts (``presets.py``); every parameter the user sets overrides it, and the
choices that depend on the data (widths, code size, the loss for data in [0, 1], the corruption's strength, the
input statistics of images) are made here when ``fit`` sees the data. The result is a
:class:`~aekit.models.ModelConfig`, which is all a model is rebuilt from.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from ..data.input import InputAdapter
from ..models import BOTTLENECKS, ENCODERS, LIKELIHOODS, REGULARIZERS, ModelConfig
from ..models.input_norm import channel_moments
from ..models.parts import PartSpec
from ..registry import Registry
from .presets import ENCODER_SETTINGS, NOISE_LEVELS, SPARSITY_WEIGHTS, default_hidden, default_latent_dim, preset

if TYPE_CHECKING:
    from .autoencoder import AutoEncoder


def setting(est: AutoEncoder, name: str, default: Any = None) -> Any:
    """Parameter ``name`` of ``est`` as the user set it, else as its kind's preset has it, else ``default``."""
    value = getattr(est, name)
    return value if value is not None else preset(est.kind).get(name, default)


def _spec(registry: Registry, name: str, candidates: dict[str, Any]) -> dict[str, Any]:
    """The spec of part ``name`` with those ``candidates`` (flat estimator settings) that the part takes."""
    taken = PartSpec.settings_of(registry, name)
    return {"name": name, **{k: v for k, v in candidates.items() if k in taken and v is not None}}


def _linear_path(est: AutoEncoder, encoder: str) -> dict[str, bool]:
    """The encoder's ``linear_path`` setting, for encoders that have one: the user's, else the kind's, else on for
    conv encoders. Off under layer-wise pre-training, which chains the MLP's layers alone."""
    pretrain = setting(est, "pretrain", False)
    if "linear_path" not in PartSpec.settings_of(ENCODERS, encoder):
        if est.linear_path:
            raise ValueError(f"linear_path=True needs an 'mlp' or 'conv' encoder; encoder={encoder!r} has none")
        return {}
    if est.linear_path and pretrain:
        raise ValueError("layer-wise pre-training (kind='stacked', pretrain=True) trains the MLP's layers alone and "
                         "does not support linear_path=True; use kind='deep' for a linear path")
    return {"linear_path": bool(setting(est, "linear_path", encoder == "conv")) and not pretrain}


def _loss(est: AutoEncoder, adapter: InputAdapter, low: float, high: float) -> str:
    """The likelihood: ``est.loss``, or for ``"auto"`` "mixed" for tables with categorical columns, "bce" (on
    logits) for data in [0, 1], "mse" otherwise. bce for [0, 1] data: at full training budgets it beat mse on test
    MSE for the dense autoencoder on MNIST (0.0039 vs 0.0053) and tied for conv, though mse led in 20-epoch runs."""
    loss = est.loss
    if loss == "auto":
        loss = "mixed" if any(b.is_categorical for b in adapter.blocks) else \
            "bce" if low >= 0 and high <= 1 else "mse"
    if loss == "bce" and (low < 0 or high > 1):
        raise ValueError(f"loss='bce' needs data in [0, 1], but it ranges over [{low:.3g}, {high:.3g}]; scale it "
                         "(e.g. MinMaxScaler) or use loss='mse'")
    return loss


def _corruption(est: AutoEncoder, adapter: InputAdapter, x: np.ndarray) -> dict[str, Any] | None:
    corruption = setting(est, "corruption")
    if corruption in (None, "none"):
        return None
    level = est.noise_level if est.noise_level is not None else NOISE_LEVELS.get(corruption, 0.0)
    if corruption == "gaussian" and est.noise_level is None:
        level *= float(x.std()) or 1.0
    spec: dict[str, Any] = {"name": corruption, "level": float(level)}
    if corruption == "masking" and any(b.is_categorical for b in adapter.blocks):
        # A hidden categorical cell hides its whole one-hot run, as a missing one is (else the shown zeros of the
        # other categories would give the hidden one away to the missing indicator).
        spec["groups"] = [b.width for b in adapter.blocks]
    return spec


def _regularizers(est: AutoEncoder, sparsity: str | None) -> list[dict[str, Any]]:
    regularizers = []
    if sparsity is not None:
        weight = est.sparsity_weight if est.sparsity_weight is not None else SPARSITY_WEIGHTS[sparsity]
        regularizers.append(_spec(REGULARIZERS, f"sparsity-{sparsity}",
                                  {"weight": float(weight), "target": float(est.sparsity_target)}))
    contractive = float(setting(est, "contractive_weight", 0.0))
    if contractive > 0:
        regularizers.append({"name": "contractive", "weight": contractive})
    return regularizers


def model_config(est: AutoEncoder, adapter: InputAdapter, x: np.ndarray) -> ModelConfig:
    """The preset of ``est.kind``, overridden by every parameter the user set, completed by data-aware defaults
    (``x``: the training data in model space)."""
    encoder = setting(est, "encoder", "mlp")
    if encoder == "conv" and not adapter.is_image:
        raise ValueError(f"kind={est.kind!r} with a conv encoder needs images shaped (n, h, w) or (n, c, h, w), got "
                         f"samples of shape {adapter.sample_shape}; reshape the rows (e.g. X.reshape(-1, 28, 28)) or "
                         "use kind='deep'")
    if est.missing_indicator and (adapter.is_image or len(adapter.model_shape) != 1):
        raise ValueError(f"missing_indicator is for tables (n, d); these samples have shape {adapter.sample_shape}")
    shape = adapter.model_shape
    latent = est.latent_dim or default_latent_dim(math.prod(shape))
    hidden = tuple(int(h) for h in est.hidden_dims) if est.hidden_dims is not None else \
        default_hidden(encoder, preset(est.kind).get("depth", 2), shape, latent)
    if not hidden:
        raise ValueError("hidden_dims must name at least one layer width")
    low, high = float(x.min()), float(x.max())
    sparsity = setting(est, "sparsity")
    bottleneck = _spec(BOTTLENECKS, setting(est, "bottleneck", "deterministic"),
                       {"beta": float(setting(est, "beta", 1.0)), "samples": int(est.importance_samples),
                        "activation": "sigmoid" if sparsity == "kl" else None})
    if est.importance_samples > 1 and bottleneck["name"] != "gaussian":
        raise ValueError(f"importance_samples={est.importance_samples} needs a variational autoencoder "
                         f"(kind='vae'); kind={est.kind!r} has a deterministic code")
    if sparsity == "kl" and bottleneck.get("activation") != "sigmoid":
        raise ValueError(f"sparsity='kl' needs codes in (0, 1) (a sigmoid code), which the {bottleneck['name']!r} "
                         "bottleneck does not give; use sparsity='l1'")
    return ModelConfig(
        input_shape=shape,
        latent_dim=int(latent),
        encoder={"name": encoder, "hidden": list(hidden), "activation": est.activation,
                 **_linear_path(est, encoder), **ENCODER_SETTINGS.get(encoder, {})},
        bottleneck=bottleneck,
        likelihood=_spec(LIKELIHOODS, _loss(est, adapter, low, high), {"blocks": adapter.blocks}),
        corruption=_corruption(est, adapter, x),
        regularizers=_regularizers(est, sparsity),
        missing_indicator=bool(est.missing_indicator),
        # Images are used as given (pixels in [0, 1] or 0..255), so the encoder standardises them itself;
        # tables from DataFrames are already scaled by the input mapping.
        input_norm={**channel_moments(x), "low": low, "high": high} if adapter.is_image else None,
    )
