"""The API-rules oracle: each rule refuses a bad example and accepts good ones, edges included.

Every valid object below is shaped like what the template renders; each mutation breaks exactly
one rule, so the oracle must report exactly one problem, naming the field that was broken.
"""

from __future__ import annotations

import copy
import decimal
from collections.abc import Callable
from typing import Any

import pytest

from tests.api_rules import (
    cron_problem,
    duration_problem,
    image_reference_problem,
    object_problems,
    overlay_problems,
    quantity,
)

Obj = dict[str, Any]
Path = tuple[str | int, ...]
DELETE = object()
APPEND = "<append>"
LABELS = {"app.kubernetes.io/name": "myapp", "app.kubernetes.io/part-of": "myapp"}
SELECTOR = {"app.kubernetes.io/name": "myapp"}
DIGEST = "sha256:" + "0123456789abcdef" * 4


def meta(name: str, namespace: str | None = "myapp-dev") -> Obj:
    metadata: Obj = {
        "name": name,
        "labels": dict(LABELS),
        "annotations": {"argocd.argoproj.io/sync-wave": "1"},
    }
    if namespace is not None:
        metadata["namespace"] = namespace
    return metadata


def container() -> Obj:
    return {
        "name": "myapp",
        "image": "nginxinc/nginx-unprivileged:1.29.3-alpine",
        "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
        "env": [{"name": "LOG_LEVEL", "value": "info"}],
        "envFrom": [{"configMapRef": {"name": "myapp-config"}}],
        "resources": {
            "requests": {"cpu": "100m", "memory": "128Mi"},
            "limits": {"cpu": "500m", "memory": "256Mi"},
        },
        "readinessProbe": {"httpGet": {"path": "/", "port": "http"}},
        "livenessProbe": {"tcpSocket": {"port": 8080}},
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
    }


def pod_template(restart_policy: str | None = None) -> Obj:
    spec: Obj = {
        "serviceAccountName": "myapp",
        "containers": [container()],
        "volumes": [{"name": "tmp", "emptyDir": {}}],
    }
    if restart_policy:
        spec["restartPolicy"] = restart_policy
    return {"metadata": {"labels": dict(LABELS)}, "spec": spec}


def deployment() -> Obj:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": meta("myapp"),
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": dict(SELECTOR)},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": "25%"}},
            "template": pod_template(),
        },
    }


def statefulset() -> Obj:
    obj = deployment()
    obj["kind"] = "StatefulSet"
    obj["metadata"]["name"] = "myapp-db"
    del obj["spec"]["strategy"]
    obj["spec"]["serviceName"] = "myapp-db"
    return obj


def daemonset() -> Obj:
    obj = deployment()
    obj["kind"] = "DaemonSet"
    del obj["spec"]["strategy"], obj["spec"]["replicas"]
    return obj


def job() -> Obj:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": meta("myapp-migrate"),
        "spec": {"backoffLimit": 3, "template": pod_template("Never")},
    }


def cronjob() -> Obj:
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": meta("myapp-report"),
        "spec": {
            "schedule": "0 3 * * *",
            "timeZone": "Europe/Paris",
            "concurrencyPolicy": "Forbid",
            "jobTemplate": {"spec": {"template": pod_template("OnFailure")}},
        },
    }


def service() -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": meta("myapp"),
        "spec": {
            "type": "ClusterIP",
            "selector": dict(SELECTOR),
            "ports": [
                {"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"},
                {"name": "metrics", "port": 9090, "targetPort": 9090},
            ],
        },
    }


def ingress() -> Obj:
    backend = {"service": {"name": "myapp", "port": {"name": "http"}}}
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": meta("myapp"),
        "spec": {
            "ingressClassName": "nginx",
            "tls": [{"hosts": ["myapp.example.com"], "secretName": "myapp-tls"}],
            "rules": [
                {
                    "host": "myapp.example.com",
                    "http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": backend}]},
                }
            ],
        },
    }


def network_policy() -> Obj:
    peer = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}}}
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": meta("myapp-allow-ingress"),
        "spec": {
            "podSelector": {"matchLabels": dict(SELECTOR)},
            "policyTypes": ["Ingress"],
            "ingress": [{"from": [peer], "ports": [{"port": 8080, "protocol": "TCP"}, {"port": "http"}]}],
        },
    }


def hpa() -> Obj:
    target = {"type": "Utilization", "averageUtilization": 70}
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": meta("myapp"),
        "spec": {
            "minReplicas": 2,
            "maxReplicas": 5,
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "myapp"},
            "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": target}}],
        },
    }


def pdb() -> Obj:
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": meta("myapp"),
        "spec": {"minAvailable": 1, "selector": {"matchLabels": dict(SELECTOR)}},
    }


def resource_quota() -> Obj:
    hard = {
        "requests.cpu": "4",
        "requests.memory": "8Gi",
        "limits.cpu": "8",
        "limits.memory": "16Gi",
        "pods": "20",
        "count/deployments.apps": "10",
    }
    return {"apiVersion": "v1", "kind": "ResourceQuota", "metadata": meta("myapp"), "spec": {"hard": hard}}


def limit_range() -> Obj:
    limit = {
        "type": "Container",
        "default": {"cpu": "500m", "memory": "256Mi"},
        "defaultRequest": {"cpu": "100m", "memory": "128Mi"},
        "max": {"cpu": "2", "memory": "1Gi"},
        "min": {"cpu": "10m", "memory": "16Mi"},
    }
    return {"apiVersion": "v1", "kind": "LimitRange", "metadata": meta("myapp"), "spec": {"limits": [limit]}}


def config_map() -> Obj:
    data = {"LOG_LEVEL": "info", "app.properties": "feature=true"}
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta("myapp-config"), "data": data}


def secret() -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": meta("myapp-secret"),
        "type": "Opaque",
        "stringData": {"password": "hunter2"},
    }


def http_route() -> Obj:
    parent = {"name": "gateway", "namespace": "gateway-system", "sectionName": "https"}
    return {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "HTTPRoute",
        "metadata": meta("myapp"),
        "spec": {
            "parentRefs": [parent],
            "hostnames": ["myapp.example.com", "*.myapp.example.com"],
            "rules": [{"backendRefs": [{"name": "myapp", "port": 80, "weight": 1}]}],
        },
    }


