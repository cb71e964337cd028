"""The soak gate: a release leaves an environment only after gitops.yaml's soak for it.

Soak is measured on the first-parent history of the deployed branch (main), by committer dates:
the tests make commits with chosen dates (GIT_COMMITTER_DATE, GIT_AUTHOR_DATE) and run the real
tools/gitops promote and validate on them. A commit's time is always in the past, so the tests
need no clock of their own: "2 hours ago" is at least 2 hours before the check runs.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from tests.conftest import render
from tests.template_versions import GIT_IDENTITY, copy_repo, git, gitops_in_process, tree_state

APP = "myapp"
SOAK = {"staging": "24h"}
STAGING_DIR = "environments/staging/myapp/release"
PROD_DIR = "environments/prod/myapp/release"
PROD = f"{PROD_DIR}/kustomization.yaml"
HOUR = 3600
SOAK_LINES = "soak:\n    staging: 24h\n"  # as gitops.yaml holds SOAK


def commit_at(repo: Path, message: str, hours_ago: float, authored_hours_ago: float | None = None) -> str:
    """Commits everything with a committer date `hours_ago` (and an author date of its own)."""
    committed = f"@{int(time.time() - hours_ago * HOUR)} +0000"
    authored = (
        committed if authored_hours_ago is None else f"@{int(time.time() - authored_hours_ago * HOUR)} +0000"
    )
    env = {**os.environ, **GIT_IDENTITY, "GIT_COMMITTER_DATE": committed, "GIT_AUTHOR_DATE": authored}
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True, env=env)
    subprocess.run(["git", "commit", "-q", "-m", message], cwd=repo, check=True, env=env)
    return git(repo, "rev-parse", "HEAD").strip()


def merge_at(repo: Path, branch: str, hours_ago: float) -> None:
    env = {
        **os.environ,
        **GIT_IDENTITY,
        "GIT_COMMITTER_DATE": f"@{int(time.time() - hours_ago * HOUR)} +0000",
    }
    subprocess.run(
        ["git", "merge", "-q", "--no-ff", "-m", f"Merge {branch}", branch], cwd=repo, check=True, env=env
    )


def gitops(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """tools/gitops in this process, its lengths of time settled (see settled)."""
    result = gitops_in_process(repo, *args, scan_secrets=False)
    result.stdout = settled(result.stdout)
    return result


def settled(text: str) -> str:
    """Lengths of time to the whole hour: a test's "2 hours ago" is 2 hours and the seconds the
    test has taken since (minutes on a loaded machine), which the tools print as 2h0m, 2h1m..."""
    return re.sub(r"\b(\d+)h[0-9]m\b", r"\1h0m", text)


def release_to_staging(
    repo: Path, tag: str, hours_ago: float, authored_hours_ago: float | None = None
) -> str:
    """A new release in dev (a day before), then promoted to staging `hours_ago`; the commit."""
    assert gitops(repo, "release", "--app", APP, "--tag", tag).returncode == 0
    commit_at(repo, f"Release {tag}", hours_ago + 24)
    promoted = gitops(repo, "promote", "--app", APP, "--from", "dev")
    assert promoted.returncode == 0, promoted.stdout + promoted.stderr
    return commit_at(repo, f"Promote {tag} to staging", hours_ago, authored_hours_ago)


def promote_to_prod(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return gitops(repo, "promote", "--app", APP, "--from", "staging", *args)


def prod_tag(repo: Path) -> str:
    return str(yaml.safe_load((repo / PROD).read_text())["images"][0]["newTag"])


def provenance(repo: Path) -> dict[str, object]:
    return dict(yaml.safe_load((repo / PROD_DIR / "provenance.yaml").read_text()))


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    repo = render(tmp_path_factory.mktemp("soak") / "repo", {"soak": SOAK})
    git(repo, "init", "-q", "-b", "main")
    commit_at(repo, "Generate", hours_ago=24 * 30)
    return repo


@pytest.fixture
def repo(pristine: Path, tmp_path: Path) -> Path:
    return copy_repo(pristine, tmp_path / "repo")


def test_gitops_yaml_holds_the_soak(repo: Path) -> None:
    assert yaml.safe_load((repo / "gitops.yaml").read_text())["soak"] == SOAK


def test_a_release_younger_than_its_soak_stays_and_nothing_is_written(repo: Path) -> None:
    release_to_staging(repo, "1.30.0", hours_ago=2)
    before = tree_state(repo)
    refused = promote_to_prod(repo)
    assert refused.returncode == 1
    first, last = refused.stdout.splitlines()
    assert first.startswith(
        f"{STAGING_DIR}: release 1.30.0 has run in staging for 2h0m of its soak of 24h (since "
    )
    assert first.endswith("or with --force")
    assert last == "promotion from staging to prod refused: nothing written"
    assert tree_state(repo) == before


def test_a_release_past_its_soak_moves_on_and_validate_agrees(repo: Path) -> None:
    release_to_staging(repo, "1.30.0", hours_ago=25)
    promoted = promote_to_prod(repo)
    assert promoted.returncode == 0, promoted.stdout
    assert prod_tag(repo) == "1.30.0"
    assert "overridden" not in provenance(repo)
    # Validated before the promotion is merged (a pull request) and after.
    assert gitops(repo, "validate").returncode == 0
    commit_at(repo, "Promote 1.30.0 to prod", hours_ago=0)
    checked = gitops(repo, "validate")
    assert checked.returncode == 0, checked.stdout


def test_force_lets_it_through_and_provenance_records_it(repo: Path) -> None:
    release_to_staging(repo, "1.30.0", hours_ago=2)
    forced = promote_to_prod(repo, "--force")
    assert forced.returncode == 0, forced.stdout
    record = provenance(repo)
    assert record["forced"] is True
    assert settled(str(record["overridden"])).startswith(
        "soak of 24h in staging: release 1.30.0 has run in staging for 2h0m"
    )
    commit_at(repo, "Forced promotion", hours_ago=0)
    assert gitops(repo, "validate").returncode == 0
    # Without the record, validate finds the early departure in the history.
    (repo / PROD_DIR / "provenance.yaml").write_text("forced: false\n")
    commit_at(repo, "Hide it", hours_ago=0)
    checked = gitops(repo, "validate")
    assert checked.returncode == 1
    assert (
        f"{PROD}: release 1.30.0 ran in staging for 2h0m on main before it reached prod, less than "
        "staging's soak of 24h (promote with --force to skip it)"
    ) in checked.stdout.splitlines()


def test_author_dates_do_not_count(repo: Path) -> None:
    """Written three days ago, committed to main two hours ago: two hours of soak."""
    release_to_staging(repo, "1.30.0", hours_ago=2, authored_hours_ago=72)
    refused = promote_to_prod(repo)
    assert refused.returncode == 1
    assert "for 2h0m of its soak of 24h" in refused.stdout


def test_time_on_a_branch_does_not_count(repo: Path) -> None:
    """A promotion committed on a branch three days ago and merged an hour ago soaked an hour."""
    assert gitops(repo, "release", "--app", APP, "--tag", "1.30.0").returncode == 0
    commit_at(repo, "Release 1.30.0", hours_ago=100)
    git(repo, "switch", "-q", "-c", "promote-staging")
    assert gitops(repo, "promote", "--app", APP, "--from", "dev").returncode == 0
    commit_at(repo, "Promote 1.30.0 to staging", hours_ago=72)
    # On the branch, before the merge: the release has not reached staging on main at all.
    not_yet = promote_to_prod(repo)
    assert not_yet.returncode == 1
    assert not_yet.stdout.startswith(f"{STAGING_DIR}: release 1.30.0 has not reached staging on main")
    git(repo, "switch", "-q", "main")
    merge_at(repo, "promote-staging", hours_ago=1)
    refused = promote_to_prod(repo)
    assert refused.returncode == 1
    assert "has run in staging for 1h0m of its soak of 24h" in refused.stdout


def test_from_ref_counts_until_the_release_was_replaced(repo: Path) -> None:
    long_stay = release_to_staging(repo, "1.30.0", hours_ago=40)  # 30 hours in staging
    release_to_staging(repo, "1.31.0", hours_ago=10)
    short_stay = release_to_staging(repo, "1.32.0", hours_ago=8)  # 5 hours in staging
    release_to_staging(repo, "1.33.0", hours_ago=3)
    passed = promote_to_prod(repo, "--from-ref", long_stay)
    assert passed.returncode == 0, passed.stdout
    assert prod_tag(repo) == "1.30.0"
    git(repo, "checkout", "-q", "--", ".")
    git(repo, "clean", "-q", "-f", "--", PROD_DIR)
    refused = promote_to_prod(repo, "--from-ref", short_stay)
    assert refused.returncode == 1
    assert "release 1.32.0 has run in staging for 5h0m of its soak of 24h" in refused.stdout


def test_validate_names_a_release_copied_by_hand_too_early(repo: Path) -> None:
    release_to_staging(repo, "1.30.0", hours_ago=2)
    for name in ("kustomization.yaml",):
        (repo / PROD_DIR / name).write_bytes((repo / STAGING_DIR / name).read_bytes())
    checked = gitops(repo, "validate")
    assert checked.returncode == 1
    # Not merged yet: measured until now, and named the same way.
    assert any(
        line.startswith(f"{PROD}: release 1.30.0 ran in staging for 2h0m on main before it reached prod")
        for line in checked.stdout.splitlines()
    ), checked.stdout


def test_a_shallow_clone_cannot_measure_soak(repo: Path, tmp_path: Path) -> None:
    release_to_staging(repo, "1.30.0", hours_ago=30)
    shallow = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{repo}", str(shallow))
    assert git(shallow, "rev-parse", "--is-shallow-repository").strip() == "true"
    refused = promote_to_prod(shallow)
    assert refused.returncode == 1
    assert refused.stdout.startswith(f"{STAGING_DIR}: cannot measure the soak of staging: a shallow clone")
    assert "fetch-depth: 0" in refused.stdout
    checked = gitops(shallow, "validate")
    assert "gitops.yaml: soak: cannot be checked: a shallow clone" in checked.stdout


def test_no_deployed_branch_to_measure_on(repo: Path) -> None:
    release_to_staging(repo, "1.30.0", hours_ago=30)
    git(repo, "branch", "-q", "-m", "main", "master")
    refused = promote_to_prod(repo)
    assert refused.returncode == 1
    assert "cannot measure the soak of staging: no branch main in this clone" in refused.stdout


def test_environments_without_soak_are_not_held(repo: Path) -> None:
    """dev has no soak: a release committed a second ago moves on at once."""
    assert gitops(repo, "release", "--app", APP, "--tag", "1.30.0").returncode == 0
    commit_at(repo, "Release 1.30.0", hours_ago=0)
    assert gitops(repo, "promote", "--app", APP, "--from", "dev").returncode == 0


def test_the_remote_branch_counts_not_a_stale_or_unpushed_local_one(repo: Path, tmp_path: Path) -> None:
    """Argo CD reads the remote: a local main that is behind it, or holds commits never pushed,
    must not decide."""
    release_to_staging(repo, "1.30.0", hours_ago=30)
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(repo), str(clone))
    generated = git(clone, "rev-list", "--max-parents=0", "HEAD").strip()
    git(clone, "switch", "-q", "-c", "feature", "origin/main")
    git(clone, "branch", "-q", "-f", "main", generated)  # local main left behind
    assert promote_to_prod(clone, "--dry-run").returncode == 0
    # A newer release promoted to staging on the local main 30 hours ago, never pushed.
    git(clone, "switch", "-q", "main")
    git(clone, "reset", "-q", "--hard", "origin/main")
    release_to_staging(clone, "1.31.0", hours_ago=30)
    unpushed = promote_to_prod(clone, "--dry-run")
    assert unpushed.returncode == 1
    assert (
        "release 1.31.0 has not reached staging on origin/main (git fetch, if it is behind)"
        in unpushed.stdout
    )


def test_a_soak_set_later_does_not_judge_earlier_promotions(pristine: Path, tmp_path: Path) -> None:
    repo = copy_repo(pristine, tmp_path / "repo")
    (repo / "gitops.yaml").write_text((repo / "gitops.yaml").read_text().replace(SOAK_LINES, "soak: {}\n"))
    commit_at(repo, "No soak yet", hours_ago=200)
    release_to_staging(repo, "1.30.0", hours_ago=99)
    assert promote_to_prod(repo).returncode == 0
    commit_at(repo, "Promote 1.30.0 to prod an hour after staging", hours_ago=98)
    (repo / "gitops.yaml").write_text((repo / "gitops.yaml").read_text().replace("soak: {}\n", SOAK_LINES))
    # Validated as the change that sets it, and once it is on main.
    assert gitops(repo, "validate").returncode == 0
    commit_at(repo, "Soak in staging from now on", hours_ago=1)
    checked = gitops(repo, "validate")
    assert checked.returncode == 0, checked.stdout
    # The next promotion is held to it.
    release_to_staging(repo, "1.31.0", hours_ago=0.5)
    assert "of its soak of 24h" in promote_to_prod(repo).stdout


@pytest.mark.parametrize(
    ("setting", "reason"),
    [
        ("soak: 24h\n", "soak: must be a mapping of environment to duration"),
        ("soak:\n    stagin: 24h\n", "soak: 'stagin' is no environment (environments: dev, staging, prod)"),
        ("soak:\n    prod: 24h\n", "soak: 'prod' is the last environment, which releases never leave"),
        ("soak:\n    staging: 1d\n", "soak: staging: '1d' is not a duration"),
    ],
)
def test_a_soak_that_cannot_be_read_holds_releases_back(repo: Path, setting: str, reason: str) -> None:
    release_to_staging(repo, "1.30.0", hours_ago=100)
    (repo / "gitops.yaml").write_text((repo / "gitops.yaml").read_text().replace(SOAK_LINES, setting))
    refused = promote_to_prod(repo, "--dry-run")
    assert refused.returncode == 1
    assert refused.stdout.startswith(f"gitops.yaml: {reason}"), refused.stdout
    checked = gitops(repo, "validate")
    assert any(line.startswith(f"gitops.yaml: {reason}") for line in checked.stdout.splitlines()), (
        checked.stdout
    )


def test_a_repository_in_a_folder_of_a_larger_one(pristine: Path, tmp_path: Path) -> None:
    """History paths are read relative to the folder: a monorepo's gitops/ folder soaks the same."""
    outer = tmp_path / "outer"
    outer.mkdir()
    git(outer, "init", "-q", "-b", "main")
    repo = outer / "gitops"
    shutil.copytree(pristine, repo, ignore=shutil.ignore_patterns(".git"))
    commit_at(outer, "Generate", hours_ago=24 * 30)
    release_to_staging(repo, "1.30.0", hours_ago=30)
    passed = promote_to_prod(repo, "--dry-run")
    assert passed.returncode == 0, passed.stdout
    release_to_staging(repo, "1.31.0", hours_ago=2)
    assert "release 1.31.0 has run in staging for 2h0m of its soak of 24h" in promote_to_prod(repo).stdout
