"""Private keys and tokens in any file of the repository, found with detect-secrets.

A credential pushed to Git is compromised: every clone, fork and CI log holds it, and deleting
the line keeps it in history. Kubernetes secrets belong in External Secrets or Sealed Secrets.
This check scans every file git tracks or would track (tracked, and untracked but not ignored).

Why detect-secrets (Yelp, maintained, pinned in requirements.txt) rather than our own regexes:
it knows many more token formats, keeps up with new ones, and brings a reviewed way to accept a
false alarm: its baseline file (.secrets.baseline, committed), where `detect-secrets audit`
records a finding as a false positive. validate honours that record (same file, same hashed
secret) and never the mere presence of a finding in the baseline: `detect-secrets scan
--baseline` records real keys as readily as false alarms, so only an audit decision, which a
reviewer sees in the diff, silences one.

detect-secrets reads a YAML file as its values, without its comments, and skips a file that is
not UTF-8; this check also scans those comments and a UTF-8 copy of such a file (their false
alarms are silenced with a `pragma: allowlist secret` comment, or by converting the file).

Only the detectors of credential formats run (DETECTORS). The high-entropy string detectors
would flag image digests (sha256:<hex>), SealedSecret ciphertext and commit SHAs, which these
repositories hold by design; the keyword detector flags the *names* of secrets (`secretKey:` of
an ExternalSecret, `secret_keys` in the answers files), not their values. Nothing is verified
over the network: a found secret is never sent anywhere.
"""

from __future__ import annotations

import codecs
import functools
import json
import locale
import multiprocessing
import re
import sys
import tempfile
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from .parallel import cores
from .problems import Problem
from .repo import Repo
from .secret_scan_cache import SCANNING_CACHE_CODE, CleanFiles, scan_fingerprint
from .update_leftovers import repository_files

BASELINE = ".secrets.baseline"
# The code that scans, as imported (a fix to it must not reuse what the old code found clean).
SCANNING_CODE = Path(__file__).read_bytes() + SCANNING_CACHE_CODE

# detect-secrets plugin class -> what it finds, as the problem line names it. Every plugin of
# detect-secrets 1.5.0 that matches the format of a credential; left out: Base64HighEntropyString
# and HexHighEntropyString (digests, ciphertext, SHAs), KeywordDetector (names, not values) and
# IPPublicDetector (an address is not a credential). .secrets.baseline lists the same plugins,
# so that `detect-secrets scan --baseline .secrets.baseline` finds what validate finds.
DETECTORS = {
    "AWSKeyDetector": "an AWS access key",
    "ArtifactoryDetector": "an Artifactory token or password",
    "AzureStorageKeyDetector": "an Azure Storage account key",
    "BasicAuthDetector": "a password in a URL (user:password@host)",
    "CloudantDetector": "Cloudant credentials",
    "DiscordBotTokenDetector": "a Discord bot token",
    "GitHubTokenDetector": "a GitHub token",
    "GitLabTokenDetector": "a GitLab token",
    "IbmCloudIamDetector": "an IBM Cloud IAM key",
    "IbmCosHmacDetector": "IBM Cloud Object Storage HMAC credentials",
    "JwtTokenDetector": "a JSON Web Token",
    "MailchimpDetector": "a Mailchimp API key",
    "NpmDetector": "an npm token",
    "OpenAIDetector": "an OpenAI API key",
    "PrivateKeyDetector": "a private key",
    "PypiTokenDetector": "a PyPI token",
    "SendGridDetector": "a SendGrid API key",
    "SlackDetector": "a Slack token or webhook URL",
    "SoftlayerDetector": "SoftLayer credentials",
    "SquareOAuthDetector": "a Square OAuth secret",
    "StripeDetector": "a Stripe live key",
    "TelegramBotTokenDetector": "a Telegram bot token",
    "TwilioKeyDetector": "a Twilio API key",
}

