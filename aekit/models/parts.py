"""What every part shares: a registered name, a small config dataclass of its own, and named loss terms.

A part is a class registered under a name in its kind's registry (encoders, bottlenecks, likelihoods,
corruptions, regularisers), with a nested ``Config`` dataclass holding only its own settings. A model config
names each part as a :class:`PartSpec`: the part's name and its ``Config`` instance, checked when the spec is
made, so a typo or a setting from another tool fails with the part's name and its settings. On disk a spec is
``{"name": "gaussian", "beta": 4.0}``; a new part is one registered class and nothing else changes.

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


@dataclass(frozen=True)
class PartSpec:
    """One part of a model: its registered ``name``, its class and its ``settings`` (the class's ``Config``).

    Make one with :meth:`of` from a name, a ``{"name": ..., **settings}`` dict (what ``config.json`` holds) or
    another spec; :meth:`to_dict` gives the dict back with every default filled in.
    """

    name: str
    part: type
    settings: Any

    @classmethod
    def of(cls, registry: Registry, spec: PartSpec | dict[str, Any] | str) -> PartSpec:
        """The spec of a part of ``registry``; unknown names and settings raise ``ValueError``."""
        if isinstance(spec, PartSpec):
            return spec
        spec = {"name": spec} if isinstance(spec, str) else dict(spec)
        if "name" not in spec:
            raise ValueError(f"a {registry.what} spec needs a 'name'; got {spec}")
        name = spec.pop("name")
        part = registry.get(name)
        config_cls = getattr(part, "Config", NoSettings)
        allowed = {f.name for f in fields(config_cls)}
        unknown = set(spec) - allowed
        if unknown:
            raise ValueError(f"{registry.what} {part.__name__} has no setting {sorted(unknown)}; it takes "
                             f"{sorted(allowed) or 'no settings'}")
        return cls(name, part, config_cls(**spec))

    @staticmethod
    def settings_of(registry: Registry, name: str) -> set[str]:
        """The names of the settings part ``name`` of ``registry`` takes."""
        return {f.name for f in fields(getattr(registry.get(name), "Config", NoSettings))}

    def to_dict(self) -> dict[str, Any]:
        """``{"name": ..., **settings}`` with JSON-friendly values (tuples as lists, nested dataclasses as dicts)."""
        return {"name": self.name, **{k: _plain(v) for k, v in asdict(self.settings).items()}}


def _plain(value: Any) -> Any:
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value
