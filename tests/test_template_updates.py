"""`copier update` propagates template changes and never loses users' work.

Each test releases a throwaway copy of this template as v1.0.0, generates a repository
from it in which a user edits files and promotes a release, changes the template,
releases v1.1.0 and updates. Real copier, real git, and the repo's own validate.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.conftest import BASE_TEMPLATE_DIR, run_gitops
from tests.template_versions import (
    TemplateRepo,
    commit_all,
    copier_update,
    edit,
    generate,
    git,
    tree_state,
)
from tests.test_rename_recipe import RENAME_RECIPE

DEPLOYMENT = "applications/base/myapp/deployment.yaml"
DEPLOYMENT_TEMPLATE = f"{BASE_TEMPLATE_DIR}/deployment.yaml.jinja"
DEV_RELEASE = "environments/dev/myapp/release/kustomization.yaml"
PROMOTED_TAG = "1.29.9-alpine"


@pytest.fixture
def template(tmp_path: Path) -> TemplateRepo:
    return TemplateRepo.from_work_tree(tmp_path / "template")


def user_work(repo: Path) -> None:
    """What a team does after onboarding: edit the base and the README, promote in dev."""
    edit(repo, DEPLOYMENT, "failureThreshold: 3", "failureThreshold: 5")
    (repo / "README.md").write_text((repo / "README.md").read_text() + "\n## Team notes\n\nOn call: #shop.\n")
    # The tag and the version label that names it (validate holds them together), as
    # `tools/gitops release` writes them.
    release = (repo / DEV_RELEASE).read_text()
    assert 'newTag: "1.29.3-alpine"' in release
    (repo / DEV_RELEASE).write_text(release.replace('"1.29.3-alpine"', f'"{PROMOTED_TAG}"'))
    commit_all(repo, "Team edits and a promotion in dev")


def assert_user_work_kept(repo: Path) -> None:
    assert "failureThreshold: 5" in (repo / DEPLOYMENT).read_text()
    assert "On call: #shop." in (repo / "README.md").read_text()
    assert f'newTag: "{PROMOTED_TAG}"' in (repo / DEV_RELEASE).read_text()


def assert_validates(repo: Path) -> None:
    result = run_gitops(repo, "validate")
    assert result.returncode == 0, result.stdout + result.stderr


def assert_no_conflicts(repo: Path) -> None:
    assert git(repo, "diff", "--name-only", "--diff-filter=U") == ""
    assert "<<<<<<<" not in git(repo, "diff")


def assert_clean_update(repo: Path) -> None:
    """No conflict, the team's work intact, and the repository still validates."""
    assert_no_conflicts(repo)
    assert_user_work_kept(repo)
    assert_validates(repo)


@pytest.fixture
def repo(template: TemplateRepo, tmp_path: Path) -> Path:
    generated = generate(template, tmp_path / "repo", {}, "v1.0.0")
    user_work(generated)
    return generated


def test_template_adds_a_file(template: TemplateRepo, repo: Path) -> None:
    template.write("template/.editorconfig", "root = true\n\n[*.{yaml,yml}]\nindent_size = 2\n")
    template.release("v1.1.0")
    copier_update(repo, "myapp")
    assert (repo / ".editorconfig").read_text().startswith("root = true")
    assert_clean_update(repo)


def test_template_changes_a_line_the_user_did_not_touch(template: TemplateRepo, repo: Path) -> None:
    template.edit(DEPLOYMENT_TEMPLATE, "revisionHistoryLimit: 5", "revisionHistoryLimit: 10")
    template.release("v1.1.0")
    copier_update(repo, "myapp")
    deployment = (repo / DEPLOYMENT).read_text()
    assert "revisionHistoryLimit: 10" in deployment and "failureThreshold: 5" in deployment
    assert_clean_update(repo)


# The README's rename recipe (tests/test_rename_recipe.py tests it across three releases).
RENAME_MIGRATION = RENAME_RECIPE.replace("v1.2.0", "v1.1.0")


def rename_service_file(template: TemplateRepo) -> None:
    base = BASE_TEMPLATE_DIR
    (template.path / base / "service.yaml.jinja").rename(template.path / base / "svc.yaml.jinja")
    template.edit(f"{base}/kustomization.yaml.jinja", "  - service.yaml", "  - svc.yaml")
    template.edit("copier.yml", "_migrations:\n", "_migrations:\n" + RENAME_MIGRATION)
    template.release("v1.1.0")


def test_file_no_longer_generated(template: TemplateRepo, repo: Path) -> None:
    """Removed when untouched; kept, with the user's edit and a note, when edited."""
    edit(repo, ".gitignore", "*.orig\n", "*.orig\n.idea/\n")
    commit_all(repo, "Ignore IDE files")
    (template.path / "template/.yamllint.yaml").unlink()
    (template.path / "template/.gitignore.jinja").unlink()
    template.release("v1.1.0")
    result = run_gitops(repo, "update")
    assert result.returncode == 0, result.stdout + result.stderr
    assert ".gitignore: kept: the template no longer generates it" in result.stdout
    assert not (repo / ".yamllint.yaml").exists()
    assert ".idea/" in (repo / ".gitignore").read_text()
    assert git(repo, "status", "--porcelain") == ""
    assert_user_work_kept(repo)


def test_update_without_template_change_is_byte_identical(template: TemplateRepo, repo: Path) -> None:
    before = tree_state(repo)
    copier_update(repo, "myapp", vcs_ref="v1.0.0")
    assert tree_state(repo) == before
    assert git(repo, "status", "--porcelain") == ""


def test_update_without_data_keeps_every_answer(template: TemplateRepo, tmp_path: Path) -> None:
    answers = {
        "app_name": "shop",
        "environments": ["dev", "prod-eu"],
        "image": "reg.example.com:5000/team/shop",
        "image_tag": "2.4.1",
        "container_port": 9090,
        "replicas": {"dev": 2},
        "clusters": {"prod-eu": "https://eu.example.com:6443"},
        "sync_policy": "manual",
        "repo_url": "git@git.example.com:platform/gitops.git",
        "argocd_version": "v3.5.1",
        "team": "payments",
    }
    repo = generate(template, tmp_path / "shop", answers, "v1.0.0")
    before = yaml.safe_load((repo / ".copier-answers.shop.yml").read_text())
    template.edit(DEPLOYMENT_TEMPLATE, "revisionHistoryLimit: 5", "revisionHistoryLimit: 10")
    template.release("v1.1.0")
    copier_update(repo, "shop")
    after = yaml.safe_load((repo / ".copier-answers.shop.yml").read_text())
    assert after.pop("_commit") == "v1.1.0" and before.pop("_commit") == "v1.0.0"
    assert after == before
