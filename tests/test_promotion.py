"""`tools/gitops promote`, `status`, `diff` and the promotion checks of `validate`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.conftest import render, run_gitops
from tests.template_versions import commit_all, git

STAGING = "environments/staging/myapp/release/kustomization.yaml"
PROD = "environments/prod/myapp/release/kustomization.yaml"
DEV = "environments/dev/myapp/release/kustomization.yaml"


def set_tag(repo: Path, path: str, tag: str) -> None:
    release = repo / path
    text = release.read_text()
    current = yaml.safe_load(text)["images"][0]["newTag"]
    release.write_text(text.replace(f'"{current}"', f'"{tag}"'))


def tag_of(repo: Path, path: str) -> str:
    return yaml.safe_load((repo / path).read_text())["images"][0]["newTag"]


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A committed repository whose dev runs a newer release than staging and prod."""
    repo = render(tmp_path / "repo", {})
    git(repo, "init", "-q", "-b", "main")
    commit_all(repo, "Generate")
    staging = repo / STAGING
    staging.write_text(staging.read_text().replace("images:", "# staging pins its own comment\nimages:"))
    set_tag(repo, DEV, "1.30.0")
    commit_all(repo, "Bump dev to 1.30.0")
    return repo


def test_promote_changes_exactly_the_next_release_and_keeps_comments(repo: Path) -> None:
    prod_before = (repo / PROD).read_bytes()
    staging_before = (repo / STAGING).read_text()
    result = run_gitops(repo, "promote", "--app", "myapp", "--from", "dev")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "myapp: staging 1.29.3-alpine -> 1.30.0 (promoted, from dev)" in result.stdout
    assert "+      - image: nginxinc/nginx-unprivileged:1.30.0" in result.stdout
    staging_after = (repo / STAGING).read_text()
    assert staging_after == staging_before.replace('"1.29.3-alpine"', '"1.30.0"')
    assert "# staging pins its own comment" in staging_after
    assert (repo / PROD).read_bytes() == prod_before
    changed = sorted(git(repo, "status", "--porcelain", "--untracked-files=all").splitlines())
    assert changed == [f" M {STAGING}", "?? environments/staging/myapp/release/provenance.yaml"]
    provenance = yaml.safe_load((repo / "environments/staging/myapp/release/provenance.yaml").read_text())
    assert provenance["from_environment"] == "dev" and provenance["forced"] is False
    assert provenance["from_commit"] == git(repo, "rev-parse", "HEAD").strip()
    assert run_gitops(repo, "validate").returncode == 0


