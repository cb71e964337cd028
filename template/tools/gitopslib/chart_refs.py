"""What names a Helm chart release: the chart's repository, its name and an exact version.

copier.yml's `chart_repo`, `chart_name` and `chart_version` questions (extensions/answer_checks.py
loads this file by path) and `tools/gitops release --chart-version` refuse the same values with
the same words. Standard library only, and no imports from gitopslib, as layout.py.
"""

from __future__ import annotations

import re
from typing import Any

# Helm's chart versions are SemVer 2: an exact one (no range, no leading `v`, which Helm
# accepts but Kustomize's pull and Renovate then spell differently from the chart's index).
SEMVER = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*)(?:\.(?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*))*))?"
    r"(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$",
    re.ASCII,
)
# What makes a version a range for Helm (Masterminds/semver constraints).
RANGE_MARKS = re.compile(r"[\^~*xX<>=|, ]|^\d+(?:\.\d+)?$", re.ASCII)
# Helm chart names: lowercase letters, digits and '-' (Helm's best practices; also a path
# component of an OCI reference, which is lowercase).
CHART_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", re.ASCII)
# Kept within Helm's release-name limit: charts derive object names from both, and a chart's
# default fullname is `<release>-<chart>` unless they are the same.
MAX_CHART_NAME = 53
_HOST = r"[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*(:[0-9]{1,5})?"
_PATH = r"(/[A-Za-z0-9._~-]+)*"
CHART_REPOSITORY = re.compile(rf"^https://{_HOST}{_PATH}/?$", re.ASCII)
OCI_REGISTRY = re.compile(rf"^oci://{_HOST}{_PATH}$", re.ASCII)


def shown(value: Any) -> str:
    return repr(value) if isinstance(value, str) else f"{value!r} ({type(value).__name__})"


def chart_version_problem(version: Any, question: str = "chart_version") -> str:
    """Why `version` cannot pin a chart (empty when it can): `question` starts the message."""
    if not isinstance(version, str) or not version:
        return f"{question}: must be a non-empty string, got {shown(version)}"
    if SEMVER.fullmatch(version):
        return ""
    if version.startswith("v") and SEMVER.fullmatch(version[1:]):
        return f"{question}: {shown(version)}: write it without the leading v ({version[1:]})"
    if RANGE_MARKS.search(version) or version == "latest":
        return f"{question}: {shown(version)} is a range: pin an exact version such as 1.2.3"
    return f"{question}: {shown(version)} is not a chart version (SemVer, e.g. 1.2.3 or 1.2.3-rc.1)"


def chart_name_problem(name: Any, question: str = "chart_name") -> str:
    if not isinstance(name, str) or not name:
        return f"{question}: must be a non-empty string, got {shown(name)}"
    if len(name) > MAX_CHART_NAME or not CHART_NAME.fullmatch(name):
        return (
            f"{question}: {shown(name)} is not a chart name "
            f"(at most {MAX_CHART_NAME} lowercase letters, digits and '-', starting and ending with one)"
        )
    return ""


def chart_repo_problem(url: Any, question: str = "chart_repo") -> str:
    if not isinstance(url, str) or not url:
        return f"{question}: must be a non-empty string, got {shown(url)}"
    if "@" in url.split("://", 1)[-1].split("/", 1)[0]:
        return f"{question}: {shown(url)} holds credentials: they never go into Git (README: Helm charts)"
    if url.startswith("oci://"):
        if OCI_REGISTRY.fullmatch(url):
            return ""
        return f"{question}: {shown(url)} is not an OCI registry path (oci://host[:port]/path, no trailing /)"
    if CHART_REPOSITORY.fullmatch(url):
        return ""
    if url.startswith("http://"):
        return f"{question}: {shown(url)}: plain http is refused, use https://"
    return f"{question}: {shown(url)} is not a chart repository (https://host/path or oci://host/path)"
