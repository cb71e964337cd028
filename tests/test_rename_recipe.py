"""The README's recipe for a file renamed between template versions, across three releases.

v1.1.0 is this template; v1.2.0 renames `applications/base/<app>/service.yaml` to `svc.yaml`
(and the base kustomization's resource) with the recipe's migrations; v1.3.0 adds a line to
`svc.yaml`. Two apps: `shop`, whose team edits (or deletes) service.yaml, and `cart`, untouched.

What Copier does with the recipe: the before-migration stages the user's file at the new path
(`git mv`); Copier diffs the old template's render against that index, and as the new path is
new to both the project and the new template, it merges the user's file with the new render
with an empty base. Across a version skip both sides therefore survive, as conflict hunks where
they differ (even in an untouched app); in a rename-only step an untouched app moves cleanly.
Nothing is silently lost: every test asserts the user's lines and v1.3.0's line are in the file,
merged or inside markers that `git diff --diff-filter=U` reports, and that the overlays build.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from tests.conftest import BASE_TEMPLATE_DIR
from tests.template_versions import TemplateRepo, commit_all, copier_update, generate, git, tree_state

BASE = BASE_TEMPLATE_DIR
APPS = ("shop", "cart")
OLD, NEW = "service.yaml", "svc.yaml"

# The recipe, as README "Releasing the template" gives it (here for v1.2.0). A list command runs
# without a shell: the paths reach `sh -c` as $1 and $2, never parsed as shell text.
RENAME_RECIPE = """\
  # v1.2.0 renames applications/base/<app>/service.yaml to svc.yaml.
  # Before the update: stage the app's own file at the new path, where Copier merges it with
  # the new template; nothing to do when the team deleted it or a re-run finds it moved.
  - version: v1.2.0
    when: "{{ _stage == 'before' }}"
    command:
      - sh
      - -c
      - 'if [ -e "$1" ] && [ ! -e "$2" ]; then git mv -- "$1" "$2"; fi'
      - rename
      - "applications/base/{{ migration_app }}/service.yaml"
      - "applications/base/{{ migration_app }}/svc.yaml"
  # After the update: a file the team had deleted (neither path in HEAD) stays deleted.
  - version: v1.2.0
    when: "{{ _stage == 'after' }}"
    command:
      - sh
      - -c
      - 'git cat-file -e "HEAD:./$1" 2>/dev/null || git cat-file -e "HEAD:./$2" 2>/dev/null || rm -f -- "$2"'
      - keep-deleted
      - "applications/base/{{ migration_app }}/service.yaml"
      - "applications/base/{{ migration_app }}/svc.yaml"
"""

# Test scaffolding only (v1.3.0): fails the update at a stage while .git/fail-<stage> exists in
# the destination (Copier exports the stage as $STAGE), after the rename migration ran there.
FAIL_ON_REQUEST = """\
  - version: v1.3.0
    when: "{{ true }}"
    command: ["sh", "-c", 'test ! -e ".git/fail-$STAGE"']
