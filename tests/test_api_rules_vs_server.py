"""The independent checker (tests/api_rules/) against the API server: where they disagree, the server wins.

The generative property (tests/generated_answers.py) judges every accepted repository with
tests/api_rules/, rules written from the upstream sources; only the first few sets of a run also
go through the API server. So the rules are checked here against the server itself, object by
object, on a corpus of valid and broken objects: each the same valid object of one kind with one
field (a slot) set to one value. The values are those the answer strategies produce and the edge
cases of each grammar (names like `9x`, `a-`, 63 and 64 characters, capitals, dots; quantities like
`1e3`, `0.001E`, `1Ei`, `-1`, `1.5m`; ports 0 and 65536; port names of 15 and 16 characters, `http_1`,
...): every slot with every value of its pool (hand-picked), then slots and values drawn by
Hypothesis (its own seed per commit, like the generative tests). For every object, api_rules
accepts it exactly when the server does.

The server judges as `kubectl apply --server-side --dry-run=server --validate=strict` does (the same
request, ApiServer.dry_run_object), each object into one namespace without Pod Security labels (Pod
Security is tests/dry_run.py's part). A warning counts as a refusal, as in the dry run. Left out of
the comparison, because the API server does not check them (api_rules does, for Argo CD, the kubelet
or the runtime, see NOT_THE_SERVERS): image references, Argo CD sync windows' cron schedules and
durations, Application names over 63 characters and destination namespaces (any string to the CRD),
relative volume mount paths, probes on undeclared port names, HTTPRoute hostnames that are IPv4
addresses and parent names no Gateway can have (the CRD lets both through), and integers out of
int32 range, which server-side apply alone wraps round (2^32 + 1 replicas become 1) where a create
or a client-side apply, Argo CD's default, refuses them: api_rules refuses them, and judges the rest
of the object on the wrapped value, as server-side apply does."""

from __future__ import annotations

import copy
import re
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

from tests import api_rules
from tests.answer_strategies import BAD_HOSTS, BAD_NAMES, BAD_QUANTITIES, HOSTS, QUANTITIES, YAML_SPECIAL
from tests.api_server import ApiServer, Verdict
from tests.generative_settings import commit_seed

pytestmark = pytest.mark.api_server

Obj = dict[str, Any]
NAMESPACE = "rules-vs-server"
PARALLEL = 8
# Problems api_rules reports that the API server does not look for: pattern -> who refuses instead.
NOT_THE_SERVERS = {
    r"\.image: ": "the kubelet (distribution/reference); the server only refuses blank or padded images",
    r"^AppProject/.*spec\.syncWindows\[\d+\]\.(schedule|duration): ": "Argo CD (SyncWindow.Validate)",
    r"^Application/.*metadata\.name: .* longer than 63 characters": "Argo CD's instance label",
    r"\.mountPath: .* must be an absolute path": "the container runtime",
    # The Application CRD takes any string; the server refuses the namespace when Argo CD creates it.
    r"^Application/.*spec\.destination\.namespace: ": "Argo CD's sync, creating the namespace",
    r"is not a port name this container declares": "the kubelet, whose probes then always fail",
    # The HTTPRoute CRD's hostname pattern lets '1.2.3.4' through; the Gateway API forbids IPs there.
    r"^HTTPRoute/.*spec\.hostnames\[\d+\]: hostname .* is an IP address": "the Gateway API implementation",
    # The CRD takes any 1-253 characters; no Gateway can be named so (a DNS-1123 subdomain).
    r"^HTTPRoute/.*spec\.parentRefs\[\d+\]\.name: .* is not a DNS-1123 subdomain": "the Gateway controller",
    # Server-side apply wraps an int32 round (2^32 + 1 replicas become 1, accepted); a create or a
    # client-side apply (Argo CD's default sync) fails to decode it.
    r"does not fit in a 32-bit integer": "JSON decoding, outside server-side apply",
}
# What the runs judged, for the report: "<verdict> <source>" -> objects.
JUDGED: Counter[str] = Counter()


def server_problems(obj: Obj) -> list[str]:
    """api_rules' problems with obj that the API server is expected to find too."""
    return [
        problem
        for problem in api_rules.object_problems(obj)
        if not any(re.search(pattern, problem) for pattern in NOT_THE_SERVERS)
    ]


