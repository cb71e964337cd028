"""Cross-file checks of the Argo CD objects against gitops.yaml and the overlays.

Every overlay is deployed by exactly one Application, every environment has an overlay of every
app, Argo CD itself is pinned; least privilege of each Argo CD object is access_checks.py's.
"""

from __future__ import annotations

import re

from .access_checks import PLATFORM_DIR, access_problems
from .access_exceptions import Exceptions
from .api_checks import listed, mapping
from .argocd_objects import APPS_DIR, INSTALL_DIR, ArgoObjects
from .errors import BrokenFileError
from .install_checks import install_content_problems
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
    problems = install_content_problems(repo, mapping(data), INSTALL_KUSTOMIZATION)
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
