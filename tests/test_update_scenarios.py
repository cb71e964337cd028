"""Update scenarios about the files of the apps: each with two apps and both updaters (the
generated repo's `tools/gitops update`, and Renovate's exact `copier update` command line).

Each test states what the user did, what the new template release changes, and what must
hold after the update with either updater: the user's work and the release's change both
survive, merged or as conflicts that the updater or `validate` names; never silently lost.
Where plain Copier differs (it exits 0 on conflicts, deletes files the template dropped), the
test pins Copier's behaviour and what makes it visible. Environment, release-state, dirty-tree,
interrupted and downgrade scenarios: test_update_scenarios_state.py.
"""

from __future__ import annotations

import subprocess

import pytest
import yaml

from tests.conftest import BASE_TEMPLATE_DIR, run_gitops
from tests.template_versions import commit_all, git, tree_state
from tests.test_gitops_update import APPS
from tests.test_rename_recipe import RENAME_RECIPE, resolve
from tests.update_scenarios import (
    BASE_KUSTOMIZATION_TEMPLATE,
    DEPLOYMENT_TEMPLATE,
    SERVICE_TEMPLATE,
    UPDATERS,
    Scenario,
    answered_version,
    assert_no_traceback,
    assert_succeeded,
    base_file,
    deployment,
    update,
)

MARKER_LINES = ("<<<<<<< ", ">>>>>>> ")


def has_markers(text: str) -> bool:
    return any(line.startswith(MARKER_LINES) for line in text.splitlines())


def assert_clean_and_valid(scenario: Scenario) -> None:
    assert scenario.status() == ""
    assert not any(
        has_markers(scenario.text(p))
        for p in git(scenario.repo, "ls-files").splitlines()
        if p.endswith(".yaml")
    )
    validated = scenario.validate()
    assert validated.returncode == 0, validated.stdout + validated.stderr


def assert_at(scenario: Scenario, version: str) -> None:
    assert {answered_version(scenario.repo, app) for app in APPS} == {version}


@pytest.mark.parametrize("updater", UPDATERS)
def test_same_line_conflict_is_named_and_never_committed_silently(scenario: Scenario, updater: str) -> None:
    """Both apps' teams changed the line the release changes."""
    for app in APPS:
        scenario.edit(deployment(app), "failureThreshold: 3", "failureThreshold: 5")
    commit_all(scenario.repo, "Tune readiness")
    scenario.template.edit(DEPLOYMENT_TEMPLATE, "failureThreshold: 3", "failureThreshold: 4")
    scenario.template.release("v1.1.0")
    head = scenario.head()
    results = update(scenario, updater, "v1.1.0")
    assert_no_traceback(results)
    if updater == "tools":
        # Stops at the first app: markers left to resolve, nothing committed.
        assert results[0].returncode == 1
        assert f"{deployment('cart')}: conflict left by copier update of cart" in results[0].stdout
        assert scenario.head() == head
        conflicted = [deployment("cart")]
    else:
        # Copier's behaviour: exit 0 with markers, which Renovate commits; validate names them.
        assert [result.returncode for result in results] == [0, 0]
        conflicted = [deployment(app) for app in APPS]
    for path in conflicted:
        text = scenario.text(path)
        assert has_markers(text) and "failureThreshold: 5" in text and "failureThreshold: 4" in text
    validated = scenario.validate()
    assert validated.returncode == 1
    for path in conflicted:
        assert path in validated.stdout, validated.stdout


def drop_service(scenario: Scenario, app: str) -> None:
    """A worker app: no Service, and none in its base kustomization."""
    (scenario.repo / base_file(app, "service.yaml")).unlink()
    scenario.edit(base_file(app, "kustomization.yaml"), "  - service.yaml\n", "")


