"""Reads the Argo CD objects of the repository: the root app and every app's Applications."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .api_checks import mapping
from .errors import BrokenFileError
from .problems import Problem
from .repo import Repo, load_documents, yaml_files

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

    def of_kind(self, kind: str, under: str | None = None) -> list[Located]:
        return [
            o
            for o in self.objects
            if o.kind == kind
            and o.obj.get("apiVersion") == ARGO_API
            and (under is None or o.path.startswith(under + "/"))
        ]

    def project(self, name: str) -> Located | None:
        return next((p for p in self.of_kind("AppProject") if p.name == name), None)


def _is_kustomization(path: Path) -> bool:
    return path.name in {"kustomization.yaml", "kustomization.yml", "Kustomization"}


def read_argo_objects(repo: Repo) -> ArgoObjects:
    found = ArgoObjects()
    for path in yaml_files(repo.root / ARGOCD_DIR):
        relative = repo.relative(path)
        if _is_kustomization(path) or relative.startswith(INSTALL_DIR + "/"):
            continue
        try:
            documents = load_documents(path, relative)
        except BrokenFileError as error:
            found.problems.append(Problem(error.path, error.reason))
            continue
        for doc in documents:
            if isinstance(doc, dict):
                found.objects.append(Located(relative, doc))
            else:
                found.problems.append(Problem(relative, "holds a document that is not a mapping"))
    return found