def test_dry_run_changes_nothing(repo: Path) -> None:
    result = run_gitops(repo, "promote", "--app", "myapp", "--from", "dev", "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "+      - image: nginxinc/nginx-unprivileged:1.30.0" in result.stdout
    assert "dry run: nothing changed" in result.stdout
    assert git(repo, "status", "--porcelain", "--untracked-files=all") == ""


def test_skipping_an_environment_needs_force(repo: Path) -> None:
    refused = run_gitops(repo, "promote", "--app", "myapp", "--from", "dev", "--to", "prod")
    assert refused.returncode == 2
    assert "skips staging" in refused.stderr
    assert git(repo, "status", "--porcelain") == ""
    forced = run_gitops(repo, "promote", "--app", "myapp", "--from", "dev", "--to", "prod", "--force")
    assert forced.returncode == 0, forced.stdout + forced.stderr
    assert tag_of(repo, PROD) == "1.30.0"
    commit_all(repo, "Hotfix straight to prod")
    assert run_gitops(repo, "validate").returncode == 0, (
        "a forced promotion is exempt, its provenance says so"
    )


def test_prod_release_that_never_ran_in_staging_fails_validate(repo: Path) -> None:
    set_tag(repo, PROD, "1.30.0")
    commit_all(repo, "Edit prod by hand")
    result = run_gitops(repo, "validate")
    assert result.returncode == 1
    assert f"{PROD}: release 1.30.0 never ran in staging" in result.stdout


def test_all_promotes_every_app(tmp_path: Path) -> None:
    repo = render(tmp_path / "repo", {"app_name": "shop"})
    render(repo, {"app_name": "cart"})
    git(repo, "init", "-q", "-b", "main")
    for app in ("shop", "cart"):
        set_tag(repo, f"environments/dev/{app}/release/kustomization.yaml", f"2.0.{len(app)}")
    commit_all(repo, "Two apps, new releases in dev")
    result = run_gitops(repo, "promote", "--all", "--from", "dev")
    assert result.returncode == 0, result.stdout + result.stderr
    assert tag_of(repo, "environments/staging/shop/release/kustomization.yaml") == "2.0.4"
    assert tag_of(repo, "environments/staging/cart/release/kustomization.yaml") == "2.0.4"


def test_rollback_promotes_an_earlier_release(repo: Path) -> None:
    good = git(repo, "rev-parse", "HEAD").strip()
    assert run_gitops(repo, "promote", "--app", "myapp", "--from", "dev").returncode == 0
    commit_all(repo, "Promote 1.30.0 to staging")
    set_tag(repo, DEV, "1.31.0")
    commit_all(repo, "Bump dev to 1.31.0")
    assert run_gitops(repo, "promote", "--app", "myapp", "--from", "dev").returncode == 0
    commit_all(repo, "Promote 1.31.0 to staging")
    assert tag_of(repo, STAGING) == "1.31.0"
    rollback = run_gitops(repo, "promote", "--app", "myapp", "--from", "dev", "--from-ref", good)
    assert rollback.returncode == 0, rollback.stdout + rollback.stderr
    assert tag_of(repo, STAGING) == "1.30.0"
    provenance = yaml.safe_load((repo / "environments/staging/myapp/release/provenance.yaml").read_text())
    assert provenance["from_commit"] == good
    commit_all(repo, "Roll staging back to 1.30.0")
    assert run_gitops(repo, "validate").returncode == 0


def test_source_that_does_not_build_is_refused(repo: Path) -> None:
    overlay = repo / "environments/dev/myapp/kustomization.yaml"
    overlay.write_text(overlay.read_text().replace("applications/base/myapp", "applications/base/gone"))
    staging_before = (repo / STAGING).read_bytes()
    result = run_gitops(repo, "promote", "--app", "myapp", "--from", "dev")
    assert result.returncode == 1
    assert "environments/dev/myapp: does not build" in result.stdout
    assert "refused" in result.stdout
    assert (repo / STAGING).read_bytes() == staging_before


def test_branch_gets_a_commit_that_describes_the_promotion(repo: Path) -> None:
    result = run_gitops(
        repo, "promote", "--app", "myapp", "--from", "dev", "--branch", "promote/myapp-staging"
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert git(repo, "branch", "--show-current").strip() == "promote/myapp-staging"
    message = git(repo, "log", "-1", "--format=%B")
    assert message.startswith("Promote myapp from dev to staging")
    assert "myapp: 1.29.3-alpine -> 1.30.0" in message
    assert git(repo, "status", "--porcelain") == ""


def test_status_marks_what_waits(repo: Path) -> None:
    table = run_gitops(repo, "status")
    assert table.returncode == 0
    assert table.stdout.splitlines()[1].split() == ["myapp", "1.30.0", "*", "1.29.3-alpine", "1.29.3-alpine"]
    data = json.loads(run_gitops(repo, "status", "--json").stdout)
    assert data["environments"] == ["dev", "staging", "prod"]
    assert data["apps"]["myapp"]["dev"]["waiting"] is True
    assert data["apps"]["myapp"]["staging"]["waiting"] is False


def test_changed_since_builds_only_affected_overlays(repo: Path) -> None:
    assert "0 overlays built" in run_gitops(repo, "validate", "--changed-since", "HEAD").stderr
    set_tag(repo, STAGING, "1.30.0")
    assert "1 overlays built" in run_gitops(repo, "validate", "--changed-since", "HEAD").stderr
    base = repo / "applications/base/myapp/service.yaml"
    base.write_text(base.read_text() + "# a base change affects every environment\n")
    assert "3 overlays built" in run_gitops(repo, "validate", "--changed-since", "HEAD").stderr


def shared_component_in_prod(repo: Path, folder: str) -> None:
    """A component at `folder`, listed by prod only, committed; then changed in the work tree
    (its annotation platform -> someone-else)."""
    shared = repo / folder / "kustomization.yaml"
    shared.parent.mkdir(parents=True)
    shared.write_text(
        "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n"
        "commonAnnotations:\n  example.com/owner: platform\n"
    )
    prod = repo / "environments/prod/myapp/kustomization.yaml"
    prod.write_text(prod.read_text().replace("  - release\n", f"  - release\n  - ../../../{folder}\n"))
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "A shared component in prod")
    shared.write_text(shared.read_text().replace("platform", "someone-else"))


def test_a_change_outside_the_layout_reaches_the_overlays_that_list_it(repo: Path) -> None:
    """Kustomize reads whatever a kustomization lists: a component shared from outside the
    layout, listed by prod only. Its change is prod's (diff and validate --changed-since); a
    file of staging's folder that prod lists affects prod too."""
    shared_component_in_prod(repo, "applications/shared/owner")
    assert run_gitops(repo, "validate").returncode == 0
    assert "3 overlays built" in run_gitops(repo, "validate", "--changed-since", "HEAD").stderr
    diff = run_gitops(repo, "diff", "--base", "HEAD", "--markdown")
    assert diff.returncode == 0, diff.stderr
    assert "### prod" in diff.stdout and "someone-else" in diff.stdout, diff.stdout
    git(repo, "commit", "-qam", "The shared component changes")
    set_tag(repo, STAGING, "1.30.0")
    assert "2 overlays built" in run_gitops(repo, "validate", "--changed-since", "HEAD").stderr, (
        "staging, prod"
    )


def test_a_change_in_a_shared_folder_anywhere_or_a_non_ascii_file_is_seen(repo: Path) -> None:
    """A folder outside applications/ and environments/ that prod lists, and a patch named with
    a non-ASCII character (git quotes such names without -z): both prod's changes."""
    shared_component_in_prod(repo, "shared/owner")
    assert "1 overlays built" in run_gitops(repo, "validate", "--changed-since", "HEAD").stderr
    assert "someone-else" in run_gitops(repo, "diff", "--base", "HEAD", "--markdown").stdout
    git(repo, "commit", "-qam", "The shared component changes")
    patch = repo / "environments/staging/myapp/café.yaml"
    patch.write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: myapp\n"
        "  annotations:\n    example.com/note: first\n"
    )
    staging = repo / "environments/staging/myapp/kustomization.yaml"
    staging.write_text(staging.read_text().replace("patches:\n", "patches:\n  - path: café.yaml\n", 1))
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "A patch with a non-ASCII name")
    patch.write_text(patch.read_text().replace("first", "second"))
    # staging's (named as written), and prod's, which lists a folder outside its own.
    assert "2 overlays built" in run_gitops(repo, "validate", "--changed-since", "HEAD").stderr


def test_diff_shows_the_rendered_change_per_environment(repo: Path) -> None:
    assert run_gitops(repo, "promote", "--app", "myapp", "--from", "dev").returncode == 0
    result = run_gitops(repo, "diff", "--base", "HEAD", "--markdown")
    assert result.returncode == 0, result.stderr
    assert "### staging" in result.stdout and "### prod" not in result.stdout
    assert "+      - image: nginxinc/nginx-unprivileged:1.30.0" in result.stdout
    assert git(repo, "worktree", "list").count("\n") == 1, "the temporary worktree is removed"
