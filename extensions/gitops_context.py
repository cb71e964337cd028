"""Context hook: derives per-environment settings from the stored answers.

Templates read `gitops_envs[env]` instead of re-deriving names, replica counts and
cluster servers in Jinja. The hook runs on every render, including question defaults
and validators with partial answers, so it returns early when what it needs is missing
or not yet valid. It reads answers only (never `_external_data`, which is empty while
`copier update` renders the old and new template versions). The repository's layout names
come from template/tools/gitopslib/layout.py, loaded by path (load_layout).
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
import math
import re
import sys
import types
import warnings
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal, InvalidOperation, localcontext
from pathlib import Path
from typing import Any

from copier_template_extensions import ContextHook
from jinja2 import Environment

LAYOUT_FILE = Path(__file__).resolve().parent.parent / "template/tools/gitopslib/layout.py"


def load_layout(path: Path = LAYOUT_FILE) -> types.ModuleType:
    """gitopslib/layout.py of this template version, executed once per content.

    Copier loads this extension anew for each render, and `copier update` renders two template
    versions in one process: the module is cached in sys.modules under a name made from its
    content, so that each version reads its own layout and none is executed twice.
    """
    text = path.read_bytes()
    name = f"_gitops_template_layout_{hashlib.sha256(text).hexdigest()[:16]}"
    if (module := sys.modules.get(name)) is not None:
        return module
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"{path}: cannot be loaded")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return sys.modules.setdefault(name, module)


_layout = load_layout()
IN_CLUSTER_SERVER: str = _layout.IN_CLUSTER_SERVER
HELM_CHART: str = _layout.HELM_CHART
app_env_name: Callable[[str, str], str] = _layout.app_env_name
app_of_answers_file: Callable[[str], str | None] = _layout.app_of_answers_file
# The rule validate applies to memory, from gitopslib/quantities.py (stdlib only), loaded the same way.
fractional_byte_problem: Callable[[Decimal, Any], str] = load_layout(
    LAYOUT_FILE.with_name("quantities.py")
).fractional_byte_problem


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
RESOURCE_KEYS = {"requests": ("cpu", "memory"), "limits": ("cpu", "memory")}
DEFAULT_CPU_TARGET = 75

# Kubernetes' resource.Quantity: a decimal number, then a binary (Ki..Ei) or decimal
# (n, u, m, k, M, G, T, P, E) suffix or a decimal exponent (1e3).
QUANTITY = re.compile(
    r"^(?P<number>[+-]?(\d+(\.\d*)?|\.\d+))(?P<suffix>[KMGTPE]i|[numkMGTPE]|[eE][+-]?\d+)?$", re.ASCII
)
SUFFIXES = {"n": Decimal("1e-9"), "u": Decimal("1e-6"), "m": Decimal("1e-3"), "": Decimal(1)}
SUFFIXES |= {unit: Decimal(10) ** (3 * power) for power, unit in enumerate("kMGTPE", 1)}
SUFFIXES |= {f"{unit}i": Decimal(2) ** (10 * power) for power, unit in enumerate("KMGTPE", 1)}
MEBIBYTE = Decimal(2**20)
# Kubernetes keeps quantities in int64 milli-units (cpu) or units (memory): stay well inside both.
LARGEST_QUANTITY = Decimal(2**53)


def quantity_text(amount: Any) -> str:
    """An answer's amount as Kubernetes reads it: YAML gives `0.5` as a float and `2` as an int."""
    if isinstance(amount, bool) or not isinstance(amount, (str, int, float)):
        raise ValueError(f"{amount!r} is not a Kubernetes quantity")
    return str(amount)


