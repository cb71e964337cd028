"""Answer validators for copier.yml, exposed as Jinja filters.

Each filter returns an empty string when the answer is valid and a one-line reason
otherwise, which is what a Copier `validator:` expects. Every message starts with the
question's name so that the last line of Copier's error output says what to fix.

Validators must accept every answer they ever accepted (Copier silently replaces a
stored answer that fails its validator with the default during `copier update`), so
tighten a rule here only together with a migration.

This module is loaded by path (copier-template-extensions) and cannot import the other
extension modules: it is self-contained on purpose.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from jinja2 import Environment
from jinja2.ext import Extension

DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
LABEL_VALUE = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
MAX_NAME = 63
MAX_ENV_NAME = 20
RESERVED_ENVS = {"default": "Argo CD's built-in project is called default"}

# Docker image reference grammar (distribution/reference), without tag or digest.
_HOST_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_HOST = rf"(?:{_HOST_COMPONENT}(?:\.{_HOST_COMPONENT})*|\[[0-9a-fA-F:]+\])(?::[0-9]+)?"
_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
IMAGE_REPOSITORY = re.compile(rf"^(?:{_HOST}/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*$")
IMAGE_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
IMAGE_DIGEST = re.compile(r"^sha256:[a-f0-9]{64}$")

_GIT_PATH = r"[A-Za-z0-9._~/+-]+"
GIT_URLS = (
    re.compile(rf"^https://[A-Za-z0-9.-]+(?::[0-9]+)?/{_GIT_PATH}$"),
    re.compile(rf"^ssh://(?:[A-Za-z0-9._-]+@)?[A-Za-z0-9.-]+(?::[0-9]+)?/{_GIT_PATH}$"),
    re.compile(rf"^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:(?!/){_GIT_PATH}$"),
)
# Argo CD matches destination servers as exact strings: no trailing slash.
CLUSTER_SERVER = re.compile(r"^https://[A-Za-z0-9.-]+(?::[0-9]+)?(?:/[A-Za-z0-9._~-]+)*$")
PINNED_VERSION = re.compile(r"^v(\d+)\.(\d+)\.(\d+)$")
# The AppProjects limit Namespace creation to one name (clusterResourceWhitelist[].name,
# argo-cd PR #24674, merged for 3.2); older releases drop the field and allow any Namespace.
OLDEST_ARGOCD = (3, 3, 0)
GIT_REF = re.compile(r"^[A-Za-z0-9._/-]+$")


def _shown(value: Any) -> str:
    """The value as the user typed it, short enough for a one-line message."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _not_a_string(value: Any, question: str) -> str:
    """`type: yaml` answers and --data can bring any type: check it before anything else."""
    if isinstance(value, str) and value:
        return ""
    return f"{question}: must be a non-empty string, got {_shown(value)}"


def dns_label_problem(value: Any, question: str) -> str:
    if problem := _not_a_string(value, question):
        return problem
    if len(value) > MAX_NAME:
        return f"{question}: {_shown(value)} is longer than {MAX_NAME} characters"
    if not DNS_LABEL.match(value):
        return (
            f"{question}: {_shown(value)} is not a DNS-1123 label "
            "(lowercase letters, digits and '-', starting and ending with a letter or digit)"
        )
    return ""


def environments_problem(environments: Any) -> str:
    if not isinstance(environments, list) or not environments:
        return f"environments: must be a non-empty YAML list such as [dev, prod], got {_shown(environments)}"
    seen: set[str] = set()
    for env in environments:
        if problem := dns_label_problem(env, "environments"):
            return problem
        if len(env) > MAX_ENV_NAME:
            return f"environments: {_shown(env)} is longer than {MAX_ENV_NAME} characters"
        if env in RESERVED_ENVS:
            return f"environments: {_shown(env)} is reserved ({RESERVED_ENVS[env]})"
        if env in seen:
            return f"environments: {_shown(env)} is listed twice"
        seen.add(env)
    return ""


def app_name_problem(app_name: Any, environments: Any) -> str:
    if problem := dns_label_problem(app_name, "app_name"):
        return problem
    if app_name.startswith("kube-") or app_name == "kube":
        return (
            f"app_name: {_shown(app_name)} would give namespaces starting with kube- (reserved by Kubernetes)"
        )
    if isinstance(environments, list) and environments and not environments_problem(environments):
        longest = max(environments, key=len)
        if len(app_name) + 1 + len(longest) > MAX_NAME:
            return (
                f"app_name: {_shown(app_name)} is too long: namespace {app_name}-{longest} "
                f"would exceed {MAX_NAME} characters"
            )
    return ""


