"""Answer validators for copier.yml, exposed as Jinja filters.

Each filter returns an empty string when the answer is valid and a one-line reason
otherwise, which is what a Copier `validator:` expects. Every message starts with the
question's name so that the last line of Copier's error output says what to fix.

Validators must accept every answer they ever accepted: Copier silently replaces a
stored answer that fails its validator with the default during `copier update` (an app
stored as `9lives` was renamed to `myapp`, its files deleted, exit 0). A rule tightened
after a release therefore takes a `strict` flag, which copier.yml sets with the
`new_answer` test: true on a copy and for an answer that differs from the stored one,
false for a stored answer that an update carries over.

This module is loaded by path (copier-template-extensions) and cannot import the other
extension modules: it is self-contained on purpose. The repository's layout names come from
template/tools/gitopslib/layout.py, loaded by path too (load_layout), and the rule for an image
tag or digest from gitopslib/image_refs.py (load_image_refs), which `tools/gitops release` checks
its --tag and --digest with, and the rules for a chart from gitopslib/chart_refs.py (load_chart_refs).
"""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import ipaddress
import posixpath
import re
import sys
import types
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml
from jinja2 import Environment, pass_context
from jinja2.ext import Extension
from jinja2.runtime import Context

GITOPSLIB = Path(__file__).resolve().parent.parent / "template/tools/gitopslib"
LAYOUT_FILE = GITOPSLIB / "layout.py"
IMAGE_REFS_FILE = GITOPSLIB / "image_refs.py"
DURATIONS_FILE = GITOPSLIB / "durations.py"
CHART_REFS_FILE = GITOPSLIB / "chart_refs.py"


def load_layout(path: Path = LAYOUT_FILE) -> types.ModuleType:
    """gitopslib/layout.py of this template version, executed once per content.

    Copier loads this extension anew for each render, and `copier update` renders two template
    versions in one process: the module is cached in sys.modules under a name made from its
    content, so that each version reads its own layout and none is executed twice.
    """
    return _load_by_path(path, "_gitops_template_layout_")


def load_image_refs(path: Path = IMAGE_REFS_FILE) -> types.ModuleType:
    """gitopslib/image_refs.py of this template version, loaded as load_layout loads layout.py."""
    return _load_by_path(path, "_gitops_template_image_refs_")


def load_durations(path: Path = DURATIONS_FILE) -> types.ModuleType:
    """gitopslib/durations.py of this template version, loaded as load_layout loads layout.py."""
    return _load_by_path(path, "_gitops_template_durations_")


def load_chart_refs(path: Path = CHART_REFS_FILE) -> types.ModuleType:
    """gitopslib/chart_refs.py of this template version, loaded as load_layout loads layout.py."""
    return _load_by_path(path, "_gitops_template_chart_refs_")


def _load_by_path(path: Path, prefix: str) -> types.ModuleType:
    text = path.read_bytes()
    name = f"{prefix}{hashlib.sha256(text).hexdigest()[:16]}"
    if (module := sys.modules.get(name)) is not None:
        return module
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"{path}: cannot be loaded")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return sys.modules.setdefault(name, module)


_layout = load_layout()
ANSWERS_GLOB: str = _layout.ANSWERS_GLOB
REPO_LEVEL_KEYS: frozenset[str] = _layout.REPO_LEVEL_KEYS
answers_file: Callable[[str], str] = _layout.answers_file
app_of_answers_file: Callable[[str], str | None] = _layout.app_of_answers_file
app_env_name: Callable[[str, str], str] = _layout.app_env_name
base_dir: Callable[[str], str] = _layout.base_dir
overlay_dir: Callable[[str, str], str] = _layout.overlay_dir
_image_refs = load_image_refs()
_durations = load_durations()
_chart_refs = load_chart_refs()
MANIFESTS: str = _layout.MANIFESTS
HELM_CHART: str = _layout.HELM_CHART
duration_problem: Callable[[Any], str] = _durations.duration_problem

DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", re.ASCII)
DNS_SUBDOMAIN = re.compile(
    r"^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$", re.ASCII
)
MAX_SUBDOMAIN = 253
LABEL_VALUE = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$", re.ASCII)
MAX_NAME = 63
MAX_ENV_NAME = 20
MAX_RELEASE_NAME = 53  # Helm's limit for a release name (helmCharts' releaseName is the app's name)
RESERVED_ENVS = {"default": "Argo CD's built-in project is called default"}
# Names of generated objects that share a namespace or a kind with `<app>-<env>` (Argo CD
# Applications and AppProjects): an app and environment that spell one would collide.
PLATFORM_OBJECTS = re.compile(r"^platform-policies(-[0-9]+)?$", re.ASCII)
# Longest suffix a derived name gets when an option is on: `<app>-smoke-test` names the
# smoke-test Job, and the API server copies a Job's name into a pod label (<= 63).
SMOKE_TEST_SUFFIX = "-smoke-test"

# Docker image reference grammar (distribution/reference), without tag or digest.
_HOST_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_HOST = rf"(?:{_HOST_COMPONENT}(?:\.{_HOST_COMPONENT})*|\[[0-9a-fA-F:]+\])(?::[0-9]+)?"
_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
IMAGE_REPOSITORY = re.compile(rf"^(?:{_HOST}/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*$", re.ASCII)

