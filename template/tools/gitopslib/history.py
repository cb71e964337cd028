"""Past versions of files, read from git with two processes whatever the number of files.

`git log --name-only` lists, once, which commits touched which of the files asked for; one
`git cat-file --batch` then reads every version. Asking per file instead costs two git
processes per file: seconds on a repository with hundreds of overlays.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from .git import git, is_work_tree


class History:
    """Every committed version of a set of files, newest first, read in one pass."""

    def __init__(self, root: Path, pathspecs: list[str]) -> None:
        self.root = root
        self.available = (
            is_work_tree(root) and git(root, "rev-parse", "--verify", "-q", "HEAD", check=False) != ""
        )
        self._commits: dict[str, list[str]] = {}
        self._contents: dict[tuple[str, str], str | None] = {}
        if self.available:
            self._read(pathspecs)

    def _read(self, pathspecs: list[str]) -> None:
        log = git(self.root, "log", "--format=commit %H", "--name-only", "--", *pathspecs)
        commit = ""
        for line in log.splitlines():
            if line.startswith("commit "):
                commit = line.split()[1]
            elif line:
                self._commits.setdefault(line, []).append(commit)
        pairs = [(commit, path) for path, commits in self._commits.items() for commit in commits]
        self._contents = dict(zip(pairs, self._cat_files(pairs), strict=True))

    def _cat_files(self, pairs: list[tuple[str, str]]) -> list[str | None]:
        if not pairs:
            return []
        requests = "".join(f"{commit}:{path}\n" for commit, path in pairs).encode()
        output = subprocess.run(
            ["git", "cat-file", "--batch"], cwd=self.root, input=requests, capture_output=True, check=True
        ).stdout
        found: list[str | None] = []
        position = 0
        for _ in pairs:
            header_end = output.index(b"\n", position)
            header = output[position:header_end].split()
            if header[-1] == b"missing":
                found.append(None)
                position = header_end + 1
                continue
            size = int(header[2])
            # A file committed as non-UTF-8 stays in history; validate names it in the work tree.
            found.append(output[header_end + 1 : header_end + 1 + size].decode(errors="replace"))
            position = header_end + 1 + size + 1
        return found

    def versions(self, path: str) -> list[str | None]:
        return [self._contents[(commit, path)] for commit in self._commits.get(path, [])]

    def first_version(self, path: str) -> str | None:
        """The file as the commit that added it wrote it."""
        commits = self._commits.get(path, [])
        return self._contents[(commits[-1], path)] if commits else None
