"""A newcomer's interactive copy, driven through a real terminal: few questions, each fits the screen.

pexpect gives Copier a pseudo-terminal 100 columns wide (the width the issue measured) and takes
every default with Enter. The questions shown are read off the terminal output by their help
texts (Copier shows the help, not the variable name), with the escape sequences stripped.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pexpect
import pytest
import yaml

from tests.conftest import TEMPLATE_ROOT

MAX_DEFAULT_PROMPTS = 12  # permanent: later questions go behind `advanced` or a non-default answer
COLUMNS = 100
QMARK = "🎤"  # Copier's prompt mark, printed once as it asks and once with the answer
ESCAPES = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]|\x1b[=>]|\r")

QUESTIONS = {
    name: spec
    for name, spec in yaml.safe_load((TEMPLATE_ROOT / "copier.yml").read_text()).items()
    if not name.startswith("_") and isinstance(spec, dict)
}


def help_lines(name: str) -> list[str]:
    return str(QUESTIONS[name].get("help", "")).strip().splitlines()


def interactive_copy(destination: Path, first_key: str) -> str:
    """Run `copier copy` in a terminal: `first_key` answers the first question, Enter the rest."""
    env = {**os.environ, "TERM": "xterm", "COLUMNS": str(COLUMNS), "LINES": "40"}
    child = pexpect.spawn(
        sys.executable,
        ["-m", "copier", "copy", "--trust", "--vcs-ref", "HEAD", str(TEMPLATE_ROOT), str(destination)],
        env=env,
        dimensions=(40, COLUMNS),
        encoding="utf-8",
        timeout=60,
    )
    transcript: list[str] = []
    keys = [first_key]
    while child.expect([QMARK, pexpect.EOF]) == 0:
        transcript.append(child.before + child.after)
        assert len(transcript) <= 4 * len(QUESTIONS), "prompts keep coming: the answers are not taken"
        # Let the prompt finish drawing before answering it.
        child.expect([r"\n", pexpect.TIMEOUT], timeout=5)
        transcript.append(child.before + (child.after if isinstance(child.after, str) else ""))
        child.send(keys.pop() if keys else "\r")
    transcript.append(child.before)
    child.close()
    plain = ESCAPES.sub("", "".join(transcript))
    assert child.exitstatus == 0, plain[-2000:]
    return plain


def shown_questions(plain: str) -> list[str]:
    return [name for name in QUESTIONS if help_lines(name)[0] in plain]


def test_every_question_has_a_help_text_that_fits_the_terminal() -> None:
    for name in QUESTIONS:
        lines = help_lines(name)
        assert lines, f"{name}: no help text (Copier would show only the variable name)"
        for number, line in enumerate(lines):
            # The first line follows the prompt mark: an emoji two columns wide and a space.
            width = len(line) + (3 if number == 0 else 0)
            assert width <= COLUMNS, f"{name}: help line {number + 1} is {width} columns wide"


@pytest.mark.parametrize("advanced", [False, True], ids=["default", "advanced"])
def test_interactive_copy_asks_the_advanced_questions_only_when_asked_to(
    tmp_path: Path, advanced: bool
) -> None:
    destination = tmp_path / "repo"
    plain = interactive_copy(destination, "y" if advanced else "\r")
    shown = shown_questions(plain)
    answers = yaml.safe_load((destination / ".copier-answers.myapp.yml").read_text())
    # Every answer is stored, asked or not: the next update keeps each of them. Only a chart's
    # questions (`when:` workload helm-chart) are left out of an app that deploys manifests.
    charts = {name for name, spec in QUESTIONS.items() if "when" in spec}
    assert charts == {"chart_repo", "chart_name", "chart_version"}
    assert set(QUESTIONS) - charts <= set(answers) and not charts & set(answers)
    assert answers["advanced"] is advanced
    gated = [name for name in QUESTIONS if "advanced" in str(QUESTIONS[name].get("ask", ""))]
    if advanced:
        assert set(gated) - {"cosign_public_key"} <= set(shown)
        assert len(shown) > MAX_DEFAULT_PROMPTS
    else:
        assert shown[0] == "advanced"
        assert len(shown) <= MAX_DEFAULT_PROMPTS, shown
        assert not set(gated) & set(shown)


def test_the_readme_marks_exactly_the_gated_questions_advanced() -> None:
    readme = (TEMPLATE_ROOT / "README.md").read_text()
    rows = re.findall(r"^\| `([a-z_]+)`.*\|$", readme, flags=re.MULTILINE)
    marked = re.findall(r"^\| `([a-z_]+)`.*\*Advanced\.\* \|$", readme, flags=re.MULTILINE)
    gated = [name for name in QUESTIONS if "advanced" in str(QUESTIONS[name].get("ask", ""))]
    # Paired questions share a row: `ingress_class` / `gateway`, `secret_keys` / `secret_store`.
    assert set(QUESTIONS) - {"gateway", "secret_store"} == set(rows)
    assert sorted(marked) == sorted(gated)
