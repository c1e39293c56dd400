"""aekit: autoencoders that do something on your own data.

>>> from aekit import AutoEncoder, datasets
>>> X, y = datasets.load("digits")
>>> codes = AutoEncoder(kind="conv", latent_dim=8, max_iter=2, random_state=0).fit(X).transform(X)

The names below are imported on first use (PEP 562), not with the package: torch, scikit-learn, pandas and
matplotlib take seconds to import on a small machine, and ``aekit --help`` or ``aekit --version`` need none of them.
``from aekit import AutoEncoder`` works as with an eager import.
"""

from __future__ import annotations

import importlib
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

from ._utils import collection_paused as _collection_paused

try:  # the one place the version is written is pyproject.toml; the installed package metadata carries it
    __version__ = version("aekit")
except PackageNotFoundError:  # pragma: no cover - a source tree on sys.path without an install
    __version__ = "0.0.0+unknown"

#: public name -> the module that defines it (relative to this package)
_EXPORTS = {
    "AnomalyDetector": ".estimators", "AutoEncoder": ".estimators", "Clusterer": ".estimators",
    "Codec": ".estimators", "Denoiser": ".estimators", "Encoder": ".estimators", "Imputer": ".estimators",
    "KINDS": ".estimators", "Recommender": ".estimators", "TextAutoEncoder": ".estimators", "load": ".estimators",
    "datasets": ".data",
}
__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:  # what type checkers and IDEs see; at run time __getattr__ imports these on first use
    from .data import datasets
    from .estimators import (KINDS, AnomalyDetector, AutoEncoder, Clusterer, Codec, Denoiser, Encoder, Imputer,
                             Recommender, TextAutoEncoder, load)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'aekit' has no attribute {name!r}")
    with _collection_paused():  # see its docstring: a third of a second of the first import
        value = getattr(importlib.import_module(_EXPORTS[name], __name__), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
