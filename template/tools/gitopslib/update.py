"""`tools/gitops update`: bring every app (or one) to the newest template version.

One app at a time, as `copier update` requires a clean work tree: update, stop at the first
conflict (Copier exits 0 even when it leaves conflict markers), validate the app's changed
overlays, commit and go on. A failing update, migration or validation stops the run at that
app with its files and answers put back, so that a re-run retries it; the apps before it stay
committed. Apps already at the target release are skipped without running Copier.
`--data KEY=VALUE` goes to every app: that is how a repo-level setting changes everywhere, and
the only way (with `--app` it is refused); the whole repository is validated once all took it.
"""

from __future__ import annotations

import multiprocessing
import re
import subprocess
import sys
import tempfile
import warnings
from collections.abc import Generator, Iterator, Mapping
from concurrent.futures import BrokenExecutor, Future, ProcessPoolExecutor
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from multiprocessing.queues import SimpleQueue
from pathlib import Path
from typing import TextIO

import yaml

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
    is_work_tree,
    require_identity,
    restore_from_head,
    set_aside_changes,
    worktree_paths,
)
from .layout import (
    ANSWERS_GLOB,
    KUSTOMIZATION,
    PROVENANCE,
    REPO_LEVEL_KEYS,
    SETTINGS_FILE,
    app_of_answers_file,
    release_dir_of,
)
from .per_environment import answers_for_environments, unresolved_answers_problem
from .repo import read_yaml
from .shared_files import exclusions
from .template_clones import clones_folder, shared_template_clones
from .update_checks import app_problems
from .update_leftovers import MARKER, unfinished_update_reason

SHORTHANDS = {"gh:": "https://github.com/", "gl:": "https://gitlab.com/"}
# The temporary folder of the worktrees of a parallel run; a worktree under it outlives only an
# interrupted run.
WORKTREE_PREFIX = "gitops-update-"


class InterruptedRunError(BrokenFileError):
    """What an interrupted earlier run left behind: exit 1, one `path: how to recover` line."""


@dataclass(frozen=True)
class AppAnswers:
    app: str
    file: str
    commit: str
    src_path: str


def read_apps(root: Path) -> list[AppAnswers]:
    apps = []
    for path in sorted(root.glob(ANSWERS_GLOB)):
        app = app_of_answers_file(path.name)
        answers = read_yaml(path, path.name) or {}
        if app and isinstance(answers, dict):
            apps.append(
                AppAnswers(
                    app=app,
                    file=path.name,
                    commit=str(answers.get("_commit", "")),
                    src_path=str(answers.get("_src_path", "")),
                )
            )
    return apps


def version_of(root: Path, app: AppAnswers) -> str:
    """The template version the app's answers file names (read_apps' reading of one app)."""
    answers = read_yaml(root / app.file, app.file)
    return str(answers.get("_commit", "")) if isinstance(answers, dict) else "?"


def parse_data(pairs: list[str]) -> dict[str, str]:
    data = {}
    for pair in pairs:
        key, separator, value = pair.partition("=")
        if not separator or not key:
            raise UsageError(f"--data {pair}: expected KEY=VALUE")
        data[key] = value
    return data


def _version_key(tag: str) -> tuple[int, ...] | None:
    match = re.fullmatch(r"v?(\d+)\.(\d+)\.(\d+)", tag)
    return tuple(int(part) for part in match.groups()) if match else None


def newest_release(src_path: str, cache: dict[str, str | None]) -> str | None:
    """The highest vX.Y.Z tag of the template, or None when it cannot be listed."""
    if src_path not in cache:
        url = src_path
        for short, full in SHORTHANDS.items():
            if url.startswith(short):
                url = full + url[len(short) :]
        listing = git(Path.cwd(), "ls-remote", "--tags", "--refs", url, check=False)
        tags = [line.rsplit("refs/tags/", 1)[-1] for line in listing.splitlines()]
        versions = [(key, tag) for tag in tags if (key := _version_key(tag))]
        cache[src_path] = max(versions)[1] if versions else None
    return cache[src_path]


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


def newly_tracked_ignored(root: Path, ignored_before: set[str]) -> list[str]:
    """Staged new files that git ignored when the update started (its .gitignore changed)."""
    added = git(root, "diff", "--cached", "--name-only", "--diff-filter=A").splitlines()
    return [path for path in added if _was_ignored(path, ignored_before)]


def _was_ignored(path: str, ignored_before: set[str]) -> bool:
    """`ignored_before` as `git ls-files --directory` lists it: files, and folders ending in /."""
    return path in ignored_before or any(d.endswith("/") and path.startswith(d) for d in ignored_before)


