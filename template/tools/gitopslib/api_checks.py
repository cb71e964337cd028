"""What the Kubernetes API server refuses although the object matches its JSON schema.

Names, labels, quantities and cross-field rules are checked by the API server's Go code, not
by the OpenAPI schemas, so without these checks a mistake first shows up as a failed sync.
Pure Python over the objects the overlays already built: no extra kustomize or kubectl run.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from .api_ingress import ingress_problems
from .api_ports import container_port_problems, selector_mismatch, service_port_problems
from .problems import Problem
from .quantities import Found, limit_range_problems, resource_quota_problems, resources_problems, shown
from .repo import Overlay

LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
SUBDOMAIN = rf"{LABEL}(\.{LABEL})*"
DNS1035 = r"[a-z]([-a-z0-9]*[a-z0-9])?"
NAME_PART = r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?"

LABEL_RULE = (
    "a DNS-1123 label: at most 63 lowercase letters, digits and '-', starting and ending alphanumeric"
)
SUBDOMAIN_RULE = "a DNS-1123 subdomain: at most 253 lowercase letters, digits, '-' and '.'"
DNS1035_RULE = "a DNS-1035 label: at most 63 lowercase letters, digits and '-', starting with a letter"
NAME_PART_RULE = "at most 63 letters, digits, '-', '_' and '.', starting and ending alphanumeric"
# RBAC names only have to be usable as a URL path segment (ClusterRoles like system:foo).
RBAC_KINDS = {"Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"}
POD_TEMPLATE_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job"}
CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")


def mapping(value: Any) -> dict[str, Any]:
    """`value` if it is a mapping, else empty: malformed objects are the schema check's to name."""
    return value if isinstance(value, dict) else {}


def listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def not_a_string(value: Any) -> str:
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    return f"{shown(value)} is not a string" + (" (YAML read it as a number: quote it)" if number else "")


def matches(pattern: str, value: str, longest: int) -> bool:
    return len(value) <= longest and re.fullmatch(pattern, value) is not None


def name_problem(kind: str, name: Any) -> str:
    """Why the API server refuses `name` as metadata.name of a `kind` (empty when it does not)."""
    if not isinstance(name, str):
        return not_a_string(name)
    if kind in RBAC_KINDS:
        bad = name in (".", "..") or "/" in name or "%" in name
        return f"{name} must not be . or .. nor hold / or %" if bad else ""
    if kind == "Namespace":
        return "" if matches(LABEL, name, 63) else f"{name} is not {LABEL_RULE}"
    if kind == "Service":
        return "" if matches(DNS1035, name, 63) else f"{name} is not {DNS1035_RULE}"
    if not matches(SUBDOMAIN, name, 253):
        return f"{name} is not {SUBDOMAIN_RULE}"
    if kind == "Job" and len(name) > 63:
        return (
            f"{name} is {len(name)} characters, more than 63: the API server puts a Job's name in the "
            "pod label batch.kubernetes.io/job-name"
        )
    if kind == "CronJob" and len(name) > 52:
        return f"{name} is {len(name)} characters, more than 52: its Jobs append an 11-character suffix"
    return ""


def label_key_problem(key: Any) -> str:
    if not isinstance(key, str):
        return f"key {shown(key)} is not a string"
    prefix, slash, part = key.rpartition("/")
    if slash and not matches(SUBDOMAIN, prefix, 253):
        return f"key {key}: prefix {prefix or '(empty)'} is not {SUBDOMAIN_RULE}"
    if not matches(NAME_PART, part, 63):
        return f"key {key}: its name part {part or '(empty)'} must be {NAME_PART_RULE}"
    return ""


def label_value_problem(value: Any) -> str:
    if value is None or value == "":
        return ""
    if not isinstance(value, str):
        return not_a_string(value)
    if matches(NAME_PART, value, 63):
        return ""
    length = f" ({len(value)} characters)" if len(value) > 63 else ""
    return f"value {value}{length} must be empty or {NAME_PART_RULE}"


def label_problems(labels: Any, field: str) -> list[Found]:
    if not isinstance(labels, dict):
        return []
    found = []
    for key, value in labels.items():
        if reason := label_key_problem(key) or label_value_problem(value):
            found.append((f"{field}[{key}]", reason))
    return found


