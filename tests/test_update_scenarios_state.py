"""Update scenarios about the repository's state: environments added and removed, release state,
a dirty tree, an update killed mid-way and a downgrade; each with two apps and both updaters
(`tools/gitops update`, and Renovate's exact `copier update` command line). What the apps'
files go through: test_update_scenarios.py.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from copier._main import Worker

from tests.conftest import TEMPLATE_ROOT, run_gitops
from tests.kustomize_builds import build_overlays
from tests.template_versions import commit_all, copier_update, git, tree_state
from tests.test_gitops_update import APPS
from tests.update_scenarios import (
    DEPLOYMENT_TEMPLATE,
    UPDATERS,
    Scenario,
    answered_version,
    assert_no_traceback,
    assert_succeeded,
    deployment,
    output,
    update,
)

MARKER = ".copier-update-unfinished"


def test_the_marker_has_one_name() -> None:
    """The extension writes it, copier.yml's last migration removes it, the tools refuse it."""
    migrations = yaml.safe_load((TEMPLATE_ROOT / "copier.yml").read_text())["_migrations"]
    assert MARKER in " ".join(migrations[-1]["command"]) and "unlink" in migrations[-1]["command"][-1]
    assert migrations[-1]["when"] == "{{ _stage == 'after' }}", "removed after everything else"
    for writer in ("extensions/gitops_context.py", "template/tools/gitopslib/update_leftovers.py"):
        assert f'MARKER = "{MARKER}"\n' in (TEMPLATE_ROOT / writer).read_text(), writer


def built(scenario: Scenario, kubectl: str) -> dict[tuple[str, str], list[Any]]:
    """Every overlay's objects, as kubectl kustomize builds them."""
    overlays = [path.parent for path in sorted(scenario.repo.glob("environments/*/*/kustomization.yaml"))]
    return {(o.parent.name, o.name): objects for o, objects in build_overlays(kubectl, overlays).items()}


def workload(objects: list[Any]) -> dict[str, Any]:
    """What an environment runs: the Deployment's image, replicas and resources."""
    spec = next(o for o in objects if o["kind"] == "Deployment")["spec"]
    container = spec["template"]["spec"]["containers"][0]
    return {
        "image": container["image"],
        "replicas": spec.get("replicas"),
        "resources": container["resources"],
    }


ENVIRONMENT_CHANGES = {
    # new environment -> the one before it, which it starts from (release, and with tools sizes)
    "add-at-end": ("[dev, staging, prod, dr]", {"dr": "prod"}),
    "insert-in-the-middle": ("[dev, qa, staging, prod]", {"qa": "dev"}),
    "remove": ("[dev, prod]", {}),
}


@pytest.mark.parametrize("change", sorted(ENVIRONMENT_CHANGES))
def test_environment_change_leaves_every_other_environment_as_it_was(
    scenario: Scenario, change: str, kubectl: str
) -> None:
    """With Copier's command line. tools/gitops update meets each of these changes (and a
    reorder) in test_environment_list_changes.py, where every environment's built sizes are
    compared, and test_gitops_update.py (a new environment starts from the release before it)."""
    updater = "copier"
    environments, new = ENVIRONMENT_CHANGES[change]
    before = built(scenario, kubectl)
    assert_succeeded(update(scenario, updater, "v1.0.0", {"environments": environments}))
    after = built(scenario, kubectl)
    listed = yaml.safe_load(environments)
    assert {env for env, _ in after} == set(listed)
    for key, objects in before.items():
        if key[0] in listed:
            assert after[key] == objects, f"{key} changed"
    for env, previous in new.items():
        for app in APPS:
            started, source = workload(after[(env, app)]), workload(after[(previous, app)])
            assert started["image"] == source["image"], "a new environment starts from the release before it"
    for app in APPS:
        assert not [p for p in scenario.repo.glob(f"environments/*/{app}") if p.parent.name not in listed]
        assert not [p for p in scenario.repo.glob(f"argocd/apps/{app}/*.yaml") if p.stem not in listed]
        answers = yaml.safe_load(scenario.text(f".copier-answers.{app}.yml"))
        assert answers["environments"] == listed
        assert set(answers["replicas"]) <= set(listed)
    assert yaml.safe_load(scenario.text("gitops.yaml"))["environments"] == listed
    assert scenario.status() == ""
    validated = scenario.validate()
    assert validated.returncode == 0, validated.stdout + validated.stderr


