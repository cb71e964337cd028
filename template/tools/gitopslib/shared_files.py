"""The repository-level files an update renders once per run, not once per app.

Every app's `copier update` renders the whole template: its own files and the ones every app
shares (tools/, the Argo CD install, the workflows, README.md, gitops.yaml: some 70 of a copy's
100 files). The shared files depend only on the template version and the repo-level answers, so
when every app being updated comes from the same version with the same repo-level answers, the
first app's update renders them as every other app's would, and the others leave them out
(Copier's `exclude`). The commits are the same as when each app renders them: the first carries
the shared change, the others find nothing more to change there. When the apps differ in
version or in a repo-level answer, each renders them, as before.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from .argocd_objects import APPS_DIR
from .git import git
from .layout import ANSWERS_PREFIX, ANSWERS_SUFFIX, BASES_DIR, ENVIRONMENTS_DIR, answers_file

# Paths written into a Copier exclude pattern as they are: nothing gitignore-style matching
# would read as a wildcard, a negation or a comment. Any other path is simply not left out.
PLAIN_PATH = re.compile(r"[A-Za-z0-9_.][A-Za-z0-9_./-]*")


def owned_by(path: str, app: str) -> bool:
    """Whether the layout puts `path` in `app`'s own folders (or its answers file)."""
    parts = path.split("/")
    return (
        path == answers_file(app)
        or path.startswith(f"{BASES_DIR}/{app}/")
        or path.startswith(f"{APPS_DIR}/{app}/")
        or (len(parts) > 3 and parts[0] == ENVIRONMENTS_DIR and parts[2] == app)
    )


def shared_paths(root: Path, apps: Iterable[str]) -> list[str]:
    """The committed files no app owns."""
    every_app = sorted(set(apps))
    tracked = git(root, "ls-files", "-z").split("\0")
    return [
        path
        for path in tracked
        if path
        and not (path.startswith(ANSWERS_PREFIX) and path.endswith(ANSWERS_SUFFIX))
        and not any(owned_by(path, app) for app in every_app)
    ]


def same_render(answers: Iterable[Mapping[str, Any]], repo_level: Iterable[str]) -> bool:
    """Whether these stored answers render the shared files alike: one template (source and
    version) and the same repo-level answers."""
    keys = ("_src_path", "_commit", *sorted(repo_level))
    seen = {repr([stored.get(key) for key in keys]) for stored in answers}
    return len(seen) <= 1


def exclusions(
    root: Path, answers: Mapping[str, Mapping[str, Any]], repo_level: Iterable[str], every_app: Iterable[str]
) -> dict[str, tuple[str, ...]]:
    """What each app's update leaves out: nothing for the first app (in the given order), the
    shared files for the others, when `same_render` holds for all of them."""
    apps = list(answers)
    if len(apps) < 2 or not same_render(answers.values(), repo_level):
        return {app: () for app in apps}
    # One pattern per line of one string: Copier renders each exclude entry as a Jinja template
    # (once per render, three renders an app) and splits what it gets at line breaks.
    shared = "\n".join(f"/{path}" for path in shared_paths(root, every_app) if PLAIN_PATH.fullmatch(path))
    left_out = (shared,) if shared else ()
    return {app: () if index == 0 else left_out for index, app in enumerate(apps)}
