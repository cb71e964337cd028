"""Name grammars (apimachinery pkg/util/validation and pkg/api/validate/content)."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable

from .scalars import glen, show, type_problem

NameRule = Callable[[str], str]


DNS1123_LABEL = r"[a-z0-9](?:[-a-z0-9]*[a-z0-9])?"
_DNS1123_LABEL_RE = re.compile(DNS1123_LABEL)
# Kubernetes limits the whole subdomain to 253 bytes but, unlike RFC 1035, not each part to 63.
_DNS1123_SUBDOMAIN_RE = re.compile(rf"{DNS1123_LABEL}(?:\.{DNS1123_LABEL})*")
_WILDCARD_SUBDOMAIN_RE = re.compile(rf"\*\.{DNS1123_LABEL}(?:\.{DNS1123_LABEL})*")
_DNS1035_LABEL_RE = re.compile(r"[a-z](?:[-a-z0-9]*[a-z0-9])?")
_LABEL_NAME_RE = re.compile(r"[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?")
_PORT_NAME_CHARS_RE = re.compile(r"[-a-z0-9]+")
_CONFIG_KEY_RE = re.compile(r"[-._a-zA-Z0-9]+")


def dns1123_label_problem(value: str) -> str:
    if glen(value) > 63:
        return f"{show(value)} is longer than 63 characters (DNS-1123 label)"
    if not _DNS1123_LABEL_RE.fullmatch(value):
        return f"{show(value)} is not a DNS-1123 label"
    return ""


def dns1123_subdomain_problem(value: str) -> str:
    if glen(value) > 253:
        return f"{show(value)} is longer than 253 characters (DNS-1123 subdomain)"
    if not _DNS1123_SUBDOMAIN_RE.fullmatch(value):
        return f"{show(value)} is not a DNS-1123 subdomain"
    return ""


def dns1035_label_problem(value: str) -> str:
    if glen(value) > 63:
        return f"{show(value)} is longer than 63 characters (DNS-1035 label)"
    if not _DNS1035_LABEL_RE.fullmatch(value):
        return f"{show(value)} is not a DNS-1035 label"
    return ""


def wildcard_subdomain_problem(value: str) -> str:
    if glen(value) > 253:
        return f"{show(value)} is longer than 253 characters (wildcard DNS-1123 subdomain)"
    if not _WILDCARD_SUBDOMAIN_RE.fullmatch(value):
        return f"{show(value)} is not a wildcard DNS-1123 subdomain ('*.' then a subdomain)"
    return ""


def qualified_name_problem(value: str) -> str:
    """A label or annotation key: optional DNS-subdomain prefix and '/', then a <= 63 name."""
    parts = value.split("/")
    if len(parts) > 2:
        return f"{show(value)} is not a qualified name (at most one '/')"
    if len(parts) == 2:
        if not parts[0]:
            return f"{show(value)} has an empty prefix"
        if problem := dns1123_subdomain_problem(parts[0]):
            return f"prefix of {show(value)}: {problem}"
    name = parts[-1]
    if not name:
        return f"{show(value)} has an empty name part"
    if glen(name) > 63:
        return f"name part of {show(value)} is longer than 63 characters"
    if not _LABEL_NAME_RE.fullmatch(name):
        return f"name part of {show(value)} must be alphanumerics, '-', '_', '.', alphanumeric at both ends"
    return ""


def label_value_problem(value: str) -> str:
    if glen(value) > 63:
        return f"label value {show(value)} is longer than 63 characters"
    if value and not _LABEL_NAME_RE.fullmatch(value):
        return f"label value {show(value)} must be alphanumerics, '-', '_', '.', alphanumeric at both ends"
    return ""


def port_name_problem(value: str) -> str:
    """IANA_SVC_NAME: what a container port name, and a port referred to by name, must be."""
    if glen(value) > 15:
        return f"port name {show(value)} is longer than 15 characters (IANA_SVC_NAME)"
    if not _PORT_NAME_CHARS_RE.fullmatch(value):
        return f"port name {show(value)} may only contain a-z, 0-9 and '-' (IANA_SVC_NAME)"
    if not re.search("[a-z]", value):
        return f"port name {show(value)} must contain at least one letter (IANA_SVC_NAME)"
    if "--" in value or value.startswith("-") or value.endswith("-"):
        return f"port name {show(value)} may not begin or end with '-' nor contain '--' (IANA_SVC_NAME)"
    return ""


def env_var_name_problem(value: str) -> str:
    """RelaxedEnvironmentVariableValidation (GA): any printable ASCII except '='."""
    if not value:
        return "environment variable name may not be empty"
    if any(not " " <= char <= "~" or char == "=" for char in value):
        return f"environment variable name {show(value)} must be printable ASCII without '='"
    return ""


def path_segment_problem(value: str) -> str:
    """RBAC names and HPA scaleTargetRef: anything that is a URL path segment."""
    if value in (".", ".."):
        return f"{value!r} may not be '.' or '..'"
    if "/" in value or "%" in value:
        return f"{show(value)} may not contain '/' or '%'"
    return ""


def config_key_problem(value: str) -> str:
    if glen(value) > 253:
        return f"key {show(value)} is longer than 253 characters"
    if not _CONFIG_KEY_RE.fullmatch(value):
        return f"key {show(value)} may only contain alphanumerics, '-', '_' or '.'"
    if value.startswith(".."):
        return f"key {show(value)} may not be '.' or start with '..'"
    if value == ".":
        return "key '.' is not allowed"
    return ""


def env_from_name_problem(value: str) -> str:
    """NameIsDNSSubdomain(name, prefix=true), as envFrom references are checked: a trailing '-' passes.

    apimachinery's maskTrailingDash replaces the last *two* characters with 'a'; copied as is.
    """
    masked = value[:-2] + "a" if len(value) > 1 and value.endswith("-") else value
    return f"{show(value)} is not a DNS-1123 subdomain" if dns1123_subdomain_problem(masked) else ""


def name_problems(value: object, path: str, rule: NameRule, *, required: bool = True) -> list[str]:
    if value is None and not required:
        return []
    if not isinstance(value, str):
        return [type_problem(path, value, "a string")]
    if not value:
        return [f"{path}: is required"] if required else []
    problem = rule(value)
    return [f"{path}: {problem}"] if problem else []


def looks_like_ip(host: str) -> bool:
    """netutils.ParseIPSloppy: IPv6, or dotted IPv4 whose parts may carry leading zeros."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        parts = host.split(".")
        return len(parts) == 4 and all(re.fullmatch("[0-9]{1,3}", p) and int(p) <= 255 for p in parts)
    return True