_GIT_PATH = r"[A-Za-z0-9._~/+-]+"
GIT_URLS = (
    re.compile(rf"^https://[A-Za-z0-9.-]+(?::[0-9]+)?/{_GIT_PATH}$", re.ASCII),
    re.compile(rf"^ssh://(?:[A-Za-z0-9._-]+@)?[A-Za-z0-9.-]+(?::[0-9]+)?/{_GIT_PATH}$", re.ASCII),
    re.compile(rf"^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:(?!/){_GIT_PATH}$", re.ASCII),
)
# Argo CD matches destination servers as exact strings: no trailing slash.
CLUSTER_SERVER = re.compile(r"^https://[A-Za-z0-9.-]+(?::[0-9]+)?(?:/[A-Za-z0-9._~-]+)*$", re.ASCII)
PINNED_VERSION = re.compile(r"^v(\d+)\.(\d+)\.(\d+)$", re.ASCII)
CANONICAL_VERSION = re.compile(r"^v(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$", re.ASCII)
# The AppProjects limit Namespace creation to one name (clusterResourceWhitelist[].name,
# argo-cd PR #24674, merged for 3.2); older releases drop the field and allow any Namespace.
OLDEST_ARGOCD = (3, 3, 0)
GIT_REF = re.compile(r"^[A-Za-z0-9._/-]+$", re.ASCII)


# libyaml where PyYAML has it: the validators read the answers file some thirty times a render.
_YAML_LOADER: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_parsed_answers: dict[str, Any] = {}  # by the file's text; read-only to every caller


def _stored_answers(conf: Any) -> dict[str, Any] | None:
    """The answers file an update starts from; None on a copy and in Copier's scratch renders."""
    try:
        path = Path(str(conf["dst_path"])) / str(conf["answers_file"])
        text = path.read_text() if path.is_file() else None
        if text is None:
            return None
        if text not in _parsed_answers:
            if len(_parsed_answers) >= 64:
                _parsed_answers.clear()
            _parsed_answers[text] = yaml.load(text, Loader=_YAML_LOADER)
        stored = _parsed_answers[text]
    # ValueError, LookupError, AttributeError: a value safe_load cannot construct (`2024-02-30`).
    except (LookupError, OSError, TypeError, ValueError, AttributeError, yaml.YAMLError):
        return None
    return stored if isinstance(stored, dict) else None


def _destination_has_files(conf: Any) -> bool:
    try:
        return any(Path(str(conf["dst_path"])).iterdir())
    except (KeyError, OSError, TypeError):
        return False


def _stored_or_copy(context: Context) -> dict[str, Any] | None:
    """The stored answers on an update, an empty mapping on a copy, None in a scratch render.

    Copier sets overwrite on every update. An update starts from the app's answers file.
    Copier's own renders of the old and new template versions (and tools/gitops's) go to
    empty scratch folders with no answers file: they re-render stored answers. A copy
    (`--overwrite` or not) into a folder with files, or without overwrite anywhere, is a copy.
    """
    conf = context.get("_copier_conf")
    if conf is None or not conf["overwrite"]:
        return {}
    stored = _stored_answers(conf)
    if stored is not None:
        return stored
    return {} if _destination_has_files(conf) else None


@pass_context
def is_new_answer(context: Context, question: Any) -> bool:
    """Whether rules tightened since a release apply to this answer (the `new_answer` test).

    On a copy every answer is new; on an update only an answer that differs from the stored
    one (or a question the stored answers lack); in a scratch render none.
    """
    stored = _stored_or_copy(context)
    if stored is None:
        return False
    return question not in stored or stored[question] != context.get(question)


@pass_context
def is_copying(context: Context, _value: Any = None) -> bool:
    """Whether this is a copy (the `copying` test): checks against the destination run then only."""
    return _stored_or_copy(context) == {}


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
    if not DNS_LABEL.fullmatch(value):
        return (
            f"{question}: {_shown(value)} is not a DNS-1123 label "
            "(lowercase letters, digits and '-', starting and ending with a letter or digit)"
        )
    return ""


def environments_problem(environments: Any, app_name: Any = None, strict: bool = False) -> str:
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
        # On an update the app's name is stored and fixed (`strict` then): a longer environment
        # must fit it. On a copy the app_name question checks the same budget itself.
        if strict and isinstance(app_name, str) and len(namespace := app_env_name(app_name, env)) > MAX_NAME:
            return (
                f"environments: {env!r} is too long for app {app_name!r}: namespace {namespace} "
                f"would exceed {MAX_NAME} characters"
            )
    return ""


def dns_subdomain_problem(value: Any, question: str) -> str:
    if problem := _not_a_string(value, question):
        return problem
    if not DNS_SUBDOMAIN.fullmatch(value):
        return (
            f"{question}: {_shown(value)} is not a DNS-1123 subdomain (at most {MAX_SUBDOMAIN} "
            "lowercase letters, digits, '-' and '.', each part starting and ending with a letter or digit)"
        )
    return ""


