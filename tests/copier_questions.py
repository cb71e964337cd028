"""copier.yml's questions answered in-process, as `copier copy --defaults --data KEY=VALUE` answers them.

A refused answer stops `copier copy` before it renders anything: what refuses it is the
question's type (Copier's cast), its choices, or its `validator:` expression, evaluated with
the answers given so far and the defaults of the others. This module asks Copier's own
`Question` to do each of those, in copier.yml's order, with a Jinja environment built as
Copier's Worker builds it (Copier's sandbox and loader, its default extensions, then
copier.yml's `_jinja_extensions`, loaded by path from this work tree). Nothing is copied
from copier.yml: a validator that changes there changes here. It costs milliseconds where a
`copier copy` process costs a second.

It leans on Copier internals (`copier._user_data.Question`, `AnswersMap`,
`copier._template.load_template_config`, `copier._jinja_ext`); the few `copier copy` runs
kept in test_bad_answers.py check that both routes stop at the same line.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path, PurePath
from typing import Any

from copier._jinja_ext import CopierTemplateLoader, SandboxedEnvironment, YieldExtension
from copier._template import filter_config, load_template_config
from copier._types import MISSING, LazyDict, Phase
from copier._user_data import AnswersMap, Question, load_answersfile_data

TEMPLATE_ROOT = Path(__file__).resolve().parent.parent
# What Copier's Worker.jinja_env puts before the template's own extensions.
COPIER_EXTENSIONS = ("jinja2_ansible_filters.AnsibleCoreFiltersExtension", YieldExtension)


@dataclass(frozen=True)
class CopierYml:
    settings: dict[str, Any]  # `_answers_file` as `answers_file`, as Copier's filter_config keys them
    questions: dict[str, dict[str, Any]]  # in the order Copier asks them


@dataclass(frozen=True)
class Refusal:
    question: str  # the question Copier was at when it stopped
    message: str  # the exception as the last line of `copier copy` shows it

    @property
    def reason(self) -> str:
        """The validator's own words, without the prefix Copier adds (which names the question
        whatever the validator said); a cast or choice error as Copier words it."""
        prefix = f"ValueError: Validation error for question '{self.question}': "
        return self.message.removeprefix(prefix)

    def __str__(self) -> str:
        return self.message


@cache
def copier_yml(template_root: Path = TEMPLATE_ROOT) -> CopierYml:
    config, questions = filter_config(load_template_config(template_root / "copier.yml"))
    return CopierYml(config, questions)


@cache
def jinja_env(template_root: Path = TEMPLATE_ROOT) -> SandboxedEnvironment:
    """One environment for every evaluation, as Worker.jinja_env builds it for a copy."""
    settings = copier_yml(template_root).settings
    envops = {"keep_trailing_newline": True, **settings.get("envops", {})}
    return SandboxedEnvironment(
        loader=CopierTemplateLoader(template_root),
        extensions=[*COPIER_EXTENSIONS, *settings.get("jinja_extensions", ())],
        **envops,
    )


class CopyAnswers:
    """The answers of one `copier copy --defaults` into `destination`, given `data` as --data gives it."""

    def __init__(self, data: Mapping[str, Any], destination: Path, template_root: Path = TEMPLATE_ROOT):
        self.template = copier_yml(template_root)
        # Copier ignores a --data key that is no question; a test that passes one tests nothing.
        unknown = sorted(set(data) - set(self.template.questions))
        if unknown:
            raise KeyError(f"not questions of copier.yml: {unknown}")
        self.root = template_root
        self.destination = destination
        self.env = jinja_env(template_root)
        self.answers = AnswersMap(init=dict(data), external=self._external_data())

    def _conf(self) -> LazyDict[str, Any]:
        """`_copier_conf` of a non-interactive, trusted copy (Worker._render_context)."""
        values: dict[str, Any] = {
            "src_path": PurePath(self.root),
            "dst_path": PurePath(self.destination),
            "vcs_ref": "HEAD",
            "data": dict(self.answers.init),
            "defaults": True,
            "overwrite": False,
            "pretend": False,
            "quiet": True,
            "unsafe": True,
            "skip_answered": False,
            "skip_tasks": False,
            "cleanup_on_error": True,
            "use_prereleases": False,
            "sep": os.sep,
        }
        lazy: dict[str, Any] = {key: (lambda value=value: value) for key, value in values.items()}
        lazy["answers_file"] = lambda: PurePath(self._answers_file())
        return LazyDict(lazy)

    def context(self) -> dict[str, Any]:
        return dict(
            **self.answers.combined,
            _copier_answers={k: v for k, v in self.answers.combined.items() if k in self.template.questions},
            _copier_conf=self._conf(),
            _folder_name=self.destination.name,
            _copier_python=sys.executable,
            _copier_phase=Phase.PROMPT,
        )

    def _render(self, text: str, context: Mapping[str, Any]) -> str:
        return self.env.from_string(text).render(**context)

    def _answers_file(self) -> str:
        # As Worker.answers_relpath: rendered with `_copier_conf.answers_file` empty.
        context = self.context()
        context["_copier_conf"]["answers_file"] = ""
        return self._render(str(self.template.settings.get("answers_file", ".copier-answers.yml")), context)

    def _external_data(self) -> LazyDict[str, Any]:
        """Each file read when first used, its path rendered with the answers given by then."""

        def loader(path: str) -> Callable[[], Any]:
            return lambda: load_answersfile_data(self.destination, self._render(path, self.context()))

        files: dict[str, str] = self.template.settings.get("external_data", {})
        return LazyDict({name: loader(path) for name, path in files.items()})

    def question(self, name: str) -> Question:
        return Question(
            var_name=name,
            answers=self.answers,
            context=self.context(),
            jinja_env=self.env,
            **self.template.questions[name],
        )

    def first_refusal(self) -> Refusal | None:
        """Where `copier copy` stops, or None when every answer passes: Worker._ask, for a copy
        (no stored answers) with --defaults (no prompt) and no --ask."""
        for name in self.template.questions:
            try:
                question = self.question(name)
                if not question.get_when():
                    self.answers.hide(name)
                    if question.get_default() is MISSING:
                        continue
                if name in self.answers.init:
                    answer = question.parse_answer(self.answers.init[name])
                    question.validate_answer(answer)
                else:
                    answer = question.get_default()  # validated too, as Copier does
                    if answer is MISSING:
                        raise ValueError(f'Question "{name}" is required')
            except Exception as error:  # whatever Copier raises ends the copy with its message
                return Refusal(name, f"{type(error).__name__}: {error}")
            self.answers.user[name] = answer
        return None


def first_refusal(
    data: Mapping[str, Any], destination: Path, template_root: Path = TEMPLATE_ROOT
) -> Refusal | None:
    """What `copier copy --defaults --data ...` into `destination` stops at, or None."""
    return CopyAnswers(data, destination, template_root).first_refusal()
