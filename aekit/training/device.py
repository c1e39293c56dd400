"""Which device a model runs on: one rule, used by every estimator."""

from __future__ import annotations

import os

import torch


def resolve_device(device: str | torch.device) -> torch.device:
    """Map ``"auto"`` to CUDA when available, else CPU; check that an explicit CUDA request can be met.

    Under ``torchrun`` with several GPUs, ``"auto"`` and ``"cuda"`` mean this rank's own GPU (``LOCAL_RANK``)."""
    if isinstance(device, torch.device):
        return device
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    dev = torch.device(device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} was requested but CUDA is not available; use device='cpu' or 'auto'")
    if dev.type == "cuda" and dev.index is None and int(os.environ.get("WORLD_SIZE", "1") or 1) > 1:
        dev = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0") or 0))
    return dev
