"""`tools/gitops validate` names what the Kubernetes API server would refuse though the schema passes.

Each case breaks a freshly generated repo by hand, as a user would, and expects one line
`environments/<env>/<app>: <Kind>/<name>: <field>: <reason>` and exit code 1.
"""

from __future__ import annotations

import re
import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple

import pytest

# The generated repo's tools/ is not a package of this project: import its library from the template.
from gitopslib.api_checks import api_problems, label_key_problem, label_value_problem, name_problem
from gitopslib.quantities import parse_quantity
from gitopslib.repo import Overlay

from tests.answer_sets import ANSWER_SETS
from tests.conftest import render, run_gitops

DEV = "environments/dev/myapp"
DEV_KUSTOMIZATION = f"{DEV}/kustomization.yaml"
DEPLOYMENT = "applications/base/myapp/deployment.yaml"
SERVICE = "applications/base/myapp/service.yaml"
# Optional quotes: the template may or may not quote these values.
BASE_RESOURCE = r'  - "?\.\./\.\./\.\./applications/base/myapp"?\n'
DEV_CPU_REQUEST = r'cpu: "?50m"?'
DEV_MEMORY_REQUEST = r'memory: "?64Mi"?'
LONG_NAME = "a" * 64


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return render(tmp_path_factory.mktemp("pristine") / "repo", {})


@pytest.fixture
def repo(pristine: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(pristine, tmp_path / "repo"))


class Edit(NamedTuple):
    """Replace the first match of the regular expression `old` in `file` by `new` (\\g<0>: the match)."""

    file: str
    old: str
    new: str


class Breakage(NamedTuple):
    """Apply `edits`; a problem line must start with `where` and hold `reason`."""

    edits: tuple[Edit, ...]
    where: str
    reason: str


def in_dev_overlay(name: str, text: str) -> tuple[Edit, ...]:
    """A new file in the dev overlay, listed in its resources."""
    return (
        Edit(f"{DEV}/{name}", r"\A", text),
        Edit(DEV_KUSTOMIZATION, BASE_RESOURCE, f"\\g<0>  - {name}\n"),
    )


def apply(repo: Path, edit: Edit) -> None:
    path = repo / edit.file
    text = path.read_text() if path.exists() else ""
    assert re.search(edit.old, text), f"{edit.old!r} not in {edit.file}: re-check the rendered file"
    path.write_text(re.sub(edit.old, lambda match: match.expand(edit.new), text, count=1))


def job(name: str, kind: str = "Job", resources: str = "") -> str:
    pod = (
        "      restartPolicy: Never\n      containers:\n        - name: main\n"
        f"          image: busybox:1.36\n{resources}"
    )
    if kind == "CronJob":
        return (
            f"apiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: {name}\nspec:\n"
            '  schedule: "0 * * * *"\n  jobTemplate:\n    spec:\n      template:\n        spec:\n'
            + re.sub("^", "    ", pod, flags=re.M)
        )
    return f"apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: {name}\nspec:\n  template:\n    spec:\n{pod}"


def hpa(low: int, high: int) -> str:
    return (
        "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: myapp\nspec:\n"
        "  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: myapp}\n"
        f"  minReplicas: {low}\n  maxReplicas: {high}\n"
    )


def limit_range(limits: str) -> str:
    return (
        "apiVersion: v1\nkind: LimitRange\nmetadata:\n  name: myapp\nspec:\n"
        f"  limits:\n    - type: Container\n{limits}"
    )