def application() -> Obj:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": meta("myapp-dev", "argocd"),
        "spec": {
            "project": "myapp",
            "source": {"repoURL": "https://git.example.com/myapp.git", "path": "overlays/dev"},
            "destination": {"server": "https://kubernetes.default.svc", "namespace": "myapp-dev"},
        },
    }


def app_project() -> Obj:
    window = {"kind": "deny", "schedule": "0 22 * * FRI", "duration": "1h30m", "applications": ["*"]}
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "AppProject",
        "metadata": meta("myapp", "argocd"),
        "spec": {
            "destinations": [{"namespace": "myapp-*", "server": "https://kubernetes.default.svc"}],
            "syncWindows": [window],
        },
    }


def simple(api_version: str, kind: str, name: str, namespace: str | None = "myapp-dev") -> Callable[[], Obj]:
    def build() -> Obj:
        return {"apiVersion": api_version, "kind": kind, "metadata": meta(name, namespace), "spec": {}}

    build.__name__ = kind
    return build


namespace = simple("v1", "Namespace", "myapp-dev", None)
service_account = simple("v1", "ServiceAccount", "myapp")
external_secret = simple("external-secrets.io/v1", "ExternalSecret", "myapp-db")
sealed_secret = simple("bitnami.com/v1alpha1", "SealedSecret", "myapp-api-key")
service_monitor = simple("monitoring.coreos.com/v1", "ServiceMonitor", "myapp")
cluster_policy = simple("kyverno.io/v1", "ClusterPolicy", "require-labels", None)
role = simple("rbac.authorization.k8s.io/v1", "Role", "Myapp:Reader")

FACTORIES: list[Callable[[], Obj]] = [
    deployment,
    statefulset,
    daemonset,
    job,
    cronjob,
    service,
    ingress,
    network_policy,
    hpa,
    pdb,
    resource_quota,
    limit_range,
    config_map,
    secret,
    http_route,
    application,
    app_project,
    namespace,
    service_account,
    external_secret,
    sealed_secret,
    service_monitor,
    cluster_policy,
    role,
]


def mutated(obj: Obj, path: Path, value: object) -> Obj:
    """A deep copy of obj with the value at path replaced (DELETE removes it, APPEND appends)."""
    obj = copy.deepcopy(obj)
    target: Any = obj
    for key in path[:-1]:
        target = target.setdefault(key, {}) if isinstance(key, str) else target[key]
    last = path[-1]
    if value is DELETE:
        del target[last]
    elif last == APPEND:
        target.append(value)
    else:
        target[last] = value
    return obj


@pytest.mark.parametrize("factory", FACTORIES, ids=lambda f: f.__name__)
def test_valid_objects_have_no_problems(factory: Callable[[], Obj]) -> None:
    assert object_problems(factory()) == []


def test_a_whole_valid_overlay_has_no_problems() -> None:
    assert overlay_problems([factory() for factory in FACTORIES]) == []


def test_problem_lines_name_kind_name_and_field() -> None:
    problems = object_problems(mutated(service(), ("metadata", "name"), "1app"))
    assert problems == ["Service/1app: metadata.name: '1app' is not a DNS-1035 label"]


C = ("spec", "template", "spec", "containers", 0)
P = ("spec", "template", "spec")
CP = "spec.template.spec.containers[0]"

