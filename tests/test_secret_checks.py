"""`tools/gitops validate` finds private keys and tokens in any file git tracks or would track,
one line each (`path: <what> (line N): ...`), never printing the secret, and accepts exactly the
findings audited as false alarms into .secrets.baseline with detect-secrets' own commands.

Every secret is made up when the test runs (random, or a key from ssh-keygen): this file holds
none, so that no scanner and no push protection flags the template's own repository.

The real `tools/gitops validate` runs once over a repository with every kind of secret planted
(and once without detect-secrets installed); the other cases run validate's secret check alone, in
this process, and compare the lines validate prints for it. detect-secrets' own commands, which
the README tells users to run, are run as commands.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import shutil
import string
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from gitopslib.secret_checks import DETECTORS, FILTERS, secret_problems

from tests.answer_sets import ANSWER_SETS
from tests.conftest import render, run_gitops
from tests.template_versions import check_lines, commit_all, copy_repo, git

BASELINE = ".secrets.baseline"
# Every finding line says so; a line about a file that could not be scanned says the second.
FINDING_MARK = "a secret in Git is compromised"
NOT_SCANNED_MARK = "scanned for secrets"
NOT_RUN = {"KeywordDetector", "Base64HighEntropyString", "HexHighEntropyString", "IPPublicDetector"}


# ---------------------------------------------------------------------------
# Made-up secrets
# ---------------------------------------------------------------------------


def random_text(length: int, alphabet: str = string.ascii_letters + string.digits) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


def aws_key_pair() -> tuple[str, str]:
    return "AKIA" + random_text(16, string.ascii_uppercase + string.digits), random_text(40)


def github_token() -> str:
    return "ghp_" + random_text(36)


def slack_webhook() -> str:
    return (
        f"https://hooks.slack.com/services/T{random_text(8, string.ascii_uppercase)}"
        f"/B{random_text(8, string.ascii_uppercase)}/{random_text(24)}"
    )


def slack_bot_token() -> str:
    return f"xoxb-{random_text(12, string.digits)}-{random_text(13, string.digits)}-{random_text(24).lower()}"


def jwt() -> str:
    def part(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    header = part(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = part(json.dumps({"sub": random_text(12), "iat": 1767225600}).encode())
    return f"{header}.{payload}.{part(secrets.token_bytes(32))}"


def private_key(scratch: Path) -> str:
    """A real private key: OpenSSH from ssh-keygen, else PKCS#8 from openssl, else a PEM block of
    random bytes (the detector reads the armour line, which all three have)."""
    key = scratch / f"id_{secrets.token_hex(4)}"
    if shutil.which("ssh-keygen"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
        return key.read_text()
    if shutil.which("openssl"):
        command = ["openssl", "genpkey", "-algorithm", "ed25519"]
        return subprocess.run(command, check=True, capture_output=True, text=True).stdout
    body = base64.encodebytes(secrets.token_bytes(600)).decode()
    return f"-----BEGIN RSA PRIVATE KEY-----\n{body}-----END RSA PRIVATE KEY-----\n"


def indent(text: str, spaces: int) -> str:
    return "".join(" " * spaces + line + "\n" for line in text.splitlines())


# ---------------------------------------------------------------------------
# Generated repositories
# ---------------------------------------------------------------------------


def render_repository(destination: Path, answers: dict[str, object]) -> Path:
    """A generated repository, committed: validate lists its files with git."""
    render(destination, answers)
    git(destination, "init", "-q", "-b", "main")
    commit_all(destination, "Generated")
    return destination


def detect_secrets(repo: Path, *args: str, answers: str = "") -> subprocess.CompletedProcess[str]:
    """detect-secrets' own command line, as the README tells users to run it."""
    result = subprocess.run(
        [sys.executable, "-m", "detect_secrets", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        input=answers,
    )
    assert result.returncode == 0, result.stderr
    return result


def secret_lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    """The real validate's lines from the secret check (the others' checks may report more)."""
    return [
        line
        for line in result.stdout.splitlines()
        if FINDING_MARK in line or NOT_SCANNED_MARK in line or line.startswith(f"{BASELINE}:")
    ]


def scan(repo: Path) -> list[str]:
    """validate's lines from its secret check, run in this process."""
    return check_lines(repo, secret_problems)


def lines_about(lines: list[str], path: str) -> list[str]:
    return [line for line in lines if line.startswith(f"{path}: ")]


def assert_no_traceback(result: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    assert "unexpected" not in result.stderr, result.stderr


def append(path: Path, text: str) -> int:
    """Appends `text` as one line; returns its line number."""
    existing = path.read_text()
    if not existing.endswith("\n"):
        existing += "\n"
    path.write_text(existing + text + "\n")
    return len((existing + text).splitlines())


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return render_repository(tmp_path_factory.mktemp("pristine") / "repo", {})


@pytest.fixture
def repo(pristine: Path, tmp_path: Path) -> Path:
    return copy_repo(pristine, tmp_path / "repo")


@pytest.fixture
def audit_repo(repo: Path) -> Path:
    """`repo` with tools/ out of Git and ignored (still on disk, where the in-process checks read
    it): the audit workflow's tests are about README.md's findings and the baseline, and tools/ is
    six of the seven CPU-seconds of each `detect-secrets scan` there (every plugin over 72 files,
    the JSON Schemas mostly). Neither detect-secrets nor validate scans an ignored file."""
    git(repo, "rm", "-r", "-q", "--cached", "tools")
    with (repo / ".git" / "info" / "exclude").open("a") as exclude:
        exclude.write("/tools/\n")
    commit_all(repo, "tools/ out of Git")
    assert not git(repo, "ls-files", "tools") and not git(repo, "status", "--porcelain")
    return repo


# ---------------------------------------------------------------------------
# Secrets planted in many kinds of files, one validate run
# ---------------------------------------------------------------------------


@dataclass
class Plant:
    path: str
    what: str  # as the problem line names it
    lines: list[int]  # one problem line per secret
    values: list[str]  # never printed
    # What the line says to do for a false alarm: audit it, unless detect-secrets cannot see it.
    false_alarm: str = f"`detect-secrets scan --baseline {BASELINE} --no-verify` and `detect-secrets audit"


Planter = Callable[[Path, Path], Plant]


def key_in_overlay_configmap(repo: Path, scratch: Path) -> Plant:
    key = private_key(scratch)
    path = "environments/dev/myapp/configmap.yaml"
    header = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: myapp-tls\ndata:\n  tls.key: |\n"
    (repo / path).write_text(header + indent(key, 4))
    # detect-secrets reads YAML as values: a block scalar is reported on its key's line.
    return Plant(path, "a private key", [6], [key.splitlines()[1]])


def key_file_force_added(repo: Path, scratch: Path) -> Plant:
    """*.key is in .gitignore; a key added with `git add -f` is tracked all the same."""
    key = private_key(scratch)
    path = "environments/prod/myapp/tls.key"
    (repo / path).write_text(key)
    git(repo, "add", "-f", path)
    return Plant(path, "a private key", [1], [key.splitlines()[1]])


def aws_pair_under_argocd(repo: Path, scratch: Path) -> Plant:
    key_id, secret_key = aws_key_pair()
    path = "argocd/backup-credentials.yaml"
    (repo / path).write_text(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: backup\n  namespace: argocd\nstringData:\n"
        f"  aws_access_key_id: {key_id}\n  aws_secret_access_key: {secret_key}\n"
    )
    return Plant(path, "an AWS access key", [7, 8], [key_id, secret_key])


def github_token_in_workflow(repo: Path, scratch: Path) -> Plant:
    token = github_token()
    path = ".github/workflows/validate.yaml"
    line = append(repo / path, f"env:\n  RELEASE_TOKEN: {token}")
    return Plant(path, "a GitHub token", [line], [token])


def slack_webhook_in_readme(repo: Path, scratch: Path) -> Plant:
    webhook = slack_webhook()
    line = append(repo / "README.md", f"Deploy notices go to {webhook} (ask #platform).")
    return Plant("README.md", "a Slack token or webhook URL", [line], [webhook.rsplit("/", 1)[1]])


def slack_token_untracked(repo: Path, scratch: Path) -> Plant:
    """Never `git add`ed, not ignored: git would track it, validate scans it."""
    token = slack_bot_token()
    path = "applications/base/myapp/NOTES.md"
    (repo / path).write_text(f"# Notes\n\nThe bot posts with {token}.\n")
    return Plant(path, "a Slack token or webhook URL", [3], [token])


def jwt_in_properties(repo: Path, scratch: Path) -> Plant:
    token = jwt()
    path = "environments/staging/myapp/application.properties"
    (repo / path).write_text(f"server.port=8080\napi.token={token}\n")
    return Plant(path, "a JSON Web Token", [2], [token.split(".")[1]])


def password_in_application_url(repo: Path, scratch: Path) -> Plant:
    password = random_text(20)
    path = "argocd/apps/myapp/dev.yaml"
    text = (repo / path).read_text()
    url = '    repoURL: "https://github.com/example-org/gitops.git"'
    assert url in text
    line = text[: text.index(url)].count("\n") + 1
    (repo / path).write_text(text.replace(url, url.replace("https://", f"https://deploy:{password}@")))
    return Plant(path, "a password in a URL (user:password@host)", [line], [password])


def aws_secret_key_alone_in_yaml(repo: Path, scratch: Path) -> Plant:
    """Unquoted in YAML, only detect-secrets' YAML reading (which quotes values) reveals it."""
    _, secret_key = aws_key_pair()
    path = "environments/prod/myapp/backup.yaml"
    (repo / path).write_text(f"backup:\n  bucket: myapp-backups\n  aws_secret_access_key: {secret_key}\n")
    return Plant(path, "an AWS access key", [3], [secret_key])


def escaped_token_in_yaml(repo: Path, scratch: Path) -> Plant:
    """A YAML escape hides the token from the raw text, not from detect-secrets' YAML reading."""
    token = github_token()
    path = "applications/base/myapp/extra.yaml"
    (repo / path).write_text(f'annotations:\n  ci/token: "\\x67{token[1:]}"\n')
    return Plant(path, "a GitHub token", [2], [token])


def token_in_yaml_comment(repo: Path, scratch: Path) -> Plant:
    """detect-secrets reads YAML without its comments; validate reads them too."""
    token = github_token()
    line = append(repo / "environments/dev/myapp/kustomization.yaml", f"# old CI token: {token}")
    return Plant(
        "environments/dev/myapp/kustomization.yaml",
        "a GitHub token",
        [line],
        [token],
        "end its line with `# pragma: allowlist secret`",
    )


def token_in_comment_of_multi_document_yaml(repo: Path, scratch: Path) -> Plant:
    """detect-secrets reads a multi-document YAML file as text, comments included: one line, and
    the finding can be audited."""
    token = slack_bot_token()
    path = "argocd/apps/myapp/prod.yaml"
    line = append(repo / path, f"# notifications used {token}")
    return Plant(path, "a Slack token or webhook URL", [line], [token])


PLANTERS: dict[str, Planter] = {
    "private-key-in-overlay-configmap": key_in_overlay_configmap,
    "private-key-file-force-added": key_file_force_added,
    "aws-key-pair-under-argocd": aws_pair_under_argocd,
    "github-token-in-workflow": github_token_in_workflow,
    "slack-webhook-in-readme": slack_webhook_in_readme,
    "slack-token-in-untracked-file": slack_token_untracked,
    "jwt-in-properties-file": jwt_in_properties,
    "password-in-application-repo-url": password_in_application_url,
    "aws-secret-key-alone-in-yaml": aws_secret_key_alone_in_yaml,
    "escaped-token-in-yaml": escaped_token_in_yaml,
    "token-in-yaml-comment": token_in_yaml_comment,
    "token-in-comment-of-multi-document-yaml": token_in_comment_of_multi_document_yaml,
}


def plant_unscanned(repo: Path, scratch: Path) -> dict[str, str]:
    """Tokens where validate must not look, by path: an ignored file, a symlink to a file outside
    the repository (git stores the link, not the content), a binary file."""
    ignored, linked, binary = github_token(), github_token(), github_token()
    (repo / ".env").write_text(f"GITHUB_TOKEN={ignored}\n")
    outside = scratch / "outside.txt"
    outside.write_text(f"token {linked}\n")
    (repo / "docs-link.txt").symlink_to(outside)
    git(repo, "add", "docs-link.txt")
    (repo / "applications/base/myapp/payload.dat").write_bytes(
        b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe" + binary.encode() + secrets.token_bytes(64)
    )
    return {".env": ignored, "docs-link.txt": linked, "applications/base/myapp/payload.dat": binary}


@dataclass
class Planted:
    plants: dict[str, Plant]
    unscanned: dict[str, str]
    result: subprocess.CompletedProcess[str]


@pytest.fixture(scope="module")
def planted(pristine: Path, tmp_path_factory: pytest.TempPathFactory) -> Planted:
    scratch = tmp_path_factory.mktemp("planted")
    repo = copy_repo(pristine, scratch / "repo")
    plants = {name: planter(repo, scratch) for name, planter in PLANTERS.items()}
    unscanned = plant_unscanned(repo, scratch)
    return Planted(plants, unscanned, run_gitops(repo, "validate"))


@pytest.mark.parametrize("name", sorted(PLANTERS))
def test_planted_secret_is_one_line_naming_file_line_and_kind(planted: Planted, name: str) -> None:
    plant = planted.plants[name]
    found = lines_about(secret_lines(planted.result), plant.path)
    expected = [f"{plant.path}: {plant.what} (line {line}): {FINDING_MARK}" for line in plant.lines]
    assert len(found) == len(expected), "\n".join(secret_lines(planted.result))
    for line, start in zip(sorted(found), sorted(expected), strict=True):
        assert line.startswith(start), line
        assert "External Secrets or Sealed Secrets" in line
        assert plant.false_alarm in line


def test_planted_secrets_fail_validate_without_printing_them(planted: Planted) -> None:
    result = planted.result
    assert result.returncode == 1
    assert_no_traceback(result)
    reported = "\n".join(secret_lines(result))
    for plant in planted.plants.values():
        for value in plant.values:
            assert value not in reported, plant.path


@pytest.mark.parametrize("name", sorted(PLANTERS))
def test_no_check_of_validate_prints_a_planted_secret(planted: Planted, name: str) -> None:
    output = planted.result.stdout + planted.result.stderr
    for value in planted.plants[name].values:
        assert value not in output


def test_only_planted_files_are_reported(planted: Planted) -> None:
    """Nothing else of the generated repository, and nothing in the ignored file, the symlink
    or the binary file, though each holds a token."""
    reported = {line.split(": ", 1)[0] for line in secret_lines(planted.result)}
    assert reported == {plant.path for plant in planted.plants.values()}
    for value in planted.unscanned.values():
        assert value not in planted.result.stdout


# ---------------------------------------------------------------------------
# Clean generated repositories
# ---------------------------------------------------------------------------

CLEAN_SETS = ["defaults", "hardened-gateway", "exposed-ingress", "all-off", "four-envs-registry"]


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """The repository of an answer set, rendered once for the module (the tests only read it)."""
    repos: dict[str, Path] = {}

    def repository(answer_set: str) -> Path:
        if answer_set not in repos:
            destination = tmp_path_factory.mktemp(answer_set) / "repo"
            repos[answer_set] = render_repository(destination, ANSWER_SETS[answer_set])
        return repos[answer_set]

    return repository


@pytest.mark.parametrize("answer_set", CLEAN_SETS)
def test_generated_repository_has_no_findings(answer_set: str, generated: Callable[[str], Path]) -> None:
    """Kyverno policies with a cosign public key, sealedsecret.yaml placeholders, ExternalSecrets,
    digests and pinned action SHAs, an ssh:// URL with a user: none is a finding."""
    repo = generated(answer_set)
    assert scan(repo) == []
    baseline = json.loads((repo / BASELINE).read_text())
    assert baseline["results"] == {}


def test_the_scanned_content_is_what_high_entropy_detectors_would_flag(
    generated: Callable[[str], Path],
) -> None:
    """The no-findings test above means something: detect-secrets with every plugin flags this
    very repository (hex SHAs, keyword names of secrets), and validate does not."""
    repo = generated("hardened-gateway")
    assert "BEGIN PUBLIC KEY" in "".join(p.read_text() for p in (repo / "platform").rglob("*.yaml"))
    everything = json.loads(detect_secrets(repo, "scan", "--no-verify").stdout)
    flagged_types = {entry["type"] for entries in everything["results"].values() for entry in entries}
    assert flagged_types & {"Hex High Entropy String", "Base64 High Entropy String", "Secret Keyword"}
    assert scan(repo) == []


# ---------------------------------------------------------------------------
# The baseline: detect-secrets' own format and workflow
# ---------------------------------------------------------------------------


def test_generated_baseline_lists_the_plugins_and_filters_validate_runs(pristine: Path) -> None:
    baseline = json.loads((pristine / BASELINE).read_text())
    assert baseline["version"] == "1.5.0"
    assert [plugin["name"] for plugin in baseline["plugins_used"]] == sorted(DETECTORS, key=str.lower)
    assert not NOT_RUN & {plugin["name"] for plugin in baseline["plugins_used"]}
    assert baseline["filters_used"] == FILTERS
    assert baseline["results"] == {}


def test_detect_secrets_rescan_keeps_the_generated_baseline(repo: Path) -> None:
    """The committed file is what detect-secrets itself writes: a rescan changes only its date."""
    before = json.loads((repo / BASELINE).read_text())
    detect_secrets(repo, "scan", "--baseline", BASELINE, "--no-verify")
    after = json.loads((repo / BASELINE).read_text())
    before.pop("generated_at")
    after.pop("generated_at")
    assert after == before


def test_audited_false_alarm_is_accepted_and_nothing_else(audit_repo: Path) -> None:
    """The README's sequence: git add, `detect-secrets scan --baseline .secrets.baseline
    --no-verify`, `detect-secrets audit .secrets.baseline` answering y. Only that finding, in
    that file, is accepted: the same token in another file and another token are reported."""
    example = github_token()
    line = append(audit_repo / "README.md", f"An example token looks like {example}.")
    assert len(lines_about(scan(audit_repo), "README.md")) == 1

    git(audit_repo, "add", "-A")
    detect_secrets(audit_repo, "scan", "--baseline", BASELINE, "--no-verify")
    unaudited = lines_about(scan(audit_repo), "README.md")
    assert len(unaudited) == 1 and f"(line {line}) is in {BASELINE} but not audited" in unaudited[0]

    detect_secrets(audit_repo, "audit", BASELINE, answers="y\n")
    entries = json.loads((audit_repo / BASELINE).read_text())["results"]["README.md"]
    assert [entry["is_secret"] for entry in entries] == [False]

    (audit_repo / "environments/README.md").write_text(f"Same token, other file: {example}\n")
    (audit_repo / "argocd/README.md").write_text(f"Another token: {github_token()}\n")
    lines = scan(audit_repo)
    assert lines_about(lines, "README.md") == []
    assert len(lines_about(lines, "environments/README.md")) == 1
    assert len(lines_about(lines, "argocd/README.md")) == 1


def test_secret_audited_as_real_stays_reported(audit_repo: Path) -> None:
    line = append(audit_repo / "README.md", f"Bot: {slack_bot_token()}")
    git(audit_repo, "add", "-A")
    detect_secrets(audit_repo, "scan", "--baseline", BASELINE, "--no-verify")
    detect_secrets(audit_repo, "audit", BASELINE, answers="n\n")
    assert lines_about(scan(audit_repo), "README.md") == [
        f"README.md: a Slack token or webhook URL (line {line}), audited as a real secret in {BASELINE}: "
        f"{FINDING_MARK}: rotate it, remove it from the repository and deliver it through External Secrets "
        "or Sealed Secrets"
    ]


def test_audit_adds_every_plugin_to_the_baseline_and_validate_does_not_care(audit_repo: Path) -> None:
    """detect-secrets 1.5.0's audit writes every plugin it knows into plugins_used, so the next
    scan records keyword and high-entropy false alarms. validate ignores those entries, keeps
    accepting the audited finding, and a scan with --disable-plugin restores the list."""
    append(audit_repo / "README.md", f"Example: {github_token()}")
    git(audit_repo, "add", "-A")
    detect_secrets(audit_repo, "scan", "--baseline", BASELINE, "--no-verify")
    detect_secrets(audit_repo, "audit", BASELINE, answers="y\n")
    assert {
        plugin["name"] for plugin in json.loads((audit_repo / BASELINE).read_text())["plugins_used"]
    } >= NOT_RUN

    detect_secrets(audit_repo, "scan", "--baseline", BASELINE, "--no-verify")
    noisy = json.loads((audit_repo / BASELINE).read_text())["results"]
    assert {entry["type"] for entries in noisy.values() for entry in entries} & {"Secret Keyword"}
    assert scan(audit_repo) == []

    disable = [argument for name in sorted(NOT_RUN) for argument in ("--disable-plugin", name)]
    detect_secrets(audit_repo, "scan", "--baseline", BASELINE, "--no-verify", *disable)
    restored = json.loads((audit_repo / BASELINE).read_text())
    assert {plugin["name"] for plugin in restored["plugins_used"]} == set(DETECTORS)
    assert list(restored["results"]) == ["README.md"]
    assert restored["results"]["README.md"][0]["is_secret"] is False
    assert scan(audit_repo) == []


BROKEN_BASELINES = {
    "not-json": b"{ this is not JSON",
    "not-utf8": b'\xff\xfe{"results": {}}',
    "a-list": b"[]",
    "results-not-a-mapping": b'{"results": []}',
    # The README entry is well formed and audited; the other one spoils the file, so nothing is
    # accepted and the README token is reported all the same.
    "entry-without-hash": b'{"results": {"README.md": [{"hashed_secret": "HASH", "is_secret": false}],'
    b' "gitops.yaml": [{"type": "GitHub Token", "line_number": 1}]}}',
}


@pytest.mark.parametrize("content", BROKEN_BASELINES.values(), ids=BROKEN_BASELINES.keys())
def test_unreadable_baseline_is_one_line_and_accepts_nothing(repo: Path, content: bytes) -> None:
    token = github_token()
    line = append(repo / "README.md", f"Leaked: {token}")
    hashed = hashlib.sha1(token.encode()).hexdigest()  # how detect-secrets hashes a secret
    (repo / BASELINE).write_bytes(content.replace(b"HASH", hashed.encode()))
    lines = scan(repo)
    baseline_lines = lines_about(lines, BASELINE)
    assert len(baseline_lines) == 1, lines
    assert "restore it from Git" in baseline_lines[0]
    assert [found.split(": ", 2)[1] for found in lines_about(lines, "README.md")] == [
        f"a GitHub token (line {line})"
    ]


def test_allowlist_pragma_silences_its_line_only(repo: Path) -> None:
    """detect-secrets' inline allowlist comment, for the false alarms no baseline can record."""
    path = repo / "environments/prod/myapp/kustomization.yaml"
    append(path, f"# example: {github_token()}  # pragma: allowlist secret")
    reported = append(path, f"# example: {github_token()}")
    append(repo / "README.md", f"Example: {slack_webhook()}  <!-- pragma: allowlist secret -->")
    lines = scan(repo)
    found = lines_about(lines, "environments/prod/myapp/kustomization.yaml")
    assert len(found) == 1 and f"a GitHub token (line {reported})" in found[0]
    assert lines_about(lines, "README.md") == []


# ---------------------------------------------------------------------------
# Files that are not UTF-8 text
# ---------------------------------------------------------------------------


def test_binary_and_non_utf8_files_do_not_crash(repo: Path) -> None:
    """A binary file is skipped; a Latin-1 text file (which detect-secrets itself skips) is
    scanned, and its line says why auditing needs UTF-8."""
    token = github_token()
    (repo / "environments/dev/myapp/legacy.conf").write_bytes(
        "# Paramètres hérités\n".encode("latin-1") + f"token = {token}\n".encode()
    )
    (repo / "applications/base/myapp/image.png").write_bytes(b"\x89PNG\r\n\x1a\n" + secrets.token_bytes(4096))
    (repo / "applications/base/myapp/blob.bin").write_bytes(secrets.token_bytes(100_000))
    (repo / "environments/dev/myapp/utf16.txt").write_text(f"token {github_token()}\n", encoding="utf-16")
    (repo / "environments/dev/myapp/empty.yaml").write_bytes(b"")
    lines = scan(repo)
    found = lines_about(lines, "environments/dev/myapp/legacy.conf")
    assert len(found) == 1 and found[0].startswith(
        f"environments/dev/myapp/legacy.conf: a GitHub token (line 2): {FINDING_MARK}"
    )
    assert "convert the file to UTF-8" in found[0] and token not in "\n".join(lines)
    assert {line.split(": ", 1)[0] for line in lines} == {"environments/dev/myapp/legacy.conf"}


def test_yaml_detect_secrets_cannot_parse_is_one_line(repo: Path) -> None:
    """detect-secrets itself fails with RecursionError on YAML nested this deep: one line, the
    other files are still scanned."""
    (repo / "environments/dev/myapp/deep.yaml").write_text("a: " + "[" * 5000 + "]" * 5000 + "\n")
    line = append(repo / "README.md", f"Leaked: {github_token()}")
    lines = scan(repo)
    deep = lines_about(lines, "environments/dev/myapp/deep.yaml")
    assert len(deep) == 1 and "could not be scanned for secrets (RecursionError" in deep[0]
    assert [found.split(": ", 2)[1] for found in lines_about(lines, "README.md")] == [
        f"a GitHub token (line {line})"
    ]


# ---------------------------------------------------------------------------
# detect-secrets missing
# ---------------------------------------------------------------------------


def test_missing_detect_secrets_is_named_with_the_install_command(repo: Path, tmp_path: Path) -> None:
    """tools/gitops imports detect-secrets only to scan: other commands and the import of
    validate work without it, and validate names the package and how to install it."""
    blocker = tmp_path / "blocker"
    blocker.mkdir()
    (blocker / "detect_secrets.py").write_text(
        'raise ModuleNotFoundError("No module named \'detect_secrets\'", name="detect_secrets")\n'
    )
    env = {**os.environ, "PYTHONPATH": str(blocker)}
    imported = subprocess.run(
        [sys.executable, "-c", "import gitopslib.validate, gitopslib.secret_checks"],
        cwd=repo / "tools",
        env=env,
        capture_output=True,
        text=True,
    )
    assert imported.returncode == 0, imported.stderr
    assert run_gitops(repo, "status", env=env).returncode == 0
    result = run_gitops(repo, "validate", env=env)
    assert result.returncode == 2
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("missing Python package detect_secrets: "), last
    assert last.endswith("pip install -r tools/requirements.txt"), last
    assert_no_traceback(result)