def _no_longer_ignored(root: Path, ignored_before: set[str]) -> list[str]:
    untracked = git(root, "ls-files", "--others", "--exclude-standard").splitlines()
    return [path for path in untracked if _was_ignored(path, ignored_before)]


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
        if conflicts := conflicted_paths(root):
            # Left in place on purpose: the markers are what the user resolves.
            return AppResult(app.app, "conflict", conflicts=conflicts)
        kept = keep_edited_files_the_template_dropped(root, app, answers_before)
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


# The scratch worktree of this worker process, claimed as the process starts: one per process,
# reused app after app (a worktree per app checked out the whole repository each time, and so
# cost apps x repository: 0.44 s an app at 200 apps, before any app was updated).
_claimed_tree: dict[str, Path] = {}


def _claim_tree(free: SimpleQueue[str]) -> None:
    _claimed_tree["tree"] = Path(free.get())


def _worker(
    start: str,
    app: AppAnswers,
    data: dict[str, str],
    vcs_ref: str | None,
    clones: Path,
    exclude: tuple[str, ...],
) -> AppResult:
    """update_one in a worker process, in its worktree put back at `start` first (the previous
    app left its commit there, or what failed). Never raises: an exception that does not unpickle
    in the parent (Copier's TaskError) breaks the whole pool and loses which app failed."""
    try:
        tree = _claimed_tree["tree"]
        git(tree, "reset", "-q", "--hard", start)
        git(tree, "clean", "-fdxq")  # as a new worktree: nothing untracked, nothing ignored
        with shared_template_clones(clones):
            return update_one(tree, app, data, vcs_ref, scratch=True, exclude=exclude)
    except Exception as error:
        return AppResult(app.app, "failed", reason=failure_reason(error))


def _collected(app: AppAnswers, future: Future[AppResult]) -> AppResult:
    try:
        return future.result()
    except BrokenExecutor as error:  # the worker process itself died (killed, out of memory)
        return AppResult(app.app, "failed", reason=f"its worker process stopped: {one_line(str(error))}")


def update_in_parallel(
    root: Path,
    apps: list[AppAnswers],
    data: dict[str, str],
    vcs_ref: str | None,
    jobs: int,
    clones: Path,
    excluded: Mapping[str, tuple[str, ...]],
) -> Generator[AppResult, None, None]:
    """Each app in the git worktree of a worker process, `jobs` at a time, yielded in app order
    as soon as it is done (for progress and to stop early); the caller picks their commits onto
    the branch.
    Apps touch their own files, and shared files (README, gitops.yaml) the same way, so the
    picks merge cleanly and the tree equals the one-by-one result. Closing the iterator early
    cancels the apps not started and removes every worktree."""
    start = git(root, "rev-parse", "HEAD").strip()
    context = multiprocessing.get_context()
    free: SimpleQueue[str] = context.SimpleQueue()
    with tempfile.TemporaryDirectory(prefix=WORKTREE_PREFIX) as tmp:
        trees: list[str] = []
        try:
            for number in range(1, min(jobs, len(apps)) + 1):
                tree = str(Path(tmp) / f"worker-{number}")
                git(root, "worktree", "add", "--detach", "--quiet", tree, start)
                trees.append(tree)
                free.put(tree)
            with ProcessPoolExecutor(
                max_workers=len(trees), mp_context=context, initializer=_claim_tree, initargs=(free,)
            ) as pool:
                futures = [
                    pool.submit(_worker, start, app, data, vcs_ref, clones, excluded.get(app.app, ()))
                    for app in apps
                ]
                try:
                    for app, future in zip(apps, futures, strict=True):
                        yield _collected(app, future)
                finally:
                    pool.shutdown(wait=True, cancel_futures=True)
        finally:
            for tree in trees:
                git(root, "worktree", "remove", "--force", tree, check=False)
            git(root, "worktree", "prune", check=False)
            free.close()


def _report(prefix: str, result: AppResult, out: TextIO) -> None:
    for path in result.kept:
        print(
            f"{path}: kept: the template no longer generates it, but it holds your edits "
            "(delete it once you no longer need it)",
            file=out,
        )
    if result.status == "unchanged":
        print(f"{prefix} already at {result.version}, nothing changed", file=out, flush=True)
    elif result.status == "updated":
        commit = git_short(result.commit)
        print(f"{prefix} updated to {result.version} (commit {commit})", file=out, flush=True)


def git_short(commit: str | None) -> str:
    return (commit or "?")[:7]


def _stop_at_conflict(prefix: str, result: AppResult, out: TextIO) -> int:
    for path in result.conflicts:
        print(f"{path}: conflict left by copier update of {result.app}", file=out)
    print(
        f"{prefix} stopped at {len(result.conflicts)} conflicting file(s). Resolve the markers, "
        "then `git add -A && git commit`, and run `tools/gitops update` again for the rest.",
        file=out,
        flush=True,
    )
    return 1


