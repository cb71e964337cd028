"""Reads the Argo CD objects of the repository: the root app and every app's Applications."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from . import fast_yaml
from .api_checks import mapping
from .errors import BrokenFileError
from .problems import Problem
from .repo import YAML_SUFFIXES, Repo, read_text, yaml_reason

ARGOCD_DIR = "argocd"
APPS_DIR = "argocd/apps"
BOOTSTRAP_DIR = "argocd/bootstrap"
# Argo CD's own install manifests are remote; its kustomization is checked on its own.
INSTALL_DIR = "argocd/install"
ARGO_API = "argoproj.io/v1alpha1"


@dataclass
class Located:
    """An object and the file it came from."""

    path: str
    obj: dict[str, Any]

    @property
    def name(self) -> str:
        return str(mapping(self.obj.get("metadata")).get("name", ""))

    @property
    def kind(self) -> str:
        return str(self.obj.get("kind", ""))


@dataclass
class ArgoObjects:
    objects: list[Located] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    # project()'s index, and the list (and its length) it was made from.
    _projects: dict[str, Located] = field(default_factory=dict, init=False, repr=False, compare=False)
    _projects_of: list[Located] | None = field(default=None, init=False, repr=False, compare=False)
    _projects_count: int = field(default=-1, init=False, repr=False, compare=False)

    def of_kind(self, kind: str, under: str | None = None) -> list[Located]:
        return [
            o
            for o in self.objects
            if o.kind == kind
            and o.obj.get("apiVersion") == ARGO_API
            and (under is None or o.path.startswith(under + "/"))
        ]

    def project(self, name: str) -> Located | None:
        """The first AppProject of that name. Looked up once per overlay: an index, not a scan
        (a scan per overlay made validate quadratic in apps, 3 of 19 s at 600 overlays)."""
        if self._projects_of is not self.objects or self._projects_count != len(self.objects):
            self._projects = {}
            for project in self.of_kind("AppProject"):
                self._projects.setdefault(project.name, project)
            self._projects_of, self._projects_count = self.objects, len(self.objects)
        return self._projects.get(name)


# Argo CD skips a file holding this marker, and the root app's prune then deletes what it held.
SKIP_RENDERING = "+argocd:skip-file-rendering"


ALIASES_REFUSED = "anchors and aliases are not allowed under argocd/"
MERGE_KEYS_REFUSED = "merge keys (<<) are not allowed under argocd/"
# Explicit tags both readers take the same way. Not `!!binary` (Argo CD's Go parser reads the
# decoded text as a string, PyYAML bytes, which no check takes for a label or a field name),
# nor `!!timestamp`, `!!set` and the rest, which Go reads another way or not at all.
SAME_IN_GO_TAGS = {
    "!",
    *(f"tag:yaml.org,2002:{name}" for name in ("str", "int", "bool", "float", "null", "seq", "map")),
}


def refused_tag(event: Any) -> str | None:
    """Why an event's explicit tag is refused; None when it has none or one read alike."""
    tag = getattr(event, "tag", None)
    if tag is None or tag in SAME_IN_GO_TAGS:
        return None
    shown = tag.replace("tag:yaml.org,2002:", "!!")
    return f"the YAML tag {shown} is not allowed under argocd/: Argo CD's parser reads it otherwise"


class _NoMergeKeys:
    """Refuses merge keys where PyYAML's constructor would apply them."""

    def flatten_mapping(self, node: yaml.MappingNode) -> None:
        if any(key.tag == "tag:yaml.org,2002:merge" for key, _ in node.value):
            raise yaml.constructor.ConstructorError(None, None, MERGE_KEYS_REFUSED, node.start_mark)
        super().flatten_mapping(node)  # type: ignore[misc]


class NoAliasLoader(_NoMergeKeys, fast_yaml.PureSafeLoader):
    """PyYAML, refusing anchors, aliases and merge keys: Argo CD's Go parser reads a merge key
    written after a field as overriding it, where PyYAML keeps the field, so the same file would
    mean a narrow project here and a wide one in the cluster; aliases also allow alias bombs.
    The pure-Python reader: load_documents takes it when PyYAML was built without libyaml."""

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        event = self.peek_event()  # type: ignore[no-untyped-call]
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise yaml.constructor.ConstructorError(None, None, ALIASES_REFUSED, event.start_mark)
        if reason := refused_tag(event):
            raise yaml.constructor.ConstructorError(None, None, reason, event.start_mark)
        return super().compose_node(parent, index)


