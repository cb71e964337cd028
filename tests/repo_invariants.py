"""Checks of a generated repository, written independently of tools/gitops.

The template's own validator is tested elsewhere; these checks read the files with
PyYAML, build each overlay on its own with `kubectl kustomize`, validate built-in objects
with kubernetes-validate's own API (strict: unknown fields rejected) and Argo CD objects
with the JSON Schemas derived from the Argo CD CRD types, and compare everything with
what the answers asked for.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import yaml

from tests.conftest import TEMPLATE_ROOT
from tests.kustomize_builds import build_overlays

# libyaml's parser: the same YAML 1.1 safe loading as yaml.safe_load, several times faster on
# the objects of every overlay these checks read.
YAML_LOADER: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

IN_CLUSTER = "https://kubernetes.default.svc"
CRD_SCHEMAS = TEMPLATE_ROOT / "template" / "tools" / "schemas"
ARGO_SCHEMAS = CRD_SCHEMAS / "argoproj.io"

# kubernetes_validate.validate reads and parses its schema files at every call, most of the time a
# strict check takes; they do not change during a run.
kubernetes_validate.utils.schema_contents = functools.cache(kubernetes_validate.utils.schema_contents)


@functools.cache
def schema_validator(path: Path) -> Any:
    """A validator for the JSON Schema in `path`, the schema itself checked once: what
    jsonschema.validate does at every call (the meta-schema check alone costs a quarter of a
    second for Argo CD's Application schema)."""
    schema = json.loads(path.read_text())
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema)


def validate_against(obj: Any, path: Path) -> None:
    """jsonschema.validate(obj, <the schema in path>): the best-matching error raised."""
    if (error := jsonschema.exceptions.best_match(schema_validator(path).iter_errors(obj))) is not None:
        raise error


CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition"}


def load_all(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.load_all(path.read_text(), Loader=YAML_LOADER) if doc is not None]


def positional_replicas(position: int, count: int) -> int:
    return 1 if position == 0 else 3 if position == count - 1 else 2


@dataclass
class RepoFacts:
    """What a generated repository holds, read once."""

    root: Path
    answers: dict[str, Any]
    built: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)
    argo: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    platform: list[dict[str, Any]] = field(default_factory=list)

    @property
    def app(self) -> str:
        return self.answers["app_name"]

    @property
    def chart(self) -> bool:
        """Whether the app deploys a Helm chart (answers of apps older than the question: no)."""
        return self.answers.get("workload") == "helm-chart"

    @property
    def environments(self) -> list[str]:
        return self.answers["environments"]

    def applications(self) -> dict[str, dict[str, Any]]:
        return {o["metadata"]["name"]: o for _, o in self.argo if o["kind"] == "Application"}

    def projects(self) -> dict[str, dict[str, Any]]:
        return {o["metadata"]["name"]: o for _, o in self.argo if o["kind"] == "AppProject"}


def read_repo(root: Path, kubectl: str) -> RepoFacts:
    answer_files = sorted(root.glob(".copier-answers.*.yml"))
    assert len(answer_files) == 1, f"expected one answers file, found {answer_files}"
    facts = RepoFacts(root=root, answers=yaml.load(answer_files[0].read_text(), Loader=YAML_LOADER))
    overlays = [path.parent for path in sorted(root.glob("environments/*/*/kustomization.yaml"))]
    policies = root / "platform" / "policies"
    # The platform's policies in the same batch: one kubectl process fewer per repository.
    folders = [*overlays, policies] if policies.is_dir() else overlays
    built = build_overlays(kubectl, folders)
    for overlay in overlays:
        facts.built[(overlay.parent.name, overlay.name)] = built[overlay]
    if facts.chart:
        # What Argo CD does with an object that has no namespace: it applies it into the
        # Application's destination namespace (<app>-<env>, check_applications). Kustomize puts
        # the overlay's namespace on every object but what a chart renders (kustomize#6058).
        for (env, app), objects in facts.built.items():
            for obj in objects:
                if obj["kind"] not in CLUSTER_SCOPED:
                    obj["metadata"].setdefault("namespace", f"{app}-{env}")
    for path in sorted((root / "argocd").rglob("*.yaml")):
        if path.name != "kustomization.yaml" and "install" not in path.parts:
            facts.argo += [(path.relative_to(root).as_posix(), doc) for doc in load_all(path)]
    if policies.is_dir():
        facts.platform = built[policies]
    return facts


