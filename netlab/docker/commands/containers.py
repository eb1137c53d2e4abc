"""The container commands: ``run``, ``ps``, ``exec``, ``inspect``, ``stop``/``start``/``rm``,
``logs`` and ``port``.

What the docker CLI does here, and netlab with it:

- ``docker run`` looks the image up first (a missing image is a pull error, before any check
  of the name), creates and starts the container, then either prints its full ID (``-d``) or
  waits for it to exit and prints its output, returning the container's own exit status.
  ``-it`` without a terminal is refused ("the input device is not a TTY"), as Docker does
  when stdin is not a TTY; ``--rm`` removes the container once it has exited.
- ``docker ps`` lists running containers (``-a``: all), with short IDs and the command cut
  to 19 characters and ``…`` unless ``--no-trunc`` (see :mod:`netlab.views.tables`);
  ``--format`` is described in :mod:`netlab.docker.output`.
- ``docker exec`` runs a command in a running container; a program that is not there is
  the OCI runtime's error and exit status 127, as with Docker.
- ``docker inspect`` finds containers or networks by name or ID (``--type`` narrows it) and
  answers "No such object" for the rest; ``docker container inspect`` looks at containers
  only.
- ``docker stop``, ``start`` and ``rm`` act on each container named, printing each name as
  typed once done.
- ``docker logs`` prints what the container wrote; ``--tail N`` keeps the last N lines.
- ``docker port`` lists the published ports of a running container (``80/tcp ->
  0.0.0.0:8080``), or the host addresses of one of them.
- ``docker pause`` and ``unpause`` freeze and thaw every process of each container named
  (the kernel's cgroup freezer: :mod:`netlab.model.pausing`), printing each name as typed;
  a paused container shows ``Up 5 seconds (Paused)``, refuses ``exec``, ``start`` and ``rm``
  without ``-f`` with Docker's words, and is thawed by ``kill``, ``stop`` and ``rm -f``.
"""

from __future__ import annotations

import ipaddress
import json
import os
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from netlab.docker import filters
from netlab.docker.context import Context, DaemonError
from netlab.docker.output import all_together, each, print_formatted, print_objects
from netlab.errors import (
    Conflict,
    InvalidArgument,
    NetlabError,
    NoSuchContainer,
    NoSuchNetwork,
    StartFailed,
)
from netlab.model import cluster, ids, images, lifecycle, logs, pausing
from netlab.model.records import ZERO_TIME
from netlab.views import tables

if TYPE_CHECKING:
    from netlab.model.container import Container


def cmd_run(ctx: Context, opts: dict[str, Any], args: list[str]) -> int:
    image, command = args[0], args[1:]
    try:  # (the CLI checks these before it asks the daemon: opts/hosts.go, opts/opts.go)
        extra_hosts = [_extra_host(v) for v in opts["add-host"]]
        dns = [_ip_address(v, "--dns") for v in opts["dns"]]
    except ValueError as exc:
        return ctx.flag_error(str(exc))
    if opts["interactive"] and opts["tty"] and not opts["detach"]:
        # (docker/cli v28.5.2 cli/streams/in.go CheckTty, from run.go runContainer: the
        # CLI's own error, printed as it is, exit status 1)
        ctx.err.append("the input device is not a TTY\n")
        return 1
    network = opts["network"] or opts["net"] or "bridge"
    aliases = opts["network-alias"] + opts["net-alias"]
    problem = _endpoint_flags_problem(network, opts["mac-address"], aliases)
    if problem:  # (docker/cli v28.5.2 cli/command/container/run.go withHelp)
        ctx.err.append(f"docker: {problem}\n\nRun 'docker run --help' for more information\n")
        return 125
    images.lookup(image)  # Docker's pull error comes first, before any name check
    attached_stdin = opts["interactive"] and not opts["detach"]
    feed = os.pipe() if attached_stdin else None
    try:
        c = ctx.host.run(
            image,
            command,
            name=opts["name"] or None,  # --name "" means "pick one", as in Docker
            network=network,
            ip=opts["ip"],
            mac_address=opts["mac-address"],
            network_aliases=aliases,
            hostname=opts["hostname"],
            tty=opts["tty"],
            interactive=opts["interactive"],
            env=opts["env"],
            publish=opts["publish"],
            publish_all=opts["publish-all"],
            log_opts=logs.parse_opts(opts["log-opt"]),
            extra_hosts=extra_hosts,
            dns=dns,
            stdin=feed[0] if feed else None,
            attach=not opts["detach"],
        )
    except StartFailed as exc:
        # Created, not started: Docker prints the ID (detached) before the daemon's error.
        if feed:
            os.close(feed[1])
        if opts["detach"]:
            ctx.print(exc.container_id)
        ctx.err.append(
            f"docker: Error response from daemon: {exc}\n\n"
            "Run 'docker run --help' for more information\n"
        )
        return exc.exit_code
    except BaseException:
        if feed:
            os.close(feed[1])
        raise
    finally:
        if feed:
            os.close(feed[0])  # (the container has its own copy)
    if feed:
        _pass_stdin(ctx.stdin, feed[1])
    if opts["detach"]:
        ctx.print(c.id)
        if opts["rm"]:
            _mark_autoremove(c)  # removed by netlab as soon as it exits, as Docker does
        return 0
    code = _wait(c, timeout=60.0)
    text = c.logs()
    if text:
        ctx.out.append(text if text.endswith("\n") else text + "\n")
    if opts["rm"]:
        c.remove(force=True)
    return code