# detect-secrets' default filters (template placeholders, `pragma: allowlist secret` comments,
# lock files...), and the baseline file itself. Not the verification filter the command line adds
# unless --no-verify: it sends every finding to the issuer's API. Nor its swagger filter: it drops
# every finding of a file whose absolute path holds "swagger" (an app named swagger-ui, a clone
# in ~/swagger/), and no other filter reads more of the path than the file's name, which
# secret_scan_cache.py's keys rely on.
FILTERS = [
    {"path": "detect_secrets.filters.allowlist.is_line_allowlisted"},
    {"path": "detect_secrets.filters.common.is_baseline_file", "filename": BASELINE},
    {"path": "detect_secrets.filters.heuristic.is_indirect_reference"},
    {"path": "detect_secrets.filters.heuristic.is_likely_id_string"},
    {"path": "detect_secrets.filters.heuristic.is_lock_file"},
    {"path": "detect_secrets.filters.heuristic.is_not_alphanumeric_string"},
    {"path": "detect_secrets.filters.heuristic.is_potential_uuid"},
    {"path": "detect_secrets.filters.heuristic.is_prefixed_with_dollar_sign"},
    {"path": "detect_secrets.filters.heuristic.is_sequential_string"},
    {"path": "detect_secrets.filters.heuristic.is_templated_secret"},
]

# Git's rule: a NUL byte in the first 8000 bytes makes a file binary.
BINARY_SNIFF = 8000

REMEDY = (
    "a secret in Git is compromised: rotate it, remove it from the repository and deliver it "
    "through External Secrets or Sealed Secrets"
)
# `detect-secrets scan` reads only the files git tracks (hence `git add`), and without --no-verify
# it sends what it finds to the issuers' APIs and drops what they reject, which it then cannot
# audit. Its audit asks "Should this string be committed to the repository?": y is a false alarm.
AUDIT = f"`detect-secrets audit {BASELINE}`, answering y (it may be committed)"
FALSE_ALARM = (
    f"if it is a false alarm: `git add` the file, then at the repository root "
    f"`detect-secrets scan --baseline {BASELINE} --no-verify` and {AUDIT}"
)
# For a false alarm detect-secrets' own scan cannot find, hence cannot audit.
NOT_UTF8 = (
    "if it is a false alarm, convert the file to UTF-8 (detect-secrets skips other encodings), then "
    f"audit it into {BASELINE}"
)
IN_COMMENT = (
    "if it is a false alarm, end its line with `# pragma: allowlist secret` (it is in a YAML comment, "
    f"which detect-secrets does not read, so it cannot be audited into {BASELINE})"
)
YAML_SUFFIXES = (".yaml", ".yml", ".eyaml")  # the files detect-secrets reads as YAML values
# A YAML comment starts at a # that begins a line or follows a space (detect-secrets' own rule).
YAML_COMMENT = re.compile(r"(?:^|\s)#.*")


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    what: str
    hashed_secret: str
    false_alarm: str = FALSE_ALARM  # what to do if it is one


@dataclass
class Baseline:
    """Audit decisions of .secrets.baseline: (path, hashed secret) -> is_secret (None: not audited)."""

    decisions: dict[tuple[str, str], bool | None]
    problems: list[Problem]


def secret_problems(repo: Repo) -> list[Problem]:
    """One problem per finding (file, line, kind) that the baseline does not record as an audited
    false alarm, per file that could not be scanned, and for a baseline that cannot be read."""
    baseline = read_baseline(repo.root)
    problems = list(baseline.problems)
    findings, unreadable = scan_repository(repo.root)
    problems += unreadable
    for finding in findings:
        key = (finding.path, finding.hashed_secret)
        in_baseline, is_secret = key in baseline.decisions, baseline.decisions.get(key)
        if in_baseline and is_secret is False:
            continue  # audited as a false alarm
        problems.append(Problem(finding.path, finding_reason(finding, in_baseline, is_secret)))
    return problems


