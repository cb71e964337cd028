"""`tools/gitops update` stops cleanly: a failing migration or validation stops at that app, puts
its files and answers back, keeps the apps already committed, and never shows a traceback.

Each template version is released into a throwaway template repository; the failing migration
is written into its copier.yml, as a template author's broken migration would be.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.conftest import BASE_TEMPLATE_DIR, run_gitops
from tests.template_versions import (
    RELEASES,
    TemplateRepo,
    copier_update,
    edit,
    generate,
    git,
    replace_with_work_tree,
    template_at_commit,
    tree_state,
)
from tests.test_gitops_update import APPS, DEPLOYMENT_TEMPLATE, commits_since
from tests.update_scenarios import Scenario

MIGRATIONS = "_migrations:\n"


def failing_migration(app: str) -> str:
    """A v1.1.0 after-migration that writes a file, then fails, for one app only: it runs once
    Copier has already written the new files and `_commit: v1.1.0` into the answers."""
    return (
        "  - version: v1.1.0\n"
        "    command:\n"
        '      - "{{ _copier_python }}"\n'
        "      - -c\n"
        "      - \"import pathlib, sys; pathlib.Path('half-migrated.txt').write_text('x'); "
        "sys.exit('migration failed on purpose')\"\n"
        f"    when: \"{{{{ _stage == 'after' and app_name == '{app}' }}}}\"\n"
    )


def app_state(repo: Path, app: str) -> dict[str, bytes]:
    """An app's own files (answers, base, overlays, Argo CD files) and every untracked file."""
    own = (f".copier-answers.{app}.yml", f"applications/base/{app}/", f"argocd/apps/{app}/")
    state = {
        path: content
        for path, content in tree_state(repo).items()
        if path.startswith(own) or (path.startswith("environments/") and path.split("/")[2:3] == [app])
    }
    untracked = git(repo, "ls-files", "--others", "--exclude-standard").splitlines()
    return {**state, **{f"untracked:{path}": b"" for path in untracked}}


def answered_version(repo: Path, app: str) -> str:
    return str(yaml.safe_load((repo / f".copier-answers.{app}.yml").read_text())["_commit"])


def assert_stopped(result: subprocess.CompletedProcess[str], app: str) -> None:
    stdout, stderr = result.stdout, result.stderr
    assert result.returncode == 1, stdout + stderr
    assert f"stopped at {app}: " in stdout, stdout + stderr
    assert "Traceback" not in stdout + stderr, stdout + stderr
    assert "BrokenProcessPool" not in stdout + stderr


@pytest.fixture
def template(scenario: Scenario) -> TemplateRepo:
    """The scenario's template (tests/update_scenarios.py): this work tree released as v1.0.0."""
    return scenario.template


@pytest.fixture
def repo(scenario: Scenario) -> Path:
    """Two apps onboarded from `template`, restored from the module's pristine copy."""
    return scenario.repo


