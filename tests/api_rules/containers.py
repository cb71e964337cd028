"""Containers of a pod template: ports, env, volume mounts, resources and probes."""

from __future__ import annotations

import decimal

from .fields import Obj, list_field, map_field, maps_in, str_field
from .images import image_reference_problem
from .names import (
    dns1123_label_problem,
    env_from_name_problem,
    env_var_name_problem,
    name_problems,
    port_name_problem,
)
from .ports import port_number_problem, port_or_name_problem, protocol_problem
from .quantities import quantity_problem
from .resources import (
    container_resource_name_problem,
    fractional_byte_problems,
    overcommit_allowed,
    quantity_value_problems,
)
from .scalars import type_problem

_PROBES = ("livenessProbe", "readinessProbe", "startupProbe")


def _container_ports_problems(container: Obj, path: str) -> tuple[list[str], set[str]]:
    """validateContainerPorts; returns the declared port names (unique per container, not per pod)."""
    out: list[str] = []
    names: set[str] = set()
    for port_path, port in maps_in(list_field(container, "ports", path, out), f"{path}.ports", out):
        name = str_field(port, "name", port_path, out)
        if name:
            if problem := port_name_problem(name):
                out.append(f"{port_path}.name: {problem}")
            elif name in names:
                out.append(f"{port_path}.name: duplicate port name {name!r} in this container")
            names.add(name)
        if problem := port_number_problem(port.get("containerPort"), f"{port_path}.containerPort"):
            out.append(problem)
        if port.get("hostPort") not in (None, 0) and (
            problem := port_number_problem(port.get("hostPort"), f"{port_path}.hostPort")
        ):
            out.append(problem)
        if problem := protocol_problem(port, port_path):
            out.append(problem)
    return out, names


def _env_problems(container: Obj, path: str) -> list[str]:
    out: list[str] = []
    for var_path, var in maps_in(list_field(container, "env", path, out), f"{path}.env", out):
        out.extend(name_problems(var.get("name"), f"{var_path}.name", env_var_name_problem))
        str_field(var, "value", var_path, out)  # `value: true` cannot decode into a Go string
    for source_path, source in maps_in(list_field(container, "envFrom", path, out), f"{path}.envFrom", out):
        prefix = str_field(source, "prefix", source_path, out)
        if prefix and (problem := env_var_name_problem(prefix)):
            out.append(f"{source_path}.prefix: {problem}")
        refs = [key for key in ("configMapRef", "secretRef") if source.get(key) is not None]
        if len(refs) != 1:
            out.append(f"{source_path}: must set exactly one of configMapRef, secretRef")
        for key in refs:
            ref = map_field(source, key, source_path, out)
            out.extend(name_problems(ref.get("name"), f"{source_path}.{key}.name", env_from_name_problem))
    return out


def _mounts_problems(container: Obj, path: str, volumes: set[str]) -> list[str]:
    out: list[str] = []
    mount_paths: set[str] = set()
    for mount_path, mount in maps_in(
        list_field(container, "volumeMounts", path, out), f"{path}.volumeMounts", out
    ):
        name = mount.get("name")
        if not isinstance(name, str) or not name:
            out.extend(name_problems(name, f"{mount_path}.name", dns1123_label_problem))
        elif name not in volumes:
            out.append(f"{mount_path}.name: {name!r} is not a volume of this pod")
        target = str_field(mount, "mountPath", mount_path, out)
        if not target:
            if target == "" or "mountPath" not in mount:
                out.append(f"{mount_path}.mountPath: is required")
        elif target in mount_paths:
            out.append(f"{mount_path}.mountPath: {target!r} is mounted twice in this container")
        elif not target.startswith("/"):
            # The API server lets it through; the container runtime refuses a relative mount point.
            out.append(f"{mount_path}.mountPath: {target!r} must be an absolute path")
        if target:
            mount_paths.add(target)
    return out


def _resource_list(requirements: Obj, key: str, path: str, out: list[str]) -> dict[str, decimal.Decimal]:
    """Parse requests or limits, reporting bad names, bad quantities and negative or fractional counts."""
    values: dict[str, decimal.Decimal] = {}
    for resource, raw in map_field(requirements, key, path, out).items():
        item_path = f"{path}.{key}[{resource}]"
        if not isinstance(resource, str):
            out.append(type_problem(f"{path}.{key} key", resource, "a resource name"))
            continue
        if problem := container_resource_name_problem(resource):
            out.append(f"{item_path}: {problem}")
        amount, problem = quantity_problem(raw, item_path)
        if amount is None:
            out.append(problem)
            continue
        out.extend(quantity_value_problems(resource, amount, item_path, raw))
        out.extend(fractional_byte_problems(resource, amount, item_path, raw))
        values[resource] = amount
    return values


def _resources_problems(container: Obj, path: str) -> list[str]:
    out: list[str] = []
    requirements = map_field(container, "resources", path, out)
    res_path = f"{path}.resources"
    limits = _resource_list(requirements, "limits", res_path, out)
    requests = _resource_list(requirements, "requests", res_path, out)
    for resource, requested in requests.items():
        limit = limits.get(resource)
        if limit is None:
            if not overcommit_allowed(resource):
                out.append(f"{res_path}.limits[{resource}]: must be set for a non-overcommitable resource")
        elif not overcommit_allowed(resource) and requested != limit:
            out.append(f"{res_path}.requests[{resource}]: must equal the limit {limit} (not overcommitable)")
        elif requested > limit:
            out.append(f"{res_path}.requests[{resource}]: {requested} is more than the limit {limit}")
    return out


def _probe_problems(container: Obj, path: str, port_names: set[str]) -> list[str]:
    out: list[str] = []
    for probe_key in _PROBES:
        probe = map_field(container, probe_key, path, out)
        for action in ("httpGet", "tcpSocket"):
            handler = map_field(probe, action, f"{path}.{probe_key}", out)
            if not handler:
                continue
            port_path = f"{path}.{probe_key}.{action}.port"
            port = handler.get("port")
            if problem := port_or_name_problem(port, port_path):
                out.append(problem)
            elif isinstance(port, str) and port not in port_names:
                # The API server accepts it; the kubelet then fails every probe on the missing port.
                out.append(f"{port_path}: {port!r} is not a port name this container declares")
    return out


def container_problems(container: Obj, path: str, volumes: set[str]) -> list[str]:
    out = name_problems(container.get("name"), f"{path}.name", dns1123_label_problem)
    image = container.get("image")
    if problem := image_reference_problem(image):
        out.append(f"{path}.image: {problem}")
    ports_problems, port_names = _container_ports_problems(container, path)
    out.extend(ports_problems)
    out.extend(_env_problems(container, path))
    out.extend(_mounts_problems(container, path, volumes))
    out.extend(_resources_problems(container, path))
    out.extend(_probe_problems(container, path, port_names))
    return out