def metadata_problems(metadata: Any, field: str) -> list[Found]:
    if not isinstance(metadata, dict):
        return []
    found = label_problems(metadata.get("labels"), f"{field}.labels")
    for key, value in mapping(metadata.get("annotations")).items():
        reason = label_key_problem(key)
        if not reason and value is not None and not isinstance(value, str):
            reason = not_a_string(value)
        if reason:
            found.append((f"{field}.annotations[{key}]", reason))
    return found


def selector_problems(node: Any, field: str) -> Iterator[Found]:
    """Labels nested anywhere below the top level: templates, selectors, nodeSelector."""
    if isinstance(node, list):
        for index, item in enumerate(node):
            yield from selector_problems(item, f"{field}[{index}]")
    if not isinstance(node, dict):
        return
    for key, value in node.items():
        child = f"{field}.{key}" if field else str(key)
        if key == "metadata" and field:
            yield from metadata_problems(value, child)
        elif key in ("matchLabels", "nodeSelector"):
            yield from label_problems(value, child)
        elif key == "matchExpressions" and isinstance(value, list):
            for index, requirement in enumerate(value):
                if isinstance(requirement, dict):
                    yield from _requirement_problems(requirement, f"{child}[{index}]")
        else:
            yield from selector_problems(value, child)


def _requirement_problems(requirement: dict[str, Any], field: str) -> Iterator[Found]:
    if reason := label_key_problem(requirement.get("key")):
        yield f"{field}.key", reason
    for index, value in enumerate(listed(requirement.get("values"))):
        if reason := label_value_problem(value):
            yield f"{field}.values[{index}]", reason