"""

V13_LINE = "  internalTrafficPolicy: Cluster"
USER_LINES = "    - name: metrics\n      port: 9090\n      targetPort: 9090\n"
MARKERS = ("<<<<<<< ", "=======", ">>>>>>> ")


def base(app: str, name: str) -> str:
    return f"applications/base/{app}/{name}"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> TemplateRepo:
    template = TemplateRepo.from_work_tree(tmp_path_factory.mktemp("rename") / "template", "v1.1.0")
    (template.path / BASE / f"{OLD}.jinja").rename(template.path / BASE / f"{NEW}.jinja")
    template.edit(f"{BASE}/kustomization.yaml.jinja", f"  - {OLD}", f"  - {NEW}")
    template.edit("copier.yml", "_migrations:\n", "_migrations:\n" + RENAME_RECIPE)
    template.release("v1.2.0")
    template.edit(f"{BASE}/{NEW}.jinja", "  type: ClusterIP\n", f"  type: ClusterIP\n{V13_LINE}\n")
    template.edit("copier.yml", "\n_message_after_copy:", FAIL_ON_REQUEST + "\n_message_after_copy:")
    template.release("v1.3.0")
    return template


@pytest.fixture(scope="module")
def pristine(template: TemplateRepo, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """svc.yaml as v1.3.0 renders it for each app: what an untouched app must end with."""
    repo = tmp_path_factory.mktemp("pristine") / "repo"
    for app in APPS:
        generate(template, repo, {"app_name": app}, "v1.3.0")
    return {app: (repo / base(app, NEW)).read_text() for app in APPS}


def edit_service(repo: Path) -> None:
    """The shop team adds a metrics port to its Service."""
    path = repo / base("shop", OLD)
    text = path.read_text()
    assert "      protocol: TCP\n" in text
    path.write_text(text.replace("      protocol: TCP\n", "      protocol: TCP\n" + USER_LINES, 1))


def delete_service(repo: Path) -> None:
    """The shop team runs a worker: no Service, and none in its base kustomization."""
    (repo / base("shop", OLD)).unlink()
    kustomization = repo / base("shop", "kustomization.yaml")
    kustomization.write_text(kustomization.read_text().replace(f"  - {OLD}\n", "", 1))


def onboard(template: TemplateRepo, repo: Path, team_work: Callable[[Path], None]) -> Path:
    for app in APPS:
        generate(template, repo, {"app_name": app}, "v1.1.0")
    team_work(repo)
    commit_all(repo, "Team work")
    return repo


def conflicted(repo: Path) -> set[str]:
    return set(git(repo, "diff", "--name-only", "--diff-filter=U").split())


def has_markers(text: str) -> bool:
    return any(line.startswith(MARKERS) for line in text.splitlines())


def resolve(repo: Path, relative: str, keep: str = "both") -> None:
    """What a team does with Copier's markers: keep both sides, or its own (`before`)."""
    lines, side = [], None
    for line in (repo / relative).read_text().splitlines(keepends=True):
        if line.startswith("<<<<<<< "):
            side = "before"
        elif line.startswith("=======") and side:
            side = "after"
        elif line.startswith(">>>>>>> ") and side:
            side = None
        elif side is None or keep == "both" or side == keep:
            lines.append(line)
    (repo / relative).write_text("".join(lines))
    git(repo, "add", "--", relative)


def answered_version(repo: Path, app: str) -> str:
    return yaml.safe_load((repo / f".copier-answers.{app}.yml").read_text())["_commit"]


