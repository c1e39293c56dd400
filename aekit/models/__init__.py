"""Torch layer: the parts of an autoencoder and the one model that composes them."""

from .autoencoder import AutoEncoderModel, EncoderModel, ModelConfig
from .bottleneck import BOTTLENECKS, Code, gaussian_kl
from .corruption import CORRUPTIONS
from .likelihood import LIKELIHOODS

__all__ = [
    "AutoEncoderModel",
    "BOTTLENECKS",
    "CORRUPTIONS",
    "Code",
    "EncoderModel",
    "LIKELIHOODS",
    "ModelConfig",
    "gaussian_kl",
]
