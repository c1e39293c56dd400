"""Open directories saved by aekit 0.1 (formats ``aekit.autoencoder/1``, ``aekit.anomaly-detector/1``,
``aekit.clusterer/1``) by converting them to today's objects on load.

What changed: the model config was one flat dict (``encoder``, ``hidden``, ``beta``, ``sparsity``...) and is now
one spec per part; ``preprocess.json`` held the input mapping itself and now holds it under ``"input"``; a
detector kept its members in its own safetensors file and now saves them as member directories. Saving a loaded
object writes the current format, which is how to convert a directory for good.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

from ..data.input import InputAdapter
from ..io import read_model_dir
from ..models import ModelConfig


def load_legacy(cls: type, path: str | os.PathLike, device: str):
    """Load a 0.1 directory of ``cls``; errors name the file, as for current directories."""
    path = Path(path)
    saved = read_model_dir(path, cls.LEGACY_FORMATS)
    loader = {"AutoEncoder": _autoencoder, "AnomalyDetector": _detector, "Clusterer": _clusterer}[cls.__name__]
    try:
        return loader(cls, saved, path, device)
    except (KeyError, TypeError, RuntimeError, AttributeError) as exc:
        raise ValueError(f"{path} does not hold a consistent aekit 0.1 {cls.__name__} ({exc}); "
                         "re-save it with a matching aekit version") from exc


def _autoencoder(cls, saved: dict, path: Path, device: str):
    config = saved["config"]
    est = cls(**{**config["params"], "device": device})
    est._set_model(ModelConfig.from_legacy_dict(config["model"]), saved["state_dict"],
                   InputAdapter.from_dict(saved["preprocess"]), device)
    fitted = config["fitted"]
    est.history_ = saved["history"]
    est.loss_curve_ = [row.get("train_total", math.nan) for row in est.history_]
    est.best_loss_, est.n_iter_, est.stop_reason_ = fitted["best_loss"], fitted["n_iter"], fitted["stop_reason"]
    _input_facts(est, fitted)
    return est


def _detector(cls, saved: dict, path: Path, device: str):
    from .autoencoder import AutoEncoder

    config, tensors = saved["config"], saved["state_dict"]
    det = cls(**{**config["params"], "device": device})
    adapter = InputAdapter.from_dict(saved["preprocess"]["input"])
    # Members saw the detector's model-space arrays (scaled tables, or images as (C, H, W)).
    member_input = InputAdapter(adapter.model_shape)
    det.members_ = []
    for i, member_config in enumerate(config["members"]):
        member = AutoEncoder(device=device)
        prefix = f"member{i}."
        member._set_model(ModelConfig.from_legacy_dict(member_config),
                          {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)},
                          member_input, device)
        member.n_features_in_ = math.prod(adapter.model_shape)
        # 0.1 detectors did not keep their members' training records.
        member.history_, member.loss_curve_, member.best_loss_, member.n_iter_ = [], [], None, 0
        member.stop_reason_ = "loaded from an aekit 0.1 detector (training record not kept)"
        det.members_.append(member)
    det._restore_scores(config, tensors, saved["preprocess"])
    _input_facts(det, config)
    return det


def _clusterer(cls, saved: dict, path: Path, device: str):
    from .autoencoder import AutoEncoder

    config = saved["config"]
    est = cls(**{**config["params"], "device": device})
    est.n_iter_ = config["n_iter"]
    est.autoencoder_ = AutoEncoder.load(path / "autoencoder", device=device)
    est._copy_input_facts(est.autoencoder_)
    est._restore_assignment(saved["state_dict"])
    est.refine_history_ = saved["history"]
    return est


def _input_facts(est, fitted: dict) -> None:
    est.n_features_in_ = fitted["n_features_in"]
    if fitted.get("feature_names_in"):
        est.feature_names_in_ = np.asarray(fitted["feature_names_in"], dtype=object)
