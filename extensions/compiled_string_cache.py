"""Jinja extension: compile each template string and file once per process, not once per use.

Copier renders every path part, default, validator, message and migration command with
`environment.from_string`, which compiles anew each time: for this template about a thousand
compilations of some two hundred distinct strings per render, most of the time a copy takes
(see BENCHMARKS.md). And each render builds a new environment, so every `.jinja` file compiles
again in each of the three renders of an update. The extension replaces the environment's
`from_string` with one that keeps the compiled templates per environment (reusable across
contexts: identical sources share one), and gives the environment a bytecode cache (Jinja's own
hook for file templates); both keep their compiled code for the whole process, so that the next
environment with the same settings (the next render: `tools/gitops update` renders each app's
old and new versions, the tests render hundreds of times) builds its templates without compiling,
and in the user's cache folder for the next process (see code_store).

It leans on Copier internals (tests/test_compiled_string_cache.py fails when they change):
- Copier renders strings through `jinja_env.from_string(source)`, with no globals, and files
  through `jinja_env.get_template(relative path)` of its template-root loader;
- compiling runs the extensions' `preprocess` hooks, and Copier's `yield` extension resets its
  per-render state there (which path part yields what; set when the part renders, not when it
  compiles): a template served from the cache replays the hooks.
So it is installed only under the Copier versions it was written against (SUPPORTED_COPIER);
under any other, Jinja's own `from_string` is left alone (correct, only slower).

Registered in copier.yml's `_jinja_extensions` as an extension of its own (rather than loaded
by the context hook): copier-template-extensions loads each by file path, this one needs
nothing from the others, and dropping it is one line.
"""

from __future__ import annotations

import functools
import hashlib
import marshal
import os
import stat
import sys
import tempfile
import time
import types
from collections.abc import Callable, Hashable
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from types import CodeType
from typing import Any

import jinja2
from jinja2 import BytecodeCache, Environment
from jinja2.bccache import Bucket
from jinja2.ext import Extension

# Copier release series (major, minor) whose internals the cache was checked against.
SUPPORTED_COPIER = ((9, 19),)
CACHE_ATTRIBUTE = "_gitops_string_cache"


def installed_copier_version() -> str | None:
    try:
        return version("copier")
    except PackageNotFoundError:  # rendered by something other than Copier
        return None


def supports(copier_version: str | None) -> bool:
    """Whether the cache was written against this Copier version (its major.minor series)."""
    if not copier_version:
        return False
    parts = copier_version.split(".")
    try:
        series = (int(parts[0]), int(parts[1]))
    except (IndexError, ValueError):
        return False
    return series in SUPPORTED_COPIER


MAX_PROCESS_CODE = 20_000  # distinct strings; a few hundred per template version
SHARED_CODE = "_gitops_template_compiled_code"


def process_code() -> dict[tuple[Hashable, str | None, str], CodeType]:
    """Compiled code of every string and file, by the settings it was compiled under, the file's
    name (Jinja writes it into the code) and the source (what `compile` makes of a source depends
    on the environment's syntax and the extensions' tags and filters, nothing else).
    Kept in a module of its own in sys.modules: Copier loads this file anew from each clone of
    the template, so a global here would last one render."""
    code: dict[tuple[Hashable, str | None, str], CodeType] = _process_state("code", dict)
    return code


def _process_state(name: str, empty: Callable[[], Any]) -> Any:
    holder = sys.modules.setdefault(SHARED_CODE, types.ModuleType(SHARED_CODE))
    return holder.__dict__.setdefault(name, empty())


def compile_settings(environment: Environment) -> Hashable:
    """What decides the code `environment.compile` makes of a source. Read at the first render,
    once every extension has registered its filters and tests."""
    syntax = (
        environment.block_start_string, environment.block_end_string,
        environment.variable_start_string, environment.variable_end_string,
        environment.comment_start_string, environment.comment_end_string,
        environment.line_statement_prefix, environment.line_comment_prefix,
        environment.trim_blocks, environment.lstrip_blocks, environment.newline_sequence,
        environment.keep_trailing_newline, environment.optimized, environment.autoescape,
        environment.is_async,
    )  # fmt: skip
    extensions = tuple(
        sorted(f"{type(e).__module__}.{type(e).__qualname__}" for e in environment.extensions.values())
    )
    tags = tuple(sorted(tag for e in environment.extensions.values() for tag in e.tags))
    # The compiler refuses unknown filters and tests, and bakes in whether each one is passed the
    # context, the eval context or the environment (Jinja's `jinja_pass_arg` mark): a template
    # version that changes either compiles its own code.
    callables = tuple(
        (kind, name, str(getattr(function, "jinja_pass_arg", None)))
        for kind, table in (("filter", environment.filters), ("test", environment.tests))
        for name, function in sorted(table.items())
    )
    # The compiler wraps every output in `finalize` when one is set, again by its jinja_pass_arg.
    finalize = environment.finalize
    finalizer = (
        f"{getattr(finalize, '__module__', '')}.{getattr(finalize, '__qualname__', type(finalize).__name__)}"
        f" {getattr(finalize, 'jinja_pass_arg', None)}"
        if finalize is not None
        else None
    )
    return (type(environment).__qualname__, repr(syntax), extensions, tags, callables, finalizer)


