"""Quotas and limits: ResourceQuota and LimitRange."""

from __future__ import annotations

import decimal

from ..fields import Obj, list_field, map_field, maps_in
from ..names import qualified_name_problem
from ..quantities import quantity_problem
from ..resources import QUOTA_RESOURCES, container_resource_name_problem, quantity_value_problems
from ..scalars import describe, show, type_problem


def _quota_resource_name_problem(resource: str) -> str:
    """ValidateResourceQuotaResourceName: a quota-tracked name, or a fully qualified one (count/..., x/y)."""
    if problem := qualified_name_problem(resource):
        return problem
    is_hugepages = resource.startswith(("hugepages-", "requests.hugepages-"))
    if "/" not in resource and resource not in QUOTA_RESOURCES and not is_hugepages:
        return f"{resource!r} is not a resource a quota can track"
    return ""


def resource_quota_problems(obj: Obj) -> list[str]:
    out: list[str] = []
    spec = map_field(obj, "spec", "", out)
    for resource, raw in map_field(spec, "hard", "spec", out).items():
        path = f"spec.hard[{resource}]"
        if not isinstance(resource, str):
            out.append(type_problem("spec.hard key", resource, "a resource name"))
            continue
        if problem := _quota_resource_name_problem(resource):
            out.append(f"{path}: {problem}")
        amount, problem = quantity_problem(raw, path)
        out.extend([problem] if amount is None else quantity_value_problems(resource, amount, path, raw))
    return out


_LIMIT_ORDER = (
    ("min", "max"),
    ("min", "defaultRequest"),
    ("defaultRequest", "max"),
    ("defaultRequest", "default"),
    ("min", "default"),
    ("default", "max"),
)


def _limit_resource_name_problem(limit_type: object, resource: object) -> str:
    """validateLimitRangeResourceName: container names for Pod/Container, any standard name otherwise."""
    if not isinstance(resource, str):
        return f"expected a resource name string, got {describe(resource)}"
    if limit_type in ("Pod", "Container"):
        return container_resource_name_problem(resource)
    if problem := qualified_name_problem(resource):
        return problem
    standard = resource in QUOTA_RESOURCES or resource == "storage" or resource.startswith("hugepages-")
    if "/" not in resource and not standard:
        return f"{resource!r} is not a standard resource name"
    return ""


def _limit_item_problems(item: Obj, path: str) -> list[str]:
    out: list[str] = []
    limit_type = item.get("type")
    if limit_type not in ("Container", "Pod", "PersistentVolumeClaim"):
        out.append(f"{path}.type: {show(limit_type)} is not Container, Pod or PersistentVolumeClaim")
    values: dict[str, dict[str, decimal.Decimal]] = {}
    for key in ("max", "min", "default", "defaultRequest", "maxLimitRequestRatio"):
        values[key] = {}
        for resource, raw in map_field(item, key, path, out).items():
            if problem := _limit_resource_name_problem(limit_type, resource):
                out.append(f"{path}.{key}[{resource}]: {problem}")
            amount, problem = quantity_problem(raw, f"{path}.{key}[{resource}]")
            if amount is None:
                out.append(problem)
            else:
                values[key][str(resource)] = amount
    if limit_type == "Pod" and (values["default"] or values["defaultRequest"]):
        out.append(f"{path}: default and defaultRequest may not be set when type is Pod")
    if limit_type == "PersistentVolumeClaim" and "storage" not in values["min"].keys() | values["max"].keys():
        out.append(f"{path}: a PersistentVolumeClaim limit needs a min or max storage")
    for low, high in _LIMIT_ORDER:
        for resource in sorted(values[low].keys() & values[high].keys()):
            if values[low][resource] > values[high][resource]:
                out.append(
                    f"{path}.{low}[{resource}]: {low} {values[low][resource]} is greater than "
                    f"{high} {values[high][resource]}"
                )
    out.extend(
        f"{path}.maxLimitRequestRatio[{r}]: ratio {v} is less than 1"
        for r, v in values["maxLimitRequestRatio"].items()
        if v < 1
    )
    return out


def limit_range_problems(obj: Obj) -> list[str]:
    out: list[str] = []
    spec = map_field(obj, "spec", "", out)
    seen: set[str] = set()
    for item_path, item in maps_in(list_field(spec, "limits", "spec", out), "spec.limits", out):
        out.extend(_limit_item_problems(item, item_path))
        if repr(item.get("type")) in seen:
            out.append(f"{item_path}.type: duplicate limit type {show(item.get('type'))}")
        seen.add(repr(item.get("type")))
    return out