def check_overlays_exist(facts: RepoFacts) -> None:
    expected = {(env, facts.app) for env in facts.environments}
    assert set(facts.built) == expected


def check_builtin_objects_strict(facts: RepoFacts) -> int:
    """Built-in kinds against kubernetes-validate's strict schemas; CRD kinds against ours."""
    count = 0
    for objects in facts.built.values():
        for obj in objects:
            group = obj["apiVersion"].rpartition("/")[0]
            crd_schema = CRD_SCHEMAS / group / f"{obj['kind']}.json"
            if crd_schema.is_file():
                validate_against(obj, crd_schema)
            else:
                kubernetes_validate.validate(obj, kubernetes_validate.utils.latest_version(), strict=True)
            count += 1
    return count


def check_pod_hardening(facts: RepoFacts) -> None:
    """Every pod template meets the "restricted" Pod Security Standard and the defaults: a chart's
    (what validate holds it to: requests, a memory limit, both probes), and the template's base
    (also a CPU limit, its own service account, the writable paths, a budget where pods are many)."""
    writable = set(facts.answers["writable_paths"])
    for (env, _), objects in facts.built.items():
        kinds = {o["kind"] for o in objects}
        assert facts.chart or {"ServiceAccount", "NetworkPolicy"} <= kinds, env
        for obj in objects:
            if obj["kind"] not in {"Deployment", "Job"}:
                continue
            pod = obj["spec"]["template"]["spec"]
            assert pod["automountServiceAccountToken"] is False, (env, obj["kind"])
            assert pod["securityContext"]["runAsNonRoot"] is True
            assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
            for container in pod["containers"]:
                security = container["securityContext"]
                assert security["allowPrivilegeEscalation"] is False
                assert security["readOnlyRootFilesystem"] is True
                assert security["capabilities"]["drop"] == ["ALL"]
                assert {"cpu", "memory"} <= set(container["resources"]["requests"])
                assert {"memory"} <= set(container["resources"]["limits"])
                assert facts.chart or {"cpu"} <= set(container["resources"]["limits"])
                if obj["kind"] == "Deployment":
                    assert container["readinessProbe"] and container["livenessProbe"], env
            if obj["kind"] == "Deployment" and not facts.chart:
                assert pod["serviceAccountName"] == facts.app
                container = pod["containers"][0]
                assert container["readinessProbe"]["httpGet"]["path"] == facts.answers["probe_path"]
                assert "tcpSocket" in container["livenessProbe"]
                mounted = {m["mountPath"] for m in container.get("volumeMounts", [])}
                assert mounted == writable, env
                replicas = obj["spec"].get("replicas")
                has_pdb = "PodDisruptionBudget" in kinds
                scaling = facts.answers["autoscaling"].get(env)
                assert has_pdb == ((scaling["min"] if scaling else replicas) > 1), env


def check_argo_objects_strict(facts: RepoFacts) -> int:
    for _path, obj in facts.argo:
        validate_against(obj, ARGO_SCHEMAS / f"{obj['kind']}.json")
    return len(facts.argo)


def check_namespaces(facts: RepoFacts) -> None:
    """Every namespaced object of an overlay is in <app>-<env>: Deployment and Service alike."""
    for (env, app), objects in facts.built.items():
        kinds = {o["kind"] for o in objects}
        assert {"Deployment", "Service"} <= kinds, f"{env}: built {kinds}"
        for obj in objects:
            if obj["kind"] not in CLUSTER_SCOPED:
                assert obj["metadata"].get("namespace") == f"{app}-{env}", (env, obj["kind"])


