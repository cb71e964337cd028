"""One app's `copier update` in a clean work tree, validated and committed (`update_one`).

What `tools/gitops update` runs for each app, in the user's tree or in a scratch worktree of it
(update.py runs the apps, one by one or side by side). A failing update, migration or validation
puts the app's files and answers back as they were; in the user's tree what it left is stashed.
"""

from __future__ import annotations

import subprocess
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from . import fast_yaml, releases
from .errors import BrokenFileError, GitError, MissingGitIdentityError, UsageError
from .git import (
    commit_all,
    conflicted_paths,
    deleted_since_head,
    dirty_paths,
    discard_changes,
    file_at,
    git,
    ignored_paths,
    restore_from_head,
    set_aside_changes,
    untracked_paths,
)
from .layout import KUSTOMIZATION, PROVENANCE, release_dir_of
from .per_environment import answers_for_environments
from .repo import read_yaml
from .update_checks import app_problems
from .update_leftovers import MARKER


@dataclass(frozen=True)
class AppAnswers:
    app: str
    file: str
    commit: str
    src_path: str


def version_of(root: Path, app: AppAnswers) -> str:
    """The template version the app's answers file names (read_apps' reading of one app)."""
    answers = read_yaml(root / app.file, app.file)
    return str(answers.get("_commit", "")) if isinstance(answers, dict) else "?"


@contextmanager
def _without_missing_file_warnings() -> Iterator[None]:
    """Copier renders the old template version in a temporary folder, where gitops.yaml (read by
    the repo-level questions' defaults) does not exist, and warns about it on every update: a
    multi-line warning that means nothing here, as the stored answers are what it renders."""
    from copier.errors import MissingFileWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MissingFileWarning)
        yield


def run_copier_update(
    root: Path, answers_file: str, data: dict[str, object], vcs_ref: str | None, exclude: tuple[str, ...] = ()
) -> None:
    import copier  # only this command needs Copier

    with _without_missing_file_warnings():
        copier.run_update(
            root,
            answers_file=answers_file,
            data=data,
            defaults=True,
            overwrite=True,
            unsafe=True,
            conflict="inline",
            vcs_ref=vcs_ref,
            quiet=True,
            exclude=exclude,
        )


def render_version(src_path: str, commit: str, answers: dict[str, object], destination: Path) -> None:
    """What the template rendered at `commit` with these answers (no tasks, no migrations)."""
    import copier

    data = {key: value for key, value in answers.items() if not key.startswith("_")}
    # overwrite=True marks a re-render of stored answers, as Copier's own update renders are:
    # the template then keeps answers that rules tightened since then would refuse.
    with _without_missing_file_warnings():
        copier.run_copy(
            src_path,
            destination,
            data=data,
            vcs_ref=commit,
            overwrite=True,
            defaults=True,
            unsafe=True,
            quiet=True,
            skip_tasks=True,
        )


def keep_edited_files_the_template_dropped(
    root: Path, app: AppAnswers, answers_before: dict[str, object]
) -> list[str]:
    """Copier deletes a file the new template no longer generates even when the user edited it.

    Restores every deleted file whose committed content differs from what the old template
    version rendered (the user's edits), unless the same content moved to another path.
    """
    deleted = deleted_since_head(root)
    if not deleted:
        return []
    kept = []
    with tempfile.TemporaryDirectory(prefix="gitops-old-render-") as tmp:
        render_version(app.src_path, app.commit, answers_before, Path(tmp) / "old")
        for path in deleted:
            rendered = Path(tmp, "old", path)
            committed = file_at(root, "HEAD", path)
            if rendered.is_file() and rendered.read_bytes() == committed:
                continue  # as the template wrote it
            if written_by_promote(root, path, committed):
                continue
            restore_from_head(root, path)
            kept.append(path)
    drop_orphaned_provenance(root, [path for path in deleted if path not in kept])
    return kept


