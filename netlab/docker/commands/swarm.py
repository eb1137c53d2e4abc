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

from netlab.docker import filters
from netlab.docker.commands.system import ENGINE_VERSION
from netlab.docker.context import Context, DaemonError
from netlab.docker.output import print_formatted, print_objects
from netlab.errors import NetlabError
from netlab.model import cluster, ingress, names, swarm
from netlab.model.records import ServicePort, ServiceRec, SwarmRec
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


def cmd_node_update(ctx: Context, opts: dict[str, Any], args: list[str]) -> int:
    if opts["availability"] is None:
        ctx.print(args[0])  # (nothing to change: docker/cli prints the node all the same)
        return 0
    ctx.print(swarm.update_node(ctx.host, args[0], opts["availability"]))
    return 0


def cmd_node_rm(ctx: Context, opts: dict[str, Any], args: list[str]) -> int:
    """docker/cli v28.5.2 cli/command/node/remove.go: each removed, errors last."""
    errors = []
    for ref in args:
        try:
            ctx.print(swarm.remove_node(ctx.host, ref, force=bool(opts["force"])))
        except NetlabError as exc:
            errors.append(f"Error response from daemon: {exc}")
    if errors:
        ctx.err.append("\n".join(errors) + "\n")
        return 1
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
                node.availability.capitalize(),
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
    mode = (opts["mode"] or "replicated").lower()
    # (docker/cli v28.5.2 cli/command/service/opts.go ToServiceMode: the CLI's own errors)
    if mode not in ("replicated", "global"):
        ctx.err.append(f"invalid replicated mode {opts['mode']}\n")
        return 1
    max_text = opts["replicas-max-per-node"]
    if mode == "global" and opts["replicas"] is not None:
        ctx.err.append("replicas can only be used with replicated or replicated-job mode\n")
        return 1
    if mode == "global" and max_text is not None:
        ctx.err.append(
            "replicas-max-per-node can only be used with replicated or replicated-job mode\n"
        )
        return 1
    if max_text is not None and not max_text.isdigit():
        return ctx.flag_error(
            f'invalid argument "{max_text}" for "--replicas-max-per-node" flag: '
            f'strconv.ParseUint: parsing "{max_text}": invalid syntax'
        )
    endpoint_mode = (opts["endpoint-mode"] or "vip").lower()
    if endpoint_mode not in ("vip", "dnsrr"):  # (moby v28.5.2 daemon/cluster/convert/service.go)
        raise DaemonError(f'invalid resolution mode: "{opts["endpoint-mode"]}"')
    replicas = int(opts["replicas"]) if opts["replicas"] is not None else 1
    ports = _ports_flag(ctx, opts, "publish")
    if ports is None:
        return 125
    svc = swarm.create_service(
        ctx.host,
        name,
        args[0],
        args[1:],
        networks=opts["network"],
        replicas=replicas,
        mode=mode,
        constraints=opts["constraint"],
        max_per_node=int(max_text or 0),
        endpoint_mode=endpoint_mode,
        ports=ports,
    )
    ctx.print(svc.id)
    if not opts["detach"] and not opts["quiet"]:  # (-q: Docker still waits, silently)
        _display(ctx, _progress(svc.id, svc))
    return 0


def cmd_service_ls(ctx: Context, opts: dict[str, Any], args: list[str]) -> int:

    sw = cluster.require_manager(ctx.host)
    rows = [
        {
            "ID": s.id[:12],
            "Name": s.name,
            "Mode": s.mode,
            "Replicas": _replicas(s),
            "Image": _service_ref(opts, s.image),
            "Ports": ingress.ls_column(s.ports),
        }
        for s in sorted(sw.services.values(), key=lambda s: s.name)
    ]
    if opts["quiet"]:
        for r in rows:
            ctx.print(r["ID"])
        return 0
    if opts["format"]:
        return print_formatted(ctx, opts["format"], rows, SERVICE_HEADERS)
    ctx.print(tables.table(list(SERVICE_HEADERS.values()), [list(r.values()) for r in rows]))
    return 0


