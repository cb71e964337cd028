"""A repo-level change taken to every app: finishing one that stopped half-way, and which app
renders the shared files.

`tools/gitops update --data environments=...` gives the change to every app, one after another;
the first app's update writes it into gitops.yaml. A conflict stops the run after that app, and
the advice is to resolve it and run `tools/gitops update` again: without the --data, that run
would find every app at the target version and skip them all, leaving the others' answers (and
their overlays) behind gitops.yaml. This module finds such a change from what the files say.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from . import fast_yaml
from .layout import REPO_LEVEL_KEYS, SETTINGS_FILE


def _settings(root: Path) -> dict[str, Any]:
    try:
        settings = fast_yaml.load((root / SETTINGS_FILE).read_text())
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return {}
    return settings if isinstance(settings, dict) else {}


def as_data(value: Any) -> str:
    """A value as `--data KEY=VALUE` gives it: text as it is (Copier keeps a str answer as
    written), anything else in YAML's flow style (Copier reads a yaml or bool answer as YAML)."""
    if isinstance(value, str):
        return value
    return yaml.safe_dump(value, default_flow_style=True, width=1 << 20).strip().removesuffix("\n...")


def as_answer(text: str) -> Any:
    """What an answer given as text reads as, for comparing it with stored answers."""
    try:
        return fast_yaml.load(text)
    except yaml.YAMLError:
        return text


def same_answer(stored: Any, setting: Any) -> bool:
    """gitops.yaml writes text answers stripped (a pasted key's last newline)."""
    if isinstance(stored, str) and isinstance(setting, str):
        return stored.strip() == setting.strip()
    return bool(stored == setting)


def disagreeing(
    settings: Mapping[str, Any], answers: Mapping[str, Mapping[str, Any]]
) -> dict[str, list[str]]:
    """The repo-level keys gitops.yaml holds otherwise than some answers file: key -> those apps.
    An answers file without the key (written before the question existed) agrees: the question's
    default reads gitops.yaml."""
    found: dict[str, list[str]] = {}
    for key in sorted(REPO_LEVEL_KEYS & set(settings)):
        apps = [
            app
            for app, stored in answers.items()
            if key in stored and not same_answer(stored[key], settings[key])
        ]
        if apps:
            found[key] = apps
    return found


def unfinished_rollout(root: Path, answers: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    """The repo-level answers of a change that reached some apps and not others, as `--data`
    values: gitops.yaml and at least one answers file hold the new value (the first app's
    update wrote both), another answers file the old one. A value no answers file holds is a
    hand edit of gitops.yaml, which validate names: never rolled out."""
    settings = _settings(root)
    behind: dict[str, str] = {}
    for key in disagreeing(settings, answers):
        took_it = [
            app
            for app, stored in answers.items()
            if key in stored and same_answer(stored[key], settings[key])
        ]
        if took_it:
            behind[key] = as_data(settings[key])
    return behind


def already_given(stored: Mapping[str, Any], data: Mapping[str, str]) -> bool:
    """Whether an app's answers already hold every repo-level value `data` gives."""
    given = {key: value for key, value in data.items() if key in REPO_LEVEL_KEYS}
    return bool(given) and all(stored.get(key) == as_answer(value) for key, value in given.items())


def with_data(answers: Mapping[str, Mapping[str, Any]], data: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    """Each app's answers as they will be once its update took `data`."""
    given = {key: as_answer(value) for key, value in data.items()}
    return {app: {**stored, **given} for app, stored in answers.items()}


def shared_files_first(
    apps: Iterable[str], answers: Mapping[str, Mapping[str, Any]], data: Mapping[str, str]
) -> list[str]:
    """The apps in the order to update them: one whose answers already hold the change first.
    The first app renders the shared files (shared_files.exclusions): from the answers before
    the change, an app already past it renders nothing new there, where one still before it
    would merge the change into shared files that hold it already (a conflict with any edit
    of the same lines)."""
    ordered = list(apps)
    return sorted(ordered, key=lambda app: not already_given(answers[app], data))
