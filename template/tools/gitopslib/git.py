"""The few git operations the tools need, run with the git command line."""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path

from .errors import GitError, MissingGitIdentityError

CONFLICT_MARKERS = (b"<<<<<<< ", b">>>>>>> ")
NO_IDENTITY = (
    'git: no user identity to commit with; set it with git config user.name "Your Name" '
    'and git config user.email "you@example.com"'
)


def git(root: Path, *args: str, check: bool = True) -> str:
    result = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True)
    if check and result.returncode != 0:
        raise GitError(f"{describe_command(args)}: {failure_reason(result.stderr, result.returncode)}")
    return result.stdout


def cat_files(root: Path, requests: list[str]) -> list[tuple[str, str, bytes]]:
    """The objects named (`<commit>:<path>` or an object id): id, type and content each;
    ("", "missing", b"") for one that does not exist."""
    if not requests:
        return []
    output = subprocess.run(
        ["git", "cat-file", "--batch"],
        cwd=root,
        input="".join(f"{request}\n" for request in requests).encode(),
        capture_output=True,
        check=True,
    ).stdout
    found: list[tuple[str, str, bytes]] = []
    position = 0
    for _ in requests:
        header_end = output.index(b"\n", position)
        header = output[position:header_end].split()
        if header[-1] == b"missing":
            found.append(("", "missing", b""))
            position = header_end + 1
            continue
        size = int(header[2])
        content = output[header_end + 1 : header_end + 1 + size]
        found.append((header[0].decode(), header[1].decode(), content))
        position = header_end + 1 + size + 1
    return found


def describe_command(args: tuple[str, ...]) -> str:
    """The command on one line: a multi-line argument (a commit message) is cut to its first
    line, else its later lines would read as the start of the error (e.g. `copier update ...`)."""
    shown = [arg.splitlines()[0] + " ..." if "\n" in arg else arg for arg in args]
    return shlex.join(["git", *shown])


def failure_reason(stderr: str, returncode: int) -> str:
    """git's own fatal/error lines, else its last line: errors are reported on one line."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith(("fatal:", "error:"))]
    return "; ".join(errors) if errors else lines[-1] if lines else f"failed (exit {returncode})"


def require_identity(root: Path) -> None:
    """Raises MissingGitIdentityError when git could not commit in `root`.

    Without user.name/user.email (and no GIT_AUTHOR_*/GIT_COMMITTER_* variables), `git commit`
    fails only after Copier or promote has changed the work tree; `git var` applies the same
    strict rules (repository config included) without changing anything.
    """
    for ident in ("GIT_AUTHOR_IDENT", "GIT_COMMITTER_IDENT"):
        result = subprocess.run(["git", "var", ident], cwd=root, capture_output=True, text=True)
        if result.returncode != 0:
            raise MissingGitIdentityError(NO_IDENTITY)


def is_work_tree(root: Path) -> bool:
    return git(root, "rev-parse", "--is-inside-work-tree", check=False).strip() == "true"


def dirty_paths(root: Path) -> list[str]:
    """Modified, staged and untracked (not ignored) paths."""
    return [line[3:] for line in git(root, "status", "--porcelain", "--untracked-files=all").splitlines()]


def untracked_paths(root: Path, *pathspecs: str) -> set[str]:
    """As written (-z: git quotes a name with non-ASCII characters otherwise)."""
    listing = git(root, "ls-files", "-z", "--others", "--exclude-standard", "--", *pathspecs)
    return {path for path in listing.split("\0") if path}


def conflicted_paths(root: Path) -> list[str]:
    """Unmerged paths, and changed files that still hold conflict markers.

    `copier update` exits 0 even when it leaves conflicts; it records them as unmerged
    index entries, and the marker scan also catches files whose index was fixed up.
    """
    found = set(git(root, "diff", "--name-only", "--diff-filter=U").splitlines())
    for path in dirty_paths(root):
        file = root / path
        if file.is_file() and has_conflict_markers(file):
            found.add(path)
    return sorted(found)


def has_conflict_markers(file: Path) -> bool:
    try:
        return any(line.startswith(CONFLICT_MARKERS) for line in file.read_bytes().splitlines())
    except OSError:
        return False


def file_at(root: Path, ref: str, path: str) -> bytes | None:
    """A file as committed at `ref`, or None when it has no such file."""
    result = subprocess.run(["git", "show", f"{ref}:{path}"], cwd=root, capture_output=True)
    return result.stdout if result.returncode == 0 else None


def deleted_since_head(root: Path) -> list[str]:
    """Files the work tree deleted, not counting files moved elsewhere with identical content.

    Stages nothing: after a conflicted update the index holds the unmerged entries the user
    resolves, and `git add` would also pick up files a changed .gitignore no longer ignores."""
    deleted = [
        path for path in git(root, "diff", "--name-only", "-z", "--diff-filter=D", "HEAD").split("\0") if path
    ]
    if not deleted:
        return []
    listing = git(root, "ls-tree", "-z", "HEAD", "--", *deleted).split("\0")
    committed = {entry.split("\t", 1)[1]: entry.split()[2] for entry in listing if "\t" in entry}
    new_files = sorted(untracked_paths(root))
    hashes = git(root, "hash-object", "--", *new_files).split() if new_files else []
    moved_content = set(hashes)
    return [path for path in deleted if committed.get(path) not in moved_content]


def restore_from_head(root: Path, path: str) -> None:
    git(root, "checkout", "HEAD", "--", path)


def discard_changes(root: Path) -> None:
    """The work tree and index back at HEAD, untracked files deleted (ignored ones kept).

    Only for a scratch worktree of the caller's own (`tools/gitops update --jobs`): in the
    user's work tree use set_aside_changes, which keeps what it removes.
    """
    git(root, "reset", "-q", "--hard", "HEAD")
    git(root, "clean", "-fdq")


def set_aside_changes(root: Path, message: str) -> bool:
    """The work tree back at HEAD, with every change since HEAD kept in a stash; True if any.

    A failed update is dropped this way rather than with `reset --hard` and `clean`: what the
    user changed while it ran, and a file that the update's .gitignore stopped ignoring, would
    otherwise be deleted. The index is reset first (Copier leaves unmerged entries, which a
    stash refuses), and the tracked .gitignore files are restored first so that files ignored
    when the run started stay ignored and stay where they are.
    """
    git(root, "reset", "-q")
    ignore_files = [path for path in git(root, "ls-files", "--", ":(glob)**/.gitignore").splitlines() if path]
    if ignore_files:
        git(root, "checkout", "-q", "HEAD", "--", *ignore_files)
    before = git(root, "rev-parse", "-q", "--verify", "refs/stash", check=False).strip()
    git(root, "stash", "push", "-q", "--include-untracked", "-m", message)
    return git(root, "rev-parse", "-q", "--verify", "refs/stash", check=False).strip() not in ("", before)


def ignored_paths(root: Path) -> set[str]:
    """Untracked paths git ignores now (a folder as `dir/`)."""
    listing = git(root, "ls-files", "-z", "--others", "--ignored", "--exclude-standard", "--directory")
    return {path for path in listing.split("\0") if path}


def worktree_paths(root: Path) -> list[Path]:
    """The linked worktrees of the repository (not the main one), existing or not."""
    listing = git(root, "worktree", "list", "--porcelain", check=False)
    paths = [Path(line[len("worktree ") :]) for line in listing.splitlines() if line.startswith("worktree ")]
    return paths[1:]


def commit_all(root: Path, message: str) -> str:
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message)
    return git(root, "rev-parse", "--short", "HEAD").strip()