def _stop_at_failure(result: AppResult, out: TextIO) -> int:
    """The app's files and answers are already back as before its update (update_one)."""
    for problem in result.problems:
        print(problem, file=out)
    print(
        f"stopped at {result.app}: {result.reason} ({result.app} is back as before its update; "
        "run tools/gitops update again once fixed)",
        file=out,
        flush=True,
    )
    if result.git_failed:
        # git refused the commit (a hook, a signing setup): its own one-line error, as a git failure.
        raise GitError(result.reason)
    return 1


def _stray_worktree_error(root: Path) -> InterruptedRunError | None:
    """A worktree of an interrupted parallel run: its changes were never picked onto the branch,
    and the worktree would keep its detached commit alive. Named so that the user removes it."""
    stray = [path for path in worktree_paths(root) if path.parent.name.startswith(WORKTREE_PREFIX)]
    if not stray:
        return None
    more = f" (and {len(stray) - 1} more)" if len(stray) > 1 else ""
    if any(path.exists() for path in stray):
        recover = "remove each with `git worktree remove --force <path>`, then `git worktree prune`"
    else:
        recover = "remove it with `git worktree prune`"
    return InterruptedRunError(
        str(stray[0]),
        f"worktree left by an interrupted tools/gitops update{more}: nothing of it was committed here; "
        f"{recover}, then run tools/gitops update again",
    )


def repo_level_keys(root: Path) -> set[str]:
    """The answers gitops.yaml holds: the same in every app's answers file."""
    keys = set(REPO_LEVEL_KEYS)
    try:
        settings = fast_yaml.load((root / SETTINGS_FILE).read_text())
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return keys
    return keys | set(settings) if isinstance(settings, dict) else keys


def update_apps(
    root: Path,
    only_app: str | None,
    data: dict[str, str],
    vcs_ref: str | None,
    out: TextIO | None = None,
    jobs: int = 1,
) -> int:
    """Returns 0 when every app is current, 1 when a conflict, a failure or validation stopped the run."""
    out = sys.stdout if out is None else out  # read at call time: a redirected stdout must be honoured
    if not is_work_tree(root):
        raise UsageError(f"{root}: not a git work tree (copier update needs git)")
    repo_level = sorted(set(data) & repo_level_keys(root))
    if only_app is not None and repo_level:
        raise UsageError(
            f"--app {only_app} with --data {repo_level[0]}: a repo-level answer changes for every app at "
            f"once (gitops.yaml and every answers file hold it); leave out --app"
        )
    if stray := _stray_worktree_error(root):
        raise stray
    if unfinished := unfinished_update_reason(root):
        raise InterruptedRunError(MARKER, unfinished)
    if dirty := dirty_paths(root):
        raise UsageError(
            f"work tree not clean ({dirty[0]}{' ...' if len(dirty) > 1 else ''}): commit or stash your own "
            "changes first; if an interrupted tools/gitops update left them, see `git status`, then "
            "drop the half-applied update with `git reset --hard && git clean -fd`"
        )
    apps = read_apps(root)
    every_app = [app.app for app in apps]
    if only_app is not None:
        apps = [a for a in apps if a.app == only_app]
        if not apps:
            raise UsageError(f"--app {only_app}: no {ANSWERS_GLOB.replace('*', only_app)} here")
    if not apps:
        raise UsageError(f"no {ANSWERS_GLOB} found: nothing to update")
    releases: dict[str, str | None] = {}
    prefixes = {a.app: f"[{i}/{len(apps)}] {a.app}:" for i, a in enumerate(apps, start=1)}
    pending = []
    for app in apps:
        target = vcs_ref or newest_release(app.src_path, releases)
        if not data and target is not None and app.commit == target:
            print(f"{prefixes[app.app]} already at {target}, skipped", file=out, flush=True)
        else:
            pending.append(app)
    stored = {app.app: read_yaml(root / app.file, app.file) or {} for app in pending}
    if "environments" in data:
        for app in pending:
            if problem := unresolved_answers_problem(stored[app.app], data):
                raise UsageError(f"{app.file}: {problem}")
    if not pending:
        return 0
    excluded = exclusions(root, stored, repo_level_keys(root), every_app)
    # Every pending app ends in a commit (or a cherry-pick): without an identity git would
    # refuse it only after copier update had changed the tree. Apps all current need none.
    require_identity(root)
    start = git(root, "rev-parse", "HEAD").strip()
    ignored_at_start = ignored_paths(root)
    parallel = jobs > 1 and len(pending) > 1
    with clones_folder() as clones:
        if parallel:
            code = _parallel(root, pending, data, vcs_ref, jobs, prefixes, out, clones, excluded)
        else:
            code = _sequential(root, pending, data, vcs_ref, prefixes, out, clones, excluded)
    # The worktrees never see the user's ignored files, so update_one cannot catch a release
    # whose .gitignore stops ignoring one: it shows up here, untracked and uncommitted.
    if parallel and (exposed := _no_longer_ignored(root, ignored_at_start)):
        for path in exposed:
            print(
                f"{path}: ignored before this update, no longer ignored now (the template changed "
                ".gitignore); keep it out of commits: move it or list it in .git/info/exclude",
                file=out,
            )
        return 1
    if code == 0 and repo_level and git(root, "rev-parse", "HEAD").strip() != start:
        return _validate_rollout(root, start, repo_level, out)
    return code