# --- Valid objects of each kind, and slots: one field of one kind set to a value --------------------


def container() -> Obj:
    return {
        "name": "app",
        "image": "registry.example.com/team/app:1.0.0",
        "ports": [{"name": "http", "containerPort": 8080}],
        "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"memory": "128Mi"}},
        "readinessProbe": {"httpGet": {"path": "/healthz", "port": "http"}},
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
        "env": [{"name": "MODE", "value": "test"}],
    }


def pod_spec() -> Obj:
    return {"containers": [container()], "volumes": [{"name": "tmp", "emptyDir": {}}]}


def deployment() -> Obj:
    labels = {"app.kubernetes.io/name": "web"}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "labels": {"team": "shop"}, "annotations": {"example.com/note": "x"}},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": dict(labels)}, "spec": pod_spec()},
        },
    }


def statefulset() -> Obj:
    obj = deployment()
    obj["kind"] = "StatefulSet"
    obj["spec"]["serviceName"] = "web"
    return obj


def job_spec() -> Obj:
    spec = pod_spec()
    spec["restartPolicy"] = "Never"
    return {"template": {"spec": spec}}


def job() -> Obj:
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "smoke"}, "spec": job_spec()}


def cronjob() -> Obj:
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "nightly"},
        "spec": {"schedule": "0 3 * * *", "jobTemplate": {"spec": job_spec()}},
    }


def service() -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web"},
        "spec": {
            "selector": {"app.kubernetes.io/name": "web"},
            "ports": [{"name": "http", "port": 80, "targetPort": "http"}],
        },
    }


def config_map() -> Obj:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"}, "data": {"a": "b"}}


def secret() -> Obj:
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "creds"}, "stringData": {"a": "b"}}


def hpa() -> Obj:
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "web"},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
            "minReplicas": 1,
            "maxReplicas": 3,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}},
                }
            ],
        },
    }


def pdb() -> Obj:
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": "web"},
        "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app.kubernetes.io/name": "web"}}},
    }


def quota() -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": {"name": "quota"},
        "spec": {"hard": {"requests.cpu": "2", "requests.memory": "2Gi", "pods": "10"}},
    }


def limit_range() -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "LimitRange",
        "metadata": {"name": "limits"},
        "spec": {
            "limits": [
                {
                    "type": "Container",
                    "default": {"cpu": "500m", "memory": "256Mi"},
                    "defaultRequest": {"cpu": "100m", "memory": "128Mi"},
                    "max": {"cpu": "2", "memory": "1Gi"},
                }
            ]
        },
    }


def ingress() -> Obj:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": "web"},
        "spec": {
            "ingressClassName": "nginx",
            "rules": [
                {
                    "host": "shop.example.com",
                    "http": {
                        "paths": [
                            {
                                "path": "/",
                                "pathType": "Prefix",
                                "backend": {"service": {"name": "web", "port": {"name": "http"}}},
                            }
                        ]
                    },
                }
            ],
            "tls": [{"hosts": ["shop.example.com"], "secretName": "web-tls"}],
        },
    }


def http_route() -> Obj:
    return {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "HTTPRoute",
        "metadata": {"name": "web"},
        "spec": {
            "parentRefs": [{"name": "public", "namespace": "gateway-system"}],
            "hostnames": ["shop.example.com"],
            "rules": [{"backendRefs": [{"name": "web", "port": 80}]}],
        },
    }


def network_policy() -> Obj:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "web"},
        "spec": {
            "podSelector": {"matchLabels": {"app.kubernetes.io/name": "web"}},
            "policyTypes": ["Ingress"],
            "ingress": [{"ports": [{"port": 8080, "protocol": "TCP"}]}],
        },
    }


def namespace_object() -> Obj:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "corpus-namespace"}}


def application() -> Obj:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": "web-dev"},
        "spec": {
            "project": "web",
            "source": {"repoURL": "https://github.com/o/r.git", "path": "environments/dev/web"},
            "destination": {"server": "https://kubernetes.default.svc", "namespace": "web-dev"},
        },
    }


def app_project() -> Obj:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "AppProject",
        "metadata": {"name": "web"},
        "spec": {
            "sourceRepos": ["https://github.com/o/r.git"],
            "destinations": [{"server": "https://kubernetes.default.svc", "namespace": "web-dev"}],
        },
    }


