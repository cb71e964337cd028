"""git identity: the suite brings its own, and `tools/gitops` stops cleanly on a machine without one."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.conftest import GIT_IDENTITY, TESTS_GIT_CONFIG, render, run_gitops
from tests.template_versions import TemplateRepo, commit_all, generate, git, tree_state

DEV = "environments/dev/myapp/release/kustomization.yaml"


def no_identity_env(tmp_path: Path) -> dict[str, str]:
    """This environment as on a fresh machine: empty HOME, no identity variables, no config.

    user.useConfigOnly stops git from guessing an address from the host name: where the host
    has a domain name the guess would succeed and the test would prove nothing.
    """
    home = tmp_path / "empty-home"
    home.mkdir()
    config = tmp_path / "fresh-gitconfig"
    config.write_text("[user]\n\tuseConfigOnly = true\n")
    env = {k: v for k, v in os.environ.items() if k not in GIT_IDENTITY and k != "EMAIL"}
    env.update(HOME=str(home), GIT_CONFIG_GLOBAL=str(config), GIT_CONFIG_NOSYSTEM="1")
    return env


def assert_stopped_on_identity(repo: Path, result: subprocess.CompletedProcess[str]) -> None:
    output = (result.stdout + result.stderr).strip().splitlines()
    assert result.returncode == 1, result.stdout + result.stderr
    assert len(output) == 1, output
    assert output[0].startswith("git: ") and "identity" in output[0], output
    assert "Traceback" not in result.stderr


def test_suite_runs_with_its_own_identity_and_git_config() -> None:
    # Runs in an xdist worker under the default options: the worker has the identity too.
    assert git(Path.cwd(), "var", "GIT_COMMITTER_IDENT").startswith("Template Tests <tests@example.com> ")
    assert Path(os.environ["GIT_CONFIG_GLOBAL"]).read_text() == TESTS_GIT_CONFIG
    assert os.environ["GIT_CONFIG_NOSYSTEM"] == "1"


def test_update_without_identity_stops_before_copier_changes_anything(
    template: TemplateRepo, tmp_path: Path
) -> None:
    repo = generate(template, tmp_path / "repo", {"app_name": "myapp"}, "v1.0.0")
    env = no_identity_env(tmp_path)
    fresh = subprocess.run(["git", "var", "GIT_COMMITTER_IDENT"], cwd=repo, env=env, capture_output=True)
    assert fresh.returncode != 0, "the test environment still has a git identity"
    head, before = git(repo, "rev-parse", "HEAD"), tree_state(repo)
    result = run_gitops(repo, "update", "--data", "argocd_version=v3.6.3", env=env)
    assert_stopped_on_identity(repo, result)
    assert tree_state(repo) == before
    assert git(repo, "rev-parse", "HEAD") == head
    assert git(repo, "status", "--porcelain", "--untracked-files=all") == ""


def test_promote_branch_without_identity_stops_before_writing(tmp_path: Path) -> None:
    repo = render(tmp_path / "repo", {})
    git(repo, "init", "-q", "-b", "main")
    (repo / DEV).write_text((repo / DEV).read_text().replace('"1.29.3-alpine"', '"1.30.0"'))
    commit_all(repo, "Generate, dev at 1.30.0")
    before = tree_state(repo)
    result = run_gitops(
        repo,
        "promote",
        "--app",
        "myapp",
        "--from",
        "dev",
        "--branch",
        "promote",
        env=no_identity_env(tmp_path),
    )
    assert_stopped_on_identity(repo, result)
    assert tree_state(repo) == before
    assert git(repo, "branch", "--list", "promote") == ""
    assert git(repo, "status", "--porcelain", "--untracked-files=all") == ""


def test_refused_commit_is_reported_as_a_git_failure(template: TemplateRepo, tmp_path: Path) -> None:
    repo = generate(template, tmp_path / "repo", {"app_name": "myapp"}, "v1.0.0")
    hook = repo / ".git" / "hooks" / "pre-commit"
    hook.write_text("#!/bin/sh\necho 'pre-commit: refused by the test hook' >&2\nexit 1\n")
    hook.chmod(0o755)
    result = run_gitops(repo, "update", "--data", "argocd_version=v3.6.3")
    assert result.returncode == 2, result.stdout + result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("git commit -q -m 'Update myapp to gitops-template v1.0.0 ...': "), last
    assert last.endswith("pre-commit: refused by the test hook"), last
    assert "Traceback" not in result.stderr
    assert not any(line.startswith("copier update") for line in result.stderr.splitlines())