def app_name_problem(app_name: Any, environments: Any, strict: bool = True) -> str:
    if problem := dns_label_problem(app_name, "app_name"):
        return problem
    if strict and not app_name[0].isalpha():
        return (
            f"app_name: {_shown(app_name)} must start with a letter: it names the app's Service, "
            "and Service names are DNS-1035 labels"
        )
    if app_name.startswith("kube-") or app_name == "kube":
        return (
            f"app_name: {_shown(app_name)} would give namespaces starting with kube- (reserved by Kubernetes)"
        )
    if strict and isinstance(environments, list) and environments and not environments_problem(environments):
        longest = app_env_name(app_name, max(environments, key=len))
        if len(longest) > MAX_NAME:
            return (
                f"app_name: {_shown(app_name)} is too long: namespace {longest} "
                f"would exceed {MAX_NAME} characters"
            )
        for env in environments if strict else ():
            if PLATFORM_OBJECTS.fullmatch(name := app_env_name(app_name, env)):
                return (
                    f"app_name: {name} (app {app_name!r} in environment {env!r}) is the name "
                    "of the platform's Kyverno policies project and Applications; pick another name"
                )
    return ""


def renamed_app_problem(app_name: Any, stored: Any = None) -> str:
    """`stored`: the app's answers before this update (nothing on a copy). The name is in the
    answers file's name, the namespaces, Applications and release folders: an update that changed
    it would write a second app beside the first and leave the first's releases behind."""
    before = stored.get("app_name") if isinstance(stored, Mapping) else None
    if isinstance(before, str) and before and app_name != before:
        return (
            f"app_name: the app is {before}; its name cannot change on update (it names the answers file, "
            "namespaces, Applications and releases): onboard a new app instead"
        )
    return ""


# The smoke test's image (environments/<env>/<app>/smoke-test.yaml), signed by nobody's cosign key.
SMOKE_TEST_IMAGE = "curlimages/curl:8.11.1"
UNSIGNED_SMOKE_TEST = (
    f"the smoke test's pod runs {SMOKE_TEST_IMAGE}, which is not signed with the platform's cosign key: "
    "the verify-image-signatures policy would refuse it at every sync"
)


def smoke_test_problem(
    smoke_test: Any, app_name: Any, strict: bool = True, cosign_public_key: Any = ""
) -> str:
    if not strict or not smoke_test or not isinstance(app_name, str):
        return ""
    if isinstance(cosign_public_key, str) and cosign_public_key.strip():
        return f"smoke_test: {UNSIGNED_SMOKE_TEST}; leave smoke_test off while cosign_public_key is set"
    if len(app_name) + len(SMOKE_TEST_SUFFIX) > MAX_NAME:
        return (
            f"smoke_test: the Job {app_name}{SMOKE_TEST_SUFFIX} would be longer than {MAX_NAME} characters "
            f"(Kubernetes puts a Job's name in a label); it needs an app_name of at most "
            f"{MAX_NAME - len(SMOKE_TEST_SUFFIX)} characters"
        )
    return ""


def label_value_problem(value: Any, question: str) -> str:
    if problem := _not_a_string(value, question):
        return problem
    if len(value) > MAX_NAME or not LABEL_VALUE.fullmatch(value):
        return (
            f"{question}: {_shown(value)} is not a valid label value "
            "(at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit)"
        )
    return ""


def image_problem(image: Any, strict: bool = True) -> str:
    if problem := _not_a_string(image, "image"):
        return problem
    if "@" in image:
        return (
            f"image: {_shown(image)} holds a digest; give the repository in image and the digest in image_tag"
        )
    last = image.rsplit("/", 1)[-1]
    if ":" in last:
        return f"image: {_shown(image)} holds a tag; give the repository in image and the tag in image_tag"
    if len(image) > 255 or not IMAGE_REPOSITORY.fullmatch(image):
        return (
            f"image: {_shown(image)} is not an image repository "
            "(e.g. nginxinc/nginx-unprivileged or reg.example.com:5000/team/app)"
        )
    first, _, rest = image.partition("/")
    # Container runtimes take the first component for a registry only when it looks like a
    # host (a '.', a ':' or localhost); otherwise it is a path component, which is lowercase.
    names_registry = bool(rest) and ("." in first or ":" in first or first == "localhost")
    if strict and not names_registry and first != first.lower():
        return f"image: {_shown(image)} is not an image repository (path components are lowercase)"
    return ""


def image_tag_problem(tag: Any) -> str:
    problem: str = _image_refs.image_tag_problem(tag, "image_tag")
    return problem


def workload_problem(workload: Any, stored: Any = None, app_name: Any = "") -> str:
    """`stored`: the app's answers before this update (nothing on a copy). An app generated before
    the question existed deploys manifests. A chart is released as the app's name, which Helm
    limits to 53 characters."""
    if workload not in (MANIFESTS, HELM_CHART):
        return f"workload: {_shown(workload)} is not {MANIFESTS} or {HELM_CHART}"
    if workload == HELM_CHART and isinstance(app_name, str) and len(app_name) > MAX_RELEASE_NAME:
        return (
            f"workload: helm-chart releases the chart as the app's name, which Helm limits to "
            f"{MAX_RELEASE_NAME} characters; app_name has {len(app_name)}"
        )
    before = stored.get("workload", MANIFESTS) if isinstance(stored, Mapping) and stored else None
    if before is not None and workload != before:
        return (
            f"workload: the app deploys {before}; it cannot change to {workload} "
            "(its releases hold the other kind): onboard a new app instead"
        )
    return ""


