"""gitopslib/update_leftovers.py: an update's conflict markers and its unfinished-update marker."""

from __future__ import annotations

from pathlib import Path

import pytest
from gitopslib.update_leftovers import MARKER, conflict_marker_line, unfinished_update_reason
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.unit.properties import PROPERTY

# As `git merge-file` (Copier's update) writes a conflict.
OPENING, MIDDLE, CLOSING = b"<<<<<<< before updating", b"=======", b">>>>>>> after updating"


def write(tmp_path: Path, lines: list[bytes], newline: bytes = b"\n") -> Path:
    file = tmp_path / "kustomization.yaml"
    file.write_bytes(newline.join(lines) + newline)
    return file


@pytest.mark.parametrize("newline", [b"\n", b"\r\n"])
def test_conflict_gives_the_line_of_its_opening_marker(tmp_path: Path, newline: bytes) -> None:
    lines = [b"images:", OPENING, b"  newTag: 1.2.0", MIDDLE, b"  newTag: 1.3.0", CLOSING, b"replicas: []"]
    assert conflict_marker_line(write(tmp_path, lines, newline)) == 2


def test_first_of_several_conflicts(tmp_path: Path) -> None:
    lines = [b"a", OPENING, MIDDLE, CLOSING, b"b", OPENING, MIDDLE, CLOSING]
    assert conflict_marker_line(write(tmp_path, lines)) == 2


@pytest.mark.parametrize(
    "lines",
    [
        [b"a: 1", b"b: 2"],
        [OPENING, b"no closing marker"],
        [CLOSING, b"a closing marker before the opening one", OPENING],
        [b"  <<<<<<< indented, in a block scalar", b"  >>>>>>> indented"],
        [b"<<<<<<<< eight", b">>>>>>>> eight"],
        [b"<<<<<<<no space", b">>>>>>>no space"],
        [b"text <<<<<<< mid-line", b"text >>>>>>> mid-line"],
    ],
)
def test_no_conflict(tmp_path: Path, lines: list[bytes]) -> None:
    assert conflict_marker_line(write(tmp_path, lines)) is None


def test_binary_and_missing_files(tmp_path: Path) -> None:
    binary = tmp_path / "image.png"
    binary.write_bytes(b"\x89PNG\0\xff" + OPENING + b"\n" + CLOSING + b"\n")
    assert conflict_marker_line(binary) is None  # markers must start a line
    assert conflict_marker_line(tmp_path / "missing.yaml") is None
    assert conflict_marker_line(tmp_path) is None  # a directory: not a file it can read


# Lines that cannot start with a marker.
PLAIN_LINE = st.binary(max_size=30).map(lambda b: b"x" + b.replace(b"\n", b" ").replace(b"\r", b" "))


@settings(PROPERTY, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    before=st.lists(PLAIN_LINE, max_size=8),
    between=st.lists(PLAIN_LINE, max_size=8),
    after=st.lists(PLAIN_LINE, max_size=8),
    opening_label=st.binary(max_size=20).map(lambda b: b.replace(b"\n", b"").replace(b"\r", b"")),
    newline=st.sampled_from([b"\n", b"\r\n"]),
)
def test_a_conflict_anywhere_is_found_at_its_opening_line(
    tmp_path: Path,
    before: list[bytes],
    between: list[bytes],
    after: list[bytes],
    opening_label: bytes,
    newline: bytes,
) -> None:
    lines = [*before, b"<<<<<<< " + opening_label, *between, CLOSING, *after]
    assert conflict_marker_line(write(tmp_path, lines, newline)) == len(before) + 1


def test_no_marker_no_reason(tmp_path: Path) -> None:
    assert unfinished_update_reason(tmp_path) is None


def test_unfinished_update_names_what_and_how_to_recover(tmp_path: Path) -> None:
    (tmp_path / MARKER).write_text(
        "copier update of .copier-answers.shop.yml\n  from v1.0.0 to v1.1.0 did not finish\n"
    )
    reason = unfinished_update_reason(tmp_path)
    assert reason is not None
    what, _, how = reason.partition(": ")
    assert what == "copier update of .copier-answers.shop.yml from v1.0.0 to v1.1.0 did not finish"
    assert "without your changes merged back" in how
    assert "git reset --hard && git clean -fd" in how


@pytest.mark.parametrize("content", [b"", b"  \n", b"\xff\xfe"])
def test_unfinished_update_with_an_empty_or_unreadable_marker(tmp_path: Path, content: bytes) -> None:
    (tmp_path / MARKER).write_bytes(content)
    reason = unfinished_update_reason(tmp_path)
    assert reason is not None
    if content.strip():
        assert reason.startswith("\ufffd\ufffd: ")  # undecodable bytes replaced, not a traceback
    else:
        assert reason.startswith("a copier update did not finish: ")


def test_a_marker_directory_is_no_marker(tmp_path: Path) -> None:
    (tmp_path / MARKER).mkdir()
    assert unfinished_update_reason(tmp_path) is None
