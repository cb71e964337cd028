"""Bad answers: refused with a last line that names the problem, and nothing written.

Every case is checked in-process (tests/copier_questions.py): Copier's own `Question` casts the
value, checks its choices and evaluates the question's `validator:` from copier.yml, with the
defaults of every other question, as `copier copy --defaults --data` does, in milliseconds.
The accepted values below show that route can say yes. Five `copier copy` processes, each a
different kind of refusal, check what a user sees: a non-zero exit, nothing written, and a
last line that names the problem, the one the in-process route found.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.answer_sets import COSIGN_KEY
from tests.conftest import TEMPLATE_ROOT, render
from tests.copier_questions import copier_yml, first_refusal
from tests.template_versions import tree_state

COPIER = [sys.executable, "-m", "copier"]

# (question, value as given with --data, text its refusal must contain: the validator's message,
# or Copier's own for a value of the wrong type or not among the choices)
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
    ("soak", "{staging: 1d}", "not a duration"),
    ("soak", "{staging: -1h}", "positive"),
    ("soak", "{qa: 1h}", "not one of the environments"),
    ("soak", "{prod: 24h}", "last environment"),
    ("soak", "[staging]", "soak"),
    ("ci_provider", "jenkins", "ci_provider"),
    ("workload", "helm", "workload"),
    # Found by an adversarial review: accepted, then refused by git, Kubernetes, Go or Kyverno.
    ("target_revision", "HEAD", "not a branch name"),
    ("clusters", "{prod: 'https://prod.example.com:99999'}", "port 99999"),
    ("protected_environments", "[prdo]", "not one of the environments"),
    ("sync_windows", "{prod: {schedule: '*/99999999999999999999 * * * *', duration: 2h}}", "step"),
    ("soak", "{staging: 0.5ns}", "positive"),
]

# Options that exclude each other: (answers, text the refusal must contain)
EXCLUSIVE_ANSWERS = [
    ({"replicas": "{prod: 5}", "autoscaling": "{prod: {min: 2, max: 6}}"}, "either replicas or autoscaling"),
    ({"exposure": "none", "hosts": "{prod: shop.example.com}"}, "exposure is none"),
    ({"exposure": "ingress", "hosts": "{dev: shop.example.com, prod: shop.example.com}"}, "both use"),
    ({"exposure": "ingress", "hosts": "{prod: 010.001.001.001}"}, "not a lowercase DNS host name"),
    (
        {"exposure": "gateway", "hosts": "{prod: '*." + ".".join(["a" * 63] * 3) + "." + "b" * 60 + "'}"},
        "more than 253",
    ),
    (
        {
            "kyverno_policies": "true",
            "cosign_public_key": "-----BEGIN PUBLIC KEY-----\n=\n-----END PUBLIC KEY-----",
        },
        "not a PEM public key",
    ),
    (
        {
            "kyverno_policies": "false",
            "cosign_public_key": COSIGN_KEY,
        },
        "set kyverno_policies to true",
    ),
    ({"app_name": "a" * 53, "environments": "[dev, prod]", "smoke_test": "true"}, "longer than 63"),
    ({"app_name": "platform", "environments": "[dev, policies]"}, "Kyverno policies project"),
    # A chart's questions are checked with workload helm-chart (unasked and unused otherwise), and
    # the manifests' own questions are then refused away from their defaults.
    ({"workload": "helm-chart", "chart_version": "^1.2.0"}, "is a range"),
    ({"workload": "helm-chart", "chart_version": "v1.2.3"}, "without the leading v"),
    ({"workload": "helm-chart", "chart_repo": "http://charts.example.com"}, "plain http"),
    ({"workload": "helm-chart", "chart_repo": "https://bot:token@charts.example.com"}, "credentials"),
    ({"workload": "helm-chart", "chart_name": "My_Chart"}, "not a chart name"),
    ({"workload": "helm-chart", "exposure": "ingress"}, "not used with workload helm-chart"),
    ({"workload": "helm-chart", "container_port": "9090"}, "not used with workload helm-chart"),
    ({"workload": "helm-chart", "replicas": "{prod: 5}"}, "not used with workload helm-chart"),
    ({"workload": "helm-chart", "secrets": "external-secrets"}, "not used with workload helm-chart"),
    ({"workload": "helm-chart", "smoke_test": "true"}, "not used with workload helm-chart"),
    ({"workload": "helm-chart", "namespace_quota": "true"}, "not used with workload helm-chart"),
    ({"workload": "helm-chart", "app_name": "a" * 54}, "Helm limits to 53 characters"),
]

# Accepted answer sets, together giving every question of BAD_ANSWERS a value other than its
# default, several at a boundary: a route that refused everything would fail here.
GOOD_ANSWERS: list[dict[str, str]] = [
    {
        "app_name": "a" + "b" * 54,  # 55 characters: <app>-staging is 63
        "environments": "[dev, staging, prod]",
        "image": "reg.example.com:5000/team/app",
        "image_tag": "sha256:" + "a" * 64,
        "container_port": "65535",
        "service_port": "1",
        "repo_url": "git@git.example.com:platform/gitops.git",
        "argocd_version": "v3.3.0",  # the oldest accepted
        "target_revision": "release/2026.1",
        "team": "shop.core_team",
        "sync_policy": "automated-no-prune",
        "probe_path": "/healthz",
        "writable_paths": "[/tmp, /var/cache/nginx]",
        "notifications_channel": "shop-deploys",
        "platform_team": "@example-org/sre",
        "protected_environments": "[staging, prod]",
    },
    {
        "environments": "[dev, qa, prod-eu]",
        "replicas": "{dev: 0, qa: 1000}",
        "autoscaling": "{prod-eu: {min: 2, max: 2, cpu: 100}}",
        "clusters": "{prod-eu: 'https://eu.example.com:6443/k8s'}",
        "resources": "{prod-eu: {requests: {cpu: '1', memory: 512Mi}, limits: {cpu: 1000m, memory: 0.5Gi}}}",
        "manual_sync_environments": "[prod-eu]",
        "sync_windows": "{prod-eu: {schedule: '0 8 * * 1-5', duration: 10h}}",
        "soak": "{dev: 90m, qa: 1.5h}",
        "ci_provider": "gitlab",
        "exposure": "ingress",
        "ingress_class": "nginx.internal",
        "hosts": "{dev: '*.dev.example.com', prod-eu: shop.xn--p1ai}",
        "secrets": "sealed-secrets",
        "secret_keys": "[DATABASE_PASSWORD, _TOKEN2]",
        "sync_policy": "manual",
        "smoke_test": "true",
    },
    {
        "exposure": "gateway",
        "gateway": "gateway-system/public.gateway",
        "secrets": "external-secrets",
        "secret_store": "aws-secrets-manager",
        "namespace_quota": "true",
        "kyverno_policies": "true",
        "cosign_public_key": COSIGN_KEY,
    },
    {
        "workload": "helm-chart",
        "chart_repo": "oci://registry.example.com:5000/team/charts",
        "chart_name": "a" * 53,
        "chart_version": "1.2.3-rc.1+build.5",
        "manual_sync_environments": "[prod]",
    },
]

# Onboarding into a repository that holds the app `shop` (as `copier copy` of another app into it).
ONBOARDED_APP = "shop"
ONBOARDING_REFUSED = [
    ({"app_name": ONBOARDED_APP}, "already exists"),
    ({"app_name": "cart", "argocd_version": "v3.4.0"}, "gitops.yaml"),
]

# The `copier copy` runs: (answers, onboarding into the repository above, text of the last line).
CLI_RUNS = [
    pytest.param({"replicas": "{qa: 2}"}, False, "not one of the environments", id="yaml-answer"),
    pytest.param({"service_port": "abc"}, False, "'abc'", id="int-cast"),
    pytest.param(
        {"repo_url": 'https://example.com/repo.git"\nsourceRepos: ["*"]'}, False, "repo_url", id="repo-level"
    ),
    pytest.param({"app_name": "a" * 55 + "-service"}, False, "exceed 63", id="app-answer"),
    pytest.param({"app_name": ONBOARDED_APP}, True, "already exists", id="onboarding"),
]


@pytest.fixture(scope="module")
def onboarded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A repository generated with the app `shop`; the tests only read it."""
    return render(tmp_path_factory.mktemp("onboarded") / "repo", {"app_name": ONBOARDED_APP})


