"""Jinja extension: each extension file of this template is executed once per process, not per render.

copier-template-extensions 0.3 loads an extension named by path (`extensions/x.py:Class`) by
executing its file anew every time Copier builds a Jinja environment: several times per copy,
five per app in a `copier update`. With no bytecode cache (a fresh clone of the template, or
PYTHONDONTWRITEBYTECODE) each time also compiles the source: about 60 of the test suite's ~900
CPU-seconds of Python went there (BENCHMARKS.md).

The extension wraps the loader's `_import_template_module`: the first load of a file runs the
loader's own code; later loads of a file with the same content get the module it made, as long
as everything an extension may read while it is executed has the same content too: the
extension files beside it and the gitopslib files the extensions load by path
(`template/tools/gitopslib/*.py`). The content is hashed once per folder state (path, size,
inode and modification time in nanoseconds of each file, more than Python's own bytecode cache
trusts), so another clone of the same commit, at another path, gets the same modules: which is
why an extension of this template reads files only while it is executed, never later (the clone
it was executed from may be gone). State an extension keeps at module level lives for the
process, so every such cache is bounded or keyed by what it depends on.

It leans on copier-template-extensions internals (tests/test_extension_modules_once.py fails
when they change): the method's name and argument, the search path it resolves the file
against, and the `sys.modules` name it registers. So it is installed only under the versions it
was checked against (SUPPORTED_SERIES); under any other, the loader is left alone (correct,
only slower).
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from types import ModuleType
from typing import Any

from jinja2 import Environment
from jinja2.ext import Extension

PACKAGE = "copier-template-extensions"
# Its release series (major, minor) whose `_import_template_module` was checked.
SUPPORTED_SERIES = ((0, 3),)
METHOD = "_import_template_module"
WRAPPED_MARK = "_gitops_extension_modules_once"
MODULE_PREFIX = "copier_template_extensions."

# What an extension of this template may read while it is executed: .py files of these folders,
# relative to the template's root.
IMPORT_INPUTS = ("extensions", "template/tools/gitopslib")
MAX_DIGESTS = 256  # folder states remembered; a few per template version a process renders

Stamp = tuple[str, str, int, int, int]


def package_series() -> tuple[int, int] | None:
    try:
        major, minor = version(PACKAGE).split(".")[:2]
        return int(major), int(minor)
    except (PackageNotFoundError, ValueError):
        return None


def import_inputs(root: Path) -> tuple[Stamp, ...]:
    """The files an extension of the template at `root` may read at import, with what says they
    are unchanged."""
    stamps: list[Stamp] = []
    for folder in IMPORT_INPUTS:
        try:
            entries = list(os.scandir(root / folder))
        except OSError:
            continue
        for entry in entries:
            if entry.name.endswith(".py") and entry.is_file():
                status = entry.stat()
                stamps.append((folder, entry.name, status.st_size, status.st_ino, status.st_mtime_ns))
    return tuple(sorted(stamps))


def inputs_digest(root: Path, digests: dict[tuple[str, tuple[Stamp, ...]], str]) -> str:
    """The content of what `import_inputs` lists, hashed once per state of the folders."""
    stamps = import_inputs(root)
    key = (str(root), stamps)
    if key not in digests:
        content = hashlib.sha256()
        for folder, name, *_ in stamps:
            data = (root / folder / name).read_bytes()
            content.update(f"{folder}/{name}\0{len(data)}\0".encode() + data)
        if len(digests) >= MAX_DIGESTS:
            digests.clear()
        digests[key] = content.hexdigest()
    return digests[key]


def load_once(load: Callable[[Any, str | Path], ModuleType]) -> Callable[[Any, str | Path], ModuleType]:
    """The loader's method, run once per extension file and content of what it may read."""
    modules: dict[tuple[str, str], ModuleType] = {}
    digests: dict[tuple[str, tuple[Stamp, ...]], str] = {}

    def load_module_once(loader: Any, relative_path: str | Path) -> ModuleType:
        for search_path in loader.environment.loader.searchpath:
            if (Path(search_path) / relative_path).is_file():
                break
        else:
            return load(loader, relative_path)  # its own error for a missing file
        key = (Path(relative_path).as_posix(), inputs_digest(Path(search_path), digests))
        module = modules.get(key)
        if module is None:
            module = modules[key] = load(loader, relative_path)
        # As the loader leaves it: the module under its name, for whatever looks it up there.
        sys.modules[MODULE_PREFIX + Path(relative_path).stem] = module
        return module

    setattr(load_module_once, WRAPPED_MARK, True)
    load_module_once.__wrapped__ = load  # type: ignore[attr-defined]
    return load_module_once


def install(series: tuple[int, int] | None = None) -> bool:
    """Wraps the loader's method under a supported version; returns whether the wrapper is on.

    `series` defaults to the installed package's.
    """
    if (package_series() if series is None else series) not in SUPPORTED_SERIES:
        return False
    try:
        from copier_template_extensions import TemplateExtensionLoader
    except ImportError:
        return False
    load = getattr(TemplateExtensionLoader, METHOD, None)
    if load is None:
        return False
    if not getattr(load, WRAPPED_MARK, False):
        setattr(TemplateExtensionLoader, METHOD, load_once(load))
    return True


class ExtensionModulesOnce(Extension):
    """Installs the wrapper when Copier builds its environment (see the module's docstring)."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        install()
