"""`tools/gitops validate`: build every overlay, validate every object, check the invariants."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from . import fast_yaml
from .access_checks import FORBIDDEN, forbidden_namespace, override_file_problems, project_name, spec_of
from .access_exceptions import Exceptions, read_exceptions
from .answered_sync import answered_sync_problems
from .api_checks import api_problems, mapping
from .argocd_checks import PLATFORM_DIR, argocd_problems, coverage_problems
from .argocd_objects import ArgoObjects, read_argo_objects
from .changes import affected_overlays, require_commit
from .ci_provider import ci_provider_problems
from .codeowners_checks import codeowners_problems
from .errors import BrokenFileError, UsageError
from .gitlab_ci_checks import gitlab_ci_problems
from .kustomize import (
    HELM_HINT,
    build_overlays,
    build_text,
    helm_binary,
    kustomize_command,
    overlay_namespace,
)
from .layout import RELEASE_DIRS_GLOB, chart_entries, provenance_file, release_dir_of, release_file
from .overlay_checks import (
    built_object_problems,
    kustomization_files,
    kustomization_problems,
)
from .problems import Problem
from .promotion_checks import history_problems
from .release_images import unmatched_image_reasons
from .repo import Overlay, Repo, parsed_once, read_yaml, yaml_reason
from .schemas import schema_problems
from .secret_checks import secret_problems
from .settings_checks import settings_problems
from .shards import Shard, ShardReport, exceptions_used
from .soak import soak_problems
from .update_leftovers import MARKER, conflict_marker_reasons, repository_files, unfinished_update_reason
from .workflow_checks import workflow_problems
from .workload_access import (
    exposure_problems,
    group_of,
    host_claims,
    shared_host_problems,
    workload_access_problems,
)

PLATFORM_KIND = ("kyverno.io", "ClusterPolicy")


@dataclass
class ValidationReport:
    problems: list[Problem] = field(default_factory=list)
    overlays: int = 0
    platform: int = 0
    objects: int = 0
    exceptions: list[str] = field(default_factory=list)  # honoured, as `Kind/name (reason)`
    shard: ShardReport | None = None  # what `shards merge` needs of this run

    @property
    def summary(self) -> str:
        platform = f", {self.platform} platform kustomizations built" if self.platform else ""
        honoured = (
            f"; exceptions honoured (gitops.yaml): {'; '.join(self.exceptions)}" if self.exceptions else ""
        )
        return (
            f"{self.overlays} overlays built{platform}, {self.objects} objects validated, "
            f"{len(self.problems)} problem{'s' if len(self.problems) != 1 else ''}{honoured}"
        )


def object_name(obj: object) -> str:
    fields = mapping(obj)
    return f"{fields.get('kind', '?')}/{mapping(fields.get('metadata')).get('name', '?')}"


def platform_problems(repo: Repo, directory: Path, exceptions: Exceptions) -> list[Problem]:
    """A platform kustomization (platform/<name>/) builds, its objects match their schemas and
    are Kyverno ClusterPolicies, the only kind the platform project syncs."""
    where = repo.relative(directory)
    text, error = build_text(kustomize_command(), directory)
    if error:
        return [Problem(where, f"does not build: {error}")]
    try:
        objects = [doc for doc in fast_yaml.load_all(text) if doc]
    except yaml.YAMLError as yaml_error:
        return [Problem(where, f"kustomize output is not YAML: {yaml_reason(yaml_error)}")]
    problems = []
    for obj in objects:
        problems += [Problem(f"{where}: {object_name(obj)}", reason) for reason in schema_problems(obj)]
        name = str(mapping(obj.get("metadata")).get("name", "?"))
        if (group_of(obj), obj.get("kind")) != PLATFORM_KIND and not exceptions.honours(
            str(obj.get("kind")), name
        ):
            problems.append(
                Problem(
                    f"{where}: {object_name(obj)}", "the platform project syncs only Kyverno ClusterPolicies"
                )
            )
    return problems


def app_exposure(repo: Repo) -> dict[str, str]:
    """Each app's `exposure` answer, from its answers file (apps without one are left out)."""
    found = {}
    for app in repo.apps():
        path = repo.answers_file(app)
        try:
            answers = read_yaml(path, path.name) if path.is_file() else None
        except BrokenFileError:
            continue  # an answers file that cannot be read is not validate's to name
        if isinstance(answers, dict) and isinstance(answers.get("exposure"), str):
            found[app] = answers["exposure"]
    return found


