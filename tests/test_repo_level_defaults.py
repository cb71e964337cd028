"""Repo-level answers default to what gitops.yaml holds (read through `_external_data`)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml

from tests.conftest import render, run_gitops

REPO_LEVEL = {
    "repo_url": "git@git.example.com:platform/gitops.git",
    "target_revision": "production",
    "environments": ["dev", "qa", "prod"],
    "clusters": {"prod": "https://prod.example.com:6443"},
    "argocd_version": "v3.5.1",
}


def commit_all(repo: Path, message: str) -> None:
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    subprocess.run(
        ["git", "-c", "user.name=test", "-c", "user.email=test@example.com", "commit", "-qm", message],
        cwd=repo,
        check=True,
    )


def test_second_app_takes_repo_level_answers_from_gitops_yaml(tmp_path: Path) -> None:
    repo = render(tmp_path / "repo", {**REPO_LEVEL, "app_name": "first"})
    commit_all(repo, "first app")
    render(repo, {"app_name": "second"})

    second = yaml.safe_load((repo / ".copier-answers.second.yml").read_text())
    assert {key: second[key] for key in REPO_LEVEL} == REPO_LEVEL
    assert sorted(p.name for p in (repo / "environments" / "qa").iterdir()) == ["first", "second"]
    result = run_gitops(repo, "validate")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "6 overlays built" in result.stderr
