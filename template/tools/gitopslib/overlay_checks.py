"""Checks on overlays: their kustomization files and the objects they build."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from .problems import Problem
from .repo import Overlay, Repo

DEPRECATED_FIELDS = {
    "bases": "use resources",
    "commonLabels": "use labels (with includeSelectors: false unless selectors must change)",
    "patchesStrategicMerge": "use patches",
    "patchesJson6902": "use patches",
    "vars": "use replacements",
    "imageTags": "use images",
}
INDEX_IMAGE_PATCH = re.compile(r"/containers/\d+/image\b")
# Kinds that have no namespace. An app's overlay may hold only its own Namespace.
CLUSTER_SCOPED_KINDS = {
    "APIService", "CSIDriver", "CSINode", "ClusterRole", "ClusterRoleBinding",
    "CustomResourceDefinition", "IngressClass", "MutatingWebhookConfiguration", "Namespace",
    "Node", "PersistentVolume", "PriorityClass", "RuntimeClass", "StorageClass",
    "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding",
    "ValidatingWebhookConfiguration", "VolumeAttachment",
}  # fmt: skip


def kustomization_files(repo: Repo) -> list[Path]:
    files: list[Path] = []
    for top in ("applications", "environments"):
        files += sorted((repo.root / top).rglob("kustomization.yaml"))
    return files


def kustomization_problems(repo: Repo, path: Path) -> list[Problem]:
    """Deprecated Kustomize fields and index-based image patches."""
    relative = repo.relative(path)
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as error:
        return [Problem(relative, f"not valid YAML: {str(error).splitlines()[0]}")]
    if not isinstance(data, dict):
        return [Problem(relative, "is not a YAML mapping")]
    problems = [
        Problem(relative, f"deprecated field {name}: {advice}")
        for name, advice in DEPRECATED_FIELDS.items()
        if name in data
    ]
    for patch in data.get("patches") or []:
        text = yaml.safe_dump(patch) if not isinstance(patch, str) else patch
        if INDEX_IMAGE_PATCH.search(text):
            problems.append(Problem(relative, "patches an image by container index: use `images:` instead"))
    return problems


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
    spec = obj.get("spec") or {}
    if obj.get("kind") == "Pod":
        return spec
    if obj.get("kind") == "CronJob":
        spec = (spec.get("jobTemplate") or {}).get("spec") or {}
    return (spec.get("template") or {}).get("spec") or {}


def _containers(obj: dict[str, Any]) -> list[dict[str, Any]]:
    pod = _pod_spec(obj)
    found = [*(pod.get("initContainers") or []), *(pod.get("containers") or [])]
    return [container for container in found if isinstance(container, dict)]


def built_object_problems(
    overlay: Overlay, objects: list[dict[str, Any]], namespace: str | None
) -> list[Problem]:
    """Namespace and image rules for the objects an overlay builds."""
    problems: list[Problem] = []
    for obj in objects:
        kind = str(obj.get("kind", "?"))
        name = str((obj.get("metadata") or {}).get("name", "?"))
        where = f"{overlay.path}: {kind}/{name}"
        object_namespace = (obj.get("metadata") or {}).get("namespace")
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
