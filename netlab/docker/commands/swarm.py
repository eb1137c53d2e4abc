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
  ``--network``; unless ``-d`` it prints the converge progress as Docker does when it waits.
  ``service ls`` and ``service ps`` list services and their tasks, ``service scale
  NAME=N`` adds or removes tasks, ``service rm`` removes the service and its tasks, and
  ``service inspect`` prints the service's spec.
"""

from __future__ import annotations

import time
from typing import Any

from netlab.docker.commands.system import ENGINE_VERSION
from netlab.docker.context import Context, DaemonError
from netlab.docker.output import print_objects
from netlab.model import cluster, names, swarm
from netlab.model.timefmt import human_duration, parse_rfc3339
from netlab.views import tables


def cmd_swarm_init(ctx: Context, opts: dict[str, Any], args: list[str]) -> int:

    ctx.out.append(swarm.init(ctx.host, opts["advertise-addr"]))
    return 0


def cmd_swarm_join(ctx: Context, opts: dict[str, Any], args: list[str]) -> int:

    if not opts["token"]:
        raise DaemonError("netlab: give the join token: docker swarm join --token TOKEN ADDR")
    ctx.out.append(swarm.join(ctx.host, opts["token"], args[0]))
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
                "Ready",
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
    if not opts["detach"]:
        n = len(svc.tasks)
        ctx.print(f"overall progress: {n} out of {replicas} tasks")
        for i in range(1, n + 1):
            ctx.print(f"{i}/{replicas}: running   [{'=' * 49}>]")
        ctx.print(f"verify: Service {svc.id} converged")
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
            ago = human_duration(now - parse_rfc3339(t.created))
            rows.append(
                [
                    t.id[:12],
                    f"{svc.name}.{t.slot}",
                    _service_ref(opts, svc.image),
                    t.node,
                    "Running",
                    f"Running {ago} ago",
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

    sw = cluster.require_manager(ctx.host)
    for arg in args:
        name, eq, count = arg.partition("=")
        if not eq or not count.isdigit():
            raise DaemonError(
                f"invalid scale specifier '{arg}'.\nSee 'docker service scale --help'."
            )
        svc = swarm.find_service(sw, name)
        swarm.scale(ctx.host, svc, int(count))
        ctx.print(f"{name} scaled to {count}")
    ctx.print("overall progress: done\nverify: Service converged")
    return 0


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