KINDS: dict[str, Callable[[], Obj]] = {
    "Deployment": deployment,
    "StatefulSet": statefulset,
    "Job": job,
    "CronJob": cronjob,
    "Service": service,
    "ConfigMap": config_map,
    "Secret": secret,
    "HorizontalPodAutoscaler": hpa,
    "PodDisruptionBudget": pdb,
    "ResourceQuota": quota,
    "LimitRange": limit_range,
    "Ingress": ingress,
    "HTTPRoute": http_route,
    "NetworkPolicy": network_policy,
    "Namespace": namespace_object,
    "Application": application,
    "AppProject": app_project,
}


def c0(obj: Obj) -> Obj:
    """The first container of a Deployment."""
    return obj["spec"]["template"]["spec"]["containers"][0]


def set_path(obj: Obj, path: Iterable[str | int], value: Any) -> Obj:
    *parents, last = list(path)
    target: Any = obj
    for key in parents:
        target = target[key]
    target[last] = value
    return obj


def edit(make: Callable[[], Obj], path: tuple[str | int, ...]) -> Callable[[Any], Obj]:
    return lambda value: set_path(make(), path, value)


def in_deployment(change: Callable[[Obj, Any], None]) -> Callable[[Any], Obj]:
    def make(value: Any) -> Obj:
        obj = deployment()
        change(obj, value)
        return obj

    return make


def requests_and_limits(obj: Obj, pair: Any) -> None:
    request, limit = pair
    c0(obj)["resources"] = {"requests": {"cpu": request}, "limits": {"cpu": limit}}


def named_probe(obj: Obj, value: Any) -> None:
    """The probe on a named port that the container declares under that name."""
    c0(obj)["ports"][0]["name"] = value
    c0(obj)["readinessProbe"]["httpGet"]["port"] = value


def mount(obj: Obj, value: Any) -> None:
    obj["spec"]["template"]["spec"]["volumes"][0]["name"] = value
    c0(obj)["volumeMounts"][0]["name"] = value


def selector_value(obj: Obj, value: Any) -> None:
    obj["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"] = value
    obj["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/name"] = value


def config_key(obj_maker: Callable[[], Obj], field: str) -> Callable[[Any], Obj]:
    return lambda value: set_path(obj_maker(), (field,), {value: "x"})


def label_key(value: Any) -> Obj:
    return set_path(deployment(), ("metadata", "labels"), {value: "x"})


def annotation_key(value: Any) -> Obj:
    return set_path(deployment(), ("metadata", "annotations"), {value: "x"})


def hpa_range(pair: Any) -> Obj:
    obj = hpa()
    obj["spec"]["minReplicas"], obj["spec"]["maxReplicas"] = pair
    return obj


def quota_resource(value: Any) -> Obj:
    return set_path(quota(), ("spec", "hard"), {value: "1"})


def limit_range_pair(pair: Any) -> Obj:
    obj = limit_range()
    item = obj["spec"]["limits"][0]
    item["defaultRequest"]["cpu"], item["default"]["cpu"] = pair
    return obj


