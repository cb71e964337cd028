"""The tests' own builds of overlays with the real `kubectl kustomize`, many in one process.

Each kubectl process spends about 0.2 s of CPU before it builds anything (its start and
Kustomize's OpenAPI schema for patches): the suite ran some 1,750 of them, a quarter of its CPU
time. One build of a temporary kustomization listing many folders prints the same objects
(they are only accumulated, nothing transforms them again); each overlay's objects are told
apart by the namespace its kustomization sets. Whenever that is not possible (two overlays
with one namespace, an object in another or none, a failing batch), every folder is built on
its own, as before, which also names the folder that does not build. Written apart from
tools/gitopslib/kustomize.py, which validate uses: these builds check its results.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import yaml

# libyaml's parser: the same YAML 1.1 safe loading as tests/repo_invariants.py's reads.
YAML_LOADER: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _build(kubectl: str, folder: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([kubectl, "kustomize", str(folder)], capture_output=True, text=True)


def _build_one(kubectl: str, folder: Path) -> str:
    result = _build(kubectl, folder)
    assert result.returncode == 0, f"{folder} does not build: {result.stderr}"
    return result.stdout


def _build_together(kubectl: str, folders: list[Path]) -> str | None:
    """Every folder in one build, or None when Kustomize refuses the combination."""
    with tempfile.TemporaryDirectory(prefix="tests-build-") as scratch:
        listed = "".join(f"  - {os.path.relpath(folder, scratch)}\n" for folder in folders)
        Path(scratch, "kustomization.yaml").write_text(f"resources:\n{listed}")
        result = _build(kubectl, Path(scratch))
    return result.stdout if result.returncode == 0 else None


def build_stream(kubectl: str, folders: list[Path]) -> str:
    """The objects of every folder as one YAML stream (in Kustomize's order, not the folders')."""
    if len(folders) > 1 and (together := _build_together(kubectl, folders)) is not None:
        return together
    parts = [_build_one(kubectl, folder) for folder in folders]
    return "---\n".join(part if part.endswith("\n") else part + "\n" for part in parts if part)


def _namespace(overlay: Path) -> str | None:
    kustomization = yaml.load((overlay / "kustomization.yaml").read_text(), Loader=YAML_LOADER)
    namespace = kustomization.get("namespace") if isinstance(kustomization, dict) else None
    return namespace if isinstance(namespace, str) and namespace else None


def _objects(text: str) -> list[dict[str, Any]]:
    return [doc for doc in yaml.load_all(text, Loader=YAML_LOADER) if doc]


def build_overlays(kubectl: str, overlays: list[Path]) -> dict[Path, list[dict[str, Any]]]:
    """Each overlay's objects, as `kubectl kustomize <overlay>` builds them."""
    namespaces = {overlay: _namespace(overlay) for overlay in overlays}
    by_namespace = {namespace: overlay for overlay, namespace in namespaces.items() if namespace}
    if len(overlays) > 1 and len(by_namespace) == len(overlays):
        together = _build_together(kubectl, overlays)
        if together is not None:
            found: dict[Path, list[dict[str, Any]]] = {overlay: [] for overlay in overlays}
            for obj in _objects(together):
                owner = by_namespace.get((obj.get("metadata") or {}).get("namespace"))
                if owner is None:
                    break
                found[owner].append(obj)
            else:
                return found
    return {overlay: _objects(_build_one(kubectl, overlay)) for overlay in overlays}
