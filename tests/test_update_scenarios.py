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
from pathlib import Path

import pytest
import yaml

from tests.template_versions import commit_all, git
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
    build_pristine,
    deployment,
    restore,
    update,
)

MARKER_LINES = ("<<<<<<< ", ">>>>>>> ")


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("scenarios")
    build_pristine(root)
    return root


@pytest.fixture
def s(pristine: Path, tmp_path: Path) -> Scenario:
    return restore(pristine, tmp_path)


def has_markers(text: str) -> bool:
    return any(line.startswith(MARKER_LINES) for line in text.splitlines())


def assert_clean_and_valid(s: Scenario) -> None:
    assert s.status() == ""
    assert not any(
        has_markers(s.text(p)) for p in git(s.repo, "ls-files").splitlines() if p.endswith(".yaml")
    )
    validated = s.validate()
    assert validated.returncode == 0, validated.stdout + validated.stderr


def assert_at(s: Scenario, version: str) -> None:
    assert {answered_version(s.repo, app) for app in APPS} == {version}


@pytest.mark.parametrize("updater", UPDATERS)
def test_same_line_conflict_is_named_and_never_committed_silently(s: Scenario, updater: str) -> None:
    """Both apps' teams changed the line the release changes."""
    for app in APPS:
        s.edit(deployment(app), "failureThreshold: 3", "failureThreshold: 5")
    commit_all(s.repo, "Tune readiness")
    s.template.edit(DEPLOYMENT_TEMPLATE, "failureThreshold: 3", "failureThreshold: 4")
    s.template.release("v1.1.0")
    head = s.head()
    results = update(s, updater, "v1.1.0")
    assert_no_traceback(results)
    if updater == "tools":
        # Stops at the first app: markers left to resolve, nothing committed.
        assert results[0].returncode == 1
        assert f"{deployment('cart')}: conflict left by copier update of cart" in results[0].stdout
        assert s.head() == head
        conflicted = [deployment("cart")]
    else:
        # Copier's behaviour: exit 0 with markers, which Renovate commits; validate names them.
        assert [result.returncode for result in results] == [0, 0]
        conflicted = [deployment(app) for app in APPS]
    for path in conflicted:
        text = s.text(path)
        assert has_markers(text) and "failureThreshold: 5" in text and "failureThreshold: 4" in text
    validated = s.validate()
    assert validated.returncode == 1
    for path in conflicted:
        assert path in validated.stdout, validated.stdout


@pytest.mark.parametrize("updater", UPDATERS)
def test_nearby_edit_and_added_file_survive(s: Scenario, updater: str) -> None:
    for app in APPS:
        s.edit(deployment(app), "periodSeconds: 20", "periodSeconds: 30")
        (s.repo / base_file(app, "NOTES.md")).write_text(f"{app} runbook\n")
    commit_all(s.repo, "Team edits")
    s.template.edit(DEPLOYMENT_TEMPLATE, "revisionHistoryLimit: 5", "revisionHistoryLimit: 10")
    s.template.release("v1.1.0")
    assert_succeeded(update(s, updater, "v1.1.0"))
    for app in APPS:
        text = s.text(deployment(app))
        assert "periodSeconds: 30" in text and "revisionHistoryLimit: 10" in text, app
        assert s.text(base_file(app, "NOTES.md")) == f"{app} runbook\n"
    assert_at(s, "v1.1.0")
    assert_clean_and_valid(s)


def drop_service(s: Scenario, app: str) -> None:
    """A worker app: no Service, and none in its base kustomization."""
    (s.repo / base_file(app, "service.yaml")).unlink()
    s.edit(base_file(app, "kustomization.yaml"), "  - service.yaml\n", "")


