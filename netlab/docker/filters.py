"""``--filter KEY=VALUE``, as the docker CLI parses it and the daemon applies it.

The CLI only splits each value at its first ``=`` (docker/cli ``opts/opts.go``: "bad format of
filter (expected name=value)"); the daemon checks the keys (moby ``api/types/filters``:
"invalid filter 'KEY'") and matches: a value equal to the field, or a Go regular expression
found in it (``Args.Match``), so ``name=web`` also lists ``web1``. Several values of one key
are alternatives; different keys must all match.

>>> f = parse(["name=web", "status=running"])
>>> matches(f, "name", "web1"), matches(f, "name", "db")
(True, False)
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from netlab.errors import InvalidArgument

Filters = dict[str, list[str]]

# moby v28.5.2 daemon/list.go acceptedPsFilterTags
PS_KEYS = frozenset(
    {
        "ancestor",
        "before",
        "exited",
        "id",
        "isolation",
        "label",
        "name",
        "status",
        "health",
        "since",
        "volume",
        "network",
        "is-task",
        "publish",
        "expose",
    }
)
# moby v28.5.2 daemon/network/filter.go and api/server/router/network (acceptedFilters)
NETWORK_KEYS = frozenset({"dangling", "driver", "id", "label", "name", "scope", "type"})
# api/types/container/state.go validStates, in Docker's order
STATES = ("created", "running", "paused", "restarting", "removing", "exited", "dead")


class FilterFormatError(ValueError):
    """A ``--filter`` value without ``=`` (the CLI refuses it before asking the daemon)."""


def parse(values: Iterable[str]) -> Filters:
    """``["name=web", "status=exited"]`` as ``{"name": ["web"], "status": ["exited"]}``."""
    out: Filters = {}
    for v in values:
        key, sep, value = v.partition("=")
        if not sep:
            raise FilterFormatError("bad format of filter (expected name=value)")
        out.setdefault(key.strip().lower(), []).append(value.strip())
    return out


def from_flag(values: list[str]) -> Filters | str:
    """The ``--filter`` values parsed, or the CLI's refusal of one without ``=`` (pflag's
    words, for :meth:`netlab.docker.context.Context.flag_error`)."""
    try:
        return parse(values)
    except FilterFormatError as exc:
        bad = next(v for v in values if "=" not in v)
        return f'invalid argument "{bad}" for "-f, --filter" flag: {exc}'


def validate(filters: Mapping[str, list[str]], accepted: frozenset[str]) -> None:
    """The daemon's refusal of a key it does not know."""
    for key in filters:
        if key not in accepted:
            raise InvalidArgument(f"invalid filter '{key}'")


def matches(filters: Mapping[str, list[str]], key: str, source: str) -> bool:
    """Docker's ``Args.Match``: true without that key, or if one value equals ``source`` or
    is a regular expression found in it (an invalid one matches nothing)."""
    values = filters.get(key)
    if not values:
        return True
    for v in values:
        if v == source:
            return True
        try:
            if re.search(v, source):
                return True
        except re.error:
            continue
    return False


def exact(filters: Mapping[str, list[str]], key: str, source: str) -> bool:
    """Docker's ``Args.ExactMatch``: true without that key, or if one value equals ``source``."""
    values = filters.get(key)
    return not values or source in values


def prefix(filters: Mapping[str, list[str]], key: str, source: str) -> bool:
    """Swarm's ``NamePrefixes``/``IDPrefixes``: true without that key, or if ``source``
    starts with one value (moby v28.5.2 daemon/cluster/filters.go)."""
    values = filters.get(key)
    return not values or any(source.startswith(v) for v in values)


def labels_match(filters: Mapping[str, list[str]], labels: Mapping[str, str]) -> bool:
    """Docker's ``Args.MatchKVList("label", ...)``: every ``KEY`` or ``KEY=VALUE`` given holds."""
    for v in filters.get("label", []):
        key, sep, value = v.partition("=")
        if key not in labels or (sep and labels[key] != value):
            return False
    return True
