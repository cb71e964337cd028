"""extensions/config_read_once.py: a copier.yml is parsed once per process, and every caller
gets what Copier's own function returns for those bytes."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import pytest
from copier import _template

from extensions import config_read_once
from tests.conftest import TEMPLATE_ROOT, count_calls_to_the_original, render

COPIER_YML = TEMPLATE_ROOT / "copier.yml"


def copiers_own() -> Any:
    return inspect.unwrap(getattr(_template, config_read_once.FUNCTION))


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The wrapper installed over a counting copy of Copier's own function: the paths it parsed."""
    parsed: list[Path] = []
    count_calls_to_the_original(
        monkeypatch,
        _template,
        config_read_once.FUNCTION,
        lambda conf_path, quiet=False: parsed.append(conf_path),
    )
    assert config_read_once.install()
    return parsed


def test_copier_internals_are_the_ones_the_wrapper_was_written_for() -> None:
    """Fails when a Copier release changes what the extension relies on: check the extension
    against the new release, then add its series to SUPPORTED_COPIER."""
    assert config_read_once.copier_series() in config_read_once.SUPPORTED_COPIER, (
        "a Copier series the wrapper was not checked against: it is off, so renders are slower"
    )
    own = copiers_own()
    assert list(inspect.signature(own).parameters) == ["conf_path", "quiet"]
    source = inspect.getsource(own)
    # Pure: the file's bytes through PyYAML's safe loader, `!include` the one way to read more.
    assert "class _Loader(yaml.SafeLoader)" in source
    assert source.count("add_constructor") == 1 and '"!include"' in source
    assert "with conf_path.open(" in source
    assert "load_template_config(conf_paths[0])" in inspect.getsource(_template.Template._raw_config.func)


def test_off_under_an_unchecked_copier() -> None:
    assert config_read_once.install(series=(99, 0)) is False
    assert config_read_once.install() is True
    assert getattr(getattr(_template, config_read_once.FUNCTION), config_read_once.WRAPPED_MARK)


def test_one_parse_per_content_and_copiers_result_every_time(counted: list[Path], tmp_path: Path) -> None:
    load = getattr(_template, config_read_once.FUNCTION)
    expected = copiers_own()(COPIER_YML)
    first = load(COPIER_YML)
    first["app_name"]["default"] = "changed by a caller"
    first["_jinja_extensions"].append("changed too")
    elsewhere = tmp_path / "copier.yml"
    elsewhere.write_bytes(COPIER_YML.read_bytes())
    assert load(COPIER_YML) == load(elsewhere) == expected
    assert counted == [COPIER_YML]
    elsewhere.write_text(COPIER_YML.read_text() + "\nadded:\n  type: str\n")
    assert load(elsewhere)["added"] == {"type": "str"}
    assert counted == [COPIER_YML, elsewhere]


def test_a_config_with_includes_is_parsed_every_time(counted: list[Path], tmp_path: Path) -> None:
    (tmp_path / "copier.yml").write_text("!include questions.yml\n")
    (tmp_path / "questions.yml").write_text("name:\n  type: str\n")
    load = getattr(_template, config_read_once.FUNCTION)
    assert load(tmp_path / "copier.yml") == {"name": {"type": "str"}}
    (tmp_path / "questions.yml").write_text("name:\n  type: int\n")
    assert load(tmp_path / "copier.yml") == {"name": {"type": "int"}}
    assert len(counted) == 2


def test_a_broken_config_fails_each_time(counted: list[Path], tmp_path: Path) -> None:
    (tmp_path / "copier.yml").write_text("name: [unclosed\n")
    load = getattr(_template, config_read_once.FUNCTION)
    for _ in range(2):
        with pytest.raises(Exception, match=r"copier\.yml"):
            load(tmp_path / "copier.yml")
    assert len(counted) == 2


def test_renders_after_the_first_parse_nothing(counted: list[Path], tmp_path: Path) -> None:
    """Three in-process copies of this template: one parse of its copier.yml (the snapshot's)."""
    for number in range(3):
        render(tmp_path / f"repo-{number}", {"app_name": f"app{number}"})
    assert len(counted) == 1
    assert (tmp_path / "repo-2/applications/base/app2/deployment.yaml").is_file()
