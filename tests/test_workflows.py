"""The generated GitHub workflows: schema-valid, actionlint-clean, actions pinned by commit on
their Node 24 releases, least permissions, and pull requests opened with a token whose pull
requests run Validate."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from scripts import dev
from tests.answer_sets import ANSWER_SETS
from tests.conftest import render
from tests.go_tools import built_tool

STORES_A_CREDENTIAL = re.compile(
    r"git config\b.*(?:extraheader|credential|insteadof)|git remote (?:add|set-url)|gh auth setup-git"
    r"|x-access-token:[^@\s]*@",
    re.IGNORECASE,
)
PINNED_ACTION = re.compile(
    r"^\s*(?:- )?uses: (?P<action>[\w.-]+/[\w.-]+)@(?P<sha>[0-9a-f]{40}) # v(?P<major>\d+)\.\d+\.\d+$"
)
# GitHub's runners dropped Node 20: the first major of each action that runs on Node 24 (read
# from `runs.using` in the action.yml of the action's own repository at that tag). An action
# missing here is one nobody checked yet.
NODE24_MAJORS = {
    "actions/checkout": 5,
    "actions/setup-python": 6,
    "actions/create-github-app-token": 3,
    "actions/upload-artifact": 6,  # v5.0.0 node20, v6.0.0 node24
    "actions/download-artifact": 7,  # v6.0.0 node20, v7.0.0 node24
}
# What pushes and opens a pull request: an App's token, else the fine-grained token, else (when
# allowed on purpose) GITHUB_TOKEN. Whichever is chosen, Validate runs on the pull request
# unless it is GITHUB_TOKEN.
PR_TOKEN = "${{ steps.app-token.outputs.token || secrets.GITOPS_PR_TOKEN || github.token }}"
PR_OPENING = {"promote.yaml", "release.yaml", "template-update.yaml"}
CHOOSE_TOKEN = "Choose the token that opens the pull request"
README_SECTION = "Pull requests opened by workflows"
# How the runner runs a step with `shell: bash`.
BASH = ["bash", "--noprofile", "--norc", "-eo", "pipefail"]


@pytest.fixture(scope="module")
def workflows(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    repo = render(tmp_path_factory.mktemp("workflows") / "repo", {})
    found = sorted((repo / ".github" / "workflows").glob("*.yaml"))
    assert found, "no workflows generated"
    return found


def test_workflows_match_the_github_workflow_schema(workflows: list[Path]) -> None:
    """check-jsonschema ships the schema: this runs offline."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "check_jsonschema",
            "--builtin-schema",
            "vendor.github-workflows",
            *map(str, workflows),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_actions_are_pinned_by_commit_with_a_version_comment(workflows: list[Path]) -> None:
    pins: dict[str, set[str]] = {}
    for workflow in workflows:
        uses = [line for line in workflow.read_text().splitlines() if "uses:" in line]
        assert uses, workflow.name
        for line in uses:
            pinned = PINNED_ACTION.match(line)
            assert pinned, f"{workflow.name}: {line.strip()}"
            pins.setdefault(pinned["action"], set()).add(line.split("@", 1)[1])
    # One version of each action in every workflow: a bump never leaves one behind.
    assert all(len(versions) == 1 for versions in pins.values()), pins


def test_actions_run_on_node_24(workflows: list[Path]) -> None:
    for workflow in workflows:
        for line in workflow.read_text().splitlines():
            if pinned := PINNED_ACTION.match(line):
                action, major = pinned["action"], int(pinned["major"])
                assert action in NODE24_MAJORS, f"{workflow.name}: {action}: which major runs on Node 24?"
                assert major >= NODE24_MAJORS[action], f"{workflow.name}: {action} v{major} runs on Node 20"


def test_permissions_are_least_by_default(workflows: list[Path]) -> None:
    for workflow in workflows:
        parsed = yaml.safe_load(workflow.read_text())
        assert parsed["permissions"] == {}, f"{workflow.name}: top-level permissions must be empty"
        for name, job in parsed["jobs"].items():
            assert set(job.get("permissions", {})) <= {"contents", "pull-requests"}, name


def test_checkouts_persist_no_credentials(workflows: list[Path]) -> None:
    """The token is not left in .git/config for later steps (zizmor: artipacked)."""
    for workflow in workflows:
        for job in yaml.safe_load(workflow.read_text())["jobs"].values():
            for step in job["steps"]:
                if step.get("uses", "").startswith("actions/checkout@"):
                    assert step["with"]["persist-credentials"] is False, workflow.name