def assert_builds(repo: Path, app: str, kubectl: str, service: bool = True) -> None:
    result = subprocess.run(
        [kubectl, "kustomize", f"environments/dev/{app}"], cwd=repo, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    kinds = [doc["kind"] for doc in yaml.safe_load_all(result.stdout) if doc]
    assert ("Service" in kinds) is service, kinds


def assert_moved(repo: Path, app: str) -> str:
    """The old path is gone, the kustomization lists the new one, cleanly; returns svc.yaml."""
    assert not (repo / base(app, OLD)).exists()
    kustomization = (repo / base(app, "kustomization.yaml")).read_text()
    assert f"  - {NEW}\n" in kustomization and f"  - {OLD}\n" not in kustomization
    assert base(app, "kustomization.yaml") not in conflicted(repo)
    return (repo / base(app, NEW)).read_text()


def assert_user_edit_and_v13_kept(repo: Path, pristine: dict[str, str]) -> str:
    """shop's svc.yaml holds the team's lines and v1.3.0's; resolved, exactly those."""
    svc = assert_moved(repo, "shop")
    assert USER_LINES in svc and V13_LINE in svc
    if has_markers(svc):
        assert base("shop", NEW) in conflicted(repo), "markers git does not report as a conflict"
    resolve(repo, base("shop", NEW))
    expected = pristine["shop"].replace("      protocol: TCP\n", "      protocol: TCP\n" + USER_LINES, 1)
    assert (repo / base("shop", NEW)).read_text() == expected
    return svc


def assert_untouched_app_current(repo: Path, pristine: dict[str, str]) -> None:
    """cart ends with exactly v1.3.0's svc.yaml (markers, if any, git reports)."""
    svc = assert_moved(repo, "cart")
    assert V13_LINE in svc
    if has_markers(svc):
        assert base("cart", NEW) in conflicted(repo)
        resolve(repo, base("cart", NEW))
    assert (repo / base("cart", NEW)).read_text() == pristine["cart"]


def update_all(repo: Path, version: str) -> None:
    """One app at a time, as Copier needs a clean tree: update, resolve (keep both), commit."""
    for app in APPS:
        copier_update(repo, app, vcs_ref=version)
        assert answered_version(repo, app) == version
        for path in conflicted(repo):
            resolve(repo, path)
        commit_all(repo, f"Update {app} to {version}")


def test_version_skip_keeps_user_edit_and_later_change(
    template: TemplateRepo, pristine: dict[str, str], tmp_path: Path, kubectl: str
) -> None:
    """v1.1.0 -> v1.3.0 in one step: the v1.2.0 migration runs, only v1.1.0 and v1.3.0 render."""
    repo = onboard(template, tmp_path / "repo", edit_service)
    copier_update(repo, "shop")
    assert answered_version(repo, "shop") == "v1.3.0"
    svc = assert_user_edit_and_v13_kept(repo, pristine)
    assert has_markers(svc), "a version skip merges with an empty base: both sides as hunks"
    commit_all(repo, "Update shop")
    copier_update(repo, "cart")
    assert_untouched_app_current(repo, pristine)
    commit_all(repo, "Update cart")
    for app in APPS:
        assert_builds(repo, app, kubectl)


def test_two_steps_keep_user_edit_and_later_change(
    template: TemplateRepo, pristine: dict[str, str], tmp_path: Path, kubectl: str
) -> None:
    repo = onboard(template, tmp_path / "repo", edit_service)
    copier_update(repo, "shop", vcs_ref="v1.2.0")
    svc = assert_moved(repo, "shop")
    assert USER_LINES in svc and has_markers(svc) and base("shop", NEW) in conflicted(repo)
    resolve(repo, base("shop", NEW))
    commit_all(repo, "Update shop to v1.2.0")
    copier_update(repo, "cart", vcs_ref="v1.2.0")
    assert git(repo, "status", "--porcelain", "--", "applications/base/cart").splitlines() == [
        " M applications/base/cart/kustomization.yaml",
        "R  applications/base/cart/service.yaml -> applications/base/cart/svc.yaml",
    ], "an untouched app moves cleanly in a rename-only step"
    commit_all(repo, "Update cart to v1.2.0")
    assert_migration_is_idempotent(repo, "shop")
    for app in APPS:
        copier_update(repo, app, vcs_ref="v1.3.0")
        assert not conflicted(repo), "after the rename, v1.3.0's line merges cleanly"
        commit_all(repo, f"Update {app} to v1.3.0")
    assert_user_edit_and_v13_kept(repo, pristine)
    assert_untouched_app_current(repo, pristine)
    for app in APPS:
        assert_builds(repo, app, kubectl)


def assert_migration_is_idempotent(repo: Path, app: str) -> None:
    """Both migration commands, run again on a tree they already moved, change nothing."""
    before_tree, before_index = tree_state(repo), git(repo, "ls-files", "--stage")
    migrations = yaml.safe_load("_migrations:\n" + RENAME_RECIPE)["_migrations"]
    for migration in migrations:
        command = [part.replace("{{ migration_app }}", app) for part in migration["command"]]
        subprocess.run(command, cwd=repo, check=True)
    assert tree_state(repo) == before_tree
    assert git(repo, "ls-files", "--stage") == before_index


@pytest.mark.parametrize("steps", [["v1.3.0"], ["v1.2.0", "v1.3.0"]], ids=["skip", "two-steps"])
def test_deleted_old_file_stays_deleted(
    template: TemplateRepo, pristine: dict[str, str], tmp_path: Path, kubectl: str, steps: list[str]
) -> None:
    """The shop team deleted its Service on purpose: no failure, no svc.yaml brought back; the
    kustomization line the template renamed and the team removed is a visible conflict."""
    repo = onboard(template, tmp_path / "repo", delete_service)
    kustomization = base("shop", "kustomization.yaml")
    copier_update(repo, "shop", vcs_ref=steps[0])
    assert answered_version(repo, "shop") == steps[0]
    assert not (repo / base("shop", OLD)).exists() and not (repo / base("shop", NEW)).exists()
    assert conflicted(repo) == {kustomization}
    assert f"  - {NEW}\n" in (repo / kustomization).read_text()  # inside the markers, visible
    resolve(repo, kustomization, keep="before")  # the team keeps its own side
    commit_all(repo, "Update shop")
    copier_update(repo, "cart", vcs_ref=steps[0])
    if steps[0] == "v1.3.0":
        assert_untouched_app_current(repo, pristine)
    commit_all(repo, "Update cart")
    for version in steps[1:]:
        update_all(repo, version)
    assert not (repo / base("shop", NEW)).exists(), "a later release must not bring it back"
    assert f"  - {NEW}" not in (repo / kustomization).read_text()
    assert not has_markers((repo / kustomization).read_text())
    assert_builds(repo, "shop", kubectl, service=False)
    assert_untouched_app_current(repo, pristine)
    assert_builds(repo, "cart", kubectl)


def fail_update(repo: Path, stage: str) -> None:
    """`copier update` of shop that fails at `stage`, after the rename migration ran there."""
    (repo / ".git" / f"fail-{stage}").touch()
    with pytest.raises(subprocess.CalledProcessError):
        copier_update(repo, "shop")
    (repo / ".git" / f"fail-{stage}").unlink()


def checkout_and_clean(repo: Path) -> int:
    """The usual restore, `git checkout -- . && git clean -fd`: it restores the work tree, not
    the index, where the migration staged the rename and Copier recorded its conflicts."""
    checkout = subprocess.run(["git", "checkout", "--", "."], cwd=repo, capture_output=True)
    if checkout.returncode == 0:
        git(repo, "clean", "-fdq")
    return checkout.returncode


@pytest.mark.parametrize("stage", ["before", "after"])
def test_rerun_after_failed_update(
    template: TemplateRepo, pristine: dict[str, str], tmp_path: Path, kubectl: str, stage: str
) -> None:
    """Failed before the render (rename staged) or after it (merged, conflicts recorded,
    answers already at v1.3.0): `git reset --hard && git clean -fd`, then the same update again
    gives the full result."""
    repo = onboard(template, tmp_path / "repo", edit_service)
    head = git(repo, "rev-parse", "HEAD")
    fail_update(repo, stage)
    moved = f"R  {base('shop', OLD)} -> {base('shop', NEW)}"
    if stage == "before":
        assert checkout_and_clean(repo) == 0
        assert git(repo, "status", "--porcelain").splitlines() == [moved]
        assert answered_version(repo, "shop") == "v1.1.0"
    else:
        assert checkout_and_clean(repo) != 0, "git checkout refuses Copier's unmerged svc.yaml"
        assert f"UU {base('shop', NEW)}" in git(repo, "status", "--porcelain")
        assert answered_version(repo, "shop") == "v1.3.0", "half-applied: answers already moved on"
    before_refusal = tree_state(repo)
    with pytest.raises(Exception, match="dirty"):
        copier_update(repo, "shop")  # a re-run on what is left is refused and changes nothing
    assert tree_state(repo) == before_refusal
    git(repo, "reset", "-q", "--hard")
    git(repo, "clean", "-fdq")
    assert git(repo, "status", "--porcelain") == "" and git(repo, "rev-parse", "HEAD") == head
    copier_update(repo, "shop")
    assert answered_version(repo, "shop") == "v1.3.0"
    assert_user_edit_and_v13_kept(repo, pristine)
    commit_all(repo, "Update shop")
    assert_builds(repo, "shop", kubectl)


def test_rerun_on_committed_half_migration(
    template: TemplateRepo, pristine: dict[str, str], tmp_path: Path, kubectl: str
) -> None:
    """A team that commits what a failed update left (the staged rename, answers at v1.1.0) and
    runs the update again: the migration finds the file moved and does nothing; same result."""
    repo = onboard(template, tmp_path / "repo", edit_service)
    fail_update(repo, "before")
    assert checkout_and_clean(repo) == 0
    commit_all(repo, "What the failed update left")
    copier_update(repo, "shop")
    assert answered_version(repo, "shop") == "v1.3.0"
    assert_user_edit_and_v13_kept(repo, pristine)
    commit_all(repo, "Update shop")
    assert_builds(repo, "shop", kubectl)
