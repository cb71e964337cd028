"""`tools/gitops promote` never loses work and never shows a traceback (issue 11, items 1 and 5).

The release is read from a commit, so uncommitted or untracked changes in the source's or the
target's release/ are refused rather than ignored or overwritten; nothing to promote writes
nothing; every refusal is one line and leaves the work tree, the index, HEAD and the branches
exactly as they were.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import render, run_gitops
from tests.template_versions import commit_all, git, tree_state

DEV_DIR = "environments/dev/myapp/release"
STAGING_DIR = "environments/staging/myapp/release"
DEV = f"{DEV_DIR}/kustomization.yaml"
STAGING = f"{STAGING_DIR}/kustomization.yaml"
PROMOTE = ("promote", "--app", "myapp", "--from", "dev")


def set_tag(repo: Path, path: str, old: str, new: str) -> None:
    file = repo / path
    file.write_text(file.read_text().replace(f'"{old}"', f'"{new}"'))


@pytest.fixture(scope="module")
def committed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One app, everything committed, dev one release ahead of staging and prod."""
    repo = render(tmp_path_factory.mktemp("committed") / "repo", {})
    git(repo, "init", "-q", "-b", "main")
    commit_all(repo, "Generate")
    set_tag(repo, DEV, "1.29.3-alpine", "1.30.0")
    commit_all(repo, "Bump dev to 1.30.0")
    return repo