def test_pushes_take_the_token_from_the_environment_for_one_command(workflows: list[Path]) -> None:
    """A push authenticates that one git command from GH_TOKEN in its step's env; no step writes
    a credential to git's configuration or a remote URL. test_workflow_security.py runs them."""
    pushes = 0
    for workflow in workflows:
        for job in yaml.safe_load(workflow.read_text())["jobs"].values():
            for step in job["steps"]:
                script = step.get("run", "")
                assert not STORES_A_CREDENTIAL.search(script), f"{workflow.name}: {step.get('name')}"
                for line in (line for line in script.splitlines() if "git push" in line):
                    pushes += 1
                    assert step["env"]["GH_TOKEN"] == PR_TOKEN, workflow.name
                    assert line.strip().startswith('GIT_CONFIG_VALUE_0="AUTHORIZATION: basic $auth" git push')
    assert pushes == len(PR_OPENING)


def test_template_update_workflow_runs_the_repo_tools(workflows: list[Path]) -> None:
    update = next(w for w in workflows if w.name == "template-update.yaml")
    steps = yaml.safe_load(update.read_text())["jobs"]["update"]["steps"]
    commands = "\n".join(step.get("run", "") for step in steps)
    assert "tools/gitops update" in commands and "tools/gitops validate" in commands
    assert "gh pr create" in commands


def test_no_expression_is_expanded_inside_a_script(workflows: list[Path]) -> None:
    """Inputs and refs reach scripts through `env:` only, so they cannot inject shell commands."""
    for workflow in workflows:
        for job in yaml.safe_load(workflow.read_text())["jobs"].values():
            for step in job["steps"]:
                assert "${{" not in step.get("run", ""), f"{workflow.name}: {step.get('name')}"


def test_validate_and_promote_workflows(workflows: list[Path]) -> None:
    by_name = {w.name: yaml.safe_load(w.read_text()) for w in workflows}
    validate = by_name["validate.yaml"]
    assert "pull_request" in validate[True]  # PyYAML reads the key `on` as True
    validate_runs = "\n".join(s.get("run", "") for job in validate["jobs"].values() for s in job["steps"])
    assert "tools/gitops validate --shard" in validate_runs and "kubeconform -strict" in validate_runs
    assert "tools/gitops shards plan" in validate_runs and "tools/gitops shards merge" in validate_runs
    # The job branch protection requires keeps its name, whatever the number of shards.
    assert validate["jobs"]["validate"]["needs"] == ["plan", "shard"]
    assert "tools/gitops diff" in validate_runs and "GITHUB_STEP_SUMMARY" in validate_runs
    promote = by_name["promote.yaml"]
    assert set(promote[True]["workflow_dispatch"]["inputs"]) == {"app", "from", "to", "force"}
    promote_runs = "\n".join(s.get("run", "") for s in promote["jobs"]["promote"]["steps"])
    assert "tools/gitops promote" in promote_runs and "gh pr create" in promote_runs


def test_every_checkout_fetches_the_whole_history(workflows: list[Path]) -> None:
    """Every job reads history: validate's promotion history, a release's provenance, promote's
    and update's commits."""
    for workflow in workflows:
        for name, job in yaml.safe_load(workflow.read_text())["jobs"].items():
            for step in job["steps"]:
                if step.get("uses", "").startswith("actions/checkout@"):
                    assert step["with"]["fetch-depth"] == 0, f"{workflow.name}: {name}"


def test_scripts_with_pipes_fail_when_a_command_fails(workflows: list[Path]) -> None:
    """Without an explicit `shell: bash` a step runs `bash -e` without pipefail: a promote or
    release that fails before `| tee` would leave a green run that opened nothing."""
    for workflow in workflows:
        parsed = yaml.safe_load(workflow.read_text())
        for job in parsed["jobs"].values():
            for step in job["steps"]:
                if "| tee" in step.get("run", ""):
                    shell = (
                        step.get("shell") or job.get("defaults", parsed.get("defaults", {}))["run"]["shell"]
                    )
                    assert shell == "bash", f"{workflow.name}: {step.get('name')}"


# ---------------------------------------------------------------------------------------------
# Pull requests opened by workflows: an App's token or a fine-grained token, else a clear failure.
# ---------------------------------------------------------------------------------------------
def by_name(workflows: list[Path]) -> dict[str, dict[Any, Any]]:
    return {w.name: yaml.safe_load(w.read_text()) for w in workflows}


