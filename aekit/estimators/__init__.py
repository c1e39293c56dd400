"""Task layer: one scikit-learn estimator per task, all on one base (``base.py``) for input bookkeeping,
save/load and the saved-format registry. A new task is one module here and one CLI module."""

from .anomaly import AnomalyDetector
from .autoencoder import AutoEncoder
from .base import FORMATS, ModelEstimator, load
from .cluster import Clusterer
from .codec import Codec
from .denoiser import Denoiser
from .encoder import Encoder
from .imputer import Imputer
from .presets import KINDS
from .recommender import Recommender
from .text import TextAutoEncoder

__all__ = ["FORMATS", "KINDS", "AnomalyDetector", "AutoEncoder", "Clusterer", "Codec", "Denoiser", "Encoder", "Imputer", "ModelEstimator", "Recommender",
           "TextAutoEncoder", "load"]
