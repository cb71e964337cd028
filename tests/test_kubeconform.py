"""The real kubeconform, the version the generated CI files pin (built from source by
scripts/dev.py), on every answer set of the render matrix.

It reads local schemas only: kubernetes-validate's bundled strict ones (the Kubernetes version
tools/gitops validate checks against) and the generated repository's tools/schemas/ (the derived
CRD schemas). An object it has to skip, or whose kind has no schema, fails. Every kubeconform run
here has its proxies pointed at a closed port, so that no schema can come from the network.

The generated CI files' own kubeconform scripts run here too (without their download of the
kubeconform release: the same version, built here), on each answer set that has one."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import kubernetes_validate  # type: ignore[import-untyped]
import pytest
import yaml
from gitopslib.schemas import kubernetes_version

from scripts import dev
from tests.answer_sets import ANSWER_SETS, served
from tests.conftest import TEMPLATE_ROOT, render
from tests.go_tools import built_tool
from tests.kustomize_builds import build_stream

GITHUB_WORKFLOW = (
    TEMPLATE_ROOT / "template" / "{% if ci_provider == 'github' %}.github{% endif %}" / "workflows"
)
GITLAB_CI = TEMPLATE_ROOT / "template" / "{% if ci_provider == 'gitlab' %}.gitlab-ci.yml{% endif %}"
BUNDLED = Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema"
# kubernetes-validate's strict schemas name their shared definitions by this URL ($id plus $ref):
# kubeconform's HTTP cache (a file named by the URL's SHA-256) serves the bundled file instead.
DEFINITIONS_URL = "https://kubernetes.io/api/_definitions.json"
# kubeconform's template variables (pkg/registry/registry.go at v0.7.0). ResourceKind is the
# kind in lowercase; KindSuffix is -<first part of the group>-<version>, the names
# kubernetes-validate gives its files (deployment-apps-v1.json).
BUILTIN_LOCATION = (
    "{{ .NormalizedKubernetesVersion }}-local{{ .StrictSuffix }}/{{ .ResourceKind }}{{ .KindSuffix }}.json"
)
CRD_LOCATION = "{{ .Group }}/{{ .ResourceKind }}.json"
# Any attempt to download a schema fails at once.
NO_NETWORK = {"HTTP_PROXY": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9", "NO_PROXY": ""}
BASH = ["bash", "--noprofile", "--norc", "-eo", "pipefail"]
CI_SETS = sorted(
    name for name, answers in ANSWER_SETS.items() if answers.get("ci_provider", "github") != "none"
)


def kubeconform() -> Path:
    return built_tool(dev.KUBECONFORM)


def kubeconform_env(path: str = "") -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if "proxy" not in key.lower()}
    return {**env, **NO_NETWORK, "PATH": os.pathsep.join(filter(None, [path, env.get("PATH", "")]))}


def schema_locations(repo: Path, folder: Path) -> list[str]:
    """kubeconform's arguments that select the repository's schemas, prepared under folder."""
    version = kubernetes_version()
    http_cache = folder / "cache"
    http_cache.mkdir(parents=True)
    key = hashlib.sha256(DEFINITIONS_URL.encode()).hexdigest()
    shutil.copyfile(BUNDLED / f"v{version}-local-strict" / "_definitions.json", http_cache / key)
    crds = folder / "crds"
    for schema in sorted((repo / "tools" / "schemas").glob("*/*.json")):
        (crds / schema.parent.name).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(schema, crds / schema.parent.name / schema.name.lower())
    return [
        *("-kubernetes-version", version, "-cache", str(http_cache)),
        *("-schema-location", f"{crds}/{CRD_LOCATION}"),
        *("-schema-location", f"{BUNDLED}/{BUILTIN_LOCATION}"),
    ]


def run_kubeconform(repo: Path, folder: Path, stream: str) -> tuple[subprocess.CompletedProcess[str], Any]:
    """kubeconform -strict on stream, with the repository's schemas only: (result, JSON output)."""
    (folder / "rendered.yaml").write_text(stream)
    result = subprocess.run(
        [
            str(kubeconform()),
            *("-strict", "-summary", "-output", "json"),
            *schema_locations(repo, folder / "schemas"),
            str(folder / "rendered.yaml"),
        ],
        capture_output=True,
        text=True,
        env=kubeconform_env(),
        timeout=120,
    )
    # 0: every resource valid; 1: some invalid or in error; anything else: kubeconform failed.
    assert result.returncode in (0, 1), result.stdout + result.stderr
    return result, json.loads(result.stdout)