@pytest.mark.parametrize("updater", UPDATERS)
def test_file_the_user_renamed_keeps_its_name_and_content(scenario: Scenario, updater: str) -> None:
    """The old name is not brought back beside the renamed file. The release's change to the old
    name does not follow the rename (Copier compares paths): the renamed file is the team's own."""
    git(scenario.repo, "mv", base_file("shop", "service.yaml"), base_file("shop", "web.yaml"))
    scenario.edit(base_file("shop", "kustomization.yaml"), "  - service.yaml\n", "  - web.yaml\n")
    commit_all(scenario.repo, "shop names its Service file web.yaml")
    renamed = scenario.text(base_file("shop", "web.yaml"))
    scenario.template.edit(
        SERVICE_TEMPLATE, "  type: ClusterIP\n", "  type: ClusterIP\n  internalTrafficPolicy: Cluster\n"
    )
    scenario.template.release("v1.1.0")
    assert_succeeded(update(scenario, updater, "v1.1.0"))
    assert not (scenario.repo / base_file("shop", "service.yaml")).exists()
    assert scenario.text(base_file("shop", "web.yaml")) == renamed
    assert "  - web.yaml\n" in scenario.text(base_file("shop", "kustomization.yaml"))
    assert "internalTrafficPolicy: Cluster" in scenario.text(base_file("cart", "service.yaml"))
    assert_clean_and_valid(scenario)


def release_service_rename(scenario: Scenario) -> None:
    """v1.1.0 renames service.yaml to svc.yaml with the README's recipe (a release of its own)."""
    base = BASE_TEMPLATE_DIR
    (scenario.template.path / SERVICE_TEMPLATE).rename(scenario.template.path / base / "svc.yaml.jinja")
    scenario.template.edit(BASE_KUSTOMIZATION_TEMPLATE, "  - service.yaml", "  - svc.yaml")
    scenario.template.edit(
        "copier.yml", "_migrations:\n", "_migrations:\n" + RENAME_RECIPE.replace("v1.2.0", "v1.1.0")
    )
    scenario.template.release("v1.1.0")


def finish(
    scenario: Scenario,
    updater: str,
    results: list[subprocess.CompletedProcess[str]],
    conflicted: str,
    keep: str = "both",
) -> None:
    """After a conflict: the updater said so, the team resolves it and the update completes."""
    assert_no_traceback(results)
    if updater == "tools":
        assert results[0].returncode == 1
        app = conflicted.split("/")[2]
        assert f"{conflicted}: conflict left by copier update of {app}" in results[0].stdout
        resolve(scenario.repo, conflicted, keep)
        commit_all(scenario.repo, f"Update {app}, conflict resolved")
        assert_succeeded(update(scenario, updater, "v1.1.0"))  # the apps after it
    else:
        assert all(result.returncode == 0 for result in results)  # Copier's behaviour
        validated = scenario.validate()
        assert validated.returncode == 1 and conflicted in validated.stdout, validated.stdout
        resolve(scenario.repo, conflicted, keep)
        commit_all(scenario.repo, "Conflict resolved")


@pytest.mark.parametrize("updater", UPDATERS)
def test_template_rename_of_a_file_the_user_edited(scenario: Scenario, updater: str) -> None:
    """The team's lines move with the file, as a conflict hunk to resolve (the moved file merges
    with no common base); kept both sides, it is the team's file at its new path."""
    scenario.edit(
        base_file("shop", "service.yaml"),
        "  type: ClusterIP\n",
        "  type: ClusterIP\n  sessionAffinity: ClientIP\n",
    )
    commit_all(scenario.repo, "Sticky sessions")
    edited = scenario.text(base_file("shop", "service.yaml"))
    release_service_rename(scenario)
    results = update(scenario, updater, "v1.1.0")
    svc = scenario.text(base_file("shop", "svc.yaml"))
    assert has_markers(svc) and "sessionAffinity: ClientIP" in svc
    finish(scenario, updater, results, base_file("shop", "svc.yaml"))
    assert scenario.text(base_file("shop", "svc.yaml")) == edited
    assert not (scenario.repo / base_file("shop", "service.yaml")).exists()
    assert_at(scenario, "v1.1.0")
    assert_clean_and_valid(scenario)


