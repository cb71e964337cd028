"""The names of a generated GitOps repository's layout, in one place.

Where each app's answers, bases, overlays and releases live, how its Argo CD objects and
namespaces are named, which labels its objects carry and which answers are the repository's.
Standard library only, and nothing else here: Copier's extensions (extensions/*.py, which
load this file by path), the template's migrations and tools/gitops all read the layout from
this module, and a test checks that copier.yml's `_answers_file` agrees with it.
"""

from __future__ import annotations

import posixpath
from typing import Any

# Repo-level settings: written by the first copy, read by the repo-level questions' defaults.
SETTINGS_FILE = "gitops.yaml"
# Answers every app holds alike (also in gitops.yaml): the questions whose onboarding answers must
# equal gitops.yaml (copier.yml's `repo_level_problem` validators), and the keys an update changes
# for every app or none (`tools/gitops update --data`).
REPO_LEVEL_KEYS = frozenset(
    {
        "repo_url", "target_revision", "environments", "clusters", "argocd_version", "platform_team",
        "protected_environments", "argocd_ha", "kyverno_policies", "cosign_public_key", "ci_provider",
        "soak",
    }
)  # fmt: skip

# One answers file per app, at the top of the repository (copier.yml's `_answers_file`).
ANSWERS_PREFIX = ".copier-answers."
ANSWERS_SUFFIX = ".yml"
ANSWERS_GLOB = f"{ANSWERS_PREFIX}*{ANSWERS_SUFFIX}"

BASES_DIR = "applications/base"
ENVIRONMENTS_DIR = "environments"
KUSTOMIZATION = "kustomization.yaml"
# The part of an overlay that `tools/gitops promote` moves; the template writes it once.
RELEASE = "release"
# Where a promoted release came from: in release/, but no part of the release (it differs per
# environment by design).
PROVENANCE = "provenance.yaml"
RELEASE_DIRS_GLOB = f"{ENVIRONMENTS_DIR}/*/*/{RELEASE}"

# An app deploys manifests (a base the template writes) or a Helm chart (copier.yml's `workload`).
MANIFESTS, HELM_CHART = "manifests", "helm-chart"
# A chart's entry (Kustomize's helmCharts) is in release/ with its values file beside it: an entry
# there cannot read the overlay's files (Kustomize's load restrictor). The entry's fields below and
# the files they name are the environment's, never part of a release: promote keeps the target's.
CHART_VALUES = "values.yaml"
ENVIRONMENT_CHART_FIELDS = ("namespace", "valuesFile", "additionalValuesFiles", "valuesInline", "valuesMerge")
# Where Kustomize pulls a chart to (beside the entry): kept out of Git by an anchored ignore rule.
CHARTS_DIR = "charts"
CHARTS_IGNORE = f"/{ENVIRONMENTS_DIR}/*/*/{RELEASE}/{CHARTS_DIR}/"

# The cluster Argo CD runs in: where environments without a cluster of their own deploy.
IN_CLUSTER_SERVER = "https://kubernetes.default.svc"

# Labels of an app's objects: the base's name label (also its selector), and the labels every
# overlay adds without touching selectors.
NAME_LABEL = "app.kubernetes.io/name"
ENVIRONMENT_LABEL = "environment"
TEAM_LABEL = "team"
# The label of the namespaces Argo CD creates for apps (managedNamespaceMetadata): the platform's
# Kyverno policies select the namespaces they hold in by it.
APP_NAMESPACE_LABEL = "gitops-template/app-namespace"


def image_placeholder(app: str) -> str:
    """The image name the base Deployment uses and each release's `images:` entry replaces."""
    return f"{app}-image"


def answers_file(app: str) -> str:
    """`shop` -> `.copier-answers.shop.yml`."""
    return f"{ANSWERS_PREFIX}{app}{ANSWERS_SUFFIX}"


def app_of_answers_file(name: str) -> str | None:
    """`.copier-answers.shop.yml` (or a path ending in it) -> `shop`; None for any other name."""
    base = name.rsplit("/", 1)[-1]
    if not (base.startswith(ANSWERS_PREFIX) and base.endswith(ANSWERS_SUFFIX)):
        return None
    app = base[len(ANSWERS_PREFIX) : -len(ANSWERS_SUFFIX)]
    return app or None


def base_dir(app: str) -> str:
    return f"{BASES_DIR}/{app}"


def overlay_dir(env: str, app: str) -> str:
    return f"{ENVIRONMENTS_DIR}/{env}/{app}"


def release_dir(env: str, app: str) -> str:
    return f"{overlay_dir(env, app)}/{RELEASE}"


def release_file(env: str, app: str) -> str:
    """The release's Kustomize Component (images and whatever release-scoped config it lists)."""
    return f"{release_dir(env, app)}/{KUSTOMIZATION}"


def provenance_file(env: str, app: str) -> str:
    return f"{release_dir(env, app)}/{PROVENANCE}"


def release_dir_of(path: str) -> str | None:
    """The release folder a file is directly in (`environments/dev/shop/release/x.yaml` ->
    `environments/dev/shop/release`); None for a file anywhere else."""
    parts = path.split("/")
    if len(parts) == 5 and parts[0] == ENVIRONMENTS_DIR and parts[3] == RELEASE and all(parts):
        return "/".join(parts[:4])
    return None


def app_env_name(app: str, env: str) -> str:
    """`<app>-<env>`: the Argo CD Application and AppProject of an app in an environment, and the
    namespace the template writes into its overlay. Checks of built objects use the namespace the
    overlay sets (namespace_of), which a team may have changed."""
    return f"{app}-{env}"


def namespace_of(kustomization: Any) -> str | None:
    """The `namespace:` a parsed kustomization sets, if any (None for anything else)."""
    namespace = kustomization.get("namespace") if isinstance(kustomization, dict) else None
    return namespace if isinstance(namespace, str) and namespace else None


def chart_entries(release: Any) -> list[dict[str, Any]]:
    """The helmCharts entries of a parsed release (those that are mappings)."""
    entries = release.get("helmCharts") if isinstance(release, dict) else None
    return [entry for entry in entries if isinstance(entry, dict)] if isinstance(entries, list) else []


def image_entries(release: Any) -> list[dict[str, Any]]:
    """The images entries of a parsed release (those that are mappings; none when `images:` is
    not a list, which validate reports)."""
    entries = release.get("images") if isinstance(release, dict) else None
    return [entry for entry in entries if isinstance(entry, dict)] if isinstance(entries, list) else []


def environment_files(release: Any) -> set[str]:
    """The files of release/ its chart entries read as the environment's values (not released)."""
    names: set[str] = set()
    for entry in chart_entries(release):
        extra = entry.get("additionalValuesFiles")
        named = [entry.get("valuesFile"), *(extra if isinstance(extra, list) else [])]
        # `./values.yaml` is values.yaml: Kustomize reads the path relative to the entry's folder.
        paths = (posixpath.normpath(name) for name in named if isinstance(name, str) and name)
        names.update(path for path in paths if "/" not in path and path not in (".", ".."))
    return names
