"""Jinja extension: Copier parses a given copier.yml once per process, not once per Template object.

Copier 9.19 reads the template's copier.yml with PyYAML's pure-Python loader for every Template
object it makes (`Template._raw_config` calls `load_template_config`): four times per app in a
`copier update`, once per copy. This template's copier.yml (some 18,000 characters) takes about
0.05 s of CPU to parse, about a tenth of a copy rendered in-process (BENCHMARKS.md).

The extension wraps `load_template_config`: a file without an `!include` tag is parsed by
Copier's own function the first time its bytes are seen, and every later call with the same
bytes gets a deep copy of that result (what Copier returns depends on nothing else: the loader
is PyYAML's safe loader plus `!include`). A file with an `!include` tag, whose result also
depends on the included files, is always parsed by Copier. Errors are never remembered.

It leans on Copier internals (tests/test_config_read_once.py fails when they change): the
function's name, arguments and purity, and that `copier._template` calls it by that name. So it
is installed only under the Copier versions it was checked against (SUPPORTED_COPIER); under any
other, Copier is left alone (correct, only slower). Installed from the extension, it serves the
Template objects made after Copier built the first Jinja environment of the process.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from jinja2 import Environment
from jinja2.ext import Extension

# Copier release series (major, minor) whose `load_template_config` was checked.
SUPPORTED_COPIER = ((9, 19),)
FUNCTION = "load_template_config"
WRAPPED_MARK = "_gitops_config_read_once"
INCLUDE_TAG = b"!include"

Load = Callable[..., dict[str, Any]]


def copier_series() -> tuple[int, int] | None:
    try:
        major, minor = version("copier").split(".")[:2]
        return int(major), int(minor)
    except (PackageNotFoundError, ValueError):
        return None


def read_once(load: Load) -> Load:
    """Copier's function, run once per distinct file content without `!include`."""
    parsed: dict[bytes, dict[str, Any]] = {}

    def load_once(conf_path: Path, quiet: bool = False) -> dict[str, Any]:
        data = Path(conf_path).read_bytes()
        if INCLUDE_TAG in data:
            return load(conf_path, quiet)
        key = hashlib.sha256(data).digest()
        if key not in parsed:
            parsed[key] = load(conf_path, quiet)
        # A copy each time: nothing a caller changes reaches the next one.
        return copy.deepcopy(parsed[key])

    setattr(load_once, WRAPPED_MARK, True)
    load_once.__wrapped__ = load  # type: ignore[attr-defined]
    return load_once


def install(series: tuple[int, int] | None = None) -> bool:
    """Wraps Copier's function under a supported Copier; returns whether the wrapper is on.

    `series` defaults to the installed Copier's.
    """
    if (copier_series() if series is None else series) not in SUPPORTED_COPIER:
        return False
    from copier import _template

    load = getattr(_template, FUNCTION, None)
    if load is None:
        return False
    if not getattr(load, WRAPPED_MARK, False):
        setattr(_template, FUNCTION, read_once(load))
    return True


class ConfigReadOnce(Extension):
    """Installs the wrapper when Copier builds its environment (see the module's docstring)."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        install()