@pytest.mark.parametrize(
    ("question", "value", "named"),
    BAD_ANSWERS,
    ids=[f"{q}={v[:24]!r}" for q, v, _ in BAD_ANSWERS],
)
def test_bad_answer_is_refused(tmp_path: Path, question: str, value: str, named: str) -> None:
    refusal = first_refusal({question: value}, tmp_path / "repo")
    assert refusal is not None, f"{question}={value!r} was accepted"
    assert refusal.question == question, refusal
    assert named in refusal.reason, refusal


@pytest.mark.parametrize(("answers", "named"), EXCLUSIVE_ANSWERS, ids=[n for _, n in EXCLUSIVE_ANSWERS])
def test_options_that_exclude_each_other_are_refused(
    tmp_path: Path, answers: dict[str, str], named: str
) -> None:
    refusal = first_refusal(answers, tmp_path / "repo")
    assert refusal is not None, f"{answers} was accepted"
    assert refusal.question in answers, refusal
    assert named in refusal.reason, refusal


def test_defaults_are_accepted(tmp_path: Path) -> None:
    assert first_refusal({}, tmp_path / "repo") is None


@pytest.mark.parametrize("answers", GOOD_ANSWERS, ids=lambda answers: ",".join(answers)[:40])
def test_good_answers_are_accepted(tmp_path: Path, answers: dict[str, str]) -> None:
    assert first_refusal(answers, tmp_path / "repo") is None


