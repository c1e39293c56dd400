"""The models a server answers for: only the directories named when it starts, each loaded once by its format.

A model's name is fixed at start (the directory's name, or ``NAME=DIR``) and is only ever looked up among these,
never joined to a path: a request cannot make the server open a file. Loading reads JSON and safetensors only
(``aekit.load``), never pickle.
"""

from __future__ import annotations

import logging
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..estimators import load
from ..io import read_config
from ..training.threads import limit_thread_pools
from .operations import OPERATIONS, Offer, Operation

logger = logging.getLogger("aekit")

#: What a model name may be: it is a path segment of every route of the model.
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


@dataclass
class ServedModel:
    """One loaded model: its name, directory, format, estimator, what it offers and the thread it runs on (calls
    of one estimator never overlap: estimators are not written to be called from two threads at once)."""

    name: str
    path: Path
    format: str
    estimator: Any
    offer: Offer
    executor: ThreadPoolExecutor = field(repr=False)

    @property
    def operations(self) -> tuple[Operation, ...]:
        return self.offer.operations

    def inputs(self) -> dict[str, Any]:
        return self.offer.inputs(self.estimator)


def parse_model_arg(text: str) -> tuple[str, Path]:
    """``NAME=DIR`` or ``DIR`` (named after its last segment) -> ``(name, path)``."""
    name, sep, path = text.partition("=")
    if not sep or not NAME.fullmatch(name):
        name, path = Path(text).resolve().name, text
    if not NAME.fullmatch(name):
        raise ValueError(f"cannot name a model after {text!r}: a name is 1-64 letters, digits, '_', '.' or '-' "
                         "starting with a letter or digit; pass NAME=DIR")
    return name, Path(path)


def load_models(args: list[str], device: str = "auto", threads: int | None = None) -> list[ServedModel]:
    """Load every ``NAME=DIR`` or ``DIR`` in ``args``; refuses duplicate names, missing directories and formats
    that have nothing to serve. ``threads``: the CPU threads of each model call, set on the model's worker thread
    itself (see :func:`~aekit.training.threads.limit_thread_pools`); ``None`` leaves the libraries' defaults."""
    if threads is not None:
        limit_thread_pools(threads)  # loading runs here, on the calling thread
    if not args:
        raise ValueError("name at least one saved model directory to serve")
    models: list[ServedModel] = []
    for text in args:
        name, path = parse_model_arg(text)
        if any(m.name == name for m in models):
            raise ValueError(f"two models are named {name!r}; name them apart with NAME=DIR")
        fmt = read_config(path)["format"]
        if fmt not in OPERATIONS:
            raise ValueError(f"{path} holds a {fmt!r} model, which has nothing to serve; served formats: "
                             f"{sorted(OPERATIONS)}")
        estimator = load(path, device=device)
        worker = ThreadPoolExecutor(1, thread_name_prefix=f"aekit-{name}",
                                    initializer=None if threads is None else limit_thread_pools, initargs=(threads,))
        models.append(ServedModel(name, path, fmt, estimator, OPERATIONS[fmt], worker))
        logger.info("serving %s (%s) from %s", name, type(estimator).__name__, path)
    return models


__all__ = ["NAME", "ServedModel", "load_models", "parse_model_arg"]