def label_value_problem(value: Any, question: str) -> str:
    if problem := _not_a_string(value, question):
        return problem
    if len(value) > MAX_NAME or not LABEL_VALUE.match(value):
        return (
            f"{question}: {_shown(value)} is not a valid label value "
            "(at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit)"
        )
    return ""


def image_problem(image: Any) -> str:
    if problem := _not_a_string(image, "image"):
        return problem
    if "@" in image:
        return (
            f"image: {_shown(image)} holds a digest; give the repository in image and the digest in image_tag"
        )
    last = image.rsplit("/", 1)[-1]
    if ":" in last:
        return f"image: {_shown(image)} holds a tag; give the repository in image and the tag in image_tag"
    if len(image) > 255 or not IMAGE_REPOSITORY.match(image):
        return (
            f"image: {_shown(image)} is not an image repository "
            "(e.g. nginxinc/nginx-unprivileged or reg.example.com:5000/team/app)"
        )
    return ""


def image_tag_problem(tag: Any) -> str:
    if problem := _not_a_string(tag, "image_tag"):
        return problem
    if tag.startswith("sha256:"):
        if IMAGE_DIGEST.match(tag):
            return ""
        return f"image_tag: {_shown(tag)} is not a digest (sha256: followed by 64 lowercase hex digits)"
    if tag.lower() == "latest":
        return "image_tag: 'latest' is refused: releases must be immutable tags or digests"
    if not IMAGE_TAG.match(tag):
        return (
            f"image_tag: {_shown(tag)} is not an image tag "
            "(up to 128 letters, digits, '_', '.' or '-', not starting with '.' or '-')"
        )
    return ""


def port_problem(port: Any, question: str) -> str:
    if isinstance(port, bool) or not isinstance(port, int):
        return f"{question}: must be a whole number, got {_shown(port)}"
    if not 1 <= port <= 65535:
        return f"{question}: {port} is not a port (1-65535)"
    return ""


def repo_url_problem(url: Any) -> str:
    if problem := _not_a_string(url, "repo_url"):
        return problem
    if any(pattern.match(url) for pattern in GIT_URLS):
        return ""
    return (
        f"repo_url: {_shown(url)} is not a Git URL "
        "(https://host/org/repo.git, ssh://git@host/org/repo.git or git@host:org/repo.git)"
    )


def git_ref_problem(ref: Any) -> str:
    if (
        not isinstance(ref, str)
        or not GIT_REF.match(ref)
        or ref.startswith(("-", "/", "."))
        or ref.endswith(("/", ".", ".lock"))
        or ".." in ref
        or "//" in ref
    ):
        return f"target_revision: {_shown(ref)} is not a Git branch or tag name"
    return ""


def argocd_version_problem(version: Any) -> str:
    if not isinstance(version, str):
        return f"argocd_version: must be a string such as v3.6.2, got {_shown(version)}"
    match = PINNED_VERSION.match(version)
    if not match:
        return (
            f"argocd_version: {_shown(version)} is not a pinned release vX.Y.Z "
            "(floating refs such as stable or latest are refused)"
        )
    if tuple(int(part) for part in match.groups()) < OLDEST_ARGOCD:
        oldest = "v" + ".".join(map(str, OLDEST_ARGOCD))
        return (
            f"argocd_version: {version} is older than {oldest}, the oldest release whose "
            "AppProjects can limit Namespace creation to the app's own namespace"
        )
    return ""


def _unknown_environment_problem(names: Any, environments: Any, question: str) -> str:
    known = environments if isinstance(environments, list) else []
    for env in names:
        if env not in known:
            return f"{question}: {_shown(env)} is not one of the environments {known}"
    return ""


def _per_env_mapping_problem(mapping: Any, environments: Any, question: str) -> str:
    if not isinstance(mapping, dict):
        return f"{question}: must be a YAML mapping keyed by environment, got {_shown(mapping)}"
    return _unknown_environment_problem(mapping, environments, question)


