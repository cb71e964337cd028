"""`tools/gitops update`: every app, one commit each, repo-level rollouts, same tree as by hand."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import yaml

from tests.conftest import BASE_TEMPLATE_DIR, run_gitops
from tests.template_versions import TemplateRepo, commit_all, copier_update, generate, git, tree_state

if TYPE_CHECKING:  # update_scenarios imports this module
    from tests.update_scenarios import Scenario

APPS = ("cart", "shop")
DEPLOYMENT_TEMPLATE = f"{BASE_TEMPLATE_DIR}/deployment.yaml.jinja"


def release_of(repo: Path, env: str, app: str) -> dict[str, object]:
    component = yaml.safe_load((repo / f"environments/{env}/{app}/release/kustomization.yaml").read_text())
    return component["images"][0]


def two_app_repo(template: TemplateRepo, destination: Path) -> Path:
    """Two apps onboarded at v1.0.0, each with its own release promoted in dev."""
    for app in APPS:
        generate(template, destination, {"app_name": app}, "v1.0.0")
    for number, app in enumerate(APPS):
        path = destination / f"environments/dev/{app}/release/kustomization.yaml"
        path.write_text(path.read_text().replace('"1.29.3-alpine"', f'"1.30.{number}"'))
    commit_all(destination, "Promote new releases in dev")
    return destination


@pytest.fixture
def template(scenario: Scenario) -> TemplateRepo:
    """The scenario's template (tests/update_scenarios.py): this work tree released as v1.0.0."""
    return scenario.template


@pytest.fixture
def repo(scenario: Scenario) -> Path:
    """two_app_repo of `template`, restored from the module's pristine copy."""
    return scenario.repo


def commits_since(repo: Path, ref: str) -> list[str]:
    return git(repo, "log", "--format=%s", f"{ref}..HEAD").splitlines()


def test_argocd_version_rolls_out_to_every_app(repo: Path) -> None:
    head = git(repo, "rev-parse", "HEAD").strip()
    result = run_gitops(repo, "update", "--data", "argocd_version=v3.6.3")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "[1/2] cart: updated to v1.0.0" in result.stdout
    assert "[2/2] shop: updated to v1.0.0" in result.stdout
    assert commits_since(repo, head) == [
        "Update shop to gitops-template v1.0.0",
        "Update cart to gitops-template v1.0.0",
    ]
    for app in APPS:
        answers = yaml.safe_load((repo / f".copier-answers.{app}.yml").read_text())
        assert answers["argocd_version"] == "v3.6.3"
    assert yaml.safe_load((repo / "gitops.yaml").read_text())["argocd_version"] == "v3.6.3"
    assert "argo-cd/v3.6.3/manifests" in (repo / "argocd/install/kustomization.yaml").read_text()
    assert git(repo, "status", "--porcelain") == ""
    assert run_gitops(repo, "validate").returncode == 0


def test_inserted_environment_starts_from_the_release_before_it(repo: Path) -> None:
    result = run_gitops(repo, "update", "--data", "environments=[dev, qa, staging, prod]")
    assert result.returncode == 0, result.stdout + result.stderr
    for app in APPS:
        assert (repo / f"argocd/apps/{app}/qa.yaml").is_file()
        assert release_of(repo, "qa", app) == release_of(repo, "dev", app)
        assert release_of(repo, "staging", app)["newTag"] == "1.29.3-alpine"
    assert release_of(repo, "qa", "cart") != release_of(repo, "qa", "shop")
    assert yaml.safe_load((repo / "gitops.yaml").read_text())["environments"] == [
        "dev",
        "qa",
        "staging",
        "prod",
    ]
    validated = run_gitops(repo, "validate")
    assert validated.returncode == 0, validated.stdout
    assert "8 overlays built" in validated.stderr


def test_same_tree_as_copier_update_by_hand(template: TemplateRepo, repo: Path, tmp_path: Path) -> None:
    by_tool = repo
    by_hand = Path(shutil.copytree(repo, tmp_path / "by-hand", symlinks=True))
    template.edit(DEPLOYMENT_TEMPLATE, "revisionHistoryLimit: 5", "revisionHistoryLimit: 10")
    template.release("v1.1.0")
    # A repo-level change that every app takes alike. (An environment change differs on purpose:
    # the tool gives a new environment the values of the one before it; test_environment_list_changes.)
    data = {"argocd_version": "v3.6.3"}
    assert run_gitops(by_tool, "update", "--data", "argocd_version=v3.6.3").returncode == 0
    for app in APPS:
        copier_update(by_hand, app, data=data)
        commit_all(by_hand, f"Update {app}")
    assert tree_state(by_tool) == tree_state(by_hand)