def pr_jobs(workflows: list[Path]) -> dict[str, dict[str, Any]]:
    """The job of each workflow that opens a pull request, by workflow file."""
    found = {}
    for name, parsed in by_name(workflows).items():
        for job in parsed["jobs"].values():
            if any("gh pr create" in step.get("run", "") for step in job["steps"]):
                found[name] = job
    return found


def test_pull_requests_are_opened_with_a_token_that_starts_validate(workflows: list[Path]) -> None:
    jobs = pr_jobs(workflows)
    assert set(jobs) == PR_OPENING
    for name, job in jobs.items():
        steps = job["steps"]
        # Chosen first: a run that cannot open its pull request fails before it does any work.
        assert steps[0]["name"] == CHOOSE_TOKEN and steps[0]["id"] == "pr-token", name
        assert steps[0]["env"] == {
            "APP_ID": "${{ vars.GITOPS_APP_ID }}",
            "HAS_APP_KEY": "${{ secrets.GITOPS_APP_PRIVATE_KEY != '' }}",
            "HAS_PR_TOKEN": "${{ secrets.GITOPS_PR_TOKEN != '' }}",
            "ALLOW_GITHUB_TOKEN": "${{ vars.GITOPS_ALLOW_GITHUB_TOKEN }}",
        }, name
        # The secrets live in an environment limited to the default branch (zizmor:
        # secrets-outside-env).
        assert job["environment"] == "gitops-pull-requests", name
        (app,) = [s for s in steps if s.get("uses", "").startswith("actions/create-github-app-token@")]
        assert app["id"] == "app-token" and app["if"] == "steps.pr-token.outputs.source == 'app'", name
        assert app["with"]["app-id"] == "${{ vars.GITOPS_APP_ID }}", name
        assert app["with"]["private-key"] == "${{ secrets.GITOPS_APP_PRIVATE_KEY }}", name
        assert app["with"]["permission-contents"] == "write", name
        assert app["with"]["permission-pull-requests"] == "write", name
        (opens,) = [s for s in steps if "gh pr create" in s.get("run", "")]
        assert opens["env"]["GH_TOKEN"] == PR_TOKEN, name
        # Minted just before the push (an installation token lives one hour), after the tools ran.
        assert steps.index(app) == steps.index(opens) - 1, name
    # One selection for all: a fix in one workflow cannot miss the others.
    assert len({jobs[name]["steps"][0]["run"] for name in jobs}) == 1
    # A template update may change workflows, which needs the App's workflows permission.
    update_app = next(s for s in jobs["template-update.yaml"]["steps"] if s.get("id") == "app-token")
    assert update_app["with"]["permission-workflows"] == "write"


def choose_token(workflows: list[Path], tmp_path: Path, **env: str) -> tuple[int, list[str], str]:
    """Run the token selection as the runner would, with the expressions' values in `env`:
    exit code, output lines, and what it wrote to GITHUB_OUTPUT."""
    script = pr_jobs(workflows)["promote.yaml"]["steps"][0]["run"]
    output = tmp_path / "github-output"
    output.write_text("")
    values = {"APP_ID": "", "HAS_APP_KEY": "false", "HAS_PR_TOKEN": "false", "ALLOW_GITHUB_TOKEN": ""}
    result = subprocess.run(
        [*BASH, "-c", script],
        env={"PATH": os.environ["PATH"], "GITHUB_OUTPUT": str(output), **values, **env},
        capture_output=True,
        text=True,
        timeout=30,
    )
    return result.returncode, result.stdout.splitlines(), output.read_text()


@pytest.mark.parametrize(
    ("configured", "source"),
    [
        ({"APP_ID": "123456", "HAS_APP_KEY": "true"}, "app"),
        ({"APP_ID": "123456", "HAS_APP_KEY": "true", "HAS_PR_TOKEN": "true"}, "app"),
        ({"HAS_PR_TOKEN": "true"}, "pr-token"),
        ({"HAS_PR_TOKEN": "true", "ALLOW_GITHUB_TOKEN": "true"}, "pr-token"),
        # An App ID without its key is not an App: the fine-grained token is next.
        ({"APP_ID": "123456", "HAS_PR_TOKEN": "true"}, "pr-token"),
    ],
    ids=["app", "app-before-token", "token", "token-before-fallback", "app-without-key"],
)
def test_the_token_is_the_apps_then_the_fine_grained_one(
    workflows: list[Path], tmp_path: Path, configured: dict[str, str], source: str
) -> None:
    code, lines, output = choose_token(workflows, tmp_path, **configured)
    assert code == 0 and output == f"source={source}\n"
    assert not [line for line in lines if line.startswith("::")], lines


