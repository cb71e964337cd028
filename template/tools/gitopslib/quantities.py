"""Kubernetes quantities (500m, 1.5Gi, 1e3) and the rules the API server applies to them.

The JSON schemas accept any string or number where a quantity goes, so `1.5.5` or `128MiB`
pass them and only the API server (at sync time) refuses the object.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation, localcontext
from typing import Any

# [0-9] rather than \d: Python's \d also matches non-ASCII digits, which the API server refuses.
QUANTITY = re.compile(
    r"(?P<number>[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))"
    r"(?P<suffix>Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?[0-9]+)?"
)
BINARY_SUFFIXES = ("Ki", "Mi", "Gi", "Ti", "Pi", "Ei")
DECIMAL_SUFFIXES = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
MULTIPLIERS = {
    **{suffix: Decimal(2) ** (10 * power) for power, suffix in enumerate(BINARY_SUFFIXES, 1)},
    **{suffix: Decimal(10) ** power for suffix, power in DECIMAL_SUFFIXES.items()},
}
QUANTITY_EXAMPLES = "like 500m, 0.5, 128Mi or 1Gi"
# Anything else without a domain prefix (e.g. a misspelled `memroy`) is refused in a container.
CONTAINER_RESOURCES = {"cpu", "memory", "ephemeral-storage"}
LIMIT_RANGE_FIELDS = ("max", "min", "default", "defaultRequest", "maxLimitRequestRatio")

NOT_A_CONTAINER_RESOURCE = (
    "not a container resource (cpu, memory, ephemeral-storage, hugepages-<size>, "
    "or an extended resource with a domain prefix)"
)

Found = tuple[str, str]  # (field path, reason)
Quantity = tuple[Decimal, Any]  # (value, as written)


def shown(value: Any) -> str:
    """A value as the user wrote it, saying so when YAML 1.1 read it as something else."""
    if isinstance(value, str):
        return value if value else '""'
    if isinstance(value, bool):
        return f"{str(value).lower()} (YAML read a bare yes/no/on/off/true/false as a boolean: quote it)"
    return repr(value)


def parse_quantity(value: Any) -> Decimal | None:
    """The value of a quantity, or None when the API server would refuse it.

    PyYAML hands over numbers written without quotes as int or float; the API server takes
    those as the quantity their digits spell.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value)) if math.isfinite(value) else None
    if not isinstance(value, str):
        return None
    # The API server trims the JSON string before parsing it.
    match = QUANTITY.fullmatch(value.strip())
    if match is None:
        return None
    number, suffix = Decimal(match["number"]), match["suffix"] or ""
    try:
        with localcontext() as exact:
            # Exact whatever the digits: the default 28 significant digits would round a fraction
            # of a byte away (1.00000000000000000000000000001).
            exact.prec = len(match["number"]) + 40
            if suffix in MULTIPLIERS:  # also E and Ei, which an exponent also starts with
                return number * MULTIPLIERS[suffix]
            return number.scaleb(int(suffix[1:]))
    except (InvalidOperation, ArithmeticError):
        return None


def quantity_map(values: Any, field: str) -> tuple[dict[str, Quantity], list[Found]]:
    """The valid quantities of a `resource name: quantity` mapping, and the problems of the others."""
    if not isinstance(values, dict):
        return {}, []
    parsed: dict[str, Quantity] = {}
    found: list[Found] = []
    for name, value in values.items():
        quantity = parse_quantity(value)
        if quantity is None:
            found.append(
                (f"{field}.{name}", f"{shown(value)} is not a Kubernetes quantity ({QUANTITY_EXAMPLES})")
            )
        elif quantity < 0:
            found.append((f"{field}.{name}", f"{shown(value)} is negative"))
        else:
            parsed[str(name)] = (quantity, value)
    return parsed, found