def written_by_promote(root: Path, path: str, committed: bytes | None) -> bool:
    """A release file as `tools/gitops promote` last wrote it: its release is the one that the
    provenance beside it records (comments and formatting aside). Promote rewrites both files,
    so a release that differs from its record was changed by hand since."""
    directory = release_dir_of(path)
    if directory is None or path != f"{directory}/{KUSTOMIZATION}" or committed is None:
        return False
    if releases.parse(committed.decode(errors="replace")) is None:
        return False
    files = releases.files_at(root, "HEAD", directory)
    record = releases.parse(files.pop(PROVENANCE, b"").decode(errors="replace"))
    return record is not None and releases.recorded(record, files)


def drop_orphaned_provenance(root: Path, removed: list[str]) -> None:
    """The provenance of a release folder whose release went with its environment: promote wrote
    it, and nothing else would remove it (the template never generated it)."""
    for path in removed:
        directory = release_dir_of(path)
        if directory is None or path != f"{directory}/{KUSTOMIZATION}":
            continue
        provenance = f"{directory}/{PROVENANCE}"
        if (root / provenance).is_file():
            git(root, "rm", "-q", "--", provenance)


def _commit_message(app: AppAnswers, version: str, data: dict[str, str], kept: list[str]) -> str:
    """What changed, for `git log`: the template versions, the answers given and the files kept."""
    moved = f"{app.commit} -> {version}" if app.commit != version else f"{version} (unchanged)"
    given = ", ".join(f"{key}={value}" for key, value in data.items()) or "none (stored answers kept)"
    lines = [f"Update {app.app} to gitops-template {version}", ""]
    lines += [f"Template: {moved}", f"Answers given: {given}"]
    lines += [f"Kept (holds your edits, no longer generated): {path}" for path in kept]
    lines += ["", f"copier update -a {app.file}" + "".join(f" --data {k}={v}" for k, v in data.items())]
    return "\n".join(lines)


@dataclass
class AppResult:
    """What `copier update` did to one app. Plain data: a worker process returns it through the
    pool, which cannot carry every exception (Copier's TaskError does not unpickle)."""

    app: str
    status: str  # updated | unchanged | conflict | failed
    version: str = "?"
    commit: str | None = None
    conflicts: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    exposed: list[str] = field(default_factory=list)  # left untracked at a conflict: ignored before
    reason: str = ""  # why it failed, one line
    problems: list[str] = field(default_factory=list)  # validation problems that stopped it
    git_failed: bool = False  # git itself refused (a commit hook): reported as git's error, exit 2


def one_line(text: str) -> str:
    return " ".join(text.split())


def failure_reason(error: BaseException) -> str:
    """One line naming what failed: the migration or task command and its exit code (Copier's
    own message quotes the whole argv, the interpreter's absolute path first), else the error."""
    if isinstance(error, subprocess.CalledProcessError):
        # Unquoted: shell quoting of a `python -c` script is hard to read, and this is no command to paste.
        command = one_line(error.cmd if isinstance(error.cmd, str) else " ".join(_shorter_argv(error.cmd)))
        if len(command) > 100:
            command = command[:97] + "..."
        return f"a migration or task of the template failed (exit {error.returncode}): {command}"
    message = one_line(str(error)) or type(error).__name__
    if isinstance(error, (UsageError, BrokenFileError, MissingGitIdentityError, OSError)):
        return message
    if _is_copier(error) or message.startswith("Validation error for question"):
        # Copier's own refusals (a downgrade, an invalid answer: a plain ValueError) say why.
        return message
    return f"unexpected {type(error).__name__}: {message}"


def _shorter_argv(argv: list[str]) -> list[str]:
    return [Path(str(argv[0])).name, *map(str, argv[1:])] if argv else []


def _is_copier(error: BaseException) -> bool:
    return type(error).__module__.split(".")[0] == "copier"


