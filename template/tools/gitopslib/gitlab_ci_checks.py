"""The repository's .gitlab-ci.yml (ci_provider gitlab) runs tools/gitops validate on merge
requests, and every job that runs tools/gitops clones the whole history.

- Merge requests are gated by "Pipelines must succeed": a pipeline that no longer runs validate
  lets every change through unchecked.
- validate reads the promotion history and promote's soak gate the first-parent history:
  GitLab clones as deep as the project's "Git shallow clone" setting (20 commits by default)
  unless GIT_DEPTH is "0".

GitHub's workflow checks (workflow_checks.py: pull_request_target, write-all) have no GitLab
counterpart to check here: a merge request from a fork runs its pipeline in the fork's project,
without this project's variables, unless a maintainer runs it in the parent project, and a job's
CI_JOB_TOKEN cannot push. Jobs are read from the file and its local includes; includes of other
projects, templates, components and remote files are not fetched.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from .ci_provider import ci_provider
from .errors import BrokenFileError
from .problems import Problem
from .repo import Repo, read_text, yaml_reason

CI_FILE = ".gitlab-ci.yml"
TOOLS = re.compile(r"\btools/gitops\s+(?:-C\s+\S+\s+)?(\w+)")
# Top-level keys that are not jobs.
KEYWORDS = frozenset(
    {"default", "include", "stages", "variables", "workflow", "image", "services", "cache", "before_script",
     "after_script", "spec", "pages"}
)  # fmt: skip
FULL_HISTORY = 'GIT_DEPTH: "0"'


class GitLabLoader(yaml.SafeLoader):
    """Reads GitLab's own tags (`!reference [.job, script]`) as the plain values they carry."""


def _untagged(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node, deep=True)
    return loader.construct_scalar(node)  # type: ignore[arg-type]


GitLabLoader.add_multi_constructor("!", _untagged)


def gitlab_ci_problems(repo: Repo) -> list[Problem]:
    if ci_provider(repo) != "gitlab":
        return []
    if not (repo.root / CI_FILE).is_file():
        reason = "missing: no pipeline runs tools/gitops validate, merge requests go unchecked"
        return [Problem(CI_FILE, reason)]
    jobs: dict[str, dict[Any, Any]] = {}
    top_variables: dict[Any, Any] = {}
    problems = read_config(repo.root, CI_FILE, jobs, top_variables, set())
    if problems:
        return problems
    running = {name: commands(job) for name, job in jobs.items()}
    if not any("validate" in running[name] and on_merge_requests(job) for name, job in jobs.items()):
        return [
            Problem(
                CI_FILE,
                'no job runs tools/gitops validate on merge requests: with "Pipelines must succeed" they '
                "would still go unchecked (jobs included from other projects or templates are not read)",
            )
        ]
    for name, found in sorted(running.items()):
        depth = git_depth(jobs[name], top_variables)
        if found and depth != "0":
            shown = f"GIT_DEPTH {depth}" if depth is not None else "the project's depth (20 by default)"
            problems.append(
                Problem(
                    CI_FILE,
                    f"job {name} runs tools/gitops {', '.join(sorted(found))} on a clone of {shown}: set "
                    f"variables: {FULL_HISTORY}; validate reads the promotion history and promote the "
                    "first-parent history, which a shallow clone cuts short",
                )
            )
    return problems


def read_config(
    root: Path, relative: str, jobs: dict[str, dict[Any, Any]], top_variables: dict[Any, Any], seen: set[str]
) -> list[Problem]:
    """Jobs and top-level variables of one file and of its local includes, into the arguments."""
    seen.add(relative)
    try:
        config = yaml.load(read_text(root / relative, relative), Loader=GitLabLoader)
    except BrokenFileError as error:
        return [Problem(error.path, error.reason)]
    except yaml.YAMLError as error:
        return [Problem(relative, f"not valid YAML: {yaml_reason(error)}")]
    if not isinstance(config, dict):
        return [Problem(relative, "is not a GitLab CI configuration: not a YAML mapping")]
    variables = config.get("variables")
    if isinstance(variables, dict):
        top_variables.update(variables)
    for name, job in config.items():
        if isinstance(name, str) and name not in KEYWORDS and isinstance(job, dict):
            jobs[name] = job
    problems = []
    for include in local_includes(config.get("include")):
        if include not in seen and (root / include).is_file():
            problems += read_config(root, include, jobs, top_variables, seen)
    return problems


def local_includes(include: Any) -> list[str]:
    entries = include if isinstance(include, list) else [include]
    found = []
    for entry in entries:
        path = entry.get("local") if isinstance(entry, dict) else entry
        if isinstance(path, str) and "://" not in path and "*" not in path:
            found.append(path.lstrip("/"))
    return found


def on_merge_requests(job: dict[Any, Any]) -> bool:
    """Whether the job can run in a merge request pipeline, as far as its own rules tell: no
    `rules` (`only`/`except` are left to GitLab), or a rule that names merge_request_event."""
    rules = job.get("rules")
    if not isinstance(rules, list):
        return True
    return any(
        isinstance(rule, dict)
        and "merge_request_event" in str(rule.get("if", ""))
        and rule.get("when") != "never"
        for rule in rules
    )


def commands(job: dict[Any, Any]) -> set[str]:
    """The tools/gitops commands a job's scripts run."""
    lines = []
    for key in ("before_script", "script", "after_script"):
        lines += flatten(job.get(key))
    return {match[1] for line in lines for match in TOOLS.finditer(line)}


def flatten(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [line for item in value for line in flatten(item)]
    return []


def git_depth(job: dict[Any, Any], top_variables: dict[Any, Any]) -> str | None:
    variables = job.get("variables")
    scope = variables if isinstance(variables, dict) and "GIT_DEPTH" in variables else top_variables
    value = scope.get("GIT_DEPTH")
    if isinstance(value, dict):  # the long form: {value: "0", description: ...}
        value = value.get("value")
    return None if value is None else str(value)