# (factory, path, new value, text the single problem must contain)
MUTATIONS: list[Any] = [
    # metadata.name by kind, and YAML 1.1 coercions of names
    pytest.param(deployment, ("metadata", "name"), "My-App", "metadata.name", id="name-uppercase"),
    pytest.param(deployment, ("metadata", "name"), False, "got bool False", id="name-yaml-no"),
    pytest.param(deployment, ("metadata", "name"), 123, "got int 123", id="name-yaml-int"),
    pytest.param(
        deployment, ("metadata", "name"), None, "metadata.name: expected a string, got null", id="name-null"
    ),
    pytest.param(deployment, ("metadata", "name"), DELETE, "metadata.name", id="name-missing"),
    pytest.param(deployment, ("metadata", "name"), "app-", "metadata.name", id="name-trailing-dash"),
    pytest.param(deployment, ("metadata", "name"), "a..b", "metadata.name", id="name-empty-part"),
    pytest.param(service, ("metadata", "name"), "1app", "not a DNS-1035 label", id="service-1035"),
    pytest.param(service, ("metadata", "name"), "my.app", "not a DNS-1035 label", id="service-dot"),
    pytest.param(namespace, ("metadata", "name"), "my.app", "not a DNS-1123 label", id="namespace-label"),
    pytest.param(
        statefulset, ("metadata", "name"), "db.primary", "not a DNS-1123 label", id="statefulset-label"
    ),
    pytest.param(role, ("metadata", "name"), "a/b", "metadata.name", id="rbac-path-segment"),
    pytest.param(external_secret, ("metadata", "name"), "My_Secret", "metadata.name", id="crd-subdomain"),
    pytest.param(cluster_policy, ("metadata", "name"), True, "got bool True", id="crd-yaml-bool"),
    pytest.param(deployment, ("metadata", "namespace"), "My_NS", "metadata.namespace", id="namespace-field"),
    pytest.param(deployment, ("metadata", "namespace"), 2024, "metadata.namespace", id="namespace-int"),
    # labels and annotations
    pytest.param(deployment, ("metadata", "labels", "-bad"), "x", "metadata.labels: key", id="label-key"),
    pytest.param(
        deployment, ("metadata", "labels", "a/b/c"), "x", "metadata.labels: key", id="label-key-2-slash"
    ),
    pytest.param(deployment, ("metadata", "labels", "Bad_Prefix/x"), "x", "prefix", id="label-key-prefix"),
    pytest.param(
        deployment, ("metadata", "labels", "tier"), "front end", "metadata.labels[tier]", id="label-space"
    ),
    pytest.param(deployment, ("metadata", "labels", "tier"), "-x", "metadata.labels[tier]", id="label-dash"),
    pytest.param(deployment, ("metadata", "labels", "enabled"), False, "got bool False", id="label-yaml-no"),
    pytest.param(deployment, ("metadata", "labels", "version"), 1.1, "got float 1.1", id="label-yaml-float"),
    pytest.param(deployment, ("metadata", "labels", "x"), None, "metadata.labels[x]", id="label-null"),
    pytest.param(service_account, ("metadata", "labels"), ["a"], "metadata.labels", id="labels-list"),
    pytest.param(
        deployment, ("metadata", "annotations", "note"), True, "annotations[note]", id="annotation-bool"
    ),
    pytest.param(
        deployment, ("metadata", "annotations", "bad key"), "x", "annotations: key", id="annotation-key"
    ),
    pytest.param(sealed_secret, ("metadata", "annotations", "n"), 7, "annotations[n]", id="annotation-int"),
    # pod templates
    pytest.param(deployment, (*C, "name"), "App", f"{CP}.name", id="container-name"),
    pytest.param(deployment, (*C, "name"), "a" * 64, f"{CP}.name", id="container-name-64"),
    pytest.param(
        deployment, (*P, "initContainers"), [container()], "duplicate container name", id="init-dup"
    ),
    pytest.param(deployment, (*C, "image"), "", f"{CP}.image: image is required", id="image-empty"),
    pytest.param(deployment, (*C, "image"), DELETE, f"{CP}.image", id="image-missing"),
    pytest.param(deployment, (*C, "image"), "app/UPPER:1", f"{CP}.image", id="image-upper"),
    pytest.param(deployment, (*C, "image"), "app:-x", f"{CP}.image", id="image-bad-tag"),
    pytest.param(deployment, (*P, "containers"), [], "at least one container", id="no-containers"),
    pytest.param(deployment, (*C, "ports", 0, "containerPort"), 0, "containerPort", id="port-0"),
    pytest.param(deployment, (*C, "ports", 0, "containerPort"), 65536, "containerPort", id="port-65536"),
    pytest.param(
        deployment, (*C, "ports", 0, "containerPort"), "8080", "expected a port number", id="port-str"
    ),
    pytest.param(deployment, (*C, "ports", 0, "containerPort"), True, "got bool True", id="port-bool"),
    pytest.param(deployment, (*C, "ports", 0, "protocol"), "HTTP", "ports[0].protocol", id="port-protocol"),
    pytest.param(
        deployment,
        (*C, "ports", APPEND),
        {"name": "http", "containerPort": 9090},
        "ports[1].name: duplicate",
        id="port-name-dup",
    ),
    pytest.param(deployment, (*C, "env", 0, "name"), "A=B", "env[0].name", id="env-equals"),
    pytest.param(deployment, (*C, "env", 0, "name"), "", "env[0].name", id="env-empty"),
    pytest.param(deployment, (*C, "env", 0, "name"), "caf\u00e9", "env[0].name", id="env-non-ascii"),
    pytest.param(deployment, (*C, "env", 0, "value"), True, "env[0].value", id="env-value-bool"),
    pytest.param(deployment, (*C, "env", 0, "value"), 8080, "env[0].value", id="env-value-int"),
    pytest.param(
        deployment, (*C, "envFrom", 0, "configMapRef", "name"), "My_Cfg", "configMapRef.name", id="envfrom"
    ),
    pytest.param(
        deployment,
        (*C, "envFrom", 0, "secretRef"),
        {"name": "s"},
        "envFrom[0]: must set exactly one",
        id="envfrom-2",
    ),
    pytest.param(deployment, (*C, "resources", "requests", "cpu"), "abc", "requests[cpu]", id="cpu-abc"),
    pytest.param(
        deployment, (*C, "resources", "limits", "memory"), "1KiB", "limits[memory]", id="memory-KiB"
    ),
    pytest.param(
        deployment, (*C, "resources", "limits", "memory"), "1.5.5", "limits[memory]", id="memory-1.5.5"
    ),
    pytest.param(
        deployment, (*C, "resources", "requests", "cpu"), "1", "more than the limit", id="request>limit"
    ),
    pytest.param(
        deployment, (*C, "resources", "requests", "memory"), "-1Mi", "requests[memory]", id="negative"
    ),
    pytest.param(
        deployment, (*C, "resources", "requests", "memory"), None, "requests[memory]", id="quantity-null"
    ),
    pytest.param(deployment, (*C, "resources", "limits", "gpu"), "1", "limits[gpu]", id="resource-name"),
    pytest.param(
        deployment,
        (*C, "resources", "limits", "requests.example.com/x"),
        "1",
        "extended resource",
        id="requests.",
    ),
    pytest.param(
        deployment,
        (*C, "resources", "requests", "nvidia.com/gpu"),
        "1",
        "limits[nvidia.com/gpu]",
        id="extended",
    ),
    pytest.param(
        deployment,
        (*C, "resources", "limits", "example.com/dongle"),
        "0.5",
        "must be an integer",
        id="extended-int",
    ),
    pytest.param(
        deployment, (*P, "volumes", APPEND), {"name": "Cache", "emptyDir": {}}, "volumes[1].name", id="vol"
    ),
    pytest.param(
        deployment, (*P, "volumes", APPEND), {"name": "tmp", "emptyDir": {}}, "duplicate volume", id="vol-dup"
    ),
    pytest.param(
        deployment, (*C, "volumeMounts", 0, "name"), "cache", "is not a volume of this pod", id="mount-name"
    ),
    pytest.param(
        deployment, (*C, "volumeMounts", 0, "mountPath"), "tmp", "absolute path", id="mount-relative"
    ),
    pytest.param(
        deployment,
        (*C, "volumeMounts", APPEND),
        {"name": "tmp", "mountPath": "/tmp"},
        "volumeMounts[1].mountPath",
        id="mount-dup",
    ),
    pytest.param(
        deployment, (*C, "readinessProbe", "httpGet", "port"), "metrics", "readinessProbe", id="probe-name"
    ),
    pytest.param(deployment, (*C, "livenessProbe", "tcpSocket", "port"), 0, "livenessProbe", id="probe-0"),
    pytest.param(
        deployment, (*C, "livenessProbe", "tcpSocket", "port"), "HTTP", "livenessProbe", id="probe-case"
    ),
    pytest.param(deployment, (*P, "serviceAccountName"), "My_SA", "serviceAccountName", id="service-account"),
    pytest.param(deployment, (*P, "nodeSelector"), {"pool": False}, "nodeSelector[pool]", id="node-selector"),
    pytest.param(deployment, (*P, "restartPolicy"), "Never", "restartPolicy", id="deployment-restart"),
    pytest.param(
        deployment, ("spec", "template", "metadata", "labels", "t"), True, "template.metadata", id="tpl"
    ),
    # controllers
    pytest.param(deployment, ("spec", "replicas"), -1, "spec.replicas", id="replicas-negative"),
    pytest.param(
        deployment, ("spec", "replicas"), "2", "spec.replicas: expected an integer", id="replicas-str"
    ),
    pytest.param(
        deployment, ("spec", "selector"), DELETE, "spec.selector: is required", id="selector-missing"
    ),
    pytest.param(deployment, ("spec", "selector"), {}, "empty selector", id="selector-empty"),
    pytest.param(
        deployment,
        ("spec", "selector", "matchLabels"),
        {"app": "other"},
        "does not match",
        id="selector-mismatch",
    ),
    pytest.param(
        deployment,
        ("spec", "selector", "matchExpressions"),
        [{"key": "app.kubernetes.io/name", "operator": "NotIn", "values": ["myapp"]}],
        "does not match",
        id="selector-expression",
    ),
    pytest.param(
        deployment,
        ("spec", "selector", "matchExpressions"),
        [{"key": "tier", "operator": "Equals", "values": ["x"]}],
        "matchExpressions[0].operator",
        id="selector-operator",
    ),
    pytest.param(
        deployment,
        ("spec", "strategy", "rollingUpdate"),
        {"maxSurge": 0, "maxUnavailable": 0},
        "may not be 0",
        id="0/0",
    ),
    pytest.param(
        deployment, ("spec", "strategy", "rollingUpdate", "maxUnavailable"), "150%", "100%", id="150%"
    ),
    pytest.param(
        deployment, ("spec", "strategy", "rollingUpdate", "maxSurge"), "1.5", "maxSurge", id="surge-str"
    ),
    pytest.param(
        statefulset, ("spec", "serviceName"), "db.headless", "spec.serviceName", id="sts-service-name"
    ),
    pytest.param(
        daemonset, ("spec", "selector", "matchLabels", "x"), "y", "does not match", id="ds-selector"
    ),
    pytest.param(job, (*P, "restartPolicy"), DELETE, "restartPolicy: unset", id="job-restart-unset"),
    pytest.param(job, (*P, "restartPolicy"), "Always", "restartPolicy", id="job-restart-always"),
    pytest.param(job, ("spec", "backoffLimit"), -1, "spec.backoffLimit", id="job-backoff"),
    pytest.param(cronjob, ("spec", "schedule"), "0 3 * *", "spec.schedule", id="cron-4-fields"),
    pytest.param(cronjob, ("spec", "schedule"), "TZ=UTC 0 3 * * *", "spec.schedule", id="cron-tz"),
    pytest.param(cronjob, ("spec", "schedule"), DELETE, "spec.schedule: is required", id="cron-missing"),
    pytest.param(cronjob, ("spec", "timeZone"), "Mars/Olympus", "spec.timeZone", id="cron-timezone"),
    pytest.param(cronjob, ("spec", "timeZone"), "Local", "spec.timeZone", id="cron-local"),
    pytest.param(
        cronjob, ("spec", "concurrencyPolicy"), "Sometimes", "concurrencyPolicy", id="cron-concurrency"
    ),
    pytest.param(
        cronjob,
        ("spec", "jobTemplate", "spec", "template", "spec", "restartPolicy"),
        "Always",
        "jobTemplate.spec.template.spec.restartPolicy",
        id="cron-restart",
    ),
    # services
    pytest.param(service, ("spec", "ports", 0, "port"), 0, "spec.ports[0].port", id="svc-port-0"),
    pytest.param(service, ("spec", "ports", 0, "port"), 65536, "spec.ports[0].port", id="svc-port-65536"),
    pytest.param(service, ("spec", "ports", 0, "targetPort"), "HTTP", "targetPort", id="svc-target-case"),
    pytest.param(service, ("spec", "ports", 0, "targetPort"), 70000, "targetPort", id="svc-target-70000"),
    pytest.param(service, ("spec", "ports", 0, "targetPort"), "8080", "targetPort", id="svc-target-digits"),
    pytest.param(
        service, ("spec", "ports", 0, "protocol"), "ICMP", "spec.ports[0].protocol", id="svc-protocol"
    ),
    pytest.param(
        service, ("spec", "ports", 1, "name"), DELETE, "spec.ports[1].name: is required", id="svc-unnamed"
    ),
    pytest.param(
        service, ("spec", "ports", 1, "name"), "http", "spec.ports[1].name: duplicate", id="svc-dup-name"
    ),
    pytest.param(service, ("spec", "ports", 1, "name"), "Metrics", "spec.ports[1].name", id="svc-name-case"),
    pytest.param(
        service, ("spec", "ports", 1, "port"), 80, "spec.ports[1]: duplicate port", id="svc-dup-port"
    ),
    pytest.param(service, ("spec", "ports", 1, "nodePort"), 30080, "nodePort", id="svc-nodeport"),
    pytest.param(service, ("spec", "ports"), [], "spec.ports", id="svc-no-ports"),
    pytest.param(service, ("spec", "type"), "Internal", "spec.type", id="svc-type"),
    pytest.param(
        service, ("spec", "selector", "app.kubernetes.io/name"), "a" * 64, "spec.selector", id="svc-sel"
    ),
    # ingress
    pytest.param(ingress, ("spec", "rules", 0, "host"), "10.0.0.1", "not an IP address", id="host-ip"),
    pytest.param(
        ingress, ("spec", "rules", 0, "host"), "010.0.0.1", "not an IP address", id="host-ip-sloppy"
    ),
    pytest.param(
        ingress, ("spec", "rules", 0, "host"), "*example.com", "spec.rules[0].host", id="host-wildcard"
    ),
    pytest.param(
        ingress, ("spec", "rules", 0, "host"), "MyApp.example.com", "spec.rules[0].host", id="host-case"
    ),
    pytest.param(ingress, ("spec", "tls", 0, "hosts", 0), "-a.b", "spec.tls[0].hosts[0]", id="tls-host"),
    # Found by tests/test_api_rules_vs_server.py: MilliValue overflows (2^60 * 1000 wraps to -2^63).
    pytest.param(resource_quota, ("spec", "hard", "pods"), "1Ei", "spec.hard[pods]", id="quota-count-1Ei"),
    pytest.param(deployment, ("spec", "replicas"), 2**32, "32-bit", id="replicas-int32"),
    pytest.param(ingress, ("spec", "tls", 0, "secretName"), "My_TLS", "secretName", id="tls-secret"),
    pytest.param(ingress, ("spec", "ingressClassName"), "Nginx", "spec.ingressClassName", id="ingress-class"),
    pytest.param(
        ingress, ("spec", "rules", 0, "http", "paths", 0, "path"), "api", "path", id="path-relative"
    ),
    pytest.param(
        ingress, ("spec", "rules", 0, "http", "paths", 0, "path"), "/a//b", "'//'", id="path-double"
    ),
    pytest.param(
        ingress, ("spec", "rules", 0, "http", "paths", 0, "pathType"), DELETE, "pathType", id="pathtype"
    ),
    pytest.param(
        ingress, ("spec", "rules", 0, "http", "paths", 0, "pathType"), "Regex", "pathType", id="pathtype-x"
    ),
    pytest.param(
        ingress,
        ("spec", "rules", 0, "http", "paths", 0, "backend", "service", "name"),
        "1app",
        "backend.service.name",
        id="backend-1035",
    ),
    pytest.param(
        ingress,
        ("spec", "rules", 0, "http", "paths", 0, "backend", "service", "port"),
        {"number": 70000},
        "port.number",
        id="backend-port-number",
    ),
    pytest.param(
        ingress,
        ("spec", "rules", 0, "http", "paths", 0, "backend", "service", "port"),
        {"name": "http-metrics-port"},
        "port.name",
        id="backend-port-name-16",
    ),
    pytest.param(
        ingress,
        ("spec", "rules", 0, "http", "paths", 0, "backend", "service", "port"),
        {},
        "port name or number is required",
        id="backend-port-missing",
    ),
    # network policies
    pytest.param(
        network_policy, ("spec", "ingress", 0, "ports", 0, "port"), 0, "ports[0].port", id="np-port-0"
    ),
    pytest.param(
        network_policy, ("spec", "ingress", 0, "ports", 1, "port"), "Http", "ports[1].port", id="np-name"
    ),
    pytest.param(
        network_policy, ("spec", "ingress", 0, "ports", 0, "protocol"), "ICMP", "protocol", id="np-proto"
    ),
    pytest.param(
        network_policy, ("spec", "ingress", 0, "ports", 0, "endPort"), 80, "endPort", id="np-endport"
    ),
    pytest.param(network_policy, ("spec", "ingress", 0, "from", 0), {}, "must specify a peer", id="np-peer"),
    pytest.param(network_policy, ("spec", "policyTypes", 0), "Both", "policyTypes[0]", id="np-policy-type"),
    pytest.param(
        network_policy,
        ("spec", "ingress", 0, "from", 0, "ipBlock"),
        {"cidr": "10.0.0.0/8"},
        "may not combine ipBlock",
        id="np-ipblock-combined",
    ),
    # autoscaling, disruption budgets, quotas, limits
    pytest.param(hpa, ("spec", "minReplicas"), 0, "spec.minReplicas", id="hpa-min-0"),
    pytest.param(hpa, ("spec", "maxReplicas"), 1, "spec.maxReplicas", id="hpa-max<min"),
    pytest.param(hpa, ("spec", "maxReplicas"), DELETE, "spec.maxReplicas: is required", id="hpa-max-missing"),
    pytest.param(
        hpa,
        ("spec", "metrics", 0, "resource", "target", "averageUtilization"),
        0,
        "averageUtilization",
        id="hpa-util",
    ),
    pytest.param(
        hpa, ("spec", "metrics", 0, "resource", "target", "type"), "Percent", "target.type", id="hpa-type"
    ),
    pytest.param(hpa, ("spec", "scaleTargetRef", "name"), "a/b", "scaleTargetRef.name", id="hpa-target"),
    pytest.param(pdb, ("spec", "maxUnavailable"), 1, "cannot both be set", id="pdb-both"),
    pytest.param(pdb, ("spec", "minAvailable"), "150%", "spec.minAvailable", id="pdb-150%"),
    pytest.param(pdb, ("spec", "minAvailable"), -1, "spec.minAvailable", id="pdb-negative"),
    pytest.param(pdb, ("spec", "minAvailable"), "half", "spec.minAvailable", id="pdb-word"),
    pytest.param(pdb, ("spec", "minAvailable"), True, "spec.minAvailable", id="pdb-bool"),
    pytest.param(
        resource_quota, ("spec", "hard", "requests.gpu"), "1", "hard[requests.gpu]", id="quota-name"
    ),
    pytest.param(
        resource_quota, ("spec", "hard", "requests.cpu"), "-1", "hard[requests.cpu]", id="quota-negative"
    ),
    pytest.param(
        resource_quota, ("spec", "hard", "requests.memory"), "lots", "hard[requests.memory]", id="quota-q"
    ),
    pytest.param(resource_quota, ("spec", "hard", "pods"), "1.5", "must be an integer", id="quota-integer"),
    pytest.param(
        limit_range, ("spec", "limits", 0, "default", "cpu"), "3", "default[cpu]", id="lr-default>max"
    ),
    pytest.param(limit_range, ("spec", "limits", 0, "min", "cpu"), "150m", "min[cpu]", id="lr-min>request"),
    pytest.param(
        limit_range,
        ("spec", "limits", 0, "defaultRequest", "memory"),
        "512Mi",
        "defaultRequest[memory]",
        id="lr-req",
    ),
    pytest.param(
        limit_range, ("spec", "limits", 0, "max", "memory"), "a lot", "max[memory]", id="lr-quantity"
    ),
    pytest.param(limit_range, ("spec", "limits", 0, "type"), "Node", "spec.limits[0].type", id="lr-type"),
    pytest.param(limit_range, ("spec", "limits", 0, "max", "gpu"), "1", "max[gpu]", id="lr-resource-name"),
    pytest.param(
        limit_range,
        ("spec", "limits", APPEND),
        {"type": "PersistentVolumeClaim", "max": {"cpu": "1"}},
        "min or max storage",
        id="lr-pvc-storage",
    ),
    pytest.param(
        limit_range,
        ("spec", "limits", APPEND),
        {"type": "Container"},
        "spec.limits[1].type: duplicate",
        id="lr-dup",
    ),
    # config maps and secrets
    pytest.param(config_map, ("data", "ENABLED"), True, "data[ENABLED]", id="cm-bool"),
    pytest.param(config_map, ("data", "PORT"), 8080, "data[PORT]", id="cm-int"),
    pytest.param(config_map, ("data", "bad key"), "x", "data: key", id="cm-key"),
    pytest.param(
        config_map, ("binaryData", "LOG_LEVEL"), "aW5mbw==", "binaryData[LOG_LEVEL]", id="cm-dup-key"
    ),
    pytest.param(secret, ("stringData", "enabled"), False, "stringData[enabled]", id="secret-bool"),
    # Gateway API
    pytest.param(http_route, ("spec", "hostnames", 0), "10.0.0.1", "hostnames[0]", id="route-ip"),
    pytest.param(http_route, ("spec", "hostnames", 0), "a" * 254, "hostnames[0]", id="route-254"),
    pytest.param(http_route, ("spec", "hostnames", 0), "*", "hostnames[0]", id="route-star"),
    pytest.param(
        http_route, ("spec", "parentRefs", 0, "name"), "Gateway_1", "parentRefs[0].name", id="route-parent"
    ),
    pytest.param(
        http_route, ("spec", "parentRefs", 0, "namespace"), "a.b", "parentRefs[0].namespace", id="route-ns"
    ),
    pytest.param(
        http_route,
        ("spec", "rules", 0, "backendRefs", 0, "port"),
        DELETE,
        "Must have port",
        id="route-no-port",
    ),
    pytest.param(
        http_route, ("spec", "rules", 0, "backendRefs", 0, "port"), 0, "backendRefs[0].port", id="route-0"
    ),
    pytest.param(
        http_route, ("spec", "rules", 0, "backendRefs", 0, "name"), "1app", "backendRefs[0].name", id="rb"
    ),
    # Argo CD
    pytest.param(application, ("metadata", "name"), "a" * 64, "longer than 63", id="app-name-64"),
    pytest.param(
        application, ("spec", "destination", "namespace"), "My_NS", "destination.namespace", id="app-ns"
    ),
    pytest.param(
        application, ("spec", "destination", "namespace"), False, "destination.namespace", id="app-ns-no"
    ),
    pytest.param(application, ("spec", "project"), DELETE, "spec.project", id="app-project"),
    pytest.param(
        app_project, ("spec", "syncWindows", 0, "kind"), "block", "syncWindows[0].kind", id="window-kind"
    ),
    pytest.param(
        app_project, ("spec", "syncWindows", 0, "schedule"), "@daily", "syncWindows[0].schedule", id="win"
    ),
    pytest.param(
        app_project, ("spec", "syncWindows", 0, "schedule"), "0 8 * * 7", "day of week", id="window-dow-7"
    ),
    pytest.param(
        app_project, ("spec", "syncWindows", 0, "duration"), "1d", "syncWindows[0].duration", id="win-1d"
    ),
    pytest.param(
        app_project, ("spec", "syncWindows", 0, "duration"), 10, "syncWindows[0].duration", id="win-int"
    ),
    pytest.param(
        app_project, ("spec", "syncWindows", 0, "description"), "d" * 256, "description", id="win-desc"
    ),
    pytest.param(
        app_project, ("spec", "destinations", 0, "namespace"), False, "destinations[0].namespace", id="dest"
    ),
]


