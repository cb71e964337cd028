"""`tools/gitops diff --base REF`: what each environment would deploy differently.

Builds every overlay the change since REF can affect, once at REF (in a temporary git
worktree) and once in the work tree, and prints the unified diff of the rendered YAML
grouped by environment; `--markdown` formats it for a pull request's job summary.
"""

from __future__ import annotations

import difflib
import sys
import tempfile
from pathlib import Path
from typing import TextIO

from .changes import affected_overlays
from .git import git
from .kustomize import build_text, kustomize_command
from .repo import Overlay, Repo


def _rendered(root: Path, overlay: Overlay, command: list[str]) -> list[str]:
    if not (root / overlay.path).is_dir():
        return []
    text, error = build_text(command, root / overlay.path)
    return text.splitlines(keepends=True) if not error else [f"# does not build: {error}\n"]


def overlay_diffs(repo: Repo, base: str) -> dict[Overlay, str]:
    command = kustomize_command()
    overlays = affected_overlays(repo, repo.overlays(), base)
    diffs: dict[Overlay, str] = {}
    with tempfile.TemporaryDirectory(prefix="gitops-diff-") as tmp:
        worktree = Path(tmp) / "base"
        git(repo.root, "worktree", "add", "--detach", "--quiet", str(worktree), base)
        try:
            for overlay in overlays:
                before = _rendered(worktree, overlay, command)
                after = _rendered(repo.root, overlay, command)
                diff = "".join(difflib.unified_diff(before, after, f"{overlay.path} ({base})", overlay.path))
                if diff:
                    diffs[overlay] = diff
        finally:
            git(repo.root, "worktree", "remove", "--force", str(worktree), check=False)
    return diffs


def print_diff(repo: Repo, base: str, markdown: bool, out: TextIO | None = None) -> int:
    out = sys.stdout if out is None else out  # read at call time: a redirected stdout must be honoured
    diffs = overlay_diffs(repo, base)
    if markdown:
        print(f"## Rendered changes since `{base}`\n", file=out)
    if not diffs:
        print(
            "No environment renders differently." if markdown else "", file=out, end="\n" if markdown else ""
        )
        return 0
    for env in repo.environments:
        in_env = {overlay: diff for overlay, diff in diffs.items() if overlay.env == env}
        if not in_env:
            continue
        if markdown:
            print(f"### {env}\n", file=out)
        for overlay, diff in sorted(in_env.items()):
            if markdown:
                print(
                    f"<details><summary>{overlay.app}</summary>\n\n```diff\n{diff}```\n</details>\n", file=out
                )
            else:
                print(diff, file=out, end="")
    return 0