def release_broken_migration(template: TemplateRepo, app: str) -> str:
    """v1.1.0: a template change every app takes, and `app`'s failing migration. Returns the
    copier.yml before, to release the fix from."""
    original = (template.path / "copier.yml").read_text()
    template.edit(DEPLOYMENT_TEMPLATE, "revisionHistoryLimit: 5", "revisionHistoryLimit: 10")
    template.edit("copier.yml", MIGRATIONS, MIGRATIONS + failing_migration(app))
    template.release("v1.1.0")
    return original


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_failing_migration_stops_at_that_app_and_a_rerun_retries_it(
    template: TemplateRepo, repo: Path, jobs: str
) -> None:
    original = release_broken_migration(template, "shop")
    shop_before = app_state(repo, "shop")
    head = git(repo, "rev-parse", "HEAD").strip()
    result = run_gitops(repo, "update", "--jobs", jobs)
    assert_stopped(result, "shop")
    assert "migration or task of the template failed (exit 1)" in result.stdout
    assert "[1/2] cart: updated to v1.1.0" in result.stdout
    assert commits_since(repo, head) == ["Update cart to gitops-template v1.1.0"]
    assert app_state(repo, "shop") == shop_before, "shop's files and answers are back as before"
    assert answered_version(repo, "shop") == "v1.0.0"
    assert git(repo, "status", "--porcelain", "--untracked-files=all") == ""
    assert git(repo, "worktree", "list").count("\n") == 1

    template.write("copier.yml", original)  # the template fixes its migration
    template.release("v1.2.0")
    rerun = run_gitops(repo, "update", "--jobs", jobs)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert "[2/2] shop: updated to v1.2.0" in rerun.stdout
    assert answered_version(repo, "shop") == "v1.2.0"
    assert "revisionHistoryLimit: 10" in (repo / "applications/base/shop/deployment.yaml").read_text()
    message = git(repo, "log", "-1", "--format=%B", "--", ".copier-answers.shop.yml")
    assert "Template: v1.0.0 -> v1.2.0" in message and "Answers given: none" in message


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_failure_of_the_first_app_commits_nothing(template: TemplateRepo, repo: Path, jobs: str) -> None:
    release_broken_migration(template, "cart")
    before = tree_state(repo)
    head = git(repo, "rev-parse", "HEAD").strip()
    result = run_gitops(repo, "update", "--jobs", jobs)
    assert_stopped(result, "cart")
    assert "shop: updated" not in result.stdout, "no app after the failing one is committed"
    assert commits_since(repo, head) == []
    assert tree_state(repo) == before
    assert git(repo, "status", "--porcelain", "--untracked-files=all") == ""


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_update_that_breaks_the_build_is_not_committed(template: TemplateRepo, repo: Path, jobs: str) -> None:
    template.edit(DEPLOYMENT_TEMPLATE, "kind: Deployment\n", "kind: Deployment\n- not: a mapping\n")
    template.release("v1.1.0")
    before = tree_state(repo)
    head = git(repo, "rev-parse", "HEAD").strip()
    result = run_gitops(repo, "update", "--jobs", jobs)
    assert_stopped(result, "cart")
    stopped = next(line for line in result.stdout.splitlines() if line.startswith("stopped at cart: "))
    assert stopped.startswith("stopped at cart: environments/dev/cart: does not build: "), stopped
    assert commits_since(repo, head) == []
    assert tree_state(repo) == before
    assert answered_version(repo, "cart") == "v1.0.0"


def test_repo_level_answer_is_refused_for_one_app_and_rolls_out_to_all(repo: Path) -> None:
    head = git(repo, "rev-parse", "HEAD").strip()
    refused = run_gitops(repo, "update", "--app", "shop", "--data", "argocd_version=v3.6.3")
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert refused.stderr.count("\n") == 1 and "--app shop" in refused.stderr, refused.stderr
    assert "argocd_version" in refused.stderr
    assert git(repo, "rev-parse", "HEAD").strip() == head
    assert git(repo, "status", "--porcelain") == ""

    result = run_gitops(repo, "update", "--data", "argocd_version=v3.6.3")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "the repository validates" in result.stdout
    for app in APPS:
        message = git(repo, "log", "-1", "--format=%B", "--", f".copier-answers.{app}.yml")
        assert "Answers given: argocd_version=v3.6.3" in message, message
        assert "Template: v1.0.0 (unchanged)" in message, message


def test_interrupted_update_is_detected_with_how_to_recover(
    template: TemplateRepo, repo: Path, tmp_path: Path
) -> None:
    template.edit(DEPLOYMENT_TEMPLATE, "revisionHistoryLimit: 5", "revisionHistoryLimit: 10")
    template.release("v1.1.0")
    head = git(repo, "rev-parse", "HEAD").strip()

    # A parallel run killed before it cleaned up: its worktree is still registered.
    stray = tmp_path / "gitops-update-killed" / "shop"
    git(repo, "worktree", "add", "--detach", "--quiet", str(stray), "HEAD")
    result = run_gitops(repo, "update")
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stderr.startswith(f"{stray}: ") and result.stderr.count("\n") == 1, result.stderr
    assert "git worktree remove --force" in result.stderr
    shutil.rmtree(stray.parent)
    result = run_gitops(repo, "update")
    assert result.returncode == 1 and "`git worktree prune`" in result.stderr, result.stderr
    git(repo, "worktree", "prune")

    # A sequential run killed half-way: copier update applied, nothing committed.
    copier_update(repo, "shop")
    result = run_gitops(repo, "update")
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "work tree not clean" in result.stderr and "git status" in result.stderr
    assert "git reset --hard && git clean -fd" in result.stderr
    git(repo, "reset", "--hard")
    git(repo, "clean", "-fd")
    assert git(repo, "rev-parse", "HEAD").strip() == head
    assert run_gitops(repo, "update").returncode == 0
    assert {answered_version(repo, app) for app in APPS} == {"v1.1.0"}