# (docker/cli v28.5.2 cli/command/service/formatter.go defaultServiceTableFormat)
SERVICE_HEADERS = {
    "ID": "ID",
    "Name": "NAME",
    "Mode": "MODE",
    "Replicas": "REPLICAS",
    "Image": "IMAGE",
    "Ports": "PORTS",
}


def _placement(s: ServiceRec) -> dict[str, Any]:
    """TaskTemplate.Placement, when it says something (api/types/swarm/task.go: Constraints
    and MaxReplicas omitempty)."""
    p: dict[str, Any] = {}
    if s.constraints:
        p["Constraints"] = list(s.constraints)
    if s.max_per_node:
        p["MaxReplicas"] = s.max_per_node
    return {"Placement": p} if p else {}


def _replicas(s: ServiceRec) -> str:
    """REPLICAS: running/desired (docker/cli v28.5.2 cli/command/service/formatter.go
    Replicas, with "(max N per node)")."""
    running = sum(1 for t in s.tasks.values() if t.container)
    text = f"{running}/{s.replicas}"
    return f"{text} (max {s.max_per_node} per node)" if s.max_per_node else text


TASK_HEADERS = {
    "ID": "ID",
    "Name": "NAME",
    "Image": "IMAGE",
    "Node": "NODE",
    "DesiredState": "DESIRED STATE",
    "CurrentState": "CURRENT STATE",
    "Error": "ERROR",
    "Ports": "PORTS",
}
# (moby v28.5.2 daemon/cluster/filters.go newListTasksFilters; swarmkit's TaskState names)
TASK_FILTERS = frozenset({"id", "name", "node", "desired-state", "label", "service", "runtime"})
TASK_STATES = [
    "new",
    "allocated",
    "pending",
    "assigned",
    "accepted",
    "preparing",
    "ready",
    "starting",
    "running",
    "complete",
    "shutdown",
    "failed",
    "rejected",
    "remove",
    "orphaned",
]


def cmd_service_ps(ctx: Context, opts: dict[str, Any], args: list[str]) -> int:
    """``docker service ps`` (docker/cli v28.5.2 cli/command/task/formatter.go): a global
    task is named by its node's ID, a pending one has no node, "Pending ... ago" and the
    scheduler's reason in ERROR (quoted, cut to 30 characters unless --no-trunc);
    ``--filter id|name|node|desired-state`` and ``--format``."""
    wanted = filters.from_flag(opts["filter"])
    if isinstance(wanted, str):
        return ctx.flag_error(wanted)
    filters.validate(wanted, TASK_FILTERS)
    for state in wanted.get("desired-state", []):
        if state and state.lower() not in TASK_STATES:
            raise DaemonError(f"Invalid desired-state filter: '{state}'")
    states = {"desired-state": [s.lower() for s in wanted.get("desired-state", [])]}
    sw = cluster.require_manager(ctx.host)
    recs = ctx.lab.store.containers()
    rows = []
    now = time.time()
    for ref in args:
        svc = swarm.find_service(sw, ref)
        for t in sorted(svc.tasks.values(), key=lambda t: (t.slot, t.node)):
            node_id = sw.nodes[t.node].id if t.node in sw.nodes else ""
            name = f"{svc.name}.{t.slot or node_id}"
            # docker/cli v28.5.2 cli/command/task/formatter.go: "Running 5 seconds ago",
            # "Running about a minute ago" (HumanDuration, lower-cased)
            state = "Running" if t.container else "Pending"
            err = t.error if opts["no-trunc"] else tables.ellipsis(t.error, 30)
            # (id and name are prefixes; node an ID or a hostname; every task's desired state
            # is running: netlab keeps no history of ended tasks)
            if not (
                filters.prefix(wanted, "id", t.id)
                and filters.prefix(wanted, "name", name)
                and any(filters.exact(wanted, "node", n) for n in (t.node, node_id))
                and filters.exact(states, "desired-state", "running")
                and (not wanted.get("label") and not wanted.get("runtime"))
            ):
                continue
            rows.append(
                {
                    "ID": t.id if opts["no-trunc"] else t.id[:12],
                    "Name": name,
                    "Image": _service_ref(opts, svc.image),
                    "Node": t.node,
                    "DesiredState": "Running",
                    "CurrentState": f"{state} {ago_lower(now - parse_rfc3339(t.created))}",
                    "Error": f'"{err}"' if err else "",
                    # (a task's host-mode ports, as its container got them: PortStatus)
                    "Ports": ",".join(
                        f"*:{m.host_port}->{m.container_port}/{m.proto}"
                        for m in (recs[t.container].ports if t.container in recs else ())
                    ),
                }
            )
    if opts["quiet"]:
        for r in rows:
            ctx.print(r["ID"])
        return 0
    if opts["format"]:
        return print_formatted(ctx, opts["format"], rows, TASK_HEADERS)
    ctx.print(tables.table(list(TASK_HEADERS.values()), [list(r.values()) for r in rows]))
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