def quantity_value(amount: Any) -> Decimal:
    """The amount in cores or bytes; ValueError when it is not a Kubernetes quantity."""
    text = quantity_text(amount)
    match = QUANTITY.fullmatch(text)
    if not match:
        raise ValueError(f"{text!r} is not a Kubernetes quantity (e.g. 500m, 0.5, 256Mi, 1Gi)")
    suffix = match["suffix"] or ""
    try:
        number = Decimal(match["number"])
        # E (exa) is a suffix; e3 or E3 an exponent.
        scale = SUFFIXES[suffix] if suffix in SUFFIXES else Decimal(f"1{suffix}")
    except InvalidOperation as error:
        raise ValueError(f"{text!r} is not a Kubernetes quantity") from error
    with localcontext() as exact:
        exact.prec = len(match["number"]) + 40  # exact: 28 digits would round a fraction of a byte away
        value: Decimal = number * scale
    if abs(value) >= LARGEST_QUANTITY:
        raise ValueError(f"{text!r} is larger than Kubernetes stores")
    return value


def positional_resources(position: int, count: int, given: Any) -> dict[str, dict[str, str]]:
    """The environment's default (small first, large last), overridden by what was given."""
    index = 0 if position == 0 else 2 if position == count - 1 else 1
    merged = {kind: dict(amounts) for kind, amounts in POSITIONAL_RESOURCES[index].items()}
    for kind, amounts in (given or {}).items():
        merged[kind].update({name: quantity_text(amount) for name, amount in amounts.items()})
    return merged


# What every environment ran before the `resources` question existed (v0.1.0 fixed them in the
# base Deployment, no CPU limit).
RESOURCES_BEFORE_THE_QUESTION = {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"memory": "128Mi"}}


def resources_default(stored: Any, environments: Any) -> str:
    """The `resources` default, as YAML text. Nothing on a first copy (each environment gets its
    positional size). For an app whose stored answers predate the question (an answers file
    without `resources`), what that release ran, so that taking an update does not resize it."""
    if not isinstance(stored, Mapping) or "_commit" not in stored or not isinstance(environments, list):
        return "{}"
    return json.dumps({env: RESOURCES_BEFORE_THE_QUESTION for env in environments if isinstance(env, str)})


def scaled_quantity(quantity: str, factor: int, resource: str) -> str:
    """`quantity` times `factor`, as millicores (cpu) or mebibytes (memory), rounded up."""
    return rounded_up(quantity_value(quantity) * factor, resource)


def rounded_up(total: Decimal, resource: str) -> str:
    """An amount in cores or bytes as millicores (cpu) or mebibytes (memory), rounded up."""
    if resource == "cpu":
        return f"{math.ceil(total * 1000)}m"
    return f"{math.ceil(total / MEBIBYTE)}Mi"


# The smoke-test Job's pod (environments/<env>/<app>/smoke-test.yaml renders these): curl needs
# little, whatever the app's own size.
SMOKE_TEST_RESOURCES = {
    "requests": {"cpu": "10m", "memory": "16Mi"},
    "limits": {"cpu": "100m", "memory": "32Mi"},
}


def namespace_quota(
    resources: dict[str, dict[str, str]], max_pods: int, hooks: dict[str, dict[str, str]] | None = None
) -> dict[str, str]:
    """Room for every pod twice (rolling updates) plus two hook pods, each the larger of the
    app's pod and `hooks` (the smoke test's, which may ask more than a small app's pod)."""
    pods = 2 * max_pods + 2
    quota = {"pods": str(pods)}
    for kind in ("requests", "limits"):
        for resource in ("cpu", "memory"):
            own = quantity_value(resources[kind][resource])
            hook = max(own, quantity_value(hooks[kind][resource])) if hooks else own
            quota[f"{kind}.{resource}"] = rounded_up(own * 2 * max_pods + hook * 2, resource)
    return quota


MAX_VOLUME_NAME = 63


def writable_volumes(paths: list[str]) -> list[dict[str, str]]:
    """An emptyDir volume per writable path, named after the path (`/var/cache` -> `var-cache`).

    Volume names are DNS-1123 labels: at most 63 characters, a letter or digit at both ends.
    A name cut short, or one another path already took, ends in a number instead.
    """
    volumes, used = [], set()
    for path in paths:
        base = re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-") or "root"
        name, number = base[:MAX_VOLUME_NAME].rstrip("-"), 1
        while name in used:
            number += 1
            suffix = f"-{number}"
            name = base[: MAX_VOLUME_NAME - len(suffix)].rstrip("-") + suffix
        used.add(name)
        volumes.append({"name": name, "path": path})
    return volumes


