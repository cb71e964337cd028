"""gitops.yaml holds the repo-level answers every answers file holds (validate).

The first app's update writes a repo-level change into gitops.yaml and its own answers; the
others follow in the same run. gitops.yaml edited by hand, or a run stopped half-way, leaves
them apart: the next app's update would render the other value. Named with what to run.
"""

from __future__ import annotations

from typing import Any

import yaml

from . import fast_yaml
from .layout import SETTINGS_FILE
from .problems import Problem
from .repo import Repo
from .rollout import disagreeing


def settings_problems(repo: Repo) -> list[Problem]:
    answers: dict[str, dict[str, Any]] = {}
    for app in repo.apps():
        try:
            stored = fast_yaml.load(repo.answers_file(app).read_text())
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            continue  # an unreadable answers file is named where it is read
        answers[app] = stored if isinstance(stored, dict) else {}
    return [
        Problem(
            SETTINGS_FILE,
            f"{key} differs from what the answers of {', '.join(apps)} hold: change a repo-level answer "
            f"for every app with `tools/gitops update --data {key}=...` (a run stopped at a conflict: "
            "run it again), never by editing gitops.yaml",
        )
        for key, apps in disagreeing(repo.settings, answers).items()
    ]
