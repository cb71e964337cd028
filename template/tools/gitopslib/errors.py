"""Errors that stop a command before it can report problems: exit code 2."""


class UsageError(Exception):
    """Wrong arguments, not inside a GitOps repository, or a missing tool."""