def test_without_a_token_the_job_fails_with_one_clear_error(workflows: list[Path], tmp_path: Path) -> None:
    for unset in ({}, {"APP_ID": "123456"}, {"HAS_APP_KEY": "true"}, {"ALLOW_GITHUB_TOKEN": "yes"}):
        code, lines, output = choose_token(workflows, tmp_path, **unset)
        assert code == 1 and output == "", unset
        errors = [line for line in lines if line.startswith("::error::")]
        assert len(errors) == 1 and errors == lines, lines
        for words in ("GITOPS_APP_ID", "GITOPS_APP_PRIVATE_KEY", "GITOPS_PR_TOKEN", f'"{README_SECTION}"'):
            assert words in errors[0], words


def test_github_token_only_when_allowed_on_purpose(workflows: list[Path], tmp_path: Path) -> None:
    code, lines, output = choose_token(workflows, tmp_path, ALLOW_GITHUB_TOKEN="true")
    assert code == 0 and output == "source=github-token\n"
    (warning,) = lines
    assert warning.startswith("::warning::") and "Validate will not run" in warning


def test_the_readme_has_the_section_the_error_names(tmp_path_factory: pytest.TempPathFactory) -> None:
    repo = render(tmp_path_factory.mktemp("readme") / "repo", {})
    headings = [line.lstrip("#").strip() for line in (repo / "README.md").read_text().splitlines()]
    assert README_SECTION in headings


# ---------------------------------------------------------------------------------------------
# release.yaml: a new release from the Actions tab or an app repository's dispatch.
# ---------------------------------------------------------------------------------------------
RELEASE_STEP = "Release on a new branch"


def test_release_runs_on_dispatch_and_reads_inputs_through_env(workflows: list[Path]) -> None:
    release = by_name(workflows)["release.yaml"]
    on = release[True]  # PyYAML reads the key `on` as True
    assert set(on["workflow_dispatch"]["inputs"]) == {"app", "tag", "digest"}
    assert on["repository_dispatch"] == {"types": ["gitops-release"]}
    step = next(s for s in release["jobs"]["release"]["steps"] if s.get("name") == RELEASE_STEP)
    for variable, field in (("APP", "app"), ("TAG", "tag"), ("DIGEST", "digest")):
        assert step["env"][variable] == f"${{{{ inputs.{field} || github.event.client_payload.{field} }}}}"
    assert "tools/gitops release" in step["run"]


