"""Meta-tests: the test answers are real questions, and the matrix covers every question."""

from __future__ import annotations

import re
from typing import Any

import yaml

from tests.answer_sets import ANSWER_SETS
from tests.conftest import LONGEST_FIRST, TEMPLATE_ROOT
from tests.test_bad_answers import BAD_ANSWERS, EXCLUSIVE_ANSWERS


def questions() -> dict[str, Any]:
    config = yaml.safe_load((TEMPLATE_ROOT / "copier.yml").read_text())
    return {key: value for key, value in config.items() if not key.startswith("_")}


def test_every_answer_key_is_a_question() -> None:
    """Copier silently ignores unknown keys: a typo would test the defaults instead."""
    known = set(questions())
    for name, answers in ANSWER_SETS.items():
        assert set(answers) <= known, f"{name}: {set(answers) - known}"
    assert {question for question, _, _ in BAD_ANSWERS} <= known
    assert set().union(*(answers for answers, _ in EXCLUSIVE_ANSWERS)) <= known


def test_matrix_covers_every_question() -> None:
    given = set().union(*(answers.keys() for answers in ANSWER_SETS.values()))
    assert given == set(questions())


def test_every_choice_is_rendered() -> None:
    for name, spec in questions().items():
        if choices := spec.get("choices"):
            # A computed default (a Jinja expression) counts only through the sets that name a value.
            default = spec.get("default")
            given = [answers.get(name, default) for answers in ANSWER_SETS.values()]
            used = {value for value in given if "{{" not in str(value)}
            assert used == set(choices.values()), name


def test_every_question_has_type_help_and_default() -> None:
    for name, spec in questions().items():
        assert spec.get("type"), name
        assert spec.get("help"), name
        assert "default" in spec, name


EXPRESSION = re.compile(r"\{\{(.*?)\}\}")
# Filters whose output is YAML of its own: JSON (a subset of YAML) or a block that the
# template indents under a `|` scalar.
SAFE_EMITTERS = re.compile(r"\|\s*(tojson|to_nice_yaml|indent\(\d+\))\s*-?$")


def test_every_value_in_a_yaml_template_is_emitted_as_json() -> None:
    """A bare answer changes type in YAML (`no`, `123`, `1e3`, `null`): every value goes through tojson.

    Comments are free text and stay readable; everything else that a YAML parser reads must
    come out of a filter that writes YAML on purpose.
    """
    bare = []
    for path in sorted((TEMPLATE_ROOT / "template").rglob("*.jinja")):
        if ".yaml" not in path.name and ".yml" not in path.name:
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if line.lstrip().startswith("#"):
                continue
            for expression in EXPRESSION.findall(line):
                if not SAFE_EMITTERS.search(expression):
                    bare.append(f"{path.relative_to(TEMPLATE_ROOT)}:{number}: {{{{{expression}}}}}")
    assert not bare, "\n".join(bare)


def test_the_longest_first_order_names_existing_test_files() -> None:
    missing = [name for name in LONGEST_FIRST if not (TEMPLATE_ROOT / "tests" / name).is_file()]
    assert not missing, f"tests/conftest.py LONGEST_FIRST names files that do not exist: {missing}"
