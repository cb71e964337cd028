"""Every answer set renders a repository whose every overlay builds and validates."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
import yaml

from tests import repo_invariants as inv
from tests.answer_sets import ANSWER_SETS, served
from tests.conftest import TEMPLATE_ROOT, run_gitops


@pytest.fixture(scope="session", params=sorted(ANSWER_SETS), ids=str)
def facts(request: pytest.FixtureRequest, copie_session: Any, kubectl: str) -> inv.RepoFacts:
    result = copie_session.copy(
        extra_answers=served(ANSWER_SETS[request.param], request), template_dir=TEMPLATE_ROOT
    )
    assert result.exception is None, result.exception
    return inv.read_repo(result.project_dir, kubectl)


def test_answers_are_stored_as_given(facts: inv.RepoFacts, request: pytest.FixtureRequest) -> None:
    """Every answer is stored as given; replicas and resources are stored for every environment.

    Their defaults follow list position, so the answers file holds them resolved: a later change
    of the environment list cannot move an existing environment's values.
    """
    given = served(ANSWER_SETS[request.node.callspec.params["facts"]], request)
    for key, value in given.items():
        if key not in {"replicas", "resources"}:
            assert facts.answers[key] == value, key
    for env, count in given.get("replicas", {}).items():
        assert facts.answers["replicas"][env] == count, env
    for env, spec in given.get("resources", {}).items():
        for kind, amounts in spec.items():
            for name, amount in amounts.items():
                assert facts.answers["resources"][env][kind][name] == str(amount), (env, kind, name)
    assert set(facts.answers["resources"]) == set(facts.environments)
    autoscaled = set(facts.answers["autoscaling"])
    # A chart's values size its pods: no replicas of the template's to store.
    unscaled = set() if facts.chart else set(facts.environments) - autoscaled
    assert set(facts.answers["replicas"]) == unscaled
    assert (facts.root / f".copier-answers.{facts.app}.yml").is_file()


def test_one_overlay_per_environment(facts: inv.RepoFacts) -> None:
    inv.check_overlays_exist(facts)


def test_builtin_objects_validate_strictly(facts: inv.RepoFacts) -> None:
    assert inv.check_builtin_objects_strict(facts) >= 2 * len(facts.environments)


def test_argo_objects_validate_against_crd_schemas(facts: inv.RepoFacts) -> None:
    assert inv.check_argo_objects_strict(facts) == len(facts.argo) >= 2 * len(facts.environments) + 2


def test_platform_policies_follow_answers(facts: inv.RepoFacts) -> None:
    inv.check_platform_policies(facts)


def test_pods_meet_the_hardening_defaults(facts: inv.RepoFacts) -> None:
    inv.check_pod_hardening(facts)


def test_no_secret_values_in_git(facts: inv.RepoFacts) -> None:
    inv.check_secrets(facts)


def test_exposure_follows_answers(facts: inv.RepoFacts) -> None:
    inv.check_exposure(facts)


def test_codeowners_protect_platform_files_and_environments(facts: inv.RepoFacts) -> None:
    inv.check_codeowners(facts)


def test_every_object_lands_in_the_env_namespace(facts: inv.RepoFacts) -> None:
    inv.check_namespaces(facts)


def test_release_and_replicas_follow_answers(facts: inv.RepoFacts) -> None:
    inv.check_release_and_replicas(facts)


def test_applications_and_projects_are_least_privilege(facts: inv.RepoFacts) -> None:
    inv.check_applications(facts)


def test_root_app_reaches_every_application(facts: inv.RepoFacts) -> None:
    inv.check_root_app(facts)


def test_argocd_install_is_pinned(facts: inv.RepoFacts) -> None:
    inv.check_install_pinned(facts)


def test_only_current_kustomize_fields(facts: inv.RepoFacts) -> None:
    inv.check_no_deprecated_kustomize(facts)


def test_gitops_yaml_holds_repo_level_answers(facts: inv.RepoFacts) -> None:
    inv.check_gitops_settings(facts)


def test_generated_validate_passes(facts: inv.RepoFacts) -> None:
    result = run_gitops(facts.root, "validate")
    assert result.returncode == 0, result.stdout + result.stderr
    overlays = len(facts.environments)
    assert f"{overlays} overlays built" in result.stderr
    assert "exceptions honoured" not in result.stderr, "generated repos need no access exception"


def test_release_files_hold_only_the_release(facts: inv.RepoFacts) -> None:
    """The promotable state is apart from template-owned files."""
    for env in facts.environments:
        release = yaml.safe_load(
            (facts.root / f"environments/{env}/{facts.app}/release/kustomization.yaml").read_text()
        )
        assert release["kind"] == "Component"
        # labels: the release's app.kubernetes.io/version, which moves with it (tag releases only).
        # helmCharts: the chart and its version, which move with the image.
        assert set(release) - {"labels"} == {
            "apiVersion",
            "kind",
            "images",
            *(["helmCharts"] if facts.chart else []),
        }
        overlay = yaml.safe_load(
            (facts.root / f"environments/{env}/{facts.app}/kustomization.yaml").read_text()
        )
        assert "images" not in overlay and overlay["components"] == ["release"]


def test_generated_yaml_is_lint_clean(facts: inv.RepoFacts) -> None:
    """The generated repo passes yamllint with the config it ships."""
    result = subprocess.run(
        [sys.executable, "-m", "yamllint", "--strict", "-c", ".yamllint.yaml", "."],
        cwd=facts.root,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout
