"""Where the repository's CI runs (gitops.yaml `ci_provider`), which decides the CI files and
the CODEOWNERS location validate checks.

A repository generated before the setting existed has no key and GitHub workflows: github.
"""

from __future__ import annotations

from .layout import SETTINGS_FILE
from .problems import Problem
from .repo import Repo

PROVIDERS = ("github", "gitlab", "none")
DEFAULT = "github"


def ci_provider(repo: Repo) -> str:
    value = repo.settings.get("ci_provider", DEFAULT)
    return value if isinstance(value, str) else repr(value)


def ci_provider_problems(repo: Repo) -> list[Problem]:
    value = ci_provider(repo)
    if value in PROVIDERS:
        return []
    return [
        Problem(
            SETTINGS_FILE,
            f"ci_provider {value!r} is not one of {', '.join(PROVIDERS)}: neither CODEOWNERS nor the CI "
            f"files are checked (set it with tools/gitops update --data ci_provider=...)",
        )
    ]
