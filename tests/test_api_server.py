"""What we generate, dry-run-applied to a real kube-apiserver (tests/api_server.py).

Our own checks (tests/repo_invariants.py) are schemas and rules written here; the API server is
the authority. First the fixture is shown to be able to fail: deliberately broken objects are
refused, each for the server's own reason. Then every answer set of the render matrix is rendered
and every object it generates is applied with `--dry-run=server --validate=strict
--warnings-as-errors` into namespaces labelled as the template labels them.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest
from gitopslib.api_checks import api_problems
from gitopslib.repo import Overlay

from tests.answer_sets import ANSWER_SETS, served
from tests.api_server import ApiServer
from tests.conftest import render
from tests.dry_run import ARGOCD_NAMESPACE, WARN_RESTRICTED, dry_run_repo

pytestmark = pytest.mark.api_server

# Answer sets whose generated objects the server refuses (a template bug, reported): set -> reason.
REFUSED: dict[str, str] = {}
# Pod Security `enforce` applies to Pods only; `warn` (tests/dry_run.py) also to pod templates.
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
    return api_server.namespace(ARGOCD_NAMESPACE)


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
    answer_set: str, api_server: ApiServer, tmp_path: Path, kubectl: str, request: pytest.FixtureRequest
) -> None:
    """dry_run_repo (tests/dry_run.py): every built overlay, into its namespace labelled as its Application's
    managedNamespaceMetadata labels it (plus `warn: restricted`); every Argo CD object of
    argocd/apps and argocd/bootstrap into `argocd`; the platform's objects. Any refusal or
    warning fails, with the server's message."""
    answers = served(ANSWER_SETS[answer_set], request)
    applied = dry_run_repo(api_server, render(tmp_path / "repo", answers), kubectl)
    assert applied > 0


def test_application_finalizer_draws_no_warning(api_server: ApiServer, argocd: str, tmp_path: Path) -> None:
    """The template's Applications, as the server sees them with nothing tolerated."""
    root = render(tmp_path / "repo", {})
    text = (root / "argocd" / "apps" / "myapp" / "dev.yaml").read_text()
    result = api_server.apply_dry_run(text)
    assert result.ok, result.output


def test_dry_run_repo_names_what_the_server_refuses(
    api_server: ApiServer, tmp_path: Path, kubectl: str
) -> None:
    """The other side of test_generated_objects_are_accepted: everything a repository generates
    goes to the server in one apply, and one refused field in one overlay fails the check with the
    server's words, which name the object."""
    root = render(tmp_path / "repo", {"app_name": "refused"})
    deployment = root / "applications/base/refused/deployment.yaml"
    deployment.write_text(deployment.read_text() + "bogus: 1\n")
    with pytest.raises(
        AssertionError,
        match=r"(?s)^environments/\*/\*, platform/\*, argocd/apps, argocd/bootstrap: "
        r".*refused-staging/refused.*\.bogus: field not declared",
    ):
        dry_run_repo(api_server, root, kubectl)


# --- validate's port and selector rules (gitopslib/api_ports.py), against the server ------------


def _service(**port: Any) -> dict[str, Any]:
    ports = port.pop("ports", None) or [{"port": 80, **port}]
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web"},
        "spec": {"selector": {"app.kubernetes.io/name": "web"}, "ports": ports},
    }


def _with_container(**fields: Any) -> dict[str, Any]:
    obj = deployment("web")
    obj["spec"]["template"]["spec"]["containers"][0].update(fields)
    return obj


def _with_selector(selector: dict[str, Any]) -> dict[str, Any]:
    obj = deployment("web")
    obj["spec"]["selector"] = selector
    return obj


PORT_AND_SELECTOR_CASES: dict[str, tuple[dict[str, Any], str]] = {
    "container-port-70000": (
        _with_container(ports=[{"containerPort": 70000}]),
        "spec.template.spec.containers[0].ports[0].containerPort",
    ),
    "container-port-0": (
        _with_container(ports=[{"containerPort": 0}]),
        "spec.template.spec.containers[0].ports[0].containerPort",
    ),
    "host-port-70000": (
        _with_container(ports=[{"containerPort": 80, "hostPort": 70000}]),
        "spec.template.spec.containers[0].ports[0].hostPort",
    ),
    "port-name-with-a-double-hyphen": (
        _with_container(ports=[{"containerPort": 80, "name": "web--api"}]),
        "spec.template.spec.containers[0].ports[0].name",
    ),
    "port-name-of-16-characters": (
        _with_container(ports=[{"containerPort": 80, "name": "a" * 16}]),
        "spec.template.spec.containers[0].ports[0].name",
    ),
    "probe-port-0": (
        _with_container(readinessProbe={"httpGet": {"path": "/", "port": 0}}),
        "spec.template.spec.containers[0].readinessProbe.httpGet.port",
    ),
    "probe-port-name-all-digits": (
        _with_container(livenessProbe={"tcpSocket": {"port": "8080"}}),
        "spec.template.spec.containers[0].livenessProbe.tcpSocket.port",
    ),
    "service-port-0": (_service(port=0), "spec.ports[0].port"),
    "service-target-port-70000": (_service(targetPort=70000), "spec.ports[0].targetPort"),
    "service-node-port-70000": (_service(nodePort=70000), "spec.ports[0].nodePort"),
    "service-two-ports-one-unnamed": (
        _service(ports=[{"port": 80}, {"port": 81, "name": "b"}]),
        "spec.ports[0].name",
    ),
    "service-two-ports-one-name": (
        _service(ports=[{"port": 80, "name": "a"}, {"port": 81, "name": "a"}]),
        "spec.ports[1].name",
    ),
    "selector-not-matching-the-template": (
        _with_selector({"matchLabels": {"app.kubernetes.io/name": "other"}}),
        "spec.selector",
    ),
    "selector-expression-excluding-the-template": (
        _with_selector(
            {"matchExpressions": [{"key": "app.kubernetes.io/name", "operator": "NotIn", "values": ["web"]}]}
        ),
        "spec.selector",
    ),
    "selector-empty": (_with_selector({}), "spec.selector"),
}


