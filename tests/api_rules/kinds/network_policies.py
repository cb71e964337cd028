"""NetworkPolicies: pod selector, ports, peers, CIDRs and policy types."""

from __future__ import annotations

import ipaddress

from ..fields import Obj, list_field, map_field, maps_in
from ..names import name_problems, port_name_problem
from ..ports import port_number_problem, protocol_problem
from ..scalars import as_int, show
from ..selectors import selector_problems


def _network_port_problems(port: Obj, path: str) -> list[str]:
    out = [p for p in [protocol_problem(port, path)] if p]
    value, end = port.get("port"), port.get("endPort")
    if value is None:
        return out + ([f"{path}.endPort: may not be set without port"] if end is not None else [])
    if isinstance(value, str):
        out.extend(name_problems(value, f"{path}.port", port_name_problem))
        return out + ([f"{path}.endPort: may not be set when port is a name"] if end is not None else [])
    if problem := port_number_problem(value, f"{path}.port"):
        return [*out, problem]
    if end is not None:
        if problem := port_number_problem(end, f"{path}.endPort"):
            out.append(problem)
        elif (as_int(end) or 0) < (as_int(value) or 0):
            out.append(f"{path}.endPort: {end} must be greater than or equal to port {value}")
    return out


def _network_peer_problems(peer: Obj, path: str) -> list[str]:
    out: list[str] = []
    kinds = [key for key in ("podSelector", "namespaceSelector", "ipBlock") if peer.get(key) is not None]
    if not kinds:
        out.append(f"{path}: must specify a peer (podSelector, namespaceSelector or ipBlock)")
    elif "ipBlock" in kinds and len(kinds) > 1:
        out.append(f"{path}: may not combine ipBlock with another peer")
    for key in ("podSelector", "namespaceSelector"):
        out.extend(selector_problems(peer.get(key), f"{path}.{key}"))
    block = map_field(peer, "ipBlock", path, out)
    if block:
        out.extend(_cidr_problems(block, f"{path}.ipBlock"))
    return out


def _cidr_problems(block: Obj, path: str) -> list[str]:
    out: list[str] = []
    for key, values in (("cidr", [block.get("cidr")]), ("except", list_field(block, "except", path, out))):
        for value in values:
            try:
                ipaddress.ip_network(value if isinstance(value, str) else "", strict=False)
            except ValueError:
                out.append(f"{path}.{key}: {show(value)} is not a CIDR")
    return out


def network_policy_problems(obj: Obj) -> list[str]:
    out: list[str] = []
    spec = map_field(obj, "spec", "", out)
    out.extend(selector_problems(spec.get("podSelector"), "spec.podSelector"))
    for direction, peers_key in (("ingress", "from"), ("egress", "to")):
        for rule_path, rule in maps_in(list_field(spec, direction, "spec", out), f"spec.{direction}", out):
            for port_path, port in maps_in(
                list_field(rule, "ports", rule_path, out), f"{rule_path}.ports", out
            ):
                out.extend(_network_port_problems(port, port_path))
            for peer_path, peer in maps_in(
                list_field(rule, peers_key, rule_path, out), f"{rule_path}.{peers_key}", out
            ):
                out.extend(_network_peer_problems(peer, peer_path))
    for index, policy_type in enumerate(list_field(spec, "policyTypes", "spec", out)):
        if policy_type not in ("Ingress", "Egress"):
            out.append(f"spec.policyTypes[{index}]: {show(policy_type)} is not Ingress or Egress")
    return out