@pytest.mark.parametrize(("factory", "path", "value", "expected"), MUTATIONS)
def test_each_rule_reports_exactly_the_broken_field(
    factory: Callable[[], Obj], path: Path, value: object, expected: str
) -> None:
    problems = object_problems(mutated(factory(), path, value))
    assert len(problems) == 1, problems
    assert expected in problems[0], problems


# Edge values at every length limit: (factory, path, longest accepted value, one byte more)
LIMITS: list[Any] = [
    pytest.param(deployment, ("metadata", "labels", "tier"), "a" * 63, "a" * 64, id="label-value-63"),
    pytest.param(config_map, ("metadata", "name"), "a" * 253, "a" * 254, id="subdomain-253"),
    pytest.param(deployment, ("metadata", "name"), "a" * 63, "a" * 64, id="deployment-label-63"),
    pytest.param(
        config_map, ("metadata", "name"), ".".join(["a" * 63] * 3), "a" * 63 + "." + "b" * 190, id="sub"
    ),
    pytest.param(service, ("metadata", "name"), "a" * 63, "a" * 64, id="dns1035-63"),
    pytest.param(namespace, ("metadata", "name"), "a" * 63, "a" * 64, id="dns1123-label-63"),
    pytest.param(statefulset, ("metadata", "name"), "a" * 63, "a" * 64, id="statefulset-63"),
    pytest.param(job, ("metadata", "name"), "a" * 63, "a" * 64, id="job-63"),
    pytest.param(cronjob, ("metadata", "name"), "a" * 52, "a" * 53, id="cronjob-52"),
    pytest.param(application, ("metadata", "name"), "a" * 63, "a" * 64, id="application-63"),
    pytest.param(
        network_policy, ("spec", "ingress", 0, "ports", 1, "port"), "h" * 15, "h" * 16, id="port-name-15"
    ),
    pytest.param(deployment, (*C, "ports", 0, "containerPort"), 65535, 65536, id="port-65535"),
    pytest.param(service, ("spec", "ports", 0, "port"), 1, 0, id="port-1"),
    pytest.param(config_map, ("data", "LOG_LEVEL"), "x", 1, id="data-type"),
    pytest.param(http_route, ("spec", "hostnames", 0), "a" * 253, "a" * 254, id="hostname-253"),
    pytest.param(
        app_project, ("spec", "syncWindows", 0, "description"), "d" * 255, "d" * 256, id="description-255"
    ),
    pytest.param(pdb, ("spec", "minAvailable"), "100%", "101%", id="percent-100"),
    pytest.param(hpa, ("spec", "minReplicas"), 1, 0, id="min-replicas-1"),
]


