"""Fault injection: `validate`, `status` and `diff` meet broken files and bad arguments with one
`path: reason` line, never a traceback, and change nothing.

Each case breaks a copy of a committed repository, runs one command, and asserts the exit code
(1 for a broken file, 2 for a bad argument), the line that names the path, and that the work
tree and its git status are as they were. A command that stops prints that one line and
nothing else; `validate` goes on and lists every problem it finds, so there the named line is
one of its problem lines and the last line is the count. `promote` has its own module
(test_promote_never_loses_work.py).

The repository is rendered and committed once; each case breaks a copy. A few cases run the
real tools/gitops; the others run the same `main` in this process (tests/template_versions.py:
gitops_in_process), which saves a Python start and its imports per case.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import pytest

from tests.conftest import run_gitops
from tests.template_versions import (
    commit_all,
    committed_render,
    copy_repo,
    git,
    gitops_in_process,
    tree_state,
)

DEV_OVERLAY = "environments/dev/myapp/kustomization.yaml"
DEV_RELEASE = "environments/dev/myapp/release/kustomization.yaml"
STAGING_RELEASE = "environments/staging/myapp/release/kustomization.yaml"
SETTINGS = "gitops.yaml"

Breaks = Callable[[Path], None]


@pytest.fixture(scope="module")
def committed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One app, everything committed: `diff` and `--changed-since` need a commit to compare with."""
    return committed_render(tmp_path_factory.mktemp("committed") / "repo")


@pytest.fixture
def repo(committed: Path, tmp_path: Path) -> Path:
    return copy_repo(committed, tmp_path / "repo")


# Ways to break a file, each returning the change to apply to a repository.
def write(path: str, content: str | bytes) -> Breaks:
    data = content.encode() if isinstance(content, str) else content

    def breaks(repo: Path) -> None:
        (repo / path).write_bytes(data)

    return breaks


def append(path: str, content: bytes) -> Breaks:
    return lambda repo: write(path, (repo / path).read_bytes() + content)(repo)


def replace(path: str, old: str, new: str) -> Breaks:
    def breaks(repo: Path) -> None:
        text = (repo / path).read_text()
        assert old in text, f"{old!r} not in {path}"
        (repo / path).write_text(text.replace(old, new, 1))

    return breaks


def remove(path: str) -> Breaks:
    def breaks(repo: Path) -> None:
        target = repo / path
        shutil.rmtree(target) if target.is_dir() else target.unlink()

    return breaks


def committed_then_restored(path: str, content: str) -> Breaks:
    """A broken version that stays in git history although the work tree is fixed again."""

    def breaks(repo: Path) -> None:
        good = (repo / path).read_bytes()
        write(path, content)(repo)
        commit_all(repo, f"Break {path}")
        write(path, good)(repo)
        commit_all(repo, f"Fix {path}")

    return breaks


def unchanged(repo: Path) -> None:
    return None


NOT_YAML = "images:\n  - name: [unclosed\n"
NOT_UTF8 = b"# caf\xe9\n"
A_LIST = "- just\n- a list\n"


class Case(NamedTuple):
    """Break the repository, run `args`: exit `code`, and a line starting with `where` holds `reason`.

    `stops`: the command prints that one line and nothing else (else validate lists problems)."""

    breaks: Breaks
    args: tuple[str, ...]
    code: int
    where: str
    reason: str
    stops: bool = True


def report(breaks: Breaks, where: str, reason: str) -> Case:
    """`validate` names the broken file among its problems."""
    return Case(breaks, ("validate",), 1, where, reason, stops=False)


