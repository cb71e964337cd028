"""A reminder, never a failure: Argo CD deploys `target_revision`, not the branch checked out here.

`git init` names its first branch `master` (or whatever init.defaultBranch says) while every
Application watches `target_revision`, usually `main`: a repository pushed from that branch is
valid and deploys nothing. CI checkouts are detached merge refs and say nothing about this,
so the reminder is for a developer's named local branch only.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Mapping
from pathlib import Path

# `true` in GitHub Actions, GitLab CI and most others.
CI_VARIABLE = "CI"
# A release-like name (v1.2.0, 2026.12): a tag, which no local branch is expected to match.
TAG_LIKE = re.compile(r"^v?[0-9]")


def current_branch(root: Path) -> str | None:
    """The named branch checked out in `root`; None when detached or not a git work tree."""
    result = subprocess.run(
        ["git", "symbolic-ref", "--quiet", "--short", "HEAD"], cwd=root, capture_output=True, text=True
    )
    branch = result.stdout.strip()
    return branch if result.returncode == 0 and branch else None


def branch_warning(root: Path, target_revision: str, environ: Mapping[str, str] = os.environ) -> str:
    """One `warning: ...` line when the local branch is not the one Argo CD deploys, else ""."""
    in_ci = environ.get(CI_VARIABLE, "").lower() in {"true", "1"}
    if in_ci or not target_revision or TAG_LIKE.match(target_revision):
        return ""
    branch = current_branch(root)
    if branch is None or branch == target_revision:
        return ""
    return (
        f"warning: on branch {branch}, but Argo CD deploys branch {target_revision} (target_revision "
        f"in gitops.yaml): changes reach the clusters once they are on {target_revision} "
        f"(a new repository: git branch -m {target_revision})"
    )
