"""The deliberate exceptions to validate's least-privilege rules, declared in gitops.yaml.

A platform team that needs a wider AppProject, an Application outside the generated shape or
a workload with host access lists it under `exceptions:` in gitops.yaml, with a reason.
CODEOWNERS gives gitops.yaml to the platform team, so an exception is their decision; validate
names every exception it honours in its summary, and refuses one that matches nothing (a stale
exception would let a later object of that name through unreviewed).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .api_checks import mapping
from .layout import SETTINGS_FILE
from .problems import Problem
from .repo import Repo

KEY = "exceptions"
ARGO_KINDS = ("AppProject", "Application")  # named once, under argocd/: no namespace to give
# Kinds an exception names without a namespace: Argo CD's, and an overlay's own namespace.
WITHOUT_NAMESPACE = (*ARGO_KINDS, "Namespace")


@dataclass(frozen=True)
class AccessException:
    kind: str
    name: str
    reason: str
    namespace: str | None = None  # for objects inside overlays: which environment's object
    # What it allows, as words of validate's lines (`type LoadBalancer`); empty: all of the object's.
    allows: tuple[str, ...] = ()

    def matches(self, kind: str, name: str, namespace: str | None = None) -> bool:
        wanted_namespace = self.namespace is None or self.namespace == namespace
        return self.kind == kind and self.name == name and wanted_namespace

    def __str__(self) -> str:
        where = f" in {self.namespace}" if self.namespace else ""
        allowed = f" allowing {', '.join(self.allows)}" if self.allows else ""
        return f"{self.kind}/{self.name}{where}{allowed} ({self.reason})"


@dataclass
class Exceptions:
    """The declared exceptions, and which of them an object used."""

    declared: list[AccessException] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    used: set[AccessException] = field(default_factory=set)

    def honours(self, kind: str, name: str, namespace: str | None = None) -> bool:
        for exception in self.declared:
            if exception.matches(kind, name, namespace):
                self.used.add(exception)
                return True
        return False

    def remaining(self, kind: str, name: str, namespace: str | None, reasons: list[str]) -> list[str]:
        """The reasons an exception of the object leaves standing: none when it allows everything,
        those without any of its `allows` words otherwise, all of them when none matches."""
        for exception in self.declared:
            if not exception.matches(kind, name, namespace):
                continue
            left = [
                r for r in reasons if exception.allows and not any(word in r for word in exception.allows)
            ]
            if len(left) < len(reasons):
                self.used.add(exception)
            return left
        return reasons

    def honoured(self) -> list[str]:
        return [str(exception) for exception in self.declared if exception in self.used]

    def unused_problems(self) -> list[Problem]:
        return [
            Problem(
                SETTINGS_FILE,
                f"{KEY}: {exception} matches no object: remove it (a stale exception would let a later "
                "object of that name through)",
            )
            for exception in self.declared
            if exception not in self.used
        ]


def read_exceptions(repo: Repo) -> Exceptions:
    found = Exceptions()
    entries = repo.settings.get(KEY)
    if entries is None:
        return found
    if not isinstance(entries, list):
        found.problems.append(Problem(SETTINGS_FILE, f"{KEY}: must be a list, got {entries!r}"))
        return found
    for index, entry in enumerate(entries):
        exception = _parsed(mapping(entry))
        if exception is None:
            found.problems.append(
                Problem(
                    SETTINGS_FILE,
                    f"{KEY}[{index}]: needs `kind`, `name`, a `reason`, and a `namespace` unless the kind is "
                    f"AppProject, Application or Namespace (`allows`: a list of words), got {entry!r}",
                )
            )
        else:
            found.declared.append(exception)
    return found


def _parsed(entry: dict[str, Any]) -> AccessException | None:
    kind, name, reason, namespace = (entry.get(k) for k in ("kind", "name", "reason", "namespace"))
    texts = (kind, name, reason)
    if not all(isinstance(text, str) and text.strip() for text in texts):
        return None
    allows = entry.get("allows", [])
    if not isinstance(allows, list) or not all(isinstance(word, str) and word.strip() for word in allows):
        return None
    if namespace is not None and not (isinstance(namespace, str) and namespace):
        return None
    if namespace is None and kind not in WITHOUT_NAMESPACE:
        return None  # an object inside an overlay: without a namespace it would cover every environment
    return AccessException(str(kind), str(name), str(reason).strip(), namespace, tuple(allows))