@pytest.mark.parametrize(("factory", "path", "longest", "too_long"), LIMITS)
def test_length_and_range_limits(
    factory: Callable[[], Obj], path: Path, longest: object, too_long: object
) -> None:
    assert object_problems(mutated(factory(), path, longest)) == []
    assert len(object_problems(mutated(factory(), path, too_long))) == 1


def test_label_key_limits() -> None:
    """Name part <= 63, prefix a DNS subdomain <= 253."""
    ok = "a" * 253 + "/" + "b" * 63
    for key, problems in ((ok, 0), ("a" * 254 + "/b", 1), ("a/" + "b" * 64, 1), ("/b", 1), ("a/", 1)):
        assert len(object_problems(mutated(deployment(), ("metadata", "labels", key), "x"))) == problems, key


def test_annotation_total_size_limit() -> None:
    """256 KiB for all keys and values together; keys may hold capitals (checked lower-cased)."""
    base = deployment()
    used = sum(len(k) + len(v) for k, v in base["metadata"]["annotations"].items())
    room = 256 * 1024 - used - len("Big")
    assert object_problems(mutated(base, ("metadata", "annotations", "Big"), "x" * room)) == []
    assert len(object_problems(mutated(base, ("metadata", "annotations", "Big"), "x" * (room + 1)))) == 1