@pytest.mark.parametrize("updater", UPDATERS)
def test_template_rename_of_a_file_the_user_deleted_and_of_an_untouched_one(
    scenario: Scenario, updater: str
) -> None:
    """shop's team deleted the file: the recipe keeps it deleted, and the kustomization line the
    release renames comes back as a conflict, resolved by keeping the team's side. cart's file is
    as generated: it moves to the new name unchanged, with its kustomization line. (One update
    for both cases: each Copier update costs seconds.)"""
    untouched = scenario.text(base_file("cart", "service.yaml"))
    drop_service(scenario, "shop")
    commit_all(scenario.repo, "shop runs as a worker")
    release_service_rename(scenario)
    results = update(scenario, updater, "v1.1.0")
    finish(scenario, updater, results, base_file("shop", "kustomization.yaml"), keep="before")
    assert not (scenario.repo / base_file("shop", "service.yaml")).exists()
    assert not (scenario.repo / base_file("shop", "svc.yaml")).exists()
    assert "svc.yaml" not in scenario.text(base_file("shop", "kustomization.yaml"))
    assert not (scenario.repo / base_file("cart", "service.yaml")).exists()
    assert scenario.text(base_file("cart", "svc.yaml")) == untouched
    assert "  - svc.yaml\n" in scenario.text(base_file("cart", "kustomization.yaml"))
    assert_at(scenario, "v1.1.0")
    assert_clean_and_valid(scenario)


def tree(scenario: Scenario) -> dict[str, str]:
    return {path: scenario.text(path) for path in git(scenario.repo, "ls-files").splitlines()}


@pytest.mark.parametrize("updater", UPDATERS)
def test_team_work_and_every_skipped_release_survive(scenario: Scenario, updater: str) -> None:
    """One update across two releases, each change meeting a different kind of team work.

    The team (committed): tuned the readiness probe of both apps near lines the releases change,
    added a runbook beside each base, made `shop` a worker without a Service, added a rule to
    `.yamllint.yaml`, and promoted `cart` to staging. v1.1.0 changes a Deployment line, the
    Service and the release template, and stops generating `.yamllint.yaml`; v1.2.0 changes
    another Deployment line. Updated straight to v1.2.0: both
    releases' changes are applied, the team's lines and files kept, the deleted Service stays
    deleted (Copier's rule for intentionally deleted paths). The file the template dropped:
    tools/gitops update keeps the edited file and says so; plain Copier deletes it (its behaviour,
    in the README): the deletion is a visible commit, and the edit is in history.
    """
    for app in APPS:
        scenario.edit(deployment(app), "periodSeconds: 10", "periodSeconds: 30")
        scenario.edit(deployment(app), "failureThreshold: 3", "failureThreshold: 5")
        (scenario.repo / base_file(app, "NOTES.md")).write_text(f"{app} runbook\n")
    drop_service(scenario, "shop")
    scenario.edit(".yamllint.yaml", "rules:\n", "rules:\n  # team: allow long lines in runbooks\n")
    commit_all(scenario.repo, "Team edits")
    promoted = run_gitops(scenario.repo, "promote", "--app", "cart", "--from", "dev")
    assert promoted.returncode == 0, promoted.stdout + promoted.stderr
    commit_all(scenario.repo, "Promote cart to staging")
    releases = {path: data for path, data in tree_state(scenario.repo).items() if "/release/" in path}
    assert any(path.endswith("provenance.yaml") for path in releases)
    edited_yamllint = scenario.text(".yamllint.yaml")
    edited_at = scenario.head()
    scenario.template.edit(DEPLOYMENT_TEMPLATE, "revisionHistoryLimit: 5", "revisionHistoryLimit: 10")
    scenario.template.edit(
        SERVICE_TEMPLATE, "  type: ClusterIP\n", "  type: ClusterIP\n  internalTrafficPolicy: Cluster\n"
    )
    (scenario.template.path / "template/.yamllint.yaml").unlink()
    release_template = next(
        (scenario.template.path / "template/environments").glob("*/*/release/kustomization.yaml.jinja")
    )
    release_template.write_text(release_template.read_text().replace("# Release of", "# The release of"))
    scenario.template.release("v1.1.0")
    scenario.template.edit(DEPLOYMENT_TEMPLATE, "periodSeconds: 20", "periodSeconds: 25")
    scenario.template.release("v1.2.0")
    results = update(scenario, updater, "v1.2.0")
    assert_succeeded(results)
    for app in APPS:
        text = scenario.text(deployment(app))
        assert "periodSeconds: 30" in text and "failureThreshold: 5" in text, app  # the team's
        assert "revisionHistoryLimit: 10" in text and "periodSeconds: 25" in text, app  # both releases'
        assert scenario.text(base_file(app, "NOTES.md")) == f"{app} runbook\n"
    assert not (scenario.repo / base_file("shop", "service.yaml")).exists()
    assert "service.yaml" not in scenario.text(base_file("shop", "kustomization.yaml"))
    assert "internalTrafficPolicy: Cluster" in scenario.text(base_file("cart", "service.yaml"))
    # Releases promoted in dev and staging (with provenance), byte for byte, though the release
    # template changed.
    assert {path: data for path, data in tree_state(scenario.repo).items() if "/release/" in path} == releases
    if updater == "tools":
        assert ".yamllint.yaml: kept: the template no longer generates it" in results[0].stdout
        assert scenario.text(".yamllint.yaml") == edited_yamllint
    else:
        assert not (scenario.repo / ".yamllint.yaml").exists()
        assert "D\t.yamllint.yaml" in git(
            scenario.repo, "log", "--format=", "--name-status", f"{edited_at}..HEAD"
        )
        assert git(scenario.repo, "show", f"{edited_at}:.yamllint.yaml") == edited_yamllint
    assert_at(scenario, "v1.2.0")
    assert_clean_and_valid(scenario)


