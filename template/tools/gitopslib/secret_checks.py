"""Private keys, tokens and Secret values in any file of the repository (helper in progress)."""

from __future__ import annotations

from .problems import Problem
from .repo import Repo


def secret_problems(repo: Repo) -> list[Problem]:
    return []
