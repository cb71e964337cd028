"""No privilege escalation through the repository: every Argo CD object held to its generated shape.

The root app syncs everything under argocd/apps/, and its project may create AppProjects: a file
there holding a project that allows any repository, any destination and any cluster-scoped kind
would give the next Application in it the run of every cluster. So every AppProject and every
Application is classified, and each kind is held to what the template generates:

- an app environment's project (`<app>-<env>`): exactly this repository, exactly its overlay's
  namespace on its environment's cluster, as cluster-scoped kind only that Namespace;
- an app environment's Application: that project, this repository at `target_revision`, its
  overlay, that namespace on that cluster, namespaces created restricted;
- the root app and root project (argocd/bootstrap/): Applications and AppProjects of this
  repository's argocd/apps/ into the argocd namespace, nothing else;
- the platform's Kyverno project, recognised by its shape (never by its name): this repository,
  only Kyverno ClusterPolicies, only the kyverno namespace of the environments' clusters.

Anything else is named with what it widens, unless gitops.yaml declares it an exception.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .access_exceptions import Exceptions
from .api_checks import listed, mapping
from .argocd_objects import APPS_DIR, BOOTSTRAP_DIR, ArgoObjects, Located
from .layout import APP_NAMESPACE_LABEL, IN_CLUSTER_SERVER, SETTINGS_FILE, app_env_name
from .problems import Problem
from .repo import Overlay, Repo

ARGOCD_NAMESPACE = "argocd"
PLATFORM_DIR = "platform"
PLATFORM_NAMESPACE = "kyverno"
PLATFORM_KINDS = [{"group": "kyverno.io", "kind": "ClusterPolicy"}]
ROOT_NAME = "root"
RESERVED_NAMES = (ROOT_NAME, "default")
ROOT_KINDS = [{"group": "argoproj.io", "kind": "Application"}, {"group": "argoproj.io", "kind": "AppProject"}]
MAX_APPLICATION_NAME = 63
RESTRICTED = "restricted"
POD_SECURITY_ENFORCE = "pod-security.kubernetes.io/enforce"

# AppProject fields the template never writes that widen what the project allows.
WIDENING_FIELDS = {
    "roles": "grants its own policies and JWT tokens to whoever holds them",
    "sourceNamespaces": "lets Applications outside the argocd namespace use the project",
    "destinationServiceAccounts": "makes Argo CD impersonate service accounts it names",
}


FORBIDDEN = "apps never deploy into argocd, default or kube-*"


def forbidden_namespace(namespace: object) -> bool:
    """Namespaces no app deploys into: Argo CD's own, the default one and the system ones."""
    text = str(namespace)
    return text in (ARGOCD_NAMESPACE, "default") or text.startswith("kube-")


def project_name(overlay: Overlay) -> str:
    """The project (and Application, and namespace) the template generates for an overlay."""
    return app_env_name(overlay.app, overlay.env)


def expected_server(repo: Repo, env: str) -> str:
    clusters = repo.settings.get("clusters") or {}
    return str(clusters.get(env, IN_CLUSTER_SERVER)) if isinstance(clusters, dict) else ""


def spec_of(located: Located) -> dict[str, Any]:
    """The spec, and below it `mapping`/`listed`: a field of the wrong type is the schema
    check's to name, and must not stop the other checks."""
    return mapping(located.obj.get("spec"))


def where(located: Located) -> str:
    return f"{located.path}: {located.kind}/{located.name}"


# --- AppProjects -------------------------------------------------------------------------------


def _destinations(spec: dict[str, Any]) -> list[dict[str, Any]]:
    return [mapping(d) for d in listed(spec.get("destinations"))]


def _kinds(entries: Any) -> list[dict[str, Any]]:
    return [{k: v for k, v in mapping(e).items()} for e in listed(entries)]


def widening_fields(spec: dict[str, Any]) -> list[str]:
    return [f"spec.{name} {why}" for name, why in WIDENING_FIELDS.items() if spec.get(name)]


