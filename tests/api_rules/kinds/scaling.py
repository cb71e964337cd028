"""Autoscaling and disruption budgets: HorizontalPodAutoscaler and PodDisruptionBudget."""

from __future__ import annotations

from ..fields import Obj, int_field, int_or_percent_problems, list_field, map_field, maps_in
from ..names import name_problems, path_segment_problem
from ..quantities import quantity_problem
from ..scalars import as_int, show
from ..selectors import selector_problems


def _metric_target_problems(target: Obj, path: str) -> list[str]:
    out: list[str] = []
    if target.get("type") not in ("Utilization", "Value", "AverageValue"):
        out.append(f"{path}.type: {show(target.get('type'))} is not Utilization, Value or AverageValue")
    utilization = int_field(target, "averageUtilization", path, out)
    if utilization is not None and utilization < 1:
        out.append(f"{path}.averageUtilization: {utilization} must be greater than 0")
    for key in ("value", "averageValue"):
        if key in target:
            amount, problem = quantity_problem(target[key], f"{path}.{key}")
            if problem or (amount is not None and amount <= 0):
                out.append(problem or f"{path}.{key}: {amount} must be positive")
    return out


def hpa_problems(obj: Obj) -> list[str]:
    out: list[str] = []
    spec = map_field(obj, "spec", "", out)
    minimum = int_field(spec, "minReplicas", "spec", out, minimum=1)
    maximum = int_field(spec, "maxReplicas", "spec", out, minimum=1)
    if maximum is None and spec.get("maxReplicas") is None:
        out.append("spec.maxReplicas: is required")
    if maximum is not None and maximum < (minimum if minimum is not None else 1):
        out.append(f"spec.maxReplicas: {maximum} must be greater than or equal to minReplicas")
    target = map_field(spec, "scaleTargetRef", "spec", out)
    for key in ("kind", "name"):
        out.extend(name_problems(target.get(key), f"spec.scaleTargetRef.{key}", path_segment_problem))
    for metric_path, metric in maps_in(list_field(spec, "metrics", "spec", out), "spec.metrics", out):
        for source in ("resource", "containerResource", "pods", "object", "external"):
            body = map_field(metric, source, metric_path, out)
            if "target" in body:
                target_map = map_field(body, "target", f"{metric_path}.{source}", out)
                out.extend(_metric_target_problems(target_map, f"{metric_path}.{source}.target"))
    utilization = spec.get("targetCPUUtilizationPercentage")  # autoscaling/v1
    if utilization is not None and (as_int(utilization) or 0) < 1:
        out.append(f"spec.targetCPUUtilizationPercentage: {show(utilization)} must be greater than 0")
    return out


def pdb_problems(obj: Obj) -> list[str]:
    out: list[str] = []
    spec = map_field(obj, "spec", "", out)
    present = [key for key in ("minAvailable", "maxUnavailable") if spec.get(key) is not None]
    if len(present) == 2:
        out.append("spec: minAvailable and maxUnavailable cannot both be set")
    for key in present:
        out.extend(int_or_percent_problems(spec[key], f"spec.{key}"))
    out.extend(selector_problems(spec.get("selector"), "spec.selector"))
    return out
