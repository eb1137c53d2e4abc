"""Docker's tables: ``docker ps``, ``docker network ls``, laid out as the docker CLI does.

The docker CLI pipes rows through Go's tabwriter with a minimum cell width of 10 and a
padding of 3: each column is as wide as its longest cell (header included) plus 3, at least
10, and the last column is not padded. ``COMMAND`` is cut to 19 characters plus ``…`` and
quoted.

>>> print(table(["NETWORK ID", "NAME"], [["31616f46d165", "bridge"]]))
NETWORK ID     NAME
31616f46d165   bridge
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from netlab.model import ids
from netlab.model.ports import ps_column
from netlab.model.records import ContainerRec
from netlab.model.timefmt import human_duration, parse_rfc3339

if TYPE_CHECKING:
    from netlab.model.container import Container
    from netlab.model.host import Host

PS_HEADERS = ["CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"]
NETWORK_LS_HEADERS = ["NETWORK ID", "NAME", "DRIVER", "SCOPE"]


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], *, minwidth: int = 10) -> str:
    """Lay out rows like the docker CLI's tabwriter (minwidth 10, or 20 for ``docker top``,
    padding 3)."""
    all_rows = [list(headers), *[list(r) for r in rows]]
    widths = [max(minwidth, max(len(r[i]) for r in all_rows) + 3) for i in range(len(headers))]
    lines = []
    for r in all_rows:
        cells = [cell.ljust(widths[i]) for i, cell in enumerate(r[:-1])] + [r[-1]]
        lines.append("".join(cells))
    return "\n".join(lines)


def ellipsis(text: str, width: int = 20) -> str:
    """Docker's ``Ellipsis``: keep ``width - 1`` characters and add ``…`` when too long."""
    return text if len(text) <= width else text[: width - 1] + "…"


def command_line(path: str, args: Sequence[str]) -> str:
    """How the daemon joins a container's command: args with spaces get single quotes."""
    parts = [path] + [f"'{a}'" if " " in a else a for a in args]
    return " ".join(parts)


def ps_row(c: Container, now: float | None = None) -> dict[str, str]:
    """One ``docker ps`` row as a dict (the keys of ``--format '{{json .}}'``)."""
    now = time.time() if now is None else now
    rec = c.record
    created = parse_rfc3339(rec.created)
    if rec.state == "running":
        started = parse_rfc3339(rec.started_at)
        status = f"Up {human_duration(now - started)}"
        if rec.paused:  # (moby container/state.go State.String)
            status += " (Paused)"
    elif rec.state == "exited":
        finished = parse_rfc3339(rec.finished_at)
        status = f"Exited ({rec.exit_code}) {human_duration(now - finished)} ago"
    else:
        status = "Created"
    return {
        "ID": ids.short_id(rec.id),
        "Image": rec.image,
        "Command": json.dumps(ellipsis(command_line(rec.path, rec.args)), ensure_ascii=False),
        "CreatedAt": rec.created,
        "RunningFor": f"{human_duration(now - created)} ago",
        "Status": status,
        "Ports": ports_column(rec),
        "Names": rec.name,
        "State": "paused" if rec.paused and rec.state == "running" else rec.state,
        "Networks": ",".join(rec.networks),
    }


def ports_column(rec: ContainerRec) -> str:
    """``docker ps``'s PORTS for a container record (empty once it has exited)."""

    if rec.state != "running":
        return ""
    return ps_column(rec.ports, rec.exposed_ports)


def ps(host: Host, *, all: bool = False, now: float | None = None) -> str:
    """``docker ps [-a]``."""
    rows = [ps_row(c, now) for c in host.containers(all=all)]
    keys = ["ID", "Image", "Command", "RunningFor", "Status", "Ports", "Names"]
    return table(PS_HEADERS, [[r[k] for k in keys] for r in rows])


def network_ls(host: Host) -> str:
    """``docker network ls``: sorted by name."""
    rows = [[ids.short_id(n.id), n.name, n.driver, n.scope] for n in host.networks()]
    return table(NETWORK_LS_HEADERS, rows)
