"""Dispatch: every rule for one object, the per-kind ones chosen by (API group, kind)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .fields import Obj, map_field, nested_map
from .kinds.argocd import app_project_problems, application_problems
from .kinds.config import config_map_problems, secret_problems
from .kinds.gateway import http_route_problems
from .kinds.ingresses import ingress_problems
from .kinds.network_policies import network_policy_problems
from .kinds.quotas import limit_range_problems, resource_quota_problems
from .kinds.scaling import hpa_problems, pdb_problems
from .kinds.services import service_problems
from .kinds.workloads import controller_problems, cronjob_problems, job_problems, pod_problems
from .metadata import metadata_problems, object_name_problems
from .scalars import type_problem

SpecCheck = Callable[[Obj], list[str]]
_CORE = ""
_SPEC_CHECKS: dict[tuple[str, str], SpecCheck] = {
    ("apps", "Deployment"): controller_problems,
    ("apps", "StatefulSet"): controller_problems,
    ("apps", "DaemonSet"): controller_problems,
    ("apps", "ReplicaSet"): controller_problems,
    ("batch", "Job"): job_problems,
    ("batch", "CronJob"): cronjob_problems,
    (_CORE, "Pod"): pod_problems,
    (_CORE, "Service"): service_problems,
    (_CORE, "ConfigMap"): config_map_problems,
    (_CORE, "Secret"): secret_problems,
    (_CORE, "ResourceQuota"): resource_quota_problems,
    (_CORE, "LimitRange"): limit_range_problems,
    ("networking.k8s.io", "Ingress"): ingress_problems,
    ("networking.k8s.io", "NetworkPolicy"): network_policy_problems,
    ("autoscaling", "HorizontalPodAutoscaler"): hpa_problems,
    ("policy", "PodDisruptionBudget"): pdb_problems,
    ("gateway.networking.k8s.io", "HTTPRoute"): http_route_problems,
    ("argoproj.io", "Application"): application_problems,
    ("argoproj.io", "AppProject"): app_project_problems,
}


def _group(api_version: str) -> str:
    return api_version.split("/", 1)[0] if "/" in api_version else _CORE


def identity(obj: Obj) -> tuple[str, object]:
    return str(obj.get("kind")), nested_map(obj, "metadata").get("name")


def _header_problems(obj: Obj) -> list[str]:
    out: list[str] = []
    for key in ("apiVersion", "kind"):
        value = obj.get(key)
        if not isinstance(value, str) or not value:
            out.append(type_problem(key, value, "a non-empty string"))
    return out


def object_problems(obj: dict[str, Any]) -> list[str]:
    """Every problem the API server (or Argo CD, or the kubelet) would raise for one object.

    Each is one line: `Kind/name: field.path: what is wrong`.
    """
    if not isinstance(obj, dict):
        return [type_problem("document", obj, "a mapping")]
    kind, name = identity(obj)
    out = _header_problems(obj)
    api_version = obj.get("apiVersion")
    group_kind = (_group(api_version if isinstance(api_version, str) else ""), kind)
    metadata = map_field(obj, "metadata", "", out)
    out.extend(object_name_problems(group_kind, metadata.get("name")))
    out.extend(metadata_problems(metadata, "metadata"))
    check = _SPEC_CHECKS.get(group_kind)
    if check is not None:
        out.extend(check(obj))
    prefix = f"{kind}/{name}"
    return [f"{prefix}: {problem.lstrip('.')}" for problem in out]
