"""The docker commands netlab understands, each printing what the docker CLI prints.

Every command is a function ``(ctx, opts, args) -> int`` that writes to ``ctx.out`` and
``ctx.err`` and returns the exit status. Errors from the "daemon" (the model) are printed as
the docker CLI prints them: ``Error response from daemon: ...`` (exit 1), or, for
``docker run``, ``docker: Error response from daemon: ...`` and a hint (exit 125).
"""

from __future__ import annotations

import json
import platform
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from netlab import __version__
from netlab.docker.flags import Flag
from netlab.docker.template import render
from netlab.errors import NetlabError, NoSuchContainer, NoSuchNetwork
from netlab.model import cluster, ids, images, names, swarm
from netlab.model import inspect as inspect_view
from netlab.model.timefmt import human_duration, parse_rfc3339
from netlab.views import tables

if TYPE_CHECKING:
    from netlab.model.container import Container
    from netlab.model.host import Host, Network
    from netlab.model.lab import Lab

ENGINE_VERSION = "28.5.2"
API_VERSION = "1.51"


@dataclass
class Context:
    """One docker invocation: the lab and host it talks to, and what it printed."""

    lab: Lab
    host: Host
    out: list[str] = field(default_factory=list)
    err: list[str] = field(default_factory=list)

    def print(self, text: str = "") -> None:
        """A line on stdout."""
        self.out.append(text + "\n")

    def eprint(self, text: str = "") -> None:
        """A line on stderr."""
        self.err.append(text + "\n")


Handler = Callable[[Context, dict[str, Any], list[str]], int]


@dataclass(frozen=True)
class Command:
    """A docker (sub)command: how it is called, its flags, argument counts and handler."""

    path: str  # "network create"
    usage: str  # "[OPTIONS] NETWORK"
    summary: str
    flags: tuple[Flag, ...]
    handler: Handler
    min_args: int = 0
    max_args: int | None = None
    interspersed: bool = True

    def help_text(self) -> str:
        """What ``docker PATH --help`` prints."""
        lines = [f"\nUsage:  docker {self.path} {self.usage}".rstrip(), "", self.summary, ""]
        shown = [f for f in self.flags if not f.hidden]
        if shown:
            lines.append("Options:")
            lines += [f.usage() for f in shown]
        return "\n".join(lines)


class DaemonError(NetlabError):
    """An error the docker daemon would answer with (printed after its prefix)."""


FORMAT = Flag("format", takes_value=True, help="Format output using a custom template")


def _container(ctx: Context, ref: str) -> Container:
    return ctx.host.container(ref)


# --- containers ---------------------------------------------------------------------------------


def cmd_run(ctx: Context, opts: dict[str, Any], args: list[str]) -> int:
    image, command = args[0], args[1:]
    if opts["interactive"] and opts["tty"] and not opts["detach"]:
        raise DaemonError("the input device is not a TTY")
    images.lookup(image)  # Docker's pull error comes first, before any name check
    c = ctx.host.run(
        image,
        command,
        name=opts["name"] or None,  # --name "" means "pick one", as in Docker
        network=opts["network"] or opts["net"] or "bridge",
        hostname=opts["hostname"],
        tty=opts["tty"],
        interactive=opts["interactive"],
        env=opts["env"],
        publish=opts["publish"],
        publish_all=opts["publish-all"],
    )
    if opts["detach"]:
        ctx.print(c.id)
        if opts["rm"]:
            _mark_autoremove(c)  # removed by netlab as soon as it exits, as Docker does
        return 0
    code = _wait(c, timeout=60.0)
    logs = c.logs()
    if logs:
        ctx.out.append(logs if logs.endswith("\n") else logs + "\n")
    if opts["rm"]:
        c.remove(force=True)
    return code


def _mark_autoremove(c: Container) -> None:
    c.set_auto_remove()


