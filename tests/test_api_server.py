"""What we generate, dry-run-applied to a real kube-apiserver (tests/api_server.py).

Our own checks (tests/repo_invariants.py) are schemas and rules written here; the API server is
the authority. First the fixture is shown to be able to fail: deliberately broken objects are
refused, each for the server's own reason. Then every answer set of the render matrix is rendered
and every object it generates is applied with `--dry-run=server --validate=strict
--warnings-as-errors` into namespaces labelled as the template labels them.
"""

from __future__ import annotations

import itertools
import re
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.answer_sets import ANSWER_SETS
from tests.api_server import ApiServer, DryRun
from tests.conftest import render

# Answer sets whose generated objects the server refuses (a template bug, reported): set -> reason.
REFUSED: dict[str, str] = {}
# Warnings the server gives for what the template generates and that are tolerated: none. (The
# bare Argo CD finalizer drew one until the template named it with its path.)
KNOWN_WARNINGS: tuple[str, ...] = ()
# Pod Security `enforce` applies to Pods only: it says nothing about a Deployment's pod template.
# `warn` does, as a warning, which --warnings-as-errors makes a refusal.
WARN_RESTRICTED = {"pod-security.kubernetes.io/warn": "restricted"}
RESTRICTED = {"pod-security.kubernetes.io/enforce": "restricted", **WARN_RESTRICTED}
_names = itertools.count()


def unique(prefix: str) -> str:
    """A namespace name of this test's own (namespaces never finish deleting on this server)."""
    return f"{prefix}-{next(_names)}"


def deployment(name: str, pod_security: dict[str, Any] | None = None, **resources: Any) -> dict[str, Any]:
    """A Deployment that meets the "restricted" Pod Security Standard unless told otherwise."""
    labels = {"app.kubernetes.io/name": name}
    container: dict[str, Any] = {
        "name": "app",
        "image": "registry.example.com/app:1.0.0",
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
            "readOnlyRootFilesystem": True,
        },
    }
    if resources:
        container["resources"] = resources
    pod = {
        "runAsNonRoot": True,
        "runAsUser": 10001,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "securityContext": pod if pod_security is None else pod_security,
                    "containers": [container],
                },
            },
        },
    }


def app_project(name: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "AppProject",
        "metadata": {"name": name, "namespace": "argocd"},
        "spec": {
            "sourceRepos": ["https://github.com/example-org/gitops.git"],
            "destinations": [{"server": "https://kubernetes.default.svc", "namespace": "web-dev"}],
            **spec,
        },
    }


@pytest.fixture(scope="module")
def argocd(api_server: ApiServer) -> str:
    """The namespace Argo CD's objects live in (the template installs Argo CD there)."""
    return api_server.namespace("argocd")


# --- The fixture can fail: broken objects are refused, each for the server's reason ------------


def test_valid_objects_pass(api_server: ApiServer, argocd: str) -> None:
    """The counterpart of the refusals below: a hardened Deployment in a restricted namespace
    and a plain AppProject are accepted, so a refusal is the broken part's doing."""
    namespace = api_server.namespace(unique("valid"), RESTRICTED)
    result = api_server.apply_dry_run(
        deployment("web", requests={"cpu": "100m"}, limits={"cpu": "1"}), namespace=namespace
    )
    assert result.ok and result.applied() == 1, result.output
    result = api_server.apply_dry_run(app_project("web-dev"))
    assert result.ok and result.applied() == 1, result.output


def test_service_named_like_a_number_is_refused(api_server: ApiServer) -> None:
    """A Service name must be a DNS-1035 label (start with a letter) up to Kubernetes 1.33."""
    namespace = api_server.namespace(unique("service-name"))
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "9x"},
        "spec": {"selector": {"app": "x"}, "ports": [{"port": 80}]},
    }
    result = api_server.apply_dry_run(service, namespace=namespace)
    assert not result.ok
    assert 'metadata.name: Invalid value: "9x": a DNS-1035 label' in result.output, result.output


def test_requests_above_limits_are_refused(api_server: ApiServer) -> None:
    namespace = api_server.namespace(unique("requests"))
    greedy = deployment(
        "greedy", requests={"cpu": "2", "memory": "1Gi"}, limits={"cpu": "1", "memory": "512Mi"}
    )
    result = api_server.apply_dry_run(greedy, namespace=namespace)
    assert not result.ok
    assert 'Invalid value: "2": must be less than or equal to cpu limit of 1' in result.output, result.output
    assert 'Invalid value: "1Gi": must be less than or equal to memory limit of 512Mi' in result.output


def test_pod_template_without_run_as_non_root_is_refused(api_server: ApiServer) -> None:
    """In a namespace that enforces and warns "restricted": PodSecurity's warning for the pod
    template, which --warnings-as-errors turns into a refusal (enforce alone says nothing about
    Deployments, only about the Pods their ReplicaSets would create)."""
    namespace = api_server.namespace(unique("pod-security"), RESTRICTED)
    rooty = deployment("rooty", pod_security={"seccompProfile": {"type": "RuntimeDefault"}})
    result = api_server.apply_dry_run(rooty, namespace=namespace)
    assert not result.ok
    assert 'would violate PodSecurity "restricted:latest"' in result.output, result.output
    assert "runAsNonRoot != true" in result.output, result.output
    # Nothing else is wrong with it.
    assert "allowPrivilegeEscalation" not in result.output and "seccompProfile" not in result.output


