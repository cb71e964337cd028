"""The property behind the generative tests: accepted answers make a correct repo, refused ones write nothing.

Outcome decides, not a prediction of what the validators should say: a refused set must
leave no file behind and name a question; an accepted set must keep every file in Git,
build every overlay, pass the strict schemas, the independent API-server rules of
tests/api_rules.py (written without looking at the validators or tools/gitops), the
repository invariants, and the repo's own validate (run in this process). The first
DRY_RUN_SETS accepted sets of each file are also dry-run on the real API server
(tests/dry_run.py), which has the last word on every object they generate.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from gitopslib.repo import load_repo
from gitopslib.validate import validate_repo
from hypothesis import HealthCheck, event, example, given, seed, settings

from tests import api_rules
from tests import repo_invariants as inv
from tests.answer_sets import served
from tests.answer_strategies import answer_sets
from tests.api_server import ApiServer
from tests.conftest import render
from tests.copier_questions import copier_yml
from tests.dry_run import dry_run_repo
from tests.generative_settings import answer_sets_per_file, commit_seed

# What the runs found, for the closing report (`--hypothesis-show-statistics` shows it too).
# Per file (part): "accepted <part>", "dry-run <part>" (sets) and "dry-run objects <part>".
OUTCOMES: Counter[str] = Counter()
# The first accepted sets of each file (pinned examples first, then drawn) that also go through the
# server-side dry run: 12 per file, two files, so at least 20 a run (issue 14 asks for 20) whenever
# the budget draws that many accepted sets (some 40% of 100 drawn are). Each costs about a second.
DRY_RUN_SETS = 12
# A dry-run set applies at least a Deployment, a Service, an Application and an AppProject for its
# one environment, and the root Application and its AppProject (tests/dry_run.py).
DRY_RUN_MIN_OBJECTS = 6
# Per file: the answer sets (as JSON) chosen for the dry run.
DRY_RUN_CHOSEN: dict[int, set[str]] = {}
# Any run of the property accepts some sets (about 40% of those drawn): none means it did not run.
MIN_ACCEPTED = 1


def render_in_process(answers: dict[str, Any], destination: Path) -> Exception | None:
    try:
        render(destination, answers)
    except Exception as error:  # every refusal is an outcome to check, whatever its type
        return error
    return None


YAML_QUESTIONS = {name for name, spec in copier_yml().questions.items() if spec.get("type") == "yaml"}


def parses(value: Any) -> bool:
    if not isinstance(value, str):
        return True
    try:
        yaml.safe_load(value)
    except yaml.YAMLError:
        return False
    return True


def check_refusal(answers: dict[str, Any], destination: Path, error: Exception) -> None:
    written = [p for p in destination.rglob("*")] if destination.exists() else []
    assert not written, f"refused ({error}) but wrote {written[:5]}"
    message = str(error)
    asked = set(answers) | {"app_name"}
    if not any(question in message for question in asked):
        # Copier casts a `type: yaml` answer before any validator sees it and reports what the YAML
        # parser says (no question name): only a string answer to such a question that YAML
        # itself refuses may be refused that way (a Copier limitation, written up in the notes).
        unparsable = [name for name, value in answers.items() if name in YAML_QUESTIONS and not parses(value)]
        assert unparsable, f"refusal names no question: {message}"
    OUTCOMES["refused"] += 1
    event(f"refused: {message.split(':', 1)[0][:60]}")


def check_nothing_ignored(root: Path) -> None:
    """Every generated file is seen by Git: no .gitignore pattern hides an app's or environment's files."""
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1"}
    subprocess.run(["git", "init", "-q", str(root)], check=True, env=env)
    ignored = subprocess.run(
        ["git", "status", "--porcelain", "--ignored", "--untracked-files=all"],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
        env=env,
    ).stdout
    hidden = [line for line in ignored.splitlines() if line.startswith("!!")]
    assert not hidden, f"generated files hidden from Git: {hidden[:5]}"
    shutil.rmtree(root / ".git")


def check_api_rules(facts: inv.RepoFacts) -> int:
    problems: list[str] = []
    checked = 0
    for (env, _), objects in facts.built.items():
        problems += [f"environments/{env}: {p}" for p in api_rules.overlay_problems(objects)]
        checked += len(objects)
    for path, obj in facts.argo:
        problems += [f"{path}: {p}" for p in api_rules.object_problems(obj)]
        checked += 1
    for obj in facts.platform:
        problems += [f"platform: {p}" for p in api_rules.object_problems(obj)]
        checked += 1
    assert not problems, "\n".join(problems)
    return checked


def strings_in(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for item in value.items() for text in strings_in(list(item))]
    if isinstance(value, list):
        return [text for item in value for text in strings_in(item)]
    return []


def check_no_stray_characters(stored: dict[str, Any]) -> None:
    """No accepted answer carries a control character or surrounding whitespace into the YAML.

    A trailing newline (what a `--data-file` block scalar gives) slips through a `^...$` regex
    and ends in a repoURL or a mount path that no schema refuses; only the PEM key is multi-line.
    """
    for question, value in stored.items():
        if question.startswith("_") or question == "cosign_public_key":
            continue
        for text in strings_in(value):
            assert text == text.strip() and text.isprintable(), f"{question}: accepted {text!r}"


def check_accepted(
    answers: dict[str, Any], root: Path, kubectl: str, api_server: ApiServer, part: int
) -> None:
    check_nothing_ignored(root)
    stored = yaml.safe_load(next(root.glob(".copier-answers.*.yml")).read_text())
    check_no_stray_characters(stored)
    facts = inv.read_repo(root, kubectl)
    assert facts.app == stored["app_name"]
    for env in facts.environments:
        for path in (
            f"environments/{env}/{facts.app}/kustomization.yaml",
            f"argocd/apps/{facts.app}/{env}.yaml",
        ):
            assert (root / path).is_file(), f"{path} missing"
    inv.check_overlays_exist(facts)
    inv.check_builtin_objects_strict(facts)
    inv.check_argo_objects_strict(facts)
    inv.check_namespaces(facts)
    inv.check_applications(facts)
    inv.check_root_app(facts)
    objects = check_api_rules(facts)
    # The repo's own validate, in this process: its tools/ is template/tools/ copied verbatim,
    # and the interpreter's start and imports would cost more than the checks themselves.
    report = validate_repo(load_repo(root))
    assert not report.problems, "\n".join(map(str, report.problems))
    if chosen_for_dry_run(answers, part):
        # The API server has the last word: any refusal or warning fails with its message.
        OUTCOMES[f"dry-run objects {part}"] += dry_run_repo(api_server, root, kubectl)
        OUTCOMES[f"dry-run {part}"] += 1
        event("accepted, dry-run on the API server")
    OUTCOMES[f"accepted {part}"] += 1
    OUTCOMES["accepted"] += 1
    OUTCOMES["objects"] += objects
    event("accepted")


def chosen_for_dry_run(answers: dict[str, Any], part: int) -> bool:
    """The first DRY_RUN_SETS accepted sets, remembered by their answers: a set chosen once is
    chosen again when Hypothesis replays or shrinks it, so a failure it found is not taken for
    a flaky one when the count is reached."""
    key = json.dumps(answers, sort_keys=True, default=repr)
    chosen = DRY_RUN_CHOSEN.setdefault(part, set())
    if key not in chosen and len(chosen) < DRY_RUN_SETS:
        chosen.add(key)
    return key in chosen


def check_answer_set(answers: dict[str, Any], kubectl: str, api_server: ApiServer, part: int) -> None:
    scratch = Path(tempfile.mkdtemp(prefix="answers-"))
    destination = scratch / "repo"
    try:
        error = render_in_process(answers, destination)
        if error is not None:
            check_refusal(answers, destination, error)
        else:
            check_accepted(answers, destination, kubectl, api_server, part)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def generated_answer_test(part: int, *pinned: dict[str, Any]) -> Callable[..., None]:
    """The property as a test: its own seed per part, the budget per file, `pinned` sets first."""

    def test(
        answers: dict[str, Any], kubectl: str, api_server: ApiServer, request: pytest.FixtureRequest
    ) -> None:
        check_answer_set(served(answers, request), kubectl, api_server, part)

    property_test = given(answers=answer_sets())(test)
    for answers in reversed(pinned):
        property_test = example(answers=answers)(property_test)
    return pytest.mark.api_server(
        seed(commit_seed() + part)(
            settings(
                max_examples=answer_sets_per_file(),
                deadline=None,
                database=None,
                # function_scoped_fixture: `request` only fetches the session-wide chart repository.
                suppress_health_check=[
                    HealthCheck.too_slow,
                    HealthCheck.data_too_large,
                    HealthCheck.function_scoped_fixture,
                ],
            )(property_test)
        )
    )


def dry_run_count_test(part: int) -> Callable[[], None]:
    """A test to run after the property of the same file: its first DRY_RUN_SETS accepted sets
    (all of them, if it accepted fewer) really went through the API server, each with objects the
    server accepted. It fails if the dry run were skipped or returned without applying anything."""

    def test() -> None:
        accepted, dry_run = OUTCOMES[f"accepted {part}"], OUTCOMES[f"dry-run {part}"]
        assert accepted >= MIN_ACCEPTED, f"only {accepted} accepted sets: did the property run?"
        assert dry_run >= min(DRY_RUN_SETS, accepted), f"{dry_run} of {accepted} accepted sets dry-run"
        objects = OUTCOMES[f"dry-run objects {part}"]
        assert objects >= DRY_RUN_MIN_OBJECTS * dry_run, f"{dry_run} sets dry-run, only {objects} objects"

    # Selected and deselected with the property (-m api_server).
    return pytest.mark.api_server(test)