def manifests_only_problem(value: Any, question: str, workload: Any, default: Any) -> str:
    """An answer only the template's manifests use: a chart's values configure the same thing."""
    if workload == HELM_CHART and value != default:
        return (
            f"{question}: {_shown(value)} is not used with workload helm-chart: the chart's values "
            "(release/values.yaml of each environment) configure it; leave the default"
        )
    return ""


def chart_repo_problem(url: Any) -> str:
    problem: str = _chart_refs.chart_repo_problem(url)
    return problem


def chart_name_problem(name: Any) -> str:
    problem: str = _chart_refs.chart_name_problem(name)
    return problem


def chart_version_problem(version: Any) -> str:
    problem: str = _chart_refs.chart_version_problem(version)
    return problem


def port_problem(port: Any, question: str) -> str:
    if isinstance(port, bool) or not isinstance(port, int):
        return f"{question}: must be a whole number, got {_shown(port)}"
    if not 1 <= port <= 65535:
        return f"{question}: {port} is not a port (1-65535)"
    return ""


def repo_url_problem(url: Any) -> str:
    if problem := _not_a_string(url, "repo_url"):
        return problem
    if any(pattern.fullmatch(url) for pattern in GIT_URLS):
        return ""
    return (
        f"repo_url: {_shown(url)} is not a Git URL "
        "(https://host/org/repo.git, ssh://git@host/org/repo.git or git@host:org/repo.git)"
    )


def git_ref_problem(ref: Any, strict: bool = True) -> str:
    # git check-ref-format's rules; those on a component hold for each part between slashes.
    if strict and ref == "HEAD":
        # `git check-ref-format --branch HEAD` refuses it: no branch to `git init -b`, push or protect.
        return "target_revision: HEAD is not a branch name (name the branch Argo CD deploys, e.g. main)"
    if (
        not isinstance(ref, str)
        or not GIT_REF.fullmatch(ref)
        or ref.startswith(("-", "/"))
        or ref.endswith(("/", "."))
        or ".." in ref
        or "//" in ref
        or any(part.startswith(".") or part.endswith(".lock") for part in ref.split("/"))
    ):
        return f"target_revision: {_shown(ref)} is not a Git branch or tag name"
    return ""


def argocd_version_problem(version: Any, strict: bool = True) -> str:
    if not isinstance(version, str):
        return f"argocd_version: must be a string such as v3.6.2, got {_shown(version)}"
    match = PINNED_VERSION.fullmatch(version)
    if not match:
        return (
            f"argocd_version: {_shown(version)} is not a pinned release vX.Y.Z "
            "(floating refs such as stable or latest are refused)"
        )
    if strict and not CANONICAL_VERSION.fullmatch(version):
        return f"argocd_version: {_shown(version)} is not a release: no leading zeros (e.g. v3.6.2)"
    if tuple(int(part) for part in match.groups()) < OLDEST_ARGOCD:
        oldest = "v" + ".".join(map(str, OLDEST_ARGOCD))
        return (
            f"argocd_version: {version} is older than {oldest}, the oldest release whose "
            "AppProjects can limit Namespace creation to the app's own namespace"
        )
    return ""


def _unknown_environment_problem(names: Any, environments: Any, question: str, strict: bool = True) -> str:
    """Only for new answers: an update that drops an environment keeps the stored values of it.

    The context hook reads per-environment values for the listed environments only, so keys
    of environments that are gone are ignored rather than refused (refusing one makes Copier
    replace the whole stored mapping with the default).
    """
    if not strict:
        return ""
    known = environments if isinstance(environments, list) else []
    for env in names:
        if env not in known:
            return f"{question}: {_shown(env)} is not one of the environments {known}"
    return ""


def _per_env_mapping_problem(mapping: Any, environments: Any, question: str, strict: bool = True) -> str:
    if not isinstance(mapping, dict):
        return f"{question}: must be a YAML mapping keyed by environment, got {_shown(mapping)}"
    return _unknown_environment_problem(mapping, environments, question, strict)


def replicas_problem(replicas: Any, environments: Any, strict: bool = True, autoscaling: Any = None) -> str:
    if problem := _per_env_mapping_problem(replicas, environments, "replicas", strict):
        return problem
    for env, count in replicas.items():
        if isinstance(count, bool) or not isinstance(count, int) or not 0 <= count <= 1000:
            return f"replicas: {env}: {_shown(count)} is not a whole number from 0 to 1000"
        # Asked after replicas: this catches an update that gives replicas where autoscaling is stored.
        if strict and isinstance(autoscaling, dict) and env in autoscaling:
            return (
                f"replicas: {env} has autoscaling; an environment takes either replicas or "
                "autoscaling, not both (Argo CD would fight the autoscaler)"
            )
    return ""


