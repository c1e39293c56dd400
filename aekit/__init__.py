"""aekit: autoencoders that do something on your own data.

>>> from aekit import AutoEncoder, datasets
>>> X, y = datasets.load("digits")
>>> codes = AutoEncoder(kind="conv", latent_dim=8, max_iter=2, random_state=0).fit(X).transform(X)
"""

from ._utils import collection_paused as _collection_paused

with _collection_paused():  # see its docstring: a third of a second of every import
    from .data import datasets
    from .estimators import KINDS, AnomalyDetector, AutoEncoder, Clusterer, Codec, Denoiser, Encoder, Imputer, Recommender, TextAutoEncoder, load

__all__ = ["AnomalyDetector", "AutoEncoder", "Clusterer", "Codec", "Denoiser", "Encoder", "Imputer", "KINDS", "Recommender", "TextAutoEncoder", "datasets", "load"]
__version__ = "0.2.0"