def test_every_refused_question_is_also_accepted_with_a_value_of_its_own() -> None:
    refused = {q for q, _, _ in BAD_ANSWERS} | {q for answers, _ in EXCLUSIVE_ANSWERS for q in answers}
    accepted = {q for answers in GOOD_ANSWERS for q in answers}
    assert refused <= accepted, f"no accepted value for {sorted(refused - accepted)}"


@pytest.mark.parametrize(("answers", "named"), ONBOARDING_REFUSED, ids=[n for _, n in ONBOARDING_REFUSED])
def test_onboarding_refusal(onboarded: Path, answers: dict[str, str], named: str) -> None:
    refusal = first_refusal(answers, onboarded)
    assert refusal is not None, f"{answers} was accepted"
    assert refusal.question in answers, refusal
    assert named in refusal.reason, refusal


def test_onboarding_a_new_app_is_accepted(onboarded: Path) -> None:
    """The repo-level answers default to gitops.yaml, so the onboarding checks pass them."""
    assert first_refusal({"app_name": "cart"}, onboarded) is None


def test_answers_name_real_questions() -> None:
    """Copier ignores a --data key that is no question: such a case would test the defaults."""
    given = (
        {q for q, _, _ in BAD_ANSWERS}
        | {q for answers, _ in [*EXCLUSIVE_ANSWERS, *ONBOARDING_REFUSED] for q in answers}
        | {q for answers in GOOD_ANSWERS for q in answers}
        | {q for run in CLI_RUNS for q in run.values[0]}
    )
    assert given <= set(copier_yml().questions)


def test_at_least_twenty_distinct_bad_values() -> None:
    assert len({(q, v) for q, v, _ in BAD_ANSWERS}) >= 20
    assert {q for q, _, _ in BAD_ANSWERS} >= {
        "app_name", "environments", "image", "image_tag", "container_port", "service_port",
        "repo_url", "argocd_version", "target_revision", "replicas", "clusters", "team", "sync_policy",
    }  # fmt: skip


@pytest.mark.parametrize(("answers", "onboarding", "named"), CLI_RUNS)
def test_copier_copy_refuses_with_a_last_line_naming_the_problem(
    tmp_path: Path, request: pytest.FixtureRequest, answers: dict[str, Any], onboarding: bool, named: str
) -> None:
    destination = request.getfixturevalue("onboarded") if onboarding else tmp_path / "repo"
    before = tree_state(destination) if onboarding else {}
    expected = first_refusal(answers, destination)
    assert expected is not None
    data = [arg for key, value in answers.items() for arg in ("--data", f"{key}={value}")]
    result = subprocess.run(
        [*COPIER, "copy", "--trust", "--defaults", "--vcs-ref", "HEAD", *data,
         str(TEMPLATE_ROOT), str(destination)],
        capture_output=True,
        text=True,
    )  # fmt: skip
    assert result.returncode != 0
    if onboarding:
        assert tree_state(destination) == before, "a refused copy changed the repository"
    else:
        assert not destination.exists() or not any(destination.iterdir()), "a refused copy wrote files"
    last_line = result.stderr.strip().splitlines()[-1]
    assert named in last_line, last_line
    # The in-process route stops at the same question with the same words.
    assert last_line.endswith(expected.message.splitlines()[-1]), (last_line, expected.message)
