"""The family as presets, and the data-adaptive defaults.

A *kind* is a named choice of parts (``PRESETS``); any estimator parameter that is set overrides the preset,
which is how combinations like a denoising convolutional VAE come about. Every default that depends on the
data (widths, code size, batch size, epochs, loss) is decided here, in one place, when ``fit`` sees the data:
small data gets small batches and many epochs, large data large batches and enough gradient steps.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ._utils import clip, next_pow2

PRESETS: dict[str, dict] = {
    "basic": {"encoder": "mlp", "depth": 1},
    "deep": {"encoder": "mlp", "depth": 2},
    "stacked": {"encoder": "mlp", "depth": 2, "pretrain": True},
    "conv": {"encoder": "conv"},
    "denoising": {"encoder": "mlp", "depth": 2, "corruption": "gaussian"},
    "sparse": {"encoder": "mlp", "depth": 2, "sparsity": "kl"},
    "contractive": {"encoder": "mlp", "depth": 1, "contractive_weight": 0.1},
    "vae": {"encoder": "mlp", "depth": 2, "bottleneck": "gaussian", "beta": 1.0},
    "beta-vae": {"encoder": "mlp", "depth": 2, "bottleneck": "gaussian", "beta": 4.0},
}
KINDS = tuple(PRESETS)

# Default strength of each corruption when the user names one but not its level.
NOISE_LEVELS = {"gaussian": 0.5, "masking": 0.25, "salt-and-pepper": 0.1}  # gaussian: times the data's std
SPARSITY_WEIGHTS = {"l1": 1e-3, "kl": 1.0}
# Gradient steps a default run aims for; early stopping usually ends it sooner.
TARGET_STEPS = 20_000
# Cap on forward multiply-adds summed over every sample seen in a default run (about 10-12 minutes of CPU
# training on 2 cores), so large inputs and heavy models get fewer epochs instead of hours.
TRAIN_BUDGET_MACS = 1.4e13


def preset(kind: str) -> dict:
    if kind not in PRESETS:
        raise ValueError(f"unknown kind {kind!r}; choose one of: {', '.join(KINDS)}")
    return dict(PRESETS[kind])


def default_latent_dim(n_features: int) -> int:
    """A quarter of the input width, between 2 and 32."""
    return clip(n_features // 4, 2, 32)


def default_hidden(encoder: str, depth: int, input_shape: tuple[int, ...], latent_dim: int) -> tuple[int, ...]:
    """Widths for an MLP (halving from about the input width, at most 512) or channels for a conv encoder.

    A conv encoder gets one stride-2 stage per halving until the feature map is about 3 pixels wide (at most
    4 stages), with 16, 32, 64, 128 channels.
    """
    if encoder == "conv":
        h, w = input_shape[-2:]
        n_stages = clip(int(math.log2(max(min(h, w), 1) / 3)), 1, 4)
        return (16, 32, 64, 128)[:n_stages]
    d = math.prod(input_shape)
    first = clip(next_pow2(d) // 2, 64, 512)
    widths = [first]
    for _ in range(depth - 1):
        widths.append(max(widths[-1] // 2, 2 * latent_dim))
    return tuple(widths)


@dataclass
class TrainingDefaults:
    batch_size: int
    max_epochs: int


def default_training(
    n_train: int, batch_size: int | None, max_epochs: int | None, macs_per_sample: float = 0.0
) -> TrainingDefaults:
    """Batch size grows with the data (32 to 256); epochs give about ``TARGET_STEPS`` steps (20 to 500),
    fewer when that would exceed ``TRAIN_BUDGET_MACS`` of compute (but never fewer than 10)."""
    bs = batch_size or clip(next_pow2(n_train / 256), 32, 256)
    steps_per_epoch = math.ceil(n_train / min(bs, max(n_train, 1)))
    epochs = clip(math.ceil(TARGET_STEPS / steps_per_epoch), 20, 500)
    if macs_per_sample > 0:
        epochs = min(epochs, max(10, int(TRAIN_BUDGET_MACS / (macs_per_sample * max(n_train, 1)))))
    return TrainingDefaults(batch_size=bs, max_epochs=max_epochs or epochs)