def check_release_and_replicas(facts: RepoFacts) -> None:
    """The release's image runs; the template's base also takes its port, replicas and resources
    from the answers (a chart takes them from its values: check_chart_release)."""
    answers = facts.answers
    tag = answers["image_tag"]
    expected_image = f"{answers['image']}@{tag}" if tag.startswith("sha256:") else f"{answers['image']}:{tag}"
    for position, env in enumerate(facts.environments):
        deployment = next(o for o in facts.built[(env, facts.app)] if o["kind"] == "Deployment")
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        assert container["image"] == expected_image, env
        if facts.chart:
            check_chart_release(facts, env, deployment)
            continue
        assert container["ports"][0]["containerPort"] == answers["container_port"]
        scaling = answers["autoscaling"].get(env)
        if scaling:
            assert "replicas" not in deployment["spec"], f"{env}: Argo CD would fight the autoscaler"
            hpa = next(o for o in facts.built[(env, facts.app)] if o["kind"] == "HorizontalPodAutoscaler")
            assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (
                scaling["min"],
                scaling["max"],
            )
        else:
            want = answers["replicas"].get(env, positional_replicas(position, len(facts.environments)))
            assert deployment["spec"]["replicas"] == want, env
            assert not [o for o in facts.built[(env, facts.app)] if o["kind"] == "HorizontalPodAutoscaler"]
        given = answers["resources"].get(env, {})
        resources = container["resources"]
        for kind, amounts in given.items():
            for name, amount in amounts.items():
                assert str(resources[kind][name]) == str(amount), (env, kind, name)
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert labels["environment"] == env and labels["team"] == answers["team"]
        selector = deployment["spec"]["selector"]["matchLabels"]
        assert "environment" not in selector and "team" not in selector, "labels must not change selectors"
        service = next(o for o in facts.built[(env, facts.app)] if o["kind"] == "Service")
        assert service["spec"]["selector"] == selector
        assert service["spec"]["ports"][0]["port"] == answers["service_port"]


def check_chart_release(facts: RepoFacts, env: str, deployment: dict[str, Any]) -> None:
    """The chart at the answered version, rendered with the release name and the environment's
    labels; nothing of the template's base (no HPA, no budget, no replicas of the answers)."""
    labels = deployment["metadata"]["labels"]
    assert labels["helm.sh/chart"] == f"{facts.answers['chart_name']}-{facts.answers['chart_version']}", env
    assert deployment["metadata"]["name"] == facts.app  # the chart names it after the release
    assert labels["environment"] == env and labels["team"] == facts.answers["team"]
    kinds = {o["kind"] for o in facts.built[(env, facts.app)]}
    assert not kinds & {"HorizontalPodAutoscaler", "PodDisruptionBudget"}, env


def check_applications(facts: RepoFacts) -> None:
    """Application <app>-<env> per env: path exists, namespaces agree, least-privilege project."""
    answers = facts.answers
    applications, projects = facts.applications(), facts.projects()
    for env in facts.environments:
        name = f"{facts.app}-{env}"
        assert len(name) <= 63
        app = applications[name]
        spec = app["spec"]
        assert spec["source"]["repoURL"] == answers["repo_url"]
        assert spec["source"]["targetRevision"] == answers["target_revision"]
        assert (facts.root / spec["source"]["path"] / "kustomization.yaml").is_file()
        assert spec["source"]["path"] == f"environments/{env}/{facts.app}"
        server = answers["clusters"].get(env, IN_CLUSTER)
        assert spec["destination"] == {"server": server, "namespace": name}
        assert "resources-finalizer.argocd.argoproj.io/foreground" in app["metadata"]["finalizers"]
        assert "CreateNamespace=true" in spec["syncPolicy"]["syncOptions"]
        assert spec["syncPolicy"]["retry"]["limit"] > 0
        automated = spec["syncPolicy"].get("automated")
        labels = spec["syncPolicy"]["managedNamespaceMetadata"]["labels"]
        assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
        if answers["sync_policy"] == "manual" or env in answers["manual_sync_environments"]:
            assert automated is None
        else:
            assert automated == {"prune": answers["sync_policy"] == "automated", "selfHeal": True}
        project = projects[spec["project"]]["spec"]
        assert project["sourceRepos"] == [answers["repo_url"]]
        assert project["destinations"] == [{"server": server, "namespace": name}]
        assert project["clusterResourceWhitelist"] == [{"group": "", "kind": "Namespace", "name": name}]
        window = answers["sync_windows"].get(env)
        assert project.get("syncWindows", []) == (
            [{"kind": "allow", **window, "applications": [name]}] if window else []
        )
        channel = answers["notifications_channel"]
        annotations = app["metadata"].get("annotations", {})
        assert annotations.get("notifications.argoproj.io/subscribe.on-sync-failed.slack") == (
            channel or None
        )
    platform = {name for name in applications if name.startswith("platform-policies-")}
    assert set(applications) - platform == {f"{facts.app}-{env}" for env in facts.environments} | {"root"}