@pytest.mark.parametrize(
    "name", ["MY_VAR", "my.env-name", "1ABC", "with space", "$HOME", "a" * 300], ids=lambda n: n[:12]
)
def test_relaxed_env_var_names_are_accepted(name: str) -> None:
    assert object_problems(mutated(deployment(), (*C, "env", 0, "name"), name)) == []


@pytest.mark.parametrize(
    ("factory", "path", "value"),
    [
        pytest.param(service, ("metadata", "name"), "app1", id="dns1035-app1"),
        pytest.param(role, ("metadata", "name"), "system:Reader_1", id="rbac-any-segment"),
        pytest.param(ingress, ("spec", "rules", 0, "host"), "*.example.com", id="wildcard-host"),
        pytest.param(service, ("spec", "ports", 0, "targetPort"), 0, id="target-port-defaulted"),
        pytest.param(
            service, ("spec", "ports", 0, "name"), "a-long-port-name-over-15", id="svc-port-dns-label"
        ),
        pytest.param(pdb, ("spec", "minAvailable"), DELETE, id="pdb-neither-set"),
        pytest.param(pdb, ("spec", "minAvailable"), "50%", id="pdb-percent"),
        pytest.param(
            deployment, (*C, "envFrom", 0, "configMapRef", "name"), "myapp-", id="envfrom-prefix-dash"
        ),
        pytest.param(deployment, (*C, "ports", 0, "containerPort"), 8080.0, id="integral-float-port"),
        pytest.param(deployment, (*C, "image"), "reg.example.com:5000/team/app:1.0", id="image-registry"),
        pytest.param(deployment, (*C, "resources", "limits", "cpu"), 1, id="quantity-int"),
        pytest.param(deployment, (*C, "resources", "limits", "cpu"), 0.5, id="quantity-float"),
        pytest.param(cronjob, ("spec", "schedule"), "@daily", id="cronjob-descriptor"),
        pytest.param(
            http_route, ("spec", "rules", 0, "backendRefs", 0), {"name": "b", "kind": "Backend", "group": "g"}
        ),
        pytest.param(
            deployment, ("metadata", "annotations", "Example.COM/Note"), "x", id="annotation-capitals"
        ),
        # Found by tests/test_api_rules_vs_server.py: the API server accepted each.
        pytest.param(ingress, ("spec", "tls", 0, "hosts", 0), "1.2.3.4", id="tls-host-like-an-ip"),
        pytest.param(pdb, ("metadata", "name"), "My_App", id="pdb-name-any-segment"),
        pytest.param(resource_quota, ("spec", "hard", "pods"), "1E", id="quota-count-overflow-to-0"),
    ],
)
def test_values_the_api_server_accepts(factory: Callable[[], Obj], path: Path, value: object) -> None:
    assert object_problems(mutated(factory(), path, value)) == []


