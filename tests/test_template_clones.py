"""gitopslib/template_clones.py: one clone per commit while an update runs, the same files Copier writes.

A small template in a local git repository, copied with the real Copier; git's own trace counts
the clones, so the counts are what git did, not what the module believes it did.
"""

from __future__ import annotations

import inspect
import os
import re
import shutil
import warnings
from collections.abc import Iterator
from pathlib import Path

import copier
import pytest
from copier import _template, _vcs
from gitopslib import template_clones
from gitopslib.template_clones import SUPPORTED_COPIER, copier_series, shared_template_clones
from plumbum import local

from tests.conftest import TEMPLATE_ROOT, run_gitops
from tests.template_versions import commit_all, git, tree_state
from tests.update_scenarios import Scenario

ANSWERS_TEMPLATE = "{{ _copier_conf.answers_file }}.jinja"


@pytest.fixture
def small_template(tmp_path: Path) -> Path:
    """A one-question template, committed and tagged v1."""
    root = tmp_path / "small-template"
    root.mkdir()
    (root / "copier.yml").write_text("name:\n  type: str\n  default: world\n")
    (root / "hello.txt.jinja").write_text("hello {{ name }}, release one\n")
    (root / ANSWERS_TEMPLATE).write_text("{{ _copier_answers | to_nice_yaml }}")
    git(root, "init", "-q", "-b", "main")
    commit_all(root, "Release one")
    git(root, "tag", "v1")
    return root


@pytest.fixture
def git_trace(tmp_path: Path) -> Iterator[Path]:
    """Where git logs every command Copier runs in this test (Copier runs git through plumbum,
    whose environment is a copy of os.environ taken at import: set there)."""
    trace = tmp_path / "git-trace.log"
    with local.env(GIT_TRACE=str(trace)):
        yield trace


def clones_in(trace: Path) -> int:
    text = trace.read_text() if trace.exists() else ""
    return len(re.findall(r"trace: built-in: git clone ", text))


def copy(template: Path, destination: Path, ref: str) -> dict[str, bytes]:
    copier.run_copy(str(template), destination, vcs_ref=ref, defaults=True, quiet=True, unsafe=True)
    return tree_state(destination)


def test_copier_internals_it_relies_on() -> None:
    """Fails when a Copier upgrade changes what the sharing wraps: re-check, then extend SUPPORTED_COPIER."""
    pinned = re.search(
        r"^copier==(\d+)\.(\d+)\.", (TEMPLATE_ROOT / "template/tools/requirements.txt").read_text(), re.M
    )
    assert pinned, "tools/requirements.txt pins no copier version"
    assert (int(pinned[1]), int(pinned[2])) in SUPPORTED_COPIER
    assert copier_series() in SUPPORTED_COPIER
    assert _template.clone is _vcs.clone
    assert "clone(" in inspect.getsource(_template.Template.local_abspath.func)
    assert list(inspect.signature(_vcs.clone).parameters) == ["url", "ref", "location"]


def test_one_clone_per_commit_and_the_same_files(
    small_template: Path, tmp_path: Path, git_trace: Path
) -> None:
    unshared = copy(small_template, tmp_path / "unshared", "v1")
    assert clones_in(git_trace) == 1
    with template_clones.clones_folder() as folder, shared_template_clones(folder) as active:
        assert active
        copies = [copy(small_template, tmp_path / f"shared-{n}", "v1") for n in range(3)]
    assert clones_in(git_trace) == 2, "three copies at one commit made more than one clone"
    assert copies == [unshared] * 3
    assert b"_commit: v1" in unshared[".copier-answers.yml"]


def test_a_moved_tag_is_cloned_again(small_template: Path, tmp_path: Path, git_trace: Path) -> None:
    with template_clones.clones_folder() as folder, shared_template_clones(folder):
        first = copy(small_template, tmp_path / "first", "v1")
        (small_template / "hello.txt.jinja").write_text("hello {{ name }}, release one, fixed\n")
        commit_all(small_template, "Fix release one")
        git(small_template, "tag", "-f", "v1")
        second = copy(small_template, tmp_path / "second", "v1")
    assert first["hello.txt"] == b"hello world, release one\n"
    assert second["hello.txt"] == b"hello world, release one, fixed\n"
    assert clones_in(git_trace) == 2