def clusters_problem(clusters: Any, environments: Any, strict: bool = True) -> str:
    if problem := _per_env_mapping_problem(clusters, environments, "clusters", strict):
        return problem
    for env, server in clusters.items():
        if not isinstance(server, str) or not CLUSTER_SERVER.fullmatch(server):
            return (
                f"clusters: {env}: {_shown(server)} is not a cluster API server URL "
                "(https://host[:port][/path], no trailing slash)"
            )
        port = re.match(r"https://[^/:]+:(\d+)", server)
        if strict and port and not 1 <= int(port[1]) <= 65535:
            return f"clusters: {env}: {_shown(server)}: port {port[1]} is not between 1 and 65535"
    return ""


# ---------------------------------------------------------------------------
# Hardening and options
# ---------------------------------------------------------------------------
CODE_OWNER = re.compile(r"^@[A-Za-z0-9-]+(/[A-Za-z0-9._-]+)?$|^[^@\s]+@[^@\s]+\.[a-z]+$", re.ASCII)
HTTP_PATH = re.compile(r"^/[A-Za-z0-9._~/%-]*$", re.ASCII)
SLACK_CHANNEL = re.compile(r"^[a-z0-9][a-z0-9._-]{0,79}$", re.ASCII)


# GitLab groups nest: @group/subgroup/team.
GITLAB_CODE_OWNER = re.compile(r"^@[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$|^[^@\s]+@[^@\s]+\.[a-z]+$", re.ASCII)


def code_owner_problem(owner: Any, ci_provider: Any = "github") -> str:
    if problem := _not_a_string(owner, "platform_team"):
        return problem
    if ci_provider == "gitlab":
        if not GITLAB_CODE_OWNER.fullmatch(owner):
            return (
                f"platform_team: {_shown(owner)} is not a GitLab code owner "
                "(@group, @group/subgroup, @user or an e-mail address)"
            )
        return ""
    if not CODE_OWNER.fullmatch(owner):
        return f"platform_team: {_shown(owner)} is not a code owner (@org/team, @user or an e-mail address)"
    return ""


def protected_environments_problem(value: Any, environments: Any = None, strict: bool = False) -> str:
    """A stored list stays valid when environments change later (not `strict`); a new answer
    names environments that exist: a misspelt one would protect nothing, silently."""
    if not isinstance(value, list) or any(dns_label_problem(env, "x") for env in value):
        return f"protected_environments: must be a YAML list of environment names, got {_shown(value)}"
    return _unknown_environment_problem(value, environments, "protected_environments", strict)


def environment_list_problem(value: Any, question: str, environments: Any, strict: bool = True) -> str:
    if not isinstance(value, list):
        return f"{question}: must be a YAML list of environments, got {_shown(value)}"
    return _unknown_environment_problem(value, environments, question, strict)


def probe_path_problem(path: Any) -> str:
    if problem := _not_a_string(path, "probe_path"):
        return problem
    if not HTTP_PATH.fullmatch(path):
        return f"probe_path: {_shown(path)} is not an absolute URL path such as /healthz"
    return ""


def writable_paths_problem(paths: Any, strict: bool = True) -> str:
    if not isinstance(paths, list):
        return f"writable_paths: must be a YAML list of absolute paths, got {_shown(paths)}"
    for path in paths:
        if (
            not isinstance(path, str)
            or not re.fullmatch(r"^/[A-Za-z0-9._/-]+$", path, re.ASCII)
            or "/../" in f"{path}/"
        ):
            return f"writable_paths: {_shown(path)} is not an absolute directory path"
        # `/tmp/` and `/tmp` are one mount point to the kubelet but two paths to the API server.
        if strict and (posixpath.normpath(path) != path or "//" in path):
            normal = posixpath.normpath(path)
            return f"writable_paths: {_shown(path)} is not a normalized path (write it as {normal})"
    if strict and len({posixpath.normpath(path) for path in paths}) != len(paths):
        return "writable_paths: a path is listed twice"
    if len(set(paths)) != len(paths):
        return "writable_paths: a path is listed twice"
    return ""


def autoscaling_problem(autoscaling: Any, environments: Any, replicas: Any, strict: bool = True) -> str:
    if problem := _per_env_mapping_problem(autoscaling, environments, "autoscaling", strict):
        return problem
    fixed = replicas if isinstance(replicas, dict) else {}
    for env, spec in autoscaling.items():
        if strict and env in fixed:
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


# Four dot-separated decimal numbers up to 255: an IPv4 address to Kubernetes, which reads leading
# zeros too (netutils.ParseIPSloppy: 010.001.001.001 is 10.1.1.1), where Python's ipaddress does not.
SLOPPY_IPV4 = re.compile(r"\d+(\.\d+){3}", re.ASCII)


