"""The family as presets, and the data-adaptive defaults.

A *kind* is a named choice of parts (``PRESETS``); any estimator parameter that is set overrides the preset,
which is how combinations like a denoising convolutional VAE come about. The architecture defaults that
depend on the data (widths, code size) are decided here when ``fit`` sees the data; how long to train is decided
in ``aekit.training.budget``.
"""

from __future__ import annotations

import math

from .._utils import clip, next_pow2

# ``linear_path``: a linear map from the input to the code and from the code back, beside the layers, so the code
# can be at least what PCA finds. Without it a dense autoencoder on a few hundred rows reconstructs held-out rows
# 2-5x worse than PCA (chosen on subsets of the bundled digits, checked on MNIST subsets, small tables
# and MNIST; docs: benchmarks, small image sets and small tables). Not for stacked (layer-wise pre-training chains
# the layers alone) nor the dense VAEs (not measured). A conv encoder has one whatever the kind, unless
# the user turns it off.
PRESETS: dict[str, dict] = {
    "basic": {"encoder": "mlp", "depth": 1, "linear_path": True},
    "deep": {"encoder": "mlp", "depth": 2, "linear_path": True},
    "stacked": {"encoder": "mlp", "depth": 2, "pretrain": True},
    # conv also trains differently: batch normalisation after every convolution lets it learn at 10x the rate, and
    # a cosine schedule planned over 40 epochs has decayed that rate by the end, where one planned over 20,000 steps
    # was still near its start when early stopping ended it (chosen on the bundled digits, checked on MNIST
    # and natural-image crops; docs: benchmarks, first run).
    "conv": {"encoder": "conv", "learning_rate": 1e-2, "epochs": 40},
    "denoising": {"encoder": "mlp", "depth": 2, "corruption": "gaussian", "linear_path": True},
    "sparse": {"encoder": "mlp", "depth": 2, "sparsity": "kl", "linear_path": True},
    "contractive": {"encoder": "mlp", "depth": 1, "contractive_weight": 0.1, "linear_path": True},
    "vae": {"encoder": "mlp", "depth": 2, "bottleneck": "gaussian", "beta": 1.0},
    "beta-vae": {"encoder": "mlp", "depth": 2, "bottleneck": "gaussian", "beta": 4.0},
}
KINDS = tuple(PRESETS)
# Adam's initial rate for every kind whose preset names none.
DEFAULT_LEARNING_RATE = 1e-3

# Default strength of each corruption when the user names one but not its level.
NOISE_LEVELS = {"gaussian": 0.5, "masking": 0.25, "salt-and-pepper": 0.1}  # gaussian: times the data's std
SPARSITY_WEIGHTS = {"l1": 1e-3, "kl": 1.0}
# Encoder settings an estimator asks for beyond each part's neutral defaults (which keep older saved models
# loading as they were built). For conv: batch normalisation after every convolution, chosen on MNIST and
# natural-image crops with its linear path (docs: benchmarks, conv design notes).
ENCODER_SETTINGS: dict[str, dict] = {"conv": {"norm": "batch"}}
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
