"""validate's secret scan skips files an earlier run found clean and that are unchanged since
(gitopslib/secret_scan_cache.py), and that never hides a secret.

The real tools/gitops in a subprocess (a new process: no in-memory cache), on a generated
repository; the secrets are made up (tests/test_secret_checks.py).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from gitopslib import secret_checks, secret_scan_cache
from gitopslib.secret_checks import BASELINE, scan_repository
from gitopslib.secret_scan_cache import KEY_LENGTH, STORE, CleanFiles, scan_fingerprint

from tests.conftest import run_gitops
from tests.template_versions import commit_all, copy_repo, git
from tests.test_secret_checks import append, github_token, render_repository

FINDING = "a GitHub token (line"
# A Python that cannot import detect-secrets, running tools/gitops: proves a run did not scan.
WITHOUT_DETECT_SECRETS = (
    "import runpy, sys; sys.modules['detect_secrets'] = None; "
    "sys.argv = ['tools/gitops', 'validate']; runpy.run_path('tools/gitops', run_name='__main__')"
)


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return render_repository(tmp_path_factory.mktemp("pristine") / "repo", {"app_name": "shop"})


@pytest.fixture
def repo(pristine: Path, tmp_path: Path) -> Path:
    return copy_repo(pristine, tmp_path / "repo")


def store(repo: Path) -> Path:
    return repo / ".git" / STORE


def validate_without_detect_secrets(repo: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    return subprocess.run(
        [sys.executable, "-c", WITHOUT_DETECT_SECRETS], cwd=repo, capture_output=True, text=True, env=env
    )


def scanned_files(repo: Path) -> int:
    """What the scan reads: the tracked files but symlinks and the baseline."""
    listed = git(repo, "ls-files").splitlines()
    return len([p for p in listed if p != BASELINE and not (repo / p).is_symlink()])


def test_a_clean_run_keeps_one_key_per_file_and_the_next_run_scans_nothing(repo: Path) -> None:
    assert not store(repo).exists()
    first = run_gitops(repo, "validate")
    assert first.returncode == 0, first.stdout + first.stderr
    keys = store(repo).read_text().split()
    assert len(keys) == scanned_files(repo) > 50
    assert all(len(key) == KEY_LENGTH for key in keys)
    assert "gitops" not in git(repo, "status", "--porcelain"), "the cache is never a change to commit"
    second = validate_without_detect_secrets(repo)
    assert second.returncode == 0, second.stdout + second.stderr


def test_a_changed_file_is_scanned_again_and_its_secret_reported_every_time(repo: Path) -> None:
    assert run_gitops(repo, "validate").returncode == 0
    line = append(repo / "README.md", f"token: {github_token()}")
    commit_all(repo, "A token in the README")
    blind = validate_without_detect_secrets(repo)
    assert blind.returncode != 0, "the changed file needed a scan"
    assert "missing Python package detect_secrets" in blind.stderr
    for _ in range(2):  # a finding is never cached
        found = run_gitops(repo, "validate")
        assert found.returncode == 1
        assert f"README.md: {FINDING} {line})" in found.stdout, found.stdout


def test_the_same_bytes_at_another_path_are_scanned_there(repo: Path) -> None:
    """detect-secrets' filters read the path: it skips lock files, so a token in
    package-lock.json is no finding (and the file is kept as clean), while the same bytes in
    another file are one."""
    text = f'{{"token": "{github_token()}"}}\n'
    (repo / "package-lock.json").write_text(text)
    assert run_gitops(repo, "validate").returncode == 0
    (repo / "package-lock.json").rename(repo / "tokens.json")
    found = run_gitops(repo, "validate")
    assert found.returncode == 1 and f"tokens.json: {FINDING} 1)" in found.stdout, found.stdout


def test_a_broken_or_foreign_store_only_costs_a_rescan(repo: Path) -> None:
    line = append(repo / "README.md", f"token: {github_token()}")
    store(repo).parent.mkdir(parents=True)
    store(repo).write_bytes(b"\xff\xfe not a key\n" + b"0" * KEY_LENGTH + b"\n" + b"z" * KEY_LENGTH + b"\n")
    found = run_gitops(repo, "validate")
    assert found.returncode == 1 and f"README.md: {FINDING} {line})" in found.stdout, found.stdout
    assert "Traceback" not in found.stderr
    assert "0" * KEY_LENGTH not in store(repo).read_text(), "keys no file has are dropped"


def test_a_git_directory_that_cannot_be_written_keeps_nothing(repo: Path) -> None:
    if os.geteuid() == 0:
        # root writes through permissions: a plain file where the folder goes fails for anyone.
        (repo / ".git/gitops").write_text("in the way\n")
    else:
        (repo / ".git").chmod(0o555)
    try:
        result = run_gitops(repo, "validate")
    finally:
        (repo / ".git").chmod(0o755)
    assert result.returncode == 0, result.stdout + result.stderr
    assert not store(repo).exists()


def test_keys_hold_path_bytes_and_scanner(tmp_path: Path) -> None:
    clean = CleanFiles(tmp_path, scan_fingerprint(b"scanner code", "1.5.0"))
    assert clean.store is None, "outside a git repository nothing is stored"
    key = clean.key("a.yaml", b"x: 1\n")
    assert key != clean.key("b.yaml", b"x: 1\n")
    assert key != clean.key("a.yaml", b"x: 2\n")
    assert key != CleanFiles(tmp_path, scan_fingerprint(b"scanner code", "1.5.1")).key("a.yaml", b"x: 1\n")
    assert key != CleanFiles(tmp_path, scan_fingerprint(b"other code", "1.5.0")).key("a.yaml", b"x: 1\n")
    assert not clean.is_clean(key)
    clean.mark_clean(key)
    clean.save()  # no store: nothing written, no error
    assert CleanFiles(tmp_path, clean.fingerprint).is_clean(key), "kept in this process"
    secret_scan_cache._seen_clean.discard(key)
    assert not CleanFiles(tmp_path, clean.fingerprint).is_clean(key)


def test_where_the_repository_is_does_not_hide_a_secret(tmp_path: Path) -> None:
    """detect-secrets' swagger filter dropped every finding under a path holding "swagger";
    validate runs without it, so a repository there (or an app named swagger-ui) is scanned, and
    a key found clean in one place says nothing false about another (same process: the keys
    found clean in memory too)."""
    token = f"token: {github_token()}\n"
    found = {}
    for place in ("swagger-gitops", "plain", "swagger-gitops"):
        repo = tmp_path / place / "repo"
        (repo / "apps/swagger-ui").mkdir(parents=True, exist_ok=True)
        (repo / "apps/swagger-ui/notes.md").write_text(token)
        git(repo, "init", "-q")
        found[place] = [finding.path for finding in scan_repository(repo)[0]]
    assert found == {"swagger-gitops": ["apps/swagger-ui/notes.md"], "plain": ["apps/swagger-ui/notes.md"]}


def test_a_locale_detect_secrets_cannot_read_in_is_reported_not_passed(repo: Path) -> None:
    """detect-secrets reads files in the locale's encoding and silently skips one it cannot
    decode: under plain ASCII (C locale, Python's UTF-8 mode off) a UTF-8 file with a token and
    an accent would pass. It is reported as not scanned, and nothing is kept as clean."""
    append(repo / "README.md", f"Café token: {github_token()}")
    env = {**os.environ, "LC_ALL": "C", "PYTHONUTF8": "0", "PYTHONCOERCECLOCALE": "0"}
    result = run_gitops(repo, "validate", env=env)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "README.md: not scanned for secrets: detect-secrets reads files as" in result.stdout
    assert run_gitops(repo, "validate").returncode == 1, "found once the locale is UTF-8"


def test_another_scanner_does_not_reuse_the_keys(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The keys hold the scanning code and versions: a scan by other code finds every file anew."""
    assert run_gitops(repo, "validate").returncode == 0
    before = set(store(repo).read_text().split())
    monkeypatch.setattr(secret_checks, "fingerprint", lambda: scan_fingerprint(b"other scanning code"))
    assert scan_repository(repo) == ([], [])
    after = set(store(repo).read_text().split())
    assert len(after) == len(before) and after.isdisjoint(before)


def test_a_large_scan_shared_out_to_processes_finds_what_one_process_finds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cold scan of many files is dealt out to one process per core (secret_checks._shares):
    the same findings, files not scanned and clean keys as one process scanning them all."""
    repo = tmp_path / "repo"
    (repo / "apps").mkdir(parents=True)
    secrets = {3: "notes.md", 101: "config.yaml", 202: "values.yaml"}
    for index in range(240):
        name = secrets.get(index, "plain.yaml" if index % 2 else "plain.md")
        text = f"token: {github_token()}\n" if index in secrets else f"name: app{index}\nreplicas: {index}\n"
        (repo / "apps" / f"{index:03d}-{name}").write_text(text)
    (repo / "apps/250-comment.yaml").write_text(f"replicas: 1  # {github_token()}\n")
    git(repo, "init", "-q")
    monkeypatch.setattr(secret_checks, "cores", lambda: 2)

    def scanned() -> tuple[list[str], list[str], set[str]]:
        store(repo).unlink(missing_ok=True)
        secret_scan_cache._seen_clean.clear()
        findings, not_scanned = scan_repository(repo)
        keys = set(store(repo).read_text().split())
        return (
            sorted(f"{f.path}:{f.line}:{f.what}:{f.hashed_secret}" for f in findings),
            sorted(map(str, not_scanned)),
            keys,
        )

    real_shares = secret_checks._shares
    shares: list[int] = []
    monkeypatch.setattr(
        secret_checks, "_shares", lambda files: shares.append(len(real_shares(files))) or real_shares(files)
    )
    shared = scanned()
    assert shares == [2], "shared out to two processes"
    monkeypatch.setattr(secret_checks, "_shares", lambda files: [files])
    alone = scanned()
    assert shared == alone
    assert [line.split(":")[0] for line in shared[0]] == [
        "apps/003-notes.md", "apps/101-config.yaml", "apps/202-values.yaml", "apps/250-comment.yaml"
    ]  # fmt: skip
    assert shared[1] == []
    assert len(shared[2]) == 241 - 4, "every other file kept as clean"
