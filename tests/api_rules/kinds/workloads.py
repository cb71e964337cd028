"""Workloads: Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob and Pod."""

from __future__ import annotations

import re
import zoneinfo

from ..cron import cronjob_schedule_problem
from ..fields import (
    Obj,
    int_field,
    int_or_percent_problems,
    int_or_percent_value,
    map_field,
    nested_map,
    one_of,
)
from ..metadata import labels_problems
from ..names import dns1123_label_problem, name_problems
from ..pods import (
    ALL_RESTART_POLICIES,
    CONTROLLER_RESTART,
    JOB_RESTART,
    pod_spec_problems,
    pod_template_problems,
)
from ..scalars import show, type_problem
from ..selectors import selector_matches, selector_problems


def _strategy_problems(spec: Obj) -> list[str]:
    """ValidateDeploymentStrategy; maxSurge and maxUnavailable both default to 25%."""
    out: list[str] = []
    strategy = map_field(spec, "strategy", "spec", out)
    kind = strategy.get("type", "RollingUpdate")
    if kind not in ("RollingUpdate", "Recreate"):
        return [f"spec.strategy.type: {show(kind)} is not RollingUpdate or Recreate"]
    rolling = map_field(strategy, "rollingUpdate", "spec.strategy", out)
    if kind == "Recreate":
        return out + (["spec.strategy.rollingUpdate: may not be set with type Recreate"] if rolling else [])
    surge, unavailable = rolling.get("maxSurge", "25%"), rolling.get("maxUnavailable", "25%")
    out.extend(int_or_percent_problems(surge, "spec.strategy.rollingUpdate.maxSurge", at_most_100=False))
    out.extend(int_or_percent_problems(unavailable, "spec.strategy.rollingUpdate.maxUnavailable"))
    if int_or_percent_value(surge) == 0 and int_or_percent_value(unavailable) == 0:
        out.append("spec.strategy.rollingUpdate.maxUnavailable: may not be 0 when maxSurge is 0")
    return out


def _controller_selector_problems(spec: Obj, kind: str) -> list[str]:
    """A required, non-empty selector that matches the pod template's labels."""
    selector = spec.get("selector")
    if selector is None:
        return ["spec.selector: is required"]
    out = selector_problems(selector, "spec.selector")
    if out or not isinstance(selector, dict):
        return out
    if not selector.get("matchLabels") and not selector.get("matchExpressions"):
        return [f"spec.selector: an empty selector is invalid for a {kind}"]
    if not selector_matches(selector, nested_map(spec, "template", "metadata", "labels")):
        return ["spec.template.metadata.labels: selector does not match template labels"]
    return []


def controller_problems(obj: Obj) -> list[str]:
    """Deployment, StatefulSet, DaemonSet and ReplicaSet."""
    kind = str(obj.get("kind"))
    out: list[str] = []
    spec = map_field(obj, "spec", "", out)
    int_field(spec, "replicas", "spec", out, minimum=0)
    int_field(spec, "minReadySeconds", "spec", out, minimum=0)
    int_field(spec, "revisionHistoryLimit", "spec", out, minimum=0)
    out.extend(_controller_selector_problems(spec, kind))
    template = map_field(spec, "template", "spec", out)
    out.extend(pod_template_problems(template, "spec.template", CONTROLLER_RESTART))
    if kind == "Deployment":
        out.extend(_strategy_problems(spec))
    if kind == "StatefulSet":
        out.extend(
            name_problems(spec.get("serviceName"), "spec.serviceName", dns1123_label_problem, required=False)
        )
    return out


def _job_spec_problems(spec: Obj, path: str) -> list[str]:
    out: list[str] = []
    for key in ("parallelism", "completions", "backoffLimit", "ttlSecondsAfterFinished"):
        int_field(spec, key, path, out, minimum=0)
    int_field(spec, "activeDeadlineSeconds", path, out, minimum=0, bits=64)
    template = map_field(spec, "template", path, out)
    return out + pod_template_problems(template, f"{path}.template", JOB_RESTART)


def job_problems(obj: Obj) -> list[str]:
    out: list[str] = []
    spec = map_field(obj, "spec", "", out)
    return out + _job_spec_problems(spec, "spec")


_CONCURRENCY_POLICIES = frozenset({"Allow", "Forbid", "Replace"})
_TZ_PART_RE = re.compile(r"[A-Za-z.\-_0-9+]{1,14}")


def _timezone_problem(zone: object, path: str) -> str:
    """validateTimeZone: an explicit IANA name, never Local."""
    if not isinstance(zone, str):
        return type_problem(path, zone, "a time zone name")
    if not zone or not all(_TZ_PART_RE.fullmatch(part) for part in zone.split("/")):
        return f"{path}: unknown time zone {zone!r}"
    if zone.lower() == "local":
        return f"{path}: must be an explicit IANA time zone, not Local"
    try:
        zoneinfo.ZoneInfo(zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return f"{path}: unknown time zone {zone!r}"
    return ""


def cronjob_problems(obj: Obj) -> list[str]:
    out: list[str] = []
    spec = map_field(obj, "spec", "", out)
    if "schedule" not in spec:
        out.append("spec.schedule: is required")
    elif problem := cronjob_schedule_problem(spec["schedule"]):
        out.append(f"spec.schedule: {problem}")
    if spec.get("timeZone") is not None and (problem := _timezone_problem(spec["timeZone"], "spec.timeZone")):
        out.append(problem)
    policy = spec.get("concurrencyPolicy", "Allow")
    if not one_of(policy, _CONCURRENCY_POLICIES):
        out.append(f"spec.concurrencyPolicy: {show(policy)} is not one of Allow, Forbid, Replace")
    int_field(spec, "startingDeadlineSeconds", "spec", out, minimum=0, bits=64)
    for key in ("successfulJobsHistoryLimit", "failedJobsHistoryLimit"):
        int_field(spec, key, "spec", out, minimum=0)
    job_template = map_field(spec, "jobTemplate", "spec", out)
    job_metadata = map_field(job_template, "metadata", "spec.jobTemplate", out)
    out.extend(labels_problems(job_metadata.get("labels"), "spec.jobTemplate.metadata.labels"))
    out.extend(
        _job_spec_problems(map_field(job_template, "spec", "spec.jobTemplate", out), "spec.jobTemplate.spec")
    )
    return out


def pod_problems(obj: Obj) -> list[str]:
    out: list[str] = []
    spec = map_field(obj, "spec", "", out)
    return out + pod_spec_problems(spec, "spec", ALL_RESTART_POLICIES)
