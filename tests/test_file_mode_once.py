"""extensions/file_mode_once.py: Copier reads `core.fileMode` once per run, and where the setting
is `false` still writes every executable bit into the index as Copier does.

What git ran is read from git's own trace (GIT_TRACE), not from the extension.
"""

from __future__ import annotations

import contextlib
import inspect
import subprocess
from collections.abc import Iterator
from pathlib import Path

import copier
import pytest
from copier._main import Worker
from plumbum import local

from extensions import file_mode_once
from tests.conftest import render, template_snapshot
from tests.template_versions import git

EXECUTABLE = "tools/gitops"  # executable in the template (Git's index says 100755)


@contextlib.contextmanager
def git_trace(trace: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every git this process starts logs its command line to `trace`: subprocess's and also
    plumbum's (Copier's), which runs commands with its own copy of the environment."""
    monkeypatch.setenv("GIT_TRACE", str(trace))
    with local.env(GIT_TRACE=str(trace)):
        yield


def file_mode_lookups(trace: Path) -> int:
    return sum("core.fileMode" in line for line in trace.read_text().splitlines())


def index_mode(repo: Path, path: str) -> str:
    return git(repo, "ls-files", "--stage", "--", path).split()[0]


def test_copier_internals_are_the_ones_the_wrapper_was_written_for() -> None:
    """Fails when a Copier release changes what the extension relies on: check the extension
    against the new release, then add its series to SUPPORTED_COPIER."""
    assert file_mode_once.copier_series() in file_mode_once.SUPPORTED_COPIER, (
        "a Copier series the wrapper was not checked against: it is off, so renders are slower"
    )
    sync = getattr(Worker, file_mode_once.METHOD)
    original = inspect.unwrap(sync)
    if getattr(sync, file_mode_once.WRAPPED_MARK, False):
        original = sync.__closure__[0].cell_contents  # the method the wrapper calls
    assert list(inspect.signature(original).parameters) == ["self", "dst_relpath", "src_mode"]
    source = inspect.getsource(original)
    assert "self.subproject.local_abspath" in source
    assert '"config", "--type=bool", "--get", "core.fileMode"' in source
    assert 'if file_mode_setting != "false":\n            # git will pick up' in source
    assert f"self.{file_mode_once.METHOD}(dst_relpath, src_mode)" in inspect.getsource(Worker._render_file)


def test_a_copy_reads_the_setting_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    trace = tmp_path / "trace"
    with git_trace(trace, monkeypatch):
        project = render(tmp_path / "project", {"app_name": "shop"})
    written = sum(1 for path in project.rglob("*") if path.is_file())
    assert written > 50
    assert file_mode_lookups(trace) == 1  # one Worker, one destination (Copier alone: one per file)


def test_with_file_mode_off_the_index_still_gets_the_executable_bit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A repository with core.fileMode false (Windows' default) tracks tools/gitops as a plain
    file: copying over it, Copier writes the template's executable bit into the index. A copy
    into a folder outside git comes first, in the same process: what that run read (unset) is
    not taken for the next run's setting."""
    render(tmp_path / "elsewhere", {"app_name": "cart"})
    project = tmp_path / "project"
    project.mkdir()
    git(project, "init", "-q", "-b", "main")
    git(project, "config", "core.fileMode", "false")
    (project / "tools").mkdir()
    (project / EXECUTABLE).write_text("#!/bin/sh\n")
    git(project, "add", EXECUTABLE)
    git(project, "update-index", "--chmod=-x", EXECUTABLE)
    git(project, "commit", "-q", "-m", "plain file")
    assert index_mode(project, EXECUTABLE) == "100644"
    trace = tmp_path / "trace"
    with git_trace(trace, monkeypatch):
        copier.run_copy(
            str(template_snapshot()), project, data={"app_name": "shop"},
            defaults=True, unsafe=True, quiet=True, overwrite=True,
        )  # fmt: skip
    assert index_mode(project, EXECUTABLE) == "100755"
    assert file_mode_lookups(trace) > 1  # Copier's own method ran for the files


def test_off_under_an_unchecked_copier() -> None:
    assert file_mode_once.install(series=(99, 0)) is False
    assert file_mode_once.install() is True
    assert getattr(getattr(Worker, file_mode_once.METHOD), file_mode_once.WRAPPED_MARK)


def test_git_missing_reads_as_unset(tmp_path: Path) -> None:
    with local.env(PATH=str(tmp_path)):  # no git here (Copier's git, with plumbum's environment)
        assert file_mode_once.core_file_mode(tmp_path) == "unset"
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    subprocess.run(["git", "-C", str(tmp_path), "config", "core.fileMode", "off"], check=True)
    assert file_mode_once.core_file_mode(tmp_path) == "false"
