"""gitopslib/workflow_checks.py: the GitHub workflow patterns that widen privileges."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from gitopslib.workflow_checks import (
    checks_out_pr_head,
    job_mappings,
    privileged_triggers,
    steps,
    token_permissions,
    widening_reasons,
)

DEFAULT_TOKEN = "the repository's default permissions (write, unless restricted in its settings)"


def workflow(text: str) -> dict[Any, Any]:
    """As the repository's workflows are read: PyYAML, where a bare `on:` key is True."""
    loaded = yaml.safe_load(text)
    assert isinstance(loaded, dict)
    return loaded


PR_TARGET_CHECKOUT = """
on: pull_request_target
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
        with:
          ref: ${{ github.event.pull_request.head.sha }}
      - run: make test
"""


def test_pull_request_target_checking_out_the_head() -> None:
    assert widening_reasons(workflow(PR_TARGET_CHECKOUT)) == [
        "job build: pull_request_target checks out the pull request's head: code from a fork would run "
        f"with this repository's secrets and a token with {DEFAULT_TOKEN}"
    ]


def test_the_job_permissions_are_named_in_the_reason() -> None:
    text = PR_TARGET_CHECKOUT.replace(
        "  build:\n", "  build:\n    permissions: {contents: write, issues: read}\n"
    )
    [reason] = widening_reasons(workflow(text))
    assert reason.endswith("a token with contents: write")


def test_the_same_checkout_under_pull_request_is_fine() -> None:
    assert widening_reasons(workflow(PR_TARGET_CHECKOUT.replace("pull_request_target", "pull_request"))) == []


def test_pull_request_target_checking_out_the_base_is_fine() -> None:
    text = PR_TARGET_CHECKOUT.replace("${{ github.event.pull_request.head.sha }}", "main")
    assert widening_reasons(workflow(text)) == []


def test_write_all_at_the_top_names_the_jobs_that_inherit_it() -> None:
    text = """
on: push
permissions: write-all
jobs:
  lint: {runs-on: ubuntu-latest, steps: []}
  release: {runs-on: ubuntu-latest, permissions: {contents: write}}
  docs: {runs-on: ubuntu-latest}
"""
    [reason] = widening_reasons(workflow(text))
    assert reason.startswith(
        "permissions: write-all (top level) gives every job that sets no permissions of its own (lint, docs)"
    )


def test_write_all_at_the_top_without_jobs() -> None:
    [reason] = widening_reasons(workflow("on: push\npermissions: write-all\n"))
    assert "(none so far)" in reason


def test_write_all_in_a_job() -> None:
    text = "on: push\njobs:\n  deploy:\n    permissions: write-all\n    runs-on: x\n"
    assert widening_reasons(workflow(text)) == [
        "job deploy: permissions: write-all gives its token write access to every scope: "
        "grant only the permissions it needs"
    ]


@pytest.mark.parametrize(
    ("permissions", "words"),
    [
        (None, DEFAULT_TOKEN),
        ("read-all", "permissions: read-all"),
        ({}, "no permissions"),
        ({"contents": "read", "pull-requests": "none"}, "read permissions only"),
        (
            {"contents": "write", "issues": "read", "pull-requests": "write"},
            "contents: write, pull-requests: write",
        ),
    ],
)
def test_token_permissions_in_words(permissions: object, words: str) -> None:
    assert token_permissions(permissions) == words


@pytest.mark.parametrize(
    ("on", "privileged"),
    [
        ("pull_request_target", ["pull_request_target"]),
        ("push", []),
        (["push", "workflow_run"], ["workflow_run"]),
        (
            {"workflow_run": {"workflows": ["ci"]}, "pull_request_target": None},
            ["pull_request_target", "workflow_run"],
        ),
        (None, []),
        (5, []),
    ],
)
def test_privileged_triggers(on: object, privileged: list[str]) -> None:
    assert privileged_triggers({True: on}) == privileged  # `on:` as PyYAML reads it
    assert privileged_triggers({"on": on}) == privileged  # `"on":` quoted


