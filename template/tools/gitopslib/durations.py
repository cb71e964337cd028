"""Go durations (time.ParseDuration), as Argo CD reads sync windows and promote reads soak times.

The one place of this rule: copier.yml's `sync_windows` and `soak` questions
(extensions/answer_checks.py, which loads this file by path) and `tools/gitops promote`'s soak gate
read durations with it. Standard library only, and no imports from gitopslib, for the same reason as
layout.py.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

GO_UNITS = {"ns": 1, "us": 10**3, "\u00b5s": 10**3, "\u03bcs": 10**3, "ms": 10**6, "s": 10**9}
GO_UNITS |= {"m": 60 * 10**9, "h": 3600 * 10**9}
GO_DURATION_PART = re.compile(r"(\d+\.?\d*|\.\d+)(ns|us|\u00b5s|\u03bcs|ms|s|m|h)", re.ASCII)
GO_DURATION = re.compile(r"^[-+]?(0|((\d+\.?\d*|\.\d+)(ns|us|\u00b5s|\u03bcs|ms|s|m|h))+)$", re.ASCII)
NANOSECONDS_PER_SECOND = 10**9


def shown(value: Any) -> str:
    """The value as the user typed it, short enough for a one-line message."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def duration_problem(duration: Any) -> str:
    """Why `duration` is not a positive Go duration ("" when it is one)."""
    if not isinstance(duration, str) or not GO_DURATION.fullmatch(duration):
        return f"{shown(duration)} is not a duration such as 2h, 1h30m or 90m"
    if duration.startswith("-") or _nanoseconds(duration) <= 0:
        # Go keeps whole nanoseconds: 0.5ns is 0, which is not positive either.
        return f"{shown(duration)} is not a positive duration"
    # time.ParseDuration refuses more than an int64 of nanoseconds (about 2,562,047h).
    if _nanoseconds(duration) >= 2**63:
        return f"{shown(duration)} is longer than Go's durations reach"
    return ""


def duration_seconds(duration: str) -> Decimal:
    """The length of a duration that duration_problem accepts, in seconds."""
    return _nanoseconds(duration) / NANOSECONDS_PER_SECOND


def _nanoseconds(duration: str) -> Decimal:
    """As time.ParseDuration counts: each part's fraction of its unit cut to whole nanoseconds."""
    return sum(
        (
            Decimal(int(Decimal(number) * GO_UNITS[unit]))
            for number, unit in GO_DURATION_PART.findall(duration)
        ),
        Decimal(0),
    )