def finding_reason(finding: Finding, in_baseline: bool, is_secret: bool | None) -> str:
    """What was found and where, and what to do; never the secret itself."""
    found = f"{finding.what} (line {finding.line})"
    if is_secret:
        return f"{found}, audited as a real secret in {BASELINE}: {REMEDY}"
    if in_baseline:
        return f"{found} is in {BASELINE} but not audited: {REMEDY}; if it is a false alarm, run {AUDIT}"
    return f"{found}: {REMEDY}; {finding.false_alarm}"


def read_baseline(root: Path) -> Baseline:
    """The audit decisions of the committed baseline. A baseline that cannot be read is one
    problem and silences nothing: every finding is then reported."""
    path = root / BASELINE
    if not path.is_file():
        return Baseline({}, [])
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as error:
        return broken_baseline(f"cannot be read: {' '.join(str(error).split())}")
    results = data.get("results") if isinstance(data, dict) else None
    if not isinstance(results, dict):
        return broken_baseline('is not a detect-secrets baseline: no "results" mapping')
    decisions: dict[tuple[str, str], bool | None] = {}
    for filename, entries in results.items():
        if not isinstance(entries, list) or not all(well_formed(entry) for entry in entries):
            return broken_baseline(
                f'is not a detect-secrets baseline: the results of "{filename}" are not a list of '
                "findings with a hashed_secret"
            )
        for entry in entries:
            decisions[(filename, entry["hashed_secret"])] = entry.get("is_secret")
    return Baseline(decisions, [])


def well_formed(entry: object) -> bool:
    return (
        isinstance(entry, dict)
        and isinstance(entry.get("hashed_secret"), str)
        and (entry.get("is_secret") is None or isinstance(entry.get("is_secret"), bool))
    )


def broken_baseline(reason: str) -> Baseline:
    return Baseline(
        {},
        [
            Problem(
                BASELINE,
                f"{reason}; fix it or restore it from Git (no finding is accepted until it can be read)",
            )
        ],
    )


def scan_repository(root: Path) -> tuple[list[Finding], list[Problem]]:
    """Every finding in the files git tracks or would track, and the files not scanned.

    A file a previous scan found clean, unchanged since, is not scanned again
    (secret_scan_cache.py); when no file needs a scan, detect-secrets is not even imported.
    It is imported here, not at module level: tools/gitops starts fast for the commands that do
    not scan. When it is missing, the ModuleNotFoundError reaches cli.main, which names the
    package and how to install it.
    """
    not_scanned: list[Problem] = []
    clean = CleanFiles(root, fingerprint())
    to_scan: list[ToScan] = []
    for relative in files_to_scan(root):
        try:
            before = file_identity(root / relative)
            data = (root / relative).read_bytes()
        except OSError as error:
            not_scanned.append(unreadable(relative, error))
            continue
        key = clean.key(relative, data)
        if not clean.is_clean(key):
            to_scan.append(ToScan(relative, data, key, before))
    findings = scan_files(root, to_scan, clean, not_scanned) if to_scan else []
    clean.save()
    return findings, not_scanned


def unreadable(relative: str, error: OSError) -> Problem:
    return Problem(relative, f"cannot be read ({error.strerror}): not scanned for secrets")


@dataclass(frozen=True)
class ToScan:
    relative: str
    data: bytes
    key: str  # in the secret scan cache
    identity: tuple[int, ...]  # file_identity when `data` was read


def file_identity(path: Path) -> tuple[int, ...]:
    """Changes whenever the file is written (ctime), even back to the same size and mtime."""
    stat = path.stat()
    return (stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)


@functools.cache
def fingerprint() -> bytes:
    """All a file's findings depend on besides its path and bytes: this scanning code (as
    imported), detect-secrets', PyYAML's (its YAML transformer) and Python's versions, and the
    encoding detect-secrets reads files in."""
    return scan_fingerprint(
        SCANNING_CODE,
        package_version("detect-secrets"),
        package_version("PyYAML"),
        sys.version,
        locale.getpreferredencoding(False),
    )


def package_version(name: str) -> str:
    """From the package's metadata: importing detect-secrets takes longer than a scan of files
    already known clean. Not installed: the import of detect-secrets that follows names it."""
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def locale_problem(relative: str, data: bytes) -> Problem | None:
    """detect-secrets reads a file in the locale's encoding and skips, silently, one it cannot
    decode: a UTF-8 file with any non-ASCII byte under a Latin-1 or cp1252 locale. Not scanned,
    so reported (Python's UTF-8 mode, on by default under the C locale, avoids it)."""
    encoding = locale.getpreferredencoding(False)
    if data.isascii() or codecs.lookup(encoding).name == "utf-8" or b"\0" in data[:BINARY_SNIFF]:
        return None
    return Problem(
        relative,
        f"not scanned for secrets: detect-secrets reads files as {encoding}, not UTF-8 "
        "(run with PYTHONUTF8=1 or a UTF-8 locale)",
    )


# Files a scan shares out to one process per core once there are this many (a cold scan, as in
# every CI checkout, costs about 8 ms a file on one core: 4,000 files of 200 apps took half a
# minute); fewer are scanned here, where a process start would cost more than it saves.
SHARED_SCAN_FILES = 200


def scan_files(
    root: Path, to_scan: list[ToScan], clean: CleanFiles, not_scanned: list[Problem]
) -> list[Finding]:
    """The findings of the files in `to_scan`; those with none are marked clean."""
    shares = _shares(to_scan)
    if len(shares) > 1:
        # fork: the child has every module imported already; nothing else runs in this process now.
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=len(shares), mp_context=context) as pool:
            results = list(pool.map(_scan_share, [root] * len(shares), shares))
    else:
        results = [_scan_share(root, to_scan)]
    findings: list[Finding] = []
    for found, clean_keys, unscanned in results:
        findings += found
        not_scanned += unscanned
        for key in clean_keys:
            clean.mark_clean(key)
    return findings


