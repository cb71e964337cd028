"""Answers the previous release accepted and this one refuses survive `copier update` unchanged.

Copier replaces a stored answer that fails its validator with the default, silently: an app
stored as `9lives` would be renamed to `myapp` and its files deleted. Every rule tightened
since that release applies to new answers only (the `new_answer` test in copier.yml).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

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

PREVIOUS = PREVIOUS_RELEASE
REPO_LEVEL = {"environments": ["dev", "policies", "prod"], "argocd_version": "v03.3.0"}
# Each app holds values that the previous release accepted and this one refuses on copy.
# `platform` comes first: the previous release's unanchored excludes dropped the files of a
# second app of that name (the bug this release fixes).
NOW_REFUSED: dict[str, dict[str, Any]] = {
    "platform": {},  # platform-policies: the Kyverno project's name
    "9lives": {
        "image": "UPPER/case",
        "resources": {"prod": {"requests": {"cpu": "2"}}},
        "sync_windows": {"prod": {"schedule": "99 99 99 99 99", "duration": "10h"}},
        "writable_paths": ["/tmp/"],
    },
    "a" * 53: {"smoke_test": True},  # Job a...a-smoke-test: 64 characters
}


def stored_answers(repo: Path, app: str) -> dict[str, Any]:
    answers = yaml.safe_load((repo / f".copier-answers.{app}.yml").read_text())
    return {key: value for key, value in answers.items() if key != "_commit"}


# This release stores replicas and resources resolved for every environment (their defaults
# follow list position); the values given before stay as they were.
RESOLVED = {"replicas", "resources"}


# Questions the work tree has and the previous release had not, with their defaults.
ADDED_SINCE = {"advanced": False, "ci_provider": "github", "soak": {}, "workload": "manifests"}


def assert_given_values_kept(before: dict[str, Any], after: dict[str, Any]) -> None:
    assert {k: after[k] for k in before if k not in RESOLVED} == {
        k: v for k, v in before.items() if k not in RESOLVED
    }
    # Questions added since that release take their defaults.
    assert {k: after[k] for k in set(after) - set(before)} == ADDED_SINCE
    for env, count in before["replicas"].items():
        assert after["replicas"][env] == count
    for env, spec in before["resources"].items():
        for kind, amounts in spec.items():
            for name, amount in amounts.items():
                assert after["resources"][env][kind][name] == str(amount), (env, kind, name)


@pytest.fixture(scope="module")
def updated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, dict[str, Any]]]:
    root = tmp_path_factory.mktemp("tightened")
    template = template_at_commit(root / "template", RELEASES[PREVIOUS], PREVIOUS)
    repo = root / "repo"
    for app, answers in NOW_REFUSED.items():
        generate(template, repo, {**REPO_LEVEL, "app_name": app, **answers}, PREVIOUS)
    before = {app: stored_answers(repo, app) for app in NOW_REFUSED}
    replace_with_work_tree(template, "v99.0.0")
    for app in NOW_REFUSED:
        copier_update(repo, app)
        commit_all(repo, f"Update {app}")
    return repo, before


@pytest.mark.parametrize("app", sorted(NOW_REFUSED), ids=lambda app: app[:10])
def test_update_changes_no_stored_answer(updated: tuple[Path, dict[str, dict[str, Any]]], app: str) -> None:
    repo, before = updated
    assert_given_values_kept(before[app], stored_answers(repo, app))
    assert (repo / f"applications/base/{app}/deployment.yaml").is_file(), "the app's files were deleted"
    assert "_commit: v99.0.0" in (repo / f".copier-answers.{app}.yml").read_text()


def test_a_newly_refused_value_given_on_update_is_refused(
    updated: tuple[Path, dict[str, dict[str, Any]]],
) -> None:
    """Only stored answers are grandfathered: the same value given now meets today's rules."""
    repo, _ = updated
    with pytest.raises(ValueError, match=re.escape("resources: dev: requests.cpu")):
        copier_update(repo, "platform", data={"resources": {"dev": {"requests": {"cpu": "3"}}}})
    assert git(repo, "status", "--porcelain") == ""


def test_dropping_an_environment_keeps_the_other_environments_values(
    updated: tuple[Path, dict[str, dict[str, Any]]],
) -> None:
    """A stored per-environment map naming an environment that is gone is kept, not reset."""
    repo, before = updated
    copier_update(repo, "9lives", data={"environments": ["dev", "prod"]})
    after = stored_answers(repo, "9lives")
    assert after["environments"] == ["dev", "prod"]
    assert after["resources"]["prod"]["requests"]["cpu"] == "2"
    assert after["sync_windows"] == before["9lives"]["sync_windows"]
    git(repo, "checkout", "-q", "--", ".")
    git(repo, "clean", "-qfd")
