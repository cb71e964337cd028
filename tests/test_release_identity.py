"""A release is the whole release/ folder of an overlay but its provenance.yaml.

Two environments whose release folders differ only in a file other than kustomization.yaml run
different releases (status says one waits, validate's promotion history names a file changed by
hand); folders that differ only in provenance.yaml, which records per environment where the
release came from, run the same release.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from gitopslib import layout, releases

from tests.conftest import render, run_gitops
from tests.template_versions import commit_all, git

APP = "myapp"
PATCH = "patch.yaml"


def patch_text(note: str) -> str:
    """A release-scoped patch: an annotation on the app's Deployment."""
    return (
        f"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {APP}\n"
        f"  annotations:\n    example.com/release-note: {json.dumps(note)}\n"
    )


def patch_of(repo: Path, env: str) -> Path:
    return repo / layout.release_dir(env, APP) / PATCH


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every environment's release lists patch.yaml (the same everywhere), committed."""
    repo = render(tmp_path_factory.mktemp("identity") / "repo", {})
    for env in ("dev", "staging", "prod"):
        release = repo / layout.release_file(env, APP)
        release.write_text(release.read_text() + f"patches:\n  - path: {PATCH}\n")
        patch_of(repo, env).write_text(patch_text("first"))
    git(repo, "init", "-q", "-b", "main")
    commit_all(repo, "Generate, with a release-scoped patch")
    return repo


@pytest.fixture
def repo(pristine: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(pristine, tmp_path / "repo", symlinks=True))


