"""Every environment's release has passed through the environment before it (from git history).

Exempt: a release unchanged since its file was added (the app was onboarded, or the
environment was added), and a release promoted with --force whose provenance says so.
Without git history (not a work tree, no commits) the check cannot run and is skipped.
"""

from __future__ import annotations

from itertools import pairwise

import yaml

from . import releases
from .history import History
from .problems import Problem
from .repo import Repo


def _forced(repo: Repo, env: str, app: str, current: str) -> bool:
    path = releases.PROVENANCE_FILE.format(env=env, app=app)
    try:
        provenance = yaml.safe_load((repo.root / path).read_text()) if (repo.root / path).is_file() else None
    except yaml.YAMLError:
        return False
    return (
        isinstance(provenance, dict)
        and provenance.get("forced") is True
        and provenance.get("release") == current
    )


def _ran_in(repo: Repo, history: History, env: str, app: str) -> set[str]:
    """Every release the environment ever ran, the uncommitted one included."""
    path = releases.release_file(env, app)
    texts = [*history.versions(path), releases.read_text(repo.root, path)]
    return {releases.identity(releases.parse(text)) for text in texts if text}


def _unchanged_since_added(history: History, path: str, current: str) -> bool:
    first = history.first_version(path)
    return first is None or releases.identity(releases.parse(first)) == current


def history_problems(repo: Repo) -> list[Problem]:
    history = History(repo.root, ["environments/*/*/release/kustomization.yaml"])
    if not history.available:
        return []
    problems = []
    for app in repo.apps():
        for previous, env in pairwise(repo.environments):
            path = releases.release_file(env, app)
            text = releases.read_text(repo.root, path)
            if text is None:
                continue
            current = releases.identity(releases.parse(text))
            if (
                current in _ran_in(repo, history, previous, app)
                or _unchanged_since_added(history, path, current)
                or _forced(repo, env, app, current)
            ):
                continue
            label = releases.describe(releases.parse(text))
            problems.append(
                Problem(
                    path,
                    f"release {label} never ran in {previous}: promote it through {previous} first "
                    "(or promote with --force)",
                )
            )
    return problems