# Value pools, each for the slots of one grammar (some straight from tests/answer_strategies.py).
NAMES = [
    *YAML_SPECIAL,
    *(name for name in BAD_NAMES if name),  # an empty name is refused before any request
    *["web", "9x", "9", "a-", "-a", "a.b", "a..b", "a.b-c.d", "A", "Web", "x_y", "a b", "é"],
    *["a" * 52, "a" * 53, "a" * 63, "a" * 64, "a" * 253, "a" * 254, ("a" * 63 + ".") * 3 + "a" * 61],
    *[("a" * 63 + ".") * 3 + "a" * 62, "a." * 10 + "b", "1.2.3.4", "a-1", "0", "kube-system"],
]
LABEL_VALUES = [
    *YAML_SPECIAL,
    *["", "a", "-a", "a-", "_a", "a_", ".a", "a.", "a_b", "a.b", "a-b", "A", "a b", "é", "a/b", "a:b"],
    *["a" * 63, "a" * 64, "1" * 63, "x" * 20 + "-" + "y" * 42, "a@b"],
]
LABEL_KEYS = [
    *["a", "A", "a/b", "example.com/x", "Example.com/x", "example.com/X", "/x", "x/", "a/b/c"],
    *["a_b", "-a", "a-", "a." + "b", "example.com/" + "a" * 63, "example.com/" + "a" * 64],
    *["a" * 63, "a" * 64, "a" * 253 + "/x", "a" * 254 + "/x", "kubernetes.io/x", "a..b/c", "é/x"],
    *["example_com/x", "1.2.3.4/x", "x" * 62 + "_", "app.kubernetes.io/name"],
]
QUANTITY_VALUES = [
    *QUANTITIES,
    *(quantity for quantity in BAD_QUANTITIES if quantity is not None),
    *["1e3", "0.001E", "1Ei", "-1", "1.5m", "1m", "0.1m", "0.0001", "1n", "1u", "1k", "1K", "1Ki", "1ki"],
    *[
        "1E",
        "1e",
        "1e-3",
        "1E-3",
        ".5",
        "5.",
        "+1",
        "1.",
        "0",
        "-0",
        "00",
        "1e18",
        "8Ei",
        "9223372036854775807",
    ],
    *["1e+3", "1Mi ", "1Mi\n", "0x10", "1_000", "1,5", "1.5e3", "1e3m", "1P", "1Pi", "1.5Ki", "1.0001Ki"],
    *[0, 0.5, 1.5, 100, -1, 1e3, 0.001, 1e-10],
]
PORTS = [0, 1, 80, 8080, 65535, 65536, -1, 70000, 80.0, 80.5, "80", True]
PORT_NAMES = [
    *["http", "http-1", "http_1", "HTTP", "1234", "a--b", "-a", "a-", "a", "1a", "a1", "web.app", "é"],
    *["a" * 15, "a" * 16, "a" * 63, "a" * 64, "x" * 14 + "1", "123456789012345"],
]
HOST_VALUES = [
    *HOSTS,
    *BAD_HOSTS,
    *["*", "*.", "a.*.b", "*a.b", "a" * 63 + ".com", "a" * 64 + ".com", "::1", "[::1]", "a_b.com"],
    *["localhost", "xn--p1ai", "1.2.3", "01.02.03.04", "a.b.c.d.e.f", "-", "é.com", "a-.com"],
]
SCHEDULES = [
    *["0 8 * * 1-5", "*/15 * * * *", "0 22 * * sat,sun", "@daily", "@hourly", "@every 1h"],
    *["99 99 99 99 99", "*/0 * * * *", "5-1 * * * *", "0 8 * * 7", "0 8 * *", "0 8 * * funday"],
    *["0 0 31 12 6", "30 2 1 jan-mar ?", "0 0 0 * *", "60 * * * *", "* * * * * *", "TZ=UTC 0 8 * * *"],
    *["CRON_TZ=Europe/Paris 0 8 * * *", "", " 0 8 * * *", "0 8 * * 0-6", "0 24 * * *", "0 8 L * *"],
]
TIME_ZONES = [
    "UTC",
    "Europe/Paris",
    "Local",
    "local",
    "Mars/Base",
    "",
    "America/Argentina/Buenos_Aires",
    "utc",
]
INT_OR_PERCENT = [0, 1, -1, "0%", "50%", "100%", "101%", "-1%", "50", "abc", "1.5%", 1.5, "50 %"]
COUNTS = [-1, 0, 1, 3, 1000, 2**31 - 1, 2**31, 2**32 + 1, 2**63, 1.5, "3", True]
ENV_NAMES = ["MODE", "mode", "a.b", "a-b", "1A", "_X", "A=B", "A B", "é", "~", "A\tB", "true"]
CONFIG_KEYS = ["a", "a.b", "a_b", "a-b", ".a", "..a", ".", "..", "a/b", "a b", "a" * 253, "a" * 254, "A"]
QUOTA_RESOURCES = [
    *["cpu", "memory", "requests.cpu", "limits.memory", "pods", "services", "count/deployments.apps"],
    *["requests.nvidia.com/gpu", "nvidia.com/gpu", "foo", "requests.foo", "hugepages-2Mi", "storage"],
    *["example.com/foo", "Requests.cpu", "requests.storage", "configmaps", "a/b/c"],
]
RESOURCE_NAMES = [
    "cpu",
    "memory",
    "ephemeral-storage",
    "hugepages-2Mi",
    "nvidia.com/gpu",
    "foo",
    "example.com/Foo",
]
PATHS = ["/", "/tmp", "/a/b", "tmp", "a/b", "/tmp/", "//tmp", "/a/../b", "/a b", "/.."]