def replicas_problem(replicas: Any, environments: Any) -> str:
    if problem := _per_env_mapping_problem(replicas, environments, "replicas"):
        return problem
    for env, count in replicas.items():
        if isinstance(count, bool) or not isinstance(count, int) or not 0 <= count <= 1000:
            return f"replicas: {env}: {_shown(count)} is not a whole number from 0 to 1000"
    return ""


def clusters_problem(clusters: Any, environments: Any) -> str:
    if problem := _per_env_mapping_problem(clusters, environments, "clusters"):
        return problem
    for env, server in clusters.items():
        if not isinstance(server, str) or not CLUSTER_SERVER.match(server):
            return (
                f"clusters: {env}: {_shown(server)} is not a cluster API server URL "
                "(https://host[:port][/path], no trailing slash)"
            )
    return ""


# ---------------------------------------------------------------------------
# Hardening and options
# ---------------------------------------------------------------------------
QUANTITY_CPU = re.compile(r"^([0-9]+m|[0-9]+(\.[0-9]+)?)$")
QUANTITY_MEMORY = re.compile(r"^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|k|M|G|T)?$")
CODE_OWNER = re.compile(r"^@[A-Za-z0-9-]+(/[A-Za-z0-9._-]+)?$|^[^@\s]+@[^@\s]+\.[a-z]+$")
HTTP_PATH = re.compile(r"^/[A-Za-z0-9._~/%-]*$")
HOST_NAME = re.compile(r"^(?=.{1,253}$)([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)+[a-z]{2,63}$")
DURATION = re.compile(r"^([0-9]+h)?([0-9]+m)?$")
CRON_FIELD = re.compile(r"^[0-9*/,-]+$")
SLACK_CHANNEL = re.compile(r"^[a-z0-9][a-z0-9._-]{0,79}$")
RESOURCE_KEYS = {"requests": {"cpu", "memory"}, "limits": {"cpu", "memory"}}


def code_owner_problem(owner: Any) -> str:
    if problem := _not_a_string(owner, "platform_team"):
        return problem
    if not CODE_OWNER.match(owner):
        return f"platform_team: {_shown(owner)} is not a code owner (@org/team, @user or an e-mail address)"
    return ""


def protected_environments_problem(value: Any) -> str:
    """Lenient on purpose: a stored list must stay valid when environments change later."""
    if not isinstance(value, list) or any(dns_label_problem(env, "x") for env in value):
        return f"protected_environments: must be a YAML list of environment names, got {_shown(value)}"
    return ""


def environment_list_problem(value: Any, question: str, environments: Any) -> str:
    if not isinstance(value, list):
        return f"{question}: must be a YAML list of environments, got {_shown(value)}"
    return _unknown_environment_problem(value, environments, question)


def _quantity_problem(value: Any, pattern: re.Pattern[str], where: str) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int)) or not pattern.match(str(value)):
        return f"resources: {where}: {_shown(value)} is not a Kubernetes quantity"
    return ""


def resources_problem(resources: Any, environments: Any) -> str:
    if problem := _per_env_mapping_problem(resources, environments, "resources"):
        return problem
    for env, spec in resources.items():
        if not isinstance(spec, dict) or not set(spec) <= set(RESOURCE_KEYS):
            return f"resources: {env}: must be a mapping with requests and/or limits, got {_shown(spec)}"
        for kind, amounts in spec.items():
            if not isinstance(amounts, dict) or not set(amounts) <= RESOURCE_KEYS[kind]:
                return (
                    f"resources: {env}.{kind}: must be a mapping of cpu and/or memory, got {_shown(amounts)}"
                )
            for name, amount in amounts.items():
                pattern = QUANTITY_CPU if name == "cpu" else QUANTITY_MEMORY
                if problem := _quantity_problem(amount, pattern, f"{env}.{kind}.{name}"):
                    return problem
    return ""


def probe_path_problem(path: Any) -> str:
    if problem := _not_a_string(path, "probe_path"):
        return problem
    if not HTTP_PATH.match(path):
        return f"probe_path: {_shown(path)} is not an absolute URL path such as /healthz"
    return ""


