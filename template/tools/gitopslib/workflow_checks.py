"""The repository's GitHub workflows hold no privilege-widening pattern (helper in progress)."""

from __future__ import annotations

from .problems import Problem
from .repo import Repo


def workflow_problems(repo: Repo) -> list[Problem]:
    return []
