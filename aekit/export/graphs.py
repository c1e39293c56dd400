"""The functions an exported model computes, as PyTorch modules that take what a user has, not what the model sees.

An autoencoder fitted on a numeric table reads standardised columns, and one fitted on images reads them in
``(c, h, w)``; an exported graph that expected either would leave every caller to repeat the preprocessing (and to
get it subtly wrong). So each module here puts the input mapping inside the graph: raw numeric features in (NaN
marks a missing cell where the model was fitted on a table with holes), or pixels in [0, 1] in the shape the model
was fitted on; codes come back as the estimator's ``transform`` gives them, decodings in the raw units of
``inverse_transform`` (numeric columns are not rounded to the integers an int column had in fit).

These modules are also the PyTorch side of the ONNX check: each is run in eager mode on the same inputs as its
exported graph.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class TableScaling(nn.Module):
    """Raw numeric columns ``(B, D)`` to the model's standardised ones and back; NaN (missing) is kept as NaN.

    Parameters
    ----------
    columns : list of dict
        The fitted preprocessor's columns (``TabularPreprocessor.to_dict()["columns"]``), all numeric.
    """

    def __init__(self, columns: list[dict]) -> None:
        super().__init__()
        self.register_buffer("mean", torch.tensor([c["mean"] for c in columns], dtype=torch.float32))
        self.register_buffer("std", torch.tensor([c["std"] for c in columns], dtype=torch.float32))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std

    def inverse(self, y: torch.Tensor) -> torch.Tensor:
        return y * self.std + self.mean


class ModelInput(nn.Module):
    """What a user passes ``(B, *sample_shape)`` -> ``(model input, model-space values, shown mask)``.

    The model input has NaN where a cell is missing when the model reads a flag per value (``missing_indicator``)
    and 0 otherwise, as ``AutoEncoder`` feeds it (``blank_missing``).

    Parameters
    ----------
    model_shape : tuple of int
        The model's input shape: ``(d,)`` or ``(c, h, w)``.
    scaling : TableScaling or None
        For tables fitted from a DataFrame.
    flags : bool
        The model reads a missing flag per value.
    """

    def __init__(self, model_shape: tuple[int, ...], scaling: TableScaling | None, flags: bool) -> None:
        super().__init__()
        self.model_shape, self.scaling, self.flags = tuple(model_shape), scaling, bool(flags)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        x = x.reshape(x.shape[0], *self.model_shape)  # (B, *model_shape)
        if self.scaling is None:
            return x, x, torch.ones_like(x, dtype=torch.bool)
        shown = ~torch.isnan(x)
        values = torch.where(shown, self.scaling(x), torch.zeros_like(x))
        return (torch.where(shown, values, torch.full_like(x, float("nan"))) if self.flags else values), values, shown


class Encode(nn.Module):
    """Raw input ``(B, *sample_shape)`` -> codes ``(B, latent_dim)`` (a VAE's mean code)."""

    def __init__(self, model: nn.Module, model_input: ModelInput) -> None:
        super().__init__()
        self.model, self.input = model, model_input

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model.encode(self.input(x)[0])


class Decode(nn.Module):
    """Codes ``(B, latent_dim)`` -> data ``(B, *sample_shape)`` in raw units."""

    def __init__(self, model: nn.Module, sample_shape: tuple[int, ...], scaling: TableScaling | None) -> None:
        super().__init__()
        self.model, self.sample_shape, self.scaling = model, tuple(sample_shape), scaling

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        y = self.model.decode(z)
        y = y.reshape(y.shape[0], *self.sample_shape)
        return y if self.scaling is None else self.scaling.inverse(y)


class ReconstructionError(nn.Module):
    """Raw input ``(B, *sample_shape)`` -> each row's mean squared reconstruction error over its shown values
    ``(B,)``, in model space (standardised columns), as ``AutoEncoder.reconstruction_error``."""

    def __init__(self, model: nn.Module, model_input: ModelInput) -> None:
        super().__init__()
        self.model, self.input = model, model_input

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        fed, values, shown = self.input(x)
        sq = (self.model.reconstruct(fed) - values).flatten(1) ** 2  # (B, d)
        shown = shown.flatten(1)
        count = shown.sum(dim=1).clamp(min=1).to(sq.dtype)
        return torch.where(shown, sq, torch.zeros_like(sq)).sum(dim=1) / count


class Denoise(nn.Module):
    """Noisy images ``(B, c, h, w)`` in [0, 1], at least 8x8, -> cleaned images in [0, 1], as ``Denoiser.transform``
    gives for float input.

    The network needs sizes that are a multiple of 4; like its own ``forward``, the image is reflect-padded up to
    one and cropped back, here with the padding written as arithmetic on the (symbolic) size, so one graph takes
    every height and width.
    """

    def __init__(self, model: nn.Module, multiple: int) -> None:
        super().__init__()
        self.model, self.multiple = model, int(multiple)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2], x.shape[-1]
        m = self.multiple
        padded = F.pad(x, (0, (w + m - 1) // m * m - w, 0, (h + m - 1) // m * m - h), mode="reflect")
        return self.model.clean(padded)[..., :h, :w].clamp(0.0, 1.0)


__all__ = ["Decode", "Denoise", "Encode", "ModelInput", "ReconstructionError", "TableScaling"]
