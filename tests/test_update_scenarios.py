"""Update scenarios, each with two apps and both ways of updating: `tools/gitops update` and the
plain `copier update` command line as the README and Renovate run it.

More scenarios live in test_template_updates.py (conflicts, renames, dropped files, new question),
test_environment_list_changes.py and test_update_stops_cleanly.py.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import run_gitops
from tests.template_versions import TemplateRepo, commit_all, git, tree_state
from tests.test_gitops_update import APPS, DEPLOYMENT_TEMPLATE, two_app_repo

UPDATERS = ("tools", "copier")


def copier_cli(repo: Path, app: str, vcs_ref: str) -> subprocess.CompletedProcess[str]:
    """Renovate's copier manager command, exactly (plus the answers file of the app)."""
    return subprocess.run(
        [sys.executable, "-m", "copier", "update", "--skip-answered", "--defaults", "--trust",
         "--answers-file", f".copier-answers.{app}.yml", "--vcs-ref", vcs_ref],
        cwd=repo,
        capture_output=True,
        text=True,
    )  # fmt: skip


def update_every_app(repo: Path, updater: str, vcs_ref: str) -> list[subprocess.CompletedProcess[str]]:
    if updater == "tools":
        return [run_gitops(repo, "update", "--vcs-ref", vcs_ref)]
    results = []
    for app in APPS:
        results.append(copier_cli(repo, app, vcs_ref))
        if git(repo, "status", "--porcelain"):
            commit_all(repo, f"Update {app}")
    return results


@pytest.fixture
def template(tmp_path: Path) -> TemplateRepo:
    return TemplateRepo.from_work_tree(tmp_path / "template")


@pytest.fixture
def repo(template: TemplateRepo, tmp_path: Path) -> Path:
    return two_app_repo(template, tmp_path / "repo")


@pytest.mark.parametrize("updater", UPDATERS)
def test_nearby_edit_and_added_file_survive_a_template_change(
    template: TemplateRepo, repo: Path, updater: str
) -> None:
    for app in APPS:
        deployment = repo / f"applications/base/{app}/deployment.yaml"
        deployment.write_text(deployment.read_text().replace("periodSeconds: 20", "periodSeconds: 30"))
        (repo / f"applications/base/{app}/NOTES.md").write_text(f"{app} runbook\n")
    commit_all(repo, "Team edits")
    template.edit(DEPLOYMENT_TEMPLATE, "revisionHistoryLimit: 5", "revisionHistoryLimit: 10")
    template.release("v1.1.0")
    for result in update_every_app(repo, updater, "v1.1.0"):
        assert result.returncode == 0, result.stdout + result.stderr
    for app in APPS:
        text = (repo / f"applications/base/{app}/deployment.yaml").read_text()
        assert "periodSeconds: 30" in text and "revisionHistoryLimit: 10" in text, app
        assert (repo / f"applications/base/{app}/NOTES.md").read_text() == f"{app} runbook\n"
        assert "_commit: v1.1.0" in (repo / f".copier-answers.{app}.yml").read_text()
    assert git(repo, "status", "--porcelain") == ""
    assert run_gitops(repo, "validate").returncode == 0


@pytest.mark.parametrize("updater", UPDATERS)
def test_downgrade_is_refused_in_one_line(template: TemplateRepo, repo: Path, updater: str) -> None:
    template.edit(DEPLOYMENT_TEMPLATE, "revisionHistoryLimit: 5", "revisionHistoryLimit: 10")
    template.release("v1.1.0")
    assert all(r.returncode == 0 for r in update_every_app(repo, "tools", "v1.1.0"))
    before = tree_state(repo)
    result = update_every_app(repo, updater, "v1.0.0")[0]
    output = (result.stdout + result.stderr).strip()
    assert result.returncode == 1, output
    assert "Traceback" not in output
    assert "downgrading from 1.1.0 to 1.0.0" in output.splitlines()[-1], output
    assert tree_state(repo) == before
    assert git(repo, "status", "--porcelain") == ""
