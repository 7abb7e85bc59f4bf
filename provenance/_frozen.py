"""One __eq__, __hash__ and __repr__ for the library's frozen dataclasses.

``@dataclass(frozen=True)`` compiles six methods for every class when its module is
imported (~1 ms a class on Python 3.11); a command's start-up pays that for each of the
~20 result and settings types it loads. Three of the six are the same for every class
once written generically, so the frozen types inherit them from ``Value`` and declare
``@dataclass(frozen=True, eq=False, repr=False)``: the same semantics (tests/
test_model_value.py compares them with dataclass's own), ~0.6 ms less a class.
"""

from __future__ import annotations

import dataclasses
import reprlib
from collections.abc import Callable
from operator import attrgetter
from typing import Any

__all__ = ["Value"]

# (class, compare | hash | repr) -> the fields' names and a getter of their values
_KEYS: dict[tuple[type, str], tuple[tuple[str, ...], Callable[[Any], tuple[Any, ...]]]] = {}


def _key(cls: type, kind: str) -> tuple[tuple[str, ...], Callable[[Any], tuple[Any, ...]]]:
    """The names of cls's fields that take part in kind (compare, hash or repr) and a
    function giving an instance's values of them, as a tuple."""
    found = _KEYS.get((cls, kind))
    if found is None:
        fields = dataclasses.fields(cls)
        if kind == "compare":
            names = tuple(f.name for f in fields if f.compare)
        elif kind == "hash":  # as dataclass: hash=None follows compare
            names = tuple(f.name for f in fields if (f.compare if f.hash is None else f.hash))
        else:
            names = tuple(f.name for f in fields if f.repr)
        getter: Callable[[Any], tuple[Any, ...]]
        if len(names) > 1:
            getter = attrgetter(*names)
        elif names:
            one = attrgetter(names[0])
            getter = lambda obj: (one(obj),)  # noqa: E731
        else:
            getter = lambda obj: ()  # noqa: E731
        found = _KEYS[(cls, kind)] = (names, getter)
    return found


class Value:
    """Equality, hash and repr of a frozen dataclass, exactly as ``@dataclass`` makes
    them: equal when of the same class with equal compared fields; the hash of those
    fields; ``Name(field=value, ...)`` of the shown fields."""

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        if other.__class__ is self.__class__:
            key = _key(self.__class__, "compare")[1]
            return key(self) == key(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(_key(self.__class__, "hash")[1](self))

    @reprlib.recursive_repr()
    def __repr__(self) -> str:
        names, values = _key(self.__class__, "repr")
        inner = ", ".join(f"{n}={v!r}" for n, v in zip(names, values(self), strict=True))
        return f"{self.__class__.__qualname__}({inner})"
