"""Services: type, ports, selector and externalName."""

from __future__ import annotations

from ..fields import Obj, list_field, map_field, maps_in, one_of, str_field
from ..metadata import labels_problems
from ..names import dns1123_label_problem, dns1123_subdomain_problem, name_problems
from ..ports import port_number_problem, port_or_name_problem, protocol_problem
from ..scalars import show

_SERVICE_TYPES = frozenset({"ClusterIP", "NodePort", "LoadBalancer", "ExternalName"})


def _service_port_problems(port: Obj, path: str, name_required: bool, names: set[str]) -> list[str]:
    out: list[str] = []
    name = str_field(port, "name", path, out)
    if not name:
        if name_required and (name == "" or "name" not in port):
            out.append(f"{path}.name: is required when a Service has more than one port")
    else:
        # A Service port name is a DNS-1123 label (ValidateDNS1123Label), not an IANA_SVC_NAME.
        if problem := dns1123_label_problem(name):
            out.append(f"{path}.name: {problem}")
        if name in names:
            out.append(f"{path}.name: duplicate port name {name!r}")
        names.add(name)
    if problem := port_number_problem(port.get("port"), f"{path}.port"):
        out.append(problem)
    if problem := protocol_problem(port, path):
        out.append(problem)
    target = port.get("targetPort")
    # SetDefaults_Service turns an unset, 0 or "" targetPort into `port`.
    if target not in (None, 0, "") and (problem := port_or_name_problem(target, f"{path}.targetPort")):
        out.append(problem)
    return out


def _service_ports_problems(spec: Obj, out: list[str]) -> None:
    ports = list_field(spec, "ports", "spec", out)
    service_type = spec.get("type", "ClusterIP")
    if not ports and spec.get("clusterIP") != "None" and service_type != "ExternalName":
        out.append("spec.ports: is required unless the Service is headless or ExternalName")
    names: set[str] = set()
    pairs: set[tuple[str, str]] = set()
    for port_path, port in maps_in(ports, "spec.ports", out):
        out.extend(_service_port_problems(port, port_path, len(ports) > 1, names))
        pair = (repr(port.get("protocol", "TCP")), repr(port.get("port")))
        if pair in pairs:
            out.append(f"{port_path}: duplicate port {pair[1]}/{pair[0]}")
        pairs.add(pair)
        if service_type == "ClusterIP" and port.get("nodePort") not in (None, 0):
            out.append(f"{port_path}.nodePort: may not be set when type is ClusterIP")


def service_problems(obj: Obj) -> list[str]:
    out: list[str] = []
    spec = map_field(obj, "spec", "", out)
    service_type = spec.get("type", "ClusterIP")
    if not one_of(service_type, _SERVICE_TYPES):
        out.append(
            f"spec.type: {show(service_type)} is not one of ClusterIP, NodePort, LoadBalancer, ExternalName"
        )
    _service_ports_problems(spec, out)
    out.extend(labels_problems(spec.get("selector"), "spec.selector"))
    if service_type == "ExternalName":
        out.extend(name_problems(spec.get("externalName"), "spec.externalName", dns1123_subdomain_problem))
    return out
