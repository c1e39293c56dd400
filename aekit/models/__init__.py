"""Torch layer: the parts of an autoencoder (each in a registry, each with its own config and loss terms) and
the one model that composes them."""

from .autoencoder import AutoEncoderModel, EncoderModel
from .bottleneck import BOTTLENECKS, Code, gaussian_kl
from .config import ModelConfig
from .corruption import CORRUPTIONS
from .encoders import ENCODERS
from .likelihood import LIKELIHOODS
from .parts import Term
from .quantised import QuantisedBottleneck
from .regularizers import REGULARIZERS

__all__ = [
    "AutoEncoderModel",
    "BOTTLENECKS",
    "CORRUPTIONS",
    "Code",
    "ENCODERS",
    "EncoderModel",
    "LIKELIHOODS",
    "ModelConfig",
    "QuantisedBottleneck",
    "REGULARIZERS",
    "Term",
    "gaussian_kl",
]
