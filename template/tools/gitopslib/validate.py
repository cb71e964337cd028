"""`tools/gitops validate`: build every overlay, validate every object, check the invariants."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .api_checks import api_problems
from .argocd_checks import PLATFORM_DIR, argocd_problems, coverage_problems
from .argocd_objects import read_argo_objects
from .changes import affected_overlays
from .kustomize import build_overlays, build_text, kustomize_command, overlay_namespace
from .overlay_checks import built_object_problems, kustomization_files, kustomization_problems
from .problems import Problem
from .promotion_checks import history_problems
from .repo import Repo
from .schemas import schema_problems


@dataclass
class ValidationReport:
    problems: list[Problem] = field(default_factory=list)
    overlays: int = 0
    platform: int = 0
    objects: int = 0

    @property
    def summary(self) -> str:
        platform = f", {self.platform} platform kustomizations built" if self.platform else ""
        return (
            f"{self.overlays} overlays built{platform}, {self.objects} objects validated, "
            f"{len(self.problems)} problem{'s' if len(self.problems) != 1 else ''}"
        )


def platform_problems(repo: Repo, directory: Path) -> list[Problem]:
    """A platform kustomization (platform/<name>/) builds and its objects match their schemas."""
    import yaml

    where = repo.relative(directory)
    text, error = build_text(kustomize_command(), directory)
    if error:
        return [Problem(where, f"does not build: {error}")]
    problems = []
    for obj in (doc for doc in yaml.safe_load_all(text) if doc):
        name = f"{obj.get('kind', '?')}/{(obj.get('metadata') or {}).get('name', '?')}"
        problems += [Problem(f"{where}: {name}", reason) for reason in schema_problems(obj)]
    return problems


def validate_repo(repo: Repo, changed_since: str | None = None) -> ValidationReport:
    """Everything, or with `changed_since` only the overlays a change can affect.

    Checks that need no build (kustomization files, Argo CD objects, coverage, history) are
    cheap and always run over the whole repository.
    """
    report = ValidationReport()
    overlays = repo.overlays()
    namespaces = {overlay: overlay_namespace(repo, overlay) for overlay in overlays}
    to_build = overlays if changed_since is None else affected_overlays(repo, overlays, changed_since)
    for path in kustomization_files(repo):
        report.problems += kustomization_problems(repo, path)
    report.problems += coverage_problems(repo, overlays)

    built = build_overlays(repo, to_build)
    for overlay, error in built.errors.items():
        report.problems.append(Problem(overlay.path, f"does not build: {error}"))
    for overlay, objects in built.objects.items():
        report.overlays += 1
        report.problems += built_object_problems(overlay, objects, namespaces[overlay])
        report.problems += api_problems(overlay, objects)
        for obj in objects:
            report.objects += 1
            name = f"{obj.get('kind', '?')}/{(obj.get('metadata') or {}).get('name', '?')}"
            for reason in schema_problems(obj):
                report.problems.append(Problem(f"{overlay.path}: {name}", reason))

    for path in sorted(repo.root.glob(f"{PLATFORM_DIR}/*/kustomization.yaml")):
        report.problems += platform_problems(repo, path.parent)
        report.platform += 1

    argo = read_argo_objects(repo)
    for located in argo.objects:
        report.objects += 1
        for reason in schema_problems(located.obj):
            report.problems.append(Problem(f"{located.path}: {located.kind}/{located.name}", reason))
    report.problems += argocd_problems(repo, argo, namespaces)
    report.problems += history_problems(repo)
    report.problems = sorted(set(report.problems))
    return report