@cache  # built once per repository, for both tests below
def rendered_objects(repo: Path, kubectl: str) -> tuple[str, list[dict[str, Any]]]:
    """What the generated CI feeds kubeconform, as it does: every overlay and platform folder
    built, then the files of the Argo CD objects under argocd/apps and argocd/bootstrap. The stream
    as written (kubectl's quoting kept: PyYAML would write the string 1e3 bare, which YAML 1.2 reads
    as a number) and its objects."""
    folders = sorted(repo.glob("environments/*/*/kustomization.yaml")) + sorted(
        repo.glob("platform/*/kustomization.yaml")
    )
    parts = [build_stream(kubectl, [path.parent for path in folders])]
    for folder in ("apps", "bootstrap"):
        for path in sorted((repo / "argocd" / folder).rglob("*.yaml")):
            if path.name != "kustomization.yaml":
                parts.append(path.read_text())
    stream = "---\n".join(part if part.endswith("\n") else part + "\n" for part in parts)
    return stream, [d for d in yaml.safe_load_all(stream) if d]


@pytest.fixture(scope="module", params=sorted(ANSWER_SETS), ids=str)
def rendered(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    answers = served(ANSWER_SETS[request.param], request)
    return render(tmp_path_factory.mktemp(request.param) / "repo", answers)


# A set with a CI gets the same kubeconform run from its generated CI script (the last test
# here, which also holds every object valid and none skipped): running it twice costs seconds.
WITHOUT_CI = sorted(set(ANSWER_SETS) - set(CI_SETS))


@pytest.mark.parametrize("rendered", WITHOUT_CI, indirect=True)
def test_kubeconform_accepts_every_object(rendered: Path, kubectl: str, tmp_path: Path) -> None:
    stream, objects = rendered_objects(rendered, kubectl)
    result, output = run_kubeconform(rendered, tmp_path, stream)
    assert output["resources"] == [], json.dumps(output["resources"], indent=1)
    summary = output["summary"]
    assert summary == {"valid": len(objects), "invalid": 0, "errors": 0, "skipped": 0}, summary
    assert result.returncode == 0 and result.stderr == "", result.stderr
    kinds = {obj["kind"] for obj in objects}
    assert {"Deployment", "Application", "AppProject"} <= kinds, kinds


DEPLOYMENT = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "web"},
    "spec": {
        "selector": {"matchLabels": {"app": "web"}},
        "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": "web", "image": "nginx:1.29"}]},
        },
    },
}
APPLICATION = {
    "apiVersion": "argoproj.io/v1alpha1",
    "kind": "Application",
    "metadata": {"name": "web", "namespace": "argocd"},
    "spec": {
        "project": "default",
        "destination": {"server": "https://kubernetes.default.svc", "namespace": "web"},
        "source": {"repoURL": "https://example.com/gitops.git", "path": "environments/dev/web"},
    },
}


