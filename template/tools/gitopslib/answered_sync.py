"""The Argo CD objects of an app sync as its answers say.

`manual_sync_environments` (or `sync_policy: manual`) and `sync_windows` are the app team's
and the platform team's decisions, stored in the answers file (CODEOWNERS gives it to the
platform team). A pull request that drops prod's sync window and turns on automated sync edits
only argocd/apps/<app>/prod.yaml: both are named, unless the answers changed with them.
"""

from __future__ import annotations

from typing import Any

import yaml

from . import fast_yaml
from .access_checks import spec_of, where
from .api_checks import listed, mapping
from .argocd_objects import APPS_DIR, ArgoObjects
from .layout import app_env_name
from .problems import Problem
from .repo import Repo


def _answers(repo: Repo, app: str) -> dict[str, Any]:
    try:
        answers = fast_yaml.load(repo.answers_file(app).read_text())
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return {}  # an answers file that cannot be read is named by the checks that need it
    return answers if isinstance(answers, dict) else {}


def answered_sync_problems(repo: Repo, argo: ArgoObjects) -> list[Problem]:
    applications = {located.name: located for located in argo.of_kind("Application", APPS_DIR)}
    projects = {located.name: located for located in argo.of_kind("AppProject", APPS_DIR)}
    problems = []
    for app in repo.apps():
        answers = _answers(repo, app)
        manual = {env for env in listed(answers.get("manual_sync_environments")) if isinstance(env, str)}
        windows = mapping(answers.get("sync_windows"))
        for env in repo.environments:
            application = applications.get(app_env_name(app, env))
            manual_env = env in manual or answers.get("sync_policy") == "manual"
            automated = (
                mapping(spec_of(application).get("syncPolicy")).get("automated") if application else None
            )
            if application and manual_env and automated is not None:
                problems.append(
                    Problem(
                        where(application),
                        f"syncPolicy.automated syncs {env} by itself, but the answers say its syncs are "
                        f"manual (manual_sync_environments, sync_policy): {CHANGE_THE_ANSWERS}",
                    )
                )
            window, project = mapping(windows.get(env)), projects.get(app_env_name(app, env))
            wanted = _window(window, app_env_name(app, env))
            if window and project and spec_of(project).get("syncWindows") != [wanted]:
                problems.append(
                    Problem(
                        where(project),
                        f"syncWindows must be exactly the answered window of {env}, {wanted} (another "
                        f"window, a time zone or other applications would widen it): {CHANGE_THE_ANSWERS}",
                    )
                )
    return problems


CHANGE_THE_ANSWERS = "change the answers (tools/gitops update --data), not this file"


def _window(window: dict[str, Any], application: str) -> dict[str, Any]:
    """The syncWindows entry the template writes for an answered window."""
    return {
        "kind": "allow",
        "schedule": window.get("schedule"),
        "duration": window.get("duration"),
        "applications": [application],
    }
