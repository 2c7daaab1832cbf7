"""Known[T]: a value, or the reason it could not be seen.

Rules branch on ``.ok``; a not-ok value turns into an UNKNOWN result (or SKIP
when the fact cannot exist in this inspection mode), never a silent pass.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Generic, TypeVar

T = TypeVar("T")
U = TypeVar("U")


@dataclass(frozen=True)
class Known(Generic[T]):
    value: T | None = None
    reason: str = ""
    # True when the fact cannot exist in this mode (image root): rules SKIP, not UNKNOWN.
    not_applicable: bool = False
    source: str = ""  # how it was obtained, shown as evidence

    @property
    def ok(self) -> bool:
        return self.value is not None

    def get(self) -> T:
        """The value; :class:`Unseen` when it could not be seen (the engine turns that into UNKNOWN/SKIP)."""
        if self.value is None:
            raise Unseen(self)
        return self.value

    def map(self, fn: Callable[[T], U | None], reason_if_none: str = "") -> Known[U]:
        if self.value is None:
            return Known(None, self.reason, self.not_applicable, self.source)
        out = fn(self.value)
        return Known(out, reason_if_none if out is None else "", False, self.source)


class Unseen(ValueError):
    """A rule read a fact that could not be seen: the framework reports it, so no rule must branch for it."""

    def __init__(self, fact: Known[Any]) -> None:
        super().__init__(f"fact not available: {fact.reason}")
        self.fact = fact


def known(value: T, source: str) -> Known[T]:
    return Known(value=value, source=source)


def unknown(reason: str, not_applicable: bool = False) -> Known[T]:
    return Known(value=None, reason=reason, not_applicable=not_applicable)
