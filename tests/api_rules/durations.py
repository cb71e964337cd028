"""Go durations (time.ParseDuration, src/time/format.go), as Argo CD reads sync window durations."""

from __future__ import annotations

from .scalars import DIGITS, INT64_MAX, describe, show

_DURATION_UNITS = {
    "ns": 1,
    "us": 10**3,
    "\u00b5s": 10**3,  # micro sign
    "\u03bcs": 10**3,  # Greek small letter mu
    "ms": 10**6,
    "s": 10**9,
    "m": 60 * 10**9,
    "h": 3600 * 10**9,
}


def _leading_int(text: str) -> tuple[int, str] | None:
    """time.leadingInt: digits, or None on overflow past 1<<63."""
    number = 0
    index = 0
    while index < len(text) and text[index] in DIGITS:
        if number > (1 << 63) // 10:
            return None
        number = number * 10 + int(text[index])
        if number > 1 << 63:
            return None
        index += 1
    return number, text[index:]


def _leading_fraction(text: str) -> tuple[int, float, str]:
    """time.leadingFraction: digits after '.', precision silently dropped past int64."""
    number, scale, index, overflow = 0, 1.0, 0, False
    while index < len(text) and text[index] in DIGITS:
        if not overflow:
            candidate = number * 10 + int(text[index])
            if number > INT64_MAX // 10 or candidate > 1 << 63:
                overflow = True
            else:
                number, scale = candidate, scale * 10
        index += 1
    return number, scale, text[index:]


def _parse_duration_element(text: str) -> tuple[int, str] | str:
    """One `[0-9]*(.[0-9]*)?unit` element: (nanoseconds, rest) or an error message."""
    if not text or not (text[0] == "." or text[0] in DIGITS):
        return "invalid duration"
    leading = _leading_int(text)
    if leading is None:
        return "invalid duration (overflow)"
    whole, rest = leading
    had_whole = len(rest) != len(text)
    fraction, scale, had_fraction = 0, 1.0, False
    if rest.startswith("."):
        fraction, scale, after = _leading_fraction(rest[1:])
        had_fraction = len(after) != len(rest) - 1
        rest = after
    if not had_whole and not had_fraction:
        return "invalid duration"
    unit_end = 0
    while unit_end < len(rest) and rest[unit_end] != "." and rest[unit_end] not in DIGITS:
        unit_end += 1
    if unit_end == 0:
        return "missing unit in duration (ns, us, ms, s, m or h)"
    unit = _DURATION_UNITS.get(rest[:unit_end])
    if unit is None:
        return f"unknown unit {rest[:unit_end]!r} in duration"
    if whole > (1 << 63) // unit:
        return "invalid duration (overflow)"
    nanos = whole * unit + (int(float(fraction) * (float(unit) / scale)) if fraction else 0)
    return nanos, rest[unit_end:]


def go_parse_duration(text: str) -> int | str:
    """time.ParseDuration: nanoseconds, or an error message."""
    negative = text[:1] == "-"
    rest = text[1:] if text[:1] in ("+", "-") else text
    if rest == "0":
        return 0
    if not rest:
        return "invalid duration"
    total = 0
    while rest:
        element = _parse_duration_element(rest)
        if isinstance(element, str):
            return element
        nanos, rest = element
        total += nanos
        if nanos > 1 << 63 or total > 1 << 63:
            return "invalid duration (overflow)"
    if negative:
        return -total
    return total if total <= INT64_MAX else "invalid duration (overflow)"


def duration_problem(value: object) -> str:
    """A sync window duration: what Go's time.ParseDuration accepts, and positive.

    Argo CD only calls ParseDuration, but a window of zero or negative length is never open,
    which is never what was meant.
    """
    if not isinstance(value, str):
        return f"expected a duration string such as '1h30m', got {describe(value)}"
    parsed = go_parse_duration(value)
    if isinstance(parsed, str):
        return f"{show(value)} is not a Go duration: {parsed} (e.g. 90m, 1h30m, 1.5h)"
    if parsed <= 0:
        return f"{show(value)} must be a positive duration"
    return ""
