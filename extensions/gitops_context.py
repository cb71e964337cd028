"""Context hook: derives per-environment settings from the stored answers.

Templates read `gitops_envs[env]` instead of re-deriving names, replica counts and
cluster servers in Jinja. The hook runs on every render, including question defaults
and validators with partial answers, so it returns early when what it needs is missing
or not yet valid. It reads answers only (never `_external_data`, which is empty while
`copier update` renders the old and new template versions).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from copier_template_extensions import ContextHook

IN_CLUSTER_SERVER = "https://kubernetes.default.svc"
ANSWERS_PREFIX, ANSWERS_SUFFIX = ".copier-answers.", ".yml"


def positional_replicas(position: int, count: int) -> int:
    """1 in the first environment, 3 in the last, 2 in between."""
    if position == 0:
        return 1
    if position == count - 1:
        return 3
    return 2


def environment_settings(
    app_name: str, environments: list[str], replicas: dict[str, Any], clusters: dict[str, Any]
) -> dict[str, dict[str, Any]]:
    settings: dict[str, dict[str, Any]] = {}
    for position, env in enumerate(environments):
        name = f"{app_name}-{env}"
        settings[env] = {
            "name": env,
            "position": position,
            "previous": environments[position - 1] if position else None,
            "namespace": name,
            "application": name,
            "project": name,
            "replicas": replicas.get(env, positional_replicas(position, len(environments))),
            "server": clusters.get(env, IN_CLUSTER_SERVER),
        }
    return settings


def app_of_answers_file(answers_file: str) -> str:
    """`.copier-answers.shop.yml` -> `shop`."""
    name = Path(answers_file).name
    return name.removeprefix(ANSWERS_PREFIX).removesuffix(ANSWERS_SUFFIX)


class GitOpsContext(ContextHook):
    """Adds `gitops_envs` (settings per environment, in promotion order) to the context.

    Also `migration_app`: before-migrations run before the answers are loaded, so they
    name the app's files with this (derived from the answers file being updated).
    """

    def hook(self, context: dict[str, Any]) -> None:
        if str(context.get("_copier_phase", "")).endswith("migrate"):
            conf = context.get("_copier_conf")
            if isinstance(conf, Mapping) and conf.get("answers_file"):
                context["migration_app"] = app_of_answers_file(str(conf["answers_file"]))
        app_name = context.get("app_name")
        environments = context.get("environments")
        replicas = context.get("replicas") or {}
        clusters = context.get("clusters") or {}
        if not (
            isinstance(app_name, str)
            and isinstance(environments, list)
            and all(isinstance(env, str) for env in environments)
            and isinstance(replicas, dict)
            and isinstance(clusters, dict)
        ):
            return
        context["gitops_envs"] = environment_settings(app_name, environments, replicas, clusters)
        context["in_cluster_server"] = IN_CLUSTER_SERVER
