"""What removing an environment (`update --data environments=...`) would lose: a release that
promote or release wrote there and that still waits to move on, which no environment that stays
runs.

The update deletes such a release with its environment (a hand-edited one is kept and named:
update_app.keep_edited_files_the_template_dropped); renaming the first environment (dev to
development) would drop the release waiting there for promotion, and the new environment starts
from the template's release. Refused before anything changes, with what to do first.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from . import releases
from .git import file_at
from .layout import KUSTOMIZATION, release_dir
from .per_environment import environments_of
from .update_app import written_by_promote


def dropped_release_problem(root: Path, app: str, stored: dict[str, Any], data: dict[str, Any]) -> str:
    old = environments_of(stored.get("environments")) or []
    new = environments_of(data.get("environments"))
    if new is None:
        return ""
    staying = [env for env in old if env in new]
    kept = {
        releases.folder_identity(releases.read_files(root, release_dir(env, app)), "replace")
        for env in staying
    }
    # The last environment's release waits for nothing: removing it is removing what it runs
    # (replacing it is refused: per_environment.replaced_environment_problem).
    for env in (env for env in old[:-1] if env not in new):
        directory = release_dir(env, app)
        path = f"{directory}/{KUSTOMIZATION}"
        files = releases.read_files(root, directory)
        if KUSTOMIZATION not in files or not written_by_promote(root, path, file_at(root, "HEAD", path)):
            continue
        if releases.folder_identity(files, "replace") not in kept:
            label = releases.describe(releases.parse(files[KUSTOMIZATION].decode(errors="replace")))
            return (
                f"environments: {env} is removed, and its release {label} runs in no environment that "
                f"stays: promote it onward first (tools/gitops promote --app {app} --from {env}), or it "
                f"goes with {env}"
            )
    return ""