def _ports_flag(ctx: Context, opts: dict[str, Any], flag: str) -> list[ServicePort] | None:
    """The values of ``--FLAG`` as ports; None when one is refused (the CLI's flag error is
    then printed: exit 125)."""
    ports = []
    name = "-p, --publish" if flag == "publish" else f"--{flag}"
    for value in opts[flag]:
        try:
            ports += ingress.parse_publish(value)
        except NetlabError as exc:
            ctx.flag_error(f'invalid argument "{value}" for "{name}" flag: {exc}')
            return None
    return ports


def cmd_service_update(ctx: Context, opts: dict[str, Any], args: list[str]) -> int:
    """``docker service update`` (docker/cli v28.5.2 cli/command/service/update.go): prints
    the service as given, then (unless ``-d``) the progress of the rolling update."""
    add = _ports_flag(ctx, opts, "publish-add")
    rm = _ports_flag(ctx, opts, "publish-rm") if add is not None else None
    if add is None or rm is None:
        return 125
    replicas = opts["replicas"]
    if replicas is not None and not str(replicas).isdigit():
        return ctx.flag_error(
            f'invalid argument "{replicas}" for "--replicas" flag: '
            f'strconv.ParseUint: parsing "{replicas}": invalid syntax'
        )
    sw = cluster.require_manager(ctx.host)
    if replicas is not None and swarm.find_service(sw, args[0]).mode == "global":
        ctx.err.append("replicas can only be used with replicated or replicated-job mode\n")
        return 1
    svc = swarm.update_service(
        ctx.host,
        args[0],
        image=opts["image"],
        replicas=int(replicas) if replicas is not None else None,
        add_ports=add,
        rm_ports=rm,
    )
    ctx.print(args[0])
    if not opts["detach"] and not opts["quiet"]:
        _display(ctx, _progress(args[0], svc))
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


def cmd_service_logs(ctx: Context, opts: dict[str, Any], args: list[str]) -> int:
    """``docker service logs SERVICE|TASK`` as docker/cli v28.5.2 cli/command/service/logs.go
    prints them: each line after its task's name (``web.1.<task id>@node1``, the slot padded
    to the widest of the service's replicas) and ``    | `` (``--raw``: the lines alone;
    ``--no-task-ids``, ``--no-trunc``, ``--tail``). Lines come task after task (Docker
    interleaves them as they arrive), and stdout and stderr are one stream."""
    sw = cluster.require_manager(ctx.host)
    ref = args[0]
    tail = opts["tail"]
    if tail not in (None, "all") and not tail.lstrip("-").isdigit():
        raise DaemonError(f'invalid value for "tail": {tail}')
    try:
        svc = swarm.find_service(sw, ref)
        tasks = sorted(svc.tasks.values(), key=lambda t: (t.slot, t.node))
        width = len(str(svc.replicas)) if svc.mode == "replicated" else 0
    except NetlabError:
        found = [
            (s, t) for s in sw.services.values() for t in s.tasks.values() if t.id.startswith(ref)
        ]
        if not ref or len(found) != 1:  # (the CLI's own words, logs.go runLogs)
            ctx.err.append(f"no such task or service: {ref}\n")
            return 1
        svc, task = found[0]
        tasks, width = [task], len(str(task.slot))
    for t in tasks:
        if not t.container:
            continue
        text = ctx.lab.host(t.node).container(t.container).logs()
        lines = text.splitlines()
        if tail not in (None, "all") and int(tail) >= 0:
            lines = lines[len(lines) - int(tail) :] if int(tail) else []
        name = f"{svc.name}.{t.slot}"
        if not opts["no-task-ids"]:
            name += "." + (t.id if opts["no-trunc"] else t.id[:12])
        pad = " " * max(0, width - len(str(t.slot)))
        prefix = "" if opts["raw"] else f"{name}@{t.node}{pad}    | "
        for line in lines:
            ctx.print(prefix + line)
    return 0