BREAKAGES = {
    "service-name-not-a-dns-1035-label": Breakage(
        edits=in_dev_overlay(
            "extra-service.yaml",
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: 1app\nspec:\n"
            "  selector:\n    app.kubernetes.io/name: myapp\n  ports:\n    - port: 80\n",
        ),
        where=f"{DEV}: Service/1app: metadata.name:",
        reason="is not a DNS-1035 label",
    ),
    "job-name-longer-than-a-label-value": Breakage(
        edits=in_dev_overlay("job.yaml", job(LONG_NAME)),
        where=f"{DEV}: Job/{LONG_NAME}: metadata.name:",
        reason="batch.kubernetes.io/job-name",
    ),
    "cronjob-name-longer-than-52": Breakage(
        edits=in_dev_overlay("cronjob.yaml", job("a" * 53, kind="CronJob")),
        where=f"{DEV}: CronJob/{'a' * 53}: metadata.name:",
        reason="more than 52",
    ),
    "init-container-name-not-a-label": Breakage(
        edits=(
            Edit(
                DEPLOYMENT,
                r"      containers:\n",
                "      initContainers:\n        - name: Init_DB\n          image: busybox:1.36\n"
                "      containers:\n",
            ),
        ),
        where=f"{DEV}: Deployment/myapp: spec.template.spec.initContainers[0].name:",
        reason="container name Init_DB is not a DNS-1123 label",
    ),
    "container-name-used-twice": Breakage(
        edits=(
            Edit(
                DEPLOYMENT,
                r"      containers:\n",
                "      initContainers:\n        - name: myapp\n          image: busybox:1.36\n"
                "      containers:\n",
            ),
        ),
        where=f"{DEV}: Deployment/myapp: spec.template.spec.containers[0].name:",
        reason="container name myapp is used twice in the pod",
    ),
    "volume-name-not-a-label": Breakage(
        edits=(Edit(DEPLOYMENT, r'- name: "?tmp"?\n(?=\s+emptyDir)', "- name: tmp_dir\n"),),
        where=f"{DEV}: Deployment/myapp: spec.template.spec.volumes[0].name:",
        reason="volume name tmp_dir is not a DNS-1123 label",
    ),
    "volume-mount-of-a-missing-volume": Breakage(
        edits=(Edit(DEPLOYMENT, r'- name: "?tmp"?\n(?=\s+mountPath)', "- name: tmpp\n"),),
        where=f"{DEV}: Deployment/myapp: spec.template.spec.containers[0].volumeMounts[0].name:",
        reason="the pod has no volume tmpp",
    ),
    "label-value-of-64-characters": Breakage(
        edits=(Edit(DEPLOYMENT, r"  labels:\n", f"  labels:\n    tier: {LONG_NAME}\n"),),
        where=f"{DEV}: Deployment/myapp: metadata.labels[tier]:",
        reason="(64 characters)",
    ),
    "label-value-a-yaml-number": Breakage(
        edits=(Edit(SERVICE, r"  labels:\n", "  labels:\n    version: 2\n"),),
        where=f"{DEV}: Service/myapp: metadata.labels[version]:",
        reason="2 is not a string",
    ),
    "label-key-with-two-slashes": Breakage(
        edits=(Edit(DEPLOYMENT, r"  labels:\n", "  labels:\n    example.com/team/name: web\n"),),
        where=f"{DEV}: Deployment/myapp: metadata.labels[example.com/team/name]:",
        reason="prefix example.com/team is not a DNS-1123 subdomain",
    ),
    "pod-template-label-key-not-a-name": Breakage(
        edits=(
            Edit(DEPLOYMENT, r"  template:\n    metadata:\n      labels:\n", "\\g<0>        -tier: web\n"),
        ),
        where=f"{DEV}: Deployment/myapp: spec.template.metadata.labels[-tier]:",
        reason="key -tier",
    ),
    "annotation-key-with-a-space": Breakage(
        edits=(Edit(SERVICE, r"  labels:\n", '  annotations:\n    "example.com/bad key": "x"\n  labels:\n'),),
        where=f"{DEV}: Service/myapp: metadata.annotations[example.com/bad key]:",
        reason="key example.com/bad key",
    ),
    "quantity-with-two-dots": Breakage(
        edits=(Edit(DEV_KUSTOMIZATION, DEV_CPU_REQUEST, 'cpu: "1.5.5"'),),
        where=f"{DEV}: Deployment/myapp: spec.template.spec.containers[0].resources.requests.cpu:",
        reason="1.5.5 is not a Kubernetes quantity",
    ),
    "quantity-with-a-unit-suffix": Breakage(
        edits=(Edit(DEV_KUSTOMIZATION, DEV_MEMORY_REQUEST, 'memory: "64MiB"'),),
        where=f"{DEV}: Deployment/myapp: spec.template.spec.containers[0].resources.requests.memory:",
        reason="64MiB is not a Kubernetes quantity",
    ),
    "misspelled-resource-name": Breakage(
        edits=(Edit(DEV_KUSTOMIZATION, DEV_MEMORY_REQUEST, 'memroy: "64Mi"'),),
        where=f"{DEV}: Deployment/myapp: spec.template.spec.containers[0].resources.requests.memroy:",
        reason="not a container resource",
    ),
    "request-above-limit": Breakage(
        edits=(Edit(DEV_KUSTOMIZATION, DEV_CPU_REQUEST, 'cpu: "500m"'),),
        where=f"{DEV}: Deployment/myapp: spec.template.spec.containers[0].resources.requests.cpu:",
        reason="500m is more than its limit 250m",
    ),
    "request-above-limit-in-a-cronjob": Breakage(
        edits=in_dev_overlay(
            "cronjob.yaml",
            job(
                "report",
                kind="CronJob",
                resources="          resources:\n            requests: {memory: 1Gi}\n"
                "            limits: {memory: 512Mi}\n",
            ),
        ),
        where=(
            f"{DEV}: CronJob/report: "
            "spec.jobTemplate.spec.template.spec.containers[0].resources.requests.memory:"
        ),
        reason="1Gi is more than its limit 512Mi",
    ),
    "negative-limit": Breakage(
        edits=(Edit(DEV_KUSTOMIZATION, r'cpu: "?250m"?', 'cpu: "-250m"'),),
        where=f"{DEV}: Deployment/myapp: spec.template.spec.containers[0].resources.limits.cpu:",
        reason="-250m is negative",
    ),
    "resource-quota-value-not-a-quantity": Breakage(
        edits=in_dev_overlay(
            "quota.yaml",
            "apiVersion: v1\nkind: ResourceQuota\nmetadata:\n  name: myapp\nspec:\n"
            '  hard:\n    pods: "10"\n    requests.cpu: "4 cores"\n',
        ),
        where=f"{DEV}: ResourceQuota/myapp: spec.hard.requests.cpu:",
        reason="4 cores is not a Kubernetes quantity",
    ),
    "limit-range-default-request-above-default": Breakage(
        edits=in_dev_overlay(
            "limits.yaml", limit_range('      defaultRequest: {cpu: "1"}\n      default: {cpu: 500m}\n')
        ),
        where=f"{DEV}: LimitRange/myapp: spec.limits[0].defaultRequest.cpu:",
        reason="1 is more than default 500m",
    ),
    "limit-range-min-above-max": Breakage(
        edits=in_dev_overlay(
            "limits.yaml", limit_range("      min: {memory: 1Gi}\n      max: {memory: 512Mi}\n")
        ),
        where=f"{DEV}: LimitRange/myapp: spec.limits[0].min.memory:",
        reason="1Gi is more than max 512Mi",
    ),
    "hpa-min-above-max": Breakage(
        edits=in_dev_overlay("hpa.yaml", hpa(5, 2)),
        where=f"{DEV}: HorizontalPodAutoscaler/myapp: spec.maxReplicas:",
        reason="2 is less than minReplicas 5",
    ),
    "hpa-min-zero": Breakage(
        edits=in_dev_overlay("hpa.yaml", hpa(0, 3)),
        where=f"{DEV}: HorizontalPodAutoscaler/myapp: spec.minReplicas:",
        reason="0 is less than 1",
    ),
    "container-port-out-of-range": Breakage(
        edits=(Edit(DEPLOYMENT, r"containerPort: \d+", "containerPort: 70000"),),
        where=f"{DEV}: Deployment/myapp: spec.template.spec.containers[0].ports[0].containerPort:",
        reason="70000 is not a port number between 1 and 65535",
    ),
    "service-port-zero": Breakage(
        edits=(Edit(SERVICE, r"      port: \d+", "      port: 0"),),
        where=f"{DEV}: Service/myapp: spec.ports[0].port:",
        reason="0 is not a port number between 1 and 65535",
    ),
    "deployment-selector-not-its-pods": Breakage(
        edits=(
            Edit(
                DEPLOYMENT,
                r'    matchLabels:\n      app.kubernetes.io/name: "?myapp"?',
                "    matchLabels:\n      app.kubernetes.io/name: other",
            ),
        ),
        where=f"{DEV}: Deployment/myapp: spec.selector:",
        reason="does not match the pod template's labels",
    ),
    "service-selects-no-pod": Breakage(
        edits=(
            Edit(SERVICE, r'  selector:\n    app.kubernetes.io/name: "?myapp"?\n', "\\g<0>    tier: web\n"),
        ),
        where=f"{DEV}: Service/myapp: spec.selector:",
        reason="selects no pod of this overlay (a Service with no endpoints)",
    ),
}


