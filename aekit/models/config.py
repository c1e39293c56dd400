"""The architecture of a composed autoencoder as data: input shape, code size and one spec per part.

Saved as JSON next to the weights. Each part spec is checked against that part's own ``Config`` (see
``parts.py``), so a typo or a setting from another tool fails on load with the part's name and its settings.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from .bottleneck import BOTTLENECKS
from .corruption import CORRUPTIONS
from .encoders import ENCODERS
from .input_norm import InputNormStats
from .likelihood import LIKELIHOODS
from .linear_path import LinearPathSpec
from .parts import PartSpec
from .regularizers import REGULARIZERS

#: The keys ``config.json`` may hold for a model, in the order it writes them.
KEYS = ("input_shape", "latent_dim", "encoder", "bottleneck", "likelihood", "corruption", "regularizers", "input_norm",
        "linear_path", "missing_indicator")


@dataclass
class ModelConfig:
    """Everything needed to rebuild a model's architecture.

    Parts are :class:`~aekit.models.parts.PartSpec` values; each may be given as a name or a
    ``{"name": ..., **settings}`` dict, which is checked against the part's own settings and completed with its
    defaults, so the saved file says exactly what was built.
    """

    input_shape: tuple[int, ...]  # (D,) for tables, (C, H, W) for images
    latent_dim: int
    encoder: PartSpec = "mlp"
    bottleneck: PartSpec = "deterministic"
    likelihood: PartSpec = "mse"
    corruption: PartSpec | None = None
    regularizers: list[PartSpec] = field(default_factory=list)
    input_norm: InputNormStats | None = None  # encoder-input statistics (input_norm.py)
    linear_path: LinearPathSpec | None = None  # a zero-diagonal input -> output map around the code (linear_path.py)
    missing_indicator: bool = False  # the encoder also reads which values it was shown (missing_flags.py)

    def __post_init__(self) -> None:
        self.input_shape = tuple(int(s) for s in self.input_shape)
        self.latent_dim = int(self.latent_dim)
        self.encoder = PartSpec.of(ENCODERS, self.encoder)
        self.bottleneck = PartSpec.of(BOTTLENECKS, self.bottleneck)
        self.likelihood = PartSpec.of(LIKELIHOODS, self.likelihood)
        self.corruption = None if self.corruption is None else PartSpec.of(CORRUPTIONS, self.corruption)
        self.regularizers = [PartSpec.of(REGULARIZERS, r) for r in self.regularizers]
        self.input_norm = _typed(InputNormStats, self.input_norm, "input_norm")
        self.linear_path = _typed(LinearPathSpec, self.linear_path, "linear_path")
        self.missing_indicator = bool(self.missing_indicator)
        if self.missing_indicator and (len(self.input_shape) != 1 or self.linear_path is not None):
            raise ValueError("missing_indicator needs flat (table) inputs and no linear path around the code")

    def to_dict(self) -> dict[str, Any]:
        """The config as ``config.json`` keeps it (part specs as dicts; optional entries only when set)."""
        out = {"input_shape": list(self.input_shape), "latent_dim": self.latent_dim,
               "encoder": self.encoder.to_dict(), "bottleneck": self.bottleneck.to_dict(),
               "likelihood": self.likelihood.to_dict(),
               "corruption": None if self.corruption is None else self.corruption.to_dict(),
               "regularizers": [r.to_dict() for r in self.regularizers],
               "input_norm": None if self.input_norm is None else _listed(asdict(self.input_norm))}
        if self.linear_path is not None:
            out["linear_path"] = asdict(self.linear_path)
        if self.missing_indicator:
            out["missing_indicator"] = True
        return out

    @classmethod
    def from_dict(cls, d: dict) -> ModelConfig:
        unknown = set(d) - set(KEYS)
        if unknown:
            raise ValueError(f"unknown model config keys {sorted(unknown)}; this file was written by another tool")
        return cls(**d)


def _typed(cls: type, value: Any, what: str) -> Any:
    """``value`` as ``cls`` (from its dict form), ``None`` kept; unknown keys raise ``ValueError``."""
    if value is None or isinstance(value, cls):
        return value
    try:
        return cls(**value)
    except TypeError as exc:
        raise ValueError(f"{what} {value!r} does not fit {cls.__name__} ({exc})") from None


def _listed(d: dict[str, Any]) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in d.items()}