def test_work_done_during_a_failed_update_is_stashed_not_deleted(template: TemplateRepo, repo: Path) -> None:
    """Whatever the tree holds when an app's update fails is set aside, never deleted: here the
    failing migration itself writes a file, as a user editing during a long run would."""
    release_broken_migration(template, "shop")
    result = run_gitops(repo, "update", "--jobs", "1")
    assert_stopped(result, "shop")
    assert "git stash" in result.stdout
    assert git(repo, "status", "--porcelain", "--untracked-files=all") == ""
    git(repo, "stash", "pop", "-q")
    assert (repo / "half-migrated.txt").read_text() == "x", "the stash holds what the run left"


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_file_the_new_gitignore_stops_ignoring_is_neither_committed_nor_deleted(
    template: TemplateRepo, repo: Path, jobs: str
) -> None:
    """A key file a user keeps in the repository, ignored by `*.key`, must not end in a commit
    (nor vanish) when a template release narrows the pattern to `/*.key`."""
    key = repo / "argocd" / "sealed-secrets.key"
    key.write_text("private")
    assert git(repo, "status", "--porcelain") == "", "ignored when the run starts"
    template.edit("template/.gitignore.jinja", "*.key\n", "/*.key\n")
    template.release("v1.1.0")
    head = git(repo, "rev-parse", "HEAD").strip()
    result = run_gitops(repo, "update", "--jobs", jobs)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "argocd/sealed-secrets.key: ignored before this update" in result.stdout
    assert key.read_text() == "private"
    assert "sealed-secrets.key" not in git(repo, "log", "--name-only", "--format=", f"{head}..HEAD")


def test_an_environment_change_waits_for_answers_of_an_older_release(tmp_path: Path) -> None:
    """Answers written before replicas and resources were stored per environment: changing the
    list in the same run as the template update would resize the existing environments."""
    old = template_at_commit(tmp_path / "template", RELEASES["v0.2.0"], "v0.2.0")
    repo = generate(old, tmp_path / "repo", {"app_name": "shop"}, "v0.2.0")
    generate(old, repo, {"app_name": "cart"}, "v0.2.0")
    replace_with_work_tree(old, "v1.0.0")
    assert run_gitops(repo, "update", "--app", "shop").returncode == 0  # brings this release's tools/
    before = tree_state(repo)
    refused = run_gitops(repo, "update", "--data", "environments=[dev, staging, prod, dr]")
    assert refused.returncode == 2, refused.stdout + refused.stderr
    last_line = refused.stderr.strip().splitlines()[-1]
    assert last_line.startswith(".copier-answers.cart.yml: replicas and resources"), last_line
    assert tree_state(repo) == before
    assert run_gitops(repo, "update").returncode == 0
    replicas = yaml.safe_load((repo / ".copier-answers.cart.yml").read_text())["replicas"]
    assert replicas == {"dev": 1, "staging": 2, "prod": 3}, "the positional values, now stored"
    added = run_gitops(repo, "update", "--data", "environments=[dev, staging, prod, dr]")
    assert added.returncode == 0, added.stdout + added.stderr
    for app in ("shop", "cart"):
        replicas = yaml.safe_load((repo / f".copier-answers.{app}.yml").read_text())["replicas"]
        assert replicas == {"dev": 1, "staging": 2, "prod": 3, "dr": 3}, app


