"""Port numbers, IntOrString ports and protocols, as containers, Services and other kinds use them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .fields import one_of
from .names import port_name_problem
from .scalars import as_int, show, type_problem

_PROTOCOLS = frozenset({"TCP", "UDP", "SCTP"})


def port_number_problem(value: object, path: str) -> str:
    number = as_int(value)
    if number is None:
        return type_problem(path, value, "a port number")
    if not 1 <= number <= 65535:
        return f"{path}: {number} is not a port number between 1 and 65535"
    return ""


def port_or_name_problem(value: object, path: str) -> str:
    """IntOrString ports (targetPort, probe ports): a number 1-65535 or an IANA_SVC_NAME."""
    if isinstance(value, str):
        problem = port_name_problem(value)
        return f"{path}: {problem}" if problem else ""
    return port_number_problem(value, path)


def protocol_problem(container: Mapping[str, Any], path: str) -> str:
    protocol = container.get("protocol")
    if protocol is None or one_of(protocol, _PROTOCOLS):
        return ""
    return f"{path}.protocol: {show(protocol)} is not one of TCP, UDP, SCTP"