@pytest.mark.parametrize("updater", UPDATERS)
def test_dirty_tree_is_refused_and_left_alone(scenario: Scenario, updater: str) -> None:
    scenario.edit(deployment("shop"), "periodSeconds: 20", "periodSeconds: 30")
    (scenario.repo / "notes.txt").write_text("draft\n")
    scenario.template.edit(DEPLOYMENT_TEMPLATE, "revisionHistoryLimit: 5", "revisionHistoryLimit: 10")
    scenario.template.release("v1.1.0")
    before, head = tree_state(scenario.repo), scenario.head()
    results = update(scenario, updater, "v1.1.0", commit=False)
    assert_no_traceback(results)
    if updater == "tools":
        assert results[0].returncode == 2 and "work tree not clean" in results[0].stderr
    else:
        assert all(r.returncode == 1 and "Destination repository is dirty" in r.stderr for r in results)
    assert tree_state(scenario.repo) == before and scenario.head() == head


# Test scaffolding (v1.1.0): a task that kills the whole update run, as Ctrl-C or a crash would,
# when the test asks for it. Copier runs tasks after it wrote the new version's files and before
# it merges the user's changes back in: the worst moment to be interrupted.
KILL_TASK = """
_tasks:
  - command:
      - "{{ _copier_python }}"
      - -c
      - "import os, signal; os.environ.get('KILL_THE_UPDATE') and os.killpg(os.getpgid(0), signal.SIGKILL)"
"""


@pytest.mark.parametrize("how", ["copier", "tools-sequential", "tools-parallel"])
def test_update_killed_mid_way_is_never_taken_for_finished(
    scenario: Scenario, how: str, kubectl: str
) -> None:
    for app in APPS:
        scenario.edit(deployment(app), "periodSeconds: 20", "periodSeconds: 30")
    commit_all(scenario.repo, "Team edits")
    head = scenario.head()
    scenario.template.edit(DEPLOYMENT_TEMPLATE, "revisionHistoryLimit: 5", "revisionHistoryLimit: 10")
    scenario.template.edit("copier.yml", "\n_migrations:", KILL_TASK + "\n_migrations:")
    scenario.template.release("v1.1.0")
    updater, jobs = (
        ("copier", None) if how == "copier" else ("tools", "2" if how.endswith("parallel") else "1")
    )

    killed = update(scenario, updater, "v1.1.0", commit=False, jobs=jobs, env={"KILL_THE_UPDATE": "1"})[0]
    assert killed.returncode == -9, output([killed])
    assert scenario.head() == head
    if how == "tools-parallel":
        # The apps were updating in worktrees of their own: this tree never changed.
        assert scenario.status() == ""
        assert scenario.validate().returncode == 0
        refused = run_gitops(scenario.repo, "update", "--vcs-ref", "v1.1.0")
        assert refused.returncode == 1 and "worktree left by an interrupted" in refused.stderr, refused.stderr
        stray = Path(refused.stderr.split(": ", 1)[0])
        shutil.rmtree(stray.parent)
        git(scenario.repo, "worktree", "prune")
    else:
        # Killed in the user's tree: cart's lines reverted, nothing to show it but the marker.
        assert "periodSeconds: 30" not in scenario.text(deployment("cart")), "not killed at the moment meant"
        assert "updating" not in scenario.text(deployment("cart")), "no conflict markers either"
        assert answered_version(scenario.repo, "cart") == "v1.1.0"
        assert (scenario.repo / MARKER).is_file()
        validated = scenario.validate()
        assert validated.returncode == 1
        assert (
            f"{MARKER}: copier update of .copier-answers.cart.yml from v1.0.0 to v1.1.0 did not finish"
            in validated.stdout
        )
        refused = run_gitops(scenario.repo, "update", "--vcs-ref", "v1.1.0")
        assert refused.returncode == 1 and refused.stderr.startswith(f"{MARKER}: "), refused.stderr
        assert refused.stderr.count("\n") == 1
        commit_all(scenario.repo, "What a careless commit would record")
        assert MARKER in scenario.validate().stdout, (
            "a commit carries the marker to the pull request's validate"
        )
        git(scenario.repo, "reset", "-q", "--hard", head)  # the recovery the message gives
        git(scenario.repo, "clean", "-fdq")
    assert_succeeded(update(scenario, updater, "v1.1.0", jobs=jobs))
    for app in APPS:
        text = scenario.text(deployment(app))
        assert "periodSeconds: 30" in text and "revisionHistoryLimit: 10" in text
        assert answered_version(scenario.repo, app) == "v1.1.0"
    assert not (scenario.repo / MARKER).exists() and scenario.status() == ""
    assert scenario.validate().returncode == 0