def _resources_shape_problem(env: Any, spec: Any) -> str:
    if not isinstance(spec, dict) or not set(spec) <= set(RESOURCE_KEYS):
        return f"resources: {env}: must be a mapping with requests and/or limits, got {spec!r}"
    for kind, amounts in spec.items():
        if not isinstance(amounts, dict) or not set(amounts) <= set(RESOURCE_KEYS[kind]):
            return f"resources: {env}.{kind}: must be a mapping of cpu and/or memory, got {amounts!r}"
        for name, amount in amounts.items():
            try:
                negative = quantity_value(amount) < 0
            except ValueError as error:
                return f"resources: {env}.{kind}.{name}: {error}"
            if negative:
                return f"resources: {env}.{kind}.{name}: {amount!r} is negative"
    return ""


def resources_problem(resources: Any, environments: Any, strict: bool = True) -> str:
    """Each environment's resources after merging with its defaults: requests <= limits.

    A partial override (only `requests.cpu`) keeps the other defaults, so the check runs on
    the merged values, the ones the Deployment and the LimitRange get. `strict` (a new
    answer, see answer_checks.is_new_answer) adds the rules tightened since a release.
    """
    if not isinstance(resources, dict):
        return f"resources: must be a YAML mapping keyed by environment, got {resources!r}"
    known = environments if isinstance(environments, list) else []
    for env, spec in resources.items():
        if strict and env not in known:
            return f"resources: {env!r} is not one of the environments {known}"
        if problem := _resources_shape_problem(env, spec):
            return problem
    for position, env in enumerate(known if strict else ()):
        merged = positional_resources(position, len(known), resources.get(env))
        for kind in ("requests", "limits"):
            memory = merged[kind]["memory"]
            if problem := fractional_byte_problem(quantity_value(memory), memory):
                return f"resources: {env}: {kind}.memory: {problem}"
        for name in ("cpu", "memory"):
            request, limit = merged["requests"][name], merged["limits"][name]
            if quantity_value(request) > quantity_value(limit):
                return (
                    f"resources: {env}: requests.{name} {request} is above limits.{name} {limit} "
                    f"(give both, or a request within the default limit)"
                )
    return ""


def environment_settings(
    answers: dict[str, Any], environments: list[str], replicas: dict[str, Any], clusters: dict[str, Any]
) -> dict[str, dict[str, Any]]:
    app_name = answers["app_name"]
    # A chart's values size its pods: no replicas, autoscaler or disruption budget of the template's.
    chart = answers.get("workload") == HELM_CHART
    autoscaling = {} if chart else answers.get("autoscaling") or {}
    manual = set(answers.get("manual_sync_environments") or [])
    settings: dict[str, dict[str, Any]] = {}
    for position, env in enumerate(environments):
        name = app_env_name(app_name, env)
        scaling = autoscaling.get(env)
        if scaling is not None:
            scaling = {"cpu": DEFAULT_CPU_TARGET, **scaling}
        fixed: int | None = None
        if not scaling and not chart:
            fixed = int(replicas.get(env, positional_replicas(position, len(environments))))
        # Pods at least and at most: the autoscaler's bounds, or the fixed count.
        fewest_pods = int(scaling["min"]) if scaling else int(fixed or 0)
        most_pods = int(scaling["max"]) if scaling else int(fixed or 0)
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
            "disruption_budget": fewest_pods > 1,
            "resources": resources,
            "quota": namespace_quota(
                resources, max(most_pods, 1), SMOKE_TEST_RESOURCES if answers.get("smoke_test") else None
            ),
            "host": (answers.get("hosts") or {}).get(env, f"{app_name}.{env}.example.com"),
            "manual_sync": env in manual or answers.get("sync_policy") == "manual",
            "sync_window": (answers.get("sync_windows") or {}).get(env),
            "server": clusters.get(env, IN_CLUSTER_SERVER),
        }
    return settings