def with_field(obj: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    copy: dict[str, Any] = json.loads(json.dumps(obj))
    target = copy
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return copy


@pytest.fixture(scope="module")
def defaults_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return render(tmp_path_factory.mktemp("kubeconform-defaults") / "repo", {})


@pytest.mark.parametrize(
    ("obj", "status", "message"),
    [
        (DEPLOYMENT, "statusValid", ""),
        (APPLICATION, "statusValid", ""),
        (with_field(DEPLOYMENT, ("spec", "replica"), 2), "statusInvalid", "'replica' not allowed"),
        (
            with_field(DEPLOYMENT, ("spec", "template", "spec", "containers"), [{"name": "w", "imag": "x"}]),
            "statusInvalid",
            "'imag' not allowed",
        ),
        (with_field(APPLICATION, ("spec", "syncPolicyy"), {}), "statusInvalid", "'syncPolicyy' not allowed"),
        (
            {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}},
            "statusError",
            "could not find schema for Widget",
        ),
        # A built-in group at a version kubernetes-validate has no schema of: no fallback to another.
        (DEPLOYMENT | {"apiVersion": "apps/v1beta9"}, "statusError", "could not find schema for Deployment"),
    ],
    ids=["valid-deployment", "valid-application", "unknown-field", "unknown-nested-field",
         "unknown-crd-field", "kind-without-schema", "version-without-schema"],
)  # fmt: skip
def test_kubeconform_can_fail(
    defaults_repo: Path, tmp_path: Path, obj: dict[str, Any], status: str, message: str
) -> None:
    """The test above can fail: an unknown field, or a kind (or version) without a schema, fails
    the run; the two valid objects show that each of the two schema locations is read."""
    result, output = run_kubeconform(defaults_repo, tmp_path, yaml.safe_dump(obj))
    if status == "statusValid":
        assert result.returncode == 0 and output["summary"]["valid"] == 1, output
        return
    assert result.returncode == 1, output
    (resource,) = output["resources"]
    assert resource["status"] == status and message in resource["msg"], resource
    assert output["summary"]["skipped"] == 0, output


def test_the_ci_files_pin_the_version_the_tests_build() -> None:
    for text in ((GITHUB_WORKFLOW / "validate.yaml").read_text(), GITLAB_CI.read_text()):
        assert f"KUBECONFORM_VERSION: {dev.KUBECONFORM.version}\n" in text
        # No schema from the network: no catalog URL, no `-schema-location default`.
        assert "-schema-location default" not in text and "-ignore-missing-schemas" not in text
        assert "raw.githubusercontent.com" not in text


def ci_script(repo: Path) -> tuple[str, dict[str, str]]:
    """The generated CI's kubeconform script (the part after its download) and its environment."""
    workflow = repo / ".github" / "workflows" / "validate.yaml"
    if workflow.is_file():
        steps = yaml.safe_load(workflow.read_text())["jobs"]["shard"]["steps"]
        (step,) = [s for s in steps if s.get("name", "").startswith("kubeconform")]
        runner_temp = repo.parent / "runner-temp"
        runner_temp.mkdir()
        # One shard: what `tools/gitops shards plan` gives a repository of this size.
        return step["run"], {"RUNNER_TEMP": str(runner_temp), "SHARD": "1/1"}
    job = yaml.safe_load((repo / ".gitlab-ci.yml").read_text())["kubeconform"]
    download, script = job["script"]
    assert "releases/download/${KUBECONFORM_VERSION}" in download
    # The job runs the kubeconform it unpacked into the work tree.
    (repo / "kubeconform").symlink_to(kubeconform())
    return script, {}


@pytest.mark.parametrize("rendered", CI_SETS, indirect=True)
def test_the_generated_ci_script_validates_offline(rendered: Path, kubectl: str, tmp_path: Path) -> None:
    """The generated CI's own commands, in a copy of the repository, with this interpreter's
    kubernetes-validate and kubectl: every object valid, none skipped, nothing downloaded."""
    repo = tmp_path / "repo"
    shutil.copytree(rendered, repo)
    script, env = ci_script(repo)
    path = os.pathsep.join([str(Path(sys.executable).parent), str(kubeconform().parent)])
    result = subprocess.run(
        [*BASH, "-c", script],
        cwd=repo,
        capture_output=True,
        text=True,
        env={**kubeconform_env(path), **env},
        timeout=300,
    )
    output = result.stdout + result.stderr
    built = rendered_objects(rendered, kubectl)[1]
    assert {"Deployment", "Application", "AppProject"} <= {obj["kind"] for obj in built}
    objects = len(built)
    assert result.returncode == 0, output
    assert (
        f"Summary: {objects} resources found in 1 file - Valid: {objects}, Invalid: 0, Errors: 0, Skipped: 0"
        in (output)
    ), output
