"""robfig/cron v3 schedules, as Argo CD parses sync windows and Kubernetes CronJob schedules."""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Mapping

from .durations import go_parse_duration
from .scalars import INT64_MAX, describe, show

_GO_SPACE = "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
_GO_SPACE += "\u2028\u2029\u202f\u205f\u3000"


# robfig/cron v3 spec.go bounds; day-of-week stops at 6 (Sunday is 0 only, never 7).
_CRON_FIELDS: tuple[tuple[str, int, int, dict[str, int]], ...] = (
    ("minute", 0, 59, {}),
    ("hour", 0, 23, {}),
    ("day of month", 1, 31, {}),
    (
        "month",
        1,
        12,
        {
            n: i + 1
            for i, n in enumerate(
                ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
            )
        },
    ),
    ("day of week", 0, 6, {n: i for i, n in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))}),
)
_CRON_DESCRIPTORS = frozenset(
    {"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"}
)


def _go_fields(text: str) -> list[str]:
    """strings.Fields: split on Go's unicode.IsSpace (Python's str.split also splits on \\x1c-\\x1f)."""
    return [field for field in re.split(f"[{_GO_SPACE}]+", text) if field]


def _cron_number(text: str, names: Mapping[str, int]) -> int | str:
    """parseIntOrName then mustParseInt (strconv.Atoi, so '+5' and '05' pass, '-' never reaches it)."""
    if text.lower() in names:
        return names[text.lower()]
    if not re.fullmatch(r"[+-]?[0-9]+", text) or not -(2**63) <= int(text) <= INT64_MAX:
        return f"failed to parse int from {text!r}"
    if int(text) < 0:
        return f"negative number ({int(text)}) not allowed: {text!r}"
    return int(text)


def _cron_start_end(
    bounds: list[str], low: int, high: int, names: Mapping[str, int]
) -> tuple[int, int] | str:
    """The `N` or `N-M` part of getRange; robfig ignores anything after '*-' or '?-'."""
    if bounds[0] in ("*", "?"):
        return low, high
    start = _cron_number(bounds[0], names)
    if isinstance(start, str):
        return start
    if len(bounds) > 2:
        return f"too many hyphens: {'-'.join(bounds)!r}"
    end = start if len(bounds) == 1 else _cron_number(bounds[1], names)
    return end if isinstance(end, str) else (start, end)


def _cron_range_problem(expr: str, low: int, high: int, names: Mapping[str, int]) -> str:
    """getRange: `*`, `?`, N or N-M, optional /step; '?' is accepted in every field, as in robfig."""
    range_and_step = expr.split("/")
    bounds = range_and_step[0].split("-")
    start_end = _cron_start_end(bounds, low, high, names)
    if isinstance(start_end, str):
        return start_end
    start, end = start_end
    if len(range_and_step) > 2:
        return f"too many slashes: {expr!r}"
    step = 1
    if len(range_and_step) == 2:
        parsed_step = _cron_number(range_and_step[1], {})
        if isinstance(parsed_step, str):
            return parsed_step
        step = parsed_step
        if len(bounds) == 1:
            end = high  # "N/step" means "N-max/step"
    return _cron_bounds_problem(expr, start, end, step, (low, high))


def _cron_bounds_problem(expr: str, start: int, end: int, step: int, limits: tuple[int, int]) -> str:
    if start < limits[0]:
        return f"beginning of range ({start}) below minimum ({limits[0]}): {expr!r}"
    if end > limits[1]:
        return f"end of range ({end}) above maximum ({limits[1]}): {expr!r}"
    if start > end:
        return f"beginning of range ({start}) beyond end of range ({end}): {expr!r}"
    if step == 0:
        return f"step of range should be a positive number: {expr!r}"
    return ""


def _cron_timezone_prefix(spec: str) -> tuple[str, str]:
    """Strip a leading TZ=/CRON_TZ= zone; (rest, problem)."""
    space = spec.find(" ")
    if space < 0:
        return "", "a TZ= prefix needs a schedule after it (robfig/cron would panic)"
    zone = spec[spec.index("=") + 1 : space]
    if zone not in ("", "UTC", "Local"):
        try:
            zoneinfo.ZoneInfo(zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return "", f"provided bad location {zone!r}"
    return spec[space:].strip(_GO_SPACE), ""


def _cron_descriptor_problem(spec: str, descriptors: bool) -> str:
    if not descriptors:
        return "Argo CD's sync window parser does not accept descriptors such as @daily"
    if spec in _CRON_DESCRIPTORS:
        return ""
    if spec.startswith("@every "):
        parsed = go_parse_duration(spec[len("@every ") :])
        return parsed if isinstance(parsed, str) else ""
    return f"unrecognized descriptor {spec!r}"


def _cron_reason(spec: str, *, descriptors: bool) -> str:
    """robfig/cron v3 Parser.Parse with Minute|Hour|Dom|Month|Dow (plus Descriptor when asked)."""
    if not spec:
        return "empty spec string"
    if spec.startswith(("TZ=", "CRON_TZ=")):
        spec, problem = _cron_timezone_prefix(spec)
        if problem:
            return problem
    if spec.startswith("@"):
        return _cron_descriptor_problem(spec, descriptors)
    fields = _go_fields(spec)
    if len(fields) != len(_CRON_FIELDS):
        return f"expected exactly 5 fields (minute hour day-of-month month day-of-week), found {len(fields)}"
    for text, (label, low, high, names) in zip(fields, _CRON_FIELDS, strict=True):
        for expr in (part for part in text.split(",") if part):  # strings.FieldsFunc drops empty items
            if problem := _cron_range_problem(expr, low, high, names):
                return f"{label}: {problem}"
    return ""


def _cron_spec_problem(schedule: object, *, descriptors: bool) -> str:
    if not isinstance(schedule, str):
        return f"expected a cron schedule string, got {describe(schedule)}"
    reason = _cron_reason(schedule, descriptors=descriptors)
    return f"{show(schedule)} is not a valid schedule: {reason}" if reason else ""


def cron_problem(schedule: object) -> str:
    """A sync window schedule as Argo CD parses it.

    Source: argoproj/argo-cd pkg/apis/application/v1alpha1/types.go, SyncWindow.Validate and
    SyncWindow.active both build `cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow)`
    (no cron.Descriptor, so '@daily' is refused) from github.com/robfig/cron/v3 at
    v3.0.2-0.20210106135023-bc59245fe10e (parser.go getRange/parseIntOrName, spec.go bounds).
    """
    return _cron_spec_problem(schedule, descriptors=False)


def cronjob_schedule_problem(schedule: object) -> str:
    """CronJob.spec.schedule: cron.ParseStandard (descriptors allowed), but no TZ inside the string."""
    if isinstance(schedule, str) and "TZ" in schedule:
        return f"{show(schedule)}: TZ or CRON_TZ is refused in a CronJob schedule; use spec.timeZone"
    return _cron_spec_problem(schedule, descriptors=True)
