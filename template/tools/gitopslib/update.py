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
import shlex
import sys
import tempfile
from collections.abc import Generator, Mapping
from concurrent.futures import BrokenExecutor, Future, ProcessPoolExecutor
from contextlib import closing
from multiprocessing.queues import SimpleQueue
from pathlib import Path
from typing import TextIO

import yaml

from . import fast_yaml
from .environment_removal import dropped_release_problem
from .errors import BrokenFileError, GitError, UsageError
from .git import (
    conflicted_paths,
    dirty_paths,
    git,
    ignored_paths,
    is_work_tree,
    require_identity,
    worktree_paths,
)
from .layout import (
    ANSWERS_GLOB,
    REPO_LEVEL_KEYS,
    SETTINGS_FILE,
    app_of_answers_file,
)
from .per_environment import replaced_environment_problem, unresolved_answers_problem
from .repo import read_yaml
from .rollout import shared_files_first, unfinished_rollout, with_data
from .shared_files import exclusions
from .template_clones import clones_folder, shared_template_clones
from .update_app import AppAnswers, AppResult, failure_reason, no_longer_ignored, one_line, update_one
from .update_leftovers import MARKER, unfinished_update_reason

SHORTHANDS = {"gh:": "https://github.com/", "gl:": "https://gitlab.com/"}
# The temporary folder of the worktrees of a parallel run; a worktree under it outlives only an
# interrupted run.
WORKTREE_PREFIX = "gitops-update-"
EXPOSED = "ignored before this update, no longer ignored now (the template changed .gitignore)"