def app_project_reasons(repo: Repo, spec: dict[str, Any], server: str, namespace: str) -> list[str]:
    """An app environment's project allows exactly its overlay's destination from this repository."""
    reasons = []
    if spec.get("sourceRepos") != [repo.repo_url]:
        reasons.append(f"sourceRepos must be exactly [{repo.repo_url}], got {spec.get('sourceRepos')}")
    wanted = {"server": server, "namespace": namespace}
    if not isinstance(spec.get("destinations"), list) or _destinations(spec) != [wanted]:
        reasons.append(f"destinations must be exactly [{wanted}], got {spec.get('destinations')}")
    for allowed in _kinds(spec.get("clusterResourceWhitelist")):
        if allowed != {"group": "", "kind": "Namespace", "name": namespace}:
            reasons.append(f"clusterResourceWhitelist allows more than Namespace {namespace}: {allowed}")
    return reasons + widening_fields(spec)


def root_project_reasons(repo: Repo, spec: dict[str, Any]) -> list[str]:
    """The root project deploys only Applications and AppProjects of this repository into argocd."""
    reasons = []
    if spec.get("sourceRepos") != [repo.repo_url]:
        reasons.append(f"sourceRepos must be exactly [{repo.repo_url}], got {spec.get('sourceRepos')}")
    wanted = {"server": IN_CLUSTER_SERVER, "namespace": ARGOCD_NAMESPACE}
    if _destinations(spec) != [wanted]:
        reasons.append(f"destinations must be exactly [{wanted}], got {spec.get('destinations')}")
    if spec.get("clusterResourceWhitelist"):
        reasons.append(f"clusterResourceWhitelist must be empty, got {spec.get('clusterResourceWhitelist')}")
    kinds = _kinds(spec.get("namespaceResourceWhitelist"))
    if not kinds or any(kind not in ROOT_KINDS for kind in kinds):
        reasons.append(
            "namespaceResourceWhitelist must allow only argoproj.io Application and AppProject (left "
            f"out, every namespaced kind is allowed), got {spec.get('namespaceResourceWhitelist')}"
        )
    return reasons + widening_fields(spec)


def is_platform_project(repo: Repo, spec: dict[str, Any], servers: set[str]) -> bool:
    """The Kyverno policies' project, by its generated shape."""
    destinations = _destinations(spec)
    return (
        spec.get("sourceRepos") == [repo.repo_url]
        and bool(destinations)
        and all(set(d) == {"server", "namespace"} for d in destinations)
        and all(d["server"] in servers and d["namespace"] == PLATFORM_NAMESPACE for d in destinations)
        and _kinds(spec.get("clusterResourceWhitelist")) == PLATFORM_KINDS
        and spec.get("namespaceResourceWhitelist") == []
        and not widening_fields(spec)
    )


def widenings(repo: Repo, spec: dict[str, Any], allowed: set[tuple[str, str]]) -> list[str]:
    """What a project outside the generated shapes allows beyond the repository's own overlays."""
    found = []
    for source in listed(spec.get("sourceRepos")):
        if source != repo.repo_url:
            found.append(
                "sourceRepos allows any repository ('*')" if source == "*" else f"sourceRepos allows {source}"
            )
    for destination in _destinations(spec):
        server, namespace = destination.get("server"), destination.get("namespace")
        if "name" in destination or (str(server), str(namespace)) not in allowed:
            shown = ", ".join(f"{k} {v!r}" for k, v in destination.items())
            found.append(f"destinations allow {shown}")
    for kind in _kinds(spec.get("clusterResourceWhitelist")):
        found.append(
            f"clusterResourceWhitelist allows cluster-scoped {kind.get('group')!r}/{kind.get('kind')!r}"
        )
    return found + widening_fields(spec)


# --- Applications ------------------------------------------------------------------------------


def _source(spec: dict[str, Any]) -> dict[str, Any]:
    return mapping(spec.get("source"))


SOURCE_FIELDS = {"repoURL", "targetRevision", "path"}


def source_reasons(repo: Repo, spec: dict[str, Any], extra: frozenset[str] = frozenset()) -> list[str]:
    """One source: this repository at target_revision, built exactly as validate builds it (any
    other source field, such as kustomize patches, directory includes or a plugin, changes what
    Argo CD deploys from what validate checked)."""
    source, reasons = _source(spec), []
    if spec.get("sources"):
        reasons.append("spec.sources: deploys several sources; only one, this repository, is allowed")
    if spec.get("sourceHydrator") is not None:
        reasons.append("spec.sourceHydrator: Argo CD would deploy its sync source instead of spec.source")
    for field in sorted(set(source) - SOURCE_FIELDS - extra - {"plugin"}):
        reasons.append(f"source.{field}: changes what Argo CD builds from what validate checks")
    if source.get("repoURL") != repo.repo_url:
        reasons.append(f"source.repoURL {source.get('repoURL')} is not {repo.repo_url}")
    revision = repo.settings.get("target_revision")
    if source.get("targetRevision") != revision:
        reasons.append(
            f"source.targetRevision {source.get('targetRevision')} is not {revision} (gitops.yaml)"
        )
    if source.get("plugin") is not None:
        reasons.append("source.plugin runs a config management plugin on Argo CD's repo server")
    return reasons


