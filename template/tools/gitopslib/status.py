"""`tools/gitops status`: which release each app runs in each environment, and what waits."""

from __future__ import annotations

import json
import sys
from itertools import pairwise
from typing import Any, TextIO

from . import layout, releases
from .errors import BrokenFileError, UsageError
from .overlay_checks import release_problems
from .repo import Overlay, Repo, read_yaml

WAITING_MARK = "*"


def release_table(repo: Repo, only_app: str | None) -> dict[str, Any]:
    """{environments, apps: {app: {env: {release, identity, waiting}}}}.

    A release is waiting when the next environment does not run it yet: its release/ differs
    (provenance.yaml aside).
    """
    environments = repo.environments
    known = repo.apps()
    if only_app is not None and only_app not in known:
        raise UsageError(f"--app {only_app}: no such app ({', '.join(known) or 'none yet'})")
    apps = [a for a in known if only_app in (None, a)]
    table: dict[str, Any] = {"environments": environments, "apps": {}}
    for app in apps:
        row: dict[str, Any] = {}
        for env in environments:
            release = read_release(repo, Overlay(env, app))
            files = releases.read_files(repo.root, layout.release_dir(env, app))
            row[env] = {"release": releases.describe(release), "identity": releases.identity(release, files)}
        for env, following in pairwise(environments):
            row[env]["waiting"] = row[env]["identity"] != row[following]["identity"]
        row[environments[-1]]["waiting"] = False
        table["apps"][app] = row
    return table


def read_release(repo: Repo, overlay: Overlay) -> dict[str, Any] | None:
    """The release of an overlay, None when the overlay does not exist (yet).

    BrokenFileError when the overlay exists but its release cannot be read: showing it as
    "(none)" would hide that the overlay does not build."""
    if not (repo.root / overlay.path).is_dir():
        return None
    relative = layout.release_file(overlay.env, overlay.app)
    release = read_yaml(repo.root / relative, relative)
    if not isinstance(release, dict):
        raise BrokenFileError(relative, "is not a YAML mapping (a Kustomize Component)")
    if problems := release_problems(release):
        raise BrokenFileError(relative, problems[0])
    return release


def print_status(repo: Repo, only_app: str | None, as_json: bool, out: TextIO | None = None) -> int:
    out = sys.stdout if out is None else out  # read at call time: a redirected stdout must be honoured
    table = release_table(repo, only_app)
    if as_json:
        print(json.dumps(table, indent=2, sort_keys=True), file=out)
        return 0
    header = ["APP", *table["environments"]]
    rows = [
        [app, *(cell["release"] + (f" {WAITING_MARK}" if cell["waiting"] else "") for cell in row.values())]
        for app, row in table["apps"].items()
    ]
    widths = [max(len(line[i]) for line in [header, *rows]) for i in range(len(header))]
    for line in [header, *rows]:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip(), file=out
        )
    if any(cell["waiting"] for row in table["apps"].values() for cell in row.values()):
        print(f"{WAITING_MARK} differs from the next environment: waiting to be promoted", file=out)
    return 0