def provenance_problems(repo: Repo) -> list[Problem]:
    """Every release/provenance.yaml is a YAML mapping (promote writes it, validate reads it)."""
    problems = []
    for path in sorted(repo.root.glob(provenance_file("*", "*"))):
        relative = repo.relative(path)
        try:
            data = read_yaml(path, relative)
        except BrokenFileError as error:
            problems.append(Problem(error.path, error.reason))
            continue
        if not isinstance(data, dict):
            problems.append(Problem(relative, "is not a YAML mapping"))
    return problems


def file_problems(repo: Repo) -> list[Problem]:
    """An update cut short, and kustomization and provenance files that cannot be read or list
    missing files."""
    problems = provenance_problems(repo)
    if unfinished := unfinished_update_reason(repo.root):
        problems.append(Problem(MARKER, unfinished))
    problems += [Problem(path, reason) for path, reason in conflict_marker_reasons(repo.root)]
    for path in kustomization_files(repo):
        problems += kustomization_problems(repo, path)
    return problems


def promotion_problems(repo: Repo, found: list[Problem]) -> list[Problem]:
    """history_problems and soak_problems, which stop with an exception at the first release file,
    in the work tree or in git history, that is not UTF-8, not YAML or not JSON-like
    (promotion_checks.py, soak.py and releases.py do not catch it). A broken file of the work tree
    is already among `found`."""
    try:
        return history_problems(repo) + soak_problems(repo)
    except (yaml.YAMLError, UnicodeDecodeError, TypeError) as error:
        # The release files promotion_checks.py reads (all of each release/) in the work tree.
        if any(release_dir_of(problem.path) for problem in found):
            return []
        reason = yaml_reason(error) if isinstance(error, yaml.YAMLError) else str(error)
        return [
            Problem(
                RELEASE_DIRS_GLOB,
                f"promotion history not checked: a committed release file cannot be read: {reason}",
            )
        ]


def helm_problems(repo: Repo, overlays: list[Overlay]) -> list[Problem]:
    """One line per release that holds a chart when no helm is installed (its build then fails
    with Kustomize's words, which do not say what to install)."""
    if helm_binary() is not None:
        return []
    problems = []
    for overlay in overlays:
        path = release_file(overlay.env, overlay.app)
        try:
            release = read_yaml(repo.root / path, path) if (repo.root / path).is_file() else None
        except BrokenFileError:
            continue  # kustomization_problems names it
        if chart_entries(release):
            problems.append(Problem(path, f"helmCharts needs helm, which is not installed: {HELM_HINT}"))
    return problems


def release_image_problems(repo: Repo, overlay: Overlay, objects: list[dict[str, Any]]) -> list[Problem]:
    path = release_file(overlay.env, overlay.app)
    try:
        release = read_yaml(repo.root / path, path) if (repo.root / path).is_file() else None
    except BrokenFileError:
        return []  # kustomization_problems names it
    return [Problem(path, reason) for reason in unmatched_image_reasons(release, objects)]


def validate_repo(
    repo: Repo, changed_since: str | None = None, shard: Shard | None = None
) -> ValidationReport:
    """Everything; with `changed_since` only the overlays a change can affect; with `shard` its
    share of the overlays (shards.py), the checks that need no build in shard 1 only, and what
    needs every overlay's build left to `shards merge` (in `report.shard`).

    Checks that need no build (kustomization files, Argo CD objects, coverage, history) are
    cheap and run over the whole repository. No check writes a file or changes what it reads:
    each file is parsed once (parsed_once).
    """
    if shard is not None and changed_since is not None:
        raise UsageError(
            "--shard and --changed-since cannot be combined: a shard is a share of every overlay"
        )
    with parsed_once():
        return _validate(repo, changed_since, shard or Shard(1, 1))


