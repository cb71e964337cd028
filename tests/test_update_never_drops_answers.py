"""A check that compares two answers never makes `copier update` drop the stored one.

Copier validates each stored answer on update and silently replaces one that fails with the
default. A rule between two questions (an app name and the environments, replicas and
autoscaling, hosts and exposure) must therefore refuse the answer that changes now, with a
message naming it, and leave every stored answer alone.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import copier
import pytest
import yaml

from tests.template_versions import TemplateRepo, commit_all, copier_update, generate, git, tree_state

LONG_APP = "shop-frontend-" + "x" * 36  # 50 characters: fits dev and prod, not a 13-character env


def stored(repo: Path, app: str) -> dict[str, Any]:
    return yaml.safe_load((repo / f".copier-answers.{app}.yml").read_text())


@pytest.fixture(scope="module")
def template(module_template: TemplateRepo) -> TemplateRepo:
    return module_template


def one_app_repo(template: TemplateRepo, tmp_path: Path, answers: dict[str, Any]) -> Path:
    return generate(template, tmp_path / "repo", {"environments": ["dev", "prod"], **answers}, "v1.0.0")


CHANGES = {
    # (answers at copy, --data on update, question the refusal names)
    "longer-environment-than-the-app-name-allows": (
        {"app_name": LONG_APP},
        {"environments": ["dev", "prod", "prod-eu-west-2"]},
        "environments",
    ),
    "replicas-where-autoscaling-is-stored": (
        {"autoscaling": {"dev": {"min": 1, "max": 3}, "prod": {"min": 2, "max": 10}}},
        {"replicas": {"prod": 3}},
        "replicas",
    ),
}


@pytest.mark.parametrize("case", sorted(CHANGES))
def test_a_change_that_conflicts_with_a_stored_answer_is_refused(
    template: TemplateRepo, tmp_path: Path, case: str
) -> None:
    at_copy, change, question = CHANGES[case]
    repo = one_app_repo(template, tmp_path, at_copy)
    app = at_copy.get("app_name", "myapp")
    before = tree_state(repo)
    with pytest.raises(ValueError, match=re.escape(f"question '{question}'")):
        copier_update(repo, app, data=change)
    assert tree_state(repo) == before
    assert git(repo, "status", "--porcelain") == ""


def test_exposure_none_keeps_the_stored_hosts(template: TemplateRepo, tmp_path: Path) -> None:
    """Hosts mean nothing without exposure, but a later `exposure=ingress` must find them again."""
    hosts = {"prod": "shop.example.com"}
    repo = one_app_repo(template, tmp_path, {"exposure": "ingress", "hosts": hosts})
    copier_update(repo, "myapp", data={"exposure": "none"})
    assert stored(repo, "myapp")["hosts"] == hosts
    assert not (repo / "environments/prod/myapp/ingress.yaml").exists()
    commit_all(repo, "No exposure")


def test_copy_with_overwrite_into_a_repo_still_checks_onboarding(
    template: TemplateRepo, tmp_path: Path
) -> None:
    """`--overwrite` skips no rule of a copy: namespace shop-eu-dev belongs to app shop already."""
    repo = generate(
        template, tmp_path / "repo", {"app_name": "shop", "environments": ["dev", "eu-dev"]}, "v1.0.0"
    )
    before = tree_state(repo)
    with pytest.raises(ValueError, match="already the namespace"):
        copier.run_copy(
            str(template.path),
            repo,
            data={"app_name": "shop-eu"},
            defaults=True,
            overwrite=True,
            unsafe=True,
            vcs_ref="v1.0.0",
            quiet=True,
        )
    assert tree_state(repo) == before
