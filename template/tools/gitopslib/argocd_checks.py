"""Cross-file checks of the Argo CD objects against gitops.yaml and the overlays.

Least privilege: every Application deploys only from this repository, only into its own
overlay's namespace on its own environment's cluster, through an AppProject that allows
exactly that. The root app reaches every Application, and Argo CD itself is pinned.
"""

from __future__ import annotations

import re
from typing import Any

from .api_checks import listed, mapping
from .argocd_objects import APPS_DIR, BOOTSTRAP_DIR, ArgoObjects, Located
from .errors import BrokenFileError
from .problems import Problem
from .repo import Overlay, Repo, read_yaml

IN_CLUSTER_SERVER = "https://kubernetes.default.svc"
MAX_APPLICATION_NAME = 63
INSTALL_KUSTOMIZATION = "argocd/install/kustomization.yaml"
PINNED_ARGOCD_URL = re.compile(r"/argoproj/argo-cd/(?:raw/)?(v\d+\.\d+\.\d+)/manifests/")
PINNED_ARGOCD_REF = re.compile(r"[?&]ref=(v\d+\.\d+\.\d+)$")


def _spec(located: Located) -> dict[str, Any]:
    """The spec, and below it `mapping`/`listed`: a field of the wrong type is the schema
    check's to name, and must not stop the other checks."""
    return mapping(located.obj.get("spec"))


def expected_server(repo: Repo, env: str) -> str:
    clusters = repo.settings.get("clusters") or {}
    return str(clusters.get(env, IN_CLUSTER_SERVER)) if isinstance(clusters, dict) else ""


def project_problems(repo: Repo, project: Located, server: str, namespace: str) -> list[str]:
    spec = _spec(project)
    reasons = []
    if spec.get("sourceRepos") != [repo.repo_url]:
        reasons.append(f"sourceRepos must be exactly [{repo.repo_url}], got {spec.get('sourceRepos')}")
    destinations = spec.get("destinations") or []
    wanted = {"server": server, "namespace": namespace}
    found = [{k: mapping(d).get(k) for k in ("server", "namespace")} for d in listed(destinations)]
    if not isinstance(destinations, list) or found != [wanted]:
        reasons.append(f"destinations must be exactly [{wanted}], got {destinations}")
    for allowed in map(mapping, listed(spec.get("clusterResourceWhitelist"))):
        if (allowed.get("group"), allowed.get("kind"), allowed.get("name")) != ("", "Namespace", namespace):
            reasons.append(f"clusterResourceWhitelist allows more than Namespace {namespace}: {allowed}")
    return reasons


def application_problems(
    repo: Repo, app: Located, argo: ArgoObjects, namespaces: dict[Overlay, str | None]
) -> tuple[Overlay | None, list[Problem]]:
    """Checks one app Application; returns the overlay it deploys."""
    spec = _spec(app)
    source = mapping(spec.get("source"))
    destination = mapping(spec.get("destination"))
    where = f"{app.path}: Application/{app.name}"
    problems: list[Problem] = []
    if len(app.name) > MAX_APPLICATION_NAME:
        problems.append(Problem(where, f"name longer than {MAX_APPLICATION_NAME} characters"))
    if source.get("repoURL") != repo.repo_url:
        problems.append(Problem(where, f"source.repoURL {source.get('repoURL')} is not {repo.repo_url}"))
    path = str(source.get("path", ""))
    parts = path.strip("/").split("/")
    overlay = Overlay(env=parts[1], app=parts[2]) if len(parts) == 3 and parts[0] == "environments" else None
    if overlay is None or overlay not in namespaces:
        problems.append(Problem(where, f"source.path {path} is not an overlay environments/<env>/<app>"))
        return None, problems
    namespace = namespaces[overlay]
    if destination.get("namespace") != namespace:
        problems.append(
            Problem(
                where,
                f"destination.namespace {destination.get('namespace')} differs from "
                f"the namespace of {overlay.path}: {namespace}",
            )
        )
    server = expected_server(repo, overlay.env)
    if destination.get("server") != server:
        problems.append(
            Problem(
                where,
                f"destination.server {destination.get('server')} is not {overlay.env}'s cluster {server}",
            )
        )
    project = argo.project(str(spec.get("project", "")))
    if project is None:
        problems.append(Problem(where, f"AppProject {spec.get('project')} does not exist under {APPS_DIR}/"))
    else:
        for reason in project_problems(repo, project, server, str(namespace)):
            problems.append(Problem(f"{project.path}: AppProject/{project.name}", reason))
    return overlay, problems


