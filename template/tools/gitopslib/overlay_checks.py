"""Checks on overlays: their kustomization files and the objects they build."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .api_checks import mapping
from .errors import BrokenFileError
from .image_refs import VERSION_LABEL, is_digest, version_label
from .layout import (
    KUSTOMIZATION,
    answers_file,
    chart_entries,
    image_entries,
    image_placeholder,
    release_dir_of,
)
from .problems import Problem
from .repo import Overlay, Repo, read_yaml

DEPRECATED_FIELDS = {
    "bases": "use resources",
    "commonLabels": "use labels (with includeSelectors: false unless selectors must change)",
    "patchesStrategicMerge": "use patches",
    "patchesJson6902": "use patches",
    "vars": "use replacements",
    "imageTags": "use images",
}
INDEX_IMAGE_PATCH = re.compile(r"/containers/\d+/image\b")
LIST_FIELDS = ("resources", "components", "patches")
# What a release may hold so that tools compare and describe it (releases.identity hashes its JSON).
JSON_SCALARS = (str, int, float, bool, type(None))
# Remote resources (URLs, git repositories with `//subdir` or `?ref=`) are not files here.
# Kustomize takes for remote, whatever the case: a scheme, `git::`, a `//subdir`, a `?ref=`, the
# scp form (`user@host:path`, `github.com:org/repo`) and the forges' host names.
REMOTE = re.compile(
    r"://|//|\?ref=|^git::|^[\w.-]+@[\w.-]+:|^[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}:(?!\d+$)"
    r"|^(?:github\.com|gitlab\.com|bitbucket\.org)(?:/|:|$)",
    re.IGNORECASE,
)
# Kinds that have no namespace. An app's overlay may hold only its own Namespace.
# Cluster-scoped kinds: built-in ones (Kubernetes 1.3x) and those of the controllers these repos
# use (Kyverno, cert-manager, External Secrets, Gateway API, Prometheus Operator). Kustomize puts
# a namespace on every kind it does not know, so one missing here shows up only at sync.
CLUSTER_SCOPED_KINDS = {
    "APIService", "CSIDriver", "CSINode", "CertificateSigningRequest", "ClusterRole",
    "ClusterRoleBinding", "ClusterTrustBundle", "ComponentStatus", "CustomResourceDefinition",
    "DeviceClass", "FlowSchema", "IPAddress", "IngressClass", "MutatingAdmissionPolicy",
    "MutatingAdmissionPolicyBinding", "MutatingWebhookConfiguration", "Namespace", "Node",
    "PersistentVolume", "PriorityClass", "PriorityLevelConfiguration", "ResourceSlice",
    "RuntimeClass", "SelfSubjectAccessReview", "SelfSubjectReview", "ServiceCIDR",
    "StorageClass", "StorageVersion", "StorageVersionMigration", "TokenReview",
    "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding",
    "ValidatingWebhookConfiguration", "VolumeAttachment", "VolumeAttributesClass",
    # Kyverno, cert-manager, External Secrets, Gateway API, Prometheus Operator
    "ClusterPolicy", "ClusterCleanupPolicy", "ClusterPolicyReport", "ClusterEphemeralReport",
    "ClusterIssuer", "ClusterSecretStore", "ClusterExternalSecret", "ClusterGenerator",
    "GatewayClass", "ClusterScrapeConfig",
}  # fmt: skip


# Every name Kustomize reads a kustomization from: a renamed file is built all the same.
KUSTOMIZATION_NAMES = (KUSTOMIZATION, "kustomization.yml", "Kustomization")
# What Kustomize fetches when it lists a URL or a git repository.
REMOTE_FIELDS = ("resources", "components", "generators", "transformers", "validators")


def kustomization_files(repo: Repo) -> list[Path]:
    files: list[Path] = []
    for top in ("applications", "environments"):
        files += sorted(path for name in KUSTOMIZATION_NAMES for path in (repo.root / top).rglob(name))
    return files


def loaded_entries(data: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    """(field, entry) for everything a kustomization makes Kustomize load from a path or URL:
    resources and the like, patches, configurations, CRDs, the OpenAPI schema, replacements and
    the files of generators (`key=path` too)."""
    for name in (*REMOTE_FIELDS, "configurations", "crds", "patchesStrategicMerge"):
        yield from ((name, entry) for entry in _listed(data, name))
    for name in ("patches", "patchesJson6902", "replacements"):
        yield from ((name, entry.get("path")) for entry in _listed(data, name) if isinstance(entry, dict))
    openapi = data.get("openapi")
    if isinstance(openapi, dict):
        yield "openapi", openapi.get("path")
    for name in ("configMapGenerator", "secretGenerator"):
        for generator in (g for g in _listed(data, name) if isinstance(g, dict)):
            for field in ("files", "envs"):
                for entry in _listed(generator, field):
                    yield name, entry.rpartition("=")[2] if isinstance(entry, str) else entry
            yield name, generator.get("env")


def _app_of(relative: str) -> str | None:
    """The app whose overlay or base holds a kustomization file."""
    parts = relative.split("/")
    if len(parts) > 3 and parts[0] == "environments":
        return parts[2]
    if len(parts) > 3 and "/".join(parts[:2]) == "applications/base":
        return parts[2]
    return None


def chart_source_reasons(repo: Repo, relative: str, data: dict[str, Any]) -> list[str]:
    """A chart comes from the app's answered chart_repo, at a pinned version: Argo CD pulls a
    helmCharts entry's chart as it renders, from wherever the entry says and outside the
    AppProject's sourceRepos, so another repository would deploy unreviewed code."""
    charts = chart_entries(data)
    app = _app_of(relative)
    if not charts or app is None:
        return []
    try:
        answers = read_yaml(repo.answers_file(app), answers_file(app)) or {}
    except BrokenFileError:
        answers = {}
    answered = answers.get("chart_repo") if isinstance(answers, dict) else None
    reasons = []
    for entry in charts:
        name = entry.get("name")
        if entry.get("repo") != answered:
            source = (
                f"the app's chart_repo {answered}"
                if answered
                else "no chart_repo (the app deploys manifests)"
            )
            reasons.append(
                f"helmCharts {name} comes from {entry.get('repo')}, but the answers give {source}: Argo CD "
                f"pulls it as it renders, outside the AppProject's sourceRepos (change it with "
                f"tools/gitops update --app {app} --data chart_repo=...)"
            )
        if not entry.get("version"):
            reasons.append(f"helmCharts {name} has no version: helm would pull whatever is newest")
    return reasons


