"""Saved models are data, never code: a directory of ``config.json``, ``model.safetensors``,
``preprocess.json`` and ``history.csv``.

Loading reads JSON and safetensors only, so a model directory from someone else cannot execute anything; a
damaged or foreign file gives a ``ValueError`` that names it.

``config.json`` names what the directory holds (``format``, e.g. ``"aekit.autoencoder"``) and the aekit release
that wrote it (``aekit_version``, from the package metadata). One layout per format is read: a directory written
by a release older than :data:`READABLE_SINCE` (when a layout last changed) or newer than this one is refused
with what to do, never read by rules it was not written under.
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

from .. import __version__
from .._utils import atomic_write_bytes, atomic_write_json, atomic_write_text, read_json

CONFIG, WEIGHTS, PREPROCESS, HISTORY = "config.json", "model.safetensors", "preprocess.json", "history.csv"
#: The oldest aekit release whose model directories this one reads (raise it when a saved layout changes).
READABLE_SINCE = "0.2.0"


def _release(text: str) -> tuple[int, ...]:
    """``"0.2.0"`` -> ``(0, 2, 0)``; anything after the numeric release (``"0.3.0.dev1"``) is ignored."""
    parts = []
    for piece in str(text).split("."):
        digits = "".join(ch for ch in piece if ch.isdigit()) if piece[:1].isdigit() else ""
        if not digits:
            break
        parts.append(int(digits))
    return tuple(parts)


def write_model_dir(
    path: str | os.PathLike,
    *,
    config: dict,
    state_dict: dict[str, torch.Tensor],
    preprocess: dict,
    history: list[dict[str, float]],
) -> Path:
    """Write the four files of a model directory (each atomically); returns the directory. ``config`` holds the
    ``format``; the writing release is added as ``aekit_version``."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    config = {"format": config["format"], "aekit_version": __version__,
              **{k: v for k, v in config.items() if k != "format"}}
    tensors = {k: v.detach().cpu().contiguous() for k, v in state_dict.items()}
    atomic_write_bytes(path / WEIGHTS, st_save(tensors, metadata={"format": str(config.get("format", ""))}))
    atomic_write_json(path / PREPROCESS, preprocess)
    atomic_write_text(path / HISTORY, history_to_csv(history))
    atomic_write_json(path / CONFIG, config)  # last: a directory with a config is complete
    return path


def read_config(path: str | os.PathLike) -> dict:
    """The ``config.json`` of a model directory, checked to be a JSON object with a ``format`` string."""
    path = Path(path)
    if not path.is_dir():
        raise FileNotFoundError(f"model directory not found: {path}")
    if not (path / CONFIG).is_file():
        raise FileNotFoundError(f"{path} is not a saved aekit model (it has no {CONFIG}); give the directory that "
                                "training wrote")
    config = read_json(path / CONFIG, "model config")
    if not isinstance(config, dict) or not isinstance(config.get("format"), str):
        raise ValueError(f"{path / CONFIG} has no 'format' field; it was not written by aekit")
    written_by = config.get("aekit_version")
    if not isinstance(written_by, str) or _release(written_by) < _release(READABLE_SINCE):
        raise ValueError(f"{path} was saved by an older aekit ({written_by or 'before ' + READABLE_SINCE}, format "
                         f"{config['format']!r}) whose layout this aekit {__version__} no longer reads; train the "
                         "model again with this version")
    if _release(written_by) > _release(__version__):
        raise ValueError(f"{path} was saved by aekit {written_by}, newer than this aekit {__version__}; upgrade "
                         "aekit to load it")
    return config


def read_model_dir(path: str | os.PathLike, expected_format: str | tuple[str, ...]) -> dict:
    """Read a model directory: ``{"config", "state_dict", "preprocess", "history"}``."""
    path = Path(path)
    config = read_config(path)
    formats = (expected_format,) if isinstance(expected_format, str) else expected_format
    if config["format"] not in formats:
        wanted = " or ".join(repr(f) for f in formats)
        raise ValueError(f"{path} holds an {config['format']!r}, not an {wanted}; give a directory saved by the "
                         "matching estimator or command")
    weights = path / WEIGHTS
    if not weights.is_file():
        raise FileNotFoundError(f"model weights not found: {weights}")
    try:
        state_dict = st_load(weights.read_bytes())
    except (SafetensorError, ValueError, OSError) as exc:
        raise ValueError(f"{weights} is damaged or not a safetensors file ({exc})") from exc
    history_file = path / HISTORY
    history = history_from_csv(history_file.read_text()) if history_file.is_file() else []
    return {
        "config": config,
        "state_dict": state_dict,
        "preprocess": read_json(path / PREPROCESS, "preprocessing"),
        "history": history,
    }


def history_to_csv(history: list[dict[str, float]]) -> str:
    keys: list[str] = []
    for row in history:
        keys += [k for k in row if k not in keys]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=keys)
    writer.writeheader()
    writer.writerows(history)
    return buf.getvalue()


def history_from_csv(text: str) -> list[dict[str, float]]:
    try:
        return [{k: float(v) for k, v in row.items() if v not in ("", None)} for row in csv.DictReader(io.StringIO(text))]
    except ValueError as exc:
        raise ValueError(f"history.csv is damaged ({exc})") from exc
