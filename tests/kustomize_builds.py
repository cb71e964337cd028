"""The tests' own builds of overlays with the real `kubectl kustomize`, many in one process.

Each kubectl process spends about 0.2 s of CPU before it builds anything (its start and
Kustomize's OpenAPI schema for patches): the suite ran some 1,750 of them, a quarter of its CPU
time. One build of a temporary kustomization listing many folders prints the same objects
(they are only accumulated, nothing transforms them again). To tell each overlay's objects
apart, each is listed through a wrapper kustomization of its own whose only transformer writes
the overlay's number into each object's `metadata.annotations` (and nowhere else), taken out
again after the build: what the overlay's own kustomization does (its namespace, components,
replacements) plays no part. When the batch fails (two overlays with the same object, a folder
that does not build), every folder is built on its own, as before, which also names the folder
that does not build. Written apart from tools/gitopslib/kustomize.py, which validate uses:
these builds check its results.
"""

from __future__ import annotations

import functools
import os
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import yaml

from scripts import dev
from tests.go_tools import built_tool

# libyaml's parser: the same YAML 1.1 safe loading as tests/repo_invariants.py's reads.
YAML_LOADER: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _build(kubectl: str, folder: Path) -> subprocess.CompletedProcess[str]:
    # Helm enabled as the generated Argo CD install enables it (argocd/install/kustomize-options.yaml),
    # with the pinned helm: an app with workload helm-chart renders its chart.
    return subprocess.run(
        [kubectl, "kustomize", "--enable-helm", helm_option(), str(folder)], capture_output=True, text=True
    )


@functools.cache
def helm_option() -> str:
    """Found and checked once per process (built_tool reads the whole binary)."""
    return f"--helm-command={built_tool(dev.HELM)}"


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


def _objects(text: str) -> list[dict[str, Any]]:
    return [doc for doc in yaml.load_all(text, Loader=YAML_LOADER) if doc]


MARK = "tests.gitops-template.dev/batch-overlay"


def _marked(scratch: Path, number: int, overlay: Path) -> Path:
    """A kustomization of `overlay` that writes `number` into each object's own annotations."""
    wrapper = scratch / f"overlay-{number}"
    wrapper.mkdir()
    (wrapper / "mark.yaml").write_text(
        "apiVersion: builtin\nkind: AnnotationsTransformer\nmetadata:\n  name: mark\n"
        f"annotations:\n  {MARK}: '{number}'\nfieldSpecs:\n- path: metadata/annotations\n  create: true\n"
    )
    resource = os.path.relpath(overlay, wrapper)
    (wrapper / "kustomization.yaml").write_text(f"resources:\n- {resource}\ntransformers:\n- mark.yaml\n")
    return wrapper


def _owner(obj: dict[str, Any]) -> int | None:
    """The overlay number the wrapper wrote, taken out of the object again."""
    metadata = obj.get("metadata")
    annotations = metadata.get("annotations") if isinstance(metadata, dict) else None
    if not isinstance(annotations, dict) or not isinstance(number := annotations.pop(MARK, None), str):
        return None
    if not annotations:  # only the mark: the overlay's own build has no annotations at all
        del metadata["annotations"]  # type: ignore[union-attr]
    return int(number)


def build_overlays(kubectl: str, overlays: list[Path]) -> dict[Path, list[dict[str, Any]]]:
    """Each overlay's objects, as `kubectl kustomize <overlay>` builds them."""
    if len(overlays) > 1:
        with tempfile.TemporaryDirectory(prefix="tests-build-") as scratch:
            wrappers = [_marked(Path(scratch), number, overlay) for number, overlay in enumerate(overlays)]
            together = _build_together(kubectl, wrappers)
        if together is not None:
            found: dict[Path, list[dict[str, Any]]] = {overlay: [] for overlay in overlays}
            for obj in _objects(together):
                number = _owner(obj)
                assert number is not None, f"an object the batch did not mark: {obj}"
                found[overlays[number]].append(obj)
            return found
    return {overlay: _objects(_build_one(kubectl, overlay)) for overlay in overlays}
