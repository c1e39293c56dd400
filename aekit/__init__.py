"""aekit: autoencoders that do something on your own data.

>>> from aekit import AutoEncoder, datasets
>>> X, y = datasets.load("digits")
>>> codes = AutoEncoder(kind="conv", latent_dim=8, max_iter=2, random_state=0).fit(X).transform(X)
"""

from . import datasets
from .anomaly import AnomalyDetector
from .autoencoder import AutoEncoder
from .cluster import Clusterer
from .encoder import Encoder
from .presets import KINDS

__all__ = ["AnomalyDetector", "AutoEncoder", "Clusterer", "Encoder", "KINDS", "datasets"]
__version__ = "0.1.0"
