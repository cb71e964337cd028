"""Errors that stop a command before it can report problems."""

# How to install what tools/gitops needs, in a virtualenv: Debian's and Ubuntu's system Python
# refuses a plain `pip install` (externally managed).
INSTALL_HINT = (
    "python3 -m venv .venv && . .venv/bin/activate && python -m pip install -r tools/requirements.txt"
)


class UsageError(Exception):
    """Wrong arguments, not inside a GitOps repository, or a missing tool: exit code 2."""


class GitError(UsageError):
    """A git command failed; its message names git and the command, so that a failing
    `git commit` after `copier update` is not mistaken for a Copier failure."""


class MissingGitIdentityError(Exception):
    """git has no user identity to commit with: exit code 1, raised before anything changed.

    Not a usage error: the arguments are fine, the machine lacks a setting the user must add."""


class BrokenFileError(Exception):
    """A file the command cannot do without is missing, not UTF-8 or not the YAML it must be:
    exit code 1, reported as one `path: reason` line like the problems validate finds.

    Not a usage error: the arguments are fine, the repository needs fixing."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason
