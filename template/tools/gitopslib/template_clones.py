"""Copier's clones of a local template, made once per commit while `tools/gitops update` runs.

Copier 9.19 clones the template whenever one of its Template objects is first read: an update
of one app makes five of them (the new release, the old one, and the renders made of each), and
each clone is a `git clone`, a checkout and a `git submodule` shell script, some 28 processes.
An update of N apps at one release clones the same one or two commits 5N times. While
`shared_template_clones` is active, the first clone of a commit is kept in the run's folder and
handed to every later Template object that asks for that commit: Copier only reads a template's
clone, and deletes the empty folder it made for the clone, not the folder clone() returns.
Before each reuse one `git status` checks that the clone is still as cloned (a template's task or
migration could write into its own folder); if not, it is cloned again.

Only clones that depend on nothing but the commit are shared: a template in a local folder (a
remote one Copier already keeps as a mirror), at a ref other than HEAD (Copier adds a local
template's uncommitted changes to HEAD), resolved to a commit in that folder on every call, and
with the same tags as then (Copier records the clone's `git describe --tags`): a tag moved or
added meanwhile gives a new clone. Anything else is Copier's own clone, untouched.

It leans on a Copier internal (`copier._template` calls `clone` by that name), so it is active
only under the Copier versions it was checked against (SUPPORTED_COPIER, the version
tools/requirements.txt pins); under any other Copier clones as usual (correct, only slower).
"""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from types import ModuleType

# Copier release series (major, minor) whose internals were checked (tests/test_template_clones.py).
SUPPORTED_COPIER = ((9, 19),)
FOLDER_PREFIX = "gitops-template-clones-"
BYTECODE = "**/__pycache__/**"

Clone = Callable[[str, str, "str | None"], str]

# (run folder, template folder, commit, tags) -> the kept clone. Module-level so that an update's
# worker process shares its clones across the apps it takes, within one run's folder.
_kept: dict[tuple[str, str, str, str], str] = {}


def copier_series() -> tuple[int, int] | None:
    try:
        major, minor = version("copier").split(".")[:2]
        return int(major), int(minor)
    except (PackageNotFoundError, ValueError):
        return None


def _patchable_template_module() -> ModuleType | None:
    """copier._template, when its `clone` is Copier's own under a checked Copier version."""
    if copier_series() not in SUPPORTED_COPIER:
        return None
    try:
        from copier import _template, _vcs
    except ImportError:
        return None
    return _template if getattr(_template, "clone", None) is _vcs.clone else None


@contextmanager
def clones_folder() -> Iterator[Path]:
    """A folder for one run's kept clones, removed with everything in it at the end."""
    with tempfile.TemporaryDirectory(prefix=FOLDER_PREFIX) as folder:
        try:
            yield Path(folder)
        finally:
            for key in [key for key in _kept if key[0] == folder]:
                del _kept[key]


@contextmanager
def shared_template_clones(folder: Path) -> Iterator[bool]:
    """Copier's clones share one per commit, kept in `folder` (see the module's docstring).
    Yields whether sharing is active (False under an unchecked Copier version)."""
    module = _patchable_template_module()
    if module is None:
        yield False
        return
    original: Clone = getattr(module, "clone")  # noqa: B009 (a module mypy cannot see into)
    setattr(module, "clone", _sharing(original, folder))  # noqa: B010
    try:
        yield True
    finally:
        setattr(module, "clone", original)  # noqa: B010


def _sharing(original: Clone, folder: Path) -> Clone:
    def clone(url: str, ref: str = "HEAD", location: str | None = None) -> str:
        template = _local_folder(url)
        commit = _commit(template, ref) if template is not None else None
        if template is None or commit is None:
            return original(url, ref, location)
        # The tags too: Copier records `git describe --tags` of its clone, and a clone knows the
        # tags the template had when it was made (a new tag on the same commit must be seen).
        key = (str(folder), str(template), commit, _tags(template))
        kept = _kept.get(key)
        if kept is None or not _as_cloned(Path(kept)):
            kept = original(url, commit, tempfile.mkdtemp(prefix="clone-", dir=folder))
            _kept[key] = kept
        # The kept clone itself: Copier reads the template from the folder clone() returns and
        # deletes only the (still empty) `location` it made for it.
        return kept

    return clone


def _as_cloned(clone: Path) -> bool:
    """Nothing in the kept clone changed since it was made (a task or migration of the template
    may write into its own folder), bytecode Python writes beside imported modules aside."""
    if not clone.is_dir():  # its run's folder is gone (a name tempfile gave out again)
        return False
    result = subprocess.run(
        [
            "git",
            "status",
            "--porcelain",
            "--untracked-files=all",
            "--",
            ".",
            f":(exclude,glob){BYTECODE}",
        ],
        cwd=clone,
        capture_output=True,
        text=True,
        check=False,
    )
    return result.returncode == 0 and not result.stdout.strip()


def _local_folder(url: str) -> Path | None:
    path = Path(url.removeprefix("file://"))
    return path.resolve() if path.is_absolute() and path.is_dir() else None


def _commit(template: Path, ref: str) -> str | None:
    """The commit `ref` names in the template's repository; None for HEAD (it includes a local
    template's uncommitted changes), for anything that reads as an option, or when git cannot
    resolve it (Copier's own clone then reports it in its words)."""
    if not ref or ref == "HEAD" or ref.startswith("-"):
        return None
    result = subprocess.run(
        ["git", "rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}"],
        cwd=template,
        capture_output=True,
        text=True,
        check=False,
    )
    commit = result.stdout.strip()
    return commit if result.returncode == 0 and len(commit) in (40, 64) else None


def _tags(template: Path) -> str:
    """Every tag of the template's repository and what it points at, as one string."""
    return subprocess.run(
        ["git", "for-each-ref", "--format=%(objectname) %(refname)", "refs/tags"],
        cwd=template,
        capture_output=True,
        text=True,
        check=False,
    ).stdout
