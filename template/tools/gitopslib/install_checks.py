"""What the Argo CD install's own files may not hold (argocd/install/: its resources, patches and
generators; the release itself is remote and pinned, argocd_checks.install_problems).

No Argo CD object: argocd/apps/ is where validate holds AppProjects and Applications to the
generated shape, and one here would escape every check. No setting that opens Argo CD to
everyone: a default role above read-only (also by redefining role:readonly in policy.csv), or
anonymous access. Read in every form Kustomize applies: files and folders listed, inline
patches (strategic merge or JSON 6902), and ConfigMap generators' literals.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from .api_checks import listed, mapping
from .argocd_objects import APPS_DIR, INSTALL_DIR
from .overlay_checks import REMOTE, loaded_entries
from .problems import Problem
from .repo import Repo

ARGO_KINDS_OUTSIDE_CHECKS = {"AppProject", "Application", "ApplicationSet"}
RBAC_CONFIG, SETTINGS_CONFIG = "argocd-rbac-cm", "argocd-cm"
SAFE_DEFAULT_ROLES = {"", "role:readonly"}
YAML_SUFFIXES = {".yaml", ".yml", ".json"}


def install_content_problems(repo: Repo, data: dict[str, Any], kustomization: str) -> list[Problem]:
    problems = []
    for where, text in _texts(repo.root, data, kustomization):
        try:
            documents = list(yaml.safe_load_all(text))
        except (yaml.YAMLError, ValueError) as error:
            problems.append(Problem(where, f"cannot be read: {' '.join(str(error).split())}"))
            continue
        for doc in documents:
            reasons = _install_reasons(doc) if isinstance(doc, dict) else _operation_reasons(doc)
            problems += [Problem(where, reason) for reason in reasons]
    for generator in map(mapping, listed(data.get("configMapGenerator"))):
        literals = [
            entry.partition("=") for entry in listed(generator.get("literals")) if isinstance(entry, str)
        ]
        config = {"kind": "ConfigMap", "metadata": {"name": generator.get("name")}}
        config["data"] = {key.strip(): value for key, _, value in literals}
        problems += [Problem(kustomization, reason) for reason in _install_reasons(config)]
    return problems


def _texts(root: Path, data: dict[str, Any], kustomization: str) -> list[tuple[str, str]]:
    """(where, YAML text) of every local file the kustomization loads and every inline patch."""
    found: list[tuple[str, str]] = []
    for _, entry in loaded_entries(data):
        if not isinstance(entry, str) or REMOTE.search(entry):
            continue
        if "\n" in entry:  # an inline patch (patchesStrategicMerge takes those too)
            found.append((kustomization, entry))
            continue
        path = root / INSTALL_DIR / entry
        files = sorted(p for p in path.rglob("*") if p.suffix in YAML_SUFFIXES) if path.is_dir() else [path]
        for file in files:
            try:
                found.append((file.relative_to(root).as_posix(), file.read_text()))
            except (OSError, UnicodeDecodeError):
                continue  # missing or unreadable: the kustomization checks name it
    for patch in map(mapping, listed(data.get("patches"))):
        if isinstance(patch.get("patch"), str):
            found.append((kustomization, patch["patch"]))
    return found


def _install_reasons(doc: dict[str, Any]) -> list[str]:
    kind, name = doc.get("kind"), mapping(doc.get("metadata")).get("name")
    if kind in ARGO_KINDS_OUTSIDE_CHECKS:
        return [f"{kind}/{name}: Argo CD objects belong under {APPS_DIR}/, where validate checks them"]
    if kind != "ConfigMap":
        return []
    return _settings_reasons(name, mapping(doc.get("data")))


def _settings_reasons(name: Any, settings: dict[str, Any]) -> list[str]:
    reasons = []
    if name == RBAC_CONFIG:
        default = settings.get("policy.default", "")
        if not isinstance(default, str) or default.strip() not in SAFE_DEFAULT_ROLES:
            reasons.append(
                f"{RBAC_CONFIG}: policy.default {default} gives that role to every user who logs in; "
                "grant roles to groups in policy.csv"
            )
        for line in str(settings.get("policy.csv", "")).splitlines():
            fields = [field.strip() for field in line.split(",")]
            if (
                len(fields) >= 4
                and fields[0] == "p"
                and fields[1] in ("role:readonly", "*")
                and "*" in fields[2:4]
            ):
                reasons.append(
                    f"{RBAC_CONFIG}: policy.csv `{line.strip()}` gives every user who logs in (the default "
                    "role) more than reading"
                )
    if name == SETTINGS_CONFIG and str(settings.get("users.anonymous.enabled")).strip().lower() == "true":
        reasons.append(f"{SETTINGS_CONFIG}: users.anonymous.enabled lets anyone in without logging in")
    return reasons


def _operation_reasons(operations: Any) -> list[str]:
    """A JSON 6902 patch (a list of operations): the settings it writes, by their path."""
    reasons: list[str] = []
    for operation in map(mapping, listed(operations)):
        path, value = str(operation.get("path", "")), operation.get("value")
        key = path.rsplit("/", 1)[-1].replace("~1", "/").replace("~0", "~")
        settings = mapping(value) if path.rstrip("/").endswith("/data") else {key: value}
        for name in (RBAC_CONFIG, SETTINGS_CONFIG):
            reasons += _settings_reasons(name, settings)
    return sorted(set(reasons))