def pod_template(obj: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """The field path and the pod template (metadata and spec) of a workload, if it has one."""
    kind, spec = obj.get("kind"), mapping(obj.get("spec"))
    if kind == "Pod":
        return "", obj
    if kind == "CronJob":
        template = mapping(mapping(spec.get("jobTemplate")).get("spec")).get("template")
        return ("spec.jobTemplate.spec.template.", template) if isinstance(template, dict) else None
    if kind in POD_TEMPLATE_KINDS and isinstance(spec.get("template"), dict):
        return "spec.template.", spec["template"]
    return None


def _unique_names(items: list[tuple[str, Any]], what: str) -> Iterator[Found]:
    """DNS-1123 label names, none used twice (items: field path and name)."""
    seen: set[str] = set()
    for field, name in items:
        if not isinstance(name, str):
            yield field, f"{what} name {not_a_string(name)}"
        elif not matches(LABEL, name, 63):
            yield field, f"{what} name {name} is not {LABEL_RULE}"
        elif name in seen:
            yield field, f"{what} name {name} is used twice in the pod"
        seen.add(str(name))


def pod_spec_problems(pod: dict[str, Any], field: str) -> Iterator[Found]:
    containers = [
        (f"{field}.{group}[{index}]", container)
        for group in CONTAINER_LISTS
        for index, container in enumerate(listed(pod.get(group)))
        if isinstance(container, dict)
    ]
    yield from _unique_names([(f"{where}.name", c.get("name")) for where, c in containers], "container")
    for where, container in containers:
        yield from container_port_problems(container, where)
    volumes = [v for v in listed(pod.get("volumes")) if isinstance(v, dict)]
    yield from _unique_names(
        [(f"{field}.volumes[{index}].name", v.get("name")) for index, v in enumerate(volumes)], "volume"
    )
    volume_names = {v.get("name") for v in volumes}
    yield from resources_problems(pod.get("resources"), f"{field}.resources")
    for where, container in containers:
        yield from resources_problems(container.get("resources"), f"{where}.resources")
        mount_paths: set[Any] = set()
        for index, mount in enumerate(listed(container.get("volumeMounts"))):
            if not isinstance(mount, dict):
                continue
            if mount.get("name") not in volume_names:
                yield (
                    f"{where}.volumeMounts[{index}].name",
                    f"the pod has no volume {shown(mount.get('name'))}",
                )
            if mount.get("mountPath") in mount_paths:
                yield f"{where}.volumeMounts[{index}].mountPath", f"{mount.get('mountPath')} is mounted twice"
            mount_paths.add(mount.get("mountPath"))
        for index, device in enumerate(listed(container.get("volumeDevices"))):
            if isinstance(device, dict) and device.get("name") not in volume_names:
                yield (
                    f"{where}.volumeDevices[{index}].name",
                    f"the pod has no volume {shown(device.get('name'))}",
                )


def hpa_problems(spec: dict[str, Any]) -> Iterator[Found]:
    # Non-integers are left to the schema check, which names them already.
    low, high = spec.get("minReplicas"), spec.get("maxReplicas")
    low = 1 if low is None else low
    low_ok = isinstance(low, int) and not isinstance(low, bool)
    if low_ok and low < 1:
        yield "spec.minReplicas", f"{low} is less than 1"
    if isinstance(high, int) and not isinstance(high, bool):
        if high < 1:
            yield "spec.maxReplicas", f"{high} is less than 1"
        elif low_ok and high < low:
            yield "spec.maxReplicas", f"{high} is less than minReplicas {low}"


def _builtin(obj: dict[str, Any]) -> bool:
    """Kinds the API server validates beneath their metadata (custom resources: only metadata)."""
    group = str(obj.get("apiVersion", "")).rpartition("/")[0]
    return not group or "." not in group or group.endswith(".k8s.io")


def object_problems(obj: dict[str, Any]) -> list[Found]:
    kind, metadata, spec = str(obj.get("kind", "?")), mapping(obj.get("metadata")), mapping(obj.get("spec"))
    found: list[Found] = []
    if "name" in metadata and (reason := name_problem(kind, metadata["name"])):
        found.append(("metadata.name", reason))
    namespace = metadata.get("namespace")
    if namespace is not None and (reason := name_problem("Namespace", namespace)):
        found.append(("metadata.namespace", reason))
    found += metadata_problems(metadata, "metadata")
    if not _builtin(obj):
        return found
    found += selector_problems(spec, "spec")
    if kind in ("Service", "ReplicationController"):
        found += label_problems(spec.get("selector"), "spec.selector")
    if kind == "Service":
        found += service_port_problems(spec)
    elif kind == "Ingress":
        found += ingress_problems(obj)
    found += selector_mismatch(obj)
    if template := pod_template(obj):
        field, pod = template
        found += pod_spec_problems(mapping(pod.get("spec")), f"{field}spec")
    if kind == "HorizontalPodAutoscaler":
        found += hpa_problems(spec)
    elif kind == "ResourceQuota":
        found += resource_quota_problems(obj)
    elif kind == "LimitRange":
        found += limit_range_problems(obj)
    return found


def _selects(selector: dict[str, Any], labels: Any) -> bool:
    return isinstance(labels, dict) and all(labels.get(key) == value for key, value in selector.items())


def unselecting_services(objects: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Services whose selector matches no pod template of the same overlay: they get no endpoints."""
    pod_labels = []
    for obj in objects:
        if template := pod_template(obj):
            pod_labels.append(mapping(template[1].get("metadata")).get("labels"))
    for obj in objects:
        spec = mapping(obj.get("spec"))
        selector = spec.get("selector")
        if obj.get("kind") != "Service" or spec.get("type") == "ExternalName":
            continue
        if (
            isinstance(selector, dict)
            and selector
            and not any(_selects(selector, labels) for labels in pod_labels)
        ):
            yield obj


def api_problems(overlay: Overlay, objects: list[dict[str, Any]]) -> list[Problem]:
    """Problems, `<overlay>: <Kind>/<name>: <field>: <reason>`, that the API server would refuse."""
    problems: list[Problem] = []
    objects = [obj for obj in objects if isinstance(obj, dict)]
    for obj in objects:
        where = f"{overlay.path}: {obj.get('kind', '?')}/{mapping(obj.get('metadata')).get('name', '?')}"
        problems += [Problem(where, f"{field}: {reason}") for field, reason in object_problems(obj)]
    for service in unselecting_services(objects):
        where = f"{overlay.path}: Service/{mapping(service.get('metadata')).get('name', '?')}"
        problems.append(
            Problem(where, "spec.selector: selects no pod of this overlay (a Service with no endpoints)")
        )
    return problems