@pytest.mark.parametrize(
    "step",
    [
        {"uses": "actions/checkout@v4", "with": {"ref": "${{ github.event.pull_request.head.ref }}"}},
        {
            "uses": "actions/checkout@v4",
            "with": {"repository": "${{ github.event.pull_request.head.repo.full_name }}"},
        },
        {"uses": "actions/checkout@v4", "with": {"ref": "${{ github.head_ref }}"}},
        {"uses": "actions/checkout@v4", "with": {"ref": "refs/pull/${{ github.event.number }}/merge"}},
        {"uses": "actions/checkout@v4", "with": {"ref": "${{ github.event.workflow_run.head_sha }}"}},
        {"run": "gh pr checkout ${{ github.event.number }}"},
        {"run": "set -e\ngit fetch origin pull/${{ github.event.number }}/head:pr\nmake"},
        {"run": "git checkout ${{ github.event.pull_request.head.sha }}"},
        # Found by an adversarial review: the ref through a variable, or the test merge commit.
        {"run": 'git -c advice.detachedHead=false checkout "$PR_SHA"'},
        {"run": "git fetch origin ${REF} && make"},
        {"uses": "actions/checkout@v4", "with": {"ref": "${{ github.event.pull_request.merge_commit_sha }}"}},
        {"uses": "actions/checkout@v4", "with": {"ref": "${{ env.SOME_REF }}"}},
        {"run": "gh pr diff 12 | git apply"},
        {"run": 'git fetch origin \\\n  "$REF"'},  # continued over two lines
        {"run": "jq -r .head.sha event.json | xargs git fetch origin"},
        {"uses": "Actions/Checkout@v4", "with": {"ref": "${{ github.event.pull_request.head.sha }}"}},
    ],
)
def test_steps_that_check_out_the_pull_requests_code(step: dict[str, Any]) -> None:
    assert checks_out_pr_head(step)


@pytest.mark.parametrize(
    "step",
    [
        {"uses": "actions/checkout@v4"},
        {"uses": "actions/checkout@v4", "with": None},
        {"uses": "actions/checkout@v4", "with": {"ref": "main"}},
        {"uses": "actions/setup-python@v5", "with": {"ref": "${{ github.head_ref }}"}},
        {"run": "git fetch origin main && git checkout main"},
        {"run": "echo ${{ github.head_ref }}"},  # names it, fetches nothing
        {"env": {"PR_SHA": "${{ github.event.pull_request.head.sha }}"}, "run": 'echo "$PR_SHA"'},
        {"name": "no action"},
    ],
)
def test_steps_that_do_not(step: dict[str, Any]) -> None:
    assert not checks_out_pr_head(step)


def test_a_job_handing_the_pull_requests_ref_to_its_steps_is_named() -> None:
    job = {
        "env": {"PR_SHA": "${{ github.event.pull_request.head.sha }}"},
        "steps": [{"run": 'git checkout "$PR_SHA"'}],
    }
    reasons = widening_reasons({"on": "pull_request_target", "jobs": {"preview": job}})
    assert reasons and reasons[0].startswith("job preview: pull_request_target checks out")
    assert widening_reasons({"on": "pull_request", "jobs": {"preview": job}}) == []


def test_jobs_and_steps_of_other_shapes_are_skipped() -> None:
    assert job_mappings({"jobs": ["build"]}) == {}
    assert job_mappings({"jobs": {"a": {"steps": []}, "b": "x"}}) == {"a": {"steps": []}}
    assert steps({"steps": "run: make"}) == []
    assert steps({"steps": [{"run": "make"}, "x", None]}) == [{"run": "make"}]


def test_issue_comment_runs_with_secrets_too() -> None:
    assert privileged_triggers({"on": {"issue_comment": {"types": ["created"]}}}) == ["issue_comment"]


def test_a_local_reusable_workflow_or_composite_action_is_read(tmp_path: Path) -> None:
    """The checkout in this repository's own callee counts as the caller's."""
    (tmp_path / ".github/workflows").mkdir(parents=True)
    (tmp_path / ".github/workflows/callee.yaml").write_text(
        "on: workflow_call\njobs:\n  run:\n    runs-on: ubuntu-24.04\n    steps:\n"
        '      - run: git checkout "$SHA"\n'
    )
    (tmp_path / ".github/actions/get").mkdir(parents=True)
    (tmp_path / ".github/actions/get/action.yml").write_text(
        "runs:\n  using: composite\n  steps:\n    - run: gh pr checkout 1\n      shell: bash\n"
    )
    caller = {"on": "pull_request_target", "jobs": {"call": {"uses": "./.github/workflows/callee.yaml"}}}
    assert widening_reasons(caller, tmp_path)[0].startswith("job call: pull_request_target checks out")
    composite = {
        "on": "pull_request_target",
        "jobs": {"build": {"runs-on": "x", "steps": [{"uses": "./.github/actions/get"}]}},
    }
    assert widening_reasons(composite, tmp_path)[0].startswith("job build: pull_request_target checks out")
    assert widening_reasons(composite) == [], "without the repository nothing to read"