def namespace_security_reasons(spec: dict[str, Any]) -> list[str]:
    """The namespace Argo CD creates for an app enforces the restricted Pod Security Standard and
    carries the label the platform's policies select app namespaces by."""
    labels = mapping(mapping(mapping(spec.get("syncPolicy")).get("managedNamespaceMetadata")).get("labels"))
    reasons = []
    if labels.get(POD_SECURITY_ENFORCE) != RESTRICTED:
        reasons.append(
            f"syncPolicy.managedNamespaceMetadata.labels.{POD_SECURITY_ENFORCE} must be {RESTRICTED}, "
            f"got {labels.get(POD_SECURITY_ENFORCE)!r}: the namespace would admit privileged pods"
        )
    if labels.get(APP_NAMESPACE_LABEL) != "true":
        reasons.append(
            f"syncPolicy.managedNamespaceMetadata.labels.{APP_NAMESPACE_LABEL} must be 'true', got "
            f"{labels.get(APP_NAMESPACE_LABEL)!r}: the platform's policies select app namespaces by it"
        )
    return reasons


def root_application_reasons(repo: Repo, app: Located) -> list[str]:
    spec = spec_of(app)
    source = _source(spec)
    reasons = source_reasons(repo, spec, frozenset({"directory"}))
    if set(mapping(source.get("directory"))) - {"recurse"}:
        reasons.append("source.directory: only `recurse: true`, every file of argocd/apps/ as written")
    if app.name != ROOT_NAME or spec.get("project") != ROOT_NAME:
        reasons.append(f"only the root Application (project {ROOT_NAME}) lives in {BOOTSTRAP_DIR}/")
    if str(source.get("path", "")).strip("/") != APPS_DIR:
        reasons.append(f"source.path {source.get('path')} is not {APPS_DIR}")
    if not mapping(source.get("directory")).get("recurse"):
        reasons.append("source.directory.recurse must be true to reach every app's files")
    destination = mapping(spec.get("destination"))
    if destination != {"server": IN_CLUSTER_SERVER, "namespace": ARGOCD_NAMESPACE}:
        reasons.append(f"destination must be the argocd namespace of {IN_CLUSTER_SERVER}, got {destination}")
    return reasons


def platform_application_reasons(repo: Repo, app: Located, argo: ArgoObjects, servers: set[str]) -> list[str]:
    """Platform Applications deploy platform/<name>/ through the platform-shaped project."""
    spec = spec_of(app)
    reasons = source_reasons(repo, spec)
    path = str(_source(spec).get("path", "")).strip("/")
    parts = path.split("/")
    exact = len(parts) == 2 and parts[0] == PLATFORM_DIR and parts[1] not in ("", ".", "..")
    if not exact or not (repo.root / path / "kustomization.yaml").is_file():
        reasons.append(f"source.path {path} is not a kustomization platform/<name>")
    project = argo.project(str(spec.get("project", "")))
    if project is None or not is_platform_project(repo, spec_of(project), servers):
        reasons.append(f"project {spec.get('project')} is not the platform project's shape")
    destination = mapping(spec.get("destination"))
    if destination.get("server") not in servers or destination.get("namespace") != PLATFORM_NAMESPACE:
        reasons.append(f"destination must be the {PLATFORM_NAMESPACE} namespace of an environment's cluster")
    return reasons


