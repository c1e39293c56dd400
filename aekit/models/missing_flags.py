"""``missing_indicator``: the encoder reads, beside each value, whether it was shown at all.

Why: an autoencoder trained on a table with holes sees a missing or hidden value as 0, which is also a value a
cell can have (the column mean, on a standardised table), so the encoder cannot tell "this cell is average" from
"nothing is known about this cell". With a 0/1 flag per value the encoder learns to lean on the cells it was
shown. Measured for imputation on the five design tables of ``benchmarks/imputation.py``.

The convention: a value the model is not shown is NaN in its input (a missing cell, or one the ``masking``
corruption hid); the encoder reads it as 0 with its flag at 0. A model without the indicator never sees NaN.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn


class MissingFlags(nn.Module):
    """``(B, D)`` values with NaN where not shown ``-> (B, 2D)``: the values with NaN as 0, then the shown flags;
    the identity when inactive."""

    def __init__(self, active: bool) -> None:
        super().__init__()
        self.active = bool(active)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.active:
            return x
        shown = ~torch.isnan(x)
        return torch.cat([torch.where(shown, x, 0.0), shown.to(x.dtype)], dim=1)


def blank_missing(x: np.ndarray, observed: np.ndarray | None, indicator: bool) -> np.ndarray:
    """A model's input from model-space ``x`` (missing cells at 0) and its observed mask: missing cells NaN for a
    model with the indicator, unchanged otherwise."""
    if not indicator or observed is None or observed.all():
        return x
    return np.where(observed > 0, x, np.nan).astype(x.dtype, copy=False)


__all__ = ["MissingFlags", "blank_missing"]
