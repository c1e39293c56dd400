"""One generic registry that maps the strings users type (CLI, config.json) to the parts that build models."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")


class Registry(Generic[T]):
    """A named table of factories.

    ``register`` is a decorator so a part declares its own name next to its definition, and ``get`` raises an
    error that lists the allowed names, which is what a user who mistyped an option needs to see.
    """

    def __init__(self, what: str) -> None:
        self.what = what
        self._items: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        def decorator(obj: T) -> T:
            if name in self._items:
                raise KeyError(f"{self.what} {name!r} is registered twice")
            self._items[name] = obj
            return obj

        return decorator

    def get(self, name: str) -> T:
        try:
            return self._items[name]
        except KeyError:
            allowed = ", ".join(sorted(self._items))
            raise ValueError(f"unknown {self.what} {name!r}; choose one of: {allowed}") from None

    def names(self) -> list[str]:
        return sorted(self._items)

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())