def app_application_reasons(
    repo: Repo, app: Located, argo: ArgoObjects, namespaces: Mapping[Overlay, str | None]
) -> tuple[Overlay | None, list[str]]:
    """An app environment's Application; returns the overlay it deploys."""
    spec = spec_of(app)
    reasons = source_reasons(repo, spec)
    if len(app.name) > MAX_APPLICATION_NAME:
        reasons.append(f"name longer than {MAX_APPLICATION_NAME} characters")
    path = str(_source(spec).get("path", ""))
    parts = path.strip("/").split("/")
    overlay = Overlay(env=parts[1], app=parts[2]) if len(parts) == 3 and parts[0] == "environments" else None
    if overlay is None or overlay not in namespaces:
        return None, [*reasons, f"source.path {path} is not an overlay environments/<env>/<app>"]
    namespace, server = namespaces[overlay], expected_server(repo, overlay.env)
    destination = mapping(spec.get("destination"))
    if destination.get("namespace") != namespace:
        reasons.append(
            f"destination.namespace {destination.get('namespace')} differs from the namespace of "
            f"{overlay.path}: {namespace}"
        )
    elif forbidden_namespace(namespace):
        reasons.append(f"destination.namespace {namespace}: {FORBIDDEN}")
    if destination.get("server") != server:
        reasons.append(
            f"destination.server {destination.get('server')} is not {overlay.env}'s cluster {server}"
        )
    if "name" in destination:
        reasons.append(f"destination.name {destination.get('name')}: the cluster is named by its server only")
    if app.name != project_name(overlay):
        reasons.append(f"named {app.name}: the Application of {overlay.path} is {project_name(overlay)}")
    project = spec.get("project")
    if project != project_name(overlay):
        reasons.append(f"project {project} is not {project_name(overlay)}, the project of {overlay.path}")
    elif argo.project(str(project)) is None:
        reasons.append(f"AppProject {project} does not exist under {APPS_DIR}/")
    return overlay, reasons + namespace_security_reasons(spec)


# --- The whole repository ----------------------------------------------------------------------


def access_problems(
    repo: Repo, argo: ArgoObjects, namespaces: dict[Overlay, str | None], exceptions: Exceptions
) -> tuple[dict[Overlay, list[str]], list[Problem]]:
    """Every Application and AppProject classified and checked; returns the Applications that
    deploy each overlay (for the coverage check) and the problems."""
    servers = {expected_server(repo, env) for env in repo.environments}
    problems: list[Problem] = []
    deployed: dict[Overlay, list[str]] = {}
    for app in argo.of_kind("Application"):
        if exceptions.honours("Application", app.name):
            continue
        reasons: list[str] = []
        if app.path.startswith(BOOTSTRAP_DIR + "/"):
            reasons = root_application_reasons(repo, app)
        elif not app.path.startswith(APPS_DIR + "/"):
            reasons = [f"not under {APPS_DIR}/: the root app does not reach it"]
        elif str(_source(spec_of(app)).get("path", "")).strip("/").startswith(PLATFORM_DIR + "/"):
            reasons = platform_application_reasons(repo, app, argo, servers)
        else:
            overlay, reasons = app_application_reasons(repo, app, argo, namespaces)
            if overlay is not None:
                deployed.setdefault(overlay, []).append(app.name)
        problems += [Problem(where(app), reason) for reason in reasons]
    problems += project_problems(repo, argo, namespaces, exceptions, servers)
    problems += namespace_owner_problems(repo, namespaces, exceptions)
    for located in [*argo.of_kind("Application", APPS_DIR), *argo.of_kind("AppProject", APPS_DIR)]:
        if located.name in RESERVED_NAMES:
            problems.append(
                Problem(
                    where(located),
                    f"{located.name} is reserved: it would replace Argo CD's own or the root's",
                )
            )
    problems += server_problems(repo)
    roots = [a for a in argo.of_kind("Application", BOOTSTRAP_DIR) if a.name == ROOT_NAME]
    if len(roots) != 1:
        problems.append(Problem(BOOTSTRAP_DIR, f"must hold exactly one root Application, found {len(roots)}"))
    if not [p for p in argo.of_kind("AppProject", BOOTSTRAP_DIR) if p.name == ROOT_NAME]:
        problems.append(Problem(BOOTSTRAP_DIR, "no root AppProject"))
    return deployed, problems + kind_problems(argo)