# ---------------------------------------------------------------------------------------------------
# Quantities
# ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0.5", "0.5"),
        (0.5, "0.5"),
        ("1e3", "1000"),
        ("1E3", "1000"),
        ("500m", "0.5"),
        ("1.5Gi", "1610612736"),
        ("+1", "1"),
        ("1Ki", "1024"),
        (123, "123"),
        ("-2", "-2"),
        ("100n", "0.0000001"),
        ("0.1n", "0.000000001"),  # rounded up to one nano, not refused
        ("1E", "1000000000000000000"),  # E alone is exa
        ("1.", "1"),
        (".5", "0.5"),
        ("  1Mi ", "1048576"),  # UnmarshalJSON trims spaces
        ("0", "0"),
        ("+", "0"),  # ParseQuantity's quirks: a bare sign or suffix is zero
        ("Ki", "0"),
    ],
)
def test_quantities(value: object, expected: str) -> None:
    assert quantity(value) == decimal.Decimal(expected)


@pytest.mark.parametrize(
    "value",
    [
        "1.5.5",
        "abc",
        "1KiB",
        "",
        "1e",
        "1 Ki",
        "\t1",
        "e-10",
        ".e-10",
        "1ki",
        "1e99999999999999999999",
        True,
        None,
        [1],
    ],
    ids=repr,
)
def test_not_quantities(value: object) -> None:
    with pytest.raises(ValueError):
        quantity(value)


def test_not_quantities_nan() -> None:
    with pytest.raises(ValueError):
        quantity(float("nan"))


