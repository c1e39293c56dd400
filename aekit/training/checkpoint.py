"""Training checkpoints as one safetensors file, written atomically.

A checkpoint holds the current and best weights, the optimizer's state, the RNG state and the trainer's
counters and history, so ``resume`` continues exactly where a crashed run stopped. Everything is tensors plus a
JSON string in the safetensors metadata: loading a checkpoint never runs code (no pickle).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

from .._utils import atomic_write_bytes

FORMAT = "aekit.checkpoint/1"


def _flatten_optimizer(state: dict) -> tuple[dict[str, torch.Tensor], dict]:
    tensors, scalars = {}, {}
    for idx, slots in state["state"].items():
        for name, value in slots.items():
            key = f"optim.{idx}.{name}"
            if torch.is_tensor(value):
                tensors[key] = value.detach().cpu().contiguous()
            else:
                scalars[key] = value
    return tensors, {"param_groups": state["param_groups"], "scalars": scalars}


def _unflatten_optimizer(tensors: dict[str, torch.Tensor], meta: dict) -> dict:
    state: dict[int, dict[str, Any]] = {}
    items = [(k, v) for k, v in tensors.items() if k.startswith("optim.")] + list(meta["scalars"].items())
    for key, value in items:
        _, idx, name = key.split(".", 2)
        state.setdefault(int(idx), {})[name] = value
    return {"state": state, "param_groups": meta["param_groups"]}


def save_checkpoint(
    path: str | os.PathLike,
    *,
    model_state: dict[str, torch.Tensor],
    best_state: dict[str, torch.Tensor],
    optimizer_state: dict,
    rng_states: list[torch.Tensor],
    trainer_state: dict,
) -> Path:
    """Write everything needed to resume training to ``path`` in one atomic step (``rng_states``: one random
    state per process of the run, in rank order)."""
    tensors = {f"model.{k}": v.detach().cpu().contiguous() for k, v in model_state.items()}
    tensors.update({f"best.{k}": v.detach().cpu().contiguous() for k, v in best_state.items()})
    optim_tensors, optim_meta = _flatten_optimizer(optimizer_state)
    tensors.update(optim_tensors)
    tensors["rng"] = rng_states[0].cpu()
    tensors.update({f"rng.{rank}": s.cpu() for rank, s in enumerate(rng_states) if rank})
    meta = {"format": FORMAT, "trainer": json.dumps(trainer_state), "optimizer": json.dumps(optim_meta)}
    return atomic_write_bytes(path, st_save(tensors, metadata=meta))


def load_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """Read a checkpoint written by :func:`save_checkpoint`; a damaged or foreign file raises ``ValueError``."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint to resume from at {path}")
    data = path.read_bytes()
    try:
        tensors = st_load(data)
        from safetensors import safe_open  # metadata is only exposed by safe_open

        with safe_open(str(path), framework="pt") as fh:
            meta = fh.metadata() or {}
    except (SafetensorError, OSError, ValueError) as exc:
        raise ValueError(f"checkpoint {path} is damaged or not a safetensors file ({exc})") from exc
    if meta.get("format") != FORMAT:
        raise ValueError(f"{path} is not an aekit checkpoint (format {meta.get('format')!r}, expected {FORMAT!r})")
    return {
        "model_state": {k[6:]: v for k, v in tensors.items() if k.startswith("model.")},
        "best_state": {k[5:]: v for k, v in tensors.items() if k.startswith("best.")},
        "optimizer_state": _unflatten_optimizer(tensors, json.loads(meta["optimizer"])),
        "rng_states": [tensors["rng"], *(tensors[f"rng.{r}"] for r in range(1, 1 + sum(k.startswith("rng.")
                                                                                      for k in tensors)))],
        "trainer_state": json.loads(meta["trainer"]),
    }