def test_pristine_repo_passes(pristine: Path) -> None:
    result = run_gitops(pristine, "validate")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("answer_set", ["hardened-gateway", "legitimate-edge-values"])
def test_every_option_on_passes(tmp_path: Path, answer_set: str) -> None:
    """HPA, ResourceQuota, LimitRange and the smoke-test Job as generated raise no problem."""
    generated = render(tmp_path / "repo", ANSWER_SETS[answer_set])
    result = run_gitops(generated, "validate")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("case", sorted(BREAKAGES), ids=str)
def test_breakage_is_named(repo: Path, case: str) -> None:
    breakage = BREAKAGES[case]
    for edit in breakage.edits:
        apply(repo, edit)
    result = run_gitops(repo, "validate")
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert any(line.startswith(breakage.where) and breakage.reason in line for line in lines), result.stdout


@pytest.mark.parametrize(
    ("written", "value"),
    [
        ("500m", "0.5"),
        ("0.5", "0.5"),
        (0.5, "0.5"),
        (2, "2"),
        ("1e3", "1000"),
        ("1E3", "1000"),
        ("1E", "1e18"),
        ("1Gi", str(2**30)),
        ("1.5Gi", str(3 * 2**29)),
        ("128Mi", str(128 * 2**20)),
        (".5k", "500"),
        ("+1", "1"),
        ("-100m", "-0.1"),
        ("5.", "5"),
        ("10n", "1e-8"),
    ],
    ids=str,
)
def test_quantity_is_parsed(written: Any, value: str) -> None:
    assert parse_quantity(written) == Decimal(value)


