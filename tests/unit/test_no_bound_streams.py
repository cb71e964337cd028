"""No function of the shipped tools binds a stream as a default argument.

A default such as `out: TextIO = sys.stdout` is read once, when the module is first imported. The
CLI imports its subcommands lazily, so a module first imported while stdout was redirected (a test
running `main` in-process, or any caller using contextlib.redirect_stdout) kept writing to that old
redirect afterwards: `status --json` printed nothing in CI.
"""

import importlib
import inspect
import io
import pkgutil
from collections.abc import Iterator
from types import ModuleType

import gitopslib


def shipped_modules() -> Iterator[ModuleType]:
    for info in pkgutil.iter_modules(gitopslib.__path__):
        yield importlib.import_module(f"gitopslib.{info.name}")


def test_no_default_argument_is_a_stream() -> None:
    bound = []
    for module in shipped_modules():
        for name, function in inspect.getmembers(module, inspect.isfunction):
            if function.__module__ != module.__name__:
                continue
            for parameter in inspect.signature(function).parameters.values():
                if isinstance(parameter.default, io.IOBase):
                    bound.append(f"{module.__name__}.{name}({parameter.name}=...)")
    assert len(list(shipped_modules())) > 20
    assert bound == []
