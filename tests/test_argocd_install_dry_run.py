"""Argo CD itself, as the template installs it, dry-run-applied to a real kube-apiserver.

`argocd/install/kustomization.yaml` pins Argo CD's install manifest by URL, and generated
repositories keep that URL. Here a copy of the rendered folder gets the same manifest from
tests/argo-cd-install/ instead (vendored byte for byte from Argo CD's repository at a release
tag, see SOURCE.md there), kustomize builds it with the template's own namespace and patches, and
the API server of tests/api_server.py applies every object server-side as a dry run (strict field
validation, every warning an error) into an `argocd` namespace labelled as the template's
namespace.yaml labels it. The CRDs in the manifest go with it: Application and AppProject as
crds/argoproj.io/ vendors them (installed by the fixture already), and ApplicationSet.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import pytest
import yaml
from jinja2 import nodes

from tests.api_server import ApiServer
from tests.conftest import TEMPLATE_ROOT, render

VENDORED = TEMPLATE_ROOT / "tests" / "argo-cd-install"
INSTALL_TEMPLATE = TEMPLATE_ROOT / "template" / "argocd" / "install"
# The answers that the files of argocd/install/ depend on: the cases below cover each value of
# argocd_ha; argocd_version only names the release in the URL that the vendored file replaces.
COVERED_ANSWERS = {"argocd_ha", "argocd_version"}
# The release the files were vendored from (SOURCE.md). The cases render that release, so that the
# pinned URL names exactly the file checked: the template's default (v3.6.2) has no tag in the copy
# of Argo CD's repository the files came from (SOURCE.md says so).
VENDORED_TAG = re.search(r"^- Release: tag `(v[0-9.]+)`", (VENDORED / "SOURCE.md").read_text(), re.M)[1]  # type: ignore[index]
# Case: (answers, the file the pinned URL names in Argo CD's repository, its vendored copy).
CASES: dict[str, tuple[dict[str, Any], str, str]] = {
    "defaults": ({"argocd_version": VENDORED_TAG}, "manifests/install.yaml", "install.yaml"),
    "ha": (
        {"argocd_version": VENDORED_TAG, "argocd_ha": True},
        "manifests/ha/install.yaml",
        "ha-install.yaml",
    ),
}
PINNED_URL = re.compile(r'"https://raw\.githubusercontent\.com/argoproj/argo-cd/(v\d+\.\d+\.\d+)/([^"]+)"')
ENFORCE = "pod-security.kubernetes.io/enforce"
WARN = "pod-security.kubernetes.io/warn"
# | `here` | `in the repository` | `git blob` | `sha256` |
SOURCE_ROW = re.compile(r"^\s*\| `([^`]+)` \| `([^`]+)` \| `([0-9a-f]{40})` \| `([0-9a-f]{64})` \|$")

# libyaml: Argo CD's manifests are 2 MB each.
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

Obj = dict[str, Any]


def documents(text: str) -> list[Obj]:
    return [doc for doc in yaml.load_all(text, Loader=SAFE_LOADER) if doc]


def source_rows() -> dict[str, tuple[str, str, str]]:
    """SOURCE.md's table: vendored file -> (path at the tag, git blob, sha256)."""
    rows = [SOURCE_ROW.match(line) for line in (VENDORED / "SOURCE.md").read_text().splitlines()]
    return {row[1]: (row[2], row[3], row[4]) for row in rows if row}


def build_install(root: Path, work: Path, kubectl: str, upstream: str, vendored: str) -> str:
    """kustomize's output for the rendered argocd/install/, its pinned URL replaced by the
    vendored manifest (copied in beside it: kustomize loads no file from outside the folder)."""
    folder = Path(shutil.copytree(root / "argocd" / "install", work / "install"))
    kustomization = folder / "kustomization.yaml"
    text = kustomization.read_text()
    assert PINNED_URL.findall(text) == [(VENDORED_TAG, upstream)], text
    local = f"argo-cd-{vendored}"
    shutil.copyfile(VENDORED / vendored, folder / local)
    kustomization.write_text(PINNED_URL.sub(json.dumps(local), text))
    result = subprocess.run([kubectl, "kustomize", str(folder)], capture_output=True, text=True)
    assert result.returncode == 0, f"argocd/install does not build: {result.stderr}"
    return result.stdout


# --- The vendored files -------------------------------------------------------------------------


def test_vendored_files_are_byte_for_byte_what_source_md_says() -> None:
    listed = source_rows()
    assert set(listed) == {path.name for path in VENDORED.iterdir()} - {"SOURCE.md"}
    assert {vendored for _, _, vendored in CASES.values()} <= set(listed)
    for name, (_, blob, sha256) in listed.items():
        data = (VENDORED / name).read_bytes()
        assert hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest() == blob, name
        assert hashlib.sha256(data).hexdigest() == sha256, name
    for _, upstream, vendored in CASES.values():
        assert listed[vendored][0] == upstream


