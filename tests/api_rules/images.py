"""Image references (github.com/distribution/reference, as the kubelet parses them)."""

from __future__ import annotations

import re

from .scalars import describe, show

_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*"
_REMOTE_NAME = rf"{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[(?:[a-fA-F0-9:]+)\])(?::[0-9]+)?"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9A-Fa-f]{32,}"
_REFERENCE_RE = re.compile(rf"((?:{_DOMAIN}/)?{_REMOTE_NAME})(?::({_TAG}))?(?:@({_DIGEST}))?", re.ASCII)
_NAME_RE = re.compile(rf"(?:({_DOMAIN})/)?({_REMOTE_NAME})", re.ASCII)
_DIGEST_LENGTHS = {"sha256": 64, "sha384": 96, "sha512": 128}  # the algorithms go-digest registers


def _split_docker_domain(name: str) -> tuple[str, str]:
    """normalize.go splitDockerDomain: which part is the registry, Docker Hub otherwise."""
    first, slash, rest = name.partition("/")
    if not slash:
        return "docker.io", f"library/{name}"
    if first == "index.docker.io":
        domain, remainder = "docker.io", rest
    elif first == "localhost" or "." in first or ":" in first or first.lower() != first:
        # An upper-case first component cannot be a repository path, so it is read as a host.
        domain, remainder = first, rest
    else:
        domain, remainder = "docker.io", name
    if domain == "docker.io" and "/" not in remainder:
        remainder = f"library/{remainder}"
    return domain, remainder


def _digest_problem(digest: str) -> str:
    algorithm, _, encoded = digest.partition(":")
    if algorithm not in _DIGEST_LENGTHS:
        return f"unsupported digest algorithm {algorithm!r}"
    if len(encoded) != _DIGEST_LENGTHS[algorithm] or not re.fullmatch("[a-f0-9]+", encoded):
        return f"{algorithm} digest must be {_DIGEST_LENGTHS[algorithm]} lowercase hex characters"
    return ""


def image_reference_problem(ref: object) -> str:
    """reference.ParseNormalizedNamed, which the kubelet applies before pulling (else InvalidImageName)."""
    if not isinstance(ref, str):
        return f"expected an image reference string, got {describe(ref)}"
    if not ref:
        return "image is required"
    if re.fullmatch("[a-f0-9]{64}", ref):
        return f"{ref!r}: a bare 64-hex identifier is not a repository name"
    domain, remainder = _split_docker_domain(ref)
    if remainder.split(":", 1)[0].lower() != remainder.split(":", 1)[0]:
        return f"{show(ref)}: repository name must be lowercase"
    match = _REFERENCE_RE.fullmatch(f"{domain}/{remainder}")
    if match is None:
        return f"{show(ref)}: invalid reference format ([registry/]path[:tag][@digest])"
    name_match = _NAME_RE.fullmatch(match.group(1))
    path = name_match.group(2) if name_match else match.group(1)
    if len(path) > 255:
        return f"{show(ref)}: repository name must not be more than 255 characters"
    if match.group(3) and (problem := _digest_problem(match.group(3))):
        return f"{show(ref)}: {problem}"
    return ""
