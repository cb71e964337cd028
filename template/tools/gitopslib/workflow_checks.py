"""The repository's GitHub workflows (ci_provider github) hold no privilege-widening pattern.

- A `pull_request_target` or `workflow_run` workflow runs with this repository's secrets and a
  token that can write, even for a pull request from a fork: checking out the pull request's
  head there runs the fork's code with them.
- `permissions: write-all` gives a job's token write access to every scope.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from .ci_provider import ci_provider
from .errors import BrokenFileError
from .problems import Problem
from .repo import Repo, read_yaml

WORKFLOWS_DIR = ".github/workflows"
# Triggers that run with this repository's secrets and a token that can write, on events anyone
# can cause (a fork's pull request, a comment on one).
PRIVILEGED_TRIGGERS = ("pull_request_target", "workflow_run", "issue_comment")
# A ref or repository of the pull request's code rather than the base branch's: its head, its
# test merge commit, or anything of the workflow run's.
PR_HEAD = re.compile(
    r"github\.event\.pull_request\.(?:head\b|merge_commit_sha)|github\.head_ref|refs/pull/"
    r"|github\.event\.workflow_run\.head_"
)
# A script line that fetches or checks out code it names by a variable or an expression (one
# set elsewhere hides the pull request's ref from any pattern), by a pull request's ref, or with
# the GitHub CLI. Literal branch names (git fetch origin main) are the base's.
GIT_TREE_COMMAND = (
    r"\bgit\b[^|;&]*?\s(?:fetch|checkout|switch|pull|worktree|reset|merge|rebase|cherry-pick|restore)\b"
)
SCRIPT_CHECKOUT = re.compile(
    rf"\bgh pr (?:checkout|diff)\b|{GIT_TREE_COMMAND}[^|;&]*(?:\$|pull/|{PR_HEAD.pattern})"
    r"|\bxargs\b[^|;&]*\bgit\b"  # names fed from a pipe
)


def workflow_problems(repo: Repo) -> list[Problem]:
    directory = repo.root / WORKFLOWS_DIR
    if ci_provider(repo) != "github" or not directory.is_dir():
        return []
    problems = []
    for path in sorted(p for p in directory.iterdir() if p.suffix in {".yml", ".yaml"} and p.is_file()):
        relative = repo.relative(path)
        try:
            workflow = read_yaml(path, relative)
        except BrokenFileError as error:  # not UTF-8 or not YAML: one line, no traceback
            problems.append(Problem(error.path, error.reason))
            continue
        if not isinstance(workflow, dict):
            problems.append(Problem(relative, "is not a workflow: not a YAML mapping"))
            continue
        problems += [Problem(relative, reason) for reason in widening_reasons(workflow, repo.root)]
    return problems


def widening_reasons(workflow: dict[Any, Any], root: Path | None = None) -> list[str]:
    jobs = job_mappings(workflow)
    reasons = []
    if workflow.get("permissions") == "write-all":
        inheriting = ", ".join(str(name) for name, job in jobs.items() if "permissions" not in job)
        reasons.append(
            "permissions: write-all (top level) gives every job that sets no permissions of its own "
            f"({inheriting or 'none so far'}) a token that can write to every scope: "
            "grant each job only the permissions it needs"
        )
    triggers = " and ".join(privileged_triggers(workflow))
    for name, job in jobs.items():
        if job.get("permissions") == "write-all":
            reasons.append(
                f"job {name}: permissions: write-all gives its token write access to every scope: "
                "grant only the permissions it needs"
            )
        if triggers and any(checks_out_pr_head(step) for step in steps(job) + called_steps(job, root)):
            token = token_permissions(job.get("permissions", workflow.get("permissions")))
            reasons.append(
                f"job {name}: {triggers} checks out the pull request's head: code from a fork would run "
                f"with this repository's secrets and a token with {token}"
            )
    return reasons


def token_permissions(permissions: Any) -> str:
    """The permissions a job's token is given, in words."""
    if permissions is None:
        return "the repository's default permissions (write, unless restricted in its settings)"
    if not isinstance(permissions, dict):
        return f"permissions: {permissions}"
    writes = [f"{scope}: write" for scope, access in permissions.items() if access == "write"]
    if writes:
        return ", ".join(writes)
    return "read permissions only" if permissions else "no permissions"


def job_mappings(workflow: dict[Any, Any]) -> dict[Any, dict[Any, Any]]:
    jobs = workflow.get("jobs")
    if not isinstance(jobs, dict):
        return {}
    return {name: job for name, job in jobs.items() if isinstance(job, dict)}


def privileged_triggers(workflow: dict[Any, Any]) -> list[str]:
    """The triggers of `on:` (which YAML 1.1 reads as the key True) that run with write access."""
    on = workflow.get("on", workflow.get(True))
    names = [on] if isinstance(on, str) else list(on) if isinstance(on, (list, dict)) else []
    return [trigger for trigger in PRIVILEGED_TRIGGERS if trigger in names]


def steps(job: dict[Any, Any]) -> list[dict[Any, Any]]:
    found = job.get("steps")
    return [step for step in found if isinstance(step, dict)] if isinstance(found, list) else []


def called_steps(job: dict[Any, Any], root: Path | None) -> list[dict[Any, Any]]:
    """The steps a job runs through this repository's own reusable workflow (`uses:` of the job)
    or composite actions (`uses: ./...` of a step): read here, as the run would. Another
    repository's are not this repository's to check."""
    if root is None:
        return []
    found: list[dict[Any, Any]] = []
    called = str(job.get("uses", ""))
    if called.startswith("./"):
        workflow = _read(root / called.split("@")[0])
        for callee in job_mappings(workflow).values():
            found += steps(callee) + called_steps(callee, root)
    for step in steps(job):
        action = str(step.get("uses", ""))
        if action.startswith("./"):
            directory = root / action
            definition = _read(directory / "action.yml") or _read(directory / "action.yaml")
            found += [s for s in listed_steps(mapping_of(definition.get("runs")).get("steps"))]
    return found


def _read(path: Path) -> dict[Any, Any]:
    try:
        data = read_yaml(path, str(path)) if path.is_file() else None
    except BrokenFileError:
        return {}
    return data if isinstance(data, dict) else {}


def mapping_of(value: Any) -> dict[Any, Any]:
    return value if isinstance(value, dict) else {}


def listed_steps(value: Any) -> list[dict[Any, Any]]:
    return [step for step in value if isinstance(step, dict)] if isinstance(value, list) else []


def checks_out_pr_head(step: dict[Any, Any]) -> bool:
    """actions/checkout of anything but the base (a ref or repository from an expression, or the
    pull request's), or a script that fetches or checks out code named by a variable (which may
    hold the pull request's ref: an `env:` hands it over unseen) or by a pull request's ref."""
    if str(step.get("uses", "")).lower().startswith("actions/checkout@"):  # GitHub ignores its case
        options = step.get("with")
        options = options if isinstance(options, dict) else {}
        chosen = [str(options.get(key, "")) for key in ("ref", "repository")]
        return any("${{" in text or PR_HEAD.search(text) for text in chosen)
    script = re.sub(r"\\\n\s*", " ", str(step.get("run", "")))  # a command continued over lines is one
    return any(SCRIPT_CHECKOUT.search(line) for line in script.splitlines())
