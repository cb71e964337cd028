"""Context hook: derives per-environment settings from the stored answers.

Templates read `gitops_envs[env]` instead of re-deriving names, replica counts and
cluster servers in Jinja. The hook runs on every render, including question defaults
and validators with partial answers, so it returns early when what it needs is missing
or not yet valid. It reads answers only (never `_external_data`, which is empty while
`copier update` renders the old and new template versions).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from copier_template_extensions import ContextHook
from jinja2 import Environment

IN_CLUSTER_SERVER = "https://kubernetes.default.svc"
ANSWERS_PREFIX, ANSWERS_SUFFIX = ".copier-answers.", ".yml"


def positional_replicas(position: int, count: int) -> int:
    """1 in the first environment, 3 in the last, 2 in between."""
    if position == 0:
        return 1
    if position == count - 1:
        return 3
    return 2


POSITIONAL_RESOURCES = (
    {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"cpu": "250m", "memory": "128Mi"}},
    {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "500m", "memory": "256Mi"}},
    {"requests": {"cpu": "250m", "memory": "256Mi"}, "limits": {"cpu": "1", "memory": "512Mi"}},
)
MEMORY_UNITS = {"": 1, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}
MEMORY_UNITS |= {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}
DEFAULT_CPU_TARGET = 75


def positional_resources(position: int, count: int, given: Any) -> dict[str, dict[str, str]]:
    """The environment's default (small first, large last), overridden by what was given."""
    index = 0 if position == 0 else 2 if position == count - 1 else 1
    merged = {kind: dict(amounts) for kind, amounts in POSITIONAL_RESOURCES[index].items()}
    for kind, amounts in (given or {}).items():
        merged[kind].update({name: str(amount) for name, amount in amounts.items()})
    return merged


def scaled_quantity(quantity: str, factor: int, resource: str) -> str:
    """`quantity` times `factor`, as millicores (cpu) or mebibytes (memory), rounded up."""
    if resource == "cpu":
        millicores = int(quantity[:-1]) if quantity.endswith("m") else round(float(quantity) * 1000)
        return f"{millicores * factor}m"
    number = quantity.rstrip("KMGTik")
    unit = quantity[len(number) :]
    mebibytes = -(-float(number) * MEMORY_UNITS[unit] * factor // 2**20)
    return f"{int(mebibytes)}Mi"


def namespace_quota(resources: dict[str, dict[str, str]], max_pods: int) -> dict[str, str]:
    """Room for every pod twice (rolling updates) plus hook Jobs."""
    pods = 2 * max_pods + 2
    quota = {"pods": str(pods)}
    for kind in ("requests", "limits"):
        for resource in ("cpu", "memory"):
            quota[f"{kind}.{resource}"] = scaled_quantity(resources[kind][resource], pods, resource)
    return quota


def writable_volumes(paths: list[str]) -> list[dict[str, str]]:
    """An emptyDir volume per writable path, named after the path (`/var/cache` -> `var-cache`)."""
    volumes, used = [], set()
    for path in paths:
        name = re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-")[:50] or "root"
        while name in used:
            name += "-x"
        used.add(name)
        volumes.append({"name": name, "path": path})
    return volumes


def environment_settings(
    answers: dict[str, Any], environments: list[str], replicas: dict[str, Any], clusters: dict[str, Any]
) -> dict[str, dict[str, Any]]:
    app_name = answers["app_name"]
    autoscaling = answers.get("autoscaling") or {}
    manual = set(answers.get("manual_sync_environments") or [])
    settings: dict[str, dict[str, Any]] = {}
    for position, env in enumerate(environments):
        name = f"{app_name}-{env}"
        scaling = autoscaling.get(env)
        if scaling is not None:
            scaling = {"cpu": DEFAULT_CPU_TARGET, **scaling}
        fixed = None if scaling else replicas.get(env, positional_replicas(position, len(environments)))
        most_pods = scaling["max"] if scaling else fixed
        resources = positional_resources(
            position, len(environments), (answers.get("resources") or {}).get(env)
        )
        settings[env] = {
            "name": env,
            "position": position,
            "previous": environments[position - 1] if position else None,
            "namespace": name,
            "application": name,
            "project": name,
            "replicas": fixed,
            "autoscaling": scaling,
            "disruption_budget": (scaling["min"] if scaling else fixed) > 1,
            "resources": resources,
            "quota": namespace_quota(resources, max(most_pods, 1)),
            "host": (answers.get("hosts") or {}).get(env, f"{app_name}.{env}.example.com"),
            "manual_sync": env in manual or answers.get("sync_policy") == "manual",
            "sync_window": (answers.get("sync_windows") or {}).get(env),
            "server": clusters.get(env, IN_CLUSTER_SERVER),
        }
    return settings


def app_of_answers_file(answers_file: str) -> str:
    """`.copier-answers.shop.yml` -> `shop`."""
    name = Path(answers_file).name
    return name.removeprefix(ANSWERS_PREFIX).removesuffix(ANSWERS_SUFFIX)


def cache_compiled_strings(environment: Environment) -> None:
    """Compile each template string once per render instead of once per use.

    Copier renders every path part, default, validator and message with `from_string`, which
    compiles anew each time: for this template about a thousand compilations of some two
    hundred distinct strings, most of the time a copy takes (see BENCHMARKS.md). Templates
    are reusable across contexts, so identical sources share one compiled template.
    """
    if getattr(environment, "_gitops_string_cache", None) is not None:
        return
    compile_string = environment.from_string
    cache: dict[str, Any] = {}

    def from_string(source: Any, globals: Any = None, template_class: Any = None) -> Any:
        uncached = globals is not None or template_class is not None or not isinstance(source, str)
        # Copier's `yield` tag keeps per-compilation state: those strings compile every time.
        if uncached or "yield" in source:
            return compile_string(source, globals, template_class)
        if source not in cache:
            cache[source] = compile_string(source)
        else:
            # Compiling runs the extensions' preprocess hooks, which reset per-render state
            # (Copier's yield context); a cached template must run them too.
            environment.preprocess(source)
        return cache[source]

    environment._gitops_string_cache = cache  # type: ignore[attr-defined]
    environment.from_string = from_string  # type: ignore[method-assign]


class GitOpsContext(ContextHook):
    """Adds `gitops_envs` (settings per environment, in promotion order) to the context.

    Also `migration_app`: before-migrations run before the answers are loaded, so they
    name the app's files with this (derived from the answers file being updated).
    """

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        cache_compiled_strings(environment)
        self._settings: dict[str, dict[str, dict[str, Any]]] = {}

    SETTINGS_INPUTS = (
        "app_name", "environments", "replicas", "clusters", "autoscaling", "manual_sync_environments",
        "resources", "hosts", "sync_windows", "sync_policy",
    )  # fmt: skip

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
        try:
            # The hook runs for every string Copier renders (about a thousand per copy) with the
            # same answers: derive the settings once per distinct set of inputs.
            key = json.dumps(
                [context.get(name) for name in self.SETTINGS_INPUTS], sort_keys=True, default=str
            )
            if key not in self._settings:
                self._settings[key] = environment_settings(context, environments, replicas, clusters)
            context["gitops_envs"] = self._settings[key]
            context["writable_volumes"] = writable_volumes(context.get("writable_paths") or [])
        except (AttributeError, KeyError, TypeError, ValueError):
            return  # answers not validated yet: their own validators say what is wrong
        context["in_cluster_server"] = IN_CLUSTER_SERVER
