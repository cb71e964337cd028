"""An app deployed from a Helm chart (workload helm-chart, issue 15), end to end with the real tools:
Copier renders it, `tools/gitops` builds its chart with the pinned helm from the tests' chart
repository on 127.0.0.1 over HTTPS (tests/helm_repository.py), git holds it.

The chart (tests/charts/hello) has two switches a team's values may turn on: `hardened: false`
(runs as root, no securityContext) and `clusterRole: true` (a ClusterRole): what validate must
report of a chart it cannot change.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import copier
import pytest
import yaml

from tests.conftest import run_gitops, run_gitops_process
from tests.helm_repository import ChartRepository
from tests.template_versions import (
    TemplateRepo,
    commit_all,
    copy_repo,
    edit,
    generate,
    git,
    tree_state,
    validated,
)

APP = "shop"
ENVIRONMENTS = ["dev", "staging", "prod"]
ANSWERS: dict[str, Any] = {
    "app_name": APP,
    "workload": "helm-chart",
    "chart_name": "hello",
    "chart_version": "0.1.0",
    "image": "ghcr.io/example/hello",
    "image_tag": "2.0.0",
    "environments": ENVIRONMENTS,
}


def release_path(env: str, name: str = "kustomization.yaml") -> str:
    return f"environments/{env}/{APP}/release/{name}"


def release_of(repo: Path, env: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((repo / release_path(env)).read_text())
    return data


def chart_entry(repo: Path, env: str) -> dict[str, Any]:
    (entry,) = release_of(repo, env)["helmCharts"]
    return dict(entry)


def problems(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in result.stdout.splitlines() if ": " in line]


@pytest.fixture(scope="module")
def pristine(
    module_template: TemplateRepo, chart_repository: ChartRepository, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """The chart app generated at v1.0.0 and committed, validated once (its charts pulled)."""
    answers = {**ANSWERS, "chart_repo": chart_repository.secure_url}
    return validated(generate(module_template, tmp_path_factory.mktemp("helm") / "repo", answers, "v1.0.0"))


@pytest.fixture
def repo(pristine: Path, tmp_path: Path) -> Path:
    return copy_repo(pristine, tmp_path / "repo")


def test_the_chart_app_validates_and_its_pulled_charts_stay_out_of_git(pristine: Path) -> None:
    assert not (pristine / "applications/base" / APP).exists(), "a chart app has no base of the template's"
    for env in ENVIRONMENTS:
        entry = chart_entry(pristine, env)
        assert entry["namespace"] == f"{APP}-{env}" and entry["valuesFile"] == "values.yaml"
        assert (pristine / release_path(env, "charts/hello-0.1.0/hello/Chart.yaml")).is_file()
    assert git(pristine, "status", "--porcelain", "--untracked-files=all") == ""


def test_release_then_promote_moves_chart_and_image_and_never_the_values(repo: Path) -> None:
    """The chart version and the image enter dev together (release --chart-version --tag); promote
    moves both to staging and leaves staging's values (a team's edit) and namespace as they are."""
    edit(repo, release_path("staging", "values.yaml"), "{}", "replicas: 3")
    edit(repo, release_path("dev", "values.yaml"), "{}", "replicas: 2")
    commit_all(repo, "Values per environment")
    staging_values = (repo / release_path("staging", "values.yaml")).read_bytes()

    released = run_gitops(repo, "release", "--app", APP, "--chart-version", "0.2.0", "--tag", "2.1.0")
    assert released.returncode == 0, released.stdout + released.stderr
    assert "hello 0.1.0, 2.0.0 -> hello 0.2.0, 2.1.0 (released)" in released.stdout
    assert chart_entry(repo, "dev")["version"] == "0.2.0"
    assert release_of(repo, "dev")["images"] == [{"name": "ghcr.io/example/hello", "newTag": "2.1.0"}]
    commit_all(repo, "Release hello 0.2.0 with 2.1.0")

    promoted = run_gitops(repo, "promote", "--app", APP, "--from", "dev")
    assert promoted.returncode == 0, promoted.stdout + promoted.stderr
    staging = chart_entry(repo, "staging")
    assert (staging["version"], staging["namespace"], staging["valuesFile"]) == (
        "0.2.0",
        "shop-staging",
        "values.yaml",
    )
    assert release_of(repo, "staging")["images"] == [{"name": "ghcr.io/example/hello", "newTag": "2.1.0"}]
    assert (repo / release_path("staging", "values.yaml")).read_bytes() == staging_values
    # The rendered diff: the new chart and image, with staging's own replicas kept.
    assert "+    helm.sh/chart: hello-0.2.0" in promoted.stdout
    assert "+      - image: ghcr.io/example/hello:2.1.0" in promoted.stdout
    assert "replicas: 2" not in promoted.stdout
    commit_all(repo, "Promote to staging")
    validated = run_gitops(repo, "validate")
    assert validated.returncode == 0, validated.stdout + validated.stderr

    status = run_gitops(repo, "status")
    assert status.returncode == 0, status.stderr
    assert "hello 0.2.0, 2.1.0" in status.stdout and "hello 0.1.0, 2.0.0" in status.stdout


def test_update_keeps_the_values_and_the_releases(
    repo: Path, module_template: TemplateRepo, tmp_path: Path
) -> None:
    """A template release later, with charts pulled into the tree and a team's values: the update
    merges the template's change, writes neither values nor releases, and validate still passes."""
    template = TemplateRepo.from_work_tree(tmp_path / "template")
    template.edit(
        "template/environments/{% yield env from environments %}{{ env }}{% endyield %}/{{ app_name }}"
        "/kustomization.yaml.jinja",
        "# {{ app_name }} in {{ env }}.",
        "# {{ app_name }} in {{ env }} (v2).",
    )
    template.release("v2.0.0")
    edit(repo, f".copier-answers.{APP}.yml", str(module_template.path), str(template.path))
    edit(repo, release_path("prod", "values.yaml"), "{}", "replicas: 4")
    commit_all(repo, "Prod values; template moved")
    releases_before = {env: (repo / release_path(env)).read_bytes() for env in ENVIRONMENTS}
    values_before = {env: (repo / release_path(env, "values.yaml")).read_bytes() for env in ENVIRONMENTS}

    updated = run_gitops(repo, "update", "--app", APP)
    assert updated.returncode == 0, updated.stdout + updated.stderr
    for env in ENVIRONMENTS:
        assert (
            f"# {APP} in {env} (v2)." in (repo / f"environments/{env}/{APP}/kustomization.yaml").read_text()
        )
        assert (repo / release_path(env)).read_bytes() == releases_before[env]
        assert (repo / release_path(env, "values.yaml")).read_bytes() == values_before[env]
    commit_all(repo, "Update")
    validated = run_gitops(repo, "validate")
    assert validated.returncode == 0, validated.stdout + validated.stderr


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (
            "hardened: false",
            [
                "Deployment/shop: container app: allowPrivilegeEscalation must be false",
                "Deployment/shop: container app: capabilities must drop ALL",
                "Deployment/shop: runAsNonRoot must be true, for the pod or every container",
                "Deployment/shop: seccompProfile.type must be RuntimeDefault or Localhost",
            ],
        ),
        (
            "clusterRole: true",
            [
                "ClusterRole/shop-reader: cluster-scoped objects are not allowed in an app overlay",
                "ClusterRole/shop-reader: kind rbac.authorization.k8s.io/ClusterRole is not one the app's "
                "AppProject syncs",
            ],
        ),
    ],
    ids=["restricted-pod-security", "cluster-role"],
)
def test_validate_reports_what_a_charts_values_make_it_render(
    repo: Path, values: str, expected: list[str]
) -> None:
    edit(repo, release_path("staging", "values.yaml"), "{}", values)
    result = run_gitops(repo, "validate")
    assert result.returncode == 1, result.stdout + result.stderr
    found = problems(result)
    for text in expected:
        assert any(line.startswith(f"environments/staging/{APP}: {text}") for line in found), (text, found)
    assert all(line.startswith(f"environments/staging/{APP}: ") for line in found), found