def _shares(to_scan: list[ToScan]) -> list[list[ToScan]]:
    """One share per core, files dealt out in turn; a single share when few or no fork."""
    count = min(cores(), len(to_scan) // (SHARED_SCAN_FILES // 2))
    if len(to_scan) < SHARED_SCAN_FILES or count < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return [to_scan]
    return [to_scan[index::count] for index in range(count)]


def _scan_share(root: Path, to_scan: list[ToScan]) -> tuple[list[Finding], list[str], list[Problem]]:
    """The findings of `to_scan`, the keys of the files found clean, and the files not scanned."""
    from detect_secrets.settings import transient_settings

    findings: list[Finding] = []
    clean_keys: list[str] = []
    not_scanned: list[Problem] = []
    with transient_settings(
        {"plugins_used": [{"name": name} for name in DETECTORS], "filters_used": FILTERS}
    ):
        scanner = Scanner.configured()
        for file in to_scan:
            if problem := locale_problem(file.relative, file.data):
                not_scanned.append(problem)
                continue
            try:
                found = scanner.file_findings(root, file.relative, file.data)
                findings += found
                # detect-secrets read the file again: known clean only if it was not written since.
                if not found and file_identity(root / file.relative) == file.identity:
                    clean_keys.append(file.key)
            except OSError as error:
                not_scanned.append(unreadable(file.relative, error))
            except Exception as error:  # detect-secrets on a file it cannot parse, e.g. YAML nested too deep
                reason = f"{type(error).__name__}: {' '.join(str(error).split())}"
                not_scanned.append(Problem(file.relative, f"could not be scanned for secrets ({reason})"))
    return findings, clean_keys, not_scanned


def files_to_scan(root: Path) -> Iterator[str]:
    for relative in repository_files(root):
        path = root / relative
        # git stores a symlink's target path, not the target's content; a tracked file deleted
        # from the work tree is listed too.
        if relative != BASELINE and not path.is_symlink() and path.is_file():
            yield relative


@dataclass
class Scanner:
    """detect-secrets' plugins as transient_settings configured them, and what each finds."""

    plugins: list[Any]
    kinds: dict[str, str]  # secret type of a plugin -> how the problem line names it

    @classmethod
    def configured(cls) -> Scanner:
        from detect_secrets.settings import get_plugins

        plugins = get_plugins()
        return cls(plugins, {plugin.secret_type: DETECTORS[type(plugin).__name__] for plugin in plugins})

    def file_findings(self, root: Path, relative: str, data: bytes) -> list[Finding]:
        """The findings of one file (`data`: its bytes), and what detect-secrets would not see in
        it: a file that is not UTF-8 (unless binary: a NUL byte, git's rule) is scanned as a UTF-8
        copy with the undecodable bytes replaced; the comments of a YAML file are scanned on their own."""
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            if b"\0" in data[:BINARY_SNIFF]:
                return []
            return self.detect_in_copy(relative, data.decode("utf-8", errors="replace"), NOT_UTF8)
        findings = self.detect(root, relative)
        if relative.endswith(YAML_SUFFIXES) and self.may_match(comments := yaml_comments(text)):
            seen = {(finding.line, finding.hashed_secret) for finding in findings}
            in_comments = self.detect_in_copy(relative, comments, IN_COMMENT)
            findings += [found for found in in_comments if (found.line, found.hashed_secret) not in seen]
        return findings

    def detect_in_copy(self, relative: str, text: str, false_alarm: str) -> list[Finding]:
        """`text` scanned as the file at `relative` (the path-based filters see the same name)."""
        with tempfile.TemporaryDirectory() as scratch:
            copy = Path(scratch) / relative
            copy.parent.mkdir(parents=True, exist_ok=True)
            copy.write_text(text, encoding="utf-8")
            return self.detect(Path(scratch), relative, false_alarm)

    def detect(self, root: Path, relative: str, false_alarm: str = FALSE_ALARM) -> list[Finding]:
        from detect_secrets.core.secrets_collection import SecretsCollection

        if not any(self.may_match(text) for text in scanned_texts(root / relative)):
            return []
        collection = SecretsCollection(root=str(root))
        collection.scan_file(relative)
        return [
            Finding(
                relative,
                secret.line_number,
                self.kinds.get(secret.type, secret.type),
                secret.secret_hash,
                false_alarm,
            )
            for _, secret in collection
        ]

    def may_match(self, text: str) -> bool:
        """False when no detector matches anywhere in `text`: then detect-secrets' line by line
        scan of it, which costs milliseconds per file (every plugin and filter is called for
        every line), cannot find anything either; validate is about four times faster for it.
        Sound because no detector used matches across lines: a match in a line is one in the text.
        """
        return any(next(iter(plugin.analyze_string(text)), None) is not None for plugin in self.plugins)


def yaml_comments(text: str) -> str:
    """The comments of a YAML file, each on its own line, the other lines blank."""
    return "".join(
        (match.group(0) if (match := YAML_COMMENT.search(line)) else "") + "\n" for line in text.splitlines()
    )


def scanned_texts(path: Path) -> Iterator[str]:
    """The texts detect-secrets scans in a file (as scan_file reads it, detect-secrets 1.5.0): the
    file as a transformer rewrites it (YAML values quoted and unfolded, INI-like `key = value`
    lines quoted), else as it is; then as an eager transformer rewrites it, if any applies. The
    rewriting can reveal what the raw text does not: an AWS secret key is only matched quoted."""
    from detect_secrets.transformers import get_transformed_file

    with path.open(encoding="utf-8") as file:
        transformed = get_transformed_file(file)  # type: ignore[arg-type]
        yield "\n".join(transformed) if transformed else file.read()
        if eager := get_transformed_file(file, use_eager_transformers=True):  # type: ignore[arg-type]
            yield "\n".join(eager)
