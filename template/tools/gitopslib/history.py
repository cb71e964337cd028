"""Past versions of files, read from git in one batch."""

from __future__ import annotations

import subprocess
from pathlib import Path

from .git import git, is_work_tree


class History:
    """Every committed version of a file, newest first, and the commit that added it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.available = (
            is_work_tree(root) and git(root, "rev-parse", "--verify", "-q", "HEAD", check=False) != ""
        )

    def commits(self, path: str) -> list[str]:
        if not self.available:
            return []
        return git(self.root, "log", "--format=%H", "--", path).split()

    def contents(self, path: str, commits: list[str]) -> list[str | None]:
        """The file at each commit (None where it did not exist), with one git process."""
        if not commits:
            return []
        requests = "".join(f"{commit}:{path}\n" for commit in commits).encode()
        output = subprocess.run(
            ["git", "cat-file", "--batch"], cwd=self.root, input=requests, capture_output=True, check=True
        ).stdout
        found: list[str | None] = []
        position = 0
        for _ in commits:
            header_end = output.index(b"\n", position)
            header = output[position:header_end].split()
            if header[-1] == b"missing":
                found.append(None)
                position = header_end + 1
                continue
            size = int(header[2])
            found.append(output[header_end + 1 : header_end + 1 + size].decode())
            position = header_end + 1 + size + 1
        return found

    def versions(self, path: str) -> list[str | None]:
        return self.contents(path, self.commits(path))

    def first_version(self, path: str) -> str | None:
        """The file as the commit that added it wrote it."""
        commits = self.commits(path)
        return self.contents(path, commits[-1:])[0] if commits else None