def test_a_new_tag_on_a_kept_commit_is_what_the_answers_record(small_template: Path, tmp_path: Path) -> None:
    """Copier stores the clone's `git describe --tags` as `_commit`: a clone made before the tag
    existed would name the old one."""
    git(small_template, "tag", "v0")
    with template_clones.clones_folder() as folder, shared_template_clones(folder):
        copy(small_template, tmp_path / "before", "v1")
        git(small_template, "tag", "-d", "v0")
        git(small_template, "tag", "v2")
        shared = copy(small_template, tmp_path / "shared", "v2")
    unshared = copy(small_template, tmp_path / "unshared", "v2")
    assert shared[".copier-answers.yml"] == unshared[".copier-answers.yml"]


def test_a_kept_clone_something_wrote_into_is_cloned_again(
    small_template: Path, tmp_path: Path, git_trace: Path
) -> None:
    """A template's task or migration may write into its own folder: the next app must not see it."""
    with template_clones.clones_folder() as folder, shared_template_clones(folder):
        copy(small_template, tmp_path / "first", "v1")
        (kept,) = folder.iterdir()
        (kept / "hello.txt.jinja").write_text("written by a task\n")
        again = copy(small_template, tmp_path / "again", "v1")
        assert clones_in(git_trace) == 2
        (recloned,) = set(folder.iterdir()) - {kept}
        (recloned / "__pycache__").mkdir()
        (recloned / "__pycache__" / "task.cpython-311.pyc").write_bytes(b"bytecode is not a change")
        python_only = copy(small_template, tmp_path / "python-only", "v1")
    assert again["hello.txt"] == python_only["hello.txt"] == b"hello world, release one\n"
    assert clones_in(git_trace) == 2, "bytecode beside a module made a clone count as changed"


def test_head_of_a_dirty_template_is_copiers_own_clone(small_template: Path, tmp_path: Path) -> None:
    (small_template / "hello.txt.jinja").write_text("hello {{ name }}, not committed\n")
    with template_clones.clones_folder() as folder, shared_template_clones(folder):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Copier's DirtyLocalWarning: the point of the test
            files = copy(small_template, tmp_path / "head", "HEAD")
        assert not any(folder.iterdir()), "a clone of HEAD was kept"
    assert files["hello.txt"] == b"hello world, not committed\n"


def test_an_unknown_ref_fails_in_copiers_words(small_template: Path, tmp_path: Path) -> None:
    with (
        template_clones.clones_folder() as folder,
        shared_template_clones(folder),
        pytest.raises(ValueError, match="Unknown revision: 'v9'"),
    ):
        copy(small_template, tmp_path / "nowhere", "v9")


def test_copiers_clone_is_put_back_even_after_a_failure(small_template: Path, tmp_path: Path) -> None:
    with (
        pytest.raises(RuntimeError),
        template_clones.clones_folder() as folder,
        shared_template_clones(folder),
    ):
        assert _template.clone is not _vcs.clone
        raise RuntimeError("stop")
    assert _template.clone is _vcs.clone


def test_an_unchecked_copier_version_is_left_alone(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(template_clones, "copier_series", lambda: (9, 18))
    with shared_template_clones(tmp_path) as active:
        assert not active
        assert _template.clone is _vcs.clone


def test_an_update_of_two_apps_clones_the_template_once(scenario: Scenario, tmp_path: Path) -> None:
    """The real `tools/gitops update` process (GIT_TRACE in its environment): two apps, one
    release, one clone (five per app without the sharing)."""
    trace = tmp_path / "update-trace.log"
    result = run_gitops(
        scenario.repo,
        "update",
        "--jobs",
        "1",
        "--data",
        "argocd_version=v3.6.3",
        env={**os.environ, "GIT_TRACE": str(trace)},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "[2/2] shop: updated to v1.0.0" in result.stdout
    assert clones_in(trace) == 1


def test_a_runs_folder_forgets_its_clones(small_template: Path, tmp_path: Path) -> None:
    """A later run that gets the same folder name (tempfile may give it out again) clones anew."""
    with template_clones.clones_folder() as folder, shared_template_clones(folder):
        copy(small_template, tmp_path / "first", "v1")
        assert any(key[0] == str(folder) for key in template_clones._kept)
    assert not any(key[0] == str(folder) for key in template_clones._kept)
    folder.mkdir()
    try:
        with shared_template_clones(folder):
            files = copy(small_template, tmp_path / "again", "v1")
    finally:
        shutil.rmtree(folder)
    assert files["hello.txt"] == b"hello world, release one\n"