# ---------------------------------------------------------------------------------------------------
# Cron schedules (Argo CD's robfig/cron v3 parser: 5 fields, no descriptors) and Go durations
# ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "schedule",
    [
        "0 8 * * MON",
        "0 8 * * 1-5",
        "*/15 * * * *",
        "0 8 * * sun",
        "0 22 * * mon-FRI",
        "0 0 1 JAN-DEC ?",
        "0-59/5 0-23 1-31 1-12 0-6",
        "5/10 * * * *",
        "0,30 8-18 * * 1,3,5",
        "  0   8 * * *  ",
        "TZ=Europe/Paris 0 8 * * *",
        "CRON_TZ=UTC 0 8 * * *",
        "+5 * * * *",
    ],
)
def test_cron_accepted(schedule: str) -> None:
    assert cron_problem(schedule) == ""


@pytest.mark.parametrize(
    ("schedule", "reason"),
    [
        ("99 99 99 99 99", "above maximum"),
        ("*/0 * * * *", "step"),
        ("5-1 * * * *", "beyond end"),
        ("0 8 * * 7", "above maximum (6)"),  # robfig v3 spec.go: dow = bounds{0, 6, ...}
        ("0 8 * *", "exactly 5 fields"),
        ("0 0 8 * * *", "exactly 5 fields"),
        ("@daily", "descriptors"),  # Argo CD's parser is built without cron.Descriptor
        ("@every 1h", "descriptors"),
        ("0 8 * * monday", "failed to parse"),
        ("0 8 0 * *", "below minimum"),
        ("0 24 * * *", "above maximum"),
        ("1-2-3 * * * *", "hyphens"),
        ("1/2/3 * * * *", "slashes"),
        ("5/-2 * * * *", "negative"),
        ("TZ=Nowhere/City 0 8 * * *", "bad location"),
        ("TZ=UTC", "TZ="),
        ("", "empty"),
    ],
)
def test_cron_refused(schedule: str, reason: str) -> None:
    assert reason in cron_problem(schedule)


@pytest.mark.parametrize("schedule", [None, 5, True, ["0 8 * * *"]], ids=repr)
def test_cron_wrong_type(schedule: object) -> None:
    assert "expected a cron schedule string" in cron_problem(schedule)


@pytest.mark.parametrize("value", ["10h", "1h30m", "1.5h", "90m", "300ms", "1\u00b5s", "1us", ".5h", "+2h"])
def test_durations_accepted(value: str) -> None:
    assert duration_problem(value) == ""


@pytest.mark.parametrize("value", ["10", "1d", "", "0s", "-1h", "0", "1h 30m", "h", ".h", "2562048h", "1H"])
def test_durations_refused(value: str) -> None:
    assert duration_problem(value)


@pytest.mark.parametrize("value", [None, 10, 1.5, True], ids=repr)
def test_duration_wrong_type(value: object) -> None:
    assert "expected a duration string" in duration_problem(value)


# ---------------------------------------------------------------------------------------------------
# Image references
# ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "ref",
    [
        "nginxinc/nginx-unprivileged:1.29.3-alpine",
        "reg.example.com:5000/team/app:1.0",
        f"localhost/app@{DIGEST}",
        f"ghcr.io/org/app:1.0@{DIGEST}",
        "nginx",
        "library/nginx:latest",
        "a__b/c---d.e_f:T_1.0-x",
        "[::1]:5000/app:1",
        "app:" + "t" * 128,
        # distribution/reference reads an upper-case first component as a registry host.
        "UPPER/case:1",
    ],
)
def test_image_references_accepted(ref: str) -> None:
    assert image_reference_problem(ref) == ""


@pytest.mark.parametrize(
    "ref",
    [
        "app/UPPER:1",
        "UPPER",
        "app:",
        "app:-x",
        "a//b:1",
        "app:" + "t" * 129,
        "-app:1",
        "app_:1",
        "app@sha256:" + "A" * 64,
        "app@sha256:" + "a" * 63,
        "app@md5:" + "a" * 32,
        "f" * 64,
        "a/" * 128 + "b",
        " nginx",
        "",
        False,
        None,
    ],
    ids=repr,
)
def test_image_references_refused(ref: object) -> None:
    assert image_reference_problem(ref)


# ---------------------------------------------------------------------------------------------------
# Cross-object rules within one overlay
# ---------------------------------------------------------------------------------------------------


def test_service_matching_a_workload_is_fine() -> None:
    assert overlay_problems([deployment(), service()]) == []


@pytest.mark.parametrize(
    "workload", [deployment, statefulset, daemonset, job, cronjob], ids=lambda f: f.__name__
)
def test_service_may_select_any_pod_template(workload: Callable[[], Obj]) -> None:
    assert overlay_problems([workload(), service()]) == []


def test_service_selecting_nothing() -> None:
    lonely = mutated(service(), ("spec", "selector"), {"app.kubernetes.io/name": "other"})
    problems = overlay_problems([deployment(), lonely])
    assert len(problems) == 1
    assert problems[0].startswith("Service/myapp: spec.selector:")
    assert "matches no pod template" in problems[0]


def test_service_in_another_namespace_selects_nothing() -> None:
    elsewhere = mutated(service(), ("metadata", "namespace"), "myapp-prod")
    assert len(overlay_problems([deployment(), elsewhere])) == 1


def test_service_without_selector_is_left_alone() -> None:
    assert overlay_problems([mutated(service(), ("spec", "selector"), DELETE)]) == []


def test_duplicate_objects() -> None:
    problems = overlay_problems([deployment(), deployment()])
    assert len(problems) == 1
    assert problems[0].startswith("Deployment/myapp: metadata.name: a second Deployment")


def test_same_name_in_other_namespace_or_kind_is_no_duplicate() -> None:
    other_namespace = mutated(deployment(), ("metadata", "namespace"), "myapp-prod")
    assert overlay_problems([deployment(), other_namespace, service(), config_map()]) == []


def test_cluster_scoped_duplicates_ignore_namespace() -> None:
    assert len(overlay_problems([namespace(), mutated(namespace(), ("metadata", "namespace"), "x")])) == 1


def test_overlay_problems_include_object_problems() -> None:
    broken = mutated(deployment(), ("spec", "replicas"), -1)
    assert overlay_problems([broken, service()]) == object_problems(broken)