# Per-environment answers. Replicas and resources have defaults that follow list position
# (small first, large last): the answers file stores them resolved for every environment, so
# that a later change of the environment list never moves an existing environment's values.
# Every per-environment mapping is stored for the listed environments only.
RESOLVED_PER_ENVIRONMENT = ("replicas", "resources")
PER_ENVIRONMENT_MAPS = ("replicas", "resources", "hosts", "autoscaling", "sync_windows", "clusters", "soak")


def answers_to_store(answers: Mapping[str, Any], settings: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """The answers file's content: the answers, with per-environment values resolved and pruned.

    `settings` holds each listed environment's resolved values (environment_settings): an
    environment with autoscaling has no fixed replica count.
    """
    stored = dict(answers)
    for question in PER_ENVIRONMENT_MAPS:
        if isinstance(stored.get(question), dict):
            stored[question] = {env: value for env, value in stored[question].items() if env in settings}
    # A release never leaves the last environment: a soak there (left by a change of the
    # environment list) would hold nothing, and the next onboarding would refuse it.
    if isinstance(stored.get("soak"), dict) and settings:
        stored["soak"].pop(list(settings)[-1], None)
    if "replicas" in stored:
        stored["replicas"] = {env: s["replicas"] for env, s in settings.items() if s["replicas"] is not None}
    if "resources" in stored:
        stored["resources"] = {env: s["resources"] for env, s in settings.items()}
    return stored


def ignore_missing_external_data() -> None:
    """Both `_external_data` files are optional by design (no gitops.yaml before the first copy,
    no answers file before an app's first copy): Copier's warning about each means nothing here."""
    try:
        from copier.errors import MissingFileWarning
    except ImportError:  # rendered by something other than Copier: no such warning
        return
    warnings.filterwarnings("ignore", category=MissingFileWarning)


# Also named in tools/gitopslib/update_leftovers.py (which refuses it) and copier.yml (whose last
# migration removes it).
UNFINISHED_UPDATE_MARKER = ".copier-update-unfinished"


def updates_started() -> dict[str, str]:
    """Destinations whose update ran its before-migrations in this process (with the marker's
    text): the next render there is the update writing the new version. Kept in a module of
    its own in sys.modules: Copier loads this file anew for each of its workers (the migrations
    run in one, the update's render in another), so a global here would not be shared."""
    holder = sys.modules.setdefault(SHARED_STATE, types.ModuleType(SHARED_STATE))
    started: dict[str, str] = holder.__dict__.setdefault("updates_started", {})
    return started


SHARED_STATE = "_gitops_template_extension_state"


def note_update_started(context: Mapping[str, Any], conf: Mapping[str, Any]) -> None:
    """Called while Copier renders the conditions of an update's before-migrations."""
    if context.get("_stage") == "before" and conf.get("answers_file") and not conf.get("pretend"):
        what = f"copier update of {conf['answers_file']} from {context.get('_version_from')}"
        updates_started()[_key(conf)] = f"{what} to {context.get('_version_to')} did not finish"


def mark_update_unfinished(conf: Mapping[str, Any]) -> None:
    """Writes the marker as Copier starts writing an update's files into the destination.

    Copier overwrites the files with the new version first and merges the user's changes back in
    after: an update killed in between looks finished. The marker, which the template's last
    migration removes, says it is not. Written here because this is the one point after Copier
    validated the answers (a refused answer must leave nothing) and before it writes a file;
    never in its scratch renders of the old and new versions, which start no update."""
    message = updates_started().pop(_key(conf), None)
    if message is not None:
        Path(str(conf["dst_path"]), UNFINISHED_UPDATE_MARKER).write_text(message + "\n")


def _key(conf: Mapping[str, Any]) -> str:
    return _resolved(str(conf["dst_path"]))


@functools.lru_cache(maxsize=256)
def _resolved(path: str) -> str:
    """Asked for every string Copier renders once an update started in this process."""
    return str(Path(path).resolve())


_ABSENT = object()
# environment_settings' result: each environment's resolved values, in promotion order.
Settings = dict[str, dict[str, Any]]


def same_objects(before: Sequence[Any], now: Sequence[Any]) -> bool:
    """The very same objects: what was derived from `before` holds for `now` (nothing changes an
    answer in place while Copier renders)."""
    return len(before) == len(now) and all(a is b for a, b in zip(before, now, strict=True))


def same_mapping(before: Sequence[tuple[str, Any]], now: Mapping[str, Any]) -> bool:
    return len(before) == len(now) and all(now.get(key, _ABSENT) is value for key, value in before)


class GitOpsContext(ContextHook):
    """Adds `gitops_envs` (settings per environment, in promotion order) to the context.

    Also `migration_app`: before-migrations run before the answers are loaded, so they
    name the app's files with this (derived from the answers file being updated). And the
    marker of an unfinished update (mark_update_unfinished).
    """

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        environment.filters["resources_problem"] = resources_problem
        environment.filters["resources_default"] = resources_default
        ignore_missing_external_data()
        self._settings: dict[str, dict[str, dict[str, Any]]] = {}
        # The hook runs for every string Copier renders (about a thousand per copy), nearly always
        # with the very same answer objects: what it derived last time, with what from.
        self._last_settings: tuple[list[Any], Settings] | None = None
        self._last_stored: tuple[list[tuple[str, Any]], Settings, dict[str, Any]] | None = None
        self._last_volumes: tuple[Any, list[dict[str, str]]] | None = None

    SETTINGS_INPUTS = (
        "app_name", "environments", "replicas", "clusters", "autoscaling", "manual_sync_environments",
        "resources", "hosts", "sync_windows", "sync_policy", "workload",
    )  # fmt: skip

    def hook(self, context: dict[str, Any]) -> None:
        phase, conf = str(context.get("_copier_phase", "")), context.get("_copier_conf")
        if phase.endswith("migrate") and isinstance(conf, Mapping):
            if conf.get("answers_file") and (app := app_of_answers_file(str(conf["answers_file"]))):
                context["migration_app"] = app
            note_update_started(context, conf)
        elif phase.endswith("render") and isinstance(conf, Mapping) and updates_started():
            mark_update_unfinished(conf)
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
            settings = self._settings_for(context, environments, replicas, clusters)
            context["gitops_envs"] = settings
            if isinstance(answers := context.get("_copier_answers"), Mapping):
                context["gitops_answers"] = self._stored_for(answers, settings)
            context["writable_volumes"] = self._volumes_for(context.get("writable_paths") or [])
        except (AttributeError, KeyError, TypeError, ValueError):
            return  # answers not validated yet: their own validators say what is wrong
        context["in_cluster_server"] = IN_CLUSTER_SERVER
        context["smoke_test_resources"] = SMOKE_TEST_RESOURCES

    def _settings_for(
        self,
        context: dict[str, Any],
        environments: list[str],
        replicas: dict[str, Any],
        clusters: dict[str, Any],
    ) -> Settings:
        """environment_settings, derived once per distinct set of inputs."""
        inputs = [context.get(name) for name in self.SETTINGS_INPUTS]
        if self._last_settings is not None and same_objects(self._last_settings[0], inputs):
            return self._last_settings[1]
        key = json.dumps(inputs, sort_keys=True, default=str)
        if key not in self._settings:
            self._settings[key] = environment_settings(context, environments, replicas, clusters)
        self._last_settings = (inputs, self._settings[key])
        return self._settings[key]

    def _stored_for(self, answers: Mapping[str, Any], settings: Settings) -> dict[str, Any]:
        """answers_to_store, again only when an answer or the settings are other objects. Copier
        makes a new mapping of the same answers for each string."""
        last = self._last_stored
        if last is not None and last[1] is settings and same_mapping(last[0], answers):
            return last[2]
        stored = answers_to_store(answers, settings)
        self._last_stored = (list(answers.items()), settings, stored)
        return stored

    def _volumes_for(self, paths: Any) -> list[dict[str, str]]:
        if self._last_volumes is None or self._last_volumes[0] is not paths:
            self._last_volumes = (paths, writable_volumes(paths))
        return self._last_volumes[1]