def _parallel(
    root: Path,
    apps: list[AppAnswers],
    data: dict[str, str],
    vcs_ref: str | None,
    jobs: int,
    prefixes: dict[str, str],
    out: TextIO,
    clones: Path,
    excluded: Mapping[str, tuple[str, ...]],
) -> int:
    replay_from: int | None = None
    failure: AppResult | None = None
    with closing(update_in_parallel(root, apps, data, vcs_ref, jobs, clones, excluded)) as results:
        for index, (app, result) in enumerate(zip(apps, results, strict=False)):
            if result.status == "failed":
                failure = result  # its worktree is discarded: the branch never saw the update
                break
            if result.status == "conflict":
                # Repeated in the real work tree, so that the markers are there to resolve.
                replay_from = index
                break
            if result.status == "updated":
                try:
                    git(root, "cherry-pick", "--allow-empty", result.commit or "")
                except GitError as error:
                    conflicted = bool(conflicted_paths(root))
                    git(root, "cherry-pick", "--abort", check=False)
                    if conflicted:
                        replay_from = index
                        break
                    # Not a conflict: the work tree changed while the run went on. Nothing of
                    # this app was applied; the user's changes stay as they are.
                    failure = AppResult(
                        app.app, "failed", reason=f"its update could not be applied to the work tree: {error}"
                    )
                    break
                result.commit = git(root, "rev-parse", "HEAD").strip()
            _report(prefixes[app.app], result, out)
    # After the worktrees are gone: the apps still running there are not racing the replay.
    if failure is not None:
        return _stop_at_failure(failure, out)
    if replay_from is not None:
        return _sequential(root, apps[replay_from:], data, vcs_ref, prefixes, out, clones, excluded)
    return 0


def _sequential(
    root: Path,
    apps: list[AppAnswers],
    data: dict[str, str],
    vcs_ref: str | None,
    prefixes: dict[str, str],
    out: TextIO,
    clones: Path,
    excluded: Mapping[str, tuple[str, ...]],
) -> int:
    for app in apps:
        with shared_template_clones(clones):
            result = update_one(root, app, data, vcs_ref, exclude=excluded.get(app.app, ()))
        if result.status == "conflict":
            return _stop_at_conflict(prefixes[app.app], result, out)
        if result.status == "failed":
            return _stop_at_failure(result, out)
        _report(prefixes[app.app], result, out)
    return 0


def _validate_rollout(root: Path, start: str, keys: list[str], out: TextIO) -> int:
    """The whole repository validated once every app took a repo-level change: only then must the
    cross-app invariants hold again. A change that fails is undone as a whole (the run started
    from a clean tree at `start`, so its commits are all there is to drop)."""
    from .repo import load_repo
    from .validate import validate_repo

    try:
        problems = [str(problem) for problem in validate_repo(load_repo(root)).problems]
    except Exception as error:  # a file validate cannot read, kubectl missing: not known valid
        problems = [failure_reason(error)]
    changed = ", ".join(keys)
    if not problems:
        print(f"every app took the change of {changed}; the repository validates", file=out, flush=True)
        return 0
    for problem in problems:
        print(problem, file=out)
    ours = git(root, "log", "--format=%s", f"{start}..HEAD").splitlines()
    if dirty_paths(root) or not all(subject.startswith("Update ") for subject in ours):
        # Someone committed or edited while the run went on: an undo would take that too.
        print(
            f"stopped after the last app: {problems[0]} (the change of {changed} fails validation once "
            f"every app took it; not undone because the branch or the tree changed during the run: "
            f"check, then git reset --keep {git_short(start)})",
            file=out,
            flush=True,
        )
        return 1
    git(root, "reset", "-q", "--keep", start)
    print(
        f"stopped after the last app: {problems[0]} (the change of {changed} fails validation once "
        f"every app took it; its commits are undone, HEAD is back at {git_short(start)})",
        file=out,
        flush=True,
    )
    return 1
