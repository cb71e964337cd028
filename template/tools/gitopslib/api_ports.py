"""Ports and workload selectors as the API server validates them, beyond what the schemas say.

The OpenAPI schemas type a port as an int32 and a selector as a mapping: 70000, 0 and a
Deployment whose selector does not match its own pod template all pass them, and the API server
refuses each at sync ("must be between 1 and 65535, inclusive", "`selector` does not match
template `labels`").
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from .quantities import Found

LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
# IANA_SVC_NAME: what a container port's name, or a port referred to by name, must be.
SERVICE_NAME = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
SERVICE_NAME_RULE = (
    "an IANA service name: at most 15 lowercase letters, digits and '-', with a letter, no '--'"
)
PROBES = ("livenessProbe", "readinessProbe", "startupProbe")
PROBE_PORTS = ("httpGet", "tcpSocket", "grpc")
# Kinds whose spec.selector the API server requires to match spec.template.metadata.labels.
SELECTING_KINDS = {"Deployment", "ReplicaSet", "StatefulSet", "DaemonSet"}


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _number(value: Any) -> int | None:
    """An int port (not a bool); other types are the schema check's to name."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def port_number_reason(value: Any, zero_means_unset: bool = False) -> str:
    number = _number(value)
    if number is None or (zero_means_unset and number == 0) or 1 <= number <= 65535:
        return ""
    return f"{number} is not a port number between 1 and 65535"


def port_name_reason(name: Any) -> str:
    if not isinstance(name, str):
        return ""
    valid = (
        len(name) <= 15
        and SERVICE_NAME.fullmatch(name) is not None
        and "--" not in name
        and any(c.isalpha() for c in name)
    )
    return "" if valid else f"port name {name} is not {SERVICE_NAME_RULE}"


def int_or_name_reason(value: Any, zero_means_unset: bool = False) -> str:
    """A port given as a number or by its name (targetPort, a probe's port)."""
    if isinstance(value, str):
        return port_name_reason(value)
    return port_number_reason(value, zero_means_unset)


def container_port_problems(container: dict[str, Any], where: str) -> Iterator[Found]:
    for index, port in enumerate(_listed(container.get("ports"))):
        port = _mapping(port)
        field = f"{where}.ports[{index}]"
        if reason := port_number_reason(port.get("containerPort")):
            yield f"{field}.containerPort", reason
        if reason := port_number_reason(port.get("hostPort"), zero_means_unset=True):
            yield f"{field}.hostPort", reason
        if reason := port_name_reason(port.get("name")):
            yield f"{field}.name", reason
    for probe in PROBES:
        for handler in PROBE_PORTS:
            port = _mapping(_mapping(container.get(probe)).get(handler)).get("port")
            field = f"{where}.{probe}.{handler}.port"
            reason = port_number_reason(port) if handler == "grpc" else int_or_name_reason(port)
            if reason:
                yield field, reason


def service_port_problems(spec: dict[str, Any]) -> Iterator[Found]:
    ports = [_mapping(port) for port in _listed(spec.get("ports"))]
    names: set[Any] = set()
    for index, port in enumerate(ports):
        field = f"spec.ports[{index}]"
        if reason := port_number_reason(port.get("port")):
            yield f"{field}.port", reason
        if reason := int_or_name_reason(port.get("targetPort"), zero_means_unset=True):
            yield f"{field}.targetPort", reason
        if reason := port_number_reason(port.get("nodePort"), zero_means_unset=True):
            yield f"{field}.nodePort", reason
        name = port.get("name")
        if len(ports) > 1 and not name:
            yield f"{field}.name", "a Service with more than one port names each of them"
        elif isinstance(name, str) and name and (len(name) > 63 or not LABEL.fullmatch(name)):
            yield f"{field}.name", f"{name} is not a DNS-1123 label"
        elif name in names:
            yield f"{field}.name", f"{name} names two ports"
        names.add(name)


def _requirement_holds(requirement: dict[str, Any], labels: dict[str, Any]) -> bool:
    key, operator = requirement.get("key"), requirement.get("operator")
    values = _listed(requirement.get("values"))
    if operator == "In":
        return key in labels and labels[key] in values
    if operator == "NotIn":
        return key not in labels or labels[key] not in values
    if operator == "Exists":
        return key in labels
    if operator == "DoesNotExist":
        return key not in labels
    return True  # an unknown operator is the schema's (and the server's) own refusal


def selector_mismatch(obj: dict[str, Any]) -> Iterator[Found]:
    """A workload whose selector does not select its own pod template: the API server refuses it."""
    if obj.get("kind") not in SELECTING_KINDS:
        return
    spec = _mapping(obj.get("spec"))
    selector = spec.get("selector")
    labels = _mapping(_mapping(_mapping(spec.get("template")).get("metadata")).get("labels"))
    if not isinstance(selector, dict):
        return
    match_labels = _mapping(selector.get("matchLabels"))
    expressions = [_mapping(e) for e in _listed(selector.get("matchExpressions"))]
    if not match_labels and not expressions:
        yield "spec.selector", "is empty: it would select every pod of the namespace"
        return
    if any(labels.get(key) != value for key, value in match_labels.items()) or not all(
        _requirement_holds(requirement, labels) for requirement in expressions
    ):
        yield "spec.selector", "does not match the pod template's labels (spec.template.metadata.labels)"