Slot = tuple[str, Callable[[Any], Obj], list[Any]]
SLOTS: list[Slot] = [
    *[(f"{kind} name", edit(make, ("metadata", "name")), NAMES) for kind, make in KINDS.items()],
    ("label value", edit(deployment, ("metadata", "labels", "team")), LABEL_VALUES),
    ("label key", label_key, LABEL_KEYS),
    ("annotation key", annotation_key, LABEL_KEYS),
    ("selector and template label value", in_deployment(selector_value), LABEL_VALUES),
    (
        "namespace label value",
        edit(namespace_object, ("metadata", "labels")),
        [{"team": v} for v in LABEL_VALUES],
    ),
    (
        "cpu request",
        in_deployment(lambda o, v: set_path(c0(o), ("resources", "requests", "cpu"), v)),
        QUANTITY_VALUES,
    ),
    (
        "memory limit",
        in_deployment(lambda o, v: set_path(c0(o), ("resources", "limits", "memory"), v)),
        QUANTITY_VALUES,
    ),
    (
        "cpu request and limit",
        in_deployment(requests_and_limits),
        [
            ("1", "1"),
            ("2", "1"),
            ("1001m", "1"),
            ("1000m", "1"),
            ("1e3", "1k"),
            ("1.5", "1500m"),
            ("0.5", 0.5),
        ],
    ),
    (
        "resource name",
        in_deployment(lambda o, v: set_path(c0(o), ("resources", "requests"), {v: "1"})),
        RESOURCE_NAMES,
    ),
    ("container port", in_deployment(lambda o, v: set_path(c0(o), ("ports", 0, "containerPort"), v)), PORTS),
    ("container port name", in_deployment(named_probe), PORT_NAMES),
    (
        "probe port number",
        in_deployment(lambda o, v: set_path(c0(o), ("readinessProbe", "httpGet", "port"), v)),
        PORTS,
    ),
    ("service port", edit(service, ("spec", "ports", 0, "port")), PORTS),
    ("service port name", edit(service, ("spec", "ports", 0, "name")), PORT_NAMES),
    ("service targetPort", edit(service, ("spec", "ports", 0, "targetPort")), PORTS + PORT_NAMES),
    ("service selector value", edit(service, ("spec", "selector", "app.kubernetes.io/name")), LABEL_VALUES),
    ("volume and mount name", in_deployment(mount), NAMES),
    ("env name", in_deployment(lambda o, v: set_path(c0(o), ("env", 0, "name"), v)), ENV_NAMES),
    ("ConfigMap key", config_key(config_map, "data"), CONFIG_KEYS),
    ("Secret key", config_key(secret, "stringData"), CONFIG_KEYS),
    ("replicas", edit(deployment, ("spec", "replicas")), COUNTS),
    ("HPA min and max", hpa_range, [(1, 1), (0, 1), (2, 1), (1, 0), (-1, 3), (1, 1001), (3, 3)]),
    (
        "HPA CPU utilization",
        edit(hpa, ("spec", "metrics", 0, "resource", "target", "averageUtilization")),
        [0, 1, 80, 100, 101, 1000, -1],
    ),
    ("PDB minAvailable", edit(pdb, ("spec", "minAvailable")), INT_OR_PERCENT),
    ("quota amount", edit(quota, ("spec", "hard", "requests.cpu")), QUANTITY_VALUES),
    ("quota count", edit(quota, ("spec", "hard", "pods")), QUANTITY_VALUES),
    ("quota resource", quota_resource, QUOTA_RESOURCES),
    ("LimitRange default", edit(limit_range, ("spec", "limits", 0, "default", "memory")), QUANTITY_VALUES),
    ("LimitRange request and default", limit_range_pair, [("1", "1"), ("2", "1"), ("100m", "2"), ("3", "2")]),
    ("Ingress host", edit(ingress, ("spec", "rules", 0, "host")), HOST_VALUES),
    ("Ingress TLS host", edit(ingress, ("spec", "tls", 0, "hosts", 0)), HOST_VALUES),
    ("Ingress class", edit(ingress, ("spec", "ingressClassName")), NAMES),
    (
        "Ingress backend service",
        edit(ingress, ("spec", "rules", 0, "http", "paths", 0, "backend", "service", "name")),
        NAMES,
    ),
    ("Ingress path", edit(ingress, ("spec", "rules", 0, "http", "paths", 0, "path")), PATHS),
    ("HTTPRoute hostname", edit(http_route, ("spec", "hostnames", 0)), HOST_VALUES),
    ("HTTPRoute parent", edit(http_route, ("spec", "parentRefs", 0, "name")), NAMES),
    ("HTTPRoute backend port", edit(http_route, ("spec", "rules", 0, "backendRefs", 0, "port")), PORTS),
    (
        "NetworkPolicy port",
        edit(network_policy, ("spec", "ingress", 0, "ports", 0, "port")),
        PORTS + PORT_NAMES,
    ),
    ("CronJob schedule", edit(cronjob, ("spec", "schedule")), SCHEDULES),
    ("CronJob time zone", edit(cronjob, ("spec", "timeZone")), TIME_ZONES),
    ("Application destination namespace", edit(application, ("spec", "destination", "namespace")), NAMES),
    ("mount path", in_deployment(lambda o, v: set_path(c0(o), ("volumeMounts", 0, "mountPath"), v)), PATHS),
]


