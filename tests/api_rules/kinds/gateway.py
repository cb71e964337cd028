"""Gateway API HTTPRoute (CRD schema and CEL rules)."""

from __future__ import annotations

import re

from ..fields import Obj, list_field, map_field, maps_in
from ..names import (
    DNS1123_LABEL,
    dns1035_label_problem,
    dns1123_label_problem,
    dns1123_subdomain_problem,
    looks_like_ip,
    name_problems,
)
from ..ports import port_number_problem
from ..scalars import as_int, glen, show

_GATEWAY_HOSTNAME_RE = re.compile(rf"(?:\*\.)?{DNS1123_LABEL}(?:\.{DNS1123_LABEL})*")


def gateway_hostname_problem(value: str) -> str:
    if not 1 <= glen(value) <= 253:
        return f"hostname {show(value)} must be 1 to 253 characters"
    if not _GATEWAY_HOSTNAME_RE.fullmatch(value):
        return f"hostname {show(value)} is not a DNS name with an optional leading '*.'"
    # The CRD's pattern lets a dotted IPv4 address through; the Gateway API forbids addresses.
    if looks_like_ip(value):
        return f"hostname {value!r} is an IP address, which a route hostname may not be"
    return ""


def _parent_ref_problems(ref: Obj, path: str) -> list[str]:
    out = name_problems(ref.get("name"), f"{path}.name", dns1123_subdomain_problem)
    out.extend(
        name_problems(ref.get("namespace"), f"{path}.namespace", dns1123_label_problem, required=False)
    )
    if ref.get("port") is not None and (problem := port_number_problem(ref["port"], f"{path}.port")):
        out.append(problem)
    out.extend(
        name_problems(
            ref.get("sectionName"), f"{path}.sectionName", dns1123_subdomain_problem, required=False
        )
    )
    return out


def _backend_ref_problems(ref: Obj, path: str) -> list[str]:
    is_service = ref.get("group", "") == "" and ref.get("kind", "Service") == "Service"
    rule = dns1035_label_problem if is_service else dns1123_subdomain_problem
    out = name_problems(ref.get("name"), f"{path}.name", rule)
    out.extend(
        name_problems(ref.get("namespace"), f"{path}.namespace", dns1123_label_problem, required=False)
    )
    if ref.get("port") is not None:
        out.extend(p for p in [port_number_problem(ref["port"], f"{path}.port")] if p)
    elif is_service:
        out.append(f"{path}.port: Must have port for Service reference")
    weight = ref.get("weight")
    number = as_int(weight)
    if weight is not None and (number is None or not 0 <= number <= 1_000_000):
        out.append(f"{path}.weight: {show(weight)} must be an integer from 0 to 1000000")
    return out


def http_route_problems(obj: Obj) -> list[str]:
    out: list[str] = []
    spec = map_field(obj, "spec", "", out)
    hostnames = list_field(spec, "hostnames", "spec", out)
    if len(hostnames) > 16:
        out.append(f"spec.hostnames: {len(hostnames)} hostnames, more than 16")
    for index, host in enumerate(hostnames):
        out.extend(name_problems(host, f"spec.hostnames[{index}]", gateway_hostname_problem))
    for ref_path, ref in maps_in(list_field(spec, "parentRefs", "spec", out), "spec.parentRefs", out):
        out.extend(_parent_ref_problems(ref, ref_path))
    for rule_path, rule in maps_in(list_field(spec, "rules", "spec", out), "spec.rules", out):
        for ref_path, ref in maps_in(
            list_field(rule, "backendRefs", rule_path, out), f"{rule_path}.backendRefs", out
        ):
            out.extend(_backend_ref_problems(ref, ref_path))
    return out