def check_root_app(facts: RepoFacts) -> None:
    """The root app reaches every Application file: it recurses into argocd/apps."""
    root = facts.applications()["root"]
    source = root["spec"]["source"]
    assert source["path"] == "argocd/apps" and source["directory"]["recurse"] is True
    assert source["repoURL"] == facts.answers["repo_url"]
    for path, obj in facts.argo:
        if obj["kind"] == "Application" and obj["metadata"]["name"] != "root":
            assert path.startswith("argocd/apps/"), path
    root_project = facts.projects()[root["spec"]["project"]]["spec"]
    assert root_project["sourceRepos"] == [facts.answers["repo_url"]]
    assert root_project["destinations"] == [{"server": IN_CLUSTER, "namespace": "argocd"}]
    assert root_project["clusterResourceWhitelist"] == []


def check_install_pinned(facts: RepoFacts) -> None:
    install = load_all(facts.root / "argocd" / "install" / "kustomization.yaml")[0]
    version = facts.answers["argocd_version"]
    remote = [r for r in install["resources"] if "://" in r]
    flavour = "ha/install.yaml" if facts.answers["argocd_ha"] else "install.yaml"
    assert remote == [f"https://raw.githubusercontent.com/argoproj/argo-cd/{version}/manifests/{flavour}"]
    settings = yaml.safe_load((facts.root / "gitops.yaml").read_text())
    assert settings["argocd_version"] == version


def check_no_deprecated_kustomize(facts: RepoFacts) -> None:
    deprecated = {"bases", "commonLabels", "patchesStrategicMerge", "patchesJson6902", "vars"}
    for path in facts.root.rglob("kustomization.yaml"):
        data = load_all(path)[0]
        assert not deprecated & set(data), path
        assert "containers/0" not in path.read_text(), path


def check_gitops_settings(facts: RepoFacts) -> None:
    settings = yaml.safe_load((facts.root / "gitops.yaml").read_text())
    for key in ("repo_url", "target_revision", "environments", "clusters", "argocd_version"):
        assert settings[key] == facts.answers[key], key


def check_exposure(facts: RepoFacts) -> None:
    """Ingress or HTTPRoute per environment, with that environment's host, or neither."""
    exposure = facts.answers["exposure"]
    for env in facts.environments:
        objects = facts.built[(env, facts.app)]
        routes = [o for o in objects if o["kind"] in {"Ingress", "HTTPRoute"}]
        if exposure == "none":
            assert not routes, env
            continue
        host = facts.answers["hosts"].get(env, f"{facts.app}.{env}.example.com")
        (route,) = routes
        if exposure == "ingress":
            assert (
                route["kind"] == "Ingress"
                and route["spec"]["ingressClassName"] == facts.answers["ingress_class"]
            )
            rule = route["spec"]["rules"][0]
            assert rule["host"] == host
            assert rule["http"]["paths"][0]["backend"]["service"]["name"] == facts.app
        else:
            namespace, name = facts.answers["gateway"].split("/")
            assert route["kind"] == "HTTPRoute" and route["spec"]["hostnames"] == [host]
            assert route["spec"]["parentRefs"] == [{"name": name, "namespace": namespace}]


