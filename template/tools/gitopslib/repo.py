"""A generated GitOps repository as the tools read it: settings, apps and overlays (their
names: layout.py)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from . import fast_yaml
from .errors import BrokenFileError, UsageError
from .layout import BASES_DIR, KUSTOMIZATION, SETTINGS_FILE, answers_file, overlay_dir

YAML_SUFFIXES = (".yaml", ".yml", ".json")


class RepoError(UsageError):
    """Not inside a GitOps repository (usage error: exit 2). A gitops.yaml that cannot be read
    is a BrokenFileError (exit 1): the repository needs fixing, not the command line."""


@dataclass(frozen=True, order=True)
class Overlay:
    env: str
    app: str

    @property
    def path(self) -> str:
        return overlay_dir(self.env, self.app)


@dataclass
class Repo:
    root: Path
    settings: dict[str, Any]

    @property
    def environments(self) -> list[str]:
        return list(self.settings.get("environments") or [])

    @property
    def repo_url(self) -> str:
        return str(self.settings.get("repo_url", ""))

    def answers_file(self, app: str) -> Path:
        return self.root / answers_file(app)

    def apps(self) -> list[str]:
        """Apps are discovered by directory: a base or any overlay makes an app."""
        names = {p.name for p in (self.root / BASES_DIR).glob("*/") if p.is_dir()}
        names |= {overlay.app for overlay in self.overlays()}
        return sorted(names)

    def overlays(self) -> list[Overlay]:
        found = self.root.glob(f"{overlay_dir('*', '*')}/{KUSTOMIZATION}")
        return sorted(Overlay(env=p.parent.parent.name, app=p.parent.name) for p in found)

    def relative(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()


def find_root(start: Path) -> Path:
    for candidate in (start, *start.parents):
        if (candidate / SETTINGS_FILE).is_file():
            return candidate
    raise RepoError(f"{start}: not inside a GitOps repository (no {SETTINGS_FILE} found)")


def load_repo(start: Path) -> Repo:
    root = find_root(start.resolve())
    settings = read_yaml(root / SETTINGS_FILE, SETTINGS_FILE)
    if not isinstance(settings, dict):
        raise BrokenFileError(SETTINGS_FILE, "must be a YAML mapping of the repo-level settings")
    if reason := environments_problem(settings.get("environments")):
        raise BrokenFileError(SETTINGS_FILE, reason)
    return Repo(root=root, settings=settings)


def environments_problem(environments: Any) -> str:
    """Why `environments:` of gitops.yaml is unusable (empty when it is fine): every command
    walks the promotion order, so a string or an empty list would mislead them all."""
    if not isinstance(environments, list) or not environments:
        return "environments must be a non-empty list of environment names, e.g. [dev, staging, prod]"
    for name in environments:
        if not isinstance(name, str) or not name or "/" in name:
            return f"environments: {name!r} is not an environment name"
        if environments.count(name) > 1:
            return f"environments: {name} is listed twice"
    return ""


def read_text(path: Path, relative: str) -> str:
    """The text of a file; BrokenFileError names `relative` when it is missing or not UTF-8."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise BrokenFileError(relative, "missing") from None
    except OSError as error:
        raise BrokenFileError(relative, f"cannot be read: {error.strerror}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise BrokenFileError(relative, f"not UTF-8 text (line {line})") from None


def yaml_reason(error: Exception) -> str:
    """A YAML error on one line: the parsers' own messages span several, with a context first.

    PyYAML's and ruamel.yaml's marked errors both carry `problem` and `problem_mark`.
    """
    problem, mark = getattr(error, "problem", None), getattr(error, "problem_mark", None)
    if problem and mark is not None:
        return f"{problem} (line {mark.line + 1}, column {mark.column + 1})"
    lines = str(error).strip().splitlines()
    return str(problem or (lines[0] if lines else type(error).__name__))


def parse_yaml(text: str, relative: str) -> Any:
    try:
        return fast_yaml.load(text)
    except yaml.YAMLError as error:
        raise BrokenFileError(relative, f"not valid YAML: {yaml_reason(error)}") from None


# read_yaml's results while `parsed_once` is on: path -> the value, or the BrokenFileError.
_parsed: dict[Path, Any] | None = None


@contextmanager
def parsed_once() -> Iterator[None]:
    """While it runs, each file read_yaml reads is parsed once: validate reads an overlay's
    kustomization for its namespace, its checks and its build, and a release for its checks, its
    images and its charts. Only for code that writes no file and changes no value read."""
    global _parsed
    outer, _parsed = _parsed, {} if _parsed is None else _parsed
    try:
        yield
    finally:
        _parsed = outer


def read_yaml(path: Path, relative: str) -> Any:
    """The one YAML document of a file (None when empty); BrokenFileError says why it cannot be read."""
    if _parsed is None:
        return parse_yaml(read_text(path, relative), relative)
    if path not in _parsed:
        try:
            _parsed[path] = parse_yaml(read_text(path, relative), relative)
        except BrokenFileError as error:
            _parsed[path] = error
    found = _parsed[path]
    if isinstance(found, BrokenFileError):
        # Named as this caller names the file.
        raise BrokenFileError(relative, found.reason) from None
    return found


def load_documents(path: Path, relative: str) -> list[Any]:
    """Every YAML document of a file, empty documents left out."""
    text = read_text(path, relative)
    try:
        return [doc for doc in fast_yaml.load_all(text) if doc is not None]
    except yaml.YAMLError as error:
        raise BrokenFileError(relative, f"not valid YAML: {yaml_reason(error)}") from None


def yaml_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.rglob("*") if p.suffix in YAML_SUFFIXES and p.is_file())