def cache_compiled_strings(environment: Environment, copier_version: str | None = None) -> bool:
    """Installs the cache on `environment` under a supported Copier; returns whether it is on.

    `copier_version` defaults to the installed one.
    """
    if getattr(environment, CACHE_ATTRIBUTE, None) is not None:
        return True
    if not supports(installed_copier_version() if copier_version is None else copier_version):
        return False
    compile_string: Callable[..., Any] = environment.from_string
    cache: dict[str, Any] = {}
    settings: list[Hashable] = []  # read at first use: extensions load before the settings are set

    def from_string(source: Any, globals: Any = None, template_class: Any = None) -> Any:
        if globals is not None or template_class is not None or not isinstance(source, str):
            return compile_string(source, globals, template_class)
        if source not in cache:
            code = shared_code(environment, settings, source, None, None)
            compiled = environment.template_class.from_code(
                environment, code, environment.make_globals(None), None
            )
            if as_it_is(environment, source):
                # Most path parts: the output is the source, whatever the context. Building the
                # context (and running the context hooks) for it was a fifth of a render.
                compiled.render = functools.partial(_source_of, source)  # type: ignore[method-assign]
            cache[source] = compiled
        else:
            # Compiling runs the extensions' preprocess hooks, which reset per-render state
            # (Copier's yield context); a cached template must run them too.
            environment.preprocess(source)
        return cache[source]

    setattr(environment, CACHE_ATTRIBUTE, cache)
    environment.from_string = from_string  # type: ignore[method-assign]
    environment.bytecode_cache = FileCodeCache(settings)
    return True


def as_it_is(environment: Environment, source: str) -> bool:
    """Whether Jinja renders `source` as it is: one line with no block, variable or comment start
    and no line statements or comments configured (newlines are what Jinja may rewrite)."""
    if (
        "\n" in source
        or "\r" in source
        or environment.line_statement_prefix
        or environment.line_comment_prefix
    ):
        return False
    starts = (
        environment.block_start_string,
        environment.variable_start_string,
        environment.comment_start_string,
    )
    return not any(start in source for start in starts)


def _source_of(source: str, *args: Any, **kwargs: Any) -> str:
    return source


def shared_code(
    environment: Environment, settings: list[Hashable], source: str, name: str | None, filename: str | None
) -> CodeType:
    """The process's compiled code of `source`, compiled now if no environment with the same
    settings compiled it before (compiling runs the preprocess hooks; reused code replays them)."""
    if not settings:
        settings.append(compile_settings(environment))
    key = (settings[0], name, source)
    shared = process_code()
    code = shared.get(key)
    if code is None:
        if len(shared) >= MAX_PROCESS_CODE:
            shared.clear()
        code = read_stored_code(key)
        if code is None:
            code = shared[key] = environment.compile(source, name, filename)
            store_code(key, code)
            return code
        shared[key] = code
    environment.preprocess(source, name, filename)
    return code if filename is None else with_filename(code, filename)


# Compiled code also outlives the process, in the user's cache folder: every `copier` command
# and every `tools/gitops update` is a new process, whose first render compiled some 300
# templates (a quarter of a copy). Keyed by everything the code depends on, as in the process,
# plus the Python, Jinja, Copier and marshal versions; written whole or not at all; anything
# unreadable is compiled again. Delete the folder to drop it.
def store_format(copier_version: str | None) -> str:
    """What stored code depends on beyond its key. Copier's full version: its `yield` tag
    compiles to a call of its own code, which a patch release may change."""
    python = sys.implementation.cache_tag
    return f"{python} jinja {jinja2.__version__} copier {copier_version} marshal {marshal.version}"