def _pass_stdin(source: Any, fd: int) -> None:
    """Copy ``docker run -i``'s input to the container's stdin on a thread, then close it
    (the container sees the end of its input, as with Docker)."""

    def copy() -> None:
        try:
            if isinstance(source, bytes):
                os.write(fd, source) if source else None
            elif source is not None:
                while (
                    chunk := source.read1(65536) if hasattr(source, "read1") else source.read(65536)
                ):
                    os.write(fd, chunk)
        except OSError:
            pass  # (the container stopped reading: what is left is dropped, as on Docker)
        finally:
            os.close(fd)

    threading.Thread(target=copy, name="netlab-stdin", daemon=True).start()


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


def _endpoint_flags_problem(network: str, mac: str | None, aliases: list[str]) -> str:
    """What the docker CLI refuses of ``--mac-address`` and ``--network-alias`` itself
    (docker/cli v28.5.2 cli/command/container/opts.go: parse, parseNetworkAttachmentOpt)."""
    if mac is not None and mac != "" and not ids.valid_mac(mac):
        return f"{mac} is not a valid mac address"
    if aliases and network in ("bridge", "default", "host", "none"):
        return "network-scoped aliases are only supported for user-defined networks"
    return ""


def _extra_host(value: str) -> str:
    """``--add-host NAME:IP`` (or ``NAME=IP``) as the CLI sends it, ``NAME:IP``."""
    name, sep, ip = value.partition("=")
    if not sep:
        name, sep, ip = value.partition(":")
    if not sep or not name or ":" in name:
        raise ValueError(
            f'invalid argument "{value}" for "--add-host" flag: bad format for add-host: "{value}"'
        )
    if ip != "host-gateway":
        if len(ip) > 2 and ip[0] == "[" and ip[-1] == "]":
            ip = ip[1:-1]
        try:
            ipaddress.ip_address(ip.strip())
        except ValueError:
            raise ValueError(
                f'invalid argument "{value}" for "--add-host" flag: invalid IP address in '
                f'add-host: "{ip}"'
            ) from None
    return f"{name}:{ip}"


def _ip_address(value: str, flag: str) -> str:
    """An IP address flag's value, in canonical form (opts.ValidateIPAddress)."""
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        raise ValueError(
            f'invalid argument "{value}" for "{flag}" flag: IP address is not correctly '
            f"formatted: {value}"
        ) from None


def cmd_ps(ctx: Context, opts: dict[str, Any], args: list[str]) -> int:
    wanted = filters.from_flag(opts["filter"])
    if isinstance(wanted, str):
        return ctx.flag_error(wanted)
    last = -1
    if opts["last"] is not None:
        try:
            last = int(opts["last"])
        except ValueError:
            return ctx.flag_error(
                f'invalid argument "{opts["last"]}" for "-n, --last" flag: strconv.ParseInt: '
                f'parsing "{opts["last"]}": invalid syntax'
            )
    if opts["latest"]:
        last = 1
    cs = select(ctx, wanted, all=opts["all"], last=last)
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
        return print_formatted(ctx, fmt, rows, PS_HEADERS)
    keys = ["ID", "Image", "Command", "RunningFor", "Status", "Ports", "Names"]
    headers = list(tables.PS_HEADERS)
    if opts["size"]:
        keys.append("Size")
        headers.append("SIZE")
        for r, c in zip(rows, cs, strict=True):
            r["Size"] = f"0B (virtual {images.lookup(c.record.image).size})"
    ctx.print(tables.table(headers, [[r[k] for k in keys] for r in rows]))
    return 0


