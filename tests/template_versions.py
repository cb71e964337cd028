"""The tests' shared helpers for repositories: git, edits, and throwaway tagged templates.

Tests never rely on tags in the checkout (a clean clone of main may have none): each test
copies the work tree of this template into a temporary git repository, releases it as a
tag, changes it, releases again, and updates a generated repository between the two.
Loaded as a pytest plugin (tests/conftest.py) for its `template` fixtures.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import copier
import pytest
from gitopslib.template_clones import clones_folder, shared_template_clones

from tests.conftest import GIT_IDENTITY, TEMPLATE_ROOT, render, run_gitops, run_gitops_in_process

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


def committed_render(destination: Path, branch: str = "main", message: str = "Generate") -> Path:
    """The template's defaults rendered into `destination`, a new Git repository on `branch` with
    everything committed (diff, --changed-since and promote need a commit to compare with)."""
    render(destination, {})
    git(destination, "init", "-q", "-b", branch)
    commit_all(destination, message)
    return destination


def edit(root: Path, relative: str, old: str, new: str) -> None:
    """Replace the first `old` in a file by `new`; `old` must be there (an edit that silently
    changes nothing would make the test prove nothing)."""
    path = root / relative
    text = path.read_text()
    assert old in text, f"{old!r} not in {relative}"
    path.write_text(text.replace(old, new, 1))


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
        edit(self.path, relative, old, new)

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
    """`copier update` of one app by hand, as the README tells users to run it; its five clones of
    the template shared as `tools/gitops update` shares them (one folder per run, then removed)."""
    with clones_folder() as folder, shared_template_clones(folder):
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


def version_key(version: str) -> tuple[int, ...]:
    """`v0.10.0` sorts after `v0.9.0` (as text it would not)."""
    return tuple(int(part) for part in version.removeprefix("v").split("."))


OLDEST_RELEASE = min(RELEASES, key=version_key)
PREVIOUS_RELEASE = max(RELEASES, key=version_key)  # the newest released before this work tree


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


@pytest.fixture
def template(tmp_path: Path) -> TemplateRepo:
    """This work tree as a template repository released as v1.0.0, for one test."""
    return TemplateRepo.from_work_tree(tmp_path / "template")


@pytest.fixture(scope="module")
def module_template(tmp_path_factory: pytest.TempPathFactory) -> TemplateRepo:
    """The same, shared by a module's tests (which must not change it)."""
    return TemplateRepo.from_work_tree(tmp_path_factory.mktemp("template") / "template")


# ---------------------------------------------------------------------------------------------
# A rendered repository copied per test, and tools/gitops run in this process
# ---------------------------------------------------------------------------------------------
# A generated repository's tools/ is a plain copy of this template's (no file there is rendered),
# so this process can run it as the unit tests do: `gitopslib` is on pytest's pythonpath. That
# saves a Python start and the imports of every run (a third of a validate run), and a test about
# one check can call just that check, in milliseconds instead of a whole validate.
# What the library reads from its own folder: the code, and the JSON Schemas of custom kinds.
TOOLS_READ = ("gitopslib", "schemas")
# Each copy made by copy_repo, and the repository it copies.
_COPIED_FROM: dict[Path, Path] = {}


def validated(repo: Path) -> Path:
    """`repo`, once its own `tools/gitops validate` passes: the pristine repository a module's
    tests copy (copy_repo) starts clean, so each test's findings are its own change's."""
    result = run_gitops(repo, "validate")
    assert result.returncode == 0, result.stdout + result.stderr
    return repo


def copy_repo(pristine: Path, destination: Path) -> Path:
    """A copy of a repository rendered once per module, for one test to change (milliseconds,
    where rendering takes a second). Symlinks stay links, .git is copied along."""
    copy = Path(shutil.copytree(pristine, destination, symlinks=True))
    _COPIED_FROM[copy.resolve()] = pristine
    return copy


def _tool_files(root: Path) -> dict[str, bytes]:
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for part in TOOLS_READ
        for path in sorted((root / part).rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    }


def assert_tools_unchanged(repo: Path) -> None:
    """A run in this process reads this template's tools/, not the repository's: a test that
    changes a copy's tools/ (a broken schema, say) must run the real tools/gitops."""
    if (pristine := _COPIED_FROM.get(repo.resolve())) is None:
        return
    now, copied = _tool_files(repo / "tools"), _tool_files(pristine / "tools")
    changed = sorted(name for name in now.keys() | copied.keys() if now.get(name) != copied.get(name))
    assert not changed, f"the test changed tools/ of {repo}, which only run_gitops reads: {changed}"


def gitops_in_process(repo: Path, *args: str, scan_secrets: bool = True) -> subprocess.CompletedProcess[str]:
    """`tools/gitops *args` in `repo`, as run_gitops runs it, but in this process: the same
    `main`, so the same exit code and the same lines on stdout and stderr.

    `scan_secrets=False` leaves out validate's detect-secrets scan (as if it found nothing), half
    of what a validate costs once started, for tests of the other checks; tests/test_secret_checks.py
    tests the scan.
    """
    from gitopslib import validate

    assert_tools_unchanged(repo)
    with pytest.MonkeyPatch.context() as patch:
        if not scan_secrets:
            patch.setattr(validate, "secret_problems", lambda repo: [])
        return run_gitops_in_process(repo, *args)


def check_lines(repo: Path, check: Callable[[Any], Iterable[Any]]) -> list[str]:
    """The lines validate prints for one of its checks (`check(repo)`, e.g. codeowners_problems),
    run in this process, in validate's order."""
    from gitopslib.repo import load_repo

    assert_tools_unchanged(repo)
    return [str(problem) for problem in sorted(set(check(load_repo(repo))))]