@dataclass(frozen=True)
class Judged:
    slot: str
    value: Any
    obj: Obj
    rules: tuple[str, ...]
    server: Verdict

    @property
    def agree(self) -> bool:
        # A warning counts as a refusal, as in tests/dry_run.py (--warnings-as-errors).
        return (not self.rules) == (self.server.accepted and not self.server.warnings)

    def disagreement(self) -> str:
        rules = "accepts" if not self.rules else f"refuses: {'; '.join(self.rules)}"
        server = (
            f"refuses ({self.server.status}): {self.server.message}"
            if not self.server.accepted
            else f"warns: {'; '.join(self.server.warnings)}"
            if self.server.warnings
            else "accepts"
        )
        return f"{self.slot} = {self.value!r}: api_rules {rules}\n    the API server {server}"


def judge(api_server: ApiServer, cases: list[tuple[str, Any]], source: str) -> list[Judged]:
    """Each (slot, value) as an object, judged by api_rules and by the server (in parallel)."""
    slots = {name: make for name, make, _ in SLOTS}
    objects = [slots[slot](copy.deepcopy(value)) for slot, value in cases]
    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        verdicts = list(pool.map(lambda obj: api_server.dry_run_object(obj, NAMESPACE), objects))
    judged = [
        Judged(slot, value, obj, tuple(server_problems(obj)), verdict)
        for (slot, value), obj, verdict in zip(cases, objects, verdicts, strict=True)
    ]
    for item in judged:
        JUDGED[f"{'valid' if item.server.accepted else 'broken'} {source}"] += 1
        # A refusal for the object's sake: 4xx, or 500 for what server-side apply cannot type or
        # convert (a quantity that does not parse, a string port). Anything else is a wrong request
        # or a server in trouble.
        status, message = item.server.status, item.server.message
        typing = message.startswith(("failed to create typed patch object", "failed to convert new object"))
        assert item.server.accepted or 400 <= status < 500 or (status == 500 and typing), (
            f"{item.slot} = {item.value!r}: {status} {message}"
        )
    return judged


@pytest.fixture(scope="module")
def corpus_namespace(api_server: ApiServer) -> str:
    return api_server.namespace(NAMESPACE)


def test_hand_picked_corpus(api_server: ApiServer, corpus_namespace: str) -> None:
    """Every slot with every value of its pool: api_rules and the server agree on each object."""
    cases = [(slot, value) for slot, _, values in SLOTS for value in values]
    judged = judge(api_server, cases, "hand-picked")
    disagreements = [item.disagreement() for item in judged if not item.agree]
    assert not disagreements, f"{len(disagreements)} of {len(judged)}:\n" + "\n".join(disagreements)
    # The corpus has both sides: many objects the server refuses, many it accepts.
    refused = sum(not item.server.accepted for item in judged)
    assert 200 <= refused <= len(judged) - 200, f"{refused} of {len(judged)} refused"


