"""Swarm mode's commands: ``swarm init``/``join``/``join-token``, ``node ls`` and ``service
create``/``ls``/``ps``/``scale``/``rm``/``inspect``.

How Docker's swarm looks from the CLI, and what netlab does (the model is
:mod:`netlab.model.swarm`):

- ``docker swarm init`` makes the host a manager and prints the command a worker runs to
  join, with its token; ``docker swarm join --token TOKEN ADDR:2377`` on another host of the
  lab joins it, across the lab's LAN; ``docker swarm join-token worker|manager`` prints the
  join command again (``-q``: the token alone).
- Only a manager knows the swarm: ``node ls``, ``service ...`` and ``join-token`` elsewhere
  get Docker's "This node is not a swarm manager" error.
- ``docker node ls`` lists the nodes, ``*`` marking the one you talk to; the manager is the
  ``Leader`` (netlab's swarm has one manager and no raft).
- ``docker service create --replicas N IMAGE CMD`` starts N tasks (containers named
  ``SERVICE.SLOT.TASKID``) spread over the nodes, on the overlay networks given with
  ``--network``; unless ``-d`` it prints the converge progress as Docker does when it waits
  (``-q``: the ID alone). ``service ls`` and ``service ps`` list services and their tasks,
  ``service scale NAME=N`` adds or removes tasks (and prints the progress too, unless
  ``-d``), ``service rm`` removes the service and its tasks, and ``service inspect`` prints
  the service's spec.

The progress is what the CLI prints while it polls the service until it converges (docker/cli
v28.5.2 ``cli/command/service/progress/progress.go``), shown by moby's ``jsonmessage``
(``pkg/jsonmessage/jsonmessage.go``, moby v28.5.1 as vendored by docker/cli v28.5.2), which
prints it one of two ways:

- on a terminal, one line per ID (``overall progress``, ``1/2``, ``2/2``, ``verify``), each
  redrawn in place with cursor movements; what stays on the screen is::

      overall progress: 2 out of 2 tasks
      1/2: running   [==================================================>]
      2/2: running   [==================================================>]
      verify: Service 4hs5rgk0g4qq4ii5a4nlxm9fo converged

  (the bars only on a terminal wider than 110 columns);
- anywhere else (a notebook, a test, a pipe), every message on a line of its own, except the
  ones with a progress bar, which are left out: the tasks' lines appear once, empty
  (``1/2:  ``), and the 5-second wait before ``verify`` shows as its countdown, line after
  line.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from netlab.docker.commands.system import ENGINE_VERSION
from netlab.docker.context import Context, DaemonError
from netlab.docker.output import print_objects
from netlab.errors import NetlabError
from netlab.model import cluster, names, swarm
from netlab.model.records import ServiceRec
from netlab.model.timefmt import ago_lower, parse_rfc3339
from netlab.views import tables


def cmd_swarm_init(ctx: Context, opts: dict[str, Any], args: list[str]) -> int:

    ctx.out.append(swarm.init(ctx.host, opts["advertise-addr"]))
    return 0


def cmd_swarm_join(ctx: Context, opts: dict[str, Any], args: list[str]) -> int:

    if not opts["token"]:
        raise DaemonError("netlab: give the join token: docker swarm join --token TOKEN ADDR")
    ctx.out.append(swarm.join(ctx.host, opts["token"], args[0]))
    return 0


def cmd_swarm_leave(ctx: Context, opts: dict[str, Any], args: list[str]) -> int:
    ctx.out.append(swarm.leave(ctx.host, force=bool(opts["force"])))
    return 0


def cmd_swarm_join_token(ctx: Context, opts: dict[str, Any], args: list[str]) -> int:

    sw = cluster.require_manager(ctx.host)
    kind = args[0]
    if kind not in ("worker", "manager"):
        raise DaemonError(f"unknown role {kind}")
    token = sw.tokens[kind]
    if opts["quiet"]:
        ctx.print(token)
    else:
        ctx.print(
            f"To add a {kind} to this swarm, run the following command:\n\n"
            f"    docker swarm join --token {token} {sw.manager_addr}\n"
        )
    return 0


def cmd_node_ls(ctx: Context, opts: dict[str, Any], args: list[str]) -> int:

    sw = cluster.require_manager(ctx.host)
    rows = []
    hosts = ctx.lab.store.lab_record.hosts
    for name, node in sorted(sw.nodes.items(), key=lambda kv: hosts[kv[0]].index):
        mark = " *" if name == ctx.host.name else ""
        rows.append(
            [
                node.id + mark,
                name,
                "Ready" if node.status == "ready" else "Down",
                "Active",
                "Leader" if node.role == "manager" else "",
                ENGINE_VERSION,
            ]
        )
    if opts["quiet"]:
        for r in rows:
            ctx.print(r[0].split()[0])
        return 0
    ctx.print(
        tables.table(
            ["ID", "HOSTNAME", "STATUS", "AVAILABILITY", "MANAGER STATUS", "ENGINE VERSION"], rows
        )
    )
    return 0


def _service_ref(opts: dict[str, Any], img: str) -> str:
    return img if ":" in img else f"{img}:latest"


def cmd_service_create(ctx: Context, opts: dict[str, Any], args: list[str]) -> int:

    seq = len(cluster.services(ctx.lab))
    name = opts["name"] or names.random_name(f"{ctx.lab.name}/service/{seq}")
    if opts["replicas"] is not None and not str(opts["replicas"]).isdigit():
        raise DaemonError(
            f'invalid argument "{opts["replicas"]}" for "--replicas" flag: '
            f'strconv.ParseUint: parsing "{opts["replicas"]}": invalid syntax'
        )
    replicas = int(opts["replicas"]) if opts["replicas"] is not None else 1
    svc = swarm.create_service(
        ctx.host, name, args[0], args[1:], networks=opts["network"], replicas=replicas
    )
    ctx.print(svc.id)
    if not opts["detach"] and not opts["quiet"]:  # (-q: Docker still waits, silently)
        _display(ctx, _progress(svc.id, svc))
    return 0


def cmd_service_ls(ctx: Context, opts: dict[str, Any], args: list[str]) -> int:

    sw = cluster.require_manager(ctx.host)
    rows = [
        [
            s.id[:12],
            s.name,
            "replicated",
            f"{len(s.tasks)}/{s.replicas}",
            _service_ref(opts, s.image),
            "",
        ]
        for s in sorted(sw.services.values(), key=lambda s: s.name)
    ]
    if opts["quiet"]:
        for r in rows:
            ctx.print(r[0])
        return 0
    ctx.print(tables.table(["ID", "NAME", "MODE", "REPLICAS", "IMAGE", "PORTS"], rows))
    return 0


def cmd_service_ps(ctx: Context, opts: dict[str, Any], args: list[str]) -> int:

    sw = cluster.require_manager(ctx.host)
    rows = []
    now = time.time()
    for ref in args:
        svc = swarm.find_service(sw, ref)
        for t in sorted(svc.tasks.values(), key=lambda t: t.slot):
            # docker/cli v28.5.2 cli/command/task/formatter.go: "Running 5 seconds ago",
            # "Running about a minute ago" (HumanDuration, lower-cased)
            ago = ago_lower(now - parse_rfc3339(t.created))
            rows.append(
                [
                    t.id[:12],
                    f"{svc.name}.{t.slot}",
                    _service_ref(opts, svc.image),
                    t.node,
                    "Running",
                    f"Running {ago}",
                    "",
                    "",
                ]
            )
    if opts["quiet"]:
        for r in rows:
            ctx.print(r[0])
        return 0
    ctx.print(
        tables.table(
            ["ID", "NAME", "IMAGE", "NODE", "DESIRED STATE", "CURRENT STATE", "ERROR", "PORTS"],
            rows,
        )
    )
    return 0


def cmd_service_scale(ctx: Context, opts: dict[str, Any], args: list[str]) -> int:
    """As docker/cli v28.5.2 cli/command/service/scale.go: every argument checked first
    (scaleArgs), then each service scaled in turn, an error noted and the others scaled
    all the same, then the progress of each (unless ``-d``); the errors last, exit 1."""
    for arg in args:
        name, eq, count = arg.partition("=")
        if not eq or not name or not count:
            ctx.err.append(
                f"invalid scale specifier '{arg}'.\nSee 'docker {ctx.path} --help'.\n\n"
                f"Usage:  docker {ctx.path} {ctx.usage}\n\n"
                "Scale one or multiple replicated services\n"
            )
            return 1
    sw = cluster.require_manager(ctx.host)
    scaled, errors = [], []
    for arg in args:
        name, _, count = arg.partition("=")
        if not count.isdigit():  # (strconv.ParseUint)
            errors.append(
                f'{name}: invalid replicas value {count}: strconv.ParseUint: parsing "{count}": '
                "invalid syntax"
            )
            continue
        try:
            svc = swarm.find_service(sw, name)
            swarm.scale(ctx.host, svc, int(count))
        except NetlabError as exc:
            errors.append(f"{name}: Error response from daemon: {exc}")
            continue
        # docker/cli v28.5.2 cli/command/service/scale.go: the name as given, the count parsed
        ctx.print(f"{name} scaled to {int(count)}")
        scaled.append((name, svc.id))
    if not opts["detach"]:  # then it waits on each service in turn, by the name given
        sw = cluster.require_manager(ctx.host)
        for name, sid in scaled:
            _display(ctx, _progress(name, swarm.find_service(sw, sid)))
    if errors:
        ctx.err.append("\n".join(errors) + "\n")  # (errors.Join)
        return 1
    return 0


# --- the converge progress ----------------------------------------------------------------


@dataclass(frozen=True)
class _Message:
    """One message of the progress stream (a ``jsonmessage.JSONMessage``): an ID, its text
    (``Status``) and, for a task, a progress bar of ``current`` out of ``total``."""

    id: str
    status: str
    current: int = 0
    total: int = 0


_LONGEST_STATE = len("allocated")  # progress.go's longestState: task states are padded to it
_RUNNING = 9  # progress.go's numberedStates[running], out of maxProgress (9)
_MAX_PROGRESS_BARS = 20  # more replicas than this: no line per task
_MONITOR = 5  # seconds the CLI watches a converged service before "verify: ... converged"


def _progress(ref: str, svc: ServiceRec) -> list[_Message]:
    """What ``ServiceProgress`` (docker/cli v28.5.2 cli/command/service/progress/progress.go)
    writes for a replicated service whose tasks all run at its first poll, as netlab's do:
    netlab starts them before ``service create``/``scale`` returns. ``ref`` is the service as
    the CLI names it: the ID ``service create`` got back, the name given to ``service scale``.

    Docker polls every 200 ms: its first polls usually find tasks still ``preparing`` or
    ``starting`` (more "0 out of N tasks" lines, bars part-way), which netlab's cannot be.
    The countdown is the one a poll every 200 ms prints in the 5 seconds the CLI waits before
    it calls the service converged (5 lines each of 5 to 1 seconds; Docker's own count varies
    by a line or so with the time its requests take). netlab does not wait those 5 seconds.
    """
    n = svc.replicas
    running = sorted(svc.tasks.values(), key=lambda t: t.slot)
    msgs = [_Message("overall progress", f"0 out of {n} tasks")]
    if n <= _MAX_PROGRESS_BARS:
        msgs += [_Message(f"{i}/{n}", " ") for i in range(1, n + 1)]
        state = f"{'running':<{_LONGEST_STATE}}"
        msgs += [
            _Message(f"{i}/{n}", state, _RUNNING, _RUNNING) for i in range(1, len(running) + 1)
        ]
    msgs.append(_Message("overall progress", f"{len(running)} out of {n} tasks"))
    for left in range(_MONITOR, 0, -1):
        wait = f"Waiting {left} seconds to verify that tasks are stable..."
        msgs += [_Message("verify", wait)] * 5
    msgs.append(_Message("verify", f"Service {ref} converged"))
    return msgs


def _bar(msg: _Message, width: int) -> str:
    """``JSONProgress.String()`` of a task's message: the bar alone (``HideCounts``), and only
    on a terminal wider than 110 columns."""
    if msg.current <= 0 and msg.total <= 0:
        return ""
    filled = min(int(msg.current / msg.total * 100) // 2, 50)
    return f"[{'=' * filled}>{' ' * (50 - filled)}] " if width > 110 else ""


def _display(ctx: Context, msgs: list[_Message]) -> None:
    """``jsonmessage.DisplayJSONMessagesStream`` (moby v28.5.1 pkg/jsonmessage/jsonmessage.go)
    on ``ctx``'s stdout, as the CLI would on its own: a terminal or not."""
    if ctx.terminal is None:
        # Off a terminal ("disable progressbar in non-terminal"): a message whose progress
        # prints as something (a bar: jsonmessage takes a width of 200 here) is left out;
        # every other one is "ID: STATUS" on a line of its own.
        for m in msgs:
            if not (m.current > 0 or m.total > 0):
                ctx.print(f"{m.id}: {m.status}")
        return
    # On a terminal: a line per ID, redrawn where it is (cursor up, erase the line, write it,
    # cursor down again), every byte as the CLI writes them; only the time between them is
    # not Docker's, so the terminal shows at once the screen Docker's ends with.
    lines: dict[str, int] = {}
    out = []
    for m in msgs:
        if m.id not in lines:
            lines[m.id] = len(lines)
            out.append("\n")
        diff = len(lines) - lines[m.id]
        out.append(f"\x1b[{diff}A\x1b[2K\r{m.id}: {m.status} {_bar(m, ctx.terminal)}\r\x1b[{diff}B")
    ctx.out.append("".join(out))


def cmd_service_rm(ctx: Context, opts: dict[str, Any], args: list[str]) -> int:

    for ref in args:
        ctx.print(swarm.remove_service(ctx.host, ref))
    return 0


def cmd_service_inspect(ctx: Context, opts: dict[str, Any], args: list[str]) -> int:

    sw = cluster.require_manager(ctx.host)
    objs = []
    for ref in args:
        s = swarm.find_service(sw, ref)
        objs.append(
            {
                "ID": s.id,
                "CreatedAt": s.created,
                "Spec": {
                    "Name": s.name,
                    "TaskTemplate": {
                        "ContainerSpec": {
                            "Image": _service_ref(opts, s.image),
                            "Args": s.command,
                        },
                        "Networks": [{"Target": n} for n in s.networks],
                    },
                    "Mode": {"Replicated": {"Replicas": s.replicas}},
                },
            }
        )
    print_objects(ctx, objs, opts.get("format"))
    return 0