def remote_entries(data: dict[str, Any]) -> Iterator[str]:
    """Why each remote entry of an app's kustomization is refused: Argo CD fetches it as it
    renders, so what it deploys is in no commit of this repository, escapes review and CODEOWNERS,
    and comes from a repository the AppProject's sourceRepos does not list."""
    for name, entry in loaded_entries(data):
        if isinstance(entry, str) and REMOTE.search(entry):
            yield (
                f"{name} lists {entry}, which is fetched from outside this repository when Argo CD "
                "renders (unreviewed, outside the AppProject's sourceRepos): copy it into the repository"
            )


def kustomization_problems(repo: Repo, path: Path) -> list[Problem]:
    """Unreadable files, lists that are not lists, listed files that are missing, deprecated
    Kustomize fields and index-based image patches."""
    relative = repo.relative(path)
    try:
        data = read_yaml(path, relative)
    except BrokenFileError as error:
        return [Problem(error.path, error.reason)]
    if not isinstance(data, dict):
        return [Problem(relative, "is not a YAML mapping")]
    problems = [
        Problem(relative, f"deprecated field {name}: {advice}")
        for name, advice in DEPRECATED_FIELDS.items()
        if name in data
    ]
    problems += [
        Problem(relative, f"{name} must be a list, got {type(data[name]).__name__}")
        for name in LIST_FIELDS
        if data.get(name) is not None and not isinstance(data[name], list)
    ]
    problems += [Problem(relative, reason) for reason in missing_listed_files(path.parent, data)]
    problems += [Problem(relative, reason) for reason in remote_entries(data)]
    problems += [Problem(relative, reason) for reason in chart_source_reasons(repo, relative, data)]
    if (release := release_dir_of(relative)) and relative == f"{release}/{KUSTOMIZATION}":
        problems += [Problem(relative, reason) for reason in release_problems(data)]
        app = Path(release).parent.name
        problems += [Problem(relative, reason) for reason in version_label_problems(data, app)]
    for patch in _listed(data, "patches"):
        if any(INDEX_IMAGE_PATCH.search(text) for text in _strings(patch)):
            problems.append(Problem(relative, "patches an image by container index: use `images:` instead"))
    return problems


