"""What an update leaves out of each app's render: the shared files, for every app but the first,
and only when every app would render them alike (tools/gitopslib/shared_files.py).

That the trees and commits come out as `copier update` of each app by hand leaves them is checked
by the update tests (test_gitops_update, test_onboarding, the update scenarios); this file checks
what is left out, on a repository Copier generated."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from gitopslib.shared_files import PLAIN_PATH, exclusions, owned_by, same_render, shared_paths

from tests.conftest import render
from tests.template_versions import commit_all, git

APPS = ("cart", "shop")
REPO_LEVEL = ("argocd_version", "environments")


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    repo = tmp_path_factory.mktemp("shared") / "repo"
    for app in APPS:
        render(repo, {"app_name": app})
    git(repo, "init", "-q", "-b", "main")
    commit_all(repo, "Two apps")
    return repo


def stored(repo: Path, app: str) -> dict[str, Any]:
    answers: dict[str, Any] = yaml.safe_load((repo / f".copier-answers.{app}.yml").read_text())
    return answers


def left_out(repo: Path, answers: dict[str, dict[str, Any]]) -> dict[str, list[str]]:
    found = exclusions(repo, answers, REPO_LEVEL, APPS)
    return {app: [line for entry in entries for line in entry.splitlines()] for app, entries in found.items()}


def test_the_second_app_leaves_out_exactly_the_files_no_app_owns(repo: Path) -> None:
    answers = {app: stored(repo, app) for app in APPS}
    patterns = left_out(repo, answers)
    assert patterns["cart"] == []
    tracked = git(repo, "ls-files").splitlines()
    own = [
        path
        for path in tracked
        if {"cart", "shop"} & set(path.split("/")) or path.startswith(".copier-answers.")
    ]
    # Every tracked file is either some app's own or left out, never both.
    assert sorted(path.lstrip("/") for path in patterns["shop"]) == sorted(set(tracked) - set(own))
    assert {"/README.md", "/gitops.yaml", "/tools/gitops", "/argocd/bootstrap/root-application.yaml"} <= set(
        patterns["shop"]
    )


@pytest.mark.parametrize(
    "differ",
    [
        pytest.param({"_commit": "v0.9.0"}, id="template-version"),
        pytest.param({"_src_path": "gh:other/template"}, id="template-source"),
        pytest.param({"argocd_version": "v3.5.1"}, id="repo-level-answer"),
    ],
)
def test_apps_that_would_render_them_differently_each_render_them(repo: Path, differ: dict[str, Any]) -> None:
    answers = {"cart": stored(repo, "cart"), "shop": {**stored(repo, "shop"), **differ}}
    assert left_out(repo, answers) == {"cart": [], "shop": []}


def test_an_answer_of_one_app_alone_does_not_count(repo: Path) -> None:
    answers = {"cart": stored(repo, "cart"), "shop": {**stored(repo, "shop"), "replicas": 7}}
    assert left_out(repo, answers)["shop"] != []


@pytest.mark.parametrize(
    ("path", "owner"),
    [
        (".copier-answers.cart.yml", "cart"),
        ("applications/base/cart/deployment.yaml", "cart"),
        ("environments/prod/cart/release/kustomization.yaml", "cart"),
        ("argocd/apps/cart/dev.yaml", "cart"),
        ("environments/prod/cartography/kustomization.yaml", None),
        ("applications/base/cart", None),
        ("argocd/apps/_platform/kyverno.yaml", None),
        ("README.md", None),
    ],
)
def test_ownership_follows_the_layout(path: str, owner: str | None) -> None:
    assert owned_by(path, "cart") is (owner == "cart")


@pytest.mark.parametrize("path", ["README.md", ".github/workflows/validate.yaml", "tools/gitops", "a-b_c.d"])
def test_plain_paths_become_patterns(path: str) -> None:
    assert PLAIN_PATH.fullmatch(path)


@pytest.mark.parametrize("path", ["!README.md", "#x", "docs/*.md", "docs/a[1].md", "a b", "{{ x }}", "/abs"])
def test_paths_a_pattern_would_misread_are_not_left_out(path: str) -> None:
    assert not PLAIN_PATH.fullmatch(path)


def test_same_render_of_no_or_one_app() -> None:
    assert same_render([], REPO_LEVEL) and same_render([{"_commit": "v1"}], REPO_LEVEL)


def test_shared_paths_skip_every_answers_file(repo: Path) -> None:
    assert not [path for path in shared_paths(repo, []) if path.startswith(".copier-answers.")]