class InterruptedRunError(BrokenFileError):
    """What an interrupted earlier run left behind: exit 1, one `path: how to recover` line."""


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
    picks merge cleanly and the tree equals the one-by-one result. When the first app alone
    renders the shared files (shared_files.exclusions), it runs first and the others start from
    the branch as the caller left it after picking it. Closing the iterator early cancels the
    apps not started and removes every worktree."""
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
                try:
                    base, rest = start, apps
                    if any(excluded.get(app.app) for app in apps[1:]):
                        # The others leave the shared files to the first app: they start from its
                        # commit, where those files (gitops.yaml, .gitignore) are what their own
                        # validation and `git add` must see.
                        first = pool.submit(_worker, start, apps[0], data, vcs_ref, clones, ())
                        result = _collected(apps[0], first)
                        yield result  # the caller picks it onto the branch, or stops here
                        if result.status not in ("updated", "unchanged"):
                            return
                        base, rest = git(root, "rev-parse", "HEAD").strip(), apps[1:]
                    futures = [
                        pool.submit(_worker, base, app, data, vcs_ref, clones, excluded.get(app.app, ()))
                        for app in rest
                    ]
                    for app, future in zip(rest, futures, strict=True):
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


def _stop_at_conflict(prefix: str, result: AppResult, out: TextIO, data: Mapping[str, str]) -> int:
    _report(prefix, result, out)  # the edited files kept
    for path in result.conflicts:
        print(f"{path}: conflict left by copier update of {result.app}", file=out)
    for path in result.exposed:
        print(f"{path}: {EXPOSED}; move it or list it in .git/info/exclude before you commit", file=out)
    first = "move or exclude the files named as ignored before, then " if result.exposed else ""
    # The same answers for the rest: a repo-level one is in gitops.yaml now, an app's is not.
    again = shlex.join(["tools/gitops", "update", *(f"--data={key}={value}" for key, value in data.items())])
    print(
        f"{prefix} stopped at {len(result.conflicts)} conflicting file(s). Resolve the markers, "
        f"{first}`git add -A && git commit`, and run `{again}` again for the rest.",
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
    if "app_name" in data:
        raise UsageError(
            f"--data app_name={data['app_name']}: an app's name cannot change on update (it names the "
            "answers file, namespaces, Applications and releases); onboard a new app instead"
        )
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
    if not data and only_app is None:
        every_answers = {app.app: read_yaml(root / app.file, app.file) or {} for app in apps}
        if data := unfinished_rollout(root, every_answers):
            given = " ".join(f"--data {key}={value}" for key, value in data.items())
            print(
                f"{SETTINGS_FILE} holds {', '.join(data)} as some apps' answers do not (a change that did "
                f"not reach every app): taking it to every app, as `tools/gitops update {given}` would",
                file=out,
                flush=True,
            )
            repo_level = sorted(set(data) & repo_level_keys(root))
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
            problem = (
                unresolved_answers_problem(stored[app.app], data)
                or replaced_environment_problem(stored[app.app], data)
                or dropped_release_problem(root, app.app, stored[app.app], data)
            )
            if problem:
                raise UsageError(f"{app.file}: {problem}")
    if not pending:
        return 0
    if repo_level:
        order = shared_files_first([app.app for app in pending], stored, data)
        pending.sort(key=lambda app: order.index(app.app))
        stored = {name: stored[name] for name in order}
        # With --data no app was skipped: numbered in the order they run.
        prefixes = {a.app: f"[{i}/{len(pending)}] {a.app}:" for i, a in enumerate(pending, start=1)}
    # The shared files render alike for apps whose answers will be alike once they took `data`.
    excluded = exclusions(root, with_data(stored, data), repo_level_keys(root), every_app)
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
    if parallel and (exposed := no_longer_ignored(root, ignored_at_start)):
        for path in exposed:
            print(f"{path}: {EXPOSED}; keep it out of commits: move it or exclude it", file=out)
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
            return _stop_at_conflict(prefixes[app.app], result, out, data)
        if result.status == "failed":
            return _stop_at_failure(result, out)
        _report(prefixes[app.app], result, out)
    return 0


def _problems(root: Path) -> list[str]:
    from .repo import load_repo
    from .validate import validate_repo

    try:
        return [str(problem) for problem in validate_repo(load_repo(root)).problems]
    except Exception as error:  # a file validate cannot read, kubectl missing: not known valid
        return [failure_reason(error)]


def _relative(problem: str, root: Path) -> str:
    """A problem as two runs can compare it: without the work tree's own path (Kustomize's errors
    name files absolutely), numbers masked (a soak's "ran for 3h 12m" moves between the runs)."""
    for prefix in {str(root.resolve()), str(root)}:
        problem = problem.replace(prefix + "/", "")
    return re.sub(r"\d+", "#", problem)


def _problems_at(root: Path, commit: str) -> set[str]:
    """What validate found at `commit` (the run's start), in a scratch worktree of it."""
    with tempfile.TemporaryDirectory(prefix=WORKTREE_PREFIX) as tmp:
        tree = Path(tmp) / "before"
        try:
            # The user's hooks are for the user's checkouts, not this scratch one (a failing
            # post-checkout hook would fail it).
            git(
                root,
                "-c",
                "core.hooksPath=/dev/null",
                "worktree",
                "add",
                "--detach",
                "--quiet",
                str(tree),
                commit,
            )
            return {_relative(problem, tree) for problem in _problems(tree)}
        except GitError:
            return set()  # what was there before cannot be told: the change is blamed, and undone
        finally:
            git(root, "worktree", "remove", "--force", str(tree), check=False)
            git(root, "worktree", "prune", check=False)


def _validate_rollout(root: Path, start: str, keys: list[str], out: TextIO) -> int:
    """The whole repository validated once every app took a repo-level change: only then must the
    cross-app invariants hold again. A change that fails is undone as a whole (the run started
    from a clean tree at `start`, so its commits are all there is to drop)."""
    problems = _problems(root)
    changed = ", ".join(keys)
    if not problems:
        print(f"every app took the change of {changed}; the repository validates", file=out, flush=True)
        return 0
    for problem in problems:
        print(problem, file=out)
    before = _problems_at(root, start)
    if new := [problem for problem in problems if _relative(problem, root) not in before]:
        problems = new
    else:
        # The change is not to blame: undoing it would not fix them.
        print(
            f"every app took the change of {changed}; not undone: the repository had these "
            f"{len(problems)} problem(s) before this run too (fix them, then run tools/gitops validate)",
            file=out,
            flush=True,
        )
        return 1
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
