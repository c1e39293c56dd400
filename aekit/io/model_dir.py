"""Saved models are data, never code: a directory of ``config.json``, ``model.safetensors``,
``preprocess.json`` and ``history.csv``.

Loading reads JSON and safetensors only, so a model directory from someone else cannot execute anything; a
damaged or foreign file gives a ``ValueError`` that names it.
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

from .._utils import atomic_write_bytes, atomic_write_json, atomic_write_text, read_json

CONFIG, WEIGHTS, PREPROCESS, HISTORY = "config.json", "model.safetensors", "preprocess.json", "history.csv"


def write_model_dir(
    path: str | os.PathLike,
    *,
    config: dict,
    state_dict: dict[str, torch.Tensor],
    preprocess: dict,
    history: list[dict[str, float]],
) -> Path:
    """Write the four files of a model directory (each atomically); returns the directory."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
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
    return config


def read_model_dir(path: str | os.PathLike, expected_format: str | tuple[str, ...]) -> dict:
    """Read a model directory: ``{"config", "state_dict", "preprocess", "history"}``."""
    path = Path(path)
    config = read_config(path)
    formats = (expected_format,) if isinstance(expected_format, str) else expected_format
    if config["format"] not in formats:
        raise ValueError(f"{path / CONFIG} has format {config['format']!r}; expected one of {list(formats)}")
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