def test_validate_reports_a_release_image_that_matches_no_container(repo: Path) -> None:
    edit(repo, release_path("dev"), 'name: "ghcr.io/example/hello"', 'name: "example/hello"')
    result = run_gitops(repo, "validate")
    assert result.returncode == 1, result.stdout + result.stderr
    assert problems(result) == [
        f"{release_path('dev')}: images: example/hello matches no container (they run "
        "ghcr.io/example/hello:1.0.0): the release changes nothing; name the image exactly as the "
        "manifests or the chart write it"
    ]


def test_validate_names_a_missing_helm_in_one_line(repo: Path) -> None:
    helm_folder = os.environ["PATH"].split(os.pathsep)[0]  # put first by the chart_repository fixture
    path = os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep) if p != helm_folder)
    result = run_gitops_process(repo, "validate", env={**os.environ, "PATH": path})
    assert result.returncode == 1, result.stdout + result.stderr
    missing = [line for line in problems(result) if "helmCharts needs helm" in line]
    assert [line.split(":", 1)[0] for line in missing] == sorted(release_path(env) for env in ENVIRONMENTS)
    assert "go install helm.sh/helm/v4/cmd/helm@v4.2.1" in missing[0]


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["--chart-version", "^0.2.0"], "--chart-version: '^0.2.0' is a range"),
        (["--chart-version", "v0.2.0"], "without the leading v (0.2.0)"),
        (["--image", "ghcr.io/example/hello", "--chart-version", "0.2.0"], "--image: give the image's --tag"),
    ],
)
def test_release_refuses_a_bad_chart_version_and_writes_nothing(
    repo: Path, args: list[str], reason: str
) -> None:
    before = tree_state(repo)
    result = run_gitops(repo, "release", "--app", APP, *args)
    assert result.returncode == 2, result.stdout + result.stderr
    assert reason in result.stderr.strip().splitlines()[-1]
    assert tree_state(repo) == before


