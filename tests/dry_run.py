"""The server-side dry run of everything one rendered repository generates.

Shared by tests/test_api_server.py (every answer set of the render matrix) and the generative
property (tests/generated_answers.py, the first accepted sets of each run): every built overlay
into its namespace, labelled as its Application's managedNamespaceMetadata labels it plus
`pod-security.kubernetes.io/warn: restricted`; every Argo CD object of argocd/apps and
argocd/bootstrap into `argocd`; the platform's objects. The overlays and the platform are built in
one kubectl process (tests/kustomize_builds.py), and everything goes to the server in one
`kubectl apply --server-side --dry-run=server --validate=strict --warnings-as-errors`: any refusal
and any warning (Pod Security's included) fails, with the server's words, which name each object.
Every kubectl process costs some 0.3 to 0.8 s of CPU before it does anything (its start and the
server's OpenAPI), and the suite is CPU-bound: one of each per repository.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.api_server import ApiServer, DryRun
from tests.kustomize_builds import build_stream
from tests.repo_invariants import YAML_LOADER

# Warnings the server gives for what the template generates and that are tolerated: none. (The
# bare Argo CD finalizer drew one until the template named it with its path.)
KNOWN_WARNINGS: tuple[str, ...] = ()
# Pod Security `enforce` applies to Pods only: it says nothing about a Deployment's pod template.
# `warn` does, as a warning, which --warnings-as-errors makes a refusal.
WARN_RESTRICTED = {"pod-security.kubernetes.io/warn": "restricted"}
# Where the template installs Argo CD, and its Applications and AppProjects live.
ARGOCD_NAMESPACE = "argocd"


@dataclass
class Generated:
    """A rendered repository's objects as Argo CD would apply them: kustomize's output of every
    overlay and platform folder, then the Argo CD files as they are (their text, never
    re-serialized: PyYAML and Go's YAML disagree on what `1e3` or `on` is), with the parsed
    objects of each."""

    overlay_paths: list[str] = field(default_factory=list)
    text: str = ""
    built: list[dict[str, Any]] = field(default_factory=list)
    argo: list[dict[str, Any]] = field(default_factory=list)


def generated(root: Path, kubectl: str) -> Generated:
    overlays = sorted(path.parent for path in root.glob("environments/*/*/kustomization.yaml"))
    platform = sorted(path.parent for path in root.glob("platform/*/kustomization.yaml"))
    built = build_stream(kubectl, [*overlays, *platform])
    files = [
        path
        for folder in ("apps", "bootstrap")
        for path in sorted((root / "argocd" / folder).rglob("*.yaml"))
        if path.name != "kustomization.yaml"
    ]
    texts = [path.read_text() for path in files]
    return Generated(
        overlay_paths=[folder.relative_to(root).as_posix() for folder in overlays],
        text="\n---\n".join([built, *texts]),
        built=load_documents(built),
        argo=[doc for text in texts for doc in load_documents(text)],
    )


def problems_of(what: str, result: DryRun, expected: int) -> list[str]:
    """Nothing, if the server accepted all `expected` objects without a warning (but those of
    KNOWN_WARNINGS); else what it said."""
    if result.applied() == expected and result.ok:
        return []
    # With --warnings-as-errors, kubectl applies everything, then counts the warnings.
    said = [line for line in result.stderr.splitlines() if line not in KNOWN_WARNINGS]
    if result.applied() == expected and all(
        re.fullmatch(r"error: \d+ warnings? received", line) for line in said
    ):
        return []
    return [f"{what}: {result.output}"]


def namespaces_of(repo: Generated) -> dict[str, dict[str, str]]:
    """Each namespace the objects go to, with the labels Argo CD would give it."""
    applications = {
        obj["spec"]["source"]["path"]: obj
        for obj in repo.argo
        if obj.get("kind") == "Application" and "source" in obj.get("spec", {})
    }
    namespaces: dict[str, dict[str, str]] = {}
    for path in repo.overlay_paths:
        assert path in applications, f"no Application deploys {path}"
        spec = applications[path]["spec"]
        labels = (spec.get("syncPolicy") or {}).get("managedNamespaceMetadata", {}).get("labels", {})
        namespaces[spec["destination"]["namespace"]] = {**labels, **WARN_RESTRICTED}
    # No other namespace is made here: an overlay's object in a namespace other than its
    # Application's finds none (unless an earlier test on this server made it) and is refused.
    # The platform's objects are ClusterPolicies; a namespaced one would need its namespace here.
    namespaces.setdefault(ARGOCD_NAMESPACE, {})
    return namespaces


def dry_run_repo(api_server: ApiServer, root: Path, kubectl: str) -> int:
    """Dry-run everything the repository at `root` generates; the number of objects the server
    accepted. AssertionError with the server's messages if it refused or warned about any.

    The namespaces are created for real, with their labels (a namespace already there takes
    exactly these labels): on this server they never go away, and nothing else is stored.
    """
    repo = generated(root, kubectl)
    api_server.namespaces(namespaces_of(repo))
    result = api_server.apply_dry_run(repo.text)
    problems = problems_of(
        "environments/*/*, platform/*, argocd/apps, argocd/bootstrap",
        result,
        len(repo.built) + len(repo.argo),
    )
    assert not problems, "\n\n".join(problems)
    applied = result.applied()
    environments = len(repo.overlay_paths)
    # At least a Deployment and a Service per overlay, an AppProject and an Application per
    # environment, the root Application and its AppProject.
    assert applied >= 4 * environments + 2, f"only {applied} objects for {environments} environments"
    assert len(repo.argo) >= 2 * environments + 2, f"only {len(repo.argo)} Argo CD objects"
    return applied


def load_documents(text: str) -> list[Any]:
    return [doc for doc in yaml.load_all(text, Loader=YAML_LOADER) if doc]
