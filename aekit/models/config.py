"""The architecture of a composed autoencoder as data: input shape, code size and one spec per part.

Saved as JSON next to the weights. Each part spec is checked against that part's own ``Config`` (see
``parts.py``), so a typo or a setting from another tool fails on load with the part's name and its settings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .bottleneck import BOTTLENECKS
from .corruption import CORRUPTIONS
from .encoders import ENCODERS
from .input_links import check_links
from .likelihood import LIKELIHOODS
from .parts import normalise
from .regularizers import REGULARIZERS

Spec = dict[str, Any]


@dataclass
class ModelConfig:
    """Everything needed to rebuild a model's architecture."""

    input_shape: tuple[int, ...]  # (D,) for tables, (C, H, W) for images
    latent_dim: int
    encoder: Spec = field(default_factory=lambda: {"name": "mlp"})
    bottleneck: Spec = field(default_factory=lambda: {"name": "deterministic"})
    likelihood: Spec = field(default_factory=lambda: {"name": "mse"})
    corruption: Spec | None = None
    regularizers: list[Spec] = field(default_factory=list)
    input_norm: dict[str, Any] | None = None  # encoder-input mean/std per leading axis (input_norm.py)
    links: dict[str, Any] | None = None  # a zero-diagonal input -> output map beside the code (input_links.py)
    missing_indicator: bool = False  # the encoder also reads which values it was shown (missing_flags.py)

    def __post_init__(self) -> None:
        """Fill every part's defaults in, so the saved file says exactly what was built."""
        self.input_shape = tuple(int(s) for s in self.input_shape)
        self.latent_dim = int(self.latent_dim)
        self.encoder = normalise(ENCODERS, self.encoder)
        self.bottleneck = normalise(BOTTLENECKS, self.bottleneck)
        self.likelihood = normalise(LIKELIHOODS, self.likelihood)
        self.corruption = None if self.corruption is None else normalise(CORRUPTIONS, self.corruption)
        self.regularizers = [normalise(REGULARIZERS, r) for r in self.regularizers]
        self.links = check_links(self.links)
        self.missing_indicator = bool(self.missing_indicator)
        if self.missing_indicator and (len(self.input_shape) != 1 or self.links is not None):
            raise ValueError("missing_indicator needs flat (table) inputs and no links")
        if self.input_norm is not None:
            unknown = set(self.input_norm) - {"mean", "std", "low", "high"}
            if unknown:
                raise ValueError(f"input_norm has unknown keys {sorted(unknown)}; it takes mean, std, low, high")
            norm = {k: [float(v) for v in self.input_norm[k]] for k in ("mean", "std")}
            self.input_norm = norm | {k: float(self.input_norm[k]) for k in ("low", "high") if k in self.input_norm}

    def to_dict(self) -> dict:
        return {"input_shape": list(self.input_shape), "latent_dim": self.latent_dim, "encoder": self.encoder,
                "bottleneck": self.bottleneck, "likelihood": self.likelihood, "corruption": self.corruption,
                "regularizers": self.regularizers,
                "input_norm": self.input_norm, **({"links": self.links} if self.links else {}),
                **({"missing_indicator": True} if self.missing_indicator else {})}

    @classmethod
    def from_dict(cls, d: dict) -> ModelConfig:
        known = {"input_shape", "latent_dim", "encoder", "bottleneck", "likelihood", "corruption", "regularizers",
                 "input_norm", "links", "missing_indicator"}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"unknown model config keys {sorted(unknown)}; this file was written by another tool")
        return cls(**d)