def _is_ip_address(host: str, sloppy: bool = True) -> bool:
    if sloppy and SLOPPY_IPV4.fullmatch(host) and all(int(part) <= 255 for part in host.split(".")):
        return True
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def host_problem(host: Any, strict: bool = True) -> str:
    """A host an Ingress rule and an HTTPRoute both take: a DNS-1123 subdomain, `*.` allowed, no IP,
    at most 253 characters with the `*.` (the API server and the HTTPRoute schema count it).
    `strict`: also the rules added since the first release (leading zeros, the length with `*.`)."""
    name = host[2:] if isinstance(host, str) and host.startswith("*.") else host
    if not isinstance(name, str) or not DNS_SUBDOMAIN.fullmatch(name) or _is_ip_address(name, strict):
        return f"{_shown(host)} is not a lowercase DNS host name (IDNs in punycode, xn--...)"
    if strict and len(host) > 253:
        return f"{_shown(host)} is {len(host)} characters, more than 253"
    return ""


def default_host(app_name: str, env: str) -> str:
    """The host of an environment the hosts answer leaves out (gitops_context.py renders it)."""
    return f"{app_name}.{env}.example.com"


def routed_hosts(answers: Mapping[str, Any]) -> dict[str, str]:
    """The host each environment of an app's answers routes: none when it is not exposed."""
    app, environments, hosts = answers.get("app_name"), answers.get("environments"), answers.get("hosts")
    if (
        answers.get("exposure", "none") == "none"
        or not isinstance(app, str)
        or not isinstance(environments, list)
    ):
        return {}
    given = hosts if isinstance(hosts, dict) else {}
    return {str(env): str(given.get(env) or default_host(app, str(env))) for env in environments}


def _other_apps_hosts(app_name: str, destination: Any) -> dict[str, str]:
    """Host -> `app in env` for the apps already in the destination (an onboarding copy)."""
    claimed: dict[str, str] = {}
    for other in sorted(existing_apps(destination) - {app_name}):
        stored = _stored_answers({"dst_path": destination, "answers_file": answers_file(other)}) or {}
        for env, host in routed_hosts(stored).items():
            claimed.setdefault(host, f"app {other} in {env}")
    return claimed


def hosts_problem(
    hosts: Any,
    environments: Any,
    exposure: Any,
    strict: bool = True,
    app_name: Any = None,
    destination: Any = None,
) -> str:
    """`app_name`: the environments the answer leaves out get their default host, which counts
    too; `destination` (onboarding copies): no other app of the repository may route the same."""
    if problem := _per_env_mapping_problem(hosts, environments, "hosts", strict):
        return problem
    if strict and hosts and exposure == "none":
        return "hosts: given, but exposure is none; set exposure to ingress or gateway, or leave hosts out"
    for env, host in hosts.items():
        if problem := host_problem(host, strict):
            return f"hosts: {env}: {problem}"
    routed = dict(hosts)
    if isinstance(app_name, str) and isinstance(environments, list) and exposure != "none":
        routed = routed_hosts(
            {"app_name": app_name, "environments": environments, "exposure": exposure, "hosts": hosts}
        )
    seen: dict[str, str] = {}
    for env, host in routed.items():
        if strict and host in seen:
            # A shared ingress controller or gateway would merge them: validate refuses it too.
            default = " (its default host)" if env not in hosts or seen[host] not in hosts else ""
            return (
                f"hosts: {seen[host]} and {env} both use {host}{default}; each environment needs its own host"
            )
        seen[host] = env
    if strict and destination is not None and isinstance(app_name, str):
        claimed = _other_apps_hosts(app_name, destination)
        for env, host in routed.items():
            if host in claimed:
                return f"hosts: {env} uses {host}, which {claimed[host]} routes already; pick another host"
    return ""


def gateway_problem(gateway: Any) -> str:
    if problem := _not_a_string(gateway, "gateway"):
        return problem
    namespace, _, name = gateway.partition("/")
    if not name or dns_label_problem(namespace, "gateway") or dns_subdomain_problem(name, "gateway"):
        return f"gateway: {_shown(gateway)} is not <namespace>/<name> of a Gateway"
    return ""


# Argo CD parses sync window schedules with robfig/cron v3,
# cron.NewParser(Minute | Hour | Dom | Month | Dow): five fields, no descriptors (@daily),
# and durations with Go's time.ParseDuration (gitopslib/durations.py).
MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
NO_NAMES: dict[str, int] = {}
CRON_FIELDS: tuple[tuple[str, int, int, dict[str, int]], ...] = (
    ("minute", 0, 59, NO_NAMES),
    ("hour", 0, 23, NO_NAMES),
    ("day of month", 1, 31, NO_NAMES),
    ("month", 1, 12, {name: number for number, name in enumerate(MONTHS, 1)}),
    ("day of week", 0, 6, {name: number for number, name in enumerate(WEEKDAYS)}),
)
CRON_CHARACTERS = re.compile(r"[0-9A-Za-z*?/,\- ]+", re.ASCII)


def _cron_value(text: str, low: int, high: int, names: dict[str, int]) -> int:
    if text.lower() in names:
        return names[text.lower()]
    if not text.isascii() or not text.isdigit():
        raise ValueError(f"{text!r} is not a number")
    value = int(text)
    if not low <= value <= high:
        raise ValueError(f"{value} is outside {low}-{high}")
    return value