@pytest.fixture(scope="module")
def two_apps(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Apps cart and shop, committed, every environment on the same release."""
    repo = render(tmp_path_factory.mktemp("two-apps") / "repo", {"app_name": "shop"})
    render(repo, {"app_name": "cart"})
    git(repo, "init", "-q", "-b", "main")
    commit_all(repo, "Two apps")
    return repo


@pytest.fixture
def repo(committed: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(committed, tmp_path / "repo", symlinks=True))


@pytest.fixture
def apps(two_apps: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(two_apps, tmp_path / "repo", symlinks=True))


class Untouched:
    """Everything a refusal must leave as it was: files, index and work tree status, HEAD, branches."""

    def __init__(self, repo: Path) -> None:
        self.repo = repo
        self.state = self._state()

    def _state(self) -> tuple[dict[str, bytes], str, str, str]:
        return (
            tree_state(self.repo),
            git(self.repo, "status", "--porcelain", "--untracked-files=all", "--ignored"),
            git(self.repo, "rev-parse", "HEAD"),
            git(self.repo, "branch", "--list", "--verbose"),
        )

    def check(self) -> None:
        assert self._state() == self.state, "the repository changed"


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    output = result.stdout + result.stderr
    assert "Traceback" not in output, output
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1, output
    return lines[0]


def assert_refused(result: subprocess.CompletedProcess[str], code: int, prefix: str) -> None:
    line = one_line(result)
    assert result.returncode == code, result.stdout + result.stderr
    assert line.startswith(prefix), line


# Uncommitted or untracked changes in a release/: (where, what the user did to it).
def _edit_tag(repo: Path, directory: str) -> None:
    set_tag(
        repo, f"{directory}/kustomization.yaml", "1.30.0" if "dev" in directory else "1.29.3-alpine", "9.9.9"
    )


def _add_file(repo: Path, directory: str) -> None:
    (repo / directory / "notes.txt").write_text("the user's notes, not yet committed\n")


def _stage_edit(repo: Path, directory: str) -> None:
    _edit_tag(repo, directory)
    git(repo, "add", directory)


DIRTY: dict[str, Callable[[Path, str], None]] = {
    "uncommitted newTag": _edit_tag,
    "untracked file": _add_file,
    "staged edit": _stage_edit,
}


@pytest.mark.parametrize("change", DIRTY)
@pytest.mark.parametrize("directory", [STAGING_DIR, DEV_DIR], ids=["target", "source"])
def test_uncommitted_work_in_a_release_is_refused_and_kept(repo: Path, directory: str, change: str) -> None:
    """Without --branch, promote overwrote an uncommitted newTag in the target's release/,
    deleted an untracked file there, and promoted the source's uncommitted state; exit 0."""
    DIRTY[change](repo, directory)
    untouched = Untouched(repo)
    result = run_gitops(repo, *PROMOTE)
    assert_refused(result, 1, f"{directory}: ")
    assert "commit" in result.stdout
    untouched.check()


def test_changes_outside_release_do_not_block(repo: Path) -> None:
    (repo / "README.md").write_text("an unrelated edit\n")
    result = run_gitops(repo, *PROMOTE)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "myapp: staging 1.29.3-alpine -> 1.30.0 (promoted, from dev)" in result.stdout


def test_all_with_nothing_to_promote_writes_nothing(apps: Path) -> None:
    """A `promote --all` with nothing to promote wrote provenance files."""
    untouched = Untouched(apps)
    result = run_gitops(apps, "promote", "--all", "--from", "dev")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "nothing to promote" in result.stdout
    assert "cart: staging 1.29.3-alpine -> 1.29.3-alpine (unchanged, from dev)" in result.stdout
    untouched.check()


def test_all_writes_only_the_apps_that_change(apps: Path) -> None:
    set_tag(apps, "environments/dev/shop/release/kustomization.yaml", "1.29.3-alpine", "2.0.0")
    commit_all(apps, "Bump shop in dev")
    result = run_gitops(apps, "promote", "--all", "--from", "dev")
    assert result.returncode == 0, result.stdout + result.stderr
    changed = sorted(git(apps, "status", "--porcelain", "--untracked-files=all").splitlines())
    assert changed == [
        " M environments/staging/shop/release/kustomization.yaml",
        "?? environments/staging/shop/release/provenance.yaml",
    ]


def test_branch_with_nothing_to_promote_creates_no_branch_or_commit(apps: Path) -> None:
    """`--branch` on an unchanged release made an empty promotion commit on a new branch."""
    untouched = Untouched(apps)
    result = run_gitops(apps, "promote", "--app", "shop", "--from", "dev", "--branch", "promote/shop")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "nothing to promote" in result.stdout
    untouched.check()
    assert git(apps, "branch", "--show-current").strip() == "main"


def test_all_refused_for_one_app_changes_no_app(apps: Path) -> None:
    """--all wrote the apps before the refused one and left them written, exit 1."""
    for app in ("cart", "shop"):
        set_tag(apps, f"environments/dev/{app}/release/kustomization.yaml", "1.29.3-alpine", "2.0.0")
    overlay = apps / "environments/dev/shop/kustomization.yaml"
    overlay.write_text(overlay.read_text().replace("applications/base/shop", "applications/base/gone"))
    commit_all(apps, "Bump both in dev, break shop's dev overlay")
    untouched = Untouched(apps)
    result = run_gitops(apps, "promote", "--all", "--from", "dev")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "environments/dev/shop: does not build" in result.stdout
    untouched.check()


@pytest.mark.parametrize("ref", ["nope", "HEAD^{tree}", "--output=x"])
def test_from_ref_must_be_a_commit(repo: Path, ref: str) -> None:
    """`--from-ref nope` said "no release to promote" (exit 1); a tree was taken as a commit."""
    untouched = Untouched(repo)
    result = run_gitops(repo, *PROMOTE, f"--from-ref={ref}")
    assert_refused(result, 2, f"--from-ref {ref}: ")
    untouched.check()


@pytest.mark.parametrize("branch", ["main", "bad..name"])
def test_unusable_branch_is_refused_before_writing(repo: Path, branch: str) -> None:
    """An existing or invalid --branch failed in `git switch` after the release was written."""
    untouched = Untouched(repo)
    result = run_gitops(repo, *PROMOTE, "--branch", branch)
    assert_refused(result, 2, f"--branch {branch}: ")
    untouched.check()


def test_refused_commit_leaves_no_branch_and_no_written_release(repo: Path) -> None:
    """A commit refused by a hook left the new branch checked out with the release written."""
    hook = repo / ".git" / "hooks" / "pre-commit"
    hook.write_text("#!/bin/sh\necho 'pre-commit: refused by the test hook' >&2\nexit 1\n")
    hook.chmod(0o755)
    untouched = Untouched(repo)
    result = run_gitops(repo, *PROMOTE, "--branch", "promote/myapp")
    assert_refused(result, 2, "git commit ")
    assert "refused by the test hook" in result.stderr
    untouched.check()


def test_dry_run_says_would_promote(repo: Path) -> None:
    untouched = Untouched(repo)
    result = run_gitops(repo, *PROMOTE, "--dry-run")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "myapp: staging 1.29.3-alpine -> 1.30.0 (would promote, from dev)" in result.stdout
    assert "(promoted, from" not in result.stdout
    untouched.check()


# Broken input, committed (so that the dirty-tree refusal is not what answers): what to break,
# and the path the one-line refusal must start with.
def _malformed(path: str) -> Callable[[Path], None]:
    return lambda repo: (repo / path).write_text("images:\n  - name: [unclosed\n")


def _not_utf8(path: str) -> Callable[[Path], None]:
    return lambda repo: (repo / path).write_bytes((repo / path).read_bytes() + b"# caf\xe9\n")


def _not_a_mapping(path: str) -> Callable[[Path], None]:
    return lambda repo: (repo / path).write_text("- just\n- a list\n")


def _removed(directory: str) -> Callable[[Path], None]:
    return lambda repo: shutil.rmtree(repo / directory)


BROKEN: dict[str, tuple[Callable[[Path], None], str]] = {
    "malformed source": (_malformed(DEV), DEV),
    "malformed target": (_malformed(STAGING), STAGING),
    "non-UTF-8 source": (_not_utf8(DEV), DEV),
    "non-UTF-8 target": (_not_utf8(STAGING), STAGING),
    "source not a mapping": (_not_a_mapping(DEV), DEV),
    "target not a mapping": (_not_a_mapping(STAGING), STAGING),
    "source release/ missing": (_removed(DEV_DIR), DEV),
    "target release/ missing": (_removed(STAGING_DIR), STAGING),
}


@pytest.mark.parametrize("case", BROKEN)
@pytest.mark.parametrize("from_ref", [False, True], ids=["head", "from-ref"])
def test_broken_release_is_one_line(repo: Path, case: str, from_ref: bool) -> None:
    good = git(repo, "rev-parse", "HEAD").strip()
    breaks, path = BROKEN[case]
    breaks(repo)
    commit_all(repo, f"Break: {case}")
    untouched = Untouched(repo)
    # With --from-ref the source is read as it was at the breaking commit, so it is broken there too.
    args = ("--from-ref", git(repo, "rev-parse", "HEAD").strip()) if from_ref else ()
    assert good != git(repo, "rev-parse", "HEAD").strip()
    result = run_gitops(repo, *PROMOTE, *args)
    assert_refused(result, 1, f"{path}: ")
    untouched.check()


@pytest.mark.parametrize("content", [b"environments: [dev, staging\n", b"repo_url: caf\xe9\n"])
def test_broken_settings_are_one_line(repo: Path, content: bytes) -> None:
    (repo / "gitops.yaml").write_bytes(content)
    commit_all(repo, "Break gitops.yaml")
    untouched = Untouched(repo)
    result = run_gitops(repo, *PROMOTE)
    assert_refused(result, 1, "gitops.yaml: ")
    untouched.check()


# Fault injection, not a stand-in: the real tools/gitops in a process of its own, whose second
# build (the one of what the command just wrote into the tree) first sends the process SIGTERM,
# as a CI job's timeout or a `kill` would at that moment.
TERMINATED_DURING_THE_BUILD = """
import os, signal, sys
sys.path.insert(0, "tools")
from gitopslib import {module}
from gitopslib.cli import main
real_build = {module}.build_overlays
builds = []
def build_after_sigterm(*args, **kwargs):
    builds.append(args)
    if len(builds) == 2:
        os.kill(os.getpid(), signal.SIGTERM)
    return real_build(*args, **kwargs)
{module}.build_overlays = build_after_sigterm
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.parametrize(
    ("module", "args"),
    [
        ("promote", (*PROMOTE, "--dry-run")),
        ("promote", (*PROMOTE, "--branch", "promote/myapp")),
        ("release_command", ("release", "--app", "myapp", "--tag", "1.31.0", "--branch", "release/myapp")),
    ],
    ids=["promote-dry-run", "promote-branch", "release-branch"],
)
def test_sigterm_while_checking_what_was_written_puts_every_file_back(
    repo: Path, module: str, args: tuple[str, ...]
) -> None:
    untouched = Untouched(repo)
    script = TERMINATED_DURING_THE_BUILD.format(module=module)
    result = subprocess.run(
        [sys.executable, "-c", script, *args],
        cwd=repo,
        capture_output=True,
        text=True,
        env={**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"},
    )
    assert result.returncode == 1, f"exit {result.returncode}: {result.stdout}{result.stderr}"
    assert one_line(result) == f"tools/gitops {args[0]}: interrupted (SIGTERM)"
    untouched.check()
