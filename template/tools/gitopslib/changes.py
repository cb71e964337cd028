"""`validate --changed-since REF`: which overlays a change can affect.

An overlay's own files (and its app's Argo CD file) affect that overlay; an app's base or
answers file affects every environment of the app; repo-wide files (gitops.yaml, argocd/
platform files, tools/) affect every overlay; documentation and CI files affect none.
"""

from __future__ import annotations

from .errors import UsageError
from .git import git, is_work_tree, untracked_paths
from .layout import BASES_DIR, ENVIRONMENTS_DIR, SETTINGS_FILE, app_of_answers_file
from .repo import Overlay, Repo

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


def affected_overlays(repo: Repo, overlays: list[Overlay], ref: str) -> list[Overlay]:
    selected: set[Overlay] = set()
    for path in changed_paths(repo, ref):
        parts = path.split("/")
        if path.startswith(REPO_WIDE):
            return overlays
        if parts[0] == ENVIRONMENTS_DIR and len(parts) > 3:
            selected.add(Overlay(parts[1], parts[2]))
        elif path.startswith(f"{BASES_DIR}/") and len(parts) > 3:
            selected |= {o for o in overlays if o.app == parts[2]}
        elif parts[:2] == ["argocd", "apps"] and len(parts) > 3:
            env = parts[3].rsplit(".", 1)[0]
            selected |= {o for o in overlays if o.app == parts[2] and o.env == env}
        elif "/" not in path and (app := app_of_answers_file(path)):
            selected |= {o for o in overlays if o.app == app}
    return sorted(o for o in overlays if o in selected)