# Where the template writes CODEOWNERS for each ci_provider; none writes no CI file at all.
CODEOWNERS_FILES = {"github": ".github/CODEOWNERS", "gitlab": ".gitlab/CODEOWNERS"}


def check_codeowners(facts: RepoFacts) -> None:
    location = CODEOWNERS_FILES.get(facts.answers["ci_provider"])
    if location is None:
        assert not list(facts.root.glob("**/CODEOWNERS")), "ci_provider none writes no CODEOWNERS"
        return
    owners = dict(
        line.split() for line in (facts.root / location).read_text().splitlines() if line.startswith("/")
    )
    team = facts.answers["platform_team"]
    assert owners["/argocd/"] == team and owners["/gitops.yaml"] == team
    protected = [env for env in facts.answers["protected_environments"] if env in facts.environments]
    assert {path for path in owners if path.startswith("/environments/")} == {
        f"/environments/{e}/" for e in protected
    }


def check_secrets(facts: RepoFacts) -> None:
    """No Secret values in Git: an ExternalSecret or SealedSecret per environment, or nothing."""
    choice = facts.answers["secrets"]
    for (env, app), objects in facts.built.items():
        assert not [o for o in objects if o["kind"] == "Secret"], env
        managed = [o for o in objects if o["kind"] in {"ExternalSecret", "SealedSecret"}]
        deployment = next(o for o in objects if o["kind"] == "Deployment")
        env_from = deployment["spec"]["template"]["spec"]["containers"][0].get("envFrom")
        if choice == "none":
            assert not managed and env_from is None
            continue
        (secret,) = managed
        assert env_from == [{"secretRef": {"name": app}}]
        keys = facts.answers["secret_keys"]
        if choice == "external-secrets":
            assert secret["kind"] == "ExternalSecret"
            assert secret["spec"]["secretStoreRef"] == {
                "kind": "ClusterSecretStore",
                "name": facts.answers["secret_store"],
            }
            assert [d["secretKey"] for d in secret["spec"]["data"]] == keys
            assert {d["remoteRef"]["key"] for d in secret["spec"]["data"]} == {f"{app}/{env}"}
        else:
            assert secret["kind"] == "SealedSecret" and list(secret["spec"]["encryptedData"]) == keys


def check_platform_policies(facts: RepoFacts) -> None:
    """Kyverno policies: built, strictly valid, scoped to app namespaces, on every cluster."""
    applications = facts.applications()
    platform_apps = [a for name, a in applications.items() if name.startswith("platform-policies-")]
    if not facts.answers["kyverno_policies"]:
        assert not facts.platform and not platform_apps
        return
    names = {policy["metadata"]["name"] for policy in facts.platform}
    expected = {"disallow-latest-tag", "require-requests-limits"}
    assert names == expected | ({"verify-image-signatures"} if facts.answers["cosign_public_key"] else set())
    for policy in facts.platform:
        validate_against(policy, CRD_SCHEMAS / "kyverno.io" / "ClusterPolicy.json")
        for rule in policy["spec"]["rules"]:
            selector = rule["match"]["any"][0]["resources"]["namespaceSelector"]["matchLabels"]
            assert selector == {"gitops-template/app-namespace": "true"}
    servers = {facts.answers["clusters"].get(env, IN_CLUSTER) for env in facts.environments}
    assert {a["spec"]["destination"]["server"] for a in platform_apps} == servers
    project = facts.projects()["platform-policies"]["spec"]
    assert project["sourceRepos"] == [facts.answers["repo_url"]]
    assert project["clusterResourceWhitelist"] == [{"group": "kyverno.io", "kind": "ClusterPolicy"}]
