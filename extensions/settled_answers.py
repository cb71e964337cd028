"""Jinja extension: while Copier writes the files, the answers it reads are read once, not per string.

All questions are answered before Copier 9.19 renders the template's paths and files
(`Worker._render_template`), yet for every path part and file it recomputes from the answers:
- `Worker.answers_relpath`, a property that renders the answers-file name template with a whole
  new render context, once per rendered path part (some 420 times per copy of this template);
- `AnswersMap.combined`, a dict built from a ChainMap of seven mappings, twice per render
  context (some 960 contexts per copy);
- `Worker._answers_to_remember()`, which filters the combined answers, once per context.
Together about 40% of a copy's time in a profile (BENCHMARKS.md), the same in each of the three
renders of an update.

The extension wraps `_render_template`: on entry it reads the three once, and until it returns
the property and the two methods hand out those values; outside it (questions, tasks,
migrations, the update's own bookkeeping) Copier's own code runs as before. The values are
read-only to every caller in 9.19 (the render context spreads `combined` into a new dict).
Copier's one in-place change of a render context (`answers_relpath` blanks `_copier_conf`'s
answers_file to avoid recursion) stays in a context of its own: only the results are shared.
The property keeps its side effect: compiling the name template runs the environment's
preprocess hooks, which reset Copier's yield state, and Copier relies on that reset between a
path part that yields and the file rendered under it.

It leans on Copier internals (tests/test_settled_answers.py fails when they change): the
names above, that `_ask` answers every question before `_render_template` runs, and that
nothing changes the answers while it runs. So it is installed only under the Copier versions it
was checked against (SUPPORTED_COPIER); under any other, Copier is left alone (correct, only
slower).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from jinja2 import Environment
from jinja2.ext import Extension

# Copier release series (major, minor) whose internals were checked.
SUPPORTED_COPIER = ((9, 19),)
WRAPPED_MARK = "_gitops_settled_answers"
# Set on the Worker (and its AnswersMap) while _render_template runs.
SETTLED = "_gitops_settled"


def copier_series() -> tuple[int, int] | None:
    try:
        major, minor = version("copier").split(".")[:2]
        return int(major), int(minor)
    except (PackageNotFoundError, ValueError):
        return None


def _marked(function: Callable[..., Any], original: Any) -> Callable[..., Any]:
    setattr(function, WRAPPED_MARK, True)
    # Copier's own function (a property's getter), as inspect.unwrap finds it.
    function.__wrapped__ = original.fget if isinstance(original, property) else original  # type: ignore[attr-defined]
    return function


def settle_while_rendering(render_template: Callable[[Any], None]) -> Callable[[Any], None]:
    """Copier's `_render_template`, with the answers read once at its start."""

    def render_with_settled_answers(worker: Any) -> None:
        answers = worker.answers
        vars(answers)[SETTLED] = answers.combined
        try:
            vars(worker)[SETTLED] = (worker._answers_to_remember(), worker.answers_relpath)
            render_template(worker)
        finally:
            vars(worker).pop(SETTLED, None)
            vars(answers).pop(SETTLED, None)

    return _marked(render_with_settled_answers, render_template)


def combined_once(combined: property) -> property:
    def settled_combined(answers: Any) -> Mapping[str, Any]:
        settled: Mapping[str, Any] | None = vars(answers).get(SETTLED)
        return settled if settled is not None else combined.fget(answers)  # type: ignore[misc]

    return property(_marked(settled_combined, combined))


def remembered_once(
    answers_to_remember: Callable[[Any], Mapping[str, Any]],
) -> Callable[[Any], Mapping[str, Any]]:
    def settled_answers_to_remember(worker: Any) -> Mapping[str, Any]:
        settled = vars(worker).get(SETTLED)
        return settled[0] if settled is not None else answers_to_remember(worker)

    return _marked(settled_answers_to_remember, answers_to_remember)


def relpath_once(answers_relpath: property) -> property:
    def settled_answers_relpath(worker: Any) -> Path:
        settled = vars(worker).get(SETTLED)
        if settled is not None:
            # Compiling the name template ran the preprocess hooks, which reset Copier's yield
            # state: a file rendered after a yielded path part relies on that.
            worker.jinja_env.preprocess(str(worker.answers_file or worker.template.answers_relpath))
            return Path(settled[1])
        return Path(answers_relpath.fget(worker))  # type: ignore[misc]

    return property(_marked(settled_answers_relpath, answers_relpath))


def install(series: tuple[int, int] | None = None) -> bool:
    """Wraps Copier's code under a supported Copier; returns whether the wrappers are on.

    `series` defaults to the installed Copier's.
    """
    if (copier_series() if series is None else series) not in SUPPORTED_COPIER:
        return False
    from copier._main import Worker
    from copier._user_data import AnswersMap

    targets: list[tuple[type, str, Callable[[Any], Any]]] = [
        (Worker, "_render_template", settle_while_rendering),
        (Worker, "_answers_to_remember", remembered_once),
        (Worker, "answers_relpath", relpath_once),
        (AnswersMap, "combined", combined_once),
    ]
    found = [(owner, name, wrap, owner.__dict__.get(name)) for owner, name, wrap in targets]
    if any(original is None for *_, original in found):
        return False
    for owner, name, wrap, original in found:
        function = original.fget if isinstance(original, property) else original
        if not getattr(function, WRAPPED_MARK, False):
            setattr(owner, name, wrap(original))
    return True


class SettledAnswers(Extension):
    """Installs the wrappers when Copier builds its environment (see the module's docstring)."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        install()
