"""Ingresses: class, hosts, paths, backends and TLS."""

from __future__ import annotations

from ..fields import Obj, list_field, map_field, maps_in, str_field
from ..names import (
    dns1035_label_problem,
    dns1123_subdomain_problem,
    looks_like_ip,
    name_problems,
    port_name_problem,
    wildcard_subdomain_problem,
)
from ..ports import port_number_problem
from ..scalars import show, type_problem


def _host_problem(host: object, path: str, *, ip_allowed: bool = False) -> str:
    """Ingress rule and TLS hosts: a DNS name, optionally '*.'-prefixed; a rule's host never an IP
    address (validateIngressRules), a TLS host may look like one (validateIngressTLS checks only the
    subdomain grammar: the API server accepted '1.2.3.4')."""
    if not isinstance(host, str):
        return type_problem(path, host, "a host name")
    if not host:
        return ""
    if not ip_allowed and looks_like_ip(host):
        return f"{path}: {host!r} must be a DNS name, not an IP address"
    problem = wildcard_subdomain_problem(host) if "*" in host else dns1123_subdomain_problem(host)
    return f"{path}: {problem}" if problem else ""


def _ingress_backend_problems(backend: Obj, path: str) -> list[str]:
    out: list[str] = []
    service = map_field(backend, "service", path, out)
    if backend.get("resource") is not None:
        return out + ([f"{path}: cannot set both resource and service backends"] if service else [])
    if not service:
        return [*out, f"{path}: a service (or resource) backend is required"]
    # DNS-1035 for clusters before RelaxedServiceNameValidation, like Service names themselves.
    out.extend(name_problems(service.get("name"), f"{path}.service.name", dns1035_label_problem))
    port = map_field(service, "port", f"{path}.service", out)
    has_name, has_number = port.get("name") not in (None, ""), port.get("number") not in (None, 0)
    if has_name and has_number:
        out.append(f"{path}.service.port: cannot set both name and number")
    elif has_name:
        out.extend(name_problems(port.get("name"), f"{path}.service.port.name", port_name_problem))
    elif has_number:
        out.extend(p for p in [port_number_problem(port["number"], f"{path}.service.port.number")] if p)
    else:
        out.append(f"{path}.service.port: a port name or number is required")
    return out


def _ingress_path_problems(item: Obj, path: str) -> list[str]:
    out: list[str] = []
    path_type = item.get("pathType")
    value = str_field(item, "path", path, out) or ""
    if path_type is None:
        out.append(f"{path}.pathType: is required")
    elif path_type in ("Exact", "Prefix"):
        if not value.startswith("/"):
            out.append(f"{path}.path: {value!r} must be an absolute path")
        bad = [seq for seq in ("//", "/./", "/../", "%2f", "%2F") if seq in value]
        bad += [end for end in ("/..", "/.") if value.endswith(end)]
        out.extend(f"{path}.path: {value!r} must not contain or end with {seq!r}" for seq in bad)
    elif path_type == "ImplementationSpecific":
        if value and not value.startswith("/"):
            out.append(f"{path}.path: {value!r} must be an absolute path")
    else:
        out.append(f"{path}.pathType: {show(path_type)} is not one of Exact, Prefix, ImplementationSpecific")
    out.extend(_ingress_backend_problems(map_field(item, "backend", path, out), f"{path}.backend"))
    return out


def _ingress_rules_problems(spec: Obj, out: list[str]) -> None:
    for rule_path, rule in maps_in(list_field(spec, "rules", "spec", out), "spec.rules", out):
        if "host" in rule and (problem := _host_problem(rule["host"], f"{rule_path}.host")):
            out.append(problem)
        http = map_field(rule, "http", rule_path, out)
        paths = list_field(http, "paths", f"{rule_path}.http", out)
        if "http" in rule and not paths:
            out.append(f"{rule_path}.http.paths: at least one path is required")
        for item_path, item in maps_in(paths, f"{rule_path}.http.paths", out):
            out.extend(_ingress_path_problems(item, item_path))


def ingress_problems(obj: Obj) -> list[str]:
    out: list[str] = []
    spec = map_field(obj, "spec", "", out)
    out.extend(
        name_problems(
            spec.get("ingressClassName"), "spec.ingressClassName", dns1123_subdomain_problem, required=False
        )
    )
    if not spec.get("rules") and spec.get("defaultBackend") is None:
        out.append("spec: either defaultBackend or rules must be specified")
    if spec.get("defaultBackend") is not None:
        out.extend(
            _ingress_backend_problems(map_field(spec, "defaultBackend", "spec", out), "spec.defaultBackend")
        )
    _ingress_rules_problems(spec, out)
    for tls_path, tls in maps_in(list_field(spec, "tls", "spec", out), "spec.tls", out):
        for index, host in enumerate(list_field(tls, "hosts", tls_path, out)):
            if problem := _host_problem(host, f"{tls_path}.hosts[{index}]", ip_allowed=True):
                out.append(problem)
        out.extend(
            name_problems(
                tls.get("secretName"), f"{tls_path}.secretName", dns1123_subdomain_problem, required=False
            )
        )
    return out