CASES = {
    # validate: a broken file is one problem line among the others, exit 1.
    "validate/release-not-yaml": report(write(DEV_RELEASE, NOT_YAML), DEV_RELEASE, "not valid YAML"),
    "validate/release-not-utf8": report(append(DEV_RELEASE, NOT_UTF8), DEV_RELEASE, "not UTF-8"),
    "validate/release-a-list": report(write(DEV_RELEASE, A_LIST), DEV_RELEASE, "not a YAML mapping"),
    "validate/release-tag-read-as-a-date": report(
        replace(DEV_RELEASE, '"1.29.3-alpine"', "2024-01-01"), DEV_RELEASE, "as a date: quote it"
    ),
    "validate/release-folder-missing": report(
        remove("environments/dev/myapp/release"),
        DEV_OVERLAY,
        "components lists release, which does not exist",
    ),
    "validate/release-images-a-number": report(
        replace(DEV_RELEASE, "images:\n", "images: 5\nunused:\n"), DEV_RELEASE, "images must be a list"
    ),
    "validate/provenance-not-utf8": report(
        write("environments/dev/myapp/release/provenance.yaml", NOT_UTF8),
        "environments/dev/myapp/release/provenance.yaml",
        "not UTF-8",
    ),
    "validate/overlay-patches-a-number": report(
        replace(DEV_OVERLAY, "patches:\n", "patches: 5\nunused:\n"), DEV_OVERLAY, "patches must be a list"
    ),
    "validate/overlay-not-utf8": report(append(DEV_OVERLAY, NOT_UTF8), DEV_OVERLAY, "not UTF-8 text (line"),
    "validate/overlay-empty": report(write(DEV_OVERLAY, ""), DEV_OVERLAY, "not a YAML mapping"),
    "validate/overlay-lists-a-deleted-file": report(
        remove("environments/prod/myapp/pdb.yaml"),
        "environments/prod/myapp/kustomization.yaml",
        "resources lists pdb.yaml, which does not exist",
    ),
    "validate/overlay-patch-file-missing": report(
        replace(DEV_OVERLAY, "patches:\n", "patches:\n  - path: replicas.yaml\n"),
        DEV_OVERLAY,
        "patches lists replicas.yaml, which does not exist",
    ),
    "validate/base-lists-a-deleted-file": report(
        remove("applications/base/myapp/service.yaml"),
        "applications/base/myapp/kustomization.yaml",
        "resources lists service.yaml, which does not exist",
    ),
    "validate/binary-file-under-argocd-apps": report(
        write("argocd/apps/myapp/logo.yaml", b"\x89PNG\r\n\x1a\n\x00\xff"),
        "argocd/apps/myapp/logo.yaml",
        "not UTF-8",
    ),
    "validate/application-source-a-number": report(
        replace("argocd/apps/myapp/dev.yaml", "  source:\n", "  source: 5\n  unused:\n"),
        "argocd/apps/myapp/dev.yaml: Application/myapp-dev",
        "source",
    ),
    "validate/argocd-install-not-yaml": report(
        write("argocd/install/kustomization.yaml", "resources: [\n"),
        "argocd/install/kustomization.yaml",
        "not valid YAML",
    ),
    # PyYAML raises ValueError or KeyError for these, not a YAMLError.
    "validate/application-impossible-date": report(
        append("argocd/apps/myapp/dev.yaml", b"when: 2024-02-30\n"),
        "argocd/apps/myapp/dev.yaml",
        "cannot read the timestamp value '2024-02-30'",
    ),
    "validate/overlay-bool-maybe": report(
        append(DEV_OVERLAY, b"x: !!bool maybe\n"), DEV_OVERLAY, "cannot read the bool value"
    ),
    # validate: what every check needs stops it with one line, exit 1.
    "validate/schema-not-json": Case(
        write("tools/schemas/argoproj.io/Application.json", "{\n"),
        ("validate",),
        1,
        "tools/schemas/argoproj.io/Application.json",
        "not valid JSON",
    ),
    "validate/settings-not-yaml": Case(
        append(SETTINGS, b"environments: [dev\n"), ("validate",), 1, SETTINGS, "not valid YAML"
    ),
    "validate/settings-not-utf8": Case(append(SETTINGS, NOT_UTF8), ("validate",), 1, SETTINGS, "not UTF-8"),
    "validate/settings-a-list": Case(write(SETTINGS, A_LIST), ("validate",), 1, SETTINGS, "YAML mapping"),
    "validate/settings-empty": Case(write(SETTINGS, ""), ("validate",), 1, SETTINGS, "YAML mapping"),
    "validate/environments-not-a-list": Case(
        replace(SETTINGS, "environments:\n", "environments: dev\nunused:\n"),
        ("validate",),
        1,
        SETTINGS,
        "environments must be a non-empty list",
    ),
    "validate/changed-since-missing-ref": Case(
        unchanged, ("validate", "--changed-since", "nope"), 2, "--changed-since nope", "not a commit"
    ),
    # status: stops at the first release it cannot read, exit 1.
    "status/release-not-yaml": Case(
        write(DEV_RELEASE, NOT_YAML), ("status",), 1, DEV_RELEASE, "not valid YAML"
    ),
    "status/release-not-utf8": Case(append(DEV_RELEASE, NOT_UTF8), ("status",), 1, DEV_RELEASE, "not UTF-8"),
    "status/release-a-list": Case(write(DEV_RELEASE, A_LIST), ("status",), 1, DEV_RELEASE, "YAML mapping"),
    "status/release-empty": Case(write(DEV_RELEASE, ""), ("status",), 1, DEV_RELEASE, "YAML mapping"),
    "status/release-images-a-number": Case(
        replace(DEV_RELEASE, "images:\n", "images: 5\nunused:\n"), ("status",), 1, DEV_RELEASE, "images must"
    ),
    "status/release-tag-read-as-a-date": Case(
        replace(DEV_RELEASE, '"1.29.3-alpine"', "2024-01-01"), ("status",), 1, DEV_RELEASE, "quote it"
    ),
    "status/release-folder-missing": Case(
        remove("environments/dev/myapp/release"), ("status",), 1, DEV_RELEASE, "missing"
    ),
    "status-json/release-not-yaml": Case(
        write(DEV_RELEASE, NOT_YAML), ("status", "--json"), 1, DEV_RELEASE, "not valid YAML"
    ),
    "status/release-int-abc": Case(
        append(DEV_RELEASE, b"x: !!int abc\n"), ("status",), 1, DEV_RELEASE, "cannot read the int value"
    ),
    "status/settings-impossible-date": Case(
        append(SETTINGS, b"x: 2024-02-30\n"), ("status",), 1, SETTINGS, "not valid YAML: cannot read"
    ),
    "status/settings-not-yaml": Case(
        append(SETTINGS, b"environments: [dev\n"), ("status",), 1, SETTINGS, "not valid YAML"
    ),
    "status/environments-empty": Case(
        replace(SETTINGS, "environments:\n- dev\n- staging\n- prod\n", "environments: []\n"),
        ("status",),
        1,
        SETTINGS,
        "environments must be a non-empty list",
    ),
    "status/app-that-does-not-exist": Case(
        unchanged, ("status", "--app", "nope"), 2, "--app nope", "no such app"
    ),
    # diff: reads gitops.yaml and git; what it renders, kustomize reports.
    "diff/settings-not-yaml": Case(
        append(SETTINGS, b"environments: [dev\n"), ("diff", "--base", "HEAD"), 1, SETTINGS, "not valid YAML"
    ),
    "diff/settings-a-list": Case(write(SETTINGS, A_LIST), ("diff", "--base", "HEAD"), 1, SETTINGS, "mapping"),
    "diff/base-missing-ref": Case(unchanged, ("diff", "--base", "nope"), 2, "--base nope", "not a commit"),
    "diff/base-not-given": Case(unchanged, ("diff",), 2, "tools/gitops diff:", "--base"),
    # Bad arguments: one line, exit 2.
    "args/unknown-command": Case(unchanged, ("frobnicate",), 2, "tools/gitops:", "frobnicate"),
    "args/unknown-flag": Case(unchanged, ("validate", "--bogus"), 2, "tools/gitops:", "--bogus"),
    "args/no-command": Case(unchanged, (), 2, "tools/gitops:", "command"),
}