STORE_FORMAT = store_format(installed_copier_version())
MAX_STORED_CODE = 5_000  # files; the oldest half goes when there are more
# A `.writing-` file this old was left by a process killed while writing it.
ABANDONED_WRITE_SECONDS = 3_600


def pruned_stores() -> set[str]:
    """The stores this process pruned: kept beside the process's code, since the module is
    loaded anew for each clone of the template."""
    pruned: set[str] = _process_state("pruned", set)
    return pruned


def code_store() -> Path | None:
    """$XDG_CACHE_HOME/gitops-template/jinja-code (by default under ~/.cache), if there is a home."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base, "gitops-template", "jinja-code") if os.path.isabs(base) else None


def trusted(store: Path) -> bool:
    """Only a folder of the user's own that nobody else can write to: stored code runs outside
    Jinja's sandbox (the same check as Jinja's own FileSystemBytecodeCache)."""
    try:
        status = os.lstat(store)
    except OSError:
        return False
    return stat.S_ISDIR(status.st_mode) and status.st_uid == os.getuid() and not status.st_mode & 0o077


def _stored_path(store: Path, key: Hashable) -> Path:
    return store / (hashlib.sha256(repr((STORE_FORMAT, key)).encode()).hexdigest() + ".code")


def read_stored_code(key: Hashable) -> CodeType | None:
    store = code_store()
    if store is None or not trusted(store):
        return None
    try:
        data = _stored_path(store, key).read_bytes()
    except OSError:
        return None
    checksum, payload = data[:32], data[32:]
    if hashlib.sha256(payload).digest() != checksum:
        return None  # cut short or damaged
    try:
        code = marshal.loads(payload)
    except (EOFError, ValueError, TypeError):
        return None
    return code if isinstance(code, CodeType) else None


def store_code(key: Hashable, code: CodeType) -> None:
    """Writes `code` for the next process, or nothing (an unwritable home only costs speed)."""
    store = code_store()
    if store is None:
        return
    temporary = None
    try:
        store.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not trusted(store):
            return
        if str(store) not in pruned_stores():
            pruned_stores().add(str(store))
            _prune(store)
        payload = marshal.dumps(code)
        descriptor, temporary = tempfile.mkstemp(dir=store, prefix=".writing-")
        with os.fdopen(descriptor, "wb") as file:
            file.write(hashlib.sha256(payload).digest() + payload)
        os.replace(temporary, _stored_path(store, key))
        temporary = None
    except (OSError, ValueError):
        pass
    finally:
        if temporary is not None:
            Path(temporary).unlink(missing_ok=True)


def _prune(store: Path) -> None:
    """Once per process: the oldest half of the files when there are too many, and what killed
    processes left half-written. Other processes may prune or write at the same time."""
    now = time.time()
    for path in store.glob(".writing-*"):
        if now - _modified(path) > ABANDONED_WRITE_SECONDS:
            path.unlink(missing_ok=True)
    files = list(store.glob("*.code"))
    if len(files) <= MAX_STORED_CODE:
        return
    files.sort(key=_modified)
    for path in files[: len(files) // 2]:
        path.unlink(missing_ok=True)


def _modified(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:  # gone: pruned by another process
        return time.time()


def with_filename(code: CodeType, filename: str) -> CodeType:
    """`code` as if compiled from `filename`: the same file of another clone of the template
    (tracebacks of a template error name the file of this render)."""
    if code.co_filename == filename:
        return code
    constants = tuple(with_filename(c, filename) if isinstance(c, CodeType) else c for c in code.co_consts)
    return code.replace(co_filename=filename, co_consts=constants)


class FileCodeCache(BytecodeCache):
    """Jinja's bytecode-cache hook for templates loaded from files (Copier's `.jinja` files),
    over the same process-wide code as the strings, keyed by the template's name (its path in
    the template, the same in every clone) and its whole source."""

    def __init__(self, settings: list[Hashable]) -> None:
        self.settings = settings

    def get_bucket(self, environment: Environment, name: str, filename: str | None, source: str) -> Bucket:
        bucket = Bucket(environment, name, "")
        bucket.code = shared_code(environment, self.settings, source, name, filename)
        return bucket

    def load_bytecode(self, bucket: Bucket) -> None:  # get_bucket does the work
        pass

    def dump_bytecode(self, bucket: Bucket) -> None:  # never called: every bucket holds code
        pass


class CompiledStringCache(Extension):
    """Installs the cache on the environment Copier builds (see the module's docstring)."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        cache_compiled_strings(environment)