PLATFORM_APPS_DIR = "argocd/apps/_platform"
PLATFORM_DIR = "platform"


def platform_application_problems(repo: Repo, app: Located, argo: ArgoObjects) -> list[Problem]:
    """Platform Applications deploy platform/<name>/ from this repository through a project that
    allows only this repository as source."""
    spec = _spec(app)
    source = mapping(spec.get("source"))
    where = f"{app.path}: Application/{app.name}"
    problems = []
    if source.get("repoURL") != repo.repo_url:
        problems.append(Problem(where, f"source.repoURL {source.get('repoURL')} is not {repo.repo_url}"))
    path = str(source.get("path", "")).strip("/")
    if not path.startswith(PLATFORM_DIR + "/") or not (repo.root / path / "kustomization.yaml").is_file():
        problems.append(Problem(where, f"source.path {path} is not a kustomization under {PLATFORM_DIR}/"))
    project = argo.project(str(spec.get("project", "")))
    if project is None:
        problems.append(Problem(where, f"AppProject {spec.get('project')} does not exist under {APPS_DIR}/"))
    elif _spec(project).get("sourceRepos") != [repo.repo_url]:
        problems.append(
            Problem(
                f"{project.path}: AppProject/{project.name}", f"sourceRepos must be exactly [{repo.repo_url}]"
            )
        )
    return problems


def root_problems(repo: Repo, argo: ArgoObjects) -> list[Problem]:
    roots = [
        a for a in argo.of_kind("Application", BOOTSTRAP_DIR)
        if str(mapping(_spec(a).get("source")).get("path", "")).strip("/") == APPS_DIR
    ]  # fmt: skip
    if not roots:
        return [Problem(BOOTSTRAP_DIR, f"no root Application deploys {APPS_DIR}/")]
    problems = []
    for root in roots:
        source = mapping(_spec(root).get("source"))
        where = f"{root.path}: Application/{root.name}"
        if not mapping(source.get("directory")).get("recurse"):
            problems.append(
                Problem(where, "source.directory.recurse must be true to reach every app's files")
            )
        if source.get("repoURL") != repo.repo_url:
            problems.append(Problem(where, f"source.repoURL {source.get('repoURL')} is not {repo.repo_url}"))
    return problems


def install_problems(repo: Repo) -> list[Problem]:
    path = repo.root / INSTALL_KUSTOMIZATION
    if not path.is_file():
        return [Problem(INSTALL_KUSTOMIZATION, "missing: Argo CD must be installed from a pinned release")]
    try:
        data = read_yaml(path, INSTALL_KUSTOMIZATION)
    except BrokenFileError as error:
        return [Problem(error.path, error.reason)]
    wanted = repo.settings.get("argocd_version")
    problems = []
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


def argocd_problems(repo: Repo, argo: ArgoObjects, namespaces: dict[Overlay, str | None]) -> list[Problem]:
    problems = [*argo.problems, *root_problems(repo, argo), *install_problems(repo)]
    deployed: dict[Overlay, list[str]] = {}
    for app in argo.of_kind("Application", APPS_DIR):
        if app.path.startswith(PLATFORM_APPS_DIR + "/"):
            problems += platform_application_problems(repo, app, argo)
            continue
        overlay, found = application_problems(repo, app, argo, namespaces)
        problems += found
        if overlay is not None:
            deployed.setdefault(overlay, []).append(app.name)
    for app in argo.of_kind("Application"):
        if not app.path.startswith((APPS_DIR + "/", BOOTSTRAP_DIR + "/")):
            problems.append(
                Problem(
                    app.path,
                    f"Application/{app.name} is not under {APPS_DIR}/: the root app does not reach it",
                )
            )
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
                        f"environments/{env}/{app}",
                        f"missing: app {app} has no overlay for environment {env}",
                    )
                )
    for overlay in overlays:
        if overlay.env not in repo.environments:
            problems.append(Problem(overlay.path, f"environment {overlay.env} is not listed in gitops.yaml"))
    return problems