@pytest.mark.parametrize(
    "written",
    ["1.5.5", "1KiB", "abc", "", "1e", "1 Gi", "1mi", "0x10", "\u0663", True, None, float("nan")],
    ids=repr,
)
def test_not_a_quantity(written: Any) -> None:
    assert parse_quantity(written) is None


@pytest.mark.parametrize(
    ("kind", "name", "valid"),
    [
        ("Service", "app-1", True),
        ("Service", "1app", False),
        ("Service", "a.b", False),
        ("Namespace", "a.b", False),
        ("Namespace", "1ns", True),
        ("ConfigMap", "a.b", True),
        ("ConfigMap", "A", False),
        ("ConfigMap", "a" * 254, False),
        ("Job", "a" * 63, True),
        ("Job", "a" * 64, False),
        ("Deployment", "a" * 64, True),
        ("CronJob", "a" * 53, False),
        ("ClusterRole", "system:aggregate-to-view", True),
        ("ClusterRole", "a/b", False),
        ("Deployment", 123, False),
        ("Deployment", False, False),
    ],
    ids=lambda value: str(value)[:20],
)
def test_name_rules(kind: str, name: Any, valid: bool) -> None:
    assert (name_problem(kind, name) == "") is valid


@pytest.mark.parametrize(
    ("key", "valid"),
    [
        ("app", True),
        ("app.kubernetes.io/name", True),
        ("A_b.c", True),
        ("/name", False),
        ("example.com/", False),
        ("Example.com/name", False),
        ("a/b/c", False),
        ("-a", False),
        ("a" * 64, False),
        (1, False),
    ],
    ids=str,
)
def test_label_key_rule(key: Any, valid: bool) -> None:
    assert (label_key_problem(key) == "") is valid


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("", True),
        (None, True),
        ("v1.2_3-x", True),
        ("a" * 63, True),
        ("a" * 64, False),
        ("-a", False),
        ("a b", False),
        (False, False),
        (2, False),
    ],
    ids=repr,
)
def test_label_value_rule(value: Any, valid: bool) -> None:
    assert (label_value_problem(value) == "") is valid


def test_service_matching_a_pod_template_or_of_type_external_name_is_fine() -> None:
    deployment = {
        "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {"template": {"metadata": {"labels": {"app": "web", "tier": "front"}}, "spec": {}}},
    }
    selecting = {"kind": "Service", "metadata": {"name": "web"}, "spec": {"selector": {"app": "web"}}}
    external = {
        "kind": "Service",
        "metadata": {"name": "db"},
        "spec": {"type": "ExternalName", "externalName": "db.example.com", "selector": {"app": "db"}},
    }
    assert api_problems(Overlay("dev", "web"), [deployment, selecting, external]) == []


def test_malformed_objects_are_left_to_the_schema_check() -> None:
    """Wrong shapes (the schema check names them) raise nothing here, and custom resources are
    checked only in their metadata: their spec is no business of the API server's validation."""
    malformed: list[Any] = [
        "not a mapping",
        {"kind": "Deployment", "metadata": "x", "spec": [1]},
        {"kind": "Service", "metadata": None, "spec": "s"},
        {"kind": "CronJob", "metadata": {"name": "c", "annotations": [1]}, "spec": {"jobTemplate": "x"}},
        {
            "kind": "Deployment",
            "metadata": {"name": "d"},
            "spec": {"template": {"spec": {"containers": "a"}}},
        },
        {"kind": "LimitRange", "metadata": {"name": "l"}, "spec": {"limits": {"a": 1}}},
        {"kind": "ResourceQuota", "metadata": {"name": "q"}, "spec": "x"},
        {
            "apiVersion": "example.com/v1",
            "kind": "Thing",
            "metadata": {"name": "t"},
            "spec": {"matchLabels": {"a": 1}},
        },
    ]
    assert api_problems(Overlay("dev", "web"), malformed) == []
