"""The server-side dry run of everything one rendered repository generates.

Shared by tests/test_api_server.py (every answer set of the render matrix) and the generative
property (tests/generated_answers.py, the first accepted sets of each run): every built overlay
into its namespace, labelled as its Application's managedNamespaceMetadata labels it plus
`pod-security.kubernetes.io/warn: restricted`; every Argo CD object of argocd/apps and
argocd/bootstrap into `argocd`; the platform's objects. Each group (all overlays, built in one
kubectl process by tests/kustomize_builds.py; Argo CD's files; the platform) is one
`kubectl apply --server-side --dry-run=server --validate=strict --warnings-as-errors`, the groups
in parallel: any refusal and any warning (Pod Security's included) fails, with the server's words.
Every kubectl process costs some 0.3 to 0.8 s of CPU before it does anything (its start and the
server's OpenAPI), so the groups are few.
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
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

Objects = tuple[str, list[dict[str, Any]]]


@dataclass
class Generated:
    """A rendered repository's objects as Argo CD would apply them: kustomize's output and the
    Argo CD files as they are (their text, never re-serialized: PyYAML and Go's YAML disagree on
    what `1e3` or `on` is), each with its parsed objects."""

    overlay_paths: list[str] = field(default_factory=list)
    overlays: Objects = ("", [])
    argo: Objects = ("", [])
    platform: Objects = ("", [])


def build(kubectl: str, folders: list[Path]) -> Objects:
    text = build_stream(kubectl, folders) if folders else ""
    return text, load_documents(text)


def generated(root: Path, kubectl: str) -> Generated:
    overlays = sorted(path.parent for path in root.glob("environments/*/*/kustomization.yaml"))
    platform = sorted(path.parent for path in root.glob("platform/*/kustomization.yaml"))
    with ThreadPoolExecutor(max_workers=2) as pool:
        built_overlays, built_platform = pool.map(partial(build, kubectl), (overlays, platform))
    files = [
        path
        for folder in ("apps", "bootstrap")
        for path in sorted((root / "argocd" / folder).rglob("*.yaml"))
        if path.name != "kustomization.yaml"
    ]
    texts = [path.read_text() for path in files]
    return Generated(
        overlay_paths=[folder.relative_to(root).as_posix() for folder in overlays],
        overlays=built_overlays,
        argo=("\n---\n".join(texts), [doc for text in texts for doc in load_documents(text)]),
        platform=built_platform,
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
        for obj in repo.argo[1]
        if obj.get("kind") == "Application" and "source" in obj.get("spec", {})
    }
    namespaces: dict[str, dict[str, str]] = {}
    for path in repo.overlay_paths:
        assert path in applications, f"no Application deploys {path}"
        spec = applications[path]["spec"]
        labels = (spec.get("syncPolicy") or {}).get("managedNamespaceMetadata", {}).get("labels", {})
        namespaces[spec["destination"]["namespace"]] = {**labels, **WARN_RESTRICTED}
    for obj in repo.platform[1]:
        if obj["metadata"].get("namespace"):  # cluster-scoped objects have none
            namespaces.setdefault(obj["metadata"]["namespace"], {})
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
    checks = {"environments/*/*": repo.overlays, "argocd/apps, argocd/bootstrap": repo.argo}
    if repo.platform[1]:
        checks["platform/*"] = repo.platform
    with ThreadPoolExecutor(max_workers=len(checks)) as pool:
        results = dict(
            zip(
                checks,
                pool.map(lambda check: api_server.apply_dry_run(check[0]), checks.values()),
                strict=True,
            )
        )
    problems = [
        problem
        for what, result in results.items()
        for problem in problems_of(what, result, len(checks[what][1]))
    ]
    assert not problems, "\n\n".join(problems)
    applied = sum(result.applied() for result in results.values())
    environments = len(repo.overlay_paths)
    # At least a Deployment and a Service per overlay, an AppProject and an Application per
    # environment, the root Application and its AppProject.
    assert applied >= 4 * environments + 2, f"only {applied} objects for {environments} environments"
    assert len(repo.argo[1]) >= 2 * environments + 2, f"only {len(repo.argo[1])} Argo CD objects"
    return applied


def load_documents(text: str) -> list[Any]:
    return [doc for doc in yaml.load_all(text, Loader=YAML_LOADER) if doc]
