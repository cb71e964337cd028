"""tests/kustomize_builds.py: many overlays built in one kubectl process give each overlay exactly
what building it alone gives, and anything it cannot attribute falls back to one by one."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from gitopslib import kustomize as gitops_kustomize
from gitopslib.repo import Overlay, load_repo

from tests import kustomize_builds
from tests.conftest import render
from tests.template_versions import edit


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two apps in three environments, one with an Ingress and autoscaling; Kyverno policies."""
    root = tmp_path_factory.mktemp("builds") / "repo"
    render(root, {"app_name": "shop", "kyverno_policies": True})
    render(root, {"app_name": "cart", "exposure": "ingress", "autoscaling": {"prod": {"min": 2, "max": 4}}})
    return root


def overlays(root: Path) -> list[Path]:
    return [path.parent for path in sorted(root.glob("environments/*/*/kustomization.yaml"))]


def alone(kubectl: str, folder: Path) -> list[dict[str, Any]]:
    built = subprocess.run([kubectl, "kustomize", str(folder)], capture_output=True, text=True, check=True)
    return [doc for doc in yaml.safe_load_all(built.stdout) if doc]


def test_one_build_for_all_overlays_gives_each_what_it_builds_alone(
    repo: Path, kubectl: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    folders = overlays(repo)
    assert len(folders) == 6
    calls: list[Path] = []
    build = kustomize_builds._build
    monkeypatch.setattr(kustomize_builds, "_build", lambda k, f: calls.append(f) or build(k, f))
    together = kustomize_builds.build_overlays(kubectl, folders)
    assert len(calls) == 1, "one kubectl process"
    assert {folder: alone(kubectl, folder) for folder in folders} == together
    kinds = {obj["kind"] for objects in together.values() for obj in objects}
    assert {"Deployment", "Service", "Ingress", "HorizontalPodAutoscaler"} <= kinds


def test_the_stream_holds_every_object_of_every_folder(repo: Path, kubectl: str) -> None:
    folders = [*overlays(repo), repo / "platform" / "policies"]
    stream = kustomize_builds.build_stream(kubectl, folders)
    expected = [obj for folder in folders for obj in alone(kubectl, folder)]
    found = [doc for doc in yaml.safe_load_all(stream) if doc]

    def key(obj: dict[str, Any]) -> str:
        return yaml.safe_dump(obj, sort_keys=True)

    assert sorted(map(key, found)) == sorted(map(key, expected))


def test_objects_are_told_apart_by_the_overlay_that_built_them_not_its_namespace(
    repo: Path, kubectl: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A kustomization that says `namespace: decoy` while a replacement moves its Deployment into
    another overlay's namespace: the Deployment is still its own."""
    staging = repo / "environments/staging/shop"
    moved = tmp_path / "moved"
    moved.mkdir()
    dev = os.path.relpath(repo / "environments/dev/shop", moved)
    (moved / "kustomization.yaml").write_text(
        f"namespace: decoy\nnameSuffix: -moved\nresources:\n- {dev}\n"
        "configMapGenerator:\n- name: where\n  literals: [ns=shop-staging]\n"
        "  options: {disableNameSuffixHash: true}\n"
        "replacements:\n- source: {kind: ConfigMap, name: where, fieldPath: data.ns}\n"
        "  targets:\n  - select: {kind: Deployment}\n    fieldPaths: [metadata.namespace]\n"
    )
    by_itself = alone(kubectl, moved)
    deployment = next(obj for obj in by_itself if obj["kind"] == "Deployment")
    assert deployment["metadata"]["namespace"] == "shop-staging" == kustomize_namespace(staging)
    calls: list[Path] = []
    build = kustomize_builds._build
    monkeypatch.setattr(kustomize_builds, "_build", lambda k, f: calls.append(f) or build(k, f))
    built = kustomize_builds.build_overlays(kubectl, [moved, staging])
    assert len(calls) == 1, "built together"
    assert built == {moved: by_itself, staging: alone(kubectl, staging)}


def test_overlays_with_the_same_object_are_built_one_by_one(repo: Path, kubectl: str, tmp_path: Path) -> None:
    folder = overlays(repo)[0]
    copy = tmp_path / "copy"
    copy.symlink_to(folder)
    same = [folder, copy]  # Kustomize refuses one object twice in one build
    assert kustomize_builds.build_overlays(kubectl, same) == {path: alone(kubectl, path) for path in same}


def kustomize_namespace(overlay: Path) -> str:
    return str(yaml.safe_load((overlay / "kustomization.yaml").read_text())["namespace"])


def test_a_folder_that_does_not_build_is_named(repo: Path, kubectl: str, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "kustomization.yaml").write_text("namespace: broken\nresources: [missing.yaml]\n")
    with pytest.raises(AssertionError, match=f"{broken} does not build"):
        kustomize_builds.build_overlays(kubectl, [*overlays(repo)[:2], broken])


def changed_copy(repo: Path, tmp_path: Path, overlay: str, fields: str) -> Path:
    """A copy of `repo` whose `overlay` kustomization also holds `fields` (YAML, before its components)."""
    copy = tmp_path / "repo"
    shutil.copytree(repo, copy, symlinks=True)
    edit(copy, f"{overlay}/kustomization.yaml", "components:\n", fields + "components:\n")
    return copy


def counted_build(
    copy: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[list[Overlay], gitops_kustomize.BuildResult, list[str]]:
    """tools/gitopslib/kustomize.build_overlays of every overlay of `copy`, and the folders of
    the kubectl processes it ran."""
    loaded = load_repo(copy)
    overlays_of = loaded.overlays()
    calls: list[str] = []
    run = gitops_kustomize.subprocess.run

    def counting(args: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        calls.append(args[-1])
        return run(args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(gitops_kustomize.subprocess, "run", counting)
        built = gitops_kustomize.build_overlays(loaded, overlays_of)
    return overlays_of, built, calls


def test_validates_own_batch_gives_each_overlay_what_it_builds_alone(
    repo: Path, kubectl: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """tools/gitopslib/kustomize.py (validate's builds, written apart from the tests' own): one
    kubectl process, each overlay's objects exactly, also an object a replacement moved into
    another overlay's namespace."""
    copy = changed_copy(
        repo,
        tmp_path,
        "environments/dev/shop",
        "configMapGenerator:\n- name: where\n  literals: [ns=shop-staging]\n"
        "  options: {disableNameSuffixHash: true}\n"
        "replacements:\n- source: {kind: ConfigMap, name: where, fieldPath: data.ns}\n"
        "  targets:\n  - select: {kind: ConfigMap, name: where}\n    fieldPaths: [metadata.namespace]\n",
    )
    overlays_of, built, calls = counted_build(copy, monkeypatch)
    assert len(calls) == 1 and not built.errors
    assert {o.path: objects for o, objects in built.objects.items()} == {
        o.path: alone(kubectl, copy / o.path) for o in overlays_of
    }
    dev = next(overlay for overlay in overlays_of if overlay.path == "environments/dev/shop")
    where = [obj for obj in built.objects[dev] if obj["metadata"]["name"] == "where"]
    assert [obj["metadata"]["namespace"] for obj in where] == ["shop-staging"]


def test_validates_chunks_give_each_overlay_what_it_builds_alone(
    repo: Path, kubectl: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """tools/gitopslib/kustomize.py in chunks (two overlays each here): one process per chunk,
    run side by side; a chunk that fails is built one by one, the others are kept."""
    copy = changed_copy(repo, tmp_path, "environments/prod/shop", "resources: [missing.yaml]\n")
    monkeypatch.setattr(gitops_kustomize, "CHUNK_OVERLAYS", 2)
    overlays_of, built, calls = counted_build(copy, monkeypatch)
    broken = next(o for o in overlays_of if o.path == "environments/prod/shop")
    partner = next(o for o in overlays_of if o.path == "environments/prod/cart")  # in its chunk
    # Three chunks, then the failed chunk's two overlays alone.
    assert len(calls) == 5 and sorted(calls[-2:]) == sorted(str(copy / o.path) for o in (broken, partner))
    assert list(built.errors) == [broken] and "missing.yaml" in built.errors[broken]
    assert {o.path: objects for o, objects in built.objects.items()} == {
        o.path: alone(kubectl, copy / o.path) for o in overlays_of if o != broken
    }
