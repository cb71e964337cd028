"""`tools/gitops release`: a new release enters the first environment, and only there.

Runs the generated repository's own tools/gitops (run_gitops) in copies of one rendered,
committed repository; the pure edits (which image entry, tag or digest, version label) are
tested on YAML text directly.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml
from gitopslib import releases, roundtrip
from gitopslib.image_refs import image_tag_problem, version_label
from gitopslib.release_command import set_reference, set_version_label

from tests.conftest import run_gitops
from tests.template_versions import (
    commit_all,
    committed_render,
    copy_repo,
    git,
    gitops_in_process,
    tree_state,
)
from tests.test_git_identity import assert_stopped_on_identity, no_identity_env

APP = "myapp"
DEV_DIR = "environments/dev/myapp/release"
DEV = f"{DEV_DIR}/kustomization.yaml"
PROVENANCE = f"{DEV_DIR}/provenance.yaml"
STAGING = "environments/staging/myapp/release/kustomization.yaml"
DIGEST = "sha256:" + "0123456789abcdef" * 4
OTHER_DIGEST = "sha256:" + "f" * 64

# A release as a team may have it: comments everywhere, a sidecar's image, and the version
# label the release component sets (kustomize `labels`, never in selectors).
RELEASE_WITH_LABELS = """\
apiVersion: kustomize.config.k8s.io/v1alpha1
kind: Component
# Release of myapp in dev: only tools/gitops edits it.
images:
  - name: "myapp-image"  # the app's own image
    newName: "nginxinc/nginx-unprivileged"
    newTag: "1.29.3-alpine"  # bumped by tools/gitops release
  - name: "proxy"  # the sidecar
    newName: "envoyproxy/envoy"
    newTag: "v1.31.0"
# The release's version on the app's objects (never in selectors).
labels:
  - pairs:
      app.kubernetes.io/version: "1.29.3-alpine"
      release-channel: "stable"
    includeSelectors: false
