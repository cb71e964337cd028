"""Jinja extension: Copier reads the destination's `core.fileMode` once per run, not once per file.

After writing each file, Copier 9.19 runs `git config --type=bool --get core.fileMode` in the
destination (`Worker._sync_git_index_executable_bit`) to decide whether the index needs the
file's executable bit written into it: only when the setting is `false`. That is one git
process per written file, and `copier update` renders each app three times: some 300 processes
per app, about a quarter of an update's time on two cores (BENCHMARKS.md).

The extension wraps that method so the setting is read once per Worker (one run, one
destination); when it is `false` Copier's own method runs for every file as before, so the
index keeps the executable bits exactly as Copier would write them. A run does not change the
setting it reads.

It leans on Copier internals (tests/test_file_mode_once.py fails when they change): the method's
name and arguments, that it reads the setting of `self.subproject.local_abspath` and does
nothing unless it is `false`. So it is installed only under the Copier versions it was checked
against (SUPPORTED_COPIER); under any other, Copier is left alone (correct, only slower).
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from jinja2 import Environment
from jinja2.ext import Extension

# Copier release series (major, minor) whose `_sync_git_index_executable_bit` was checked.
SUPPORTED_COPIER = ((9, 19),)
METHOD = "_sync_git_index_executable_bit"
WRAPPED_MARK = "_gitops_reads_file_mode_once"
SETTING_ATTRIBUTE = "_gitops_core_file_mode"


def copier_series() -> tuple[int, int] | None:
    try:
        major, minor = version("copier").split(".")[:2]
        return int(major), int(minor)
    except (PackageNotFoundError, ValueError):
        return None


def core_file_mode(destination: Path) -> str:
    """`true`, `false`, or `unset` (also outside a repository, or without git), read as Copier
    reads it: its git, with its copy of the environment."""
    from copier._vcs import get_git
    from plumbum import CommandNotFound, ProcessExecutionError

    try:
        git = get_git(context_dir=destination)
        return str(git("config", "--type=bool", "--get", "core.fileMode")).strip()
    except (ProcessExecutionError, CommandNotFound, OSError):
        return "unset"


def read_once(sync: Callable[..., None]) -> Callable[..., None]:
    """Copier's method, run only when the Worker's destination has `core.fileMode` false."""

    def sync_when_file_mode_is_off(worker: Any, dst_relpath: Path, src_mode: int) -> None:
        state = vars(worker)  # a Worker lives for one run and has one destination
        if SETTING_ATTRIBUTE not in state:
            state[SETTING_ATTRIBUTE] = core_file_mode(Path(worker.subproject.local_abspath))
        if state[SETTING_ATTRIBUTE] == "false":
            sync(worker, dst_relpath, src_mode)

    setattr(sync_when_file_mode_is_off, WRAPPED_MARK, True)
    return sync_when_file_mode_is_off


def install(series: tuple[int, int] | None = None) -> bool:
    """Wraps Copier's method under a supported Copier; returns whether the wrapper is on.

    `series` defaults to the installed Copier's.
    """
    if (copier_series() if series is None else series) not in SUPPORTED_COPIER:
        return False
    from copier._main import Worker

    sync = getattr(Worker, METHOD, None)
    if sync is None:
        return False
    if not getattr(sync, WRAPPED_MARK, False):
        setattr(Worker, METHOD, read_once(sync))
    return True


class FileModeReadOnce(Extension):
    """Installs the wrapper when Copier builds its environment (see the module's docstring)."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        install()