def test_the_manifests_carry_the_vendored_crds() -> None:
    """The Application and AppProject CRDs inside install.yaml are crds/argoproj.io/'s, so this
    test and the rest of the suite check against one Argo CD release."""
    for _, _, vendored in CASES.values():
        crds = {
            doc["metadata"]["name"]: doc
            for doc in documents((VENDORED / vendored).read_text())
            if doc["kind"] == "CustomResourceDefinition"
        }
        for name in ("application", "appproject"):
            crd = yaml.load(
                (TEMPLATE_ROOT / "crds" / "argoproj.io" / f"{name}-crd.yaml").read_text(), SAFE_LOADER
            )
            assert crds[crd["metadata"]["name"]] == crd, (vendored, name)


def test_the_cases_cover_every_answer_argocd_install_depends_on() -> None:
    """An answer that starts to shape argocd/install/ (an argocd-cm patch, say) needs a case here."""
    environment = jinja2.Environment()
    used: set[str] = set()
    for path in sorted(INSTALL_TEMPLATE.rglob("*")):
        texts = [path.name] + ([path.read_text()] if path.name.endswith(".jinja") else [])
        for text in texts:
            tree = environment.parse(text)
            used |= {name.name for name in tree.find_all(nodes.Name) if name.ctx == "load"}
    assert used == COVERED_ANSWERS
    assert {answers.get("argocd_ha", False) for answers, _, _ in CASES.values()} == {False, True}


# --- Dry runs -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Install:
    """argocd/install/ of one case, built: kustomize's text, its objects, the Namespace's labels."""

    text: str
    objects: list[Obj]
    labels: dict[str, str]


@pytest.fixture(scope="module", params=sorted(CASES))
def install(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, kubectl: str
) -> Install:
    answers, upstream, vendored = CASES[request.param]
    work = tmp_path_factory.mktemp(f"argocd-install-{request.param}")
    text = build_install(render(work / "repo", answers), work, kubectl, upstream, vendored)
    objects = documents(text)
    # The template's namespace.yaml, and each of Argo CD's objects once.
    assert len(objects) == len(documents((VENDORED / vendored).read_text())) + 1
    (namespace,) = [obj for obj in objects if obj["kind"] == "Namespace"]
    assert namespace["metadata"]["name"] == "argocd"
    namespaced = [obj for obj in objects if "namespace" in obj["metadata"]]
    assert {obj["metadata"]["namespace"] for obj in namespaced} == {"argocd"}
    # The notifications patch took: its triggers are in the ConfigMap Argo CD ships empty.
    (notifications,) = [obj for obj in objects if obj["metadata"]["name"] == "argocd-notifications-cm"]
    assert {"service.slack", "trigger.on-sync-failed", "trigger.on-health-degraded"} <= set(
        notifications["data"]
    )
    return Install(text, objects, dict(namespace["metadata"].get("labels") or {}))


def pod_security_as_pods_meet_it(labels: dict[str, str]) -> dict[str, str]:
    """The namespace's labels, plus a `warn` at its `enforce` level: enforce judges Pods only, so
    the Deployments' pod templates are judged (as a warning) as their Pods would be."""
    warned = dict(labels)
    for suffix in ("", "-version"):
        if f"{ENFORCE}{suffix}" in labels and f"{WARN}{suffix}" not in labels:
            warned[f"{WARN}{suffix}"] = labels[f"{ENFORCE}{suffix}"]
    return warned


@pytest.mark.api_server
def test_argocd_install_is_accepted(install: Install, api_server: ApiServer) -> None:
    """Every object of the built argocd/install/, in `argocd` labelled as the template labels it;
    nothing tolerated."""
    api_server.namespace("argocd", pod_security_as_pods_meet_it(install.labels))
    result = api_server.apply_dry_run(install.text)
    assert result.ok, result.output
    assert result.applied() == len(install.objects), result.output


@pytest.mark.api_server
def test_argo_cd_meets_restricted_pod_security(install: Install, api_server: ApiServer) -> None:
    """Argo CD's pods meet the "restricted" Pod Security Standard as the template installs them,
    so the template may enforce it on `argocd`. The same objects with one container's
    runAsNonRoot turned off draw the server's warning: the check can fail."""
    restricted = {ENFORCE: "restricted", WARN: "restricted"}
    try:
        api_server.namespace("argocd", {**install.labels, **restricted})
        result = api_server.apply_dry_run(install.text)
        assert result.ok, result.output
        assert result.applied() == len(install.objects), result.output
        rooty = install.text.replace("runAsNonRoot: true", "runAsNonRoot: false", 1)
        assert rooty != install.text
        result = api_server.apply_dry_run(rooty)
        assert not result.ok
        assert 'would violate PodSecurity "restricted:latest": runAsNonRoot != true' in result.stderr
        assert result.stderr.endswith("error: 1 warning received\n"), result.stderr
    finally:
        api_server.namespace("argocd", install.labels)
