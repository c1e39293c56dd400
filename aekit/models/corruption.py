"""Input corruption for denoising autoencoders.

A denoising AE (Vincent et al., 2008, https://doi.org/10.1145/1390156.1390294) sees a corrupted input and is
asked to reconstruct the clean one. Corruption happens only while the module is in training mode, so encoding,
reconstruction and scoring always see the data as given.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..registry import Registry
from .parts import PartSpec

CORRUPTIONS: Registry[type[nn.Module]] = Registry("corruption")


class Corruption(nn.Module):
    """Shared gate: corrupt with strength ``level`` in training mode only; subclasses implement ``corrupt``.

    ``blank`` is what a removed value becomes: 0, or NaN in a model that flags values it was not shown
    (``missing_indicator``, missing_flags.py).
    """

    blank: float = 0.0

    @dataclass
    class Config:
        level: float = 0.0

    def __init__(self, level: float) -> None:
        super().__init__()
        self.level = float(level)

    @property
    def active(self) -> bool:
        """Whether it changes anything (a zero level does not)."""
        return self.level > 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or not self.active:
            return x
        return self.corrupt(x)

    def corrupt(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def unbiased(self, corrupted: torch.Tensor) -> torch.Tensor:
        """``corrupted`` rescaled so that its expectation is the clean input (for a linear map that sees it in
        training and the clean input afterwards); unchanged unless the corruption removes values."""
        return corrupted


@CORRUPTIONS.register("gaussian")
class GaussianNoise(Corruption):
    """Add N(0, σ²) noise to every input value: σ = ``level``, or with ``max_level`` a σ drawn uniformly from
    [level, max_level] for each sample (a *blind* denoiser learns every noise strength in the range)."""

    @dataclass
    class Config:
        level: float = 0.0
        max_level: float | None = None

    def __init__(self, level: float, max_level: float | None = None) -> None:
        super().__init__(level)
        self.max_level = None if max_level is None else float(max_level)
        if self.max_level is not None and self.max_level < self.level:
            raise ValueError(f"max_level ({max_level}) must be at least level ({level})")

    @property
    def active(self) -> bool:
        return self.level > 0 or bool(self.max_level)

    def corrupt(self, x: torch.Tensor) -> torch.Tensor:
        if self.max_level is None:
            return x + self.level * torch.randn_like(x)
        sigma = torch.empty((len(x),) + (1,) * (x.dim() - 1), device=x.device, dtype=x.dtype)
        sigma.uniform_(self.level, self.max_level)
        return x + sigma * torch.randn_like(x)


@CORRUPTIONS.register("masking")
class MaskingNoise(Corruption):
    """Remove a random fraction ``level`` of the input values (set them to ``blank``).

    ``groups``: sizes of runs of consecutive values removed together (a table's one-hot column is one cell), in
    order, covering the row; ``None`` removes each value on its own.
    """

    @dataclass
    class Config:
        level: float = 0.0
        groups: list[int] | None = None

    def __init__(self, level: float, groups: list[int] | None = None) -> None:
        super().__init__(level)
        self.groups = None if groups is None else [int(g) for g in groups]

    def corrupt(self, x: torch.Tensor) -> torch.Tensor:
        if self.groups is None:
            keep = torch.rand_like(x) >= self.level
        else:
            if sum(self.groups) != x[0].numel():
                raise ValueError(f"masking groups cover {sum(self.groups)} values, but a sample has {x[0].numel()}")
            sizes = torch.as_tensor(self.groups, device=x.device)
            keep = torch.rand(len(x), len(self.groups), device=x.device) >= self.level
            keep = keep.repeat_interleave(sizes, dim=1).view_as(x)
        return x * keep if self.blank == 0 else torch.where(keep, x, self.blank)

    def unbiased(self, corrupted: torch.Tensor) -> torch.Tensor:
        """Kept values scaled up by ``1 / (1 - level)`` in training (inverted dropout)."""
        return corrupted / (1 - self.level) if self.training and self.active else corrupted


@CORRUPTIONS.register("salt-and-pepper")
class SaltAndPepperNoise(Corruption):
    """Set a random fraction ``level`` of the values to the extremes ``low`` or ``high`` with equal chance.

    The extremes default to 0 and 1, the range of images scaled to [0, 1].
    """

    @dataclass
    class Config:
        level: float = 0.0
        low: float = 0.0
        high: float = 1.0

    def __init__(self, level: float, low: float = 0.0, high: float = 1.0) -> None:
        super().__init__(level)
        self.low, self.high = float(low), float(high)

    def corrupt(self, x: torch.Tensor) -> torch.Tensor:
        u = torch.rand_like(x)
        x = torch.where(u < self.level / 2, torch.full_like(x, self.low), x)
        return torch.where((u >= self.level / 2) & (u < self.level), torch.full_like(x, self.high), x)


class NoCorruption(Corruption):
    """What a model without corruption holds: passes the input through, with the same interface as the others."""

    def __init__(self) -> None:
        super().__init__(0.0)

    def corrupt(self, x: torch.Tensor) -> torch.Tensor:
        return x


def build_corruption(spec: PartSpec | dict | str | None, level: float | None = None) -> Corruption:
    """The corruption module for a spec (``{"name": "gaussian", "level": 0.5}``) or a name and level; one that
    changes nothing when no corruption is asked for."""
    if spec is None or spec == "none":
        return NoCorruption()
    if isinstance(spec, str):
        spec = {"name": spec, "level": 0.0 if level is None else level}
    spec = PartSpec.of(CORRUPTIONS, spec)
    return spec.part(**vars(spec.settings))