# Run by the real tools/gitops: the broken schema (in this process the template's tools/schemas
# are read, not the repository's), and one case each of validate's and status's contracts.
ON_THE_COMMAND_LINE = {"validate/schema-not-json", "validate/release-not-yaml", "status/release-not-yaml"}


def run(repo: Path, *args: str, command_line: bool = False) -> subprocess.CompletedProcess[str]:
    if not command_line:
        return gitops_in_process(repo, *args)
    # No __pycache__ in tools/: the tree must be byte for byte as it was.
    return run_gitops(repo, *args, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})


def state(repo: Path) -> tuple[dict[str, bytes], str]:
    return tree_state(repo), git(repo, "status", "--porcelain", "--untracked-files=all")


@pytest.mark.parametrize("name", CASES)
def test_broken_input_is_one_line(repo: Path, name: str) -> None:
    case = CASES[name]
    case.breaks(repo)
    before = state(repo)
    result = run(repo, *case.args, command_line=name in ON_THE_COMMAND_LINE)
    output = result.stdout + result.stderr
    assert "Traceback" not in output, output
    assert result.returncode == case.code, output
    if case.stops:
        lines = output.strip().splitlines()
        assert len(lines) == 1, output
    else:
        lines = result.stdout.splitlines()
        assert "problem" in result.stderr.strip().splitlines()[-1], output
    named = [line for line in lines if line.startswith(f"{case.where}:") or line.startswith(f"{case.where} ")]
    assert any(case.reason in line for line in named), output
    assert state(repo) == before, "the repository changed"


def test_pristine_repository_passes(repo: Path) -> None:
    """The cases above break a repository every command accepts as it is."""
    before = state(repo)
    for args in (("validate",), ("status",), ("diff", "--base", "HEAD")):
        result = run(repo, *args)
        assert result.returncode == 0, result.stdout + result.stderr
    assert state(repo) == before


@pytest.mark.parametrize("content", [NOT_YAML, A_LIST], ids=["not-yaml", "a-list"])
def test_a_release_broken_only_in_history_does_not_fail_validate(repo: Path, content: str) -> None:
    """History keeps a release that was committed broken and fixed since: it reads as no release."""
    committed_then_restored(STAGING_RELEASE, content)(repo)
    result = run(repo, "validate")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr


def test_promote_names_a_release_whose_images_is_not_a_list(repo: Path) -> None:
    """Read before anything is compared or described (it was a TypeError)."""
    replace(DEV_RELEASE, "images:\n", "images: 5\nunused:\n")(repo)
    commit_all(repo, "images: a number")
    before = state(repo)
    result = run(repo, "promote", "--app", "myapp", "--from", "dev", "--dry-run")
    output = result.stdout + result.stderr
    assert "Traceback" not in output and "unexpected" not in output, output
    assert result.returncode == 1, output
    assert output.startswith("environments/dev/myapp: does not build"), output
    assert "myapp: promotion from dev to staging refused" in output
    assert state(repo) == before