def namespace_owner_problems(
    repo: Repo, namespaces: Mapping[Overlay, str | None], exceptions: Exceptions
) -> list[Problem]:
    """An overlay deploys into `<app>-<env>`, or a namespace gitops.yaml declares (kind: Namespace):
    one of its own choosing may be another app's, or a controller's (external-secrets,
    ingress-nginx), whose service accounts and secrets the app's pods would then share. No two
    overlays share a namespace of one cluster."""
    problems = []
    owners: dict[tuple[str, str], Overlay] = {}
    for overlay, namespace in sorted(namespaces.items()):
        if namespace is None:
            continue
        if namespace != project_name(overlay) and not exceptions.honours("Namespace", namespace):
            problems.append(
                Problem(
                    overlay.path,
                    f"namespace {namespace} is not {project_name(overlay)}: a namespace of its own choosing "
                    "may be another team's or a controller's; the platform team declares it in "
                    f"{SETTINGS_FILE} exceptions (kind: Namespace, name: {namespace})",
                )
            )
        first = owners.setdefault((expected_server(repo, overlay.env), namespace), overlay)
        if first != overlay:
            problems.append(
                Problem(overlay.path, f"namespace {namespace} is also {first.path}'s on the same cluster")
            )
    return problems


def server_problems(repo: Repo) -> list[Problem]:
    """A cluster is one https API server: a pattern (`*`) in a project's destination is every cluster."""
    clusters = repo.settings.get("clusters")
    problems = []
    for env, server in clusters.items() if isinstance(clusters, dict) else []:
        if not (isinstance(server, str) and server.startswith("https://")) or any(
            c in server for c in "*?[]!{}"
        ):
            problems.append(
                Problem(SETTINGS_FILE, f"clusters.{env}: {server!r} is not one https:// API server")
            )
    return problems


def project_problems(
    repo: Repo,
    argo: ArgoObjects,
    namespaces: dict[Overlay, str | None],
    exceptions: Exceptions,
    servers: set[str],
) -> list[Problem]:
    app_projects = {project_name(o): (expected_server(repo, o.env), str(ns)) for o, ns in namespaces.items()}
    problems = []
    for project in argo.of_kind("AppProject"):
        if exceptions.honours("AppProject", project.name):
            continue
        spec = spec_of(project)
        if project.path.startswith(BOOTSTRAP_DIR + "/"):
            if project.name == ROOT_NAME:
                reasons = root_project_reasons(repo, spec)
            else:
                reasons = [f"only the root AppProject lives in {BOOTSTRAP_DIR}/"]
        elif project.name in app_projects:
            server, namespace = app_projects[project.name]
            reasons = app_project_reasons(repo, spec, server, namespace)
        elif is_platform_project(repo, spec, servers):
            reasons = []
        else:
            allowed = set(app_projects.values())
            unknown = "not a project this repository generates (declare it under exceptions in gitops.yaml)"
            reasons = [f"{widened}; {unknown}" for widened in widenings(repo, spec, allowed)] or [unknown]
        problems += [Problem(where(project), reason) for reason in reasons]
    return problems


def kind_problems(argo: ArgoObjects) -> list[Problem]:
    """The root project syncs only Applications and AppProjects: anything else under
    argocd/apps/ would fail its sync, and argocd/bootstrap/ holds the root objects only."""
    problems = []
    for located in argo.objects:
        if not located.path.startswith((APPS_DIR + "/", BOOTSTRAP_DIR + "/")):
            continue
        if (located.obj.get("apiVersion"), located.kind) not in (
            ("argoproj.io/v1alpha1", "Application"),
            ("argoproj.io/v1alpha1", "AppProject"),
        ):
            problems.append(
                Problem(
                    where(located),
                    "only argoproj.io/v1alpha1 Applications and AppProjects belong under argocd/ (the "
                    f"root project syncs nothing else), got {located.obj.get('apiVersion')} {located.kind}",
                )
            )
    return problems


def override_file_problems(files: list[str], root: Path) -> list[Problem]:
    """Files that change how Argo CD builds a path behind validate's back: `.argocd-source*.yaml`
    (merged into an Application's source: a `directory:` or `kustomize:` there deploys files no
    kustomization lists), and symlinks under platform/ (Argo CD follows them to files CODEOWNERS
    does not protect there; argocd_objects names those under argocd/)."""
    problems = []
    for path in files:
        name = path.rsplit("/", 1)[-1]
        if name.startswith(".argocd-source"):
            problems.append(
                Problem(
                    path,
                    "Argo CD merges this file into the Application's source: remove it (validate "
                    "builds each path as its kustomization says)",
                )
            )
        elif path.startswith(PLATFORM_DIR + "/") and (root / path).is_symlink():
            problems.append(
                Problem(path, "a symlink: Argo CD follows it to a file CODEOWNERS does not protect here")
            )
    return problems
