"""ci_provider: gitlab writes .gitlab-ci.yml and .gitlab/CODEOWNERS (no .github/), none writes
no CI file, github no GitLab file; `tools/gitops validate` checks the CI files and CODEOWNERS of
the provider gitops.yaml names.

The pipeline passes GitLab's CI JSON Schema (check-jsonschema's copy, offline), and its validate
job runs for real under gitlab-ci-local, with the shell executor (no container engine here: the
job's image is not pulled, its script runs on this machine with this interpreter's tools)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from gitopslib.codeowners_checks import codeowners_problems
from gitopslib.gitlab_ci_checks import gitlab_ci_problems

from scripts import dev
from tests.answer_sets import ANSWER_SETS
from tests.conftest import render, run_gitops
from tests.template_versions import check_lines, commit_all, copy_repo, edit, git

CI_FILE = ".gitlab-ci.yml"
CHILD_PIPELINE = "validate-shards.gitlab-ci.yml"
CODEOWNERS = ".gitlab/CODEOWNERS"
TEAM = "@example-org/platform"
REVIEW = "without the platform team's review"
GITLAB_SETS = sorted(name for name, answers in ANSWER_SETS.items() if answers.get("ci_provider") == "gitlab")
README_SECTION = "GitLab CI/CD"
BASH = ["bash", "--noprofile", "--norc", "-eo", "pipefail"]


@pytest.fixture(scope="module")
def gitlab_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """four-envs-registry: GitLab, environments dev, qa, staging, prod-eu (prod-eu protected)."""
    return render(tmp_path_factory.mktemp("gitlab") / "repo", ANSWER_SETS["four-envs-registry"])


@pytest.fixture
def repo(gitlab_repo: Path, tmp_path: Path) -> Path:
    return copy_repo(gitlab_repo, tmp_path / "repo")


def pipeline(repo: Path) -> dict[str, Any]:
    parsed: dict[str, Any] = yaml.safe_load((repo / CI_FILE).read_text())
    return parsed


def check_jsonschema(*files: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.gitlab-ci", *map(str, files)],
        capture_output=True,
        text=True,
    )


# ---------------------------------------------------------------------------------------------
# What each provider renders.
# ---------------------------------------------------------------------------------------------
def ci_files(repo: Path) -> set[str]:
    names = {".github", ".gitlab", CI_FILE, "CODEOWNERS", "docs"}
    return {name for name in names if (repo / name).exists()}


# What a README written for one provider must never tell its reader to use.
OTHER_PROVIDERS_WORDS = {
    "github": ["## GitLab CI/CD", ".gitlab-ci.yml", "GITOPS_TOKEN"],
    "gitlab": ["Actions >", ".github/", "GITHUB_TOKEN"],
    "none": ["Actions >", ".github/", "## GitLab CI/CD", ".gitlab-ci.yml"],
}


def assert_readme_speaks_of(repo: Path, provider: str) -> None:
    readme = (repo / "README.md").read_text()
    for words in OTHER_PROVIDERS_WORDS[provider]:
        assert words not in readme, f"{provider}'s README mentions {words!r}"


def test_gitlab_renders_the_pipeline_and_codeowners_only(gitlab_repo: Path) -> None:
    assert ci_files(gitlab_repo) == {".gitlab", CI_FILE}
    assert sorted(p.name for p in (gitlab_repo / ".gitlab").iterdir()) == ["CODEOWNERS"]
    assert 'ci_provider: "gitlab"' in (gitlab_repo / "gitops.yaml").read_text()
    readme = (gitlab_repo / "README.md").read_text()
    assert f"\n## {README_SECTION}\n" in readme and "### Template updates on a schedule" in readme
    assert_readme_speaks_of(gitlab_repo, "gitlab")


def test_github_renders_no_gitlab_file(tmp_path: Path) -> None:
    repo = render(tmp_path / "repo", {})
    assert ci_files(repo) == {".github"}
    assert "### Pull requests opened by workflows" in (repo / "README.md").read_text()
    assert_readme_speaks_of(repo, "github")


def test_none_renders_no_ci_file_and_validates(tmp_path: Path) -> None:
    """all-off chooses none: no CODEOWNERS is asked for, no CI file checked."""
    repo = render(tmp_path / "repo", ANSWER_SETS["all-off"])
    assert ci_files(repo) == set()
    assert "No CI files were generated" in (repo / "README.md").read_text()
    assert_readme_speaks_of(repo, "none")
    result = run_gitops(repo, "validate")
    assert result.returncode == 0 and result.stdout == "", result.stdout + result.stderr


# ---------------------------------------------------------------------------------------------
# GitLab's CI JSON Schema, and what the jobs do.
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("answer_set", GITLAB_SETS)
def test_pipeline_matches_gitlabs_schema(answer_set: str, tmp_path: Path) -> None:
    repo = render(tmp_path / "repo", ANSWER_SETS[answer_set])
    result = check_jsonschema(repo / CI_FILE)
    assert result.returncode == 0, result.stdout + result.stderr
    # The schema is applied: an unknown `when` in the same file is refused.
    broken = tmp_path / "broken" / CI_FILE
    broken.parent.mkdir()
    broken.write_text((repo / CI_FILE).read_text().replace("when: manual", "when: sometimes", 1))
    assert check_jsonschema(broken).returncode == 1


@pytest.mark.parametrize("image", ["python:3.12-bookworm", ""])
def test_the_child_pipelines_match_gitlabs_schema(gitlab_repo: Path, tmp_path: Path, image: str) -> None:
    """What `shards pipeline` writes, whole and in 1 to 4 shards (4 overlays), with and without an image."""
    written = []
    for per_shard in (4, 2, 1, 3):
        result = run_gitops(
            gitlab_repo, "shards", "pipeline", "--image", image, "--overlays-per-shard", str(per_shard)
        )
        assert result.returncode == 0, result.stdout + result.stderr
        written.append(tmp_path / f"{per_shard}.yml")
        written[-1].write_text(result.stdout)
        config = yaml.safe_load(result.stdout)
        shards = -(-4 // per_shard)
        assert config.get("shard", {}).get("parallel", 1) == shards
        assert config["variables"]["GIT_DEPTH"] == "0"
        assert config["default"].get("image") == (image or None)
        # Each job runs in the child pipeline of a merge request pipeline too (jobs without rules would not).
        for name in ("validate", "shard") if shards > 1 else ("validate",):
            assert config[name]["rules"] == [{"if": '$CI_PIPELINE_SOURCE == "parent_pipeline"'}], name
    result = check_jsonschema(*written)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("image", ["python:3.12 ", "a\nb"])
def test_a_bad_image_is_a_usage_error(gitlab_repo: Path, image: str) -> None:
    result = run_gitops(gitlab_repo, "shards", "pipeline", "--image", image)
    assert result.returncode == 2 and result.stdout == "", result.stdout + result.stderr
    assert result.stderr.count("\n") == 1 and "not an image name" in result.stderr, result.stderr


def test_gitlab_sets_exist() -> None:
    assert GITLAB_SETS, "no answer set chooses ci_provider gitlab: the schema test checks nothing"


def scripts(job: dict[str, Any]) -> str:
    lines: list[str] = []
    for key in ("before_script", "script"):
        value = job.get(key, [])
        for item in value if isinstance(value, list) else [value]:
            lines += item if isinstance(item, list) else [item]
    return "\n".join(lines)


def test_jobs_run_the_repository_tools_on_the_whole_history(gitlab_repo: Path) -> None:
    config = pipeline(gitlab_repo)
    assert config["variables"]["GIT_DEPTH"] == "0"
    assert config["default"]["image"] == "python:3.12-bookworm"  # pinned by tag, with git
    # validate runs the pipeline the shards job writes for the repository as it is, and takes its result.
    shards, validate, diff = config["shards"], config["validate"], config["rendered-diff"]
    assert 'python tools/gitops shards pipeline --image "$CI_JOB_IMAGE"' in scripts(shards)
    assert validate["trigger"] == {
        "include": [{"artifact": "validate-shards.gitlab-ci.yml", "job": "shards"}],
        "strategy": "depend",
    }
    assert shards["artifacts"]["paths"] == ["validate-shards.gitlab-ci.yml"]
    assert 'tools/gitops diff --base "$CI_MERGE_REQUEST_DIFF_BASE_SHA" --markdown' in scripts(diff)
    assert diff["artifacts"]["expose_as"] == "Rendered diff"
    for job in (shards, validate, diff):
        assert {"if": '$CI_PIPELINE_SOURCE == "merge_request_event"'} in job["rules"]
    assert "kubeconform -strict" in scripts(config["kubeconform"])
    for job, command in (("release", "release"), ("promote", "promote"), ("template-update", "update")):
        assert f"python tools/gitops {command}" in scripts(config[job]), job
        assert "merge_request.create" in scripts(config[job]), job
        # Checked first: a job that cannot open its merge request fails before it does any work.
        assert "GITOPS_TOKEN is not set" in config[job]["before_script"][0], job
    assert any("schedule" in rule.get("if", "") for rule in config["template-update"]["rules"])
    assert "python tools/gitops validate" in scripts(config["template-update"])


def test_the_token_never_reaches_a_command_line_or_git_config(gitlab_repo: Path) -> None:
    text = (gitlab_repo / CI_FILE).read_text()
    uses = [line.strip() for line in text.splitlines() if "GITOPS_TOKEN" in line and "$" in line]
    assert uses == [
        'if [ -z "${GITOPS_TOKEN:-}" ]; then',
        'auth="$(printf \'gitops-bot:%s\' "$GITOPS_TOKEN" | base64 -w0)"',
    ], uses
    assert "git config http" not in text and "git remote" not in text and "@$CI_SERVER" not in text


def run_script(script: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*BASH, "-c", script],
        cwd=cwd,
        env={"PATH": os.environ["PATH"], "HOME": str(cwd), **env},
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_without_the_token_a_job_fails_with_one_clear_line(gitlab_repo: Path, tmp_path: Path) -> None:
    check = pipeline(gitlab_repo)["release"]["before_script"][0]
    for unset in ({}, {"GITOPS_TOKEN": ""}):
        result = run_script(check, tmp_path, **unset)
        assert result.returncode == 1, result.stderr
        (line,) = result.stdout.splitlines()
        assert "GITOPS_TOKEN" in line and f'"{README_SECTION}"' in line and "api" in line, line
    assert run_script(check, tmp_path, GITOPS_TOKEN="glpat-x").returncode == 0


@pytest.mark.parametrize(
    "given",
    [
        {"APP": "shop", "TAG": "v1", "DIGEST": "sha256:" + "ab" * 32},
        {"APP": "shop", "TAG": "", "DIGEST": ""},
        {"APP": "", "TAG": "v1", "DIGEST": ""},
        {"APP": "../main", "TAG": "v1", "DIGEST": ""},
    ],
    ids=["tag-and-digest", "neither", "no-app", "path"],
)
def test_release_refuses_bad_variables_before_running_anything(
    gitlab_repo: Path, tmp_path: Path, given: dict[str, str]
) -> None:
    """The release job's script, with a `python` that records being called."""
    script = pipeline(gitlab_repo)["release"]["script"][0]
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "calls"
    (bin_dir / "python").write_text(f'#!/bin/sh\necho "$*" >> "{calls}"\n')
    (bin_dir / "python").chmod(0o755)
    result = subprocess.run(
        [*BASH, "-c", script],
        cwd=tmp_path,
        env={"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "CI_PIPELINE_ID": "7", **given},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2 and not calls.exists(), result.stdout + result.stderr
    assert len(result.stdout.splitlines()) == 1, result.stdout


# ---------------------------------------------------------------------------------------------
# The validate job, for real, under gitlab-ci-local.
# ---------------------------------------------------------------------------------------------
def gitlab_ci_local() -> list[str]:
    node, script = dev.node_path(), dev.npm_tool_script("gitlab-ci-local", "dist/index.js")
    if not node.is_file() or not script.is_file():
        pytest.fail(f"gitlab-ci-local not found at {script}: `python3 scripts/dev.py test` installs it")
    # gitlab-ci-local copies the repository into its build folder with rsync.
    if shutil.which("rsync") is None:
        pytest.fail("rsync not found: gitlab-ci-local needs it (apt-get install rsync)")
    return [str(node), str(script)]


def run_pipeline(
    repo: Path, base: str, *args: str, source: str = "merge_request_event"
) -> subprocess.CompletedProcess[str]:
    """gitlab-ci-local in a merge request pipeline whose target branch is at `base` (`source`
    parent_pipeline: the child pipeline that pipeline's validate job triggers)."""
    home = repo.parent / "home"
    home.mkdir(exist_ok=True)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run(
        [
            *gitlab_ci_local(),
            *args,
            *("--force-shell-executor", "--shell-isolation", "--no-color", "--home", str(home)),
            *("--variable", f"CI_PIPELINE_SOURCE={source}"),
            *("--ignore-predefined-vars", "CI_PIPELINE_SOURCE"),
            *("--variable", f"CI_MERGE_REQUEST_DIFF_BASE_SHA={base}"),
            # The jobs' `pip install -r tools/requirements.txt` finds every pin installed already
            # (this interpreter's, first on PATH): it must not download or change anything.
            *("--variable", "PIP_NO_INDEX=1"),
        ],
        cwd=repo,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    if result.returncode != 0:
        # Twice, in whole-suite runs under a profiler only (perf, py-spy), the jobs' pip found no
        # PyYAML 6.0.4 installed: which `python` the jobs' shell finds, for the next time.
        probe = "command -v python; python -c 'import sys, yaml; print(sys.executable, yaml.__version__)'"
        seen = subprocess.run([*BASH, "-c", probe], cwd=repo, capture_output=True, text=True, env=env)
        result.stderr += f"\n(the jobs' python: {' '.join((seen.stdout + seen.stderr).split())})\n"
    return result


def merge_request_repo(pristine: Path, destination: Path) -> tuple[Path, str]:
    """A committed copy with a GitLab remote, and a merge request branch that releases 1.30.0 to
    dev: the repository and the target branch's commit."""
    repo = copy_repo(pristine, destination)
    git(repo, "init", "-q", "-b", "main")
    commit_all(repo, "Generate GitOps repository")
    base = git(repo, "rev-parse", "HEAD").strip()
    git(repo, "remote", "add", "origin", "https://gitlab.example.com/platform/gitops.git")
    git(repo, "update-ref", "refs/remotes/origin/main", base)
    git(repo, "symbolic-ref", "refs/remotes/origin/HEAD", "refs/remotes/origin/main")
    git(repo, "switch", "-q", "-c", "release/dev")
    released = run_gitops(repo, "release", "--app", "myapp", "--tag", "1.30.0")
    assert released.returncode == 0, released.stdout + released.stderr
    commit_all(repo, "Release 1.30.0 to dev")
    return repo, base


def child_pipeline(repo: Path, base: str) -> str:
    """The shards job, for real: the child pipeline it wrote (an artifact), as a path under the
    repository for gitlab-ci-local's --file (it does not run trigger jobs itself)."""
    planned = run_pipeline(repo, base, "shards")
    output = planned.stdout + planned.stderr
    assert planned.returncode == 0 and "PASS  shards" in output, output
    child = repo / ".gitlab-ci-local" / "artifacts" / "shards" / CHILD_PIPELINE
    assert child.is_file(), output
    return child.relative_to(repo).as_posix()


def sharded_child_pipeline(repo: Path, shards: int) -> str:
    """What the shards job writes for a repository `shards` times larger (same command, a
    smaller share per shard), where gitlab-ci-local keeps its files."""
    overlays = len(list(repo.glob("environments/*/*/kustomization.yaml")))
    result = run_gitops(
        repo,
        "shards",
        "pipeline",
        "--image",
        "python:3.12-bookworm",
        "--overlays-per-shard",
        str(overlays // shards),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    child = repo / ".gitlab-ci-local" / CHILD_PIPELINE
    child.parent.mkdir(exist_ok=True)
    child.write_text(result.stdout)
    assert yaml.safe_load(result.stdout)["shard"]["parallel"] == shards
    return child.relative_to(repo).as_posix()


def test_validate_job_runs_for_real(gitlab_repo: Path, tmp_path: Path) -> None:
    repo, base = merge_request_repo(gitlab_repo, tmp_path / "repo")
    child = child_pipeline(repo, base)
    assert list(yaml.safe_load((repo / child).read_text())) == [
        "workflow", "variables", "default", "stages", "validate"
    ]  # fmt: skip
    result = run_pipeline(repo, base, "--file", child, source="parent_pipeline")
    output = result.stdout + result.stderr
    assert result.returncode == 0 and "PASS  validate" in output, output
    assert "4 overlays built" in output, output
    result = run_pipeline(repo, base, "rendered-diff")
    output = result.stdout + result.stderr
    assert result.returncode == 0 and "PASS  rendered-diff" in output, output
    diff = (repo / ".gitlab-ci-local" / "artifacts" / "rendered-diff" / "rendered-diff.md").read_text()
    assert f"## Rendered changes since `{base}`" in diff and "### dev" in diff, diff
    assert "+      - image: reg.example.com:5000/team/app:1.30.0" in diff, diff
    assert "### qa" not in diff, diff


def test_sharded_validate_runs_for_real(gitlab_repo: Path, tmp_path: Path) -> None:
    """Two shards side by side (`parallel: 2`), then the job that merges their reports."""
    repo, base = merge_request_repo(gitlab_repo, tmp_path / "repo")
    result = run_pipeline(repo, base, "--file", sharded_child_pipeline(repo, 2), source="parent_pipeline")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert output.count("2 overlays built") == 2, output
    assert "2 shard reports merged, 4 overlays, 0 problems" in output, output
    assert "PASS  validate" in output, output


@pytest.mark.parametrize("shards", [1, 2])
def test_validate_job_fails_on_a_problem(gitlab_repo: Path, tmp_path: Path, shards: int) -> None:
    """The pipelines above can fail: a merge request that gives prod-eu to someone else fails
    them (in shard 1, which runs the checks that need no build, when sharded)."""
    repo, base = merge_request_repo(gitlab_repo, tmp_path / "repo")
    (repo / CODEOWNERS).write_text((repo / CODEOWNERS).read_text() + "/environments/prod-eu/ @mallory\n")
    commit_all(repo, "Give prod-eu away")
    child = child_pipeline(repo, base) if shards == 1 else sharded_child_pipeline(repo, shards)
    result = run_pipeline(repo, base, "--file", child, source="parent_pipeline")
    output = result.stdout + result.stderr
    failed = "FAIL  validate" if shards == 1 else "FAIL  shard"
    assert result.returncode != 0 and failed in output, output
    assert f"{CODEOWNERS}: environments/prod-eu/ is owned by @mallory, not {TEAM}" in output, output


# ---------------------------------------------------------------------------------------------
# validate's checks of .gitlab/CODEOWNERS, as GitLab reads it.
# ---------------------------------------------------------------------------------------------
def codeowners_lines(repo: Path) -> list[str]:
    return check_lines(repo, codeowners_problems)


def append(repo: Path, text: str) -> int:
    path = repo / CODEOWNERS
    before = path.read_text()
    path.write_text(before + text)
    return before.count("\n") + 1


def test_dropping_a_protected_environment_fails_validate(repo: Path) -> None:
    """The real tools/gitops validate: exit 1, one line."""
    edit(repo, CODEOWNERS, f"/environments/prod-eu/ {TEAM}\n", "")
    result = run_gitops(repo, "validate")
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stdout.splitlines() == [
        f"{CODEOWNERS}: environments/prod-eu/ is owned by nobody, not {TEAM} (no line matches it): "
        f"changes there could release to the protected environment prod-eu {REVIEW}"
    ]


@pytest.mark.parametrize(
    ("line", "shown"),
    [
        # GitLab: the pipeline, and a CODEOWNERS it would read before this one.
        (f"/{CI_FILE} @mallory", f"{CI_FILE} is owned by @mallory"),
        ("/CODEOWNERS @mallory", "CODEOWNERS is owned by @mallory"),
        # An optional section's approval is not required: the line below the header is in it.
        (f"^[Optional] {TEAM}\n/argocd/", "argocd/ is owned by @mallory"),
    ],
    ids=["pipeline", "root-codeowners", "optional-section"],
)
def test_gitlab_holes_are_named(repo: Path, line: str, shown: str) -> None:
    if line.startswith("^"):
        append(repo, "/argocd/ @mallory\n")
    append(repo, line + "\n")
    found = codeowners_lines(repo)
    assert any(entry.startswith(f"{CODEOWNERS}: {shown}") for entry in found), found


def test_an_exclusion_anywhere_in_a_section_takes_its_paths_out(repo: Path) -> None:
    """GitLab: a `!` line takes the paths it matches out of its section's approval, wherever it
    stands; before the platform team's line too."""
    path = repo / CODEOWNERS
    path.write_text("!/environments/prod-eu/release/\n" + path.read_text())
    assert codeowners_lines(repo) == [
        f"{CODEOWNERS}: environments/prod-eu/release/ is owned by nobody, not {TEAM} (line 1, which takes "
        f"it out of code owner approval): changes there could release to the protected environment "
        f"prod-eu {REVIEW}"
    ]


def test_a_later_section_adds_approvals_and_takes_none(repo: Path) -> None:
    """Every required section that matches needs its own approval: a later section naming app
    teams leaves the platform team's approval required (on GitHub the last line would win)."""
    append(repo, "[Apps] @example-org/apps\n/environments/\n/argocd/apps/ @mallory\n")
    assert codeowners_lines(repo) == []
    # A directory without a trailing `/` is that file alone on GitLab: argocd/ loses its owner.
    edit(repo, CODEOWNERS, f"/argocd/ {TEAM}\n", f"/argocd {TEAM}\n")
    found = codeowners_lines(repo)
    assert any(entry.startswith(f"{CODEOWNERS}: argocd/ is owned by nobody") for entry in found), found


def test_lines_gitlab_cannot_read_are_named(repo: Path) -> None:
    """An owner without @ is no owner: GitLab keeps the line (here the one giving tools/ to the
    platform team), and it leaves tools/ to nobody; a broken section header is skipped, which
    leaves the lines below it in the section above."""
    edit(repo, CODEOWNERS, f"/tools/ {TEAM}\n", f"/tools/ {TEAM.removeprefix('@')}\n")
    tools = (repo / CODEOWNERS).read_text().split("\n").index(f"/tools/ {TEAM.removeprefix('@')}") + 1
    line = append(repo, "[Apps @example-org/apps\n")
    found = codeowners_lines(repo)
    assert (
        f"{CODEOWNERS}: tools/ is owned by nobody, not {TEAM} (line {tools}, in which GitLab reads no "
        f"owner): changes there could weaken the checks tools/gitops runs in CI {REVIEW}" in found
    ), found
    assert f"{CODEOWNERS}: line {line} ([Apps @example-org/apps): not a section header it reads" in "\n".join(
        found
    ), found


def test_nested_group_is_a_platform_team(repo: Path) -> None:
    nested = "@example-org/infra/platform"
    for path in (repo / CODEOWNERS, repo / "gitops.yaml"):
        path.write_text(path.read_text().replace(TEAM, nested))
    assert codeowners_lines(repo) == []
    append(repo, "/tools/ @example-org/infra\n")
    assert codeowners_lines(repo) != []


@pytest.mark.parametrize(
    ("text", "gap"),
    [
        # GitLab's lines before any header are the section `codeowners`: a header of that name
        # (exactly that spelling as the first header) continues it, and its line replaces the
        # platform team's /argocd/ line there.
        ("[codeowners]\n/argocd/ @mallory\n", True),
        # After another header, the name is matched case-insensitively: the same section again.
        ("[Docs] @example-org/docs\n/docs/\n[CODEOWNERS]\n/argocd/ @mallory\n", True),
        # As the first header, any other spelling is a section of its own, required besides it.
        ("[CODEOWNERS]\n/argocd/ @mallory\n", False),
    ],
    ids=["codeowners", "case-insensitive-later", "other-spelling-first"],
)
def test_a_codeowners_header_is_the_section_before_any_header(repo: Path, text: str, gap: bool) -> None:
    line = append(repo, text) + text.count("\n") - 1
    found = codeowners_lines(repo)
    expected = [
        f"{CODEOWNERS}: argocd/ is owned by @mallory, not {TEAM} (line {line}): changes there could widen "
        f"Argo CD access {REVIEW}"
    ]
    assert found == (expected if gap else []), found


def test_a_repeated_pattern_keeps_its_first_place(repo: Path) -> None:
    """GitLab keeps a section's lines by pattern: repeating /argocd/ below /argocd/apps/ gives it
    the platform team again where it first stood, above /argocd/apps/, which still decides there."""
    line = append(repo, f"/argocd/apps/ @mallory\n/argocd/ {TEAM}\n")
    assert codeowners_lines(repo) == [
        f"{CODEOWNERS}: argocd/apps/ is owned by @mallory, not {TEAM} (line {line}): changes there could "
        f"widen Argo CD access {REVIEW}"
    ]
    # And a pattern repeated after its `!` line makes it a plain line again: nothing is taken out.
    edit(repo, CODEOWNERS, "/argocd/apps/ @mallory\n", f"!/tools/\n/tools/ {TEAM}\n")
    assert codeowners_lines(repo) == []


def test_owners_after_a_hash_are_owners_on_gitlab(repo: Path) -> None:
    """GitLab skips only lines that start with `#`; it reads every owner in the rest of a line."""
    edit(repo, CODEOWNERS, f"/argocd/ {TEAM}\n", f"/argocd/ {TEAM} # or @mallory\n")
    found = codeowners_lines(repo)
    assert any(
        entry.startswith(f"{CODEOWNERS}: argocd/ is owned by {TEAM} @mallory, not {TEAM} alone")
        for entry in found
    ), found
    # A comment naming no owner takes none, and `\\#` starts a pattern.
    edit(repo, CODEOWNERS, f"/argocd/ {TEAM} # or @mallory\n", f"/argocd/ {TEAM} # the platform team\n")
    assert codeowners_lines(repo) == []
    line = append(repo, "\\#argocd/ @mallory\n")
    found = codeowners_lines(repo)
    assert found and all(f"#argocd/ is owned by @mallory, not {TEAM} (line {line}, " in f for f in found), (
        found
    )


def test_missing_gitlab_codeowners_is_one_problem(repo: Path) -> None:
    (repo / CODEOWNERS).unlink()
    assert codeowners_lines(repo) == [
        f"{CODEOWNERS}: missing, and so are CODEOWNERS and docs/CODEOWNERS: no change to argocd/, "
        f".gitlab/, {CI_FILE}, tools/, gitops.yaml, platform/ or a protected environment needs the "
        f"platform team's review"
    ]


# ---------------------------------------------------------------------------------------------
# validate's checks of .gitlab-ci.yml and of ci_provider.
# ---------------------------------------------------------------------------------------------
def test_pipeline_must_run_validate_on_the_whole_history(repo: Path) -> None:
    assert check_lines(repo, gitlab_ci_problems) == []
    edit(repo, CI_FILE, 'GIT_DEPTH: "0"', 'GIT_DEPTH: "20"')
    found = check_lines(repo, gitlab_ci_problems)
    assert f"{CI_FILE}: job rendered-diff runs tools/gitops diff on a clone of GIT_DEPTH 20" in "\n".join(
        found
    )
    assert len(found) == 5, found  # shards, rendered-diff, release, promote, template-update
    # The trigger job runs only the pipeline `shards pipeline` writes; template-update still runs
    # validate, but never on a merge request.
    edit(repo, CI_FILE, "tools/gitops shards pipeline", "tools/gitops shards plan")
    (line,) = check_lines(repo, gitlab_ci_problems)
    assert line.startswith(f"{CI_FILE}: no job runs tools/gitops validate on merge requests"), line
    (repo / CI_FILE).unlink()
    (line,) = check_lines(repo, gitlab_ci_problems)
    assert line.startswith(f"{CI_FILE}: missing"), line


VALIDATE_RULE = 'interruptible: true\n  rules:\n    - if: $CI_PIPELINE_SOURCE == "merge_request_event"\n'
VALIDATE_RULES = VALIDATE_RULE + '    - if: $CI_PIPELINE_SOURCE == "push" || $CI_PIPELINE_SOURCE == "web"\n'
WORKFLOW_RULE = 'workflow:\n  rules:\n    - if: $CI_PIPELINE_SOURCE == "merge_request_event"\n'
TRIGGER_RULE = 'needs: [shards]\n  rules:\n    - if: $CI_PIPELINE_SOURCE == "merge_request_event"\n'


@pytest.mark.parametrize(
    ("old", "new"),
    [
        # A hidden job is a template for others, never run.
        ("\nvalidate:\n", "\n.validate:\n"),
        (VALIDATE_RULE, VALIDATE_RULE.replace("==", "!=")),
        (VALIDATE_RULE, VALIDATE_RULE + "      when: manual\n      allow_failure: true\n"),
        (VALIDATE_RULE, VALIDATE_RULE + "      when: never\n"),
        (VALIDATE_RULE, VALIDATE_RULE + "      allow_failure: true\n"),
        (VALIDATE_RULE, VALIDATE_RULE + "      changes: [argocd/**/*]\n"),
        ("interruptible: true\n", "interruptible: true\n  allow_failure: true\n"),
        ("interruptible: true\n", "interruptible: true\n  allow_failure:\n    exit_codes: [1]\n"),
        ("interruptible: true\n", "interruptible: true\n  when: manual\n"),
        # A rule before it that may match merge requests decides first.
        (VALIDATE_RULE, VALIDATE_RULE.replace("rules:\n", "rules:\n    - if: $SKIP\n      when: never\n")),
        # The rules, or the job's settings, from the hidden job it extends.
        ("\nvalidate:\n", "\n.quiet:\n  allow_failure: true\n\nvalidate:\n  extends: .quiet\n"),
        # No merge request pipeline is created at all.
        (WORKFLOW_RULE, WORKFLOW_RULE + "      when: never\n"),
        (WORKFLOW_RULE, WORKFLOW_RULE.replace("==", "!=")),
        # Jobs without rules or `only` run in branch and tag pipelines, not merge request ones.
        (VALIDATE_RULES, "interruptible: true\n"),
        # The trigger job: the pipeline's writer and the trigger itself must both run, and the
        # trigger must take the child pipeline's result.
        (TRIGGER_RULE, TRIGGER_RULE.replace("==", "!=")),
        ("    strategy: depend\n", ""),
        # A trigger of another pipeline (here an artifact of a job that writes no validate pipeline).
        ("        job: shards\n", "        job: kubeconform\n"),
    ],
    ids=[
        "hidden-job", "not-equal", "manual", "never", "rule-allow-failure", "rule-changes",
        "job-allow-failure", "allow-exit-code-1", "job-manual", "earlier-never", "extends",
        "workflow-never", "workflow-not-equal", "no-rules", "trigger-not-equal",
        "no-depend", "other-artifact",
    ],
)  # fmt: skip
def test_validate_must_run_and_gate_every_merge_request(
    repo: Path, old: str, new: str, request: pytest.FixtureRequest
) -> None:
    edit(repo, CI_FILE, old, new)
    (line,) = check_lines(repo, gitlab_ci_problems)
    assert line.startswith(f"{CI_FILE}: no job runs tools/gitops validate on merge requests"), line
    why = {
        "not-equal": f"job validate: {WRITER}no rule that matches",
        "manual": "has when: manual",
        "never": "has when: never",
        "rule-allow-failure": "has allow_failure",
        "job-allow-failure": f"job validate: {WRITER}allow_failure",
        "allow-exit-code-1": f"job validate: {WRITER}allow_failure",
        "job-manual": f"job validate: {WRITER}when: manual",
        "earlier-never": "its rule `if: $SKIP` may match",
        "extends": "job validate: allow_failure",
        "workflow-never": "workflow: rules: its rule",
        "workflow-not-equal": "workflow: rules: no rule",
        "no-rules": f"job validate: {WRITER}no rules",
        "trigger-not-equal": "job validate: no rule that matches",
        "no-depend": "job validate: it triggers the validate pipeline without `strategy: depend`",
    }.get(request.node.callspec.id, "")
    assert why in line, line


# The job that writes the pipeline validate triggers: the first of the file with these rules.
WRITER = "job shards, which writes the pipeline it triggers: "


@pytest.mark.parametrize(
    "condition",
    [
        "\"'merge_request_event' == $CI_PIPELINE_SOURCE\"",
        "$CI_PIPELINE_SOURCE =~ /^merge_request_event$/",
        "$CI_MERGE_REQUEST_IID",
        '$CI_PIPELINE_SOURCE == "push" || $CI_PIPELINE_SOURCE == "merge_request_event"',
    ],
)
def test_other_spellings_of_the_merge_request_rule_are_read(repo: Path, condition: str) -> None:
    edit(
        repo,
        CI_FILE,
        VALIDATE_RULE,
        VALIDATE_RULE.replace('$CI_PIPELINE_SOURCE == "merge_request_event"', condition),
    )
    assert check_lines(repo, gitlab_ci_problems) == []


def test_an_include_merges_into_the_job(repo: Path) -> None:
    """GitLab merges an included file's job with the file's own: its keys are added."""
    (repo / "ci.yml").write_text("validate:\n  allow_failure: true\n")
    (repo / CI_FILE).write_text((repo / CI_FILE).read_text() + "\ninclude:\n  - local: ci.yml\n")
    (line,) = check_lines(repo, gitlab_ci_problems)
    assert line.startswith(f"{CI_FILE}: no job runs tools/gitops validate on merge requests"), line


def test_gitlab_tags_and_local_includes_are_read(repo: Path) -> None:
    """`!reference` is GitLab's own YAML tag; a job in a local include counts."""
    text = (repo / CI_FILE).read_text()
    start = text.index("\nvalidate:\n")
    end = text.index("\nkubeconform:\n")
    (repo / "ci").mkdir()
    (repo / "ci" / "validate.yml").write_text(text[start:end])
    (repo / CI_FILE).write_text(
        text[:start] + "\ninclude:\n  - local: /ci/validate.yml\n" + text[end:]
        + "\nlint:\n  script:\n    - !reference [.merge-request-token]\n"
    )  # fmt: skip
    assert check_lines(repo, gitlab_ci_problems) == []
    (repo / "ci" / "validate.yml").write_text("{}\n")
    assert check_lines(repo, gitlab_ci_problems) != []


def test_gitops_yaml_without_ci_provider_is_github(tmp_path: Path) -> None:
    """Repositories generated before the setting existed keep their GitHub checks."""
    repo = render(tmp_path / "repo", {})
    edit(repo, "gitops.yaml", 'ci_provider: "github"\n', "")
    assert check_lines(repo, codeowners_problems) == []
    (repo / ".github" / "CODEOWNERS").unlink()
    (line,) = check_lines(repo, codeowners_problems)
    assert line.startswith(".github/CODEOWNERS: missing"), line
    edit(repo, "gitops.yaml", "argocd_version:", 'ci_provider: "jenkins"\nargocd_version:')
    result = run_gitops(repo, "validate")
    assert result.returncode == 1
    # The hand edit also leaves gitops.yaml apart from the app's answers (settings_checks.py).
    assert result.stdout.splitlines() == [
        "gitops.yaml: ci_provider 'jenkins' is not one of github, gitlab, none: neither CODEOWNERS nor "
        "the CI files are checked (set it with tools/gitops update --data ci_provider=...)",
        "gitops.yaml: ci_provider differs from what the answers of myapp hold: change a repo-level answer "
        "for every app with `tools/gitops update --data ci_provider=...` (a run stopped at a conflict: "
        "run it again), never by editing gitops.yaml",
    ], result.stdout + result.stderr
