"""`validate --changed-since REF` and `diff --base REF`: which overlays a change can affect.

An overlay's own files (and its app's Argo CD file) affect that overlay; an app's base or
answers file affects every environment of the app; repo-wide files (gitops.yaml, argocd/
platform files, tools/) affect every overlay; documentation and CI files affect none. Kustomize
reads whatever a kustomization lists, so the layout is trusted only as far as it holds: a
change anywhere else under applications/ or environments/ affects every overlay, and an overlay
(or base) that lists files outside its own folder is affected by every change outside the
overlays' and bases' own folders (a shared folder, wherever it is).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from .errors import BrokenFileError, UsageError
from .git import git, is_work_tree, untracked_paths
from .layout import BASES_DIR, ENVIRONMENTS_DIR, SETTINGS_FILE, app_of_answers_file, base_dir
from .overlay_checks import KUSTOMIZATION_NAMES, REMOTE, listed_paths
from .repo import Overlay, Repo, read_yaml

# A kustomization entry that is an absolute path (`- /etc/x`, `path: "/x"`).
ABSOLUTE_ENTRY = re.compile(r"""(?m)^[\s-]*(?:path:\s*)?["']?/""")
REPO_WIDE = (SETTINGS_FILE, "argocd/install/", "argocd/bootstrap/", "tools/")


def require_commit(repo: Repo, ref: str, option: str) -> None:
    """UsageError naming the option when `ref` is no commit here; git's own message would
    name `git diff`, which the user never ran."""
    if not is_work_tree(repo.root):
        raise UsageError(f"{option} {ref}: {repo.root} is not a git work tree")
    if not git(repo.root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", check=False).strip():
        raise UsageError(f"{option} {ref}: not a commit of this repository")


def changed_paths(repo: Repo, ref: str) -> set[str]:
    """Files that differ from `ref` in the work tree, untracked ones included."""
    # -z: a name with non-ASCII characters comes quoted otherwise, and matches no overlay.
    changed = {path for path in git(repo.root, "diff", "--name-only", "-z", ref, "--").split("\0") if path}
    return changed | untracked_paths(repo.root)


def lists_outside(root: Path, folder: str, allowed: tuple[str, ...]) -> bool:
    """Whether a kustomization in `folder` (or below) lists a file or folder outside `folder` and
    `allowed` (paths relative to `root`, compared as written: Kustomize resolves them so too);
    an unreadable one counts as reaching anywhere."""
    inside = [folder, *allowed]
    for directory, _, names in os.walk(root / folder):
        for name in set(names) & set(KUSTOMIZATION_NAMES):
            file = Path(directory, name)
            text = file.read_text(errors="replace")
            climbing = [_entry(line) for line in text.splitlines() if "../" in line]
            reachable = {os.path.relpath(root / place, directory) for place in allowed}
            if all(entry in reachable for entry in climbing) and not ABSOLUTE_ENTRY.search(text):
                continue  # lists nothing outside but what it may (the generated shape, read quickly)
            try:
                data = read_yaml(file, str(file))
            except BrokenFileError:
                return True
            if not isinstance(data, dict):
                return True
            here = os.path.relpath(directory, root)
            for _, entry in listed_paths(data):
                if not isinstance(entry, str) or REMOTE.search(entry):
                    continue  # validate names these
                target = os.path.normpath(os.path.join(here, entry))
                if not any(target == place or target.startswith(place + "/") for place in inside):
                    return True
    return False


def _entry(line: str) -> str:
    """A kustomization line as the path it lists: `  - "../x"` is ../x."""
    return line.strip().removeprefix("-").strip().strip("'\"")


def affected_overlays(repo: Repo, overlays: list[Overlay], ref: str) -> list[Overlay]:
    selected: set[Overlay] = set()
    apps = {overlay.app for overlay in overlays}
    in_layout = False  # a change an overlay listing files outside its folder may read
    for path in changed_paths(repo, ref):
        parts = path.split("/")
        if path.startswith(REPO_WIDE):
            return overlays
        if parts[0] == ENVIRONMENTS_DIR and len(parts) > 3 and Overlay(parts[1], parts[2]) in overlays:
            selected.add(Overlay(parts[1], parts[2]))
            in_layout = True
        elif path.startswith(f"{BASES_DIR}/") and len(parts) > 3 and parts[2] in apps:
            selected |= {o for o in overlays if o.app == parts[2]}
            in_layout = True
        elif parts[0] in (ENVIRONMENTS_DIR, BASES_DIR.split("/")[0]):
            return overlays  # outside the layout: any overlay may list it
        elif parts[:2] == ["argocd", "apps"] and len(parts) > 3:
            env = parts[3].rsplit(".", 1)[0]
            selected |= {o for o in overlays if o.app == parts[2] and o.env == env}
        elif "/" not in path and (app := app_of_answers_file(path)):
            selected |= {o for o in overlays if o.app == app}
        else:
            in_layout = True  # anywhere else: an overlay may list it (../../../shared/extra)
    if in_layout:
        bases: dict[str, bool] = {}  # an app's base is checked once for all its overlays
        selected |= {o for o in overlays if o not in selected and _reaches_out(repo.root, o, bases)}
    return sorted(o for o in overlays if o in selected)


def _reaches_out(root: Path, overlay: Overlay, bases: dict[str, bool]) -> bool:
    """An overlay, or its app's base, that lists files outside the two of them."""
    base = base_dir(overlay.app)
    if base not in bases:
        bases[base] = lists_outside(root, base, ())
    return bases[base] or lists_outside(root, overlay.path, (base,))
