"""The files validate's secret scan found nothing in, so that the next scan skips them unchanged.

Scanning is most of validate's time (detect-secrets runs each detector over every file) and most
of a repository is the same from one run to the next. What a scan finds in a file depends only on
its path (detect-secrets' filters read it), its bytes, detect-secrets' version and the scanning
code (secret_checks.py): a file's key is a hash of the four, and a key is kept only for a file
scanned with no finding and no error. A finding is never cached: such a file is scanned and
reported every time.

The keys live in the repository's git directory (`.git/gitops/secret-scan-clean`), never in a
commit: a fresh CI checkout starts without them and scans every file (a runner that keeps `.git`
between jobs keeps them, which is as safe as keeping them locally). Whoever can write there can
also change tools/ itself. Each run keeps only the keys of the files it saw, so the file stays the size
of the repository. Delete it to have the next run scan everything. A process that validates
several times (tests, tools/gitops update) also keeps them in memory, for any repository.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import tempfile
from pathlib import Path

STORE = Path("gitops") / "secret-scan-clean"
KEY_LENGTH = 64  # hex digits of a sha256

# Keys found clean in this process, whatever the repository (the key holds all a scan depends on).
_seen_clean: set[str] = set()


# This module's code, as imported: part of the scanning code the keys depend on.
SCANNING_CACHE_CODE = Path(__file__).read_bytes()


def scan_fingerprint(*parts: bytes | str) -> bytes:
    """One hash of what besides a file decides its findings (secret_checks.fingerprint)."""
    digest = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8", "surrogateescape") if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "big") + data)
    return digest.digest()


class CleanFiles:
    """The clean keys of one repository: those stored by earlier runs, and this run's."""

    def __init__(self, root: Path, fingerprint: bytes) -> None:
        self.fingerprint = fingerprint
        self.store = _store_path(root)
        self.stored = _read_keys(self.store) if self.store else set()
        self.used: set[str] = set()

    def key(self, relative: str, data: bytes) -> str:
        digest = hashlib.sha256(self.fingerprint)
        digest.update(relative.encode("utf-8", "surrogateescape") + b"\0")
        digest.update(data)
        return digest.hexdigest()

    def is_clean(self, key: str) -> bool:
        if key in self.stored or key in _seen_clean:
            self.used.add(key)
            return True
        return False

    def mark_clean(self, key: str) -> None:
        _seen_clean.add(key)
        self.used.add(key)

    def save(self) -> None:
        """This run's clean keys replace the stored ones (written whole, then renamed into place,
        so that a run stopped half-way or a concurrent run never leaves a torn file). A git
        directory that cannot be written to keeps no cache: the next run scans everything."""
        if self.store is None or self.used == self.stored:
            return
        written = None
        try:
            self.store.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(
                "w", dir=self.store.parent, prefix=".secret-scan-", delete=False, encoding="ascii"
            ) as file:
                written = Path(file.name)
                file.write("".join(f"{key}\n" for key in sorted(self.used)))
            os.replace(written, self.store)
        except OSError:
            if written is not None:
                written.unlink(missing_ok=True)


def _store_path(root: Path) -> Path | None:
    """Where the keys of the repository at `root` are stored; None outside a git repository."""
    try:
        result = subprocess.run(
            ["git", "rev-parse", "--absolute-git-dir"], cwd=root, capture_output=True, text=True, check=False
        )
    except OSError:
        return None
    git_dir = result.stdout.strip()
    return Path(git_dir) / STORE if result.returncode == 0 and git_dir else None


def _read_keys(store: Path) -> set[str]:
    """The stored keys; anything else in the file (a torn or foreign line) is ignored, so at
    worst a file is scanned again."""
    try:
        lines = store.read_text(encoding="ascii", errors="replace").splitlines()
    except OSError:
        return set()
    return {line for line in lines if len(line) == KEY_LENGTH and all(c in "0123456789abcdef" for c in line)}
