"""The repository's .gitlab-ci.yml (ci_provider gitlab) runs tools/gitops validate on merge
requests, and every job that runs tools/gitops clones the whole history.

- Merge requests are gated by "Pipelines must succeed": a pipeline that no longer runs validate
  lets every change through unchecked.
- validate reads the promotion history and promote's soak gate the first-parent history:
  GitLab clones as deep as the project's "Git shallow clone" setting (20 commits by default)
  unless GIT_DEPTH is "0".

A job runs validate on merge requests when GitLab would run it, and let it fail the pipeline, in
every merge request pipeline: a job that is not hidden (`.name`), with its `extends` and the
local includes merged in as GitLab merges them; whose first rule that may match a merge request
pipeline surely matches every one (`$CI_PIPELINE_SOURCE == "merge_request_event"`, `=~` a regular
expression matching it, `$CI_MERGE_REQUEST_IID`; `changes`/`exists` only sometimes) and neither
is `when: manual`/`never` nor lets the job fail (`allow_failure`, also on the job); a job without
rules runs in branch and tag pipelines only, unless `only` names merge_requests. Rules are read
as GitLab evaluates them in a merge request pipeline, where CI_COMMIT_BRANCH and CI_COMMIT_TAG
are unset; a condition it cannot tell may go either way. `workflow: rules` must create the
merge request pipeline the same way.

A trigger job runs validate too when it runs, with `strategy: depend` (the child pipeline's
failure fails it), the pipeline a job writes with `tools/gitops shards pipeline` (a whole validate,
or its shards and their merge) and that job surely runs in merge request pipelines as well.

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

from . import fast_yaml
from .ci_provider import ci_provider
from .errors import BrokenFileError
from .problems import Problem
from .repo import Repo, read_text, yaml_reason

CI_FILE = ".gitlab-ci.yml"
TOOLS = re.compile(r"\btools/gitops\s+(?:-C\s+\S+\s+)?(\w+)")
WRITES_VALIDATE_PIPELINE = re.compile(r"\btools/gitops\s+(?:-C\s+\S+\s+)?shards\s+pipeline\b")
# Top-level keys that are not jobs.
KEYWORDS = frozenset(
    {"default", "include", "stages", "variables", "workflow", "image", "services", "cache", "before_script",
     "after_script", "spec", "pages"}
)  # fmt: skip
FULL_HISTORY = 'GIT_DEPTH: "0"'


class GitLabLoader(fast_yaml.PureSafeLoader):
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
    config, problems = read_config(repo.root, CI_FILE, set())
    if problems:
        return problems
    variables = config.get("variables")
    top_variables = variables if isinstance(variables, dict) else {}
    definitions = {
        name: job
        for name, job in config.items()
        if isinstance(name, str) and name not in KEYWORDS and isinstance(job, dict)
    }
    # Hidden jobs (`.name`) are templates for `extends` and `!reference`: GitLab never runs them.
    jobs = {name: resolve(name, definitions) for name in definitions if not name.startswith(".")}
    running = {name: commands(job) for name, job in jobs.items()}
    triggers = {
        name: why
        for name, job in jobs.items()
        if (why := triggered_validate(job, jobs, top_variables)) is not None
    }
    why_not = {
        name: not_on_merge_requests(job, top_variables) or triggers.get(name, "")
        for name, job in jobs.items()
        if "validate" in running[name] or name in triggers
    }
    blocked = workflow_blocks(config.get("workflow"), top_variables)
    if blocked or all(why_not.values()):
        details = [blocked] if blocked else [f"job {name}: {why}" for name, why in sorted(why_not.items())]
        shown = f" ({'; '.join(details)})" if details else ""
        return [
            Problem(
                CI_FILE,
                f'no job runs tools/gitops validate on merge requests{shown}: with "Pipelines must '
                'succeed" they would still go unchecked (jobs included from other projects or templates '
                "are not read)",
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


def read_config(root: Path, relative: str, seen: set[str]) -> tuple[dict[Any, Any], list[Problem]]:
    """One file with its local includes merged in as GitLab merges them: the includes in order,
    each over the ones before, then the file's own keys over them all, hashes merged deeply."""
    seen.add(relative)
    try:
        config = yaml.load(read_text(root / relative, relative), Loader=GitLabLoader)
    except BrokenFileError as error:
        return {}, [Problem(error.path, error.reason)]
    except yaml.YAMLError as error:
        return {}, [Problem(relative, f"not valid YAML: {yaml_reason(error)}")]
    if not isinstance(config, dict):
        return {}, [Problem(relative, "is not a GitLab CI configuration: not a YAML mapping")]
    merged: dict[Any, Any] = {}
    problems: list[Problem] = []
    for include in local_includes(config.get("include")):
        if include not in seen and (root / include).is_file():
            included, found = read_config(root, include, seen)
            merged, problems = deep_merge(merged, included), problems + found
    return deep_merge(merged, {key: value for key, value in config.items() if key != "include"}), problems


def deep_merge(base: dict[Any, Any], over: dict[Any, Any]) -> dict[Any, Any]:
    merged = dict(base)
    for key, value in over.items():
        below = merged.get(key)
        merged[key] = (
            deep_merge(below, value) if isinstance(below, dict) and isinstance(value, dict) else value
        )
    return merged