@pytest.mark.parametrize("case", sorted(PORT_AND_SELECTOR_CASES))
def test_validate_refuses_the_ports_and_selectors_the_server_refuses(
    api_server: ApiServer, case: str
) -> None:
    obj, field = PORT_AND_SELECTOR_CASES[case]
    assert_both_refuse(api_server, obj, field)


def assert_both_refuse(api_server: ApiServer, obj: dict[str, Any], field: str) -> None:
    """The server refuses the object, and validate's rules name the field."""
    namespace = api_server.namespace(unique("refused"))
    result = api_server.apply_dry_run(obj, namespace=namespace)
    assert not result.ok, f"the server accepted it: {result.output}"
    named = [str(problem) for problem in api_problems(Overlay("dev", "web"), [obj])]
    assert any(f": {field}: " in problem for problem in named), named


def test_the_valid_ports_and_selectors_pass_both(api_server: ApiServer) -> None:
    """The counterpart: the same objects with valid values draw no refusal and no problem."""
    namespace = api_server.namespace(unique("ports"))
    objects = [
        _with_container(
            ports=[{"containerPort": 65535, "name": "http-2", "hostPort": 0}],
            readinessProbe={"httpGet": {"path": "/", "port": "http-2"}},
            livenessProbe={"tcpSocket": {"port": 65535}},
        ),
        _service(ports=[{"port": 80, "name": "a", "targetPort": "http-2"}, {"port": 81, "name": "b"}]),
        _with_selector(
            {"matchExpressions": [{"key": "app.kubernetes.io/name", "operator": "In", "values": ["web"]}]}
        ),
    ]
    for obj in objects:
        result = api_server.apply_dry_run(obj, namespace=namespace)
        assert result.ok, result.output
    assert api_problems(Overlay("dev", "web"), objects) == []


def _ingress(
    host: str | None = "shop.example.com", path: str = "/", tls_host: str | None = None
) -> dict[str, Any]:
    rule: dict[str, Any] = {
        "http": {
            "paths": [
                {
                    "path": path,
                    "pathType": "Prefix",
                    "backend": {"service": {"name": "web", "port": {"number": 80}}},
                }
            ]
        }
    }
    if host is not None:
        rule["host"] = host
    spec: dict[str, Any] = {"rules": [rule]}
    if tls_host is not None:
        spec["tls"] = [{"hosts": [tls_host], "secretName": "web-tls"}]
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": "web"},
        "spec": spec,
    }


INGRESS_CASES: dict[str, tuple[dict[str, Any], str]] = {
    "host-an-ip": (_ingress("10.1.1.1"), "spec.rules[0].host"),
    "host-an-ip-with-leading-zeros": (_ingress("010.001.001.001"), "spec.rules[0].host"),
    "host-wildcard-inside": (_ingress("a.*.example.com"), "spec.rules[0].host"),
    "host-uppercase": (_ingress("Shop.example.com"), "spec.rules[0].host"),
    "host-254-with-its-wildcard": (
        _ingress("*." + ".".join(["a" * 63] * 3) + "." + "b" * 60),
        "spec.rules[0].host",
    ),
    "prefix-path-not-absolute": (_ingress(path="api"), "spec.rules[0].http.paths[0].path"),
    "tls-host-wildcard-inside": (_ingress(tls_host="a.*.example.com"), "spec.tls[0].hosts[0]"),
}


@pytest.mark.parametrize("case", sorted(INGRESS_CASES))
def test_validate_refuses_the_ingresses_the_server_refuses(api_server: ApiServer, case: str) -> None:
    obj, field = INGRESS_CASES[case]
    assert_both_refuse(api_server, obj, field)


@pytest.mark.parametrize(
    "obj",
    [
        _ingress("*.dev.example.com", tls_host="*.dev.example.com"),
        _ingress("256.1.1.1"),  # no IP address: a numeric DNS name
        _ingress("*." + ".".join(["a" * 63] * 3) + "." + "b" * 59),  # 253 with its wildcard
        _ingress(None),  # every host: workload_access's to name, not the server's
    ],
    ids=["wildcard", "numeric-name", "253-characters", "no-host"],
)
def test_the_ingresses_the_server_accepts_pass(api_server: ApiServer, obj: dict[str, Any]) -> None:
    namespace = api_server.namespace(unique("ingress"))
    result = api_server.apply_dry_run(obj, namespace=namespace)
    assert result.ok, result.output
    assert [p for p in api_problems(Overlay("dev", "web"), [obj]) if "Ingress" in str(p)] == []
