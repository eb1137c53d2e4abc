"""Time as Docker prints it: RFC 3339 with nanoseconds, and "5 seconds ago" phrases."""

from __future__ import annotations

import datetime as _dt
import time


def now_rfc3339() -> str:
    """Now in UTC, as Go's RFC3339Nano: trailing zeros of the fraction dropped."""
    return rfc3339(time.time_ns())


def rfc3339(ns: int) -> str:
    """Format nanoseconds since the epoch the way Docker's JSON does (``...T09:14:28.5058Z``)."""
    secs, frac = divmod(ns, 1_000_000_000)
    base = _dt.datetime.fromtimestamp(secs, _dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")
    fraction = f"{frac:09d}".rstrip("0")
    return f"{base}.{fraction}Z" if fraction else f"{base}Z"


def parse_rfc3339(text: str) -> float:
    """Seconds since the epoch from :func:`rfc3339`'s output (for "ago" phrases)."""
    base, _, frac = text.rstrip("Z").partition(".")
    dt = _dt.datetime.strptime(base, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=_dt.UTC)
    return dt.timestamp() + (float("0." + frac) if frac else 0.0)


def human_duration(seconds: float) -> str:
    """Docker's ``units.HumanDuration``: "Less than a second", "5 seconds", "About an hour"...

    As go-units v0.5.0 ``duration.go`` (vendored by docker/cli v28.5.2): whole seconds and
    minutes, hours rounded half up, then days, weeks and months of those hours, years of the
    unrounded hours. ``docker ps`` prints it as it is ("Up About a minute"); ``docker service
    ps`` lower-cases it (:func:`ago_lower`).

    >>> human_duration(0.4), human_duration(1), human_duration(42), human_duration(61)
    ('Less than a second', '1 second', '42 seconds', 'About a minute')
    >>> human_duration(3 * 3600), human_duration(2.5 * 3600), human_duration(3 * 86400)
    ('3 hours', '3 hours', '3 days')
    """
    s = int(seconds)
    if s < 1:
        return "Less than a second"
    if s == 1:
        return "1 second"
    if s < 60:
        return f"{s} seconds"
    minutes = int(seconds / 60)
    if minutes == 1:
        return "About a minute"
    if minutes < 60:
        return f"{minutes} minutes"
    hours = int(seconds / 3600 + 0.5)  # Go's int(d.Hours() + 0.5), not Python's round-half-even
    if hours == 1:
        return "About an hour"
    if hours < 48:
        return f"{hours} hours"
    if hours < 24 * 7 * 2:
        return f"{hours // 24} days"
    if hours < 24 * 30 * 2:
        return f"{hours // 24 // 7} weeks"
    if hours < 24 * 365 * 2:
        return f"{hours // 24 // 30} months"
    return f"{int(seconds / 3600) // 24 // 365} years"


def ago_lower(seconds: float) -> str:
    """``docker service ps``'s age of a task state: ``units.HumanDuration`` lower-cased, then
    " ago" (docker/cli v28.5.2 ``cli/command/task/formatter.go``, ``CurrentState``).

    >>> ago_lower(0.3), ago_lower(5), ago_lower(90), ago_lower(3600)
    ('less than a second ago', '5 seconds ago', 'about a minute ago', 'about an hour ago')
    """
    return f"{human_duration(seconds).lower()} ago"