def select(ctx: Context, wanted: filters.Filters, *, all: bool, last: int = -1) -> list[Container]:
    """The containers ``docker ps`` lists, newest first: running ones (all with ``-a``, a
    ``status`` filter or ``-n``), those ``wanted`` lets through, at most ``last`` of them.
    Each filter as moby's daemon/list.go applies it."""
    filters.validate(wanted, filters.PS_KEYS)
    for s in wanted.get("status", []):
        if s not in filters.STATES:
            raise InvalidArgument(
                f"invalid filter 'status={s}': invalid value for state ({s}): must be one of "
                + ", ".join(filters.STATES)
            )
    exited: list[int] = []
    for v in wanted.get("exited", []):
        try:
            exited.append(int(v))
        except ValueError:
            raise InvalidArgument(
                f"invalid filter 'exited={v}': strconv.Atoi: parsing \"{v}\": invalid syntax"
            ) from None
    is_task = wanted.get("is-task")
    if is_task is not None:  # (api/types/filters/parse.go GetBoolOrDefault, errors.go)
        yes, no = bool({"1", "true"} & set(is_task)), bool({"0", "false"} & set(is_task))
        if yes == no:
            raise InvalidArgument(f"invalid filter 'is-task=[{' '.join(is_task)}]'")
        tasks = {t.container for svc in cluster.services(ctx.lab) for t in svc.tasks.values()}
    everything = ctx.host.containers(all=True)
    seq = {c.id: c.record.seq for c in everything}
    if is_task is not None:  # (daemon/list.go: a swarm task's container is "Managed")
        everything = [c for c in everything if (c.id in tasks) == yes]

    def seq_of(ref: str) -> int:
        return seq[ctx.host.container(ref).id]

    before = min((seq_of(r) for r in wanted.get("before", [])), default=None)
    since = max((seq_of(r) for r in wanted.get("since", [])), default=None)
    shown_all = all or bool(wanted.get("status")) or last > 0
    out = [
        c
        for c in everything
        if (shown_all or c.running)
        and (before is None or c.record.seq < before)
        and (since is None or c.record.seq > since)
        and _passes(c, wanted, exited)
    ]
    return out[:last] if last > 0 else out


def _passes(c: Container, wanted: filters.Filters, exited: list[int]) -> bool:
    """Does the container pass every filter but before/since?"""
    rec = c.record
    nets = {n: ep.network_id for n, ep in rec.networks.items()}
    exposed = [(int(p.split("/")[0]), p.split("/")[1]) for p in rec.exposed_ports]
    return (
        filters.matches(wanted, "name", rec.name)
        and filters.matches(wanted, "id", rec.id)
        and filters.matches(wanted, "status", c.status)
        and filters.labels_match(wanted, images.lookup(rec.image).labels)
        and _any(wanted, "ancestor", lambda v: _is_image(v, rec.image, rec.image_id))
        and _any(
            wanted, "network", lambda v: v in nets or any(i.startswith(v) for i in nets.values())
        )
        and _any(
            wanted, "publish", lambda v: any(_port_is(v, m.host_port, m.proto) for m in rec.ports)
        )
        and _any(wanted, "expose", lambda v: any(_port_is(v, n, p) for n, p in exposed))
        and (
            not exited
            or (not c.running and rec.exit_code in exited and rec.started_at != ZERO_TIME)
        )
        and filters.exact(wanted, "health", "none")  # (no container has a health check)
        and filters.exact(wanted, "isolation", "default")
        and not wanted.get("volume")  # (nor a volume)
    )


def _any(wanted: filters.Filters, key: str, test: Callable[[str], bool]) -> bool:
    values = wanted.get(key)
    return not values or any(test(v) for v in values)


def _is_image(ref: str, image: str, image_id: str) -> bool:
    """Does ``ref`` (``nginx``, ``nginx:latest``, an image ID or its prefix) name the image?"""
    try:
        return images.lookup(ref).ref == images.lookup(image).ref
    except NetlabError:
        return bool(ref) and image_id.removeprefix("sha256:").startswith(
            ref.removeprefix("sha256:")
        )


def _port_is(spec: str, port: int, proto: str) -> bool:
    """``8080``, ``8080/tcp`` (tcp unless told) against a port."""
    number, _, want_proto = spec.partition("/")
    return number == str(port) and (want_proto or "tcp") == proto


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