def _cron_range_problem(part: str, low: int, high: int, names: dict[str, int]) -> str:
    """One comma-separated part: `*`, `?`, N or N-M, each optionally with /STEP (robfig/cron)."""
    span, slash, step = part.partition("/")
    try:
        # Go's strconv.Atoi reads the step: beyond an int64 it fails.
        if slash and not (step.isascii() and step.isdigit() and 0 < int(step) < 2**63):
            raise ValueError(f"step {step!r} is not a positive number")
        if span in ("*", "?"):
            return ""
        first, dash, last = span.partition("-")
        start = _cron_value(first, low, high, names)
        if dash and start > _cron_value(last, low, high, names):
            raise ValueError(f"range {span} runs backwards")
    except ValueError as error:
        return str(error)
    return ""


def cron_problem(schedule: Any) -> str:
    # Python's split() also splits at \x1c-\x1f, which Go's strings.Fields does not: allow
    # only the characters a schedule is made of, so both see the same fields.
    if not isinstance(schedule, str) or not CRON_CHARACTERS.fullmatch(schedule):
        return f"{_shown(schedule)} is not a cron schedule of five fields (minute hour day month weekday)"
    if len(fields := schedule.split()) != len(CRON_FIELDS):
        return f"{_shown(schedule)} is not a cron schedule of five fields (minute hour day month weekday)"
    for text, (field, low, high, names) in zip(fields, CRON_FIELDS, strict=True):
        for part in text.split(","):
            if reason := _cron_range_problem(part, low, high, names):
                return f"{_shown(schedule)}: {field} {part!r}: {reason}"
    return ""


def sync_windows_problem(windows: Any, environments: Any, strict: bool = True) -> str:
    if problem := _per_env_mapping_problem(windows, environments, "sync_windows", strict):
        return problem
    for env, window in windows.items():
        if not isinstance(window, dict) or set(window) != {"schedule", "duration"}:
            return f"sync_windows: {env}: must be a mapping of schedule and duration, got {_shown(window)}"
        if strict and (problem := cron_problem(window["schedule"]) or duration_problem(window["duration"])):
            return f"sync_windows: {env}: {problem}"
    return ""


def soak_problem(soak: Any, environments: Any, strict: bool = True) -> str:
    """The soak time per environment: how long a release runs there before promote lets it leave."""
    if problem := _per_env_mapping_problem(soak, environments, "soak", strict):
        return problem
    for env, duration in soak.items():
        if strict and (problem := duration_problem(duration)):
            return f"soak: {env}: {problem}"
    # A release never leaves the last environment: a soak there would be a setting that does nothing.
    if strict and isinstance(environments, list) and environments and environments[-1] in soak:
        return (
            f"soak: {environments[-1]} is the last environment: releases never leave it, so a soak "
            "there would hold nothing"
        )
    return ""


CI_PROVIDERS = ("github", "gitlab", "none")


def ci_provider_problem(provider: Any) -> str:
    if provider not in CI_PROVIDERS:
        return f"ci_provider: {_shown(provider)} is not one of {', '.join(CI_PROVIDERS)}"
    return ""


ENV_VAR_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$", re.ASCII)


def secret_keys_problem(keys: Any) -> str:
    if not isinstance(keys, list) or not keys:
        return f"secret_keys: must be a non-empty YAML list of key names, got {_shown(keys)}"
    for key in keys:
        if not isinstance(key, str) or not ENV_VAR_NAME.fullmatch(key) or len(key) > 253:
            return f"secret_keys: {_shown(key)} is not a valid environment variable name"
    if len(set(keys)) != len(keys):
        return "secret_keys: a key is listed twice"
    return ""


PUBLIC_KEY = re.compile(
    r"^-----BEGIN PUBLIC KEY-----\n[A-Za-z0-9+/=\n]+\n-----END PUBLIC KEY-----\n?$", re.ASCII
)


def cosign_key_problem(key: Any, kyverno_policies: Any, strict: bool = True, destination: Any = None) -> str:
    """`destination`: the repository, whose apps' stored answers the key must suit."""
    if not isinstance(key, str):
        return f"cosign_public_key: must be a string, got {_shown(key)}"
    if not key.strip():
        return ""
    if strict and not kyverno_policies:
        return (
            "cosign_public_key: image verification is a Kyverno policy; set kyverno_policies to true as well"
        )
    if strict and destination is not None:
        for app in sorted(existing_apps(destination)):
            stored = _stored_answers({"dst_path": destination, "answers_file": answers_file(app)}) or {}
            if stored.get("smoke_test") is True:
                return f"cosign_public_key: app {app} has smoke_test on: {UNSIGNED_SMOKE_TEST}"
    if not PUBLIC_KEY.fullmatch(key.strip() + "\n") or (strict and not _der_sequence(key)):
        return "cosign_public_key: not a PEM public key (-----BEGIN PUBLIC KEY----- ... END PUBLIC KEY-----)"
    return ""


def _der_sequence(pem: str) -> bool:
    """Whether the PEM body is base64 of a DER SEQUENCE (a SubjectPublicKeyInfo starts as one):
    Kyverno refuses a body that is not, and with it every pod of the cluster."""
    body = "".join(pem.strip().splitlines()[1:-1])
    try:
        der = base64.b64decode(body, validate=True)
    except ValueError:
        return False
    return len(der) > 2 and der[0] == 0x30