def test_the_marker_is_written_before_the_first_file(
    scenario: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The context hook writes it at the first string Copier renders into the destination with
    a context; strings Jinja outputs as they are skip the hooks (compiled_string_cache.as_it_is),
    so this holds only while something templated (copier.yml's `_exclude`) renders before the
    first file is written. The file writes of the destination are watched, not the scratch renders."""
    scenario.template.edit(DEPLOYMENT_TEMPLATE, "revisionHistoryLimit: 5", "revisionHistoryLimit: 10")
    scenario.template.release("v1.1.0")
    repo = scenario.repo.resolve()
    marker_at_first_write: list[bool] = []
    render_file = Worker._render_file

    def watched(worker: Worker, *args: Any, **kwargs: Any) -> Any:
        if not marker_at_first_write and worker.subproject.local_abspath.resolve() == repo:
            marker_at_first_write.append((repo / MARKER).is_file())
        return render_file(worker, *args, **kwargs)

    monkeypatch.setattr(Worker, "_render_file", watched)
    copier_update(scenario.repo, "cart", vcs_ref="v1.1.0")
    assert marker_at_first_write == [True]
    assert not (repo / MARKER).exists(), "the last migration removes it"


@pytest.mark.parametrize("updater", UPDATERS)
def test_downgrade_is_refused_in_one_line(scenario: Scenario, updater: str) -> None:
    scenario.template.edit(DEPLOYMENT_TEMPLATE, "revisionHistoryLimit: 5", "revisionHistoryLimit: 10")
    scenario.template.release("v1.1.0")
    assert_succeeded(update(scenario, "tools", "v1.1.0"))
    before = tree_state(scenario.repo)
    result = update(scenario, updater, "v1.0.0")[0]
    text = (result.stdout + result.stderr).strip()
    assert result.returncode == 1, text
    assert "Traceback" not in text
    assert "downgrading from 1.1.0 to 1.0.0" in text.splitlines()[-1], text
    assert tree_state(scenario.repo) == before
    assert scenario.status() == ""


@pytest.mark.parametrize("updater", UPDATERS)
def test_answer_refused_on_update_changes_nothing(scenario: Scenario, updater: str) -> None:
    """Copier validates `--data` before it writes a file, and the unfinished-update marker is
    written only then: a refused answer leaves the tree exactly as it was."""
    before, head = tree_state(scenario.repo), scenario.head()
    results = update(scenario, updater, "v1.0.0", {"container_port": "99999"}, commit=False)
    assert all(result.returncode == 1 for result in results)
    assert "container_port: 99999 is not a port (1-65535)" in output(results)
    if updater == "tools":
        assert_no_traceback(results)
    assert tree_state(scenario.repo) == before and scenario.status() == "" and scenario.head() == head