def cmd_exec(ctx: Context, opts: dict[str, Any], args: list[str]) -> int:
    c = ctx.host.container(args[0])
    pausing.check_not_paused_for_exec(c.record, args[0])  # (named as typed: daemon/exec.go)
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
                obj = ctx.host.container(ref).inspect()
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
    print_objects(ctx, found, opts.get("format"))
    for ref in missing:
        ctx.eprint(f"Error: No such object: {ref}")
    return 1 if missing else 0


def cmd_container_inspect(ctx: Context, opts: dict[str, Any], args: list[str]) -> int:
    found, missing = [], []
    for ref in args:
        try:
            found.append(ctx.host.container(ref).inspect())
        except NoSuchContainer:
            missing.append(ref)
    print_objects(ctx, found, opts.get("format"))
    for ref in missing:
        ctx.eprint(f"Error response from daemon: No such container: {ref}")
    return 1 if missing else 0


def cmd_stop(ctx: Context, opts: dict[str, Any], args: list[str]) -> int:
    """``docker stop [-t T] [-s SIG] A B``: all signalled first, then waited for together
    (Docker stops them in parallel too), each name printed as it is done."""
    text = opts["timeout"] if opts["timeout"] is not None else opts["time"]
    timeout = lifecycle.STOP_TIMEOUT
    if text is not None:
        if not text.lstrip("-").isdigit():
            return ctx.flag_error(
                f'invalid argument "{text}" for "-t, --timeout" flag: strconv.ParseInt: '
                f'parsing "{text}": invalid syntax'
            )
        timeout = int(text)
    sig = lifecycle.parse_signal(opts["signal"]) if opts["signal"] else None
    return all_together(
        ctx, args, lambda cs: ctx.host.stop_containers(cs, timeout=timeout, sig=sig)
    )


def cmd_top(ctx: Context, opts: dict[str, Any], args: list[str]) -> int:
    """``docker top C [ps OPTIONS]``: the machine's ps of the container's processes."""
    ps_args = " ".join(args[1:]).split(" ") if len(args) > 1 else ["-ef"]
    titles, rows = ctx.host.container(args[0]).top([a for a in ps_args if a])
    ctx.print(tables.table(titles, rows, minwidth=20))
    return 0


def cmd_kill(ctx: Context, opts: dict[str, Any], args: list[str]) -> int:
    sig = lifecycle.parse_signal(opts["signal"] or "KILL")
    return each(ctx, args, lambda c: c.kill(sig), cannot="kill")


def cmd_start(ctx: Context, opts: dict[str, Any], args: list[str]) -> int:
    return each(ctx, args, lambda c: c.start())


def cmd_rename(ctx: Context, opts: dict[str, Any], args: list[str]) -> int:
    if not args[0] or not args[1]:
        raise InvalidArgument("Neither old nor new names may be empty")
    ctx.host.container(args[0]).rename(args[1])
    return 0


def cmd_rm(ctx: Context, opts: dict[str, Any], args: list[str]) -> int:
    """``docker rm [-f] A B C``: each reference checked in turn, with Docker's error for one
    that is missing or (without -f) running; the others are removed together, so the
    kernel's clean-up of all their namespaces and veths is awaited once, not once each."""
    seen: set[str] = set()

    def check(ref: str, c: Container) -> None:
        if c.id in seen:
            raise NoSuchContainer(ref)  # (named twice: gone by the second time)
        if not opts["force"] and c.paused:  # moby daemon/delete.go cleanupContainer
            raise Conflict(
                f'cannot remove container "{ref}": container is paused and must be unpaused first'
            )
        if not opts["force"] and c.running:
            raise Conflict(
                f'cannot remove container "{ref}": container is running: stop the '
                "container before removing or force remove"
            )
        seen.add(c.id)

    return all_together(
        ctx, args, lambda cs: ctx.host.remove_containers(cs, force=opts["force"]), check
    )


def cmd_logs(ctx: Context, opts: dict[str, Any], args: list[str]) -> int:
    text = ctx.host.container(args[0]).logs()
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
    c = ctx.host.container(args[0])
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


def cmd_pause(ctx: Context, opts: dict[str, Any], args: list[str]) -> int:
    """``docker pause A B``: each one frozen in turn, its name printed (moby daemon/pause.go)."""
    return each(ctx, args, lambda c: c.pause())


def cmd_unpause(ctx: Context, opts: dict[str, Any], args: list[str]) -> int:
    """``docker unpause A B``: each one thawed in turn (moby daemon/unpause.go)."""
    return each(ctx, args, lambda c: c.unpause())
