"""Keeping the parts of a step that need float32 out of a trainer's bfloat16 autocast.

Under autocast only the big matrix products (encoder and decoder bodies) should compute in bfloat16; codes,
their KL terms and summed log-likelihoods lose too much in 8 bits of mantissa.
"""

from __future__ import annotations

import contextlib

import torch


def full_precision(t: torch.Tensor) -> torch.Tensor:
    """``t`` in float32 if autocast left it in a 16-bit format; float32 and float64 pass unchanged."""
    return t.float() if t.dtype in (torch.bfloat16, torch.float16) else t


def without_autocast(x: torch.Tensor) -> contextlib.AbstractContextManager:
    """Autocast off on ``x``'s device; nothing to enter when it is off already (the float32 case: small models
    take thousands of steps, and entering autocast costs on each)."""
    device = x.device.type
    return torch.autocast(device_type=device, enabled=False) if torch.is_autocast_enabled(device) else \
        contextlib.nullcontext()
