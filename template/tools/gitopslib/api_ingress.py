"""Ingress hosts and paths as the API server validates them (networking.k8s.io/v1), beyond the
schema: a host is a DNS name (a leading `*.` allowed), never an IP address, and a Prefix or Exact
path is absolute. The answers check the hosts they generate; these are the hand-written ones.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from .quantities import Found

LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
SUBDOMAIN = re.compile(rf"{LABEL}(\.{LABEL})*")
# Kubernetes reads leading zeros in an IPv4 address (netutils.ParseIPSloppy): 010.1.1.1 is one.
IPV4 = re.compile(r"\d+(\.\d+){3}")


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def host_reason(host: Any) -> str:
    if not isinstance(host, str) or not host:
        return ""  # a missing host is every host: workload_access names that
    if IPV4.fullmatch(host) and all(int(part) <= 255 for part in host.split(".")):
        return f"{host} is an IP address: an Ingress host must be a DNS name"
    name = host[2:] if host.startswith("*.") else host
    if len(host) > 253 or not SUBDOMAIN.fullmatch(name):
        return (
            f"{host} is not a DNS name (lowercase, at most 253 characters; a wildcard only as a leading *.)"
        )
    return ""


def ingress_problems(obj: dict[str, Any]) -> Iterator[Found]:
    spec = _mapping(obj.get("spec"))
    for index, rule in enumerate(_listed(spec.get("rules"))):
        rule = _mapping(rule)
        if reason := host_reason(rule.get("host")):
            yield f"spec.rules[{index}].host", reason
        for number, path in enumerate(_listed(_mapping(rule.get("http")).get("paths"))):
            path = _mapping(path)
            text = path.get("path")
            if (
                path.get("pathType") in ("Prefix", "Exact")
                and isinstance(text, str)
                and not text.startswith("/")
            ):
                yield f"spec.rules[{index}].http.paths[{number}].path", f"{text} must be an absolute path"
    for index, tls in enumerate(_listed(spec.get("tls"))):
        for number, host in enumerate(_listed(_mapping(tls).get("hosts"))):
            if reason := host_reason(host):
                yield f"spec.tls[{index}].hosts[{number}]", reason