def resolve(name: str, definitions: dict[str, dict[Any, Any]], depth: int = 0) -> dict[Any, Any]:
    """The job with what it `extends` merged in (GitLab: deeply, the job's own keys last; at most
    11 levels)."""
    job = definitions[name]
    parents = job.get("extends")
    merged: dict[Any, Any] = {}
    for parent in [parents] if isinstance(parents, str) else parents if isinstance(parents, list) else []:
        if isinstance(parent, str) and parent in definitions and parent != name and depth < 11:
            merged = deep_merge(merged, resolve(parent, definitions, depth + 1))
    return deep_merge(merged, {key: value for key, value in job.items() if key != "extends"})


def local_includes(include: Any) -> list[str]:
    entries = include if isinstance(include, list) else [include]
    found = []
    for entry in entries:
        path = entry.get("local") if isinstance(entry, dict) else entry
        if isinstance(path, str) and "://" not in path and "*" not in path:
            found.append(path.lstrip("/"))
    return found


# What a merge request pipeline sets: its source, its merge request; no branch, no tag.
ON_MERGE_REQUESTS: dict[str, str | None] = {
    "CI_PIPELINE_SOURCE": "merge_request_event",
    "CI_MERGE_REQUEST_IID": "",
    "CI_MERGE_REQUEST_ID": "",
    "CI_COMMIT_BRANCH": None,
    "CI_COMMIT_TAG": None,
    "CI_DEFAULT_BRANCH": "",
}
MERGE_REQUEST_RULE = 'if: $CI_PIPELINE_SOURCE == "merge_request_event"'
SET = ""  # set to a value not known here (in ON_MERGE_REQUESTS: "" is "set, value unknown")
EXPRESSION_TOKEN = re.compile(
    r"""\s*(?:\$\{?(?P<var>\w+)\}?|"(?P<dq>[^"]*)"|'(?P<sq>[^']*)'|/(?P<re>(?:\\.|[^/\\])*)/(?P<flags>[a-z]*)"""
    r"""|(?P<null>null)\b|(?P<op>==|!=|=~|!~|&&|\|\|))\s*"""
)
Operand = tuple[str, str | None]  # ("value", text) / ("value", None): unset / ("set", None) / ("?", None)


def evaluate(expression: str, overridden: set[str]) -> bool | None:
    """An `if:` expression in a merge request pipeline: True, False, or None when it cannot be
    told here (other variables, parentheses). `&&` binds tighter than `||`."""
    tokens, position = [], 0
    while position < len(expression):
        match = EXPRESSION_TOKEN.match(expression, position)
        if match is None or match.end() == position:
            return None
        tokens.append(match)
        position = match.end()
    alternatives: list[bool | None] = []
    for alternative in split(tokens, "||"):
        terms = [term(each, overridden) for each in split(alternative, "&&")]
        alternatives.append(False if False in terms else True if all(terms) else None)
    return True if True in alternatives else False if all(a is False for a in alternatives) else None


def split(tokens: list[re.Match[str]], operator: str) -> list[list[re.Match[str]]]:
    parts: list[list[re.Match[str]]] = [[]]
    for token in tokens:
        if token["op"] == operator:
            parts.append([])
        else:
            parts[-1].append(token)
    return parts


def operand(token: re.Match[str], overridden: set[str]) -> Operand:
    if token["var"] is not None:
        name = token["var"]
        if name in overridden or name not in ON_MERGE_REQUESTS:
            return ("?", None)
        value = ON_MERGE_REQUESTS[name]
        return ("set", None) if value == SET else ("value", value)
    if token["null"] is not None:
        return ("value", None)
    text = token["dq"] if token["dq"] is not None else token["sq"]
    return ("value", text) if text is not None else ("?", None)


def term(tokens: list[re.Match[str]], overridden: set[str]) -> bool | None:
    if len(tokens) == 1:
        kind, value = operand(tokens[0], overridden)
        return True if kind == "set" else bool(value) if kind == "value" else None
    if len(tokens) != 3 or tokens[1]["op"] not in ("==", "!=", "=~", "!~"):
        return None
    left, operator, right = tokens
    (kind, value) = operand(left, overridden)
    if operator["op"] in ("=~", "!~"):
        if right["re"] is None or kind != "value":
            return None
        try:
            pattern = re.compile(right["re"], re.IGNORECASE if "i" in right["flags"] else 0)
        except re.error:
            return None
        found = value is not None and pattern.search(value) is not None
        return found if operator["op"] == "=~" else not found
    other = operand(right, overridden)
    if "?" in (kind, other[0]):
        return None
    if "set" in (kind, other[0]):
        if (kind, value) != ("value", None) and other != ("value", None):
            return None  # two values, one of them not known here
        equal = False  # a set variable is not null
    else:
        equal = value == other[1]
    return equal if operator["op"] == "==" else not equal


