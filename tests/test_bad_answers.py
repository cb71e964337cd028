"""Bad answers: the copy exits non-zero, writes nothing, and its last line names the problem."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import TEMPLATE_ROOT

COPIER = [sys.executable, "-m", "copier"]

# (question, value as given with --data, text the last error line must contain)
BAD_ANSWERS = [
    ("app_name", "My_App", "app_name"),
    ("app_name", "-myapp", "app_name"),
    ("app_name", "a" * 64, "app_name"),
    ("app_name", "a" * 55 + "-service", "exceed 63"),  # fits alone, not as <app>-staging
    ("app_name", "kube-proxy", "kube-"),
    ("app_name", "myapp\nkind: Secret", "app_name"),  # YAML injection
    ("environments", "[dev, dev]", "listed twice"),
    ("environments", "[]", "environments"),
    ("environments", "dev", "environments"),  # a string, not a list
    ("environments", "[dev, default]", "reserved"),
    ("environments", "[dev, Prod]", "environments"),
    ("environments", "[dev, {prod: 1}]", "environments"),
    ("environments", "[dev, prod_eu]", "environments"),
    ("image", "nginx:1.27", "holds a tag"),
    ("image", "nginx@sha256:" + "a" * 64, "holds a digest"),
    ("image", "Registry.example.com/App", "image"),
    ("image", "nginx; rm -rf /", "image"),
    ("image_tag", "latest", "latest"),
    ("image_tag", "sha256:1234", "digest"),
    ("image_tag", "1.0 beta", "image_tag"),
    ("image_tag", "-rc1", "image_tag"),
    ("container_port", "0", "container_port"),
    ("container_port", "70000", "container_port"),
    ("service_port", "abc", "'abc'"),
    ("repo_url", "github.com/org/repo", "repo_url"),
    ("repo_url", "ftp://example.com/repo.git", "repo_url"),
    ("repo_url", 'https://example.com/repo.git"\nsourceRepos: ["*"]', "repo_url"),  # YAML injection
    ("argocd_version", "stable", "argocd_version"),
    ("argocd_version", "latest", "argocd_version"),
    ("argocd_version", "3.6.2", "argocd_version"),
    ("argocd_version", "v2.14.0", "argocd_version"),
    ("argocd_version", "v3.2.9", "oldest release"),
    ("target_revision", "main branch", "target_revision"),
    ("target_revision", "../main", "target_revision"),
    ("replicas", "{qa: 2}", "not one of the environments"),
    ("replicas", "{dev: -1}", "replicas"),
    ("replicas", "{dev: two}", "replicas"),
    ("replicas", "[1, 2, 3]", "replicas"),
    ("clusters", "{prod: http://insecure.example.com}", "clusters"),
    ("clusters", "{qa: https://qa.example.com}", "not one of the environments"),
    ("clusters", "{prod: 'https://prod.example.com/'}", "no trailing slash"),
    ("team", "Platform Team", "team"),
    ("sync_policy", "sometimes", "sync_policy"),
    ("resources", "{prod: {requests: {cpu: lots}}}", "quantity"),
    ("resources", "{prod: {limit: {cpu: 1}}}", "resources"),
    ("probe_path", "healthz", "probe_path"),
    ("writable_paths", "[tmp]", "writable_paths"),
    ("autoscaling", "{prod: {min: 5, max: 2}}", "autoscaling"),
    ("exposure", "loadbalancer", "exposure"),
    ("hosts", "{prod: 'Shop Example'}", "hosts"),
    ("gateway", "public", "gateway"),
    ("ingress_class", "Nginx!", "ingress_class"),
    ("manual_sync_environments", "[production]", "manual_sync_environments"),
    ("sync_windows", "{prod: {schedule: 'every day', duration: 2h}}", "cron"),
    ("notifications_channel", "#deploys", "notifications_channel"),
    ("platform_team", "platform team", "platform_team"),
    ("protected_environments", "prod", "protected_environments"),
    ("secrets", "vault", "secrets"),
    ("cosign_public_key", "not a key", "cosign_public_key"),
    ("secret_keys", "[db-password]", "secret_keys"),
    ("secret_store", "My Vault", "secret_store"),
    # Refused since the API-server rules (each accepted by the previous release, which keeps
    # working for answers stored then: test_tightened_rules_keep_stored_answers.py).
    ("app_name", "9lives", "must start with a letter"),
    ("image", "UPPER/case", "lowercase"),
    ("argocd_version", "v03.3.0", "leading zeros"),
    ("resources", "{prod: {requests: {cpu: '2'}}}", "above limits.cpu"),
    ("resources", "{dev: {limits: {memory: 32Mi}}}", "above limits.memory"),
    ("sync_windows", "{prod: {schedule: '99 99 99 99 99', duration: 2h}}", "outside 0-59"),
    ("sync_windows", "{prod: {schedule: '*/0 * * * *', duration: 2h}}", "step"),
    ("sync_windows", "{prod: {schedule: '0 8 * * 1-5', duration: 1d}}", "duration"),
    ("writable_paths", "[/tmp/]", "normalized"),
]

# Options that exclude each other: (answers, text the last error line must contain)
EXCLUSIVE_ANSWERS = [
    ({"replicas": "{prod: 5}", "autoscaling": "{prod: {min: 2, max: 6}}"}, "either replicas or autoscaling"),
    ({"exposure": "none", "hosts": "{prod: shop.example.com}"}, "exposure is none"),
    ({"exposure": "ingress", "hosts": "{dev: shop.example.com, prod: shop.example.com}"}, "both use"),
    (
        {
            "kyverno_policies": "false",
            "cosign_public_key": "-----BEGIN PUBLIC KEY-----\nabc=\n-----END PUBLIC KEY-----",
        },
        "set kyverno_policies to true",
    ),
    ({"app_name": "a" * 53, "environments": "[dev, prod]", "smoke_test": "true"}, "longer than 63"),
    ({"app_name": "platform", "environments": "[dev, policies]"}, "Kyverno policies project"),
]


@pytest.mark.parametrize(
    ("question", "value", "named"),
    BAD_ANSWERS,
    ids=[f"{q}={v[:24]!r}" for q, v, _ in BAD_ANSWERS],
)
def test_bad_answer_is_refused(tmp_path: Path, question: str, value: str, named: str) -> None:
    destination = tmp_path / "repo"
    result = subprocess.run(
        [*COPIER, "copy", "--trust", "--defaults", "--vcs-ref", "HEAD", "--data", f"{question}={value}",
         str(TEMPLATE_ROOT), str(destination)],
        capture_output=True,
        text=True,
    )  # fmt: skip
    assert result.returncode != 0
    assert not destination.exists() or not any(destination.iterdir()), "a refused copy wrote files"
    last_line = result.stderr.strip().splitlines()[-1]
    assert named in last_line, last_line


@pytest.mark.parametrize(("answers", "named"), EXCLUSIVE_ANSWERS, ids=[n for _, n in EXCLUSIVE_ANSWERS])
def test_options_that_exclude_each_other_are_refused(
    tmp_path: Path, answers: dict[str, str], named: str
) -> None:
    destination = tmp_path / "repo"
    data = [arg for key, value in answers.items() for arg in ("--data", f"{key}={value}")]
    result = subprocess.run(
        [
            *COPIER,
            "copy",
            "--trust",
            "--defaults",
            "--vcs-ref",
            "HEAD",
            *data,
            str(TEMPLATE_ROOT),
            str(destination),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert not destination.exists() or not any(destination.iterdir())
    assert named in result.stderr.strip().splitlines()[-1]


def test_at_least_twenty_distinct_bad_values() -> None:
    assert len({(q, v) for q, v, _ in BAD_ANSWERS}) >= 20
    assert {q for q, _, _ in BAD_ANSWERS} >= {
        "app_name", "environments", "image", "image_tag", "container_port", "service_port",
        "repo_url", "argocd_version", "target_revision", "replicas", "clusters", "team", "sync_policy",
    }  # fmt: skip