C_LOADER = fast_yaml.CSafeLoader
# libyaml composes in C, where no hook sees an anchor: its events are checked first (a pass of
# the C parser), then the text is loaded by it. Several times faster than NoAliasLoader, which
# took a quarter of validate's time for a few apps.
NoMergeCLoader: type[Any] | None = type("NoMergeCLoader", (_NoMergeKeys, C_LOADER), {}) if C_LOADER else None


# libyaml's own limit (1,000 levels), where the pure-Python reader hits Python's recursion limit.
LIBYAML_TOO_DEEP = "exceeded maximum nesting depth"


def load_documents(text: str, fast: bool = True) -> list[Any]:
    """The documents of `text` as `yaml.safe_load_all` reads them, refusing anchors, aliases,
    merge keys and tags Go reads otherwise (ConstructorError). `fast=False` takes the pure-Python reader."""
    if not (fast and C_LOADER and NoMergeCLoader):
        return [doc for doc in yaml.load_all(text, Loader=NoAliasLoader) if doc is not None]
    for event in yaml.parse(text, Loader=C_LOADER):
        mark: Any = event.start_mark  # libyaml's Mark, with the same line and column
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise yaml.constructor.ConstructorError(None, None, ALIASES_REFUSED, mark)
        if reason := refused_tag(event):
            raise yaml.constructor.ConstructorError(None, None, reason, mark)
    return [doc for doc in yaml.load_all(text, Loader=NoMergeCLoader) if doc is not None]


def _is_kustomization(path: Path) -> bool:
    return path.name in {"kustomization.yaml", "kustomization.yml", "Kustomization"}


def _documents(path: Path, relative: str) -> list[Any]:
    text = read_text(path, relative)
    if SKIP_RENDERING in text:
        raise BrokenFileError(
            relative, f"holds {SKIP_RENDERING}: Argo CD would skip it and prune what it held"
        )
    try:
        return load_documents(text)
    except yaml.YAMLError as error:
        if LIBYAML_TOO_DEEP in str(error):
            raise BrokenFileError(relative, "nested too deeply to read") from None
        raise BrokenFileError(relative, f"not valid YAML: {yaml_reason(error)}") from None
    except RecursionError:  # the pure-Python reader's limit
        raise BrokenFileError(relative, "nested too deeply to read") from None


def read_argo_objects(repo: Repo, folder: str = ARGOCD_DIR) -> ArgoObjects:
    """Every document Argo CD would read under argocd/ (or only under `folder` in it): the root
    app syncs argocd/apps/ as a plain directory (a kustomization.yaml there is just another
    manifest to it); bootstrap/ is applied with `kubectl apply -k` and install/ is Argo CD's
    own, checked on its own."""
    found = ArgoObjects()
    for path in sorted((repo.root / folder).rglob("*")):
        relative = repo.relative(path)
        if relative.startswith(INSTALL_DIR + "/") or not (path.is_file() or path.is_symlink()):
            continue
        if path.is_symlink():
            found.problems.append(
                Problem(relative, "a symlink: Argo CD follows it to a file CODEOWNERS does not protect here")
            )
            continue
        if path.suffix == ".jsonnet" and relative.startswith(APPS_DIR + "/"):
            found.problems.append(
                Problem(relative, "Argo CD evaluates jsonnet here, which validate cannot check: write YAML")
            )
            continue
        if path.suffix not in YAML_SUFFIXES or (
            _is_kustomization(path) and not relative.startswith(APPS_DIR + "/")
        ):
            continue
        try:
            documents = _documents(path, relative)
        except BrokenFileError as error:
            found.problems.append(Problem(error.path, error.reason))
            continue
        for doc in documents:
            if isinstance(doc, dict):
                found.objects.append(Located(relative, doc))
            else:
                found.problems.append(Problem(relative, "holds a document that is not a mapping"))
    return found
