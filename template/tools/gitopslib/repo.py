"""The layout of a generated GitOps repository: settings, apps and overlays."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .errors import UsageError

SETTINGS_FILE = "gitops.yaml"
YAML_SUFFIXES = (".yaml", ".yml", ".json")


class RepoError(UsageError):
    """The repository cannot be read at all (usage error: exit 2)."""


@dataclass(frozen=True, order=True)
class Overlay:
    env: str
    app: str

    @property
    def path(self) -> str:
        return f"environments/{self.env}/{self.app}"


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

    def apps(self) -> list[str]:
        """Apps are discovered by directory: a base or any overlay makes an app."""
        names = {p.name for p in (self.root / "applications/base").glob("*/") if p.is_dir()}
        names |= {overlay.app for overlay in self.overlays()}
        return sorted(names)

    def overlays(self) -> list[Overlay]:
        found = self.root.glob("environments/*/*/kustomization.yaml")
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
    settings = yaml.safe_load((root / SETTINGS_FILE).read_text()) or {}
    if not isinstance(settings, dict):
        raise RepoError(f"{SETTINGS_FILE}: must be a YAML mapping")
    return Repo(root=root, settings=settings)


def load_documents(path: Path) -> list[Any]:
    """Every YAML document of a file, empty documents left out."""
    with path.open() as stream:
        return [doc for doc in yaml.safe_load_all(stream) if doc is not None]


def yaml_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.rglob("*") if p.suffix in YAML_SUFFIXES and p.is_file())