def _strings(value: Any) -> Iterator[str]:
    """Every string in a YAML value, keys too (quicker than dumping it as text to search)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(key)
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _listed(data: dict[str, Any], name: str) -> list[Any]:
    value = data.get(name)
    return value if isinstance(value, list) else []


def listed_paths(data: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    """(field, entry) for every local file or directory a kustomization lists."""
    for name in ("resources", "components"):
        yield from ((name, entry) for entry in _listed(data, name))
    for patch in _listed(data, "patches"):
        if isinstance(patch, dict) and "path" in patch:
            yield "patches", patch["path"]


def missing_listed_files(directory: Path, data: dict[str, Any]) -> Iterator[str]:
    """Plain `copier update` deletes the files a new template version dropped, even when a
    kustomization still lists them; this names each one (the build error would not say which)."""
    for name, entry in listed_paths(data):
        if not isinstance(entry, str) or not entry:
            yield f"{name} lists {entry!r}, which is not a path"
        elif not REMOTE.search(entry) and not (directory / entry).exists():
            yield f"{name} lists {entry}, which does not exist"


def release_problems(release: dict[str, Any]) -> list[str]:
    """What keeps status, validate and promote from describing and comparing a release."""
    images = release.get("images")
    if images is not None and not (isinstance(images, list) and all(isinstance(i, dict) for i in images)):
        return ["images must be a list of mappings (name, newName, newTag or digest)"]
    charts = release.get("helmCharts")
    if charts is not None and not (isinstance(charts, list) and all(isinstance(c, dict) for c in charts)):
        return ["helmCharts must be a list of mappings (name, repo, version, ...)"]
    return list(non_json_values(release, ""))


def version_label_problems(release: dict[str, Any], app: str) -> list[str]:
    """The release's `app.kubernetes.io/version` label names its own image's tag (none for a
    digest), as `tools/gitops release` writes them together: an edit or a bot (Renovate) that
    bumps `newTag` alone would deploy the new image under the old version's label."""
    images = image_entries(release)
    own = [entry for entry in images if entry.get("name") == image_placeholder(app)] or images
    if len(own) != 1:
        return []  # which image is the app's own is not clear: tools/gitops release asks for --image
    reference = own[0].get("digest") or own[0].get("newTag")
    if not isinstance(reference, str):
        return []
    expected = version_label(reference)
    option = "--digest" if is_digest(reference) else "--tag"
    problems = []
    for entry in _listed(release, "labels"):
        pairs = mapping(entry).get("pairs") if isinstance(entry, dict) else None
        if entry_selects(entry) or not isinstance(pairs, dict) or VERSION_LABEL not in pairs:
            continue
        if pairs[VERSION_LABEL] != expected:
            should = f"be {expected!r}" if expected is not None else "be left out (no tag is a version)"
            problems.append(
                f"labels: {VERSION_LABEL} is {pairs[VERSION_LABEL]!r} but the release's image is "
                f"{reference}: it should {should}; `tools/gitops release --app {app} {option} {reference}` "
                "sets both"
            )
    return problems


