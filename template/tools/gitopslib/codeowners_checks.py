"""CODEOWNERS gives every path that can widen access to the platform team (helper in progress)."""

from __future__ import annotations

from .problems import Problem
from .repo import Repo


def codeowners_problems(repo: Repo) -> list[Problem]:
    return []
