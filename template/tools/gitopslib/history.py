"""Past states of folders, read from git with three processes whatever the number of folders.

`git log --name-only` lists, once, which commits touched which files of the folders asked for;
one `git cat-file --batch` then reads each folder as each of those commits left it (a tree),
and one more every file of those trees. Asking per folder and commit instead costs several git
processes each: seconds on a repository with hundreds of overlays.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from .git import cat_files, git, is_work_tree

# Tree entry modes of files (regular, executable, symbolic link): what `git ls-tree` calls blobs.
FILE_MODES = (b"100644", b"100755", b"120000")


class History:
    """Every committed state of a set of folders (the files directly in each), newest first."""

    def __init__(
        self, root: Path, pathspec: str, folder_of: Callable[[str], str | None], first_parent_of: str = ""
    ) -> None:
        """`pathspec` selects the files to follow; `folder_of` names the folder a file counts
        for (None: it does not count). With `first_parent_of` (a ref), only the commits of that
        ref's first-parent chain count, a merge as the change it made to its first parent: the
        history of a branch as it moved, without the commits of the branches merged into it."""
        self.root = root
        self.available = (
            is_work_tree(root) and git(root, "rev-parse", "--verify", "-q", "HEAD", check=False) != ""
        )
        self._commits: dict[str, list[str]] = {}
        self._states: dict[tuple[str, str], dict[str, bytes] | None] = {}
        self._times: dict[str, int] = {}
        # The commits a shallow clone cut the history at (`git clone --depth`): the oldest one
        # a folder shows seems to add it, whatever came before.
        self.cut_at: set[str] = set()
        if self.available:
            self._read(pathspec, folder_of, first_parent_of)
            shallow = Path(git(root, "rev-parse", "--path-format=absolute", "--git-path", "shallow").strip())
            self.cut_at = set(shallow.read_text().split()) if shallow.is_file() else set()

    def _read(self, pathspec: str, folder_of: Callable[[str], str | None], first_parent_of: str) -> None:
        # %ct: the committer date, when the commit became part of the branch (a rebase or a merge
        # sets it anew), never the author date.
        chain = ["--first-parent", "--diff-merges=first-parent", first_parent_of] if first_parent_of else []
        # --relative and `:./`: paths from this folder, which may be a folder of a larger repository.
        log = git(
            self.root, "log", "--format=commit %H %ct", "--name-only", "--relative", *chain, "--", pathspec
        )
        commit = ""
        for line in log.splitlines():
            if line.startswith("commit "):
                _, commit, committed_at = line.split()
                self._times[commit] = int(committed_at)
            elif line and (folder := folder_of(line)) is not None:
                commits = self._commits.setdefault(folder, [])
                if not commits or commits[-1] != commit:
                    commits.append(commit)
        pairs = [(commit, folder) for folder, commits in self._commits.items() for commit in commits]
        trees = cat_files(self.root, [f"{commit}:./{folder}" for commit, folder in pairs])
        # Not a tree: the folder did not exist at that commit (it was removed), or was a file then.
        listings = [_tree_files(oid, content) if kind == "tree" else None for oid, kind, content in trees]
        blobs = sorted({blob for listing in listings if listing for blob in listing.values()})
        contents = {blob: found[2] for blob, found in zip(blobs, cat_files(self.root, blobs), strict=True)}
        for pair, listing in zip(pairs, listings, strict=True):
            self._states[pair] = (
                None if listing is None else {name: contents[blob] for name, blob in listing.items()}
            )

    def versions(self, folder: str) -> list[dict[str, bytes] | None]:
        """The folder's files by name as each commit that touched it left them (None: the commit
        removed the folder), newest first."""
        return [self._states[(commit, folder)] for commit in self._commits.get(folder, [])]

    def changes(self, folder: str) -> list[tuple[str, int, dict[str, bytes] | None]]:
        """Each commit that touched the folder, its committer date (Unix seconds) and the folder
        as it left it (None: removed), newest first."""
        return [
            (commit, self._times[commit], self._states[(commit, folder)])
            for commit in self._commits.get(folder, [])
        ]

    def first_version(self, folder: str) -> dict[str, bytes] | None:
        """The folder as the commit that added it wrote it."""
        commits = self._commits.get(folder, [])
        return self._states[(commits[-1], folder)] if commits else None

    def starts_at_the_cut(self, folder: str) -> bool:
        """Whether the folder's oldest commit here is where a shallow clone cut the history: what
        seems its first version may be any version of it."""
        commits = self._commits.get(folder, [])
        return bool(commits) and commits[-1] in self.cut_at


def _tree_files(tree_id: str, tree: bytes) -> dict[str, str]:
    """A raw tree object's files: name -> object id. Its entries are `<mode> <name>\\0` and the
    binary id of the same length as the tree's own (20 bytes with SHA-1, 32 with SHA-256)."""
    id_length = len(tree_id) // 2
    files = {}
    position = 0
    while position < len(tree):
        space = tree.index(b" ", position)
        nul = tree.index(b"\0", space)
        if tree[position:space] in FILE_MODES:
            files[tree[space + 1 : nul].decode(errors="replace")] = tree[nul + 1 : nul + 1 + id_length].hex()
        position = nul + 1 + id_length
    return files