def test_release_chart_version_of_an_app_without_a_chart_is_refused(tmp_path: Path) -> None:
    from tests.conftest import render

    root = render(tmp_path / "repo", {"app_name": APP})
    git(root, "init", "-q", "-b", "main")
    commit_all(root, "Generate")
    result = run_gitops(root, "release", "--app", APP, "--chart-version", "1.0.0")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "has no helmCharts entry (the app deploys no chart)" in result.stderr


def test_an_app_cannot_change_its_workload_in_an_update(
    module_template: TemplateRepo, tmp_path: Path
) -> None:
    repo = generate(module_template, tmp_path / "repo", {"app_name": APP}, "v1.0.0")
    before = tree_state(repo)
    with pytest.raises(
        Exception, match="workload: the app deploys manifests; it cannot change to helm-chart"
    ):
        copier.run_update(
            repo,
            answers_file=f".copier-answers.{APP}.yml",
            data={"workload": "helm-chart"},
            defaults=True,
            overwrite=True,
            unsafe=True,
            quiet=True,
        )
    assert tree_state(repo) == before


def test_an_added_environment_starts_from_the_chart_and_image_before_it(repo: Path) -> None:
    """migrations/seed_releases.py: a new environment takes the chart version and image of the one
    before it (not the onboarding answers), with its own namespace and its own empty values."""
    edit(repo, release_path("staging", "values.yaml"), "{}", "replicas: 3")
    commit_all(repo, "Staging values")
    released = run_gitops(repo, "release", "--app", APP, "--chart-version", "0.2.0", "--tag", "2.1.0")
    assert released.returncode == 0, released.stdout + released.stderr
    commit_all(repo, "Release")
    promoted = run_gitops(repo, "promote", "--app", APP, "--from", "dev")
    assert promoted.returncode == 0, promoted.stdout + promoted.stderr
    commit_all(repo, "Promote to staging")

    updated = run_gitops(repo, "update", "--data", "environments=[dev, staging, qa, prod]")
    assert updated.returncode == 0, updated.stdout + updated.stderr
    qa = chart_entry(repo, "qa")
    assert (qa["version"], qa["namespace"], qa["valuesFile"]) == ("0.2.0", "shop-qa", "values.yaml")
    assert release_of(repo, "qa")["images"] == [{"name": "ghcr.io/example/hello", "newTag": "2.1.0"}]
    assert "replicas" not in (repo / release_path("qa", "values.yaml")).read_text()
    assert chart_entry(repo, "prod")["version"] == "0.1.0", "prod runs what it ran"
    commit_all(repo, "Add qa")
    validated = run_gitops(repo, "validate")
    assert validated.returncode == 0, validated.stdout + validated.stderr
