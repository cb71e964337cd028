"""gitopslib/secret_checks.py, its parts that need no repository: the baseline's audit decisions,
the comments of a YAML file, and the words of a finding. Made-up secrets only, built when the
test runs (this file holds none)."""

from __future__ import annotations

import json
import secrets
import string
from collections.abc import Iterator
from pathlib import Path

import pytest
from gitopslib.secret_checks import (
    BASELINE,
    DETECTORS,
    FALSE_ALARM,
    FILTERS,
    Finding,
    Scanner,
    finding_reason,
    read_baseline,
    well_formed,
    yaml_comments,
)


def test_yaml_comments_keep_line_numbers() -> None:
    text = "# top\nkey: value # after a value\nurl: 'x#y'\nnone: here\n  # indented\n"
    assert yaml_comments(text) == "# top\n # after a value\n\n\n # indented\n"
    assert yaml_comments(text).count("\n") == text.count("\n")
    assert yaml_comments("") == ""


FINDING = Finding("environments/prod/shop/values.yaml", 7, "a GitHub token", "0" * 40)


def test_a_new_finding_says_what_where_and_how_to_accept_a_false_alarm() -> None:
    reason = finding_reason(FINDING, in_baseline=False, is_secret=None)
    assert reason.startswith("a GitHub token (line 7): a secret in Git is compromised: rotate it")
    assert reason.endswith(FALSE_ALARM)


def test_a_finding_in_the_baseline_not_audited_asks_for_the_audit() -> None:
    reason = finding_reason(FINDING, in_baseline=True, is_secret=None)
    assert reason.startswith(f"a GitHub token (line 7) is in {BASELINE} but not audited: ")
    assert reason.endswith(
        f"if it is a false alarm, run `detect-secrets audit {BASELINE}`, answering y (it may be committed)"
    )


def test_a_finding_audited_as_real_is_never_accepted() -> None:
    reason = finding_reason(FINDING, in_baseline=True, is_secret=True)
    assert reason.startswith(f"a GitHub token (line 7), audited as a real secret in {BASELINE}: ")
    assert "false alarm" not in reason


@pytest.fixture
def baseline(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path / BASELINE


def test_no_baseline_accepts_nothing(tmp_path: Path) -> None:
    found = read_baseline(tmp_path)
    assert (found.decisions, found.problems) == ({}, [])


def test_baseline_audit_decisions(baseline: Path) -> None:
    baseline.write_text(
        json.dumps(
            {
                "version": "1.5.0",
                "results": {
                    "a.yaml": [
                        {"hashed_secret": "h1", "is_secret": False, "line_number": 3},
                        {"hashed_secret": "h2", "is_secret": True},
                    ],
                    "b.yaml": [{"hashed_secret": "h3"}],
                },
            }
        )
    )
    found = read_baseline(baseline.parent)
    assert found.problems == []
    assert found.decisions == {("a.yaml", "h1"): False, ("a.yaml", "h2"): True, ("b.yaml", "h3"): None}


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("{not json", "cannot be read: "),
        (b"\xff\xfe", "cannot be read: "),
        ("[]", 'is not a detect-secrets baseline: no "results" mapping'),
        ('{"results": []}', 'is not a detect-secrets baseline: no "results" mapping'),
        (
            '{"results": {"a.yaml": {}}}',
            'is not a detect-secrets baseline: the results of "a.yaml" are not a list',
        ),
        (
            '{"results": {"a.yaml": [{"is_secret": false}]}}',
            'the results of "a.yaml" are not a list of findings',
        ),
        ('{"results": {"a.yaml": [{"hashed_secret": "h", "is_secret": "no"}]}}', 'the results of "a.yaml"'),
    ],
)
def test_a_baseline_that_cannot_be_read_is_one_problem_and_accepts_nothing(
    baseline: Path, content: str | bytes, reason: str
) -> None:
    if isinstance(content, bytes):
        baseline.write_bytes(content)
    else:
        baseline.write_text(content)
    found = read_baseline(baseline.parent)
    assert found.decisions == {}
    [problem] = found.problems
    assert problem.path == BASELINE
    assert reason in problem.reason
    assert problem.reason.endswith("(no finding is accepted until it can be read)")
    assert "\n" not in str(problem)


@pytest.mark.parametrize(
    ("entry", "ok"),
    [
        ({"hashed_secret": "h"}, True),
        ({"hashed_secret": "h", "is_secret": None}, True),
        ({"hashed_secret": "h", "is_secret": False}, True),
        ({"hashed_secret": "h", "is_secret": 0}, False),
        ({"hashed_secret": 1}, False),
        ({}, False),
        ("h", False),
    ],
)
def test_well_formed_baseline_entries(entry: object, ok: bool) -> None:
    assert well_formed(entry) is ok


def random_text(length: int, alphabet: str = string.ascii_letters + string.digits) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


@pytest.fixture(scope="module")
def scanner() -> Iterator[Scanner]:
    from detect_secrets.settings import transient_settings

    with transient_settings(
        {"plugins_used": [{"name": name} for name in DETECTORS], "filters_used": FILTERS}
    ):
        yield Scanner.configured()


def test_every_configured_detector_has_words(scanner: Scanner) -> None:
    assert sorted(type(plugin).__name__ for plugin in scanner.plugins) == sorted(DETECTORS)
    assert set(scanner.kinds.values()) == set(DETECTORS.values())


def test_may_match_a_token_anywhere_in_a_text(scanner: Scanner) -> None:
    token = "ghp_" + random_text(36)
    assert scanner.may_match(f"line one\ntoken: {token}\nline three")
    armour = "-----BEGIN " + "RSA PRIVATE" + " KEY-----"  # split: no scanner flags this file
    assert scanner.may_match(f"{armour}\n{random_text(64)}\n")


def test_may_match_nothing_in_an_ordinary_manifest(scanner: Scanner) -> None:
    manifest = (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: shop\n"
        f"spec:\n  template:\n    spec:\n      containers:\n        - image: nginx@sha256:{'ab' * 32}\n"
        "          env:\n            - name: DATABASE_PASSWORD\n"
        "              valueFrom: {secretKeyRef: {name: db, key: password}}\n"
    )
    assert not scanner.may_match(manifest)