def channel_problem(channel: Any) -> str:
    if not isinstance(channel, str):
        return f"notifications_channel: must be a string, got {_shown(channel)}"
    if channel and not SLACK_CHANNEL.fullmatch(channel):
        return f"notifications_channel: {_shown(channel)} is not a Slack channel name (lowercase, no #)"
    return ""


# ---------------------------------------------------------------------------
# Onboarding checks: they compare the answers with the destination repository, so they
# run on `copier copy` only (copier.yml gates them on `not _copier_conf.overwrite`, as
# `copier update` always overwrites). An update must never trip them.
# ---------------------------------------------------------------------------
TOOLS_UPDATE_HINT = "change it for every app with: tools/gitops update --data {key}=..."


def existing_apps(destination: Any) -> set[str]:
    """Apps already in the destination: answers files, bases and overlays."""
    root = Path(str(destination))
    apps = {app for p in root.glob(ANSWERS_GLOB) if (app := app_of_answers_file(p.name))}
    apps |= {p.name for p in root.glob(base_dir("*")) if p.is_dir()}
    apps |= {p.name for p in root.glob(overlay_dir("*", "*")) if p.is_dir()}
    return apps


def onboarding_problem(app_name: Any, environments: Any, destination: Any) -> str:
    """The app must be new, and none of its namespaces may be another app's."""
    if not isinstance(app_name, str) or not isinstance(environments, list):
        return ""
    others = existing_apps(destination)
    if app_name in others:
        return (
            f"app_name: an app called {app_name!r} already exists in this repository "
            f"({answers_file(app_name)}); pick another name, or update it with "
            f"copier update -a {answers_file(app_name)}"
        )
    mine = {app_env_name(app_name, env): env for env in environments}
    for other in sorted(others):
        for env in environments:
            if (namespace := app_env_name(other, env)) in mine:
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


def _repo_settings(context: Context) -> Any:
    """What gitops.yaml holds, as the repo-level questions' defaults read it (`_external_data.repo`)."""
    external = context.get("_external_data")
    try:
        return external["repo"] if external is not None else None
    except (KeyError, TypeError):
        return None


@pass_context
def repo_level_problem(context: Context, value: Any, key: str, problem: str = "") -> str:
    """The validator of every repo-level question (the `repo_level_problem` filter).

    `problem` is the question's own check, reported first. On a copy the answer must also equal
    what gitops.yaml holds (an onboarding takes the repository's settings; an update changes
    them, for every app at once). copier.yml uses this filter for exactly REPO_LEVEL_KEYS.
    """
    if key not in REPO_LEVEL_KEYS:
        raise ValueError(f"{key} is not a repo-level key (template/tools/gitopslib/layout.py)")
    if problem:
        return problem
    if not is_copying(context):
        return ""
    return repo_setting_problem(value, key, _repo_settings(context))


class AnswerChecks(Extension):
    """Registers the validators above as Jinja filters."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        # What the smoke test runs, named once (smoke-test.yaml renders it, smoke_test_problem names it).
        environment.globals["smoke_test_image"] = SMOKE_TEST_IMAGE
        environment.filters.update(
            {
                "app_name_problem": app_name_problem,
                "renamed_app_problem": renamed_app_problem,
                "environments_problem": environments_problem,
                "label_value_problem": label_value_problem,
                "image_problem": image_problem,
                "image_tag_problem": image_tag_problem,
                # The release's app.kubernetes.io/version label (None: no label for it).
                "version_label": _image_refs.version_label,
                "port_problem": port_problem,
                "workload_problem": workload_problem,
                "manifests_only_problem": manifests_only_problem,
                "chart_repo_problem": chart_repo_problem,
                "chart_name_problem": chart_name_problem,
                "chart_version_problem": chart_version_problem,
                "repo_url_problem": repo_url_problem,
                "git_ref_problem": git_ref_problem,
                "argocd_version_problem": argocd_version_problem,
                "replicas_problem": replicas_problem,
                "clusters_problem": clusters_problem,
                "onboarding_problem": onboarding_problem,
                "dns_name_problem": dns_label_problem,
                "dns_subdomain_problem": dns_subdomain_problem,
                "smoke_test_problem": smoke_test_problem,
                "code_owner_problem": code_owner_problem,
                "protected_environments_problem": protected_environments_problem,
                "environment_list_problem": environment_list_problem,
                "probe_path_problem": probe_path_problem,
                "writable_paths_problem": writable_paths_problem,
                "autoscaling_problem": autoscaling_problem,
                "hosts_problem": hosts_problem,
                "gateway_problem": gateway_problem,
                "sync_windows_problem": sync_windows_problem,
                "soak_problem": soak_problem,
                "ci_provider_problem": ci_provider_problem,
                "channel_problem": channel_problem,
                "secret_keys_problem": secret_keys_problem,
                "cosign_key_problem": cosign_key_problem,
                "repo_level_problem": repo_level_problem,
            }
        )
        environment.tests["new_answer"] = is_new_answer
        environment.tests["copying"] = is_copying