def _validate(repo: Repo, changed_since: str | None, shard: Shard) -> ValidationReport:
    report = ValidationReport()
    if changed_since is not None:
        require_commit(repo, changed_since, "--changed-since")
    overlays = repo.overlays()
    namespaces = {overlay: overlay_namespace(repo, overlay) for overlay in overlays}
    to_build = overlays if changed_since is None else affected_overlays(repo, overlays, changed_since)
    to_build = shard.overlays(to_build)
    # Shard 1 (or a whole validate) runs the checks that need no build.
    whole_repository = shard.index == 1
    exceptions = read_exceptions(repo)
    argo = read_argo_objects(repo)
    if whole_repository:
        report.problems += file_problems(repo)
        report.problems += coverage_problems(repo, overlays)
        report.problems += exceptions.problems
        for overlay, namespace in namespaces.items():
            if namespace is not None and forbidden_namespace(namespace):
                report.problems.append(Problem(overlay.path, f"namespace {namespace}: {FORBIDDEN}"))

    report.problems += helm_problems(repo, to_build)
    built = build_overlays(repo, to_build)
    for overlay, error in built.errors.items():
        report.problems.append(Problem(overlay.path, f"does not build: {error}"))
    for overlay, objects in built.objects.items():
        report.overlays += 1
        report.problems += release_image_problems(repo, overlay, objects)
        report.problems += built_object_problems(overlay, objects, namespaces[overlay])
        report.problems += api_problems(overlay, objects)
        project = argo.project(project_name(overlay))
        report.problems += workload_access_problems(
            overlay, objects, namespaces[overlay], spec_of(project) if project else None, exceptions
        )
        for obj in objects:
            report.objects += 1
            for reason in schema_problems(obj):
                report.problems.append(Problem(f"{overlay.path}: {object_name(obj)}", reason))

    claims = host_claims(built.objects, exceptions)
    report.problems += exposure_problems(claims, app_exposure(repo))
    if whole_repository:
        report.problems += _repository_problems(repo, report, argo, namespaces, exceptions)
    if shard.whole:
        report.problems += shared_host_problems(claims)
        if changed_since is None:  # overlays left unbuilt cannot use their exceptions
            report.problems += exceptions.unused_problems()
    report.exceptions = exceptions.honoured()
    report.shard = ShardReport(shard, [o.path for o in to_build], claims, exceptions_used(exceptions))
    report.problems = sorted(set(report.problems))
    return report


def _repository_problems(
    repo: Repo,
    report: ValidationReport,
    argo: ArgoObjects,
    namespaces: dict[Overlay, str | None],
    exceptions: Exceptions,
) -> list[Problem]:
    """The platform kustomizations, the Argo CD objects, the CI files and history: what needs
    no overlay's build (shard 1 of a sharded validate)."""
    problems = []
    for path in sorted(repo.root.glob(f"{PLATFORM_DIR}/*/kustomization.yaml")):
        problems += platform_problems(repo, path.parent, exceptions)
        report.platform += 1
    for located in argo.objects:
        report.objects += 1
        for reason in schema_problems(located.obj):
            problems.append(Problem(f"{located.path}: {located.kind}/{located.name}", reason))
    problems += argocd_problems(repo, argo, namespaces, exceptions)
    problems += answered_sync_problems(repo, argo)
    problems += settings_problems(repo)
    problems += override_file_problems(repository_files(repo.root), repo.root)
    # The CI files and CODEOWNERS of gitops.yaml's ci_provider: each check does nothing for the others.
    problems += ci_provider_problems(repo)
    problems += codeowners_problems(repo)
    problems += secret_problems(repo)
    problems += workflow_problems(repo)
    problems += gitlab_ci_problems(repo)
    problems += promotion_problems(repo, [*report.problems, *problems])
    return problems
