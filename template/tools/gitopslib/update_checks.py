"""validate narrowed to one app's update, reading only that app's files.

An update runs this once per app: reading the whole repository each time (every Argo CD file,
every overlay's namespace, every answers file) made an update of N apps cost N x the repository,
quadratic in apps (3.2 of an app's 8.5 s at 200 apps, against 0.7 at 10). Everything here is
looked up from the app's own folders; a lookup they cannot answer (an Application naming a
project defined elsewhere, or another app's overlay) falls back to the whole repository, so the
result is the one the whole-repository reading gives.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

from .access_checks import (
    app_application_reasons,
    app_project_reasons,
    expected_server,
    project_name,
    spec_of,
    where,
)
from .access_exceptions import read_exceptions
from .api_checks import api_problems, mapping
from .argocd_objects import APPS_DIR, ArgoObjects, read_argo_objects
from .changes import affected_overlays
from .kustomize import build_overlays, overlay_namespace
from .layout import KUSTOMIZATION, base_dir, overlay_dir
from .overlay_checks import built_object_problems, kustomization_problems
from .problems import Problem
from .repo import Overlay, Repo, load_repo
from .schemas import schema_problems
from .workload_access import workload_access_problems


class OverlayNamespaces(Mapping[Overlay, "str | None"]):
    """Every overlay of the repository and its namespace, read on first use: the checks of one
    app look up its own overlays, and another's only when an Application points there."""

    def __init__(self, repo: Repo) -> None:
        self._repo = repo
        self._read: dict[Overlay, str | None] = {}

    def __contains__(self, overlay: object) -> bool:
        if not isinstance(overlay, Overlay) or {overlay.env, overlay.app} & {"", ".", ".."}:
            return False
        if "/" in overlay.env + overlay.app:
            return False
        return (self._repo.root / overlay.path / KUSTOMIZATION).is_file()

    def __getitem__(self, overlay: Overlay) -> str | None:
        if overlay not in self._read:
            if overlay not in self:
                raise KeyError(overlay)
            self._read[overlay] = overlay_namespace(self._repo, overlay)
        return self._read[overlay]

    def __iter__(self) -> Iterator[Overlay]:
        return iter(self._repo.overlays())

    def __len__(self) -> int:
        return len(self._repo.overlays())


def app_overlays(repo: Repo, app: str) -> list[Overlay]:
    found = repo.root.glob(f"{overlay_dir('*', app)}/{KUSTOMIZATION}")
    return sorted(Overlay(env=path.parent.parent.name, app=app) for path in found)


def app_kustomization_files(repo: Repo, app: str, overlays: list[Overlay]) -> list[Path]:
    files: list[Path] = []
    for folder in (base_dir(app), *(overlay.path for overlay in overlays)):
        files += sorted((repo.root / folder).rglob(KUSTOMIZATION))
    return files


def app_argo_objects(repo: Repo, app: str, overlays: list[Overlay]) -> ArgoObjects:
    """The Argo CD objects of the app's folder, or of the whole argocd/ when a project the app's
    objects name is not there (it may be defined elsewhere). Unlike validate, a project found here
    is not looked for in the other folders too (one defined twice: validate picks the first)."""
    argo = read_argo_objects(repo, f"{APPS_DIR}/{app}")
    named = {project_name(overlay) for overlay in overlays}
    named |= {str(spec_of(a).get("project", "")) for a in argo.of_kind("Application")}
    if all(argo.project(name) is not None for name in named):
        return argo
    return read_argo_objects(repo)


def app_problems(root: Path, app: str, before: str) -> list[str]:
    """validate, narrowed to one app's update: its kustomization files, the overlays of the app
    that the change since `before` affects (built and checked object by object) and its Argo CD
    Applications. Cross-app invariants (coverage, the install, the root app, promotion history)
    are left out: during a repo-level change they hold only once every app took it."""
    repo = load_repo(root)
    overlays = app_overlays(repo, app)
    namespaces = OverlayNamespaces(repo)
    problems: list[Problem] = []
    for path in app_kustomization_files(repo, app, overlays):
        problems += kustomization_problems(repo, path)
    argo, exceptions = app_argo_objects(repo, app, overlays), read_exceptions(repo)
    built = build_overlays(repo, affected_overlays(repo, overlays, before))
    problems += [Problem(overlay.path, f"does not build: {error}") for overlay, error in built.errors.items()]
    for overlay, objects in built.objects.items():
        problems += built_object_problems(overlay, objects, namespaces[overlay])
        problems += api_problems(overlay, objects)
        project = argo.project(project_name(overlay))
        problems += workload_access_problems(
            overlay, objects, namespaces[overlay], spec_of(project) if project else None, exceptions
        )
        for obj in objects:
            name = f"{obj.get('kind', '?')}/{mapping(obj.get('metadata')).get('name', '?')}"
            problems += [Problem(f"{overlay.path}: {name}", reason) for reason in schema_problems(obj)]
    app_dir = f"{APPS_DIR}/{app}/"
    problems += [problem for problem in argo.problems if problem.path.startswith(app_dir)]
    for located in argo.objects:
        if located.path.startswith(app_dir):
            problems += [Problem(where(located), reason) for reason in schema_problems(located.obj)]
    for application in argo.of_kind("Application", APPS_DIR):
        if application.path.startswith(app_dir) and not exceptions.honours("Application", application.name):
            reasons = app_application_reasons(repo, application, argo, namespaces)[1]
            problems += [Problem(where(application), reason) for reason in reasons]
    for project in argo.of_kind("AppProject", APPS_DIR):
        owner = next((o for o in overlays if project_name(o) == project.name), None)
        if owner is None or not project.path.startswith(app_dir):
            continue
        if not exceptions.honours("AppProject", project.name):
            server, namespace = expected_server(repo, owner.env), str(namespaces[owner])
            reasons = app_project_reasons(repo, spec_of(project), server, namespace)
            problems += [Problem(where(project), reason) for reason in reasons]
    return [str(problem) for problem in sorted(set(problems))]