@pytest.mark.parametrize("updater", UPDATERS)
def test_file_the_user_deleted_stays_deleted(s: Scenario, updater: str) -> None:
    """The release changes the deleted file and another one: the other change is applied, the
    deleted file is not brought back (Copier's rule for intentionally deleted paths)."""
    drop_service(s, "shop")
    commit_all(s.repo, "shop runs as a worker")
    s.template.edit(
        SERVICE_TEMPLATE, "  type: ClusterIP\n", "  type: ClusterIP\n  internalTrafficPolicy: Cluster\n"
    )
    s.template.edit(DEPLOYMENT_TEMPLATE, "revisionHistoryLimit: 5", "revisionHistoryLimit: 10")
    s.template.release("v1.1.0")
    assert_succeeded(update(s, updater, "v1.1.0"))
    assert not (s.repo / base_file("shop", "service.yaml")).exists()
    assert "service.yaml" not in s.text(base_file("shop", "kustomization.yaml"))
    assert "revisionHistoryLimit: 10" in s.text(deployment("shop"))
    assert "internalTrafficPolicy: Cluster" in s.text(base_file("cart", "service.yaml"))
    assert_at(s, "v1.1.0")
    assert_clean_and_valid(s)


@pytest.mark.parametrize("updater", UPDATERS)
def test_file_the_user_renamed_keeps_its_name_and_content(s: Scenario, updater: str) -> None:
    """The old name is not brought back beside the renamed file. The release's change to the old
    name does not follow the rename (Copier compares paths): the renamed file is the team's own."""
    git(s.repo, "mv", base_file("shop", "service.yaml"), base_file("shop", "web.yaml"))
    s.edit(base_file("shop", "kustomization.yaml"), "  - service.yaml\n", "  - web.yaml\n")
    commit_all(s.repo, "shop names its Service file web.yaml")
    renamed = s.text(base_file("shop", "web.yaml"))
    s.template.edit(
        SERVICE_TEMPLATE, "  type: ClusterIP\n", "  type: ClusterIP\n  internalTrafficPolicy: Cluster\n"
    )
    s.template.release("v1.1.0")
    assert_succeeded(update(s, updater, "v1.1.0"))
    assert not (s.repo / base_file("shop", "service.yaml")).exists()
    assert s.text(base_file("shop", "web.yaml")) == renamed
    assert "  - web.yaml\n" in s.text(base_file("shop", "kustomization.yaml"))
    assert "internalTrafficPolicy: Cluster" in s.text(base_file("cart", "service.yaml"))
    assert_clean_and_valid(s)


def release_service_rename(s: Scenario) -> None:
    """v1.1.0 renames service.yaml to svc.yaml with the README's recipe (a release of its own)."""
    base = "template/applications/base/{{ app_name }}"
    (s.template.path / SERVICE_TEMPLATE).rename(s.template.path / base / "svc.yaml.jinja")
    s.template.edit(BASE_KUSTOMIZATION_TEMPLATE, "  - service.yaml", "  - svc.yaml")
    s.template.edit(
        "copier.yml", "_migrations:\n", "_migrations:\n" + RENAME_RECIPE.replace("v1.2.0", "v1.1.0")
    )
    s.template.release("v1.1.0")


