"""gitopslib/fast_yaml.py: loads as `yaml.safe_load` does, and a value PyYAML cannot construct is
a YAMLError naming its line, like any other unreadable input, never another exception."""

from __future__ import annotations

import pytest
import yaml
from gitopslib import fast_yaml

LOADERS = pytest.mark.parametrize(
    "loader", [fast_yaml.SafeLoader, fast_yaml.PureSafeLoader], ids=["libyaml", "pure-python"]
)


def test_libyaml_is_here_so_both_loaders_are_tested() -> None:
    assert fast_yaml.CSafeLoader is not None and fast_yaml.SafeLoader is fast_yaml.CSafeLoader


# Each of these makes yaml.safe_load itself raise something other than a YAMLError.
@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        ("a: 2024-02-30\n", 1, "cannot read the timestamp value '2024-02-30': day is out of range"),
        ("a: 1\nb: 2020-01-01 25:00:00\n", 2, "timestamp value '2020-01-01 25:00:00': hour must be"),
        ("a: !!timestamp 2020-13-01\n", 1, "month must be in 1..12"),
        ("a: !!timestamp abc\n", 1, "cannot read the timestamp value 'abc'"),
        ("a: !!int abc\n", 1, "cannot read the int value 'abc': invalid literal"),
        ("a: !!int 0x\n", 1, "cannot read the int value '0x'"),
        ("a: !!float x\n", 1, "cannot read the float value 'x': could not convert"),
        ("a: !!bool maybe\n", 1, "cannot read the bool value 'maybe'"),
        ("- {b: [1, !!int x]}\n", 1, "int value 'x'"),
    ],
)
@LOADERS
def test_a_value_that_cannot_be_constructed_is_a_yaml_error(
    loader: type[yaml.SafeLoader], text: str, line: int, reason: str
) -> None:
    with pytest.raises(Exception) as plain:
        yaml.safe_load(text)
    assert not isinstance(plain.value, yaml.YAMLError), "PyYAML now reports it itself"
    with pytest.raises(yaml.constructor.ConstructorError) as error:
        yaml.load(text, Loader=loader)
    assert reason in str(error.value.problem)
    assert error.value.problem_mark is not None and error.value.problem_mark.line + 1 == line


@LOADERS
def test_documents_load_as_safe_load_reads_them(loader: type[yaml.SafeLoader]) -> None:
    text = "a: 2024-02-29\nb: !!int '7'\nc: [yes, 0o17, 1e3, ~]\n---\n- !!binary aGk=\n"
    assert list(yaml.load_all(text, Loader=loader)) == list(yaml.safe_load_all(text))


@LOADERS
def test_python_tags_are_still_refused(loader: type[yaml.SafeLoader]) -> None:
    with pytest.raises(yaml.constructor.ConstructorError, match="could not determine a constructor"):
        yaml.load("!!python/object/apply:os.system ['true']\n", Loader=loader)


def test_module_functions_take_the_checking_loader() -> None:
    with pytest.raises(yaml.YAMLError):
        fast_yaml.load("a: !!bool maybe\n")
    with pytest.raises(yaml.YAMLError):
        list(fast_yaml.load_all("a: 1\n---\nb: 2024-02-30\n"))