def test_apps_already_current_are_skipped(template: TemplateRepo, repo: Path) -> None:
    template.edit(DEPLOYMENT_TEMPLATE, "revisionHistoryLimit: 5", "revisionHistoryLimit: 10")
    template.release("v1.1.0")
    first = run_gitops(repo, "update", "--app", "cart")
    assert first.returncode == 0 and "[1/1] cart: updated to v1.1.0" in first.stdout
    head = git(repo, "rev-parse", "HEAD").strip()
    second = run_gitops(repo, "update")
    assert "[1/2] cart: already at v1.1.0, skipped" in second.stdout
    assert "[2/2] shop: updated to v1.1.0" in second.stdout
    assert commits_since(repo, head) == ["Update shop to gitops-template v1.1.0"]
    after_second = git(repo, "rev-parse", "HEAD")
    third = run_gitops(repo, "update")
    assert third.returncode == 0 and third.stdout.count("skipped") == 2
    assert git(repo, "rev-parse", "HEAD") == after_second


def test_dirty_work_tree_is_refused(repo: Path) -> None:
    (repo / "notes.txt").write_text("draft")
    result = run_gitops(repo, "update")
    assert result.returncode == 2
    assert "work tree not clean" in result.stderr


@pytest.mark.parametrize("broken", ["environments: [dev\n", "x: !!int abc\n"], ids=["not-yaml", "int-abc"])
def test_an_unreadable_answers_file_is_named_in_one_line(repo: Path, broken: str) -> None:
    answers = repo / ".copier-answers.cart.yml"
    answers.write_text(answers.read_text() + broken)
    commit_all(repo, "Break the answers")
    before = tree_state(repo)
    result = run_gitops(repo, "update")
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stderr.splitlines() == [result.stderr.strip()], result.stderr
    assert result.stderr.startswith(".copier-answers.cart.yml: not valid YAML: "), result.stderr
    assert tree_state(repo) == before


def test_unknown_app_and_bad_data_are_usage_errors(repo: Path) -> None:
    assert run_gitops(repo, "update", "--app", "nope").returncode == 2
    bad = run_gitops(repo, "update", "--data", "argocd_version")
    assert bad.returncode == 2 and "expected KEY=VALUE" in bad.stderr


def test_an_app_cannot_be_renamed_by_an_update(repo: Path) -> None:
    """app_name names the answers file, namespaces and releases: Copier would write a second app
    beside the first and leave its releases behind (exit 0). Refused by both updaters."""
    before = tree_state(repo)
    refused = run_gitops(repo, "update", "--data", "app_name=shop2")
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert refused.stderr.strip().splitlines()[-1].startswith("--data app_name=shop2: an app's name cannot")
    assert tree_state(repo) == before
    with pytest.raises(Exception, match="app_name: the app is shop; its name cannot change on update"):
        copier_update(repo, "shop", {"app_name": "shop2"})
    assert tree_state(repo) == before
    assert not (repo / ".copier-answers.shop2.yml").exists()


def test_parallel_update_stops_at_a_conflict_with_markers_in_the_work_tree(
    template: TemplateRepo, repo: Path
) -> None:
    """Apps update side by side in worktrees; a conflict is replayed where the user can resolve it."""
    deployment = repo / "applications/base/shop/deployment.yaml"
    deployment.write_text(deployment.read_text().replace("failureThreshold: 3", "failureThreshold: 9", 1))
    commit_all(repo, "shop tunes its readiness probe")
    template.edit(DEPLOYMENT_TEMPLATE, "failureThreshold: 3", "failureThreshold: 4")
    template.release("v1.1.0")
    head = git(repo, "rev-parse", "HEAD").strip()
    result = run_gitops(repo, "update", "--jobs", "2")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "[1/2] cart: updated to v1.1.0" in result.stdout
    assert "applications/base/shop/deployment.yaml: conflict left by copier update of shop" in result.stdout
    assert commits_since(repo, head) == ["Update cart to gitops-template v1.1.0"]
    assert "<<<<<<< " in deployment.read_text()
    assert git(repo, "worktree", "list").count("\n") == 1
