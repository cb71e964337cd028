"""A repository of the previous release, answered away from every default, keeps every answer.

The `advanced` question gates the optional ones with `ask:`. Copier keeps the stored answer of a
question it does not ask, so an update (with `--defaults` as Renovate runs it, or interactive,
Enter at every prompt) must leave each stored answer as it was; `when:` would have dropped them.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pexpect
import pytest
import yaml

from tests.conftest import run_gitops
from tests.template_versions import (
    PREVIOUS_RELEASE,
    RELEASES,
    commit_all,
    copier_update,
    generate,
    git,
    replace_with_work_tree,
    template_at_commit,
)
from tests.test_interactive_copy import QMARK, QUESTIONS

PREVIOUS = PREVIOUS_RELEASE
GATED = sorted(name for name, spec in QUESTIONS.items() if "advanced" in str(spec.get("ask", "")))
# Gated questions the previous release did not have: the update gives them their defaults.
ADDED_SINCE_PREVIOUS = {"ci_provider": "github", "soak": {}, "workload": "manifests"}

# Every question the previous release asks, none at its default.
ANSWERS: dict[str, Any] = {
    # A GitLab host: a new copy would pick ci_provider gitlab; this repository has GitHub's files.
    "repo_url": "git@gitlab.example.com:platform/gitops.git",
    "target_revision": "deploy",
    "environments": ["dev", "qa", "prod"],
    "clusters": {"prod": "https://prod.example.com:6443"},
    "argocd_version": "v3.5.1",
    "platform_team": "@example-org/sre",
    "protected_environments": ["qa", "prod"],
    "argocd_ha": True,
    "kyverno_policies": True,
    "app_name": "shop",
    "team": "payments",
    "image": "reg.example.com:5000/team/shop",
    "image_tag": "2.4.1",
    "container_port": 9090,
    "service_port": 8081,
    "replicas": {"dev": 2},
    "resources": {"prod": {"requests": {"cpu": "300m", "memory": "300Mi"}}},
    "probe_path": "/healthz",
    "writable_paths": ["/tmp", "/var/cache/shop"],
    "autoscaling": {"prod": {"min": 3, "max": 6, "cpu": 60}},
    "namespace_quota": True,
    "exposure": "ingress",
    "hosts": {"prod": "shop.example.com"},
    "ingress_class": "internal",
    "manual_sync_environments": ["prod"],
    "sync_windows": {"prod": {"schedule": "0 8 * * 1-5", "duration": "10h"}},
    "notifications_channel": "shop-deploys",
    "smoke_test": True,
    "service_monitor": True,
    "secrets": "external-secrets",
    "secret_keys": ["DATABASE_PASSWORD", "API_TOKEN"],
    "secret_store": "shop-vault",
    "sync_policy": "automated-no-prune",
}


# Stored with every environment's size resolved (so that a later environment list cannot resize
# one): what was given must be in what is stored.
RESOLVED = {"replicas", "resources"}


def within(given: Any, stored: Any) -> bool:
    if isinstance(given, dict):
        return isinstance(stored, dict) and all(
            key in stored and within(value, stored[key]) for key, value in given.items()
        )
    return bool(given == stored)


def assert_every_answer_kept(answers: dict[str, Any]) -> None:
    for key, given in ANSWERS.items():
        assert within(given, answers[key]) if key in RESOLVED else answers[key] == given, key


def stored(repo: Path) -> dict[str, Any]:
    answers: dict[str, Any] = yaml.safe_load((repo / ".copier-answers.shop.yml").read_text())
    return answers


@pytest.fixture
def previous_release_repo(tmp_path: Path) -> Path:
    template = template_at_commit(tmp_path / "template", RELEASES[PREVIOUS], PREVIOUS)
    repo = generate(template, tmp_path / "repo", ANSWERS, PREVIOUS)
    assert {key: stored(repo)[key] for key in ANSWERS} == ANSWERS
    replace_with_work_tree(template, "v99.0.0")
    return repo


def test_the_answers_cover_every_gated_question() -> None:
    # The key needs a PEM; empty is fine.
    assert set(GATED) - {"cosign_public_key"} - set(ADDED_SINCE_PREVIOUS) <= set(ANSWERS)
    assert set(ANSWERS) < set(QUESTIONS)


def test_update_with_defaults_keeps_every_answer(previous_release_repo: Path) -> None:
    repo = previous_release_repo
    copier_update(repo, "shop")
    assert git(repo, "diff", "--name-only", "--diff-filter=U") == ""
    answers = stored(repo)
    assert_every_answer_kept(answers)
    assert answers["advanced"] is False and answers["_commit"] == "v99.0.0"
    assert {key: answers[key] for key in ADDED_SINCE_PREVIOUS} == ADDED_SINCE_PREVIOUS
    assert (repo / ".github" / "workflows" / "validate.yaml").is_file()
    assert not (repo / ".gitlab-ci.yml").exists()
    commit_all(repo, "Update shop")
    result = run_gitops(repo, "validate")
    assert result.returncode == 0, result.stdout + result.stderr


def test_interactive_update_asks_no_gated_question_and_keeps_every_answer(
    previous_release_repo: Path,
) -> None:
    repo = previous_release_repo
    child = pexpect.spawn(
        sys.executable,
        ["-m", "copier", "update", "--trust", "--answers-file", ".copier-answers.shop.yml"],
        cwd=repo,
        env={**os.environ, "TERM": "xterm"},
        dimensions=(40, 100),
        encoding="utf-8",
        timeout=90,
    )
    transcript = []
    while child.expect([QMARK, pexpect.EOF]) == 0:
        child.expect([r"\n", pexpect.TIMEOUT], timeout=5)
        transcript.append(child.before)
        child.send("\r")
    child.close()
    assert child.exitstatus == 0, "".join(transcript)[-2000:]
    shown = "".join(transcript)
    for name in GATED:
        first_line = str(QUESTIONS[name]["help"]).strip().splitlines()[0]
        assert first_line not in shown, f"{name} was asked"
    assert_every_answer_kept(stored(repo))
