"""Dataclasses built from untrusted JSON, every value checked against the field's type hint.

A snapshot file is input like any other: it may be hand-edited, truncated or
crafted. ``"reachable": "no"`` must not count as reachable, a list where an
object belongs must not surface as a traceback. :func:`build` walks the data
along the dataclass's own annotations (so the schema cannot drift from the
model), refuses unknown and missing keys, wrong types, bad enum values and
non-finite numbers, and names the offending place like
``probes["file:/etc/hosts"].status``.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
import types
import typing
from enum import Enum
from typing import Any, TypeVar

T = TypeVar("T")
_MAX_KEY_SHOWN = 80


class SchemaError(ValueError):
    """A JSON value that does not fit the model; ``where`` points at it."""

    def __init__(self, where: str, message: str) -> None:
        super().__init__(f"{where or 'top level'}: {message}")
        self.where = where
        self.message = message


def kind_of(value: object) -> str:
    if value is None:
        return "null"
    return {bool: "a boolean", int: "a number", float: "a number", str: "a string", list: "a list",
            dict: "an object"}.get(type(value), type(value).__name__)


def _key(where: str, key: str) -> str:
    shown = key if len(key) <= _MAX_KEY_SHOWN else key[:_MAX_KEY_SHOWN] + "..."
    return f"{where}[{json.dumps(shown)}]"  # json.dumps: control characters come out escaped


def _field(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name


@functools.cache
def _model(cls: type) -> tuple[dict[str, Any], dict[str, dataclasses.Field[Any]]]:
    """Type hints and fields of a dataclass (get_type_hints evaluates the annotations: once per class)."""
    return typing.get_type_hints(cls), {f.name: f for f in dataclasses.fields(cls)}


def build(cls: type[T], data: object, where: str = "") -> T:
    """An instance of the dataclass ``cls`` from ``data``, or SchemaError."""
    if not isinstance(data, dict):
        raise SchemaError(where, f"expected an object, got {kind_of(data)}")
    hints, fields = _model(cls)  # type: ignore[arg-type]  # classes are hashable
    for key in data:
        if key not in fields:
            raise SchemaError(_key(where, key), "unknown key")
    for name, f in fields.items():
        required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        if required and name not in data:
            raise SchemaError(_field(where, name), "required key is missing")
    values = {name: convert(value, hints[name], _field(where, name)) for name, value in data.items()}
    return cls(**values)


def convert(value: object, hint: Any, where: str) -> Any:
    """``value`` checked against ``hint`` (str, int, float, bool, Enum, dataclass, X | None, list[X], dict[str, X])."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(hint)
        if value is None and type(None) in options:
            return None
        rest = [o for o in options if o is not type(None)]
        if len(rest) != 1:
            raise TypeError(f"unsupported union {hint!r}")  # a model bug, not bad input
        return convert(value, rest[0], where)
    if origin is list:
        if not isinstance(value, list):
            raise SchemaError(where, f"expected a list, got {kind_of(value)}")
        (item,) = typing.get_args(hint)
        return [convert(v, item, f"{where}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise SchemaError(where, f"expected an object, got {kind_of(value)}")
        _, item = typing.get_args(hint)
        return {k: convert(v, item, _key(where, k)) for k, v in value.items()}
    if isinstance(hint, type) and issubclass(hint, Enum):
        allowed = [m.value for m in hint]
        if not isinstance(value, str) or value not in allowed:
            raise SchemaError(where, f"expected one of {', '.join(allowed)}")
        return hint(value)
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        return build(hint, value, where)
    return _scalar(value, hint, where)


def _scalar(value: object, hint: Any, where: str) -> Any:
    if hint is bool:
        ok = isinstance(value, bool)
    elif hint is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif hint is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        if ok:
            return float(value)  # type: ignore[arg-type]
    elif hint is str:
        ok = isinstance(value, str)
    else:
        raise TypeError(f"unsupported type hint {hint!r}")  # a model bug, not bad input
    if not ok:
        wanted = {bool: "true or false", int: "an integer", float: "a finite number", str: "a string"}[hint]
        raise SchemaError(where, f"expected {wanted}, got {kind_of(value)}")
    return value
