"""`tools/gitops update`: bring every app (or one) to the newest template version.

One app at a time, as `copier update` requires a clean work tree: update, stop at the first
conflict (Copier exits 0 even when it leaves conflict markers), else commit and go on. Apps
already at the target release are skipped without running Copier. `--data KEY=VALUE` goes
to every app: that is how a repo-level setting changes everywhere.
"""

from __future__ import annotations

import re
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import yaml

from .errors import UsageError
from .git import (
    commit_all,
    conflicted_paths,
    deleted_since_head,
    dirty_paths,
    file_at,
    git,
    is_work_tree,
    require_identity,
    restore_from_head,
)
from .per_environment import answers_for_environments

ANSWERS_GLOB = ".copier-answers.*.yml"
ANSWERS_NAME = re.compile(r"^\.copier-answers\.(?P<app>.+)\.yml$")
SHORTHANDS = {"gh:": "https://github.com/", "gl:": "https://gitlab.com/"}


@dataclass(frozen=True)
class AppAnswers:
    app: str
    file: str
    commit: str
    src_path: str


def read_apps(root: Path) -> list[AppAnswers]:
    apps = []
    for path in sorted(root.glob(ANSWERS_GLOB)):
        match = ANSWERS_NAME.match(path.name)
        answers = yaml.safe_load(path.read_text()) or {}
        if match and isinstance(answers, dict):
            apps.append(
                AppAnswers(
                    app=match["app"],
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


def run_copier_update(root: Path, answers_file: str, data: dict[str, object], vcs_ref: str | None) -> None:
    import copier  # only this command needs Copier

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
    )


def render_version(src_path: str, commit: str, answers: dict[str, object], destination: Path) -> None:
    """What the template rendered at `commit` with these answers (no tasks, no migrations)."""
    import copier

    data = {key: value for key, value in answers.items() if not key.startswith("_")}
    # overwrite=True marks a re-render of stored answers, as Copier's own update renders are:
    # the template then keeps answers that rules tightened since then would refuse.
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
            if not rendered.is_file() or rendered.read_bytes() != file_at(root, "HEAD", path):
                restore_from_head(root, path)
                kept.append(path)
    return kept


def _commit_message(app: AppAnswers, version: str, data: dict[str, str]) -> str:
    lines = [f"Update {app.app} to gitops-template {version}", ""]
    lines += [f"copier update -a {app.file}" + "".join(f" --data {k}={v}" for k, v in data.items())]
    return "\n".join(lines)


@dataclass
class AppResult:
    """What `copier update` did to one app."""

    app: str
    status: str  # updated | unchanged | conflict
    version: str = "?"
    commit: str | None = None
    conflicts: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)


def update_one(root: Path, app: AppAnswers, data: dict[str, str], vcs_ref: str | None) -> AppResult:
    """`copier update` of one app in `root` (the repository or a worktree of it), committed
    unless it left conflicts."""
    answers_before = yaml.safe_load((root / app.file).read_text()) or {}
    run_copier_update(root, app.file, answers_for_environments(answers_before, data), vcs_ref)
    if conflicts := conflicted_paths(root):
        return AppResult(app.app, "conflict", conflicts=conflicts)
    kept = keep_edited_files_the_template_dropped(root, app, answers_before)
    version = next((a.commit for a in read_apps(root) if a.app == app.app), "?")
    if not dirty_paths(root):
        return AppResult(app.app, "unchanged", version, kept=kept)
    commit_all(root, _commit_message(app, version, data))
    return AppResult(app.app, "updated", version, git(root, "rev-parse", "HEAD").strip(), kept=kept)


def _update_in_worktree(root: str, app: AppAnswers, data: dict[str, str], vcs_ref: str | None) -> AppResult:
    return update_one(Path(root), app, data, vcs_ref)


def update_in_parallel(
    root: Path, apps: list[AppAnswers], data: dict[str, str], vcs_ref: str | None, jobs: int
) -> list[AppResult]:
    """Each app in its own git worktree, `jobs` at a time; their commits are then picked onto
    the branch in app order. Apps touch their own files, and shared files (README, gitops.yaml)
    the same way, so the picks merge cleanly and the tree equals the one-by-one result."""
    with tempfile.TemporaryDirectory(prefix="gitops-update-") as tmp:
        trees = []
        for app in apps:
            tree = str(Path(tmp) / app.app)
            git(root, "worktree", "add", "--detach", "--quiet", tree, "HEAD")
            trees.append(tree)
        try:
            with ProcessPoolExecutor(max_workers=jobs) as pool:
                futures = [
                    pool.submit(_update_in_worktree, t, a, data, vcs_ref)
                    for t, a in zip(trees, apps, strict=True)
                ]
                return [future.result() for future in futures]
        finally:
            for tree in trees:
                git(root, "worktree", "remove", "--force", tree, check=False)
            git(root, "worktree", "prune", check=False)


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


def update_apps(
    root: Path,
    only_app: str | None,
    data: dict[str, str],
    vcs_ref: str | None,
    out: TextIO = sys.stdout,
    jobs: int = 1,
) -> int:
    """Returns 0 when every app is current, 1 when a conflict stopped the run."""
    if not is_work_tree(root):
        raise UsageError(f"{root}: not a git work tree (copier update needs git)")
    if dirty := dirty_paths(root):
        raise UsageError(
            f"work tree not clean ({dirty[0]} ...): commit or stash first, copier update needs it"
        )
    apps = read_apps(root)
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
    if pending:
        # Every pending app ends in a commit (or a cherry-pick): without an identity git would
        # refuse it only after copier update had changed the tree. Apps all current need none.
        require_identity(root)
    if jobs > 1 and len(pending) > 1:
        for app, result in zip(pending, update_in_parallel(root, pending, data, vcs_ref, jobs), strict=True):
            if result.status == "updated":
                git(root, "cherry-pick", "--allow-empty", result.commit or "", check=False)
                if conflicted_paths(root):
                    git(root, "cherry-pick", "--abort", check=False)
                    return _sequential(root, pending[pending.index(app) :], data, vcs_ref, prefixes, out)
                result.commit = git(root, "rev-parse", "HEAD").strip()
            elif result.status == "conflict":
                # Repeat it in the real work tree, so that the markers are there to resolve.
                return _sequential(root, pending[pending.index(app) :], data, vcs_ref, prefixes, out)
            _report(prefixes[app.app], result, out)
        return 0
    return _sequential(root, pending, data, vcs_ref, prefixes, out)


def _sequential(
    root: Path,
    apps: list[AppAnswers],
    data: dict[str, str],
    vcs_ref: str | None,
    prefixes: dict[str, str],
    out: TextIO,
) -> int:
    for app in apps:
        result = update_one(root, app, data, vcs_ref)
        if result.status == "conflict":
            return _stop_at_conflict(prefixes[app.app], result, out)
        _report(prefixes[app.app], result, out)
    return 0