# end of release
"""


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return committed_render(tmp_path_factory.mktemp("release") / "repo")


@pytest.fixture
def repo(pristine: Path, tmp_path: Path) -> Path:
    return copy_repo(pristine, tmp_path / "repo")


def release(repo: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return run_gitops(repo, "release", "--app", APP, *args, env=env)


def status(repo: Path) -> str:
    return git(repo, "status", "--porcelain", "--untracked-files=all")


def image(repo: Path, name: str = "myapp-image") -> dict[str, str]:
    (entry,) = [i for i in yaml.safe_load((repo / DEV).read_text())["images"] if i["name"] == name]
    return dict(entry)


def with_release_file(repo: Path, text: str = RELEASE_WITH_LABELS) -> None:
    (repo / DEV).write_text(text)
    commit_all(repo, "A release with a sidecar and a version label")


# --- the command ---------------------------------------------------------------------------------


def test_release_changes_only_the_first_environment_and_keeps_comments(repo: Path) -> None:
    with_release_file(repo)
    before = tree_state(repo)
    result = release(repo, "--tag", "1.30.0")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[0] == "myapp: dev 1.29.3-alpine, v1.31.0 -> 1.30.0, v1.31.0 (released)"
    assert "+      - image: nginxinc/nginx-unprivileged:1.30.0" in result.stdout
    assert sorted(status(repo).splitlines()) == [f" M {DEV}", f"?? {PROVENANCE}"]
    after = tree_state(repo)
    assert {name for name in before.keys() | after.keys() if before.get(name) != after.get(name)} == {
        DEV,
        PROVENANCE,
    }
    # Only the values change: every comment and quote stays where it was.
    assert after[DEV].decode() == RELEASE_WITH_LABELS.replace(
        'newTag: "1.29.3-alpine"', 'newTag: "1.30.0"'
    ).replace('version: "1.29.3-alpine"', 'version: "1.30.0"')


def test_provenance_records_the_release_as_validate_and_update_read_it(repo: Path) -> None:
    assert release(repo, "--tag", "1.30.0").returncode == 0
    record = yaml.safe_load((repo / PROVENANCE).read_text())
    assert record["released_by"] == "tools/gitops release"
    assert record["image"] == "nginxinc/nginx-unprivileged" and record["tag"] == "1.30.0"
    assert record["on_commit"] == git(repo, "rev-parse", "HEAD").strip()
    assert record[releases.IDENTITY_FIELD] == releases.FOLDER_IDENTITY
    assert releases.recorded(record, releases.read_files(repo, DEV_DIR))


def test_digest_replaces_the_tag_and_back(repo: Path) -> None:
    with_release_file(repo)
    assert release(repo, "--digest", DIGEST).returncode == 0
    assert image(repo) == {"name": "myapp-image", "newName": "nginxinc/nginx-unprivileged", "digest": DIGEST}
    text = (repo / DEV).read_text()
    assert f'digest: "{DIGEST}"  # bumped by tools/gitops release' in text
    # A digest is no label value: the version pair goes, the team's other pair stays.
    assert yaml.safe_load(text)["labels"] == [
        {"pairs": {"release-channel": "stable"}, "includeSelectors": False}
    ]
    assert yaml.safe_load((repo / PROVENANCE).read_text())["digest"] == DIGEST
    commit_all(repo, "Release by digest")
    assert release(repo, "--digest", OTHER_DIGEST).returncode == 0
    assert image(repo)["digest"] == OTHER_DIGEST
    commit_all(repo, "Another digest")
    assert release(repo, "--tag", "1.31.0").returncode == 0
    assert image(repo) == {
        "name": "myapp-image",
        "newName": "nginxinc/nginx-unprivileged",
        "newTag": "1.31.0",
    }
    assert "# bumped by tools/gitops release" in (repo / DEV).read_text()
    assert image(repo, "proxy")["newTag"] == "v1.31.0"


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["--tag", "latest"], "--tag: 'latest' is refused: releases must be immutable tags or digests"),
        (["--tag", "LATEST"], "--tag: 'latest' is refused: releases must be immutable tags or digests"),
        (["--tag=-rc1"], "--tag: '-rc1' is not an image tag"),
        (["--tag", DIGEST], "is a digest: pass it with --digest"),
        (["--digest", "sha256:1234"], "--digest: 'sha256:1234' is not a digest"),
        (["--digest", "1.30.0"], "--digest: '1.30.0' is not a digest"),
        (["--tag", "1.30.0", "--digest", DIGEST], "not allowed with argument"),
        ([], "give the release with --tag TAG or --digest sha256:... (a chart: or --chart-version)"),
    ],
    ids=["latest", "LATEST", "bad-tag", "digest-as-tag", "short-digest", "tag-as-digest", "both", "none"],
)
def test_refused_release_is_a_usage_error_and_writes_nothing(repo: Path, args: list[str], line: str) -> None:
    before = tree_state(repo)
    result = release(repo, *args)
    assert result.returncode == 2, result.stdout + result.stderr
    (error,) = result.stderr.splitlines()
    assert line in error
    assert tree_state(repo) == before and status(repo) == ""


def test_tag_rule_is_the_image_tag_answers_rule() -> None:
    from extensions import answer_checks

    for tag in ("latest", "-rc1", "sha256:1234", "v" * 129, "1.30.0", DIGEST, 5, ""):
        assert answer_checks.image_tag_problem(tag) == image_tag_problem(tag, "image_tag")
        assert image_tag_problem(tag, "--tag") == image_tag_problem(tag).replace("image_tag", "--tag", 1)


def test_unknown_app_is_a_usage_error(repo: Path) -> None:
    result = run_gitops(repo, "release", "--app", "shop", "--tag", "1.30.0")
    assert result.returncode == 2
    assert result.stderr.strip() == "--app shop: no such app (myapp)"
    assert status(repo) == ""


@pytest.mark.parametrize("change", ["edited", "untracked"])
def test_uncommitted_changes_in_the_release_folder_are_refused(repo: Path, change: str) -> None:
    if change == "edited":
        (repo / DEV).write_text((repo / DEV).read_text() + "# my own note\n")
        name = "kustomization.yaml"
    else:
        (repo / DEV_DIR / "notes.yaml").write_text("a: b\n")
        name = "notes.yaml"
    before = tree_state(repo)
    result = release(repo, "--tag", "1.30.0")
    assert result.returncode == 1
    assert result.stdout.strip() == (
        f"{DEV_DIR}: uncommitted changes ({name}): commit or stash them first; release rewrites this release"
    )
    assert tree_state(repo) == before


def test_nothing_to_release_writes_nothing_and_creates_no_branch(repo: Path) -> None:
    head = git(repo, "rev-parse", "HEAD")
    result = release(repo, "--tag", "1.29.3-alpine", "--branch", "release/same")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines() == [
        "myapp: dev 1.29.3-alpine -> 1.29.3-alpine (unchanged)",
        "nothing to release: dev already runs this release; nothing written, no branch or commit created",
    ]
    assert status(repo) == "" and git(repo, "branch", "--list", "release/same") == ""
    assert git(repo, "rev-parse", "HEAD") == head


def test_branch_commits_the_release_on_a_new_branch(repo: Path) -> None:
    main = git(repo, "rev-parse", "main")
    result = release(repo, "--tag", "1.30.0", "--branch", "release/myapp-1.30.0")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[-1].endswith(
        "on branch release/myapp-1.30.0: push it and open a pull request"
    )
    assert git(repo, "symbolic-ref", "--short", "HEAD").strip() == "release/myapp-1.30.0"
    assert status(repo) == "" and git(repo, "rev-parse", "main") == main
    changed = git(repo, "diff", "--name-only", "main", "HEAD").split()
    assert changed == [DEV, PROVENANCE]
    assert git(repo, "log", "-1", "--format=%s").strip() == "Release myapp 1.30.0 to dev"


def test_branch_without_git_identity_stops_before_writing(repo: Path, tmp_path: Path) -> None:
    before = tree_state(repo)
    result = release(repo, "--tag", "1.30.0", "--branch", "release/x", env=no_identity_env(tmp_path))
    assert_stopped_on_identity(repo, result)
    assert tree_state(repo) == before and git(repo, "branch", "--list", "release/x") == ""


def test_branch_needs_a_clean_work_tree(repo: Path) -> None:
    (repo / "notes.txt").write_text("mine\n")
    result = release(repo, "--tag", "1.30.0", "--branch", "release/x")
    assert result.returncode == 2
    assert result.stderr.strip() == "--branch needs a clean git work tree: commit or stash first"
    assert status(repo) == "?? notes.txt\n"


def test_validate_passes_status_waits_and_promote_moves_it_on(repo: Path) -> None:
    assert release(repo, "--tag", "1.30.0").returncode == 0
    commit_all(repo, "Release 1.30.0 to dev")
    checked = gitops_in_process(repo, "validate", scan_secrets=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    shown = gitops_in_process(repo, "status", "--json")
    row = json.loads(shown.stdout)["apps"][APP]
    assert row["dev"] == {**row["dev"], "release": "1.30.0", "waiting": True}
    assert row["staging"]["release"] == "1.29.3-alpine"
    promoted = run_gitops(repo, "promote", "--app", APP, "--from", "dev")
    assert promoted.returncode == 0, promoted.stdout + promoted.stderr
    assert yaml.safe_load((repo / STAGING).read_text())["images"][0]["newTag"] == "1.30.0"
    commit_all(repo, "Promote 1.30.0 to staging")
    checked = gitops_in_process(repo, "validate", scan_secrets=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr


# --- which image entry: the app's own, or --image ------------------------------------------------


def test_image_picks_a_sidecars_entry(repo: Path) -> None:
    with_release_file(repo)
    result = release(repo, "--image", "proxy", "--tag", "v1.32.0")
    assert result.returncode == 0, result.stdout + result.stderr
    assert image(repo, "proxy")["newTag"] == "v1.32.0"
    assert image(repo)["newTag"] == "1.29.3-alpine"
    # The version label is the app's own image's tag, not a sidecar's.
    pairs = yaml.safe_load((repo / DEV).read_text())["labels"][0]["pairs"]
    assert pairs["app.kubernetes.io/version"] == "1.29.3-alpine"
    commit_all(repo, "New sidecar")
    assert release(repo, "--image", "myapp-image", "--tag", "1.30.0").returncode == 0
    pairs = yaml.safe_load((repo / DEV).read_text())["labels"][0]["pairs"]
    assert pairs["app.kubernetes.io/version"] == "1.30.0"


def test_unknown_image_name_is_a_usage_error(repo: Path) -> None:
    with_release_file(repo)
    result = release(repo, "--image", "db", "--tag", "1.0.0")
    assert result.returncode == 2
    assert result.stderr.strip() == f"--image db: no such name in images: of {DEV} (myapp-image, proxy)"
    assert status(repo) == ""


def test_ambiguous_images_are_refused_with_one_line(repo: Path) -> None:
    # Neither named as the base names the app's image nor its image answer's repository.
    web = RELEASE_WITH_LABELS.replace('"myapp-image"', '"web"').replace(
        "nginxinc/nginx-unprivileged", "example/web"
    )
    with_release_file(repo, web)
    result = release(repo, "--tag", "1.30.0")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"{DEV}: images: holds web, proxy and none of them is myapp's own image "
        "(nginxinc/nginx-unprivileged): pick one with --image NAME"
    )
    assert status(repo) == ""


# --- the edits themselves ------------------------------------------------------------------------


def edited(text: str, reference: str, entry: int = 0) -> str:
    document = roundtrip.load(text)
    set_reference(document["images"][entry], reference)
    set_version_label(document, reference)
    return roundtrip.dump(document)


def test_version_label_holds_only_valid_label_values() -> None:
    assert version_label("1.30.0") == "1.30.0"
    assert version_label(DIGEST) is None
    assert version_label("_build") is None  # a valid image tag, not a label value
    assert version_label("v" * 63) == "v" * 63
    assert version_label("v" * 64) is None


@pytest.mark.parametrize("reference", [DIGEST, "_build", "v" * 64])
def test_version_pair_goes_when_the_release_is_no_label_value(reference: str) -> None:
    labels = yaml.safe_load(edited(RELEASE_WITH_LABELS, reference))["labels"]
    assert labels == [{"pairs": {"release-channel": "stable"}, "includeSelectors": False}]


def test_a_labels_entry_of_the_version_alone_goes_with_its_comment() -> None:
    text = RELEASE_WITH_LABELS.replace('      release-channel: "stable"\n', "").replace(
        "# end of release\n", ""
    )
    result = edited(text, DIGEST)
    # As the template writes a release by digest: no labels, and no comment about them.
    kept = text.split("# The release's version")[0]
    assert result == kept.replace('newTag: "1.29.3-alpine"', f'digest: "{DIGEST}"')


def test_selector_labels_and_releases_without_the_pair_are_left_alone() -> None:
    in_selectors = RELEASE_WITH_LABELS.replace("includeSelectors: false", "includeSelectors: true")
    assert yaml.safe_load(edited(in_selectors, "1.30.0"))["labels"] == yaml.safe_load(in_selectors)["labels"]
    without = RELEASE_WITH_LABELS.replace('      app.kubernetes.io/version: "1.29.3-alpine"\n', "")
    assert yaml.safe_load(edited(without, "1.30.0"))["labels"] == yaml.safe_load(without)["labels"]


def test_a_tag_after_a_digest_brings_the_version_label_back() -> None:
    """A digest release removed the version's labels entry (it stood alone); the next tag release
    writes it as the template does, as does a release written before the label existed."""
    alone = RELEASE_WITH_LABELS.replace('      release-channel: "stable"\n', "")
    by_digest = edited(alone, DIGEST)
    assert "labels" not in yaml.safe_load(by_digest)
    labels = yaml.safe_load(edited(by_digest, "1.31.0"))["labels"]
    assert labels == [
        {
            "pairs": {"app.kubernetes.io/version": "1.31.0"},
            "includeSelectors": False,
            "includeTemplates": True,
        }
    ]
    assert 'version: "1.31.0"' in edited(by_digest, "1.31.0")
    assert "labels" not in yaml.safe_load(edited(by_digest, "_build")), "no label value: no entry"


def test_tags_are_written_quoted() -> None:
    # Unquoted, YAML (kustomize included) would read 1.10 as the number 1.1.
    result = edited(RELEASE_WITH_LABELS, "1.10")
    assert image_of(result)["newTag"] == "1.10"
    assert 'newTag: "1.10"' in result and 'version: "1.10"' in result


def image_of(text: str) -> dict[str, str]:
    return dict(yaml.safe_load(text)["images"][0])


def test_comment_lines_below_a_removed_pair_stay() -> None:
    text = RELEASE_WITH_LABELS.replace(
        '      app.kubernetes.io/version: "1.29.3-alpine"\n      release-channel: "stable"\n',
        '      release-channel: "stable"\n'
        '      app.kubernetes.io/version: "1.29.3-alpine"  # set by release\n'
        "    # selectors are immutable\n",
    )
    result = edited(text, DIGEST)
    assert "# set by release" not in result
    kept = '      release-channel: "stable"\n    # selectors are immutable\n    includeSelectors: false\n'
    assert kept in result


# --- a tag bumped alone (by hand, or by Renovate) leaves the version label behind ------------------


def test_validate_refuses_a_tag_bumped_without_its_version_label_until_release_sets_both(repo: Path) -> None:
    text = (repo / DEV).read_text()
    assert text.count('"1.29.3-alpine"') == 2  # newTag and app.kubernetes.io/version
    (repo / DEV).write_text(text.replace('newTag: "1.29.3-alpine"', 'newTag: "1.30.0"'))
    checked = gitops_in_process(repo, "validate", scan_secrets=False)
    assert checked.returncode == 1
    assert (
        f"{DEV}: labels: app.kubernetes.io/version is '1.29.3-alpine' but the release's image is 1.30.0: it "
        "should be '1.30.0'; `tools/gitops release --app myapp --tag 1.30.0` sets both"
    ) in checked.stdout.splitlines()
    commit_all(repo, "A bot's tag bump")
    assert release(repo, "--tag", "1.30.0").returncode == 0
    assert (
        yaml.safe_load((repo / DEV).read_text())["labels"][0]["pairs"]["app.kubernetes.io/version"]
        == "1.30.0"
    )
    checked = gitops_in_process(repo, "validate", scan_secrets=False)
    assert checked.returncode == 0, checked.stdout


def test_validate_refuses_a_version_label_beside_a_digest(repo: Path) -> None:
    text = (repo / DEV).read_text().replace('newTag: "1.29.3-alpine"', f'digest: "{DIGEST}"')
    (repo / DEV).write_text(text)
    checked = gitops_in_process(repo, "validate", scan_secrets=False)
    assert any(
        line.endswith(
            "it should be left out (no tag is a version); "
            f"`tools/gitops release --app myapp --digest {DIGEST}` sets both"
        )
        for line in checked.stdout.splitlines()
    ), checked.stdout