def status(repo: Path) -> dict[str, Any]:
    result = run_gitops(repo, "status", "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    row: dict[str, Any] = json.loads(result.stdout)["apps"][APP]
    return row


def test_identity_of_a_release_folder() -> None:
    kustomization = {"kind": "Component", "images": [{"name": "x", "newTag": "1.0"}]}
    text = yaml.safe_dump(kustomization).encode()
    alone = releases.identity(kustomization)
    # A release of kustomization.yaml alone keeps the identity provenance records hold from before.
    legacy = json.dumps({"images": kustomization["images"]}, sort_keys=True)
    assert alone == "sha256:" + hashlib.sha256(legacy.encode()).hexdigest()
    assert releases.folder_identity({layout.KUSTOMIZATION: text}) == alone
    assert (
        releases.folder_identity({layout.KUSTOMIZATION: text, layout.PROVENANCE: b"forced: true\n"}) == alone
    )
    with_patch = releases.folder_identity({layout.KUSTOMIZATION: text, PATCH: b"a"})
    assert with_patch != alone
    assert with_patch != releases.folder_identity({layout.KUSTOMIZATION: text, PATCH: b"b"})
    assert with_patch != releases.folder_identity({layout.KUSTOMIZATION: text, "other.yaml": b"a"})
    # Comments and formatting of kustomization.yaml do not count; the other files' bytes do.
    reformatted = b"# a comment\n" + json.dumps(kustomization).encode()
    assert releases.folder_identity({layout.KUSTOMIZATION: reformatted, PATCH: b"a"}) == with_patch


def test_releases_that_differ_only_in_another_file_are_different_releases(repo: Path) -> None:
    before = status(repo)
    assert before["dev"]["identity"] == before["staging"]["identity"] == before["prod"]["identity"]
    patch_of(repo, "dev").write_text(patch_text("second"))
    commit_all(repo, "dev: a new release note")
    after = status(repo)
    assert after["dev"]["release"] == after["staging"]["release"], "same image tag"
    assert after["dev"]["identity"] != after["staging"]["identity"]
    assert after["dev"]["waiting"] is True and after["staging"]["waiting"] is False


def test_releases_that_differ_only_in_provenance_are_the_same_release(repo: Path) -> None:
    patch_of(repo, "dev").write_text(patch_text("second"))
    commit_all(repo, "dev: a new release note")
    result = run_gitops(repo, "promote", "--app", APP, "--from", "dev")
    assert result.returncode == 0, result.stdout + result.stderr
    assert patch_of(repo, "staging").read_bytes() == patch_of(repo, "dev").read_bytes()
    assert (repo / layout.provenance_file("staging", APP)).is_file()
    assert not (repo / layout.provenance_file("dev", APP)).exists()
    row = status(repo)
    assert row["dev"]["identity"] == row["staging"]["identity"]
    assert row["dev"]["waiting"] is False and row["staging"]["waiting"] is True
    provenance = yaml.safe_load((repo / layout.provenance_file("staging", APP)).read_text())
    assert provenance["release"] == row["staging"]["identity"], "promote records the folder's identity"
    commit_all(repo, "Promote")
    result = run_gitops(repo, "validate")
    assert result.returncode == 0, result.stdout + result.stderr


def test_validate_names_a_release_file_changed_by_hand_that_never_ran_before(repo: Path) -> None:
    patch_of(repo, "staging").write_text(patch_text("hotfix"))
    commit_all(repo, "staging: a hand-made hotfix")
    result = run_gitops(repo, "validate")
    assert result.returncode == 1, result.stdout + result.stderr
    assert (
        f"{layout.release_file('staging', APP)}: release 1.29.3-alpine never ran in dev: "
        "promote it through dev first (or promote with --force)"
    ) in result.stdout.splitlines()


def test_a_forced_promotion_recorded_by_an_earlier_release_still_passes(repo: Path) -> None:
    """Promote of an earlier template release recorded the identity of kustomization.yaml alone,
    also for a folder with other files: validate still honours that record's --force."""
    patch_of(repo, "prod").write_text(patch_text("hotfix"))
    kustomization = yaml.safe_load((repo / layout.release_file("prod", APP)).read_text())
    (repo / layout.provenance_file("prod", APP)).write_text(
        "from_environment: dev\nfrom_commit: 0000000\nforced: true\n"
        f"release: {releases.identity(kustomization)}\n"
    )
    commit_all(repo, "prod: forced by an earlier tools/gitops")
    result = run_gitops(repo, "validate")
    assert result.returncode == 0, result.stdout + result.stderr
    # A record that says it covers the folder is not read the old way.
    provenance = repo / layout.provenance_file("prod", APP)
    provenance.write_text(provenance.read_text() + "identity: release-folder\n")
    commit_all(repo, "prod: the record now claims the whole folder")
    result = run_gitops(repo, "validate")
    assert result.returncode == 1 and "never ran in staging" in result.stdout


def test_promote_records_that_its_identity_covers_the_folder(repo: Path) -> None:
    patch_of(repo, "dev").write_text(patch_text("second"))
    commit_all(repo, "dev: a new release note")
    result = run_gitops(repo, "promote", "--app", APP, "--from", "dev")
    assert result.returncode == 0, result.stdout + result.stderr
    provenance = yaml.safe_load((repo / layout.provenance_file("staging", APP)).read_text())
    assert provenance["identity"] == "release-folder"


def test_a_release_that_changed_only_another_file_counts_as_run_where_it_ran(repo: Path) -> None:
    """History follows every file of release/: dev ran a release that differs only in its patch
    (commit X), then moved on; promoting X to staging is promoting what dev ran."""
    patch_of(repo, "dev").write_text(patch_text("second"))
    commit_all(repo, "dev: release X")
    ran = git(repo, "rev-parse", "HEAD").strip()
    patch_of(repo, "dev").write_text(patch_text("third"))
    commit_all(repo, "dev: release Y")
    result = run_gitops(repo, "promote", "--app", APP, "--from", "dev", "--from-ref", ran)
    assert result.returncode == 0, result.stdout + result.stderr
    commit_all(repo, "Promote X to staging")
    result = run_gitops(repo, "validate")
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_shallow_clone_cannot_vouch_for_a_release_it_sees_no_history_of(repo: Path, tmp_path: Path) -> None:
    """A clone with --depth 1 shows every release folder as added by its one commit, which the
    check exempts (onboarded as it is): a hand-edited prod release would pass. Named instead,
    with how to fetch the history; releases equal to the environment's before them still pass."""
    release = repo / layout.release_file("prod", APP)
    release.write_text(release.read_text().replace('"1.29.3-alpine"', '"9.9.9"'))
    commit_all(repo, "Hand-edit prod")
    full = run_gitops(repo, "validate")
    assert full.returncode == 1 and "never ran in staging" in full.stdout, full.stdout
    shallow = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth", "1", repo.as_uri(), str(shallow))
    result = run_gitops(shallow, "validate")
    assert result.returncode == 1, result.stdout + result.stderr
    problems = [line for line in result.stdout.splitlines() if "ran in" in line]
    assert problems == [
        f"{layout.release_file('prod', APP)}: cannot tell whether release 9.9.9 ran in staging: this clone "
        "is shallow and its history starts after the release was written (CI clones need the whole "
        "history (GitHub: fetch-depth: 0, GitLab: GIT_DEPTH: 0))"
    ], result.stdout