def test_app_project_with_an_unknown_field_is_refused(api_server: ApiServer, argocd: str) -> None:
    """Argo CD's own CRD schema, as vendored, decides which fields exist."""
    result = api_server.apply_dry_run(app_project("typo", notAField=True))
    assert not result.ok
    assert ".spec.notAField: field not declared in schema" in result.output, result.output


# --- Everything the template generates ----------------------------------------------------------


@dataclass
class Generated:
    """A rendered repository's objects as Argo CD would apply them: kustomize's output and the
    Argo CD files as they are (their text, never re-serialized: PyYAML and Go's YAML disagree on
    what `1e3` or `on` is), each with its parsed objects."""

    overlays: dict[str, tuple[str, list[dict[str, Any]]]] = field(default_factory=dict)
    argo: tuple[str, list[dict[str, Any]]] = ("", [])
    platform: dict[str, tuple[str, list[dict[str, Any]]]] = field(default_factory=dict)


def build(kubectl: str, folder: Path) -> tuple[str, list[dict[str, Any]]]:
    result = subprocess.run([kubectl, "kustomize", str(folder)], capture_output=True, text=True)
    assert result.returncode == 0, f"{folder} does not build: {result.stderr}"
    return result.stdout, [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def generated(root: Path, kubectl: str) -> Generated:
    overlays = sorted(path.parent for path in root.glob("environments/*/*/kustomization.yaml"))
    platform = sorted(path.parent for path in root.glob("platform/*/kustomization.yaml"))
    folders = overlays + platform
    with ThreadPoolExecutor(max_workers=4) as pool:
        built = dict(zip(folders, pool.map(lambda folder: build(kubectl, folder), folders), strict=True))
    files = [
        path
        for folder in ("apps", "bootstrap")
        for path in sorted((root / "argocd" / folder).rglob("*.yaml"))
        if path.name != "kustomization.yaml"
    ]
    texts = [path.read_text() for path in files]
    return Generated(
        overlays={folder.relative_to(root).as_posix(): built[folder] for folder in overlays},
        argo=("\n---\n".join(texts), [doc for text in texts for doc in yaml.safe_load_all(text) if doc]),
        platform={folder.relative_to(root).as_posix(): built[folder] for folder in platform},
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


@pytest.mark.parametrize(
    "answer_set",
    [
        pytest.param(name, marks=pytest.mark.xfail(reason=REFUSED[name], strict=True))
        if name in REFUSED
        else name
        for name in sorted(ANSWER_SETS)
    ],
)
def test_generated_objects_are_accepted(
    answer_set: str, api_server: ApiServer, argocd: str, tmp_path: Path, kubectl: str
) -> None:
    """Every built overlay, into its namespace labelled as its Application's
    managedNamespaceMetadata labels it (plus `warn: restricted`); every Argo CD object of
    argocd/apps and argocd/bootstrap into `argocd`; the platform's objects. Any refusal or
    warning fails, with the server's message."""
    repo = generated(render(tmp_path / "repo", ANSWER_SETS[answer_set]), kubectl)
    argo = repo.argo[1]
    applications = {obj["spec"]["source"]["path"]: obj for obj in argo if obj["kind"] == "Application"}
    namespaces: dict[str, dict[str, str]] = {}
    for path in repo.overlays:
        spec = applications[path]["spec"]
        labels = spec.get("syncPolicy", {}).get("managedNamespaceMetadata", {}).get("labels", {})
        namespaces[spec["destination"]["namespace"]] = {**labels, **WARN_RESTRICTED}
    for _, objects in repo.platform.values():
        namespaces.update(
            {obj["metadata"]["namespace"]: {} for obj in objects if "namespace" in obj["metadata"]}
        )
    checks = {**repo.overlays, "argocd/apps, argocd/bootstrap": repo.argo, **repo.platform}
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(lambda name: api_server.namespace(name, namespaces[name]), namespaces))
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
    applied = sum(len(objects) for _, objects in checks.values())
    assert not problems, "\n\n".join(problems)
    environments = len(repo.overlays)
    # At least a Deployment and a Service per overlay, an AppProject and an Application per
    # environment, the root Application and its AppProject.
    assert applied >= 4 * environments + 2 and len(argo) >= 2 * environments + 2


def test_application_finalizer_draws_no_warning(api_server: ApiServer, argocd: str, tmp_path: Path) -> None:
    """The template's Applications, as the server sees them with nothing tolerated."""
    root = render(tmp_path / "repo", {})
    text = (root / "argocd" / "apps" / "myapp" / "dev.yaml").read_text()
    result = api_server.apply_dry_run(text)
    assert result.ok, result.output