def _more_than(low: dict[str, Quantity], high: dict[str, Quantity], field: str, than: str) -> list[Found]:
    """Resources where `low` exceeds `high`; `than` names the high side, e.g. `the limit`."""
    return [
        (f"{field}.{name}", f"{shown(low[name][1])} is more than {than} {shown(high[name][1])}")
        for name in sorted(low.keys() & high.keys())
        if low[name][0] > high[name][0]
    ]


# Container resources counted in bytes: the API server warns "fractional byte value ... is invalid,
# must be an integer" (pkg/api/pod/warnings.go) for a fraction of a byte, e.g. memory 250m.
BYTE_RESOURCES = ("memory", "ephemeral-storage")
# The API server judges whole bytes on the amount in thousandths as an int64 (MilliValue), which
# overflows above this: then some whole amounts (1Ei) draw the warning too. Refused, conservatively.
MAX_MILLI = 2**63 - 1


def fractional_byte_problem(value: Decimal, written: Any) -> str:
    """Why `value` bytes is not a whole number of bytes the API server can count, or ""."""
    if value <= 0:
        return ""
    if value * 1000 > MAX_MILLI:
        return f"{shown(written)} is more than the API server can check in thousandths of a byte (9.2E)"
    if value != value.to_integral_value():
        return f"{shown(written)} is a fraction of a byte (use a whole number, like 128Mi or 500M)"
    return ""


def _is_container_resource(name: Any) -> bool:
    return isinstance(name, str) and (
        name in CONTAINER_RESOURCES or name.startswith("hugepages-") or "/" in name
    )


def resources_problems(resources: Any, field: str) -> list[Found]:
    """A container's (or pod's) `resources`: names, quantities, and no request above its limit."""
    if not isinstance(resources, dict):
        return []
    found: list[Found] = []
    parsed: dict[str, dict[str, Quantity]] = {}
    for section in ("requests", "limits"):
        values = resources.get(section)
        for name in values if isinstance(values, dict) else ():
            if not _is_container_resource(name):
                found.append((f"{field}.{section}.{name}", NOT_A_CONTAINER_RESOURCE))
        parsed[section], problems = quantity_map(values, f"{field}.{section}")
        found += problems
        found += [
            (f"{field}.{section}.{name}", problem)
            for name, (value, written) in parsed[section].items()
            if name in BYTE_RESOURCES and (problem := fractional_byte_problem(value, written))
        ]
    return found + _more_than(parsed["requests"], parsed["limits"], f"{field}.requests", "its limit")


def resource_quota_problems(obj: dict[str, Any]) -> list[Found]:
    spec = obj.get("spec")
    return quantity_map(spec.get("hard") if isinstance(spec, dict) else None, "spec.hard")[1]


# Pairs (low, high) the API server orders within one LimitRange item.
LIMIT_RANGE_ORDER = (
    ("min", "max"),
    ("defaultRequest", "default"),
    ("min", "defaultRequest"),
    ("defaultRequest", "max"),
    ("min", "default"),
    ("default", "max"),
)


def limit_range_problems(obj: dict[str, Any]) -> list[Found]:
    found: list[Found] = []
    spec = obj.get("spec")
    items = spec.get("limits") if isinstance(spec, dict) else None
    for index, item in enumerate(items if isinstance(items, list) else []):
        if not isinstance(item, dict):
            continue
        field = f"spec.limits[{index}]"
        parsed: dict[str, dict[str, Quantity]] = {}
        for name in LIMIT_RANGE_FIELDS:
            parsed[name], problems = quantity_map(item.get(name), f"{field}.{name}")
            found += problems
        for low, high in LIMIT_RANGE_ORDER:
            found += _more_than(parsed[low], parsed[high], f"{field}.{low}", high)
        for name, (ratio, written) in sorted(parsed["maxLimitRequestRatio"].items()):
            if ratio < 1:
                found.append((f"{field}.maxLimitRequestRatio.{name}", f"{shown(written)} is less than 1"))
    return found
