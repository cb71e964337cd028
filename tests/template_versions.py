"""Throwaway, tagged copies of this template and generated repositories, for update tests.

Tests never rely on tags in the checkout (a clean clone of main may have none): each test
copies the work tree of this template into a temporary git repository, releases it as a
tag, changes it, releases again, and updates a generated repository between the two.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import copier

from tests.conftest import GIT_IDENTITY, TEMPLATE_ROOT

# What a release of the template consists of (`migrations` holds scripts its `_migrations` run).
TEMPLATE_PARTS = ("copier.yml", "template", "extensions", "migrations")


def git(cwd: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, env={**os.environ, **GIT_IDENTITY}
    )
    assert result.returncode == 0, f"git {' '.join(args)}: {result.stderr}"
    return result.stdout


def commit_all(repo: Path, message: str) -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--allow-empty", "-m", message)


def tree_state(repo: Path) -> dict[str, bytes]:
    """Every file of a work tree but .git, as bytes."""
    return {
        path.relative_to(repo).as_posix(): path.read_bytes()
        for path in sorted(repo.rglob("*"))
        if path.is_file() and ".git" not in path.relative_to(repo).parts
    }


class TemplateRepo:
    """A git repository holding a copy of this template, released with tags."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def from_work_tree(cls, path: Path, version: str = "v1.0.0") -> TemplateRepo:
        path.mkdir(parents=True)
        for part in TEMPLATE_PARTS:
            source = TEMPLATE_ROOT / part
            if source.is_dir():
                shutil.copytree(source, path / part, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy2(source, path / part)
        git(path, "init", "-q", "-b", "main")
        repo = cls(path)
        repo.release(version)
        return repo

    def edit(self, relative: str, old: str, new: str) -> None:
        target = self.path / relative
        text = target.read_text()
        assert old in text, f"{old!r} not in {relative}"
        target.write_text(text.replace(old, new, 1))

    def write(self, relative: str, text: str) -> None:
        (self.path / relative).parent.mkdir(parents=True, exist_ok=True)
        (self.path / relative).write_text(text)

    def release(self, version: str) -> None:
        commit_all(self.path, f"Release {version}")
        git(self.path, "tag", version)


def generate(template: TemplateRepo, destination: Path, answers: dict[str, Any], vcs_ref: str) -> Path:
    """`copier copy` into a new or existing git repository, then commit."""
    copier.run_copy(
        str(template.path), destination, data=answers, defaults=True, unsafe=True, vcs_ref=vcs_ref, quiet=True
    )
    if not (destination / ".git").exists():
        git(destination, "init", "-q", "-b", "main")
    commit_all(destination, f"Onboard {answers.get('app_name', 'myapp')}")
    return destination


def copier_update(
    repo: Path, app: str, data: dict[str, Any] | None = None, vcs_ref: str | None = None
) -> None:
    """`copier update` of one app by hand, as the README tells users to run it."""
    copier.run_update(
        repo,
        answers_file=f".copier-answers.{app}.yml",
        data=data or {},
        defaults=True,
        overwrite=True,
        unsafe=True,
        conflict="inline",
        vcs_ref=vcs_ref,
        quiet=True,
    )


# Released versions of this template, named by commit: a clean clone of main may have no tags.
RELEASES = {
    "v0.1.0": "33623b5e693abbbb48955025886458a3d8bf40d5",
    # The last commit before validators were tightened for the API server's rules.
    "v0.2.0": "cf76160e2a4214ec92dbaed255b1d81117d022cb",
}


def template_at_commit(path: Path, commit: str, version: str) -> TemplateRepo:
    """A throwaway template repository holding this template as it was at `commit`."""
    path.mkdir(parents=True)
    # Parts added later (migrations/) are missing from older commits.
    listed = subprocess.run(
        ["git", "ls-tree", "--name-only", commit, "--", *TEMPLATE_PARTS],
        cwd=TEMPLATE_ROOT,
        capture_output=True,
        text=True,
    )
    parts = listed.stdout.splitlines() or list(TEMPLATE_PARTS)
    archive = subprocess.run(
        ["git", "archive", "--format=tar", commit, *parts],
        cwd=TEMPLATE_ROOT,
        capture_output=True,
    )
    assert archive.returncode == 0, (
        f"commit {commit} of the template is not in this clone: {archive.stderr!r}"
    )
    subprocess.run(["tar", "-x", "-C", str(path)], input=archive.stdout, check=True)
    git(path, "init", "-q", "-b", "main")
    repo = TemplateRepo(path)
    repo.release(version)
    return repo


def replace_with_work_tree(template: TemplateRepo, version: str) -> None:
    """The next release of `template` is this template's work tree."""
    for part in TEMPLATE_PARTS:
        target = template.path / part
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
        source = TEMPLATE_ROOT / part
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, target)
    template.release(version)