def _wait(c: Container, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while c.status == "running":
        if time.monotonic() > deadline:
            c.stop()
            raise DaemonError(
                f"netlab stopped container {c.name} after {timeout:.0f} s: run it "
                "with -d to keep it running in the background"
            )
        time.sleep(0.005)
    return c.exit_code


def cmd_ps(ctx: Context, opts: dict[str, Any], args: list[str]) -> int:
    cs = ctx.host.containers(all=opts["all"])
    if opts["quiet"]:
        for c in cs:
            ctx.print(c.id if opts["no-trunc"] else c.short_id)
        return 0
    now = time.time()
    rows = [tables.ps_row(c, now) for c in cs]
    if opts["no-trunc"]:
        for r, c in zip(rows, cs, strict=True):
            r["ID"] = c.id
            r["Command"] = json.dumps(tables.command_line(c.record.path, c.record.args))
    fmt = opts["format"]
    if fmt:
        return _print_formatted(ctx, fmt, rows, PS_HEADERS)
    keys = ["ID", "Image", "Command", "RunningFor", "Status", "Ports", "Names"]
    ctx.print(tables.table(tables.PS_HEADERS, [[r[k] for k in keys] for r in rows]))
    return 0


PS_HEADERS = {
    "ID": "CONTAINER ID",
    "Image": "IMAGE",
    "Command": "COMMAND",
    "CreatedAt": "CREATED AT",
    "RunningFor": "CREATED",
    "Status": "STATUS",
    "Ports": "PORTS",
    "Names": "NAMES",
    "State": "STATE",
    "Networks": "NETWORKS",
}
NETWORK_HEADERS = {
    "ID": "NETWORK ID",
    "Name": "NAME",
    "Driver": "DRIVER",
    "Scope": "SCOPE",
    "IPv6": "IPV6",
    "Internal": "INTERNAL",
    "CreatedAt": "CREATED AT",
}


def _print_formatted(
    ctx: Context, fmt: str, rows: list[dict[str, Any]], headers: dict[str, str]
) -> int:
    """``--format``: a Go template per row; ``table TEMPLATE`` adds a header and columns."""

    if fmt == "json":
        fmt = "{{json .}}"
    if fmt.startswith("table"):
        body = fmt[5:].strip() or "{{.ID}}"
        body = body.replace("\\t", "\t")
        fields = re.findall(r"{{\s*\.(\w+)\s*}}", body)
        head = body
        for f in fields:
            head = re.sub(r"{{\s*\." + f + r"\s*}}", headers.get(f, f.upper()), head, count=1)
        cells = [head.split("\t")] + [render(body, r).split("\t") for r in rows]
        ctx.print(tables.table(cells[0], cells[1:]))
        return 0
    for r in rows:
        ctx.print(render(fmt, r))
    return 0


def cmd_exec(ctx: Context, opts: dict[str, Any], args: list[str]) -> int:
    c = _container(ctx, args[0])
    env = list(opts["env"])
    argv = ["env", *env, *args[1:]] if env else args[1:]
    if opts["detach"]:
        c.exec_detached(argv)  # docker exec -d: started, not waited for, output dropped
        return 0
    result = c.exec(argv, timeout=120)
    if "nsenter: failed to execute" in result.stderr:
        ctx.err.append(
            "OCI runtime exec failed: exec failed: unable to start container process: exec: "
            f'"{args[1]}": executable file not found in $PATH: unknown\n'
        )
        return 127
    if result.stdout:
        ctx.out.append(result.stdout)
    if result.stderr:
        ctx.err.append(result.stderr)
    return result.returncode


def cmd_inspect(ctx: Context, opts: dict[str, Any], args: list[str]) -> int:
    found: list[dict[str, Any]] = []
    missing: list[str] = []
    for ref in args:
        obj: dict[str, Any] | None = None
        if opts.get("type") in (None, "container"):
            try:
                obj = _container(ctx, ref).inspect()
            except NoSuchContainer:
                obj = None
        if obj is None and opts.get("type") in (None, "network"):
            try:
                obj = ctx.host.network(ref).inspect()
            except NoSuchNetwork:
                obj = None
        if obj is None:
            missing.append(ref)
        else:
            found.append(obj)
    _print_objects(ctx, found, opts.get("format"))
    for ref in missing:
        ctx.eprint(f"Error: No such object: {ref}")
    return 1 if missing else 0


def _print_objects(ctx: Context, objs: list[dict[str, Any]], fmt: str | None) -> None:
    if fmt:
        for o in objs:
            ctx.print(render(fmt, o))
    else:
        ctx.print(inspect_view.render(objs))


def cmd_container_inspect(ctx: Context, opts: dict[str, Any], args: list[str]) -> int:
    found, missing = [], []
    for ref in args:
        try:
            found.append(_container(ctx, ref).inspect())
        except NoSuchContainer:
            missing.append(ref)
    _print_objects(ctx, found, opts.get("format"))
    for ref in missing:
        ctx.eprint(f"Error response from daemon: No such container: {ref}")
    return 1 if missing else 0


def _each(ctx: Context, refs: list[str], action: Callable[[Container], None]) -> int:
    """Apply ``action`` to each container, printing its reference as docker does."""
    return _each_ref(ctx, refs, lambda ref: action(_container(ctx, ref)))


def _each_ref(ctx: Context, refs: list[str], action: Callable[[str], None]) -> int:
    """Run ``action`` for each reference; print it when done, Docker's error when not."""
    code = 0
    for ref in refs:
        try:
            action(ref)
            ctx.print(ref)
        except NetlabError as exc:
            ctx.eprint(f"Error response from daemon: {exc}")
            code = 1
    return code


def cmd_stop(ctx: Context, opts: dict[str, Any], args: list[str]) -> int:
    return _each(ctx, args, lambda c: c.stop())


def cmd_start(ctx: Context, opts: dict[str, Any], args: list[str]) -> int:
    return _each(ctx, args, lambda c: c.start())


def cmd_rm(ctx: Context, opts: dict[str, Any], args: list[str]) -> int:
    return _each(ctx, args, lambda c: c.remove(force=opts["force"]))


def cmd_logs(ctx: Context, opts: dict[str, Any], args: list[str]) -> int:
    text = _container(ctx, args[0]).logs()
    tail = opts["tail"]
    if tail not in (None, "all"):
        if not tail.lstrip("-").isdigit():
            raise DaemonError(f'invalid value for "tail": {tail}')
        n = int(tail)
        if n >= 0:  # Docker: a negative count means all of it
            lines = text.splitlines(keepends=True)
            text = "".join(lines[len(lines) - n :]) if n else ""
    ctx.out.append(text)
    return 0


def cmd_port(ctx: Context, opts: dict[str, Any], args: list[str]) -> int:
    c = _container(ctx, args[0])
    maps = c.record.ports if c.running else []
    if len(args) == 2:
        want = args[1] if "/" in args[1] else args[1] + "/tcp"
        maps = [m for m in maps if m.key == want]
        if not maps:
            ctx.eprint(f"Error: No public port '{args[1]}' published for {args[0]}")
            return 1
        for m in maps:
            ctx.print(f"{m.host_ip}:{m.host_port}")
        return 0
    for m in sorted(maps, key=lambda m: (m.container_port, m.proto, m.host_ip)):
        ctx.print(f"{m.key} -> {m.host_ip}:{m.host_port}")
    return 0


def cmd_images(ctx: Context, opts: dict[str, Any], args: list[str]) -> int:
    rows = [
        [img.name, img.tag, img.image_id.split(":")[1][:12], "2 weeks ago", img.size]
        for img in sorted(images.IMAGES.values(), key=lambda i: i.name)
    ]
    if opts["quiet"]:
        for r in rows:
            ctx.print(r[2])
        return 0
    ctx.print(tables.table(["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"], rows))
    return 0


def cmd_version(ctx: Context, opts: dict[str, Any], args: list[str]) -> int:

    ctx.print(
        f"Client:\n Version:           {ENGINE_VERSION} (netlab {__version__})\n"
        f" API version:       {API_VERSION}\n\n"
        f"Server: netlab (Docker networking emulated on the Linux kernel)\n"
        f" Engine:\n  Version:          {ENGINE_VERSION}\n"
        f"  API version:      {API_VERSION}\n"
        f"  Host:             {ctx.host.name} in lab {ctx.lab.name}"
    )
    return 0


def cmd_info(ctx: Context, opts: dict[str, Any], args: list[str]) -> int:

    cs = ctx.host.containers(all=True)
    running = sum(1 for c in cs if c.running)
    ctx.print(
        "Server:\n"
        f" Containers: {len(cs)}\n  Running: {running}\n  Paused: 0\n"
        f"  Stopped: {len(cs) - running}\n"
        f" Images: {len(images.IMAGES)}\n"
        f" Server Version: {ENGINE_VERSION}\n"
        " Network: bridge host null\n"
        f" Kernel Version: {platform.release()}\n"
        f" Name: {ctx.host.name}\n"
        " Firewall Backend: nftables\n"
        " (netlab: every network object is real; containers share the machine's files)"
    )
    return 0


# --- networks -----------------------------------------------------------------------------------


def _network_row(n: Network) -> dict[str, Any]:
    return {
        "ID": ids.short_id(n.id),
        "Name": n.name,
        "Driver": n.driver,
        "Scope": n.scope,
        "IPv6": "false",
        "Internal": str(n.rec.internal).lower(),
        "CreatedAt": n.rec.created,
        "Labels": "",
    }


def cmd_network_ls(ctx: Context, opts: dict[str, Any], args: list[str]) -> int:
    nets = ctx.host.networks()
    if opts["quiet"]:
        for n in nets:
            ctx.print(n.id if opts["no-trunc"] else ids.short_id(n.id))
        return 0
    rows = [_network_row(n) for n in nets]
    if opts["no-trunc"]:
        for r, n in zip(rows, nets, strict=True):
            r["ID"] = n.id
    if opts["format"]:
        return _print_formatted(ctx, opts["format"], rows, NETWORK_HEADERS)
    ctx.print(
        tables.table(
            tables.NETWORK_LS_HEADERS, [[r["ID"], r["Name"], r["Driver"], r["Scope"]] for r in rows]
        )
    )
    return 0


def cmd_network_create(ctx: Context, opts: dict[str, Any], args: list[str]) -> int:
    # (Like the docker CLI's map options, "-o KEY" alone means KEY="".)
    options = dict(opt.partition("=")[::2] for opt in opts["opt"])
    net = ctx.host.create_network(
        args[0],
        driver=opts["driver"] or "bridge",
        subnet=opts["subnet"],
        gateway=opts["gateway"],
        internal=bool(opts["internal"]),
        options=options,
    )
    ctx.print(net.id)
    return 0


def cmd_network_inspect(ctx: Context, opts: dict[str, Any], args: list[str]) -> int:
    found, missing = [], []
    for ref in args:
        try:
            found.append(ctx.host.network(ref).inspect())
        except NoSuchNetwork:
            missing.append(ref)
    _print_objects(ctx, found, opts["format"])
    for ref in missing:
        ctx.eprint(f"Error response from daemon: network {ref} not found")
    return 1 if missing else 0


def cmd_network_connect(ctx: Context, opts: dict[str, Any], args: list[str]) -> int:
    ctx.host.network(args[0]).connect(_container(ctx, args[1]))
    return 0


def cmd_network_disconnect(ctx: Context, opts: dict[str, Any], args: list[str]) -> int:
    ctx.host.network(args[0]).disconnect(_container(ctx, args[1]))
    return 0


def cmd_network_rm(ctx: Context, opts: dict[str, Any], args: list[str]) -> int:
    return _each_ref(ctx, args, lambda ref: ctx.host.network(ref).remove())


def cmd_network_prune(ctx: Context, opts: dict[str, Any], args: list[str]) -> int:
    if not opts["force"]:
        ctx.print(
            "WARNING! This will remove all custom networks not used by at least one "
            "container.\nAre you sure you want to continue? [y/N] "
        )
        ctx.eprint("netlab: there is no terminal to answer in; run `docker network prune -f`")
        return 1
    used = {n for c in ctx.host.containers() for n in c.networks}
    removed = []
    for n in ctx.host.networks():
        if n.rec.user_defined and n.name not in used:
            n.remove()
            removed.append(n.name)
    if removed:
        ctx.print("Deleted Networks:\n" + "\n".join(removed))
    return 0


# --- swarm ----------------------------------------------------------------------------------------


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
    _print_objects(ctx, objs, opts.get("format"))
    return 0