def writable_paths_problem(paths: Any) -> str:
    if not isinstance(paths, list):
        return f"writable_paths: must be a YAML list of absolute paths, got {_shown(paths)}"
    for path in paths:
        if not isinstance(path, str) or not re.match(r"^/[A-Za-z0-9._/-]+$", path) or "/../" in f"{path}/":
            return f"writable_paths: {_shown(path)} is not an absolute directory path"
    if len(set(paths)) != len(paths):
        return "writable_paths: a path is listed twice"
    return ""


def autoscaling_problem(autoscaling: Any, environments: Any, replicas: Any) -> str:
    if problem := _per_env_mapping_problem(autoscaling, environments, "autoscaling"):
        return problem
    fixed = replicas if isinstance(replicas, dict) else {}
    for env, spec in autoscaling.items():
        if env in fixed:
            return (
                f"autoscaling: {env} also has fixed replicas ({fixed[env]}); an environment takes "
                "either replicas or autoscaling, not both (Argo CD would fight the autoscaler)"
            )
        if not isinstance(spec, dict) or set(spec) - {"min", "max", "cpu"} or not {"min", "max"} <= set(spec):
            return (
                f"autoscaling: {env}: must be a mapping with min, max and optionally cpu, got {_shown(spec)}"
            )
        low, high, cpu = spec["min"], spec["max"], spec.get("cpu", 75)
        if not all(isinstance(n, int) and not isinstance(n, bool) for n in (low, high, cpu)):
            return f"autoscaling: {env}: min, max and cpu must be whole numbers"
        if not 1 <= low <= high <= 1000 or not 1 <= cpu <= 100:
            return f"autoscaling: {env}: needs 1 <= min <= max <= 1000 and cpu between 1 and 100"
    return ""


def hosts_problem(hosts: Any, environments: Any, exposure: Any) -> str:
    if problem := _per_env_mapping_problem(hosts, environments, "hosts"):
        return problem
    if hosts and exposure == "none":
        return "hosts: given, but exposure is none; set exposure to ingress or gateway, or leave hosts out"
    for env, host in hosts.items():
        if not isinstance(host, str) or not HOST_NAME.match(host):
            return f"hosts: {env}: {_shown(host)} is not a lowercase DNS host name"
    return ""


def gateway_problem(gateway: Any) -> str:
    if problem := _not_a_string(gateway, "gateway"):
        return problem
    namespace, _, name = gateway.partition("/")
    if not name or dns_label_problem(namespace, "gateway") or dns_label_problem(name, "gateway"):
        return f"gateway: {_shown(gateway)} is not <namespace>/<name> of a Gateway"
    return ""


def sync_windows_problem(windows: Any, environments: Any) -> str:
    if problem := _per_env_mapping_problem(windows, environments, "sync_windows"):
        return problem
    for env, window in windows.items():
        if not isinstance(window, dict) or set(window) != {"schedule", "duration"}:
            return f"sync_windows: {env}: must be a mapping of schedule and duration, got {_shown(window)}"
        fields = str(window["schedule"]).split()
        if len(fields) != 5 or not all(CRON_FIELD.match(field) for field in fields):
            return f"sync_windows: {env}: {_shown(window['schedule'])} is not a five-field cron schedule"
        if not window["duration"] or not DURATION.match(str(window["duration"])):
            return f"sync_windows: {env}: {_shown(window['duration'])} is not a duration such as 2h or 90m"
    return ""


ENV_VAR_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def secret_keys_problem(keys: Any) -> str:
    if not isinstance(keys, list) or not keys:
        return f"secret_keys: must be a non-empty YAML list of key names, got {_shown(keys)}"
    for key in keys:
        if not isinstance(key, str) or not ENV_VAR_NAME.match(key) or len(key) > 253:
            return f"secret_keys: {_shown(key)} is not a valid environment variable name"
    if len(set(keys)) != len(keys):
        return "secret_keys: a key is listed twice"
    return ""


PUBLIC_KEY = re.compile(r"^-----BEGIN PUBLIC KEY-----\n[A-Za-z0-9+/=\n]+\n-----END PUBLIC KEY-----\n?$")


def cosign_key_problem(key: Any, kyverno_policies: Any) -> str:
    if not isinstance(key, str):
        return f"cosign_public_key: must be a string, got {_shown(key)}"
    if not key.strip():
        return ""
    if not kyverno_policies:
        return (
            "cosign_public_key: image verification is a Kyverno policy; set kyverno_policies to true as well"
        )
    if not PUBLIC_KEY.match(key.strip() + "\n"):
        return "cosign_public_key: not a PEM public key (-----BEGIN PUBLIC KEY----- ... END PUBLIC KEY-----)"
    return ""


