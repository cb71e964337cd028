"""`validate --changed-since REF` and `diff --base REF`: which overlays a change can affect.

An overlay's own files (and its app's Argo CD file) affect that overlay; an app's base or
answers file affects every environment of the app; repo-wide files (gitops.yaml, argocd/
platform files, tools/) affect every overlay; documentation and CI files affect none. Kustomize
reads whatever a kustomization lists, so the layout is trusted only as far as it holds: a
change anywhere else under applications/ or environments/ affects every overlay, and an overlay
(or base) that lists files outside its own folder is affected by every change under them.
"""

from __future__ import annotations

from pathlib import Path

from .errors import BrokenFileError, UsageError
from .git import git, is_work_tree, untracked_paths
from .layout import BASES_DIR, ENVIRONMENTS_DIR, SETTINGS_FILE, app_of_answers_file, base_dir
from .overlay_checks import KUSTOMIZATION_NAMES, REMOTE, listed_paths
from .repo import Overlay, Repo, read_yaml

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
    changed = set(git(repo.root, "diff", "--name-only", ref, "--").splitlines())
    return changed | untracked_paths(repo.root)


def lists_outside(root: Path, folder: str, allowed: tuple[str, ...]) -> bool:
    """Whether a kustomization in `folder` (or below) lists a file or folder outside `folder` and
    `allowed`; an unreadable one counts as reaching anywhere."""
    top = (root / folder).resolve()
    inside = [top, *((root / other).resolve() for other in allowed)]
    for name in KUSTOMIZATION_NAMES:
        for file in (root / folder).rglob(name):
            try:
                data = read_yaml(file, str(file))
            except BrokenFileError:
                return True
            if not isinstance(data, dict):
                return True
            for _, entry in listed_paths(data):
                if not isinstance(entry, str) or REMOTE.search(entry):
                    continue  # validate names these
                target = (file.parent / entry).resolve()
                if not any(target == place or target.is_relative_to(place) for place in inside):
                    return True
    return False


def affected_overlays(repo: Repo, overlays: list[Overlay], ref: str) -> list[Overlay]:
    selected: set[Overlay] = set()
    apps = {overlay.app for overlay in overlays}
    in_layout = False  # a change under applications/ or environments/
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
    if in_layout:
        selected |= {o for o in overlays if o not in selected and _reaches_out(repo.root, o)}
    return sorted(o for o in overlays if o in selected)


def _reaches_out(root: Path, overlay: Overlay) -> bool:
    """An overlay, or its app's base, that lists files outside the two of them."""
    base = base_dir(overlay.app)
    return lists_outside(root, overlay.path, (base,)) or lists_outside(root, base, ())
