"""What every part shares: a registered name, a small config dataclass of its own, and named loss terms.

A part is a class registered under a name in its kind's registry (encoders, bottlenecks, likelihoods,
corruptions, regularisers), with a nested ``Config`` dataclass holding only its own settings. A model config
names each part as a *spec*, ``{"name": "gaussian", "beta": 4.0}``; :func:`resolve` checks the spec against the
part's ``Config`` and returns both, so a new part is one registered class and nothing else changes.

A part that adds to the loss returns :class:`Term` values: the unweighted batch mean, logged as it is, and the
weight it enters ``total`` with.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

import torch

from ..registry import Registry


@dataclass
class Term:
    """A named loss term: ``value`` is the unweighted batch mean; ``total`` adds ``weight * value``."""

    value: torch.Tensor
    weight: float = 1.0


@dataclass
class NoSettings:
    """Config of a part that has no settings."""


def resolve(registry: Registry, spec: dict[str, Any] | str) -> tuple[type, Any]:
    """``(part class, its Config instance)`` for a spec ``{"name": ..., **settings}`` (or a bare name)."""
    spec = {"name": spec} if isinstance(spec, str) else dict(spec)
    if "name" not in spec:
        raise ValueError(f"a {registry.what} spec needs a 'name'; got {spec}")
    cls = registry.get(spec.pop("name"))
    config_cls = getattr(cls, "Config", NoSettings)
    allowed = {f.name for f in fields(config_cls)}
    unknown = set(spec) - allowed
    if unknown:
        raise ValueError(f"{registry.what} {cls.__name__} has no setting {sorted(unknown)}; it takes "
                         f"{sorted(allowed) or 'no settings'}")
    return cls, config_cls(**spec)


def normalise(registry: Registry, spec: dict[str, Any] | str) -> dict[str, Any]:
    """The spec with every setting filled in (defaults included) and JSON-friendly: what ``config.json`` keeps."""
    cls, cfg = resolve(registry, spec)
    name = spec if isinstance(spec, str) else spec["name"]
    out = {"name": name}
    for key, value in asdict(cfg).items():
        out[key] = list(value) if isinstance(value, tuple) else value
    return out
