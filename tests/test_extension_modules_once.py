"""extensions/extension_modules_once.py: each extension file runs once per process and state of
what it may read, and a template changed or moved gets its own modules."""

from __future__ import annotations

import inspect
import re
import shutil
import sys
from pathlib import Path
from typing import Any

import copier
import pytest
import yaml
from copier_template_extensions import TemplateExtensionLoader

from extensions import extension_modules_once
from tests.conftest import count_calls_to_the_original, template_snapshot

EXTENSION_MODULE = "copier_template_extensions.answer_checks"


def loaders_own() -> Any:
    return inspect.unwrap(getattr(TemplateExtensionLoader, extension_modules_once.METHOD))


@pytest.fixture
def executed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """A fresh wrapper over a counting copy of the loader's own method: the files it executed."""
    files: list[str] = []
    count_calls_to_the_original(
        monkeypatch,
        TemplateExtensionLoader,
        extension_modules_once.METHOD,
        lambda loader, relative_path: files.append(str(relative_path)),
    )
    assert extension_modules_once.install()
    return files


def template_copy(destination: Path) -> Path:
    shutil.copytree(template_snapshot(), destination, symlinks=True)
    return destination


def copy_from(template: Path, destination: Path) -> None:
    copier.run_copy(str(template), destination, defaults=True, unsafe=True, quiet=True)
    assert (destination / "gitops.yaml").is_file()


def test_the_loaders_internals_are_the_ones_the_wrapper_was_written_for() -> None:
    """Fails when a copier-template-extensions release changes what the wrapper relies on: check
    the wrapper against the new release, then add its series to SUPPORTED_SERIES."""
    assert extension_modules_once.package_series() in extension_modules_once.SUPPORTED_SERIES, (
        "a copier-template-extensions series the wrapper was not checked against: it is off"
    )
    own = loaders_own()
    assert list(inspect.signature(own).parameters) == ["self", "relative_path"]
    source = inspect.getsource(own)
    # Resolved against the Jinja loader's search path, executed anew, registered under this name.
    assert "for search_path in self.environment.loader.searchpath:" in source
    assert "spec.loader.exec_module(module)" in source
    assert 'f"copier_template_extensions.{module_name}"' in source
    assert "self._import_template_module(module_name)" in inspect.getsource(
        TemplateExtensionLoader._import_module
    )


def test_off_under_an_unchecked_version() -> None:
    assert extension_modules_once.install(series=(99, 0)) is False
    assert extension_modules_once.install() is True
    assert getattr(
        getattr(TemplateExtensionLoader, extension_modules_once.METHOD), extension_modules_once.WRAPPED_MARK
    )


def test_later_renders_execute_no_extension_file(executed: list[str], tmp_path: Path) -> None:
    template = template_copy(tmp_path / "template")
    copy_from(template, tmp_path / "first")
    first_run = list(executed)
    module = sys.modules[EXTENSION_MODULE]
    copy_from(template, tmp_path / "second")
    copy_from(template, tmp_path / "third")
    # Every extension of copier.yml loaded by path once (the one that installed the wrapper aside).
    assert "extensions/answer_checks.py" in first_run and len(first_run) == len(set(first_run)) >= 6
    assert executed == first_run
    assert sys.modules[EXTENSION_MODULE] is module
    assert Path(str(module.__file__)).is_relative_to(template)


def test_a_changed_file_the_extensions_read_executes_them_again(executed: list[str], tmp_path: Path) -> None:
    """layout.py is read by answer_checks.py at import, not executed by the loader: a change to it
    still gives a new answer_checks module that sees the change."""
    template = template_copy(tmp_path / "template")
    copy_from(template, tmp_path / "first")
    before = sys.modules[EXTENSION_MODULE]
    layout = template / "template/tools/gitopslib/layout.py"
    layout.write_text(layout.read_text() + "\nCHANGED_FOR_A_TEST = True\n")
    executed.clear()
    copy_from(template, tmp_path / "second")
    after = sys.modules[EXTENSION_MODULE]
    assert "extensions/answer_checks.py" in executed
    assert after is not before
    assert after._layout.CHANGED_FOR_A_TEST is True


def test_a_changed_extension_file_is_executed_again(executed: list[str], tmp_path: Path) -> None:
    template = template_copy(tmp_path / "template")
    copy_from(template, tmp_path / "first")
    checks = template / "extensions/answer_checks.py"
    checks.write_text(checks.read_text() + "\nCHANGED_FOR_A_TEST = True\n")
    executed.clear()
    copy_from(template, tmp_path / "second")
    assert "extensions/answer_checks.py" in executed
    assert sys.modules[EXTENSION_MODULE].CHANGED_FOR_A_TEST is True


def test_another_clone_of_the_same_files_reuses_the_modules_after_the_first_is_gone(
    executed: list[str], tmp_path: Path
) -> None:
    """Copier clones the template anew for each run: the same content at another path executes
    nothing again, and nothing an extension does later reads the first clone (deleted here)."""
    first = template_copy(tmp_path / "one")
    copy_from(first, tmp_path / "first")
    shutil.rmtree(first)
    executed.clear()
    second = template_copy(tmp_path / "two")
    copy_from(second, tmp_path / "second")
    assert executed == []
    reference = template_copy(tmp_path / "reference")
    (reference / "extensions/answer_checks.py").write_text(
        (reference / "extensions/answer_checks.py").read_text() + "\n# another content\n"
    )
    copy_from(reference, tmp_path / "third")
    # Another content of any extension file: each is executed again, as at a first render.
    assert "extensions/answer_checks.py" in executed and len(executed) == len(set(executed)) >= 6
    stored = [next((tmp_path / name).glob(".copier-answers.*.yml")) for name in ("first", "second", "third")]
    answers = [
        {k: v for k, v in yaml.safe_load(path.read_text()).items() if k != "_src_path"} for path in stored
    ]
    assert answers[0] == answers[1] == answers[2]


def test_a_missing_extension_file_is_the_loaders_own_error(tmp_path: Path) -> None:
    template = template_copy(tmp_path / "template")
    config = template / "copier.yml"
    config.write_text(config.read_text().replace("extensions/answer_checks.py", "extensions/missing.py", 1))
    missing = re.escape("Could not resolve path to local extension module 'extensions/missing.py'")
    with pytest.raises(Exception, match=missing):
        copy_from(template, tmp_path / "repo")
    assert not (tmp_path / "repo" / "gitops.yaml").exists()