# Test scaffolding (v1.1.0): while the apps update in their worktrees, the user edits cart's
# Deployment in the repository itself (a task run during each app's update finds the main work
# tree through git's common directory).
EDIT_MAIN_TREE_TASK = """
_tasks:
  - command:
      - "{{ _copier_python }}"
      - -c
      - |
        import pathlib, subprocess
        found = subprocess.run(["git", "rev-parse", "--path-format=absolute", "--git-common-dir"],
                               capture_output=True, text=True)
        target = pathlib.Path(found.stdout.strip()).parent / "applications/base/cart/deployment.yaml"
        if found.returncode == 0 and "# edited" not in target.read_text():
            target.write_text(target.read_text() + "# edited during the update\\n")
"""


def test_parallel_update_blocked_by_an_edit_made_meanwhile_stops_and_keeps_the_edit(
    template: TemplateRepo, repo: Path
) -> None:
    template.edit(DEPLOYMENT_TEMPLATE, "revisionHistoryLimit: 5", "revisionHistoryLimit: 10")
    template.edit("copier.yml", "\n_migrations:", EDIT_MAIN_TREE_TASK + "\n_migrations:")
    template.release("v1.1.0")
    head = git(repo, "rev-parse", "HEAD").strip()
    result = run_gitops(repo, "update", "--jobs", "2")
    assert_stopped(result, "cart")
    stopped = next(line for line in result.stdout.splitlines() if "stopped at cart: " in line)
    assert "could not be applied to the work tree" in stopped, result.stdout
    assert git(repo, "rev-parse", "HEAD").strip() == head, "nothing applied"
    deployment = (repo / "applications/base/cart/deployment.yaml").read_text()
    assert deployment.endswith("# edited during the update\n"), "the user's edit is kept"
    assert "revisionHistoryLimit: 5" in deployment
    assert git(repo, "status", "--porcelain") == " M applications/base/cart/deployment.yaml\n"
    assert git(repo, "worktree", "list").count("\n") == 1, "no worktree left behind"


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_conflicted_update_keeps_edited_dropped_files_and_names_files_no_longer_ignored(
    template: TemplateRepo, repo: Path, jobs: str
) -> None:
    """The advice after a conflict is to commit what the update left: by then the edited file
    the release stops generating must be back, and a key file its .gitignore no longer ignores
    must be named (and not staged), as on the update without a conflict."""
    for app in APPS:
        edit(repo, f"applications/base/{app}/deployment.yaml", "failureThreshold: 3", "failureThreshold: 5")
        policy = f"applications/base/{app}/networkpolicy.yaml"
        edit(repo, policy, "  policyTypes:", "  # ours\n  policyTypes:")
    git(repo, "commit", "-qam", "Tune readiness, annotate the network policy")
    edited_policy = (repo / "applications/base/cart/networkpolicy.yaml").read_bytes()
    key = repo / "argocd" / "clé.key"  # not ASCII: git quotes such names unless -z
    key.write_text("private")
    template.edit(DEPLOYMENT_TEMPLATE, "failureThreshold: 3", "failureThreshold: 4")
    template.edit(f"{BASE_TEMPLATE_DIR}/kustomization.yaml.jinja", "  - networkpolicy.yaml\n", "")
    (template.path / BASE_TEMPLATE_DIR / "networkpolicy.yaml.jinja").unlink()
    template.edit("template/.gitignore.jinja", "*.key\n", "/*.key\n")
    template.release("v1.1.0")
    head = git(repo, "rev-parse", "HEAD").strip()

    result = run_gitops(repo, "update", "--jobs", jobs)

    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert "applications/base/cart/deployment.yaml: conflict left by copier update of cart" in result.stdout
    assert "applications/base/cart/networkpolicy.yaml: kept" in result.stdout, result.stdout
    assert (repo / "applications/base/cart/networkpolicy.yaml").read_bytes() == edited_policy
    assert "argocd/clé.key: ignored before this update" in result.stdout, result.stdout
    assert "move or exclude the files named as ignored before, then `git add -A" in result.stdout
    assert git(repo, "rev-parse", "HEAD").strip() == head, "nothing committed at a conflict"
    assert "key" not in git(repo, "diff", "--cached", "--name-only")
    assert key.read_text() == "private"
    assert git(repo, "diff", "--name-only", "--diff-filter=U"), "the unmerged entries stay for the user"