def entry_selects(entry: Any) -> bool:
    """A `labels:` entry that also goes into selectors (which cannot change): never a version's."""
    return isinstance(entry, dict) and entry.get("includeSelectors") is True


def non_json_values(node: Any, field: str) -> Iterator[str]:
    """Values YAML 1.1 reads as dates or timestamps (`newTag: 2024-01-01`), and keys that are
    not strings: Kustomize takes them as written, but they are not JSON."""
    if isinstance(node, dict):
        for key, value in node.items():
            if not isinstance(key, str):
                yield f"{field or '(top level)'}: key {key!r} is not a string: quote it"
            else:
                yield from non_json_values(value, f"{field}.{key}" if field else key)
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from non_json_values(item, f"{field}[{index}]")
    elif not isinstance(node, JSON_SCALARS):
        yield f"{field}: YAML reads {node} as a {type(node).__name__}: quote it"


def _image_problem(image: Any) -> str:
    if not isinstance(image, str) or not image:
        return "container without image"
    if "@sha256:" in image:
        return ""
    last = image.rsplit("/", 1)[-1]
    if ":" not in last:
        return f"image {image} has no tag or digest (set it in the overlay's release/)"
    if last.rsplit(":", 1)[1] == "latest":
        return f"image {image} uses the mutable tag latest"
    return ""


def _pod_spec(obj: dict[str, Any]) -> dict[str, Any]:
    spec = mapping(obj.get("spec"))
    if obj.get("kind") == "Pod":
        return spec
    if obj.get("kind") == "CronJob":
        spec = mapping(mapping(spec.get("jobTemplate")).get("spec"))
    return mapping(mapping(spec.get("template")).get("spec"))


def _containers(obj: dict[str, Any]) -> list[dict[str, Any]]:
    pod = _pod_spec(obj)
    found = [*_listed(pod, "initContainers"), *_listed(pod, "containers")]
    return [container for container in found if isinstance(container, dict)]


def place_in_destination(objects: list[dict[str, Any]], namespace: str | None) -> None:
    """Puts a namespaced object that has no namespace into `namespace`, as Argo CD applies it into
    the Application's destination namespace (the overlay's, which the access checks hold it to).
    Only a chart's objects come out of a build so: Kustomize puts the overlay's namespace on
    every other object, but not on what helmCharts renders (kubernetes-sigs/kustomize#6058)."""
    if namespace is None:
        return
    for obj in objects:
        metadata = obj.get("metadata")
        if (
            isinstance(metadata, dict)
            and not metadata.get("namespace")
            and obj.get("kind") not in CLUSTER_SCOPED_KINDS
        ):
            metadata["namespace"] = namespace


def built_object_problems(
    overlay: Overlay, objects: list[dict[str, Any]], namespace: str | None
) -> list[Problem]:
    """Namespace and image rules for the objects an overlay builds."""
    problems: list[Problem] = []
    for obj in objects:
        kind = str(obj.get("kind", "?"))
        metadata = mapping(obj.get("metadata"))
        name = str(metadata.get("name", "?"))
        where = f"{overlay.path}: {kind}/{name}"
        object_namespace = metadata.get("namespace")
        if kind in CLUSTER_SCOPED_KINDS:
            if not (kind == "Namespace" and name == namespace):
                problems.append(Problem(where, "cluster-scoped objects are not allowed in an app overlay"))
        elif namespace is not None and object_namespace != namespace:
            problems.append(
                Problem(where, f"in namespace {object_namespace or '(none)'}, expected {namespace}")
            )
        if kind == "Secret" and (obj.get("data") or obj.get("stringData")):
            problems.append(
                Problem(where, "a Secret with its values in Git: use External Secrets or Sealed Secrets")
            )
        for container in _containers(obj):
            if reason := _image_problem(container.get("image")):
                problems.append(Problem(where, f"container {container.get('name', '?')}: {reason}"))
    return problems
