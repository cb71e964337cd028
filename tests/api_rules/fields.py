"""Typed field helpers: read one field of a decoded object, reporting what Go's JSON decoding refuses."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from .scalars import as_int, type_problem

Obj = dict[str, Any]
_MISSING = object()


def str_field(parent: Mapping[str, Any], key: str, path: str, out: list[str]) -> str | None:
    """The string at parent[key], or None when absent; a present non-string is a problem.

    A null would silently become "" (or, under apply, delete the key), so it is reported too.
    """
    value = parent.get(key, _MISSING)
    if value is _MISSING:
        return None
    if not isinstance(value, str):
        out.append(type_problem(f"{path}.{key}", value, "a string"))
        return None
    return value


def map_field(parent: Mapping[str, Any], key: str, path: str, out: list[str]) -> Obj:
    """The mapping at parent[key]; absent or null is an empty mapping, as JSON decoding makes it."""
    value = parent.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        out.append(type_problem(f"{path}.{key}", value, "a mapping"))
        return {}
    return value


def list_field(parent: Mapping[str, Any], key: str, path: str, out: list[str]) -> list[Any]:
    value = parent.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        out.append(type_problem(f"{path}.{key}", value, "a list"))
        return []
    return value


def maps_in(items: list[Any], path: str, out: list[str]) -> Iterable[tuple[str, Obj]]:
    """Each (path, mapping) of a list, reporting items that are not mappings."""
    for index, item in enumerate(items):
        item_path = f"{path}[{index}]"
        if isinstance(item, dict):
            yield item_path, item
        else:
            out.append(type_problem(item_path, item, "a mapping"))


def one_of(value: object, choices: frozenset[str]) -> bool:
    """Membership that tolerates YAML giving a list or mapping where an enum string belongs."""
    return isinstance(value, str) and value in choices


def nested_map(obj: object, *keys: str) -> Obj:
    """obj[k1][k2]..., or {} when any step is missing or not a mapping (for reads after validation)."""
    for key in keys:
        obj = obj.get(key) if isinstance(obj, dict) else None
    return obj if isinstance(obj, dict) else {}


def int_field(
    parent: Mapping[str, Any],
    key: str,
    path: str,
    out: list[str],
    *,
    minimum: int | None = None,
    bits: int = 32,
) -> int | None:
    """An integer field; most are Go int32 (replicas, counts, seconds), a few int64 (`bits`).

    An int out of range does not stay what was written: a JSON decode (create, client-side apply)
    refuses it, server-side apply wraps it round (2^31 becomes -2^31, then refused as negative;
    2^32 + 1 becomes 1, accepted): the range is checked, then the rest on the wrapped value.
    """
    value = parent.get(key)
    if value is None:
        return None
    number = as_int(value)
    if number is None:
        out.append(type_problem(f"{path}.{key}", value, "an integer"))
        return None
    if not -(2 ** (bits - 1)) <= number < 2 ** (bits - 1):
        out.append(f"{path}.{key}: {number} does not fit in a {bits}-bit integer")
        number = (number + 2 ** (bits - 1)) % 2**bits - 2 ** (bits - 1)
    if minimum is not None and number < minimum:
        out.append(f"{path}.{key}: {number} must be greater than or equal to {minimum}")
    return number


_PERCENT_RE = re.compile(r"[0-9]+%")


def int_or_percent_problems(value: object, path: str, *, at_most_100: bool = True) -> list[str]:
    """ValidatePositiveIntOrPercent (>= 0 or 'N%') and IsNotMoreThan100Percent."""
    if isinstance(value, str):
        if not _PERCENT_RE.fullmatch(value):
            return [f"{path}: {value!r} is neither an integer nor a percentage like '25%'"]
        if at_most_100 and int(value[:-1]) > 100:
            return [f"{path}: {value!r} must not be greater than 100%"]
        return []
    number = as_int(value)
    if number is None:
        return [type_problem(path, value, "an integer or a percentage")]
    return [f"{path}: {number} must be greater than or equal to 0"] if number < 0 else []


def int_or_percent_value(value: object) -> int | None:
    if isinstance(value, str) and _PERCENT_RE.fullmatch(value):
        return int(value[:-1])
    return as_int(value)