# Drawn values: the pools' values, mixed with strings and numbers of each grammar's neighbourhood.
name_like = st.one_of(
    st.sampled_from(NAMES),
    st.from_regex(r"[-a-z0-9.]{1,70}", fullmatch=True),
    st.from_regex(r"[a-z][-a-z0-9]{50,64}", fullmatch=True),
    st.from_regex(r"[-a-zA-Z0-9._]{1,20}", fullmatch=True),
)
label_like = st.one_of(st.sampled_from(LABEL_VALUES), st.from_regex(r"[-a-zA-Z0-9._]{0,66}", fullmatch=True))
quantity_like = st.one_of(
    st.sampled_from(QUANTITY_VALUES),
    st.from_regex(r"[+-]?[0-9]{0,4}(\.[0-9]{0,4})?(m|k|M|G|Ki|Mi|Gi|Ei|E|e[+-]?[0-9]{1,2}|)", fullmatch=True),
    st.integers(-10, 10**6),
    st.floats(-10, 10**6, allow_nan=False).map(lambda number: round(number, 4)),
)
port_like = st.one_of(st.sampled_from(PORTS), st.integers(-2, 70000))
port_name_like = st.one_of(st.sampled_from(PORT_NAMES), st.from_regex(r"[-a-z0-9_A-Z]{1,17}", fullmatch=True))
host_like = st.one_of(
    st.sampled_from(HOST_VALUES),
    st.from_regex(r"(\*\.)?[-a-z0-9]{1,10}(\.[-a-z0-9]{1,10}){0,3}", fullmatch=True),
)
DRAWN = {
    "name": name_like,
    "label": label_like,
    "quantity": quantity_like,
    "port": port_like,
    "port name": port_name_like,
    "host": host_like,
}
POOL_KIND = [
    (NAMES, "name"),
    (LABEL_VALUES, "label"),
    (QUANTITY_VALUES, "quantity"),
    (PORTS, "port"),
    (PORT_NAMES, "port name"),
    (HOST_VALUES, "host"),
]


def drawn_values(values: list[Any]) -> st.SearchStrategy[Any]:
    for pool, kind in POOL_KIND:
        if values is pool:
            return DRAWN[kind]
    return st.sampled_from(values)


cases = st.sampled_from(SLOTS).flatmap(lambda slot: st.tuples(st.just(slot[0]), drawn_values(slot[2])))
DRAWN_BATCH = 25
DRAWN_BATCHES = 40


@seed(commit_seed() + 3)
@settings(
    max_examples=DRAWN_BATCHES,
    # No shrinking: a batch's every disagreement is reported as it is (shrinking batches of objects
    # that each need a request took minutes).
    phases=[Phase.explicit, Phase.generate],
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(batch=st.lists(cases, min_size=DRAWN_BATCH, max_size=DRAWN_BATCH))
def test_drawn_corpus(api_server: ApiServer, corpus_namespace: str, batch: list[tuple[str, Any]]) -> None:
    """Slots and values drawn by Hypothesis, a batch of objects per example, judged in parallel."""
    judged = judge(api_server, batch, "drawn")
    disagreements = [item.disagreement() for item in judged if not item.agree]
    assert not disagreements, "\n".join(disagreements)


def test_dry_run_object_answers_as_kubectl(api_server: ApiServer, corpus_namespace: str) -> None:
    """The request dry_run_object sends is kubectl's: the same verdict for valid and broken objects."""
    picked = [
        ("Service name", "9x"),
        ("Service name", "web"),
        ("cpu request", "1e3"),
        ("cpu request", "1KiB"),
    ]
    picked += [
        ("container port name", "http_1"),
        ("label value", "a" * 64),
        ("Ingress host", "*.example.com"),
    ]
    slots = {name: make for name, make, _ in SLOTS}
    for slot, value in picked:
        obj = slots[slot](value)
        verdict = api_server.dry_run_object(obj, NAMESPACE)
        by_kubectl = api_server.apply_dry_run(obj, namespace=NAMESPACE)
        assert verdict.accepted == (by_kubectl.applied() == 1), (slot, value, verdict, by_kubectl.output)