def cmd_service_rm(ctx: Context, opts: dict[str, Any], args: list[str]) -> int:

    for ref in args:
        ctx.print(swarm.remove_service(ctx.host, ref))
    return 0


def _port_configs(s: ServiceRec) -> list[dict[str, Any]]:
    """Its ports as swarm's PortConfig (api/types/swarm/network.go: Name omitempty)."""
    return [
        {
            "Protocol": p.protocol,
            "TargetPort": p.target,
            "PublishedPort": p.published,
            "PublishMode": p.mode,
        }
        for p in s.ports
    ]


def _endpoint_spec(s: ServiceRec) -> dict[str, Any]:
    """EndpointSpec: the mode, and the ports asked for (Ports omitempty)."""
    return {"Mode": s.endpoint_mode, **({"Ports": _port_configs(s)} if s.ports else {})}


def _pretty(sw: SwarmRec, s: ServiceRec) -> str:
    """``service inspect --pretty``: docker/cli v28.5.2 cli/command/service/formatter.go
    serviceInspectPrettyTemplate, for what a netlab service has (no labels, update or
    rollback config, mounts, log driver: the CLI sends none unless asked), its whitespace
    as the template's trim markers leave it."""
    lines = ["", f"ID:\t\t{s.id}", f"Name:\t\t{s.name}"]
    if s.mode == "global":
        lines.append("Service Mode:\tGlobal")
    else:
        lines += ["Service Mode:\tReplicated", f" Replicas:\t{s.replicas}"]
    lines.append("Placement:")
    if s.constraints:
        lines.append(f" Constraints:\t[{' '.join(s.constraints)}]")
    if s.max_per_node:
        lines.append(f" Max Replicas Per Node:   {s.max_per_node}")
    lines += ["ContainerSpec:", f" Image:\t\t{_service_ref({}, s.image)}"]
    if s.command:
        lines.append(" Args:\t\t" + "".join(f"{a} " for a in s.command))
    lines += [" Init:\t\tfalse", "Resources:"]  # (the CLI always sends these two)
    if s.networks:
        lines.append("Networks:" + "".join(f" {sw.networks[n].name}" for n in s.networks) + " ")
    lines.append(f"Endpoint Mode:\t{s.endpoint_mode}")
    if s.ports:
        lines.append("Ports:")
        for p in s.ports:
            lines += [
                f" PublishedPort = {p.published}",
                f"  Protocol = {p.protocol}",
                f"  TargetPort = {p.target}",
                f"  PublishMode = {p.mode}",
            ]
        lines[-1] += " "
    return "\n".join(lines) + "\n"


def cmd_service_inspect(ctx: Context, opts: dict[str, Any], args: list[str]) -> int:

    if opts["pretty"] and opts.get("format"):  # (docker/cli v28.5.2 service/inspect.go)
        ctx.err.append("--format is incompatible with human friendly format\n")
        return 1
    sw = cluster.require_manager(ctx.host)
    if opts["pretty"]:
        ctx.out.append("".join(_pretty(sw, swarm.find_service(sw, ref)) for ref in args))
        return 0
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
                        **_placement(s),
                        "Networks": [{"Target": n} for n in s.networks],
                    },
                    "Mode": {"Global": {}}
                    if s.mode == "global"
                    else {"Replicated": {"Replicas": s.replicas}},
                    "EndpointSpec": _endpoint_spec(s),
                },
                # (api/types/swarm/service.go Endpoint: Ports, VirtualIPs omitempty)
                "Endpoint": {
                    "Spec": _endpoint_spec(s),
                    **({"Ports": _port_configs(s)} if s.ports else {}),
                    **(
                        {"VirtualIPs": [{"NetworkID": n, "Addr": a} for n, a in s.vips.items()]}
                        if s.vips
                        else {}
                    ),
                },
            }
        )
    print_objects(ctx, objs, opts.get("format"))
    return 0