def test_a_rerun_after_a_conflict_takes_the_repo_level_change_to_the_other_apps(repo: Path) -> None:
    """The advice at a conflict is to resolve it and run `tools/gitops update` again: without the
    --data, the apps after the conflicted one still have to take the change gitops.yaml holds
    (they were skipped as current, their overlays missing the new environment), and the shared
    file the user resolved must not conflict again."""
    chain = "the promotion chain `dev` → `staging` → `prod`."
    edit(repo, "README.md", chain, chain + " Ask #platform before promoting.")
    git(repo, "commit", "-qam", "A note in the README")
    environments = "environments=[dev, qa, staging, prod]"

    stopped = run_gitops(repo, "update", "--data", environments)

    assert stopped.returncode == 1, stopped.stdout + stopped.stderr
    assert "README.md: conflict left by copier update of cart" in stopped.stdout, stopped.stdout
    readme = (repo / "README.md").read_text()
    start, end = readme.index("<<<<<<< "), readme.index(">>>>>>> ")
    end = readme.index("\n", end) + 1
    resolved = "the promotion chain `dev` → `qa` → `staging` → `prod`. Ask #platform before promoting.\n"
    (repo / "README.md").write_text(readme[:start] + resolved + readme[end:])
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "Resolve cart's update")

    rerun = run_gitops(repo, "update")

    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert "gitops.yaml holds environments as some apps' answers do not" in rerun.stdout, rerun.stdout
    for app in APPS:
        answers = yaml.safe_load((repo / f".copier-answers.{app}.yml").read_text())
        assert answers["environments"] == ["dev", "qa", "staging", "prod"], app
        assert (repo / f"environments/qa/{app}/kustomization.yaml").is_file(), app
    assert (repo / "README.md").read_text().count(resolved) == 1
    assert git(repo, "status", "--porcelain") == ""
    validated = run_gitops(repo, "validate")
    assert validated.returncode == 0, validated.stdout + validated.stderr
    again = run_gitops(repo, "update")
    assert again.returncode == 0 and "gitops.yaml holds" not in again.stdout, again.stdout


def test_a_rollout_is_not_undone_for_problems_the_repository_had_before(repo: Path) -> None:
    """Undoing the change would not fix them: the change is kept, the problems named, exit 1."""
    ghost = repo / "environments/dev/ghost"
    ghost.mkdir()
    (ghost / "kustomization.yaml").write_text("apiVersion: kustomize.config.k8s.io/v1beta1\nresources: []\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "An overlay validate refuses")
    before = run_gitops(repo, "validate")
    assert before.returncode == 1, before.stdout + before.stderr
    head = git(repo, "rev-parse", "HEAD").strip()

    result = run_gitops(repo, "update", "--data", "argocd_version=v3.6.3")

    assert result.returncode == 1, result.stdout + result.stderr
    assert "problem(s) before this run too" in result.stdout, result.stdout
    assert "environments/dev/ghost" in result.stdout, result.stdout
    assert len(commits_since(repo, head)) == len(APPS), "every app's update is kept"
    assert git(repo, "status", "--porcelain") == ""
    assert git(repo, "worktree", "list").count("\n") == 1, "no worktree left behind"


def test_a_hand_edit_of_gitops_yaml_is_named_and_never_rolled_out(repo: Path) -> None:
    """The README says never to edit gitops.yaml: a plain update must not take such an edit to
    every app as if it were an unfinished change, and validate names it."""
    settings = repo / "gitops.yaml"
    settings.write_text(
        settings.read_text().replace('protected_environments: ["prod"]', "protected_environments: []")
    )
    git(repo, "commit", "-qam", "Unprotect prod by hand")
    validated = run_gitops(repo, "validate")
    assert validated.returncode == 1, validated.stdout + validated.stderr
    assert (
        "gitops.yaml: protected_environments differs from what the answers of cart, shop hold"
        in validated.stdout
    )
    head = git(repo, "rev-parse", "HEAD").strip()
    result = run_gitops(repo, "update")
    assert "gitops.yaml holds" not in result.stdout, result.stdout
    assert git(repo, "rev-parse", "HEAD").strip() == head, "nothing rolled out"
