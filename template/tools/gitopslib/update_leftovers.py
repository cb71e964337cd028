"""What an update can leave behind that must not be committed: conflict markers, and the marker
of a `copier update` that did not finish.

Copier exits 0 when it leaves conflict markers, and Renovate commits them. Copier also first
overwrites the app's files with the new template version, then merges the user's changes back
in: killed in between (Ctrl-C, a crash, a CI timeout), it leaves a tree that looks finished,
the user's lines reverted, no conflict markers, the answers at the new version. The template
writes MARKER as Copier starts writing the new version (extensions/gitops_context.py) and its
last migration removes it, so the file is there exactly when an update did not finish; a commit
would carry it to CI, where validate refuses it.
"""

from __future__ import annotations

from pathlib import Path

from .git import CONFLICT_MARKERS, git, is_work_tree

# Also named in extensions/gitops_context.py, which writes it, and copier.yml, which removes it.
MARKER = ".copier-update-unfinished"


def unfinished_update_reason(root: Path) -> str | None:
    """Why the tree cannot be trusted, with how to recover; None when no update was cut short."""
    marker = root / MARKER
    if not marker.is_file():
        return None
    what = " ".join(marker.read_text(errors="replace").split()) or "a copier update did not finish"
    return (
        f"{what}: files may hold the new template version without your changes merged back. "
        "The update started from a clean tree: drop what it left with `git reset --hard && git clean "
        "-fd` (or revert the commit that added this file) and run it again"
    )


def repository_files(root: Path) -> list[str]:
    """Tracked files and untracked ones git does not ignore (every file when not in git)."""
    if is_work_tree(root):
        listing = git(root, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
        return sorted({path for path in listing.split("\0") if path})
    return sorted(
        p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() and ".git" not in p.parts
    )


def conflict_marker_line(file: Path) -> int | None:
    """The line of the first conflict marker, when a file holds both an opening and a closing one."""
    try:
        lines = file.read_bytes().splitlines()
    except OSError:
        return None
    opening = next((n for n, line in enumerate(lines, 1) if line.startswith(CONFLICT_MARKERS[0])), None)
    if opening is None or not any(line.startswith(CONFLICT_MARKERS[1]) for line in lines[opening:]):
        return None
    return opening


def conflict_marker_reasons(root: Path) -> list[tuple[str, str]]:
    """(path, reason) for every file that still holds an update's conflict markers."""
    found = []
    for path in repository_files(root):
        if (line := conflict_marker_line(root / path)) is not None:
            found.append((path, f"conflict markers from an update or merge (line {line}): resolve them"))
    return found
