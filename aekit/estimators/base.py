"""What every aekit estimator shares, written once: input bookkeeping, save/load, and the format registry.

Like scikit-learn's ``_BasePCA`` serves ``PCA`` and ``IncrementalPCA``, :class:`ModelEstimator` serves every task
estimator:

* **Input bookkeeping** — ``_fit_input`` fits the mapping from what the user passes (arrays, images, DataFrames)
  to model arrays and records scikit-learn's ``n_features_in_`` / ``feature_names_in_``; ``_model_input`` checks
  new data against it and maps it.
* **Save/load** — one model-directory layout (``aekit.io``): ``config.json`` with a ``format`` field, the
  estimator's parameters and fitted facts, ``model.safetensors``, ``preprocess.json`` and ``history.csv``;
  estimators built on other estimators save them as sub-directories (``children``). Subclasses say only what
  their own state is (``_state`` / ``_restore``). No pickle: loading reads JSON and safetensors only.
* **Format registry** — every estimator class registers its ``FORMAT``, so :func:`load` and ``aekit info`` open
  any saved directory by its ``format`` field.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from numbers import Integral, Real
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _check_feature_names, check_is_fitted

from ..data.input import InputAdapter, check_n_features
from ..io import read_config, read_model_dir, write_model_dir
from ..registry import Registry
from ..training import BatchSource, Budget, TrainConfig, Trainer, TrainResult, resolve_device
from ..training.distributed import same_on_all_ranks

#: The parameter constraints of the training knobs every trained estimator shares.
TRAINING_CONSTRAINTS: dict[str, list] = {
    "max_iter": [Interval(Integral, 1, None, closed="left"), None],
    "batch_size": [Interval(Integral, 1, None, closed="left"), None],
    "learning_rate": [Interval(Real, 0, None, closed="neither")],
    "device": [str],
    "random_state": ["random_state"],
    "verbose": ["verbose"],
}

#: Saved-directory ``format`` -> the estimator class that reads it.
FORMATS: Registry[type] = Registry("model directory format")


def register_format(cls: type) -> type:
    """Class decorator: directories of format ``cls.FORMAT`` open with ``cls.load``."""
    FORMATS.register(cls.FORMAT)(cls)
    return cls


class ModelEstimator(BaseEstimator):
    """Base of aekit's estimators; see the module docstring. Subclasses set ``FORMAT`` and implement
    ``_state``/``_restore`` (and ``_children`` when they hold other estimators)."""

    #: What ``config.json`` calls a saved directory of this class (``aekit.load`` dispatches on it).
    FORMAT: ClassVar[str] = ""

    # ------------------------------------------------------------------------------------ input bookkeeping
    def _fit_input(self, X: object) -> InputAdapter:
        """Fit the input mapping on ``X``; sets ``input_``, ``n_features_in_`` and (DataFrames) ``feature_names_in_``."""
        adapter = InputAdapter.fit(X)
        _check_feature_names(self, X, reset=True)
        pre = adapter.preprocessor
        self.n_features_in_ = len(pre.columns) if pre is not None else math.prod(adapter.sample_shape)
        self.input_ = adapter
        return adapter

    def _model_input(self, X: object) -> tuple[np.ndarray, np.ndarray | None]:
        """``X`` checked against what was fitted and mapped to ``(model array, observed mask or None)``."""
        check_is_fitted(self)
        check_n_features(self, X)  # first: an array of the wrong shape needs no warning about feature names
        _check_feature_names(self, X, reset=False)
        return self.input_.transform(X)

    def input_spec(self) -> dict[str, Any]:
        """What the fitted estimator's methods take, as plain data (for a server's request schema or a form).

        Returns
        -------
        dict
            ``{"kind": "table", "columns": [{"name", "type", "dtype", "categories"?}, ...]}`` when fitted on a
            DataFrame, ``{"kind": "array", "shape": [n_features]}`` for a numeric array, ``{"kind": "images",
            "shape": [...]}`` for images (one image's shape as fitted).
        """
        check_is_fitted(self)
        return self.input_.spec()

    def _copy_input_facts(self, other: ModelEstimator) -> None:
        """Take ``n_features_in_`` / ``feature_names_in_`` from a fitted estimator this one is built on."""
        self.n_features_in_ = other.n_features_in_
        if hasattr(other, "feature_names_in_"):
            self.feature_names_in_ = other.feature_names_in_

    # ------------------------------------------------------------------------------------------- training
    def _fit_seed(self) -> int:
        """The one seed a fit draws from ``random_state`` (the same on every process under ``torchrun``); parts of
        the fit that need their own seeds derive them from it (``np.random.default_rng(seed)``)."""
        return same_on_all_ranks(int(check_random_state(self.random_state).randint(0, 2**31 - 1)))

    @staticmethod
    def _build_model(factory: Callable[[], torch.nn.Module], seed: int) -> torch.nn.Module:
        """``factory()`` with its initial weights drawn from ``seed``, leaving the caller's torch RNG untouched."""
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            return factory()

    def _train_config(self, budget: Budget, *, seed: int, label: str = "training", **settings: Any) -> TrainConfig:
        """The Trainer's settings for a run of ``budget``: the estimator's ``learning_rate`` (unless ``settings``
        name one), ``verbose`` and ``precision`` (where it has one), and further
        :class:`~aekit.training.TrainConfig` fields (schedule, early stopping...) from ``settings``."""
        settings.setdefault("learning_rate", self.learning_rate)
        return TrainConfig(max_epochs=budget.epochs, batch_size=budget.batch_size, seed=seed,
                           verbose=int(self.verbose), progress_label=label,
                           precision=getattr(self, "precision", "auto"), **settings)

    def _fit_model(self, model: torch.nn.Module, data: BatchSource, budget: Budget, *, seed: int,
                   validation: BatchSource | None = None, callbacks: list | None = None, label: str = "training",
                   resume: bool = False, record: bool = True, **settings: Any) -> TrainResult:
        """Train ``model`` on the batch source ``data`` for ``budget`` with the one Trainer (which decides threads
        and number format from the model and a batch) on ``device_``; the model ends in evaluation mode.

        ``record``: keep the run as the estimator's own (``history_``, ``n_iter_``, ``stop_reason_``,
        ``train_seconds_``). ``settings`` as for :meth:`_train_config`."""
        config = self._train_config(budget, seed=seed, label=label, **settings)
        result = Trainer(model, config, self.device_, callbacks=callbacks).fit(data, validation, resume=resume)
        if record:
            self.history_, self.n_iter_, self.train_seconds_ = result.history, result.epochs_run, result.seconds
            self.stop_reason_ = result.stop_reason
        model.eval()
        return result

    def _placed(self, model: torch.nn.Module, state_dict: dict[str, torch.Tensor], device: str) -> torch.nn.Module:
        """``model`` with saved weights, on ``device`` (sets ``device_``), in evaluation mode: what loading does."""
        model.load_state_dict(state_dict)
        self.device_ = resolve_device(device)
        return model.to(self.device_).eval()

    # -------------------------------------------------------------------------------------------- persist
    def _state(self) -> dict[str, Any]:
        """``{"config": JSON-able fitted facts, "tensors": {name: tensor}, "preprocess": dict, "history": rows}``."""
        raise NotImplementedError

    def _restore(self, saved: dict[str, Any], path: Path, device: str) -> None:
        """Set the fitted attributes from what :meth:`_state` saved (``saved["config"]["fitted"]`` etc.)."""
        raise NotImplementedError

    def _children(self) -> dict[str, ModelEstimator]:
        """Fitted estimators this one is built on, saved as sub-directories named by the keys."""
        return {}

    def _saved_params(self) -> dict[str, Any]:
        """``get_params()`` as JSON: paths as strings, tuples as lists, a RandomState instance as ``None``."""
        params = {}
        for key, value in self.get_params(deep=False).items():
            if isinstance(value, os.PathLike):
                value = str(value)
            elif isinstance(value, (tuple, list, np.ndarray)):
                value = [v.item() if isinstance(v, np.generic) else v for v in value]
            elif key == "random_state" and not isinstance(value, (int, type(None))):
                value = None
            params[key] = value
        return params

    def save(self, path: str | os.PathLike) -> Path:
        """Write the model directory (JSON + safetensors; estimators it is built on go in sub-directories)."""
        check_is_fitted(self)
        path = Path(path)
        for name, child in self._children().items():
            child.save(path / name)
        state = self._state()
        fitted = {"n_features_in": int(self.n_features_in_),
                  "feature_names_in": list(map(str, getattr(self, "feature_names_in_", []))) or None,
                  **state.get("config", {})}
        config = {"format": self.FORMAT, "params": self._saved_params(), "fitted": fitted}
        return write_model_dir(path, config=config, state_dict=state.get("tensors", {}),
                               preprocess=state.get("preprocess", {}), history=state.get("history", []))

    @classmethod
    def load(cls, path: str | os.PathLike, device: str = "auto") -> ModelEstimator:
        """Load a directory written by :meth:`save`."""
        saved = read_model_dir(path, cls.FORMAT)
        config = saved["config"]
        try:
            est = cls(**{**config["params"], **({"device": device} if "device" in config["params"] else {})})
            fitted = config["fitted"]
            est.n_features_in_ = fitted["n_features_in"]
            if fitted.get("feature_names_in"):
                est.feature_names_in_ = np.asarray(fitted["feature_names_in"], dtype=object)
            est._restore(saved, Path(path), device)
        except (KeyError, TypeError, RuntimeError, AttributeError) as exc:
            raise ValueError(f"{path} does not hold a consistent aekit {cls.__name__} ({exc})") from exc
        return est

    @classmethod
    def describe(cls, config: dict) -> dict[str, Any]:
        """Facts for ``aekit info`` from a saved ``config.json`` (without loading weights)."""
        fitted = config.get("fitted", {})
        return {"estimator": cls.__name__, "features in": fitted.get("n_features_in")}


def load(path: str | os.PathLike, device: str = "auto") -> ModelEstimator:
    """Load any saved aekit estimator; its ``format`` field says which class it is."""
    return FORMATS.get(read_config(path)["format"]).load(path, device=device)


def tensor(array: np.ndarray) -> torch.Tensor:
    """A NumPy array as a contiguous tensor for safetensors."""
    return torch.from_numpy(np.ascontiguousarray(array))


class RegistryOptions(StrOptions):
    """A parameter constraint whose allowed strings are a registry's names *when checked*, so a part registered
    after import (a user's own bottleneck) is accepted without touching the estimator."""

    def __init__(self, registry: Registry, extra: tuple[str, ...] = ()) -> None:
        self.registry, self.extra = registry, tuple(extra)
        super().__init__(set())

    @property
    def options(self) -> set[str]:
        return set(self.registry.names()) | set(self.extra)

    @options.setter
    def options(self, value: set[str]) -> None:  # StrOptions.__init__ assigns it; the registry is the truth
        pass
