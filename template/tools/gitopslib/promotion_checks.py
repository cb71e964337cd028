"""Every environment's release has passed through the environment before it (from git history).

A release is the whole release/ folder but its provenance.yaml (releases.identity).

Exempt: a release unchanged since its file was added (the app was onboarded, or the
environment was added), and a release promoted with --force whose provenance says so.
Without git history (not a work tree, no commits) the check cannot run and is skipped.
"""

from __future__ import annotations

from itertools import pairwise

from . import layout, releases
from .history import History
from .problems import Problem
from .repo import Repo
from .soak import CLONE_HINT

SHALLOW = f"this clone is shallow and its history starts after the release was written ({CLONE_HINT})"


def _ran_in(repo: Repo, history: History, env: str, app: str) -> set[str]:
    """Every release the environment ever ran, the uncommitted one included."""
    directory = layout.release_dir(env, app)
    committed = {releases.committed_identity(files) for files in history.versions(directory)}
    work_tree = releases.read_files(repo.root, directory)
    if layout.KUSTOMIZATION in work_tree:
        committed.add(releases.folder_identity(work_tree))
    return {identity for identity in committed if identity is not None}


def _unchanged_since_added(history: History, directory: str, current: str) -> bool:
    first = history.first_version(directory)
    return first is None or releases.committed_identity(first) == current


def history_problems(repo: Repo) -> list[Problem]:
    history = History(repo.root, f"{layout.RELEASE_DIRS_GLOB}/*", layout.release_dir_of)
    if not history.available:
        return []
    problems = []
    for app in repo.apps():
        for previous, env in pairwise(repo.environments):
            path = layout.release_file(env, app)
            text = releases.read_text(repo.root, path)
            if text is None:
                continue
            directory = layout.release_dir(env, app)
            current = releases.folder_identity(releases.read_files(repo.root, directory))
            if current in _ran_in(repo, history, previous, app) or releases.forced(repo.root, directory):
                continue
            label = releases.describe(releases.parse(text))
            if history.starts_at_the_cut(directory):
                problems.append(
                    Problem(path, f"cannot tell whether release {label} ran in {previous}: {SHALLOW}")
                )
                continue
            if _unchanged_since_added(history, directory, current):
                continue
            problems.append(
                Problem(
                    path,
                    f"release {label} never ran in {previous}: promote it through {previous} first "
                    "(or promote with --force)",
                )
            )
    return problems
