"""Errors that stop a command before it can report problems."""


class UsageError(Exception):
    """Wrong arguments, not inside a GitOps repository, or a missing tool: exit code 2."""


class GitError(UsageError):
    """A git command failed; its message names git and the command, so that a failing
    `git commit` after `copier update` is not mistaken for a Copier failure."""


class MissingGitIdentityError(Exception):
    """git has no user identity to commit with: exit code 1, raised before anything changed.

    Not a usage error: the arguments are fine, the machine lacks a setting the user must add."""