def run_release_step(
    workflows: list[Path], tmp_path: Path, fails: bool = False, **env: str
) -> tuple[subprocess.CompletedProcess[str], list[str], str]:
    """The release step with a `python` that records its arguments (and fails if asked): the
    result, the recorded command lines, and GITHUB_ENV."""
    release = by_name(workflows)["release.yaml"]
    script = next(s for s in release["jobs"]["release"]["steps"] if s.get("name") == RELEASE_STEP)["run"]
    work, bin_dir = tmp_path / "work", tmp_path / "bin"
    bin_dir.mkdir()
    (tmp_path / "runner-temp").mkdir()
    subprocess.run(["git", "init", "-q", str(work)], check=True)
    calls, github_env = tmp_path / "python-calls", tmp_path / "github-env"
    calls.touch()
    github_env.touch()
    python = bin_dir / "python"
    python.write_text(
        f'#!/bin/sh\nprintf "%s\\n" "$*" >> "{calls}"\necho "+ newTag: v2"\nexit {int(fails)}\n'
    )
    python.chmod(0o755)
    result = subprocess.run(
        [*BASH, "-c", script],
        cwd=work,
        env={
            "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
            "HOME": str(tmp_path),
            "RUNNER_TEMP": str(tmp_path / "runner-temp"),
            "GITHUB_ENV": str(github_env),
            "RUN_ID": "42",
            "APP": "",
            "TAG": "",
            "DIGEST": "",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=30,
    )
    return result, calls.read_text().splitlines(), github_env.read_text()


DIGEST = "sha256:" + "ab" * 32


@pytest.mark.parametrize(
    ("given", "argument"),
    [
        ({"TAG": "v1.2.3"}, "--tag=v1.2.3"),
        ({"DIGEST": DIGEST}, f"--digest={DIGEST}"),
        ({"TAG": "-rc1"}, "--tag=-rc1"),  # reaches the tool's own check, not argparse's
    ],
    ids=["tag", "digest", "dash-tag"],
)
def test_release_runs_the_release_command_on_its_branch(
    workflows: list[Path], tmp_path: Path, given: dict[str, str], argument: str
) -> None:
    result, calls, github_env = run_release_step(workflows, tmp_path, APP="shop", **given)
    assert result.returncode == 0, result.stderr
    assert calls == [f"tools/gitops release --app shop {argument} --branch release/shop-42"]
    assert github_env == "BRANCH=release/shop-42\n"
    assert (tmp_path / "runner-temp" / "release.txt").read_text() == "+ newTag: v2\n"


@pytest.mark.parametrize(
    "given",
    [
        {"APP": "shop", "TAG": "v1", "DIGEST": DIGEST},
        {"APP": "shop"},
        {"APP": "", "TAG": "v1"},
        {"APP": "shop\nBRANCH=main", "TAG": "v1"},  # a payload that would write GITHUB_ENV
        {"APP": "../main", "TAG": "v1"},
        {"APP": "Shop", "TAG": "v1"},
    ],
    ids=["tag-and-digest", "neither", "no-app", "newline", "path", "uppercase"],
)
def test_release_refuses_bad_input_before_running_anything(
    workflows: list[Path], tmp_path: Path, given: dict[str, str]
) -> None:
    result, calls, github_env = run_release_step(workflows, tmp_path, **given)
    assert result.returncode == 2 and calls == [] and github_env == ""
    (line,) = result.stdout.splitlines()
    assert line.startswith("::error::") and "BRANCH" not in line


def test_a_failing_release_fails_the_step(workflows: list[Path], tmp_path: Path) -> None:
    """`| tee` does not hide the command's failure: no branch is recorded for a pull request."""
    result, calls, github_env = run_release_step(workflows, tmp_path, fails=True, APP="shop", TAG="v1")
    assert result.returncode == 1 and len(calls) == 1 and github_env == ""


# ---------------------------------------------------------------------------------------------
# actionlint, the real one (built from source by scripts/dev.py), on every answer set's workflows.
# ---------------------------------------------------------------------------------------------
def actionlint() -> Path:
    found = built_tool(dev.ACTIONLINT)
    version = subprocess.run([str(found), "-version"], capture_output=True, text=True, check=True).stdout
    assert version.splitlines()[0] == dev.ACTIONLINT.version, version
    return found


def run_actionlint(*paths: Path) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(actionlint()), "-no-color", "-oneline", *map(str, paths)], capture_output=True, text=True
    )
    # 0: no problem; 1: problems found; anything else is a failure of actionlint itself.
    assert result.returncode in (0, 1), result.stdout + result.stderr
    return result


@pytest.fixture(scope="module", params=sorted(ANSWER_SETS), ids=str)
def answer_set_workflows(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> list[Path]:
    # With GitHub as the CI of every answer set (some choose gitlab or none, which write no
    # workflows: tests/test_gitlab_ci.py), so that no other answer changes the workflows.
    answers = {**ANSWER_SETS[request.param], "ci_provider": "github"}
    repo = render(tmp_path_factory.mktemp(request.param) / "repo", answers)
    return sorted((repo / ".github" / "workflows").glob("*.y*ml"))


def test_actionlint_finds_nothing(answer_set_workflows: list[Path]) -> None:
    assert {w.name for w in answer_set_workflows} >= PR_OPENING | {"validate.yaml"}
    result = run_actionlint(*answer_set_workflows)
    assert result.returncode == 0 and result.stdout == "", result.stdout + result.stderr


def test_actionlint_reports_a_broken_workflow(tmp_path: Path) -> None:
    """The test above can fail: a misspelt context and an unknown runner label are reported."""
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        "on: push\njobs:\n  build:\n    runs-on: ubuntu-lates\n    steps:\n"
        "      - run: echo done\n        env:\n          REF: ${{ github.reff }}\n"
    )
    result = run_actionlint(broken)
    assert result.returncode == 1
    assert "ubuntu-lates" in result.stdout and "reff" in result.stdout, result.stdout
