"""Cross-object rules within one overlay."""

from __future__ import annotations

from typing import Any

from .fields import Obj, nested_map, one_of
from .objects import identity, object_problems

_CLUSTER_SCOPED = frozenset(
    {
        "Namespace",
        "ClusterRole",
        "ClusterRoleBinding",
        "ClusterPolicy",
        "CustomResourceDefinition",
        "StorageClass",
        "PriorityClass",
        "IngressClass",
        "PersistentVolume",
        "ClusterSecretStore",
        "ClusterExternalSecret",
        "ClusterIssuer",
        "GatewayClass",
        "ValidatingWebhookConfiguration",
        "MutatingWebhookConfiguration",
        "APIService",
    }
)


def _namespace_of(obj: Obj) -> object:
    return None if one_of(obj.get("kind"), _CLUSTER_SCOPED) else nested_map(obj, "metadata").get("namespace")


def _pod_labels(obj: Obj) -> Obj | None:
    """The labels of the pods an object creates, or None if it creates none."""
    kind = obj.get("kind")
    if kind in ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"):
        return nested_map(obj, "spec", "template", "metadata", "labels")
    if kind == "CronJob":
        return nested_map(obj, "spec", "jobTemplate", "spec", "template", "metadata", "labels")
    if kind == "Pod":
        return nested_map(obj, "metadata", "labels")
    return None


def _same_namespace(left: object, right: object) -> bool:
    """An unset namespace lands wherever kubectl applies it, so it may be anyone's."""
    return left is None or right is None or left == right


def _orphan_service_problems(objects: list[Obj]) -> list[str]:
    pods = [(_namespace_of(o), labels) for o in objects if (labels := _pod_labels(o)) is not None]
    out: list[str] = []
    for obj in objects:
        selector = nested_map(obj, "spec", "selector")
        if obj.get("kind") != "Service" or not selector:
            continue  # no selector: endpoints are managed by hand (or it is an ExternalName)
        namespace = _namespace_of(obj)
        if not any(
            _same_namespace(namespace, ns) and all(labels.get(k) == v for k, v in selector.items())
            for ns, labels in pods
        ):
            kind, name = identity(obj)
            out.append(f"{kind}/{name}: spec.selector: {selector} matches no pod template in this overlay")
    return out


def _duplicate_problems(objects: list[Obj]) -> list[str]:
    seen: set[tuple[str, str, str]] = set()
    out: list[str] = []
    for obj in objects:
        kind, name = identity(obj)
        key = (kind, str(_namespace_of(obj)), str(name))
        if key in seen:
            out.append(f"{kind}/{name}: metadata.name: a second {kind} named {name!r} in namespace {key[1]}")
        seen.add(key)
    return out


def overlay_problems(objects: list[dict[str, Any]]) -> list[str]:
    """object_problems of each object, then what only shows across the objects of one overlay."""
    out = [problem for obj in objects for problem in object_problems(obj)]
    mappings = [obj for obj in objects if isinstance(obj, dict)]
    return out + _orphan_service_problems(mappings) + _duplicate_problems(mappings)
