"""Named answer sets for the render matrix.

Together they give every question every kind of value at least once (see
test_meta.py::test_matrix_covers_every_question), plus the defaults, an all-on and an
all-off set, and a many-environment case.
"""

from __future__ import annotations

from typing import Any

import pytest

# Stands for the tests' chart repository, whose port is known only when it runs: served() fills it in.
CHART_REPOSITORY = "https://charts.tests.invalid"
DIGEST = "sha256:" + "0123456789abcdef" * 4
COSIGN_KEY = (
    "-----BEGIN PUBLIC KEY-----\n"
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE8nXRh950IZbRj8Ra/N9sbqOPZrfM\n"
    "5/KAQN0/KjHcorm/J5yctVd7iEcnessRQjU917hmKO6JWVGHpDguIyakZA==\n"
    "-----END PUBLIC KEY-----"
)

ANSWER_SETS: dict[str, dict[str, Any]] = {
    "defaults": {},
    # The acceptance case of the core issue: a registry with a port, a non-80 port, and
    # an environment inserted between the guide's and a region-suffixed production.
    "four-envs-registry": {
        "environments": ["dev", "qa", "staging", "prod-eu"],
        "image": "reg.example.com:5000/team/app",
        "container_port": 9090,
        "service_port": 8080,
        "repo_url": "ssh://git@git.example.com:2222/platform/gitops.git",
        "replicas": {"qa": 4},
        "clusters": {"prod-eu": "https://prod-eu.example.com:6443"},
        "sync_policy": "automated-no-prune",
        "team": "payments",
        "ci_provider": "gitlab",
        "soak": {"qa": "30m", "staging": "24h"},
    },
    # Every production option on (issue: hardening): autoscaling, quotas, Gateway API, manual
    # sync and a sync window for prod, notifications, ServiceMonitor, HA Argo CD, image signatures.
    # Not the smoke test, which image signatures exclude (its curl image is signed by no platform's
    # key): legitimate-edge-values has it, with a quota.
    "hardened-gateway": {
        "app_name": "payments",
        "soak": {"staging": "24h"},
        "replicas": {"dev": 1},
        "autoscaling": {"staging": {"min": 2, "max": 4}, "prod": {"min": 3, "max": 12, "cpu": 60}},
        "resources": {
            "prod": {"requests": {"cpu": "500m", "memory": "512Mi"}, "limits": {"cpu": "2", "memory": "1Gi"}}
        },
        "namespace_quota": True,
        "exposure": "gateway",
        "hosts": {"prod": "pay.example.com"},
        "gateway": "infra/public-gateway",
        "manual_sync_environments": ["prod"],
        "sync_windows": {"prod": {"schedule": "0 8 * * 1-5", "duration": "10h"}},
        "notifications_channel": "payments-deploys",
        "service_monitor": True,
        "argocd_ha": True,
        "probe_path": "/healthz",
        "writable_paths": ["/tmp", "/var/cache/nginx"],
        "platform_team": "@example-org/sre",
        "protected_environments": ["staging", "prod"],
        "secrets": "external-secrets",
        "secret_store": "aws-secrets-manager",
        "kyverno_policies": True,
        "cosign_public_key": COSIGN_KEY,
        "clusters": {"prod": "https://prod.k8s.example.com:6443"},
    },
    "exposed-ingress": {
        "app_name": "web",
        "exposure": "ingress",
        "ingress_class": "traefik",
        "hosts": {"dev": "web.dev.example.com", "prod": "www.example.com"},
        "writable_paths": [],
        "platform_team": "platform-leads@example.com",
        "secrets": "sealed-secrets",
        "secret_keys": ["API_TOKEN", "SESSION_KEY"],
    },
    # Every optional mapping filled for every environment.
    "all-on": {
        "ci_provider": "github",
        "advanced": True,  # asks more questions, renders nothing else
        "app_name": "checkout",
        "team": "shop.core_team",
        "environments": ["dev", "staging", "prod"],
        "replicas": {"dev": 2, "staging": 3, "prod": 6},
        "clusters": {
            "dev": "https://dev.k8s.example.com",
            "staging": "https://staging.k8s.example.com:443",
            "prod": "https://rancher.example.com/k8s/clusters/c-m-prod",
        },
        "image": "ghcr.io/example-org/shop/checkout",
        "image_tag": "v2.4.1_build.17",
        "target_revision": "release/2026.11",
        "argocd_version": "v3.5.1",
        "sync_policy": "automated",
    },
    # The least the template accepts: one environment, manual sync, a digest release.
    "all-off": {
        "app_name": "a",
        "environments": ["prod"],
        "image_tag": DIGEST,
        "repo_url": "git@github.com:example-org/gitops.git",
        "sync_policy": "manual",
        "ci_provider": "none",
        "replicas": {"prod": 0},
        "container_port": 1,
        "service_port": 65535,
    },
    "many-environments": {
        "app_name": "billing-api",
        "environments": ["dev", "test", "qa", "uat", "staging", "preprod", "prod-us", "prod-eu"],
        "replicas": {"uat": 1, "prod-eu": 5},
        "clusters": {"prod-us": "https://us.example.com:6443", "prod-eu": "https://eu.example.com:6443"},
        "image": "docker.io/library/nginx",
        "image_tag": "1.29",
        "argocd_version": "v3.3.0",
    },
    # Names and values that YAML 1.1 reads as other types when written bare (no, true, null,
    # 123, 1e3): every one must reach Kubernetes as the string it is.
    "yaml-special-names": {
        "app_name": "no",
        "environments": ["true", "null", "123", "1e3"],
        "team": "123",
        "exposure": "ingress",
        "ingress_class": "0x1f",
        "hosts": {"123": "shop.example.com"},
        "secrets": "external-secrets",
        "secret_keys": ["true", "null", "on"],
        "secret_store": "yes",
        "protected_environments": ["1e3"],
        "manual_sync_environments": ["null"],
    },
    # Values Kubernetes and Argo CD accept that the first release refused: a CPU as a YAML
    # float, a memory with an exponent, a punycode host, an IngressClass with dots, day names.
    "legitimate-edge-values": {
        "app_name": "shop",
        "resources": {"prod": {"requests": {"cpu": 0.5, "memory": "1e3"}, "limits": {"memory": "1e9"}}},
        "namespace_quota": True,
        "exposure": "gateway",
        "gateway": "true/null.gateway",
        "hosts": {"prod": "shop.xn--p1ai", "dev": "*.dev.example.com"},
        "sync_windows": {"prod": {"schedule": "0 8 * * MON-FRI", "duration": "1h30m"}},
        "writable_paths": ["/tmp", "/" + "v" * 70, "/" + "v" * 70 + "/cache"],
        "smoke_test": True,
    },
    # The longest app name that still fits `<app>-<env>` into 63 characters.
    "longest-name": {
        "app_name": "a" * 50 + "-service",
        "environments": ["dev", "prod"],
        "image": "localhost:5000/app",
        "repo_url": "https://gitlab.example.com:8443/group/sub-group/gitops",
    },
    # A Helm chart (issue 15) from an https:// chart repository: the tests' own (served()), with
    # the quota and policies around it and a digest release of the chart's image.
    "helm-chart": {
        "app_name": "shop",
        "advanced": True,
        "workload": "helm-chart",
        "chart_repo": CHART_REPOSITORY,
        "chart_name": "hello",
        "chart_version": "0.2.0",
        "image": "ghcr.io/example/hello",
        "image_tag": DIGEST,
        "environments": ["dev", "qa", "prod"],
        "kyverno_policies": True,
        "manual_sync_environments": ["prod"],
        "notifications_channel": "shop-deploys",
    },
}


def served(answers: dict[str, Any], request: pytest.FixtureRequest) -> dict[str, Any]:
    """The answers with the chart repository the tests serve (tests/helm_repository.py) in place of
    CHART_REPOSITORY: its port is known only once it runs. Sets without a chart are returned as
    they are, and start no server."""
    if answers.get("chart_repo") != CHART_REPOSITORY:
        return answers
    repository = request.getfixturevalue("chart_repository")
    return {**answers, "chart_repo": repository.secure_url}
