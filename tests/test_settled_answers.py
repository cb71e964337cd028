"""extensions/settled_answers.py: while Copier writes the files it reads the answers once, and
what it writes, on a copy and on an update, is what Copier alone writes."""

from __future__ import annotations

import inspect
import shutil
from pathlib import Path
from typing import Any

import pytest
from copier._main import Worker
from copier._user_data import AnswersMap

from extensions import settled_answers
from tests.conftest import BASE_TEMPLATE_DIR
from tests.template_versions import TemplateRepo, commit_all, copier_update, generate, tree_state

WRAPPED = [
    (Worker, "_render_template"),
    (Worker, "_answers_to_remember"),
    (Worker, "answers_relpath"),
    (AnswersMap, "combined"),
]


def copiers_own(owner: type, name: str) -> Any:
    """Copier's own function, or a property of its own getter."""
    attribute = owner.__dict__[name]
    if isinstance(attribute, property):
        return property(inspect.unwrap(attribute.fget))  # type: ignore[arg-type]
    return inspect.unwrap(attribute)


def same(attribute: Any, other: Any) -> bool:
    if isinstance(attribute, property) and isinstance(other, property):
        return attribute.fget is other.fget
    return attribute is other


def test_copier_internals_are_the_ones_the_wrappers_were_written_for() -> None:
    """Fails when a Copier release changes what the extension relies on: check the extension
    against the new release, then add its series to SUPPORTED_COPIER."""
    assert settled_answers.copier_series() in settled_answers.SUPPORTED_COPIER, (
        "a Copier series the wrappers were not checked against: they are off, so renders are slower"
    )
    kinds = {name: type(copiers_own(owner, name)).__name__ for owner, name in WRAPPED}
    assert kinds == {
        "_render_template": "function",
        "_answers_to_remember": "function",
        "answers_relpath": "property",
        "combined": "property",
    }
    copy = inspect.getsource(Worker.run_copy)
    assert copy.index("self._ask()") < copy.index("self._render_template()"), "answered before written"
    context = inspect.getsource(Worker._render_context)
    assert "**self.answers.combined" in context and "self._answers_to_remember()" in context
    relpath = inspect.getsource(copiers_own(Worker, "answers_relpath").fget)
    assert "self.jinja_env.from_string(str(path))" in relpath, (
        "the reset of the yield state the wrapper replays"
    )
    assert 'context["_copier_conf"]["answers_file"] = ""' in relpath
    assert "self.answers_relpath" in inspect.getsource(Worker._render_parts)
    assert "self.answers.user[" in inspect.getsource(Worker._ask), "answers change while asking only"
    assert "self.answers.user[" not in inspect.getsource(Worker._render_template)


def test_off_under_an_unchecked_copier() -> None:
    assert settled_answers.install(series=(99, 0)) is False
    assert settled_answers.install() is True
    for owner, name in WRAPPED:
        attribute = owner.__dict__[name]
        function = attribute.fget if isinstance(attribute, property) else attribute
        assert getattr(function, settled_answers.WRAPPED_MARK, False), name


def count_render_contexts(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many render contexts Copier builds (each also re-reads the answers without the wrappers)."""
    calls = [0]
    build = Worker._render_context

    def counting(worker: Any) -> Any:
        calls[0] += 1
        return build(worker)

    monkeypatch.setattr(Worker, "_render_context", counting)
    return calls


def copy_and_update(template: TemplateRepo, destination: Path) -> dict[str, bytes]:
    """Two apps (one with an environment list of its own: folders that yield), a team's edit,
    then an update of one app to v1.1.0 with an answer changed."""
    generate(template, destination, {"app_name": "shop", "environments": ["dev", "qa", "prod"]}, "v1.0.0")
    generate(template, destination, {"app_name": "cart", "exposure": "ingress"}, "v1.0.0")
    deployment = destination / "applications/base/shop/deployment.yaml"
    deployment.write_text(deployment.read_text() + "# the team's note\n")
    commit_all(destination, "Onboard")
    copier_update(destination, "shop", data={"exposure": "ingress"}, vcs_ref="v1.1.0")
    for answers in destination.glob(".copier-answers.*.yml"):
        answers.write_text(answers.read_text().replace(str(template.path), "TEMPLATE"))
    return tree_state(destination)


def released(root: Path, guard_on: bool) -> TemplateRepo:
    """This work tree as v1.0.0 and v1.1.0, with the extension's guard on or off."""
    template = TemplateRepo.from_work_tree(root, "v1.0.0" if guard_on else "v0.9.0")
    if not guard_on:
        guard = "SUPPORTED_COPIER = ((9, 19),)"
        template.edit("extensions/settled_answers.py", guard, "SUPPORTED_COPIER = ()")
        template.release("v1.0.0")
    template.edit(
        f"{BASE_TEMPLATE_DIR}/deployment.yaml.jinja",
        "revisionHistoryLimit: 5",
        "revisionHistoryLimit: 7",
    )
    template.release("v1.1.0")
    return template


def test_a_copy_and_an_update_write_what_copier_alone_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settled_answers.install()
    with monkeypatch.context() as patched:
        contexts = count_render_contexts(patched)
        with_wrappers = copy_and_update(released(tmp_path / "template", True), tmp_path / "repo")
    contexts_with = contexts[0]
    deployment = (tmp_path / "repo/applications/base/shop/deployment.yaml").read_text()
    assert deployment.endswith("# the team's note\n") and "revisionHistoryLimit: 7" in deployment
    assert (tmp_path / "repo/environments/qa/shop/ingress.yaml").is_file()
    assert (tmp_path / "repo/environments/qa/shop/kustomization.yaml").is_file()

    with monkeypatch.context() as alone:
        for owner, name in WRAPPED:
            alone.setattr(owner, name, copiers_own(owner, name))
        contexts = count_render_contexts(alone)
        shutil.rmtree(tmp_path / "template")
        shutil.move(tmp_path / "repo", tmp_path / "with-wrappers")
        by_copier_alone = copy_and_update(released(tmp_path / "template", False), tmp_path / "repo")
        for owner, name in WRAPPED:
            assert same(owner.__dict__[name], copiers_own(owner, name)), f"{name} was wrapped again"
    assert with_wrappers == by_copier_alone
    assert contexts_with < 0.7 * contexts[0], (contexts_with, contexts[0])