def _put_back(root: Path, app: AppAnswers, scratch: bool) -> str:
    """The tree back at HEAD after a failed update; in the user's tree what it held is stashed."""
    if scratch:
        discard_changes(root)
        return ""
    # This run reports the failure itself; the marker would only stand in the stash for it.
    (root / MARKER).unlink(missing_ok=True)
    if set_aside_changes(root, f"tools/gitops update: {app.app} as its failed update left it"):
        return "; what the failed update left is in git stash (stash@{0})"
    return ""


def no_longer_ignored(root: Path, ignored_before: set[str]) -> list[str]:
    """Untracked files, not ignored now, that git ignored when the update started."""
    return [path for path in sorted(untracked_paths(root)) if was_ignored(path, ignored_before)]


def newly_tracked_ignored(root: Path, ignored_before: set[str]) -> list[str]:
    """Staged new files that git ignored when the update started (its .gitignore changed)."""
    added = git(root, "diff", "--cached", "--name-only", "-z", "--diff-filter=A").split("\0")
    return [path for path in added if path and was_ignored(path, ignored_before)]


def was_ignored(path: str, ignored_before: set[str]) -> bool:
    """`ignored_before` as `git ls-files --directory` lists it: files, and folders ending in /."""
    return path in ignored_before or any(d.endswith("/") and path.startswith(d) for d in ignored_before)


def update_one(
    root: Path,
    app: AppAnswers,
    data: dict[str, str],
    vcs_ref: str | None,
    scratch: bool = False,
    exclude: tuple[str, ...] = (),
) -> AppResult:
    """`copier update` of one app in `root` (the repository, or a scratch worktree of it when
    `scratch`), validated and committed unless it left conflicts. `root` must be clean at HEAD:
    when the update, a migration, the validation or the commit fails, the app's files and answers
    are put back as they were (its answers then name the old version, so that a re-run retries
    it), and in the user's tree whatever was there is kept in a stash rather than deleted.
    `exclude` is what Copier leaves out (shared_files.exclusions)."""
    before = git(root, "rev-parse", "HEAD").strip()
    ignored_before = ignored_paths(root)
    try:
        answers_before = fast_yaml.load((root / app.file).read_text()) or {}
        run_copier_update(root, app.file, answers_for_environments(answers_before, data), vcs_ref, exclude)
        kept = keep_edited_files_the_template_dropped(root, app, answers_before)
        if conflicts := conflicted_paths(root):
            # Left in place on purpose: the markers are what the user resolves. The user commits
            # what is left, so the edited files Copier deleted are back and the files no longer
            # ignored are named first.
            exposed = no_longer_ignored(root, ignored_before)
            return AppResult(app.app, "conflict", conflicts=conflicts, kept=kept, exposed=exposed)
        version = version_of(root, app)
        if not dirty_paths(root):
            return AppResult(app.app, "unchanged", version, kept=kept)
        if problems := app_problems(root, app.app, before):
            stash = _put_back(root, app, scratch)
            return AppResult(app.app, "failed", version, reason=problems[0] + stash, problems=problems)
        git(root, "add", "-A")
        if exposed := newly_tracked_ignored(root, ignored_before):
            stash = _put_back(root, app, scratch)
            reason = (
                f"{exposed[0]}: ignored before this update, it would be committed now (the template "
                "changed .gitignore); move it out of the repository or list it in .git/info/exclude"
            )
            return AppResult(app.app, "failed", version, reason=reason + stash)
        try:
            commit_all(root, _commit_message(app, version, data, kept))
        except GitError as error:
            _put_back(root, app, scratch)
            return AppResult(app.app, "failed", version, reason=str(error), git_failed=True)
        return AppResult(app.app, "updated", version, git(root, "rev-parse", "HEAD").strip(), kept=kept)
    except Exception as error:  # anything Copier, its tasks and migrations, or git raise
        stash = _put_back(root, app, scratch)
        return AppResult(app.app, "failed", reason=failure_reason(error) + stash)
