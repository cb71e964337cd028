"""The generated GitHub workflows: schema-valid, actions pinned by commit, least permissions."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import render

STORES_A_CREDENTIAL = re.compile(
    r"git config\b.*(?:extraheader|credential|insteadof)|git remote (?:add|set-url)|gh auth setup-git"
    r"|x-access-token:[^@\s]*@",
    re.IGNORECASE,
)
PINNED_ACTION = re.compile(r"^\s*- uses: [\w.-]+/[\w.-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$")


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
    for workflow in workflows:
        uses = [line for line in workflow.read_text().splitlines() if "uses:" in line]
        assert uses, workflow.name
        for line in uses:
            assert PINNED_ACTION.match(line), f"{workflow.name}: {line.strip()}"


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
                    assert step["env"]["GH_TOKEN"] == "${{ github.token }}", workflow.name
                    assert line.strip().startswith('GIT_CONFIG_VALUE_0="AUTHORIZATION: basic $auth" git push')
    assert pushes == 2  # promote.yaml and template-update.yaml


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
    validate_runs = "\n".join(s.get("run", "") for s in validate["jobs"]["validate"]["steps"])
    assert "tools/gitops validate" in validate_runs and "kubeconform -strict" in validate_runs
    assert "tools/gitops diff" in validate_runs and "GITHUB_STEP_SUMMARY" in validate_runs
    promote = by_name["promote.yaml"]
    assert set(promote[True]["workflow_dispatch"]["inputs"]) == {"app", "from", "to", "force"}
    promote_runs = "\n".join(s.get("run", "") for s in promote["jobs"]["promote"]["steps"])
    assert "tools/gitops promote" in promote_runs and "gh pr create" in promote_runs
