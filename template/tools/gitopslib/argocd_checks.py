"""Cross-file checks of the Argo CD objects against gitops.yaml and the overlays.

Every overlay is deployed by exactly one Application, every environment has an overlay of every
app, Argo CD itself is pinned; least privilege of each Argo CD object is access_checks.py's.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from .access_checks import PLATFORM_DIR, access_problems
from .access_exceptions import Exceptions
from .api_checks import listed, mapping
from .argocd_objects import APPS_DIR, INSTALL_DIR, ArgoObjects
from .errors import BrokenFileError
from .overlay_checks import REMOTE, listed_paths
from .problems import Problem
from .repo import Overlay, Repo, read_yaml

__all__ = ["PLATFORM_DIR", "argocd_problems", "coverage_problems"]

INSTALL_KUSTOMIZATION = f"{INSTALL_DIR}/kustomization.yaml"
PINNED_ARGOCD_URL = re.compile(r"/argoproj/argo-cd/(?:raw/)?(v\d+\.\d+\.\d+)/manifests/")
PINNED_ARGOCD_REF = re.compile(r"[?&]ref=(v\d+\.\d+\.\d+)$")


def install_problems(repo: Repo) -> list[Problem]:
    path = repo.root / INSTALL_KUSTOMIZATION
    if not path.is_file():
        return [Problem(INSTALL_KUSTOMIZATION, "missing: Argo CD must be installed from a pinned release")]
    try:
        data = read_yaml(path, INSTALL_KUSTOMIZATION)
    except BrokenFileError as error:
        return [Problem(error.path, error.reason)]
    wanted = repo.settings.get("argocd_version")
    problems = install_content_problems(repo, mapping(data))
    resources = [str(r) for r in listed(mapping(data).get("resources"))]
    remote = [r for r in resources if "://" in r or "github.com/" in r]
    if not remote:
        problems.append(Problem(INSTALL_KUSTOMIZATION, "no Argo CD release among the resources"))
    for resource in remote:
        match = PINNED_ARGOCD_URL.search(resource) or PINNED_ARGOCD_REF.search(resource)
        if not match:
            problems.append(Problem(INSTALL_KUSTOMIZATION, f"{resource} is not pinned to a release vX.Y.Z"))
        elif match.group(1) != wanted:
            problems.append(
                Problem(INSTALL_KUSTOMIZATION, f"installs {match.group(1)} but gitops.yaml says {wanted}")
            )
    return problems


ARGO_KINDS_OUTSIDE_CHECKS = {"AppProject", "Application", "ApplicationSet"}
# What the install's settings may not say: every user who logs in an admin, no login needed.
RBAC_CONFIG, SETTINGS_CONFIG = "argocd-rbac-cm", "argocd-cm"
SAFE_DEFAULT_ROLES = {"", "role:readonly"}


def install_content_problems(repo: Repo, data: dict[str, Any]) -> list[Problem]:
    """The install's own files (its resources and patches): no Argo CD object, which only
    argocd/apps/ holds to the generated shape, and no setting that opens Argo CD to everyone."""
    texts: list[tuple[str, str | None]] = [
        (f"{INSTALL_DIR}/{entry}", None)
        for _, entry in listed_paths(data)
        if isinstance(entry, str) and not REMOTE.search(entry)
    ]
    texts += [
        (INSTALL_KUSTOMIZATION, patch["patch"])
        for patch in map(mapping, listed(data.get("patches")))
        if isinstance(patch.get("patch"), str)
    ]
    problems = []
    for where, text in texts:
        file = repo.root / where
        if text is None and not file.is_file():
            continue  # a missing file is the kustomization checks' to name
        try:
            documents = yaml.safe_load_all(file.read_text() if text is None else text)
            problems += [
                Problem(where, r) for doc in documents if isinstance(doc, dict) for r in _install_reasons(doc)
            ]
        except (OSError, UnicodeDecodeError, yaml.YAMLError, ValueError) as error:
            problems.append(Problem(where, f"cannot be read: {' '.join(str(error).split())}"))
    return problems


def _install_reasons(doc: dict[str, Any]) -> list[str]:
    kind, name = doc.get("kind"), mapping(doc.get("metadata")).get("name")
    settings = mapping(doc.get("data"))
    if kind in ARGO_KINDS_OUTSIDE_CHECKS:
        return [f"{kind}/{name}: Argo CD objects belong under {APPS_DIR}/, where validate checks them"]
    if kind != "ConfigMap":
        return []
    default = settings.get("policy.default", "")
    if name == RBAC_CONFIG and (not isinstance(default, str) or default.strip() not in SAFE_DEFAULT_ROLES):
        return [
            f"{RBAC_CONFIG}: policy.default {default} gives that role to every user who logs in; "
            "grant roles to groups in policy.csv"
        ]
    if name == SETTINGS_CONFIG and str(settings.get("users.anonymous.enabled")).lower() == "true":
        return [f"{SETTINGS_CONFIG}: users.anonymous.enabled lets anyone in without logging in"]
    return []


def argocd_problems(
    repo: Repo, argo: ArgoObjects, namespaces: dict[Overlay, str | None], exceptions: Exceptions
) -> list[Problem]:
    deployed, problems = access_problems(repo, argo, namespaces, exceptions)
    problems = [*argo.problems, *problems, *install_problems(repo)]
    for overlay in namespaces:
        names = deployed.get(overlay, [])
        if not names:
            problems.append(Problem(overlay.path, f"no Application under {APPS_DIR}/ deploys this overlay"))
        elif len(names) > 1:
            problems.append(Problem(overlay.path, f"deployed by several Applications: {', '.join(names)}"))
    return problems


def coverage_problems(repo: Repo, overlays: list[Overlay]) -> list[Problem]:
    """Every environment of gitops.yaml has an overlay of every app, and nothing else."""
    problems = []
    present = set(overlays)
    for app in repo.apps():
        for env in repo.environments:
            if Overlay(env, app) not in present:
                problems.append(
                    Problem(
                        Overlay(env, app).path,
                        f"missing: app {app} has no overlay for environment {env}",
                    )
                )
    for overlay in overlays:
        if overlay.env not in repo.environments:
            problems.append(Problem(overlay.path, f"environment {overlay.env} is not listed in gitops.yaml"))
    return problems