def matches_merge_requests(rule: dict[Any, Any], overridden: set[str]) -> bool | None:
    """Whether the rule matches every merge request pipeline (True), none (False), or some."""
    condition = rule.get("if")
    matched = True if condition is None else evaluate(str(condition), overridden)
    if matched is not False and ("changes" in rule or "exists" in rule):
        return None  # only when those files change, or exist
    return matched


def fails_softly(value: Any) -> bool:
    """allow_failure: true, or exit codes it may fail with (validate exits 1)."""
    return value is True or isinstance(value, dict)


def not_on_merge_requests(job: dict[Any, Any], top_variables: dict[Any, Any]) -> str:
    """Why the job may not run, or not fail the pipeline, in every merge request pipeline; ""
    when it surely does."""
    variables = job.get("variables")
    overridden = set(top_variables) | (set(variables) if isinstance(variables, dict) else set())
    if job.get("when") in ("manual", "never"):
        return f"when: {job['when']}"
    if fails_softly(job.get("allow_failure")):
        return "allow_failure, so its failure does not fail the pipeline"
    rules = job.get("rules")
    if rules is None:
        return only_except(job)
    for rule in rules if isinstance(rules, list) else [None]:
        if not isinstance(rule, dict):
            return "rules it cannot read here"
        matched = matches_merge_requests(rule, overridden)
        if matched is False:
            continue
        when, soft = rule.get("when", "on_success"), fails_softly(rule.get("allow_failure"))
        if when in ("manual", "never") or soft:
            shown = f"when: {when}" if when in ("manual", "never") else "allow_failure"
            if matched:
                return f"its rule {rule_text(rule)} has {shown}"
            return f"its rule {rule_text(rule)} may match, before any rule that surely does, and has {shown}"
        if matched:
            return ""
    return f"no rule that matches every merge request pipeline ({MERGE_REQUEST_RULE})"


def rule_text(rule: dict[Any, Any]) -> str:
    return f"`if: {rule['if']}`" if "if" in rule else "without `if:`"


def only_except(job: dict[Any, Any]) -> str:
    """A job without rules: `only`/`except` (refs), by default branches and tags."""

    def refs(value: Any) -> list[Any] | None:
        if isinstance(value, dict):
            return value.get("refs") if set(value) == {"refs"} else None
        return value if isinstance(value, list) else [value]

    only, excepted = job.get("only"), job.get("except")
    if only is None:
        return f"no rules, so it runs in branch and tag pipelines only (add rules: - {MERGE_REQUEST_RULE})"
    only_refs = refs(only)
    if not isinstance(only_refs, list) or "merge_requests" not in only_refs:
        return "no rules, and `only` does not name merge_requests"
    except_refs = refs(excepted)
    if excepted is not None and (not isinstance(except_refs, list) or "merge_requests" in except_refs):
        return "`except` may leave merge requests out"
    return ""


def workflow_blocks(workflow: Any, top_variables: dict[Any, Any]) -> str:
    """Why `workflow: rules` may create no merge request pipeline; "" when it surely does."""
    rules = workflow.get("rules") if isinstance(workflow, dict) else None
    if rules is None:
        return ""
    for rule in rules if isinstance(rules, list) else [None]:
        if not isinstance(rule, dict):
            return "workflow: rules it cannot read here"
        matched = matches_merge_requests(rule, set(top_variables))
        if matched is False:
            continue
        if rule.get("when") == "never":
            if matched:
                return f"workflow: rules: its rule {rule_text(rule)} creates no pipeline (when: never)"
            return (
                f"workflow: rules: its rule {rule_text(rule)} may match, before any rule that surely does, "
                "and creates no pipeline (when: never)"
            )
        if matched:
            return ""
    return "workflow: rules: no rule surely creates a merge request pipeline"


def triggered_validate(
    job: dict[Any, Any], jobs: dict[str, dict[Any, Any]], top_variables: dict[Any, Any]
) -> str | None:
    """For a job that triggers the pipeline `tools/gitops shards pipeline` writes (an artifact of
    another job): "" when it runs validate as a validate job would, otherwise why not; None for
    any other job."""
    trigger = job.get("trigger")
    if not isinstance(trigger, dict):
        return None
    include = trigger.get("include")
    entries = include if isinstance(include, list) else [include]
    writers = [
        entry["job"]
        for entry in entries
        if isinstance(entry, dict) and "artifact" in entry and isinstance(entry.get("job"), str)
    ]
    writer = next(
        (
            name
            for name in writers
            if name in jobs
            and any(WRITES_VALIDATE_PIPELINE.search(line) for line in script_lines(jobs[name]))
        ),
        None,
    )
    if writer is None:
        return None
    if trigger.get("strategy") != "depend":
        return "it triggers the validate pipeline without `strategy: depend`: its failure would pass"
    why = not_on_merge_requests(jobs[writer], top_variables)
    return f"job {writer}, which writes the pipeline it triggers: {why}" if why else ""


def script_lines(job: dict[Any, Any]) -> list[str]:
    return [line for key in ("before_script", "script", "after_script") for line in flatten(job.get(key))]


def commands(job: dict[Any, Any]) -> set[str]:
    """The tools/gitops commands a job's scripts run."""
    return {match[1] for line in script_lines(job) for match in TOOLS.finditer(line)}


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