def finish(
    s: Scenario,
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
        resolve(s.repo, conflicted, keep)
        commit_all(s.repo, f"Update {app}, conflict resolved")
        assert_succeeded(update(s, updater, "v1.1.0"))  # the apps after it
    else:
        assert all(result.returncode == 0 for result in results)  # Copier's behaviour
        validated = s.validate()
        assert validated.returncode == 1 and conflicted in validated.stdout, validated.stdout
        resolve(s.repo, conflicted, keep)
        commit_all(s.repo, "Conflict resolved")


@pytest.mark.parametrize("updater", UPDATERS)
def test_template_rename_of_an_untouched_file(s: Scenario, updater: str) -> None:
    services = {app: s.text(base_file(app, "service.yaml")) for app in APPS}
    release_service_rename(s)
    assert_succeeded(update(s, updater, "v1.1.0"))
    for app in APPS:
        assert not (s.repo / base_file(app, "service.yaml")).exists()
        assert s.text(base_file(app, "svc.yaml")) == services[app]
        assert "  - svc.yaml\n" in s.text(base_file(app, "kustomization.yaml"))
    assert_at(s, "v1.1.0")
    assert_clean_and_valid(s)


@pytest.mark.parametrize("updater", UPDATERS)
def test_template_rename_of_a_file_the_user_edited(s: Scenario, updater: str) -> None:
    """The team's lines move with the file, as a conflict hunk to resolve (the moved file merges
    with no common base); kept both sides, it is the team's file at its new path."""
    s.edit(
        base_file("shop", "service.yaml"),
        "  type: ClusterIP\n",
        "  type: ClusterIP\n  sessionAffinity: ClientIP\n",
    )
    commit_all(s.repo, "Sticky sessions")
    edited = s.text(base_file("shop", "service.yaml"))
    release_service_rename(s)
    results = update(s, updater, "v1.1.0")
    svc = s.text(base_file("shop", "svc.yaml"))
    assert has_markers(svc) and "sessionAffinity: ClientIP" in svc
    finish(s, updater, results, base_file("shop", "svc.yaml"))
    assert s.text(base_file("shop", "svc.yaml")) == edited
    assert not (s.repo / base_file("shop", "service.yaml")).exists()
    assert_at(s, "v1.1.0")
    assert_clean_and_valid(s)


@pytest.mark.parametrize("updater", UPDATERS)
def test_template_rename_of_a_file_the_user_deleted(s: Scenario, updater: str) -> None:
    """The recipe keeps the file deleted; the kustomization line the release renames comes back
    as a conflict, resolved by keeping the team's side."""
    drop_service(s, "shop")
    commit_all(s.repo, "shop runs as a worker")
    release_service_rename(s)
    results = update(s, updater, "v1.1.0")
    finish(s, updater, results, base_file("shop", "kustomization.yaml"), keep="before")
    assert not (s.repo / base_file("shop", "service.yaml")).exists()
    assert not (s.repo / base_file("shop", "svc.yaml")).exists()
    assert "svc.yaml" not in s.text(base_file("shop", "kustomization.yaml"))
    assert (s.repo / base_file("cart", "svc.yaml")).is_file()
    assert_at(s, "v1.1.0")
    assert_clean_and_valid(s)


@pytest.mark.parametrize("updater", UPDATERS)
def test_version_skip_brings_every_release_in_between(s: Scenario, updater: str) -> None:
    for app in APPS:
        s.edit(deployment(app), "failureThreshold: 3", "failureThreshold: 5")
    commit_all(s.repo, "Tune readiness")
    s.template.edit(DEPLOYMENT_TEMPLATE, "revisionHistoryLimit: 5", "revisionHistoryLimit: 10")
    s.template.release("v1.1.0")
    s.template.edit(DEPLOYMENT_TEMPLATE, "periodSeconds: 20", "periodSeconds: 25")
    s.template.release("v1.2.0")
    assert_succeeded(update(s, updater, "v1.2.0"))
    for app in APPS:
        text = s.text(deployment(app))
        assert "failureThreshold: 5" in text, app
        assert "revisionHistoryLimit: 10" in text and "periodSeconds: 25" in text, app
    assert_at(s, "v1.2.0")
    assert_clean_and_valid(s)


@pytest.mark.parametrize("updater", UPDATERS)
def test_new_question_takes_its_default(s: Scenario, updater: str) -> None:
    s.template.edit(
        "copier.yml",
        "sync_policy:\n",
        "revision_history_limit:\n  type: int\n  help: Old ReplicaSets to keep.\n  default: 5\n\n"
        "sync_policy:\n",
    )
    s.template.edit(
        DEPLOYMENT_TEMPLATE, "revisionHistoryLimit: 5", "revisionHistoryLimit: {{ revision_history_limit }}"
    )
    s.template.release("v1.1.0")
    before = {app: s.text(deployment(app)) for app in APPS}
    assert_succeeded(update(s, updater, "v1.1.0"))
    for app in APPS:
        answers = yaml.safe_load(s.text(f".copier-answers.{app}.yml"))
        assert answers["revision_history_limit"] == 5
        assert s.text(deployment(app)) == before[app]
    assert_at(s, "v1.1.0")
    assert_clean_and_valid(s)


@pytest.mark.parametrize("updater", UPDATERS)
def test_removed_question_leaves_the_answers(s: Scenario, updater: str) -> None:
    """The release drops `probe_path` (its value becomes fixed): the answers files stop storing it."""
    copier_yml = (s.template.path / "copier.yml").read_text()
    start = copier_yml.index("probe_path:\n")
    s.template.write("copier.yml", copier_yml[:start] + copier_yml[copier_yml.index("writable_paths:\n") :])
    s.template.edit(DEPLOYMENT_TEMPLATE, "path: {{ probe_path | tojson }}", 'path: "/"')
    smoke_test = next((s.template.path / "template/environments").glob("*/*/*smoke-test*"))
    smoke_test.write_text(smoke_test.read_text().replace(" ~ probe_path)", ' ~ "/")'))
    s.template.release("v1.1.0")
    before = {app: s.text(deployment(app)) for app in APPS}
    assert_succeeded(update(s, updater, "v1.1.0"))
    for app in APPS:
        assert "probe_path" not in yaml.safe_load(s.text(f".copier-answers.{app}.yml"))
        assert s.text(deployment(app)) == before[app]
    assert_at(s, "v1.1.0")
    assert_clean_and_valid(s)


@pytest.mark.parametrize("updater", UPDATERS)
def test_changed_defaults_do_not_change_existing_apps(s: Scenario, updater: str) -> None:
    """A new default for a plain answer and for the per-environment sizes: stored answers win."""
    s.template.edit("copier.yml", "  default: 8080\n", "  default: 9000\n")
    s.template.edit("extensions/gitops_context.py", "        return 3\n", "        return 5\n")
    s.template.edit(
        "extensions/gitops_context.py",
        '"limits": {"cpu": "1", "memory": "512Mi"}',
        '"limits": {"cpu": "2", "memory": "1Gi"}',
    )
    s.template.release("v1.1.0")
    before = {path: text for path, text in tree(s).items() if not path.startswith(".copier-answers.")}
    assert_succeeded(update(s, updater, "v1.1.0"))
    after = {path: text for path, text in tree(s).items() if not path.startswith(".copier-answers.")}
    assert after == before
    for app in APPS:
        answers = yaml.safe_load(s.text(f".copier-answers.{app}.yml"))
        assert answers["container_port"] == 8080 and answers["replicas"]["prod"] == 3
    assert_at(s, "v1.1.0")
    assert_clean_and_valid(s)


def tree(s: Scenario) -> dict[str, str]:
    return {path: s.text(path) for path in git(s.repo, "ls-files").splitlines()}


@pytest.mark.parametrize("updater", UPDATERS)
def test_template_deletes_a_file_the_user_edited(s: Scenario, updater: str) -> None:
    """tools/gitops update keeps the edited file and says so. Plain Copier deletes it (its
    behaviour, in the README): the deletion is a visible commit, and the edit is in history."""
    s.edit(".yamllint.yaml", "rules:\n", "rules:\n  # team: allow long lines in runbooks\n")
    commit_all(s.repo, "Team yamllint rule")
    edited = s.text(".yamllint.yaml")
    edited_at = s.head()
    (s.template.path / "template/.yamllint.yaml").unlink()
    s.template.release("v1.1.0")
    results = update(s, updater, "v1.1.0")
    assert_succeeded(results)
    if updater == "tools":
        assert ".yamllint.yaml: kept: the template no longer generates it" in results[0].stdout
        assert s.text(".yamllint.yaml") == edited
    else:
        assert not (s.repo / ".yamllint.yaml").exists()
        assert "D\t.yamllint.yaml" in git(s.repo, "log", "--format=", "--name-status", f"{edited_at}..HEAD")
        assert git(s.repo, "show", f"{edited_at}:.yamllint.yaml") == edited
    assert_at(s, "v1.1.0")
    assert_clean_and_valid(s)
