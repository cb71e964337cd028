"""Scalars and YAML 1.1 coercion: Go byte lengths and integers, and how a refused value is shown."""

from __future__ import annotations

DIGITS = frozenset("0123456789")
INT64_MAX = 2**63 - 1


def glen(value: str) -> int:
    """Go's len(): the API server limits bytes, not characters."""
    return len(value.encode("utf-8", "surrogatepass"))


def show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 70 else f"{text[:60]}...' ({glen(str(value))} bytes)"


def describe(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool | int | float):
        return f"{type(value).__name__} {value!r}"
    return f"{type(value).__name__} {show(value)}"


def _yaml_hint(value: object) -> str:
    """Why a string field holds something else: YAML 1.1 resolved an unquoted scalar."""
    if value is None:
        return " (an empty or `~` YAML value; quote it)"
    if isinstance(value, bool):
        return " (YAML 1.1 reads unquoted yes/no/on/off/true/false as booleans; quote it)"
    if isinstance(value, int | float):
        return " (an unquoted YAML number; quote it)"
    return ""


def type_problem(path: str, value: object, expected: str) -> str:
    hint = _yaml_hint(value) if "string" in expected else ""
    return f"{path}: expected {expected}, got {describe(value)}{hint}"


def as_int(value: object) -> int | None:
    """An int as Kubernetes' JSON decoding sees it: bool is not one, an integral float is (80.0 -> 80)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None