@pytest.mark.parametrize("updater", UPDATERS)
def test_question_changes_keep_every_stored_answer(scenario: Scenario, updater: str) -> None:
    """One release that changes the questions three ways; no rendered file changes.

    - a new question (`revision_history_limit`) takes its default, which renders what was there;
    - a removed question (`probe_path`, its value becomes fixed) leaves the answers files;
    - new defaults for a plain answer and for the per-environment sizes: stored answers win.
    """
    scenario.template.edit(
        "copier.yml",
        "sync_policy:\n",
        "revision_history_limit:\n  type: int\n  help: Old ReplicaSets to keep.\n  default: 5\n\n"
        "sync_policy:\n",
    )
    scenario.template.edit(
        DEPLOYMENT_TEMPLATE, "revisionHistoryLimit: 5", "revisionHistoryLimit: {{ revision_history_limit }}"
    )
    copier_yml = (scenario.template.path / "copier.yml").read_text()
    start = copier_yml.index("probe_path:\n")
    scenario.template.write(
        "copier.yml", copier_yml[:start] + copier_yml[copier_yml.index("writable_paths:\n") :]
    )
    scenario.template.edit(DEPLOYMENT_TEMPLATE, "path: {{ probe_path | tojson }}", 'path: "/"')
    smoke_test = next((scenario.template.path / "template/environments").glob("*/*/*smoke-test*"))
    smoke_test.write_text(smoke_test.read_text().replace(" ~ probe_path)", ' ~ "/")'))
    scenario.template.edit("copier.yml", "  default: 8080\n", "  default: 9000\n")
    scenario.template.edit("extensions/gitops_context.py", "        return 3\n", "        return 5\n")
    scenario.template.edit(
        "extensions/gitops_context.py",
        '"limits": {"cpu": "1", "memory": "512Mi"}',
        '"limits": {"cpu": "2", "memory": "1Gi"}',
    )
    scenario.template.release("v1.1.0")
    before = {path: text for path, text in tree(scenario).items() if not path.startswith(".copier-answers.")}
    assert_succeeded(update(scenario, updater, "v1.1.0"))
    after = {path: text for path, text in tree(scenario).items() if not path.startswith(".copier-answers.")}
    assert after == before
    for app in APPS:
        answers = yaml.safe_load(scenario.text(f".copier-answers.{app}.yml"))
        assert answers["revision_history_limit"] == 5
        assert "probe_path" not in answers
        assert answers["container_port"] == 8080 and answers["replicas"]["prod"] == 3
    assert_at(scenario, "v1.1.0")
    assert_clean_and_valid(scenario)