def channel_problem(channel: Any) -> str:
    if not isinstance(channel, str):
        return f"notifications_channel: must be a string, got {_shown(channel)}"
    if channel and not SLACK_CHANNEL.match(channel):
        return f"notifications_channel: {_shown(channel)} is not a Slack channel name (lowercase, no #)"
    return ""


# ---------------------------------------------------------------------------
# Onboarding checks: they compare the answers with the destination repository, so they
# run on `copier copy` only (copier.yml gates them on `not _copier_conf.overwrite`, as
# `copier update` always overwrites). An update must never trip them.
# ---------------------------------------------------------------------------
ANSWERS_FILE = ".copier-answers.{app}.yml"
TOOLS_UPDATE_HINT = "change it for every app with: tools/gitops update --data {key}=..."


def existing_apps(destination: Any) -> set[str]:
    """Apps already in the destination: answers files, bases and overlays."""
    root = Path(str(destination))
    apps = {p.name[len(".copier-answers.") : -len(".yml")] for p in root.glob(".copier-answers.*.yml")}
    apps |= {p.name for p in root.glob("applications/base/*") if p.is_dir()}
    apps |= {p.name for p in root.glob("environments/*/*") if p.is_dir()}
    return apps


def onboarding_problem(app_name: Any, environments: Any, destination: Any) -> str:
    """The app must be new, and none of its namespaces may be another app's."""
    if not isinstance(app_name, str) or not isinstance(environments, list):
        return ""
    others = existing_apps(destination)
    if app_name in others:
        return (
            f"app_name: an app called {app_name!r} already exists in this repository "
            f"({ANSWERS_FILE.format(app=app_name)}); pick another name, or update it with "
            f"copier update -a {ANSWERS_FILE.format(app=app_name)}"
        )
    mine = {f"{app_name}-{env}": env for env in environments}
    for other in sorted(others):
        for env in environments:
            if (namespace := f"{other}-{env}") in mine:
                return (
                    f"app_name: namespace {namespace} of {app_name!r} in {mine[namespace]!r} is "
                    f"already the namespace of app {other!r} in {env!r}; pick another name"
                )
    return ""


def repo_setting_problem(value: Any, key: str, repo_settings: Any) -> str:
    """An onboarding answer for a repo-level question must equal what gitops.yaml holds."""
    if not isinstance(repo_settings, Mapping) or key not in repo_settings:
        return ""
    if value == repo_settings[key]:
        return ""
    return (
        f"{key}: {_shown(value)} differs from {_shown(repo_settings[key])} in gitops.yaml, a "
        f"repo-level setting shared by every app; {TOOLS_UPDATE_HINT.format(key=key)}"
    )


class AnswerChecks(Extension):
    """Registers the validators above as Jinja filters."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        environment.filters.update(
            {
                "app_name_problem": app_name_problem,
                "environments_problem": environments_problem,
                "label_value_problem": label_value_problem,
                "image_problem": image_problem,
                "image_tag_problem": image_tag_problem,
                "port_problem": port_problem,
                "repo_url_problem": repo_url_problem,
                "git_ref_problem": git_ref_problem,
                "argocd_version_problem": argocd_version_problem,
                "replicas_problem": replicas_problem,
                "clusters_problem": clusters_problem,
                "onboarding_problem": onboarding_problem,
                "dns_name_problem": dns_label_problem,
                "code_owner_problem": code_owner_problem,
                "protected_environments_problem": protected_environments_problem,
                "environment_list_problem": environment_list_problem,
                "resources_problem": resources_problem,
                "probe_path_problem": probe_path_problem,
                "writable_paths_problem": writable_paths_problem,
                "autoscaling_problem": autoscaling_problem,
                "hosts_problem": hosts_problem,
                "gateway_problem": gateway_problem,
                "sync_windows_problem": sync_windows_problem,
                "channel_problem": channel_problem,
                "secret_keys_problem": secret_keys_problem,
                "cosign_key_problem": cosign_key_problem,
                "repo_setting_problem": repo_setting_problem,
            }
        )
