"""`promote --all` builds every overlay it needs in two batches, not three builds per app, and
still refuses, names and rolls back exactly as promoting app after app would."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from gitopslib import kustomize as gitops_kustomize

from tests.conftest import render, run_gitops, run_gitops_in_process
from tests.template_versions import commit_all, git

APPS = ("alpha", "bravo", "charlie")
OLD, NEW = "1.29.3-alpine", "1.30.0"


def release(app: str, env: str = "dev") -> str:
    return f"environments/{env}/{app}/release/kustomization.yaml"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """Three apps whose dev runs a newer image than staging, committed."""
    root = tmp_path / "repo"
    for app in APPS:
        render(root, {"app_name": app})
    git(root, "init", "-q", "-b", "main")
    commit_all(root, "Generate")
    for app in APPS:
        path = root / release(app)
        path.write_text(path.read_text().replace(OLD, NEW))
    commit_all(root, "New releases in dev")
    return root


def kubectl_processes(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    calls: list[list[str]] = []
    run = gitops_kustomize.subprocess.run

    def counting(args: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        calls.append(list(args))
        return run(args, **kwargs)

    monkeypatch.setattr(gitops_kustomize.subprocess, "run", counting)
    return calls


def changed_lines(diff: str) -> list[str]:
    return [line for line in diff.splitlines() if line[:1] in "+-" and not line.startswith(("+++", "---"))]


def diff_of(output: str, app: str) -> str:
    """The rendered diff promote printed under `app`'s summary line."""
    start = output.index(f"--- environments/staging/{app} (now)")
    following = [output.find(f"\n{other}: staging", start) for other in APPS if other != app]
    return output[start : min([end for end in following if end != -1] or [len(output)])]


def test_every_app_is_promoted_with_two_builds(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = kubectl_processes(monkeypatch)
    result = run_gitops_in_process(repo, "promote", "--all", "--from", "dev")
    monkeypatch.undo()
    assert result.returncode == 0, result.stdout + result.stderr
    # The sources with the targets as they are (one process: 6 overlays), the targets as promoted.
    assert len([call for call in calls if "kustomize" in call]) == 2, calls
    # git: the commit, one status of every release/ read or written, each side's files (ls-tree,
    # cat-file): none per app.
    assert len([call for call in calls if call[0] == "git"]) <= 6, calls
    for app in APPS:
        assert f"{app}: staging {OLD} -> {NEW} (promoted, from dev)" in result.stdout
        assert (repo / release(app, "staging")).read_text().count(NEW) >= 1
        changed = changed_lines(diff_of(result.stdout, app))
        # Only the release changed: every changed line is the image or its version label.
        assert changed and all(OLD in line or NEW in line for line in changed), changed
        assert any(line.startswith("+") and f"nginx-unprivileged:{NEW}" in line for line in changed)
    assert run_gitops(repo, "validate").returncode == 0


def test_the_first_app_refused_in_order_is_named_and_nothing_is_kept(repo: Path) -> None:
    """bravo's source does not build and charlie's too: bravo, the first in order, is named,
    and alpha's release, written before the checks, is put back."""
    for app in ("bravo", "charlie"):
        path = repo / release(app)
        path.write_text(path.read_text() + "resources:\n  - missing.yaml\n")
    commit_all(repo, "Broken releases in dev")
    head = git(repo, "rev-parse", "HEAD")
    result = run_gitops(repo, "promote", "--all", "--from", "dev")
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[-1] == "bravo: promotion from dev to staging refused", lines
    assert any(line.startswith("environments/dev/bravo: does not build:") for line in lines), lines
    assert not any("charlie" in line for line in lines), lines
    assert git(repo, "status", "--porcelain", "--untracked-files=all") == ""
    assert git(repo, "rev-parse", "HEAD") == head
