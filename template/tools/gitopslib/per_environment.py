"""Per-environment answers when the environment list changes (`update --data environments=...`).

The template stores every per-environment answer resolved for the listed environments
(replicas and resources complete, the other mappings pruned; see the context hook in the
template's extensions). When the list changes, each app's stored values are passed on
explicitly, so that no existing environment changes: a new environment takes the values of
the environment before it, as its release does (the template's seed migration), and a removed
one's values go.
Hosts and clusters name an environment rather than size it: a new one gets its own default.
"""

from __future__ import annotations

from typing import Any

import yaml

from . import fast_yaml
from .layout import HELM_CHART

COPIED_MAPS = ("replicas", "resources", "autoscaling", "sync_windows")
OWN_MAPS = ("hosts", "clusters")
COPIED_LISTS = ("manual_sync_environments", "protected_environments")


def environments_of(value: Any) -> list[str] | None:
    if isinstance(value, str):
        try:
            value = fast_yaml.load(value)
        except yaml.YAMLError:
            return None
    if isinstance(value, list) and all(isinstance(env, str) for env in value):
        return value
    return None  # the template's own validator names what is wrong with it


def _mapping_for(value: dict[str, Any], old: list[str], new: list[str], copied: bool) -> dict[str, Any]:
    mapped: dict[str, Any] = {}
    for position, env in enumerate(new):
        before = new[position - 1] if position else None
        if env in value:
            mapped[env] = value[env]
        elif copied and env not in old and before in mapped:
            mapped[env] = mapped[before]
    return mapped


def _list_for(value: list[Any], old: list[str], new: list[str]) -> list[str]:
    listed: list[str] = []
    for position, env in enumerate(new):
        before = new[position - 1] if position else None
        if env in value or (env not in old and before in listed):
            listed.append(env)
    return listed


def answers_for_environments(stored: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    """`data` plus every per-environment answer of `stored` carried over to the new list.

    Answers given in `data` win; nothing changes unless `data` changes the environments.
    """
    new = environments_of(data.get("environments"))
    old = environments_of(stored.get("environments")) or []
    if new is None or new == old:
        return data
    carried: dict[str, Any] = dict(data)
    for question in (*COPIED_MAPS, *OWN_MAPS):
        value = stored.get(question)
        if question not in data and isinstance(value, dict):
            carried[question] = _mapping_for(value, old, new, copied=question in COPIED_MAPS)
    for question in COPIED_LISTS:
        value = stored.get(question)
        if question not in data and isinstance(value, list):
            carried[question] = _list_for(value, old, new)
    return carried


def unresolved_answers_problem(stored: dict[str, Any], data: dict[str, Any]) -> str:
    """Why an environment change cannot be carried over yet, or "".

    Answers written by a template release older than the resolved per-environment values hold
    only what was given; the rest followed list position. Changing the list in the same run as
    the template update would move every existing environment to the defaults of its new place.
    """
    new = environments_of(data.get("environments"))
    old = environments_of(stored.get("environments")) or []
    if new is None or new == old:
        return ""
    replicas, resources = stored.get("replicas"), stored.get("resources")
    # Replicas of the template's own: none for a chart (its values size its pods).
    autoscaled = set(old) if stored.get("workload") == HELM_CHART else set(stored.get("autoscaling") or {})
    if (
        isinstance(resources, dict)
        and set(old) <= set(resources)
        and isinstance(replicas, dict)
        and set(old) - autoscaled <= set(replicas)
    ):
        return ""
    return (
        "replicas and resources are not stored for every environment yet (answers of an older "
        "template release): run tools/gitops update without --data first, then change the environments"
    )


def replaced_environment_problem(stored: dict[str, Any], data: dict[str, Any]) -> str:
    """Why a change that puts a new environment where an old one was (a rename) is refused, or "".

    The new one would start from the release of the environment before it and from a new
    environment's own defaults (the in-cluster server, its own host), not from the one it
    replaces: a rename to production would deploy staging's release, synced by itself, to
    another cluster. Added right after the old one, it starts from the old one's release and
    settings; the old one can then be removed."""
    new = environments_of(data.get("environments"))
    old = environments_of(stored.get("environments")) or []
    if new is None:
        return ""
    for position, env in enumerate(old):
        if env in new or position >= len(new) or new[position] in old:
            continue
        replacement = new[position]
        return (
            f"environments: {replacement} would replace {env} (a rename), starting from the release "
            f"and defaults of a new environment rather than {env}'s; rename in two runs: add "
            f"{replacement} right after {env} (it starts from {env}'s release and settings; give its "
            f"cluster with --data clusters=... if {env} has one), then remove {env}"
        )
    return ""
