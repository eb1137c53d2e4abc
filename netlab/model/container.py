"""``Container``: a handle on one container of a lab, read from the lab's shared state.

A container is a network namespace with a real process inside, attached like Docker's; how
one is built, started, stopped and removed is :mod:`netlab.model.lifecycle`. The handle only
names it (its host and ID): every property reads the state as it is now, so a handle stays
true while a notebook, a terminal and the ``netlab`` command all change the same lab.
"""

from __future__ import annotations

import html
import shlex
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from netlab.errors import InvalidArgument, NotRunning
from netlab.kernel import containers, proc, rtnl
from netlab.model import frontends, ids, inspect, lifecycle, logs, pausing
from netlab.model.records import ContainerRec, Endpoint

if TYPE_CHECKING:
    from netlab.model.host import Host


class Container:
    """A handle on one container; its fields are read from the lab's shared state."""

    def __init__(self, host: Host, cid: str) -> None:
        self.host = host
        self.id = cid

    @property
    def record(self) -> ContainerRec:
        """The container's state record."""
        return lifecycle.record(self.host, self.id)

    @property
    def short_id(self) -> str:
        """The 12-hex ID Docker prints."""
        return ids.short_id(self.id)

    @property
    def name(self) -> str:
        """The container's name (without Docker's leading ``/``)."""
        return self.record.name

    @property
    def image(self) -> str:
        """The image as the user named it."""
        return self.record.image

    @property
    def running(self) -> bool:
        """True while its main process runs."""
        rec = self.record
        return rec.state == "running" and proc.alive(rec.pid, rec.pid_start)

    @property
    def status(self) -> str:
        """``running``, ``paused``, ``exited`` or ``created`` (Docker's State.Status)."""
        lifecycle.reconcile(self.host)
        rec = self.record
        return "paused" if rec.paused and rec.state == "running" else rec.state

    @property
    def paused(self) -> bool:
        """True while ``docker pause`` holds its processes frozen (it is running too)."""
        rec = self.record
        return rec.paused and rec.state == "running"

    def pause(self) -> None:
        """``docker pause``: freeze all its processes (see :mod:`netlab.model.pausing`)."""
        lifecycle.reconcile(self.host)  # (one whose process ended is not running)
        pausing.pause(self.host, self.id)

    def unpause(self) -> None:
        """``docker unpause``: let its processes run again."""
        pausing.unpause(self.host, self.id)

    @property
    def exit_code(self) -> int:
        """The exit code of its main process (0 while running)."""
        lifecycle.reconcile(self.host)
        return self.record.exit_code

    @property
    def pid(self) -> int:
        """The pid on the machine of its main process, its PID 1 (0 when not running)."""
        rec = self.record
        if not self.running:
            return 0
        return containers.init_pid(rec.pid, rec.pid_start) or 0

    @property
    def ns(self) -> str:
        """The network namespace the container lives in."""
        return self.record.netns

    @property
    def networks(self) -> dict[str, Endpoint]:
        """Its endpoints, by network name: address, MAC, gateway, endpoint ID..."""
        return dict(self.record.networks)

    @property
    def ip(self) -> str | None:
        """The IPv4 address of its first network (None on ``none``/``host``)."""
        for ep in self.networks.values():
            if ep.ip:
                return ep.ip
        return None

    @property
    def mac(self) -> str | None:
        """The MAC address of its first network's interface."""
        for ep in self.networks.values():
            if ep.mac:
                return ep.mac
        return None

    def exec(self, command: Sequence[str] | str, *, timeout: float | None = 60) -> proc.Result:
        """``docker exec``: run a real command inside the container's namespaces."""
        if not self.running:
            raise NotRunning(self.id)
        argv = shlex.split(command) if isinstance(command, str) else list(command)
        rec = self.record
        pausing.check_not_paused_for_exec(rec, self.name)
        env = proc.default_env() | dict(e.split("=", 1) for e in rec.env)
        return proc.run_in(containers.container_prefix(rec.pid), argv, timeout=timeout, env=env)

    def stop(self, timeout: float = lifecycle.STOP_TIMEOUT) -> None:
        """``docker stop``: SIGTERM to its PID 1, ``timeout`` seconds to end, then SIGKILL
        (see :func:`netlab.model.lifecycle.stop_containers`); its network is released."""
        lifecycle.stop_container(self.host, self.id, timeout=timeout)

    def top(self, ps_args: Sequence[str] = ("-ef",)) -> tuple[list[str], list[list[str]]]:
        """``docker top``: the machine's ``ps`` (``ps_args``) of the container's processes,
        as (titles, rows), PIDs as the machine sees them (PID 1 inside is one of them)."""
        if not self.running:
            raise NotRunning(self.id)
        rec = self.record
        pid1 = containers.init_pid(rec.pid, rec.pid_start)
        pids = containers.pids_in_pid_ns(pid1) if pid1 else []
        out = proc.run_in([], ["ps", *ps_args, "-q" + ",".join(map(str, pids))])
        if not out.ok:  # (some ps options refuse -q: all processes, filtered below)
            out = proc.run_in([], ["ps", *ps_args])
            if not out.ok:
                raise InvalidArgument(f"ps: {out.stderr.splitlines()[0] if out.stderr else ''}")
        lines = out.stdout.splitlines()
        titles = lines[0].split() if lines else []
        if "PID" not in titles:
            raise InvalidArgument("Couldn't find PID field in ps output")
        at = titles.index("PID")
        rows = []
        for line in lines[1:]:
            fields = line.split()
            if fields and fields[at].isdigit() and int(fields[at]) in pids:
                rows.append([*fields[: len(titles) - 1], " ".join(fields[len(titles) - 1 :])])
        return titles, rows

    def kill(self, signal: int | str = "KILL") -> None:
        """``docker kill [-s SIG]``: send a signal (a number or a name such as ``"TERM"``)
        to its PID 1; SIGKILL, the default, ends it at once."""
        lifecycle.kill_container(self.host, self.id, lifecycle.parse_signal(signal))

    def rename(self, new: str) -> None:
        """``docker rename``: the container is called ``new`` from now on."""
        lifecycle.rename_container(self.host, self.id, new)

    def remove(self, *, force: bool = False) -> None:
        """``docker rm``: remove a stopped container (``force`` stops it first)."""
        lifecycle.remove_container(self.host, self.id, force=force)

    def set_auto_remove(self) -> None:
        """``docker run --rm``: remove the container once its process has ended."""
        lifecycle.set_auto_remove(self.host, self.id)

    def packet_path(self, host_port: int | None = None) -> Any:
        """The live path of packets to a published port: rules, counters, conntrack
        (a :class:`netlab.views.ports.PacketPath`, which a notebook displays)."""
        return frontends.show("packet_path", self, host_port)

    def view(self) -> Any:
        """Its interfaces, routes and neighbours from the kernel, with the ip commands
        (a :class:`netlab.views.machine.MachineView`, which a notebook displays)."""
        return frontends.show(
            "machine_view",
            f"container {self.name} ({self.short_id}) on {self.host.name}",
            self.ns,
            f"docker exec {self.name}",
        )

    def start(self) -> None:
        """``docker start``: start an exited container again (fresh network endpoints)."""
        lifecycle.start_container(self.host, self.id)

    def exec_detached(self, command: Sequence[str] | str) -> int:
        """``docker exec -d``: start a command inside the container and return its pid."""
        if not self.running:
            raise NotRunning(self.id)
        argv = shlex.split(command) if isinstance(command, str) else list(command)
        pausing.check_not_paused_for_exec(self.record, self.name)
        return proc.start_detached([*containers.container_prefix(self.record.pid), *argv])

    def logs(self) -> str:
        """What its process wrote to stdout and stderr (``docker logs``), as far as the log
        still holds it (see :mod:`netlab.model.logs`)."""
        rec = self.record
        return logs.read(self.host.lab.store.log_file(self.id), logs.limits(rec.log_opts).max_file)

    def inspect(self) -> dict[str, Any]:
        """What ``docker container inspect`` prints for it (Docker 28's layout)."""
        return inspect.container_inspect(self)

    def links(self) -> list[rtnl.Link]:
        """Its interfaces as the kernel has them."""
        return rtnl.links(self.ns)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Container) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)

    def __repr__(self) -> str:
        return f"<Container {self.name} {self.short_id} {self.image} {self.ip or ''}>".replace(
            " >", ">"
        )

    def _repr_html_(self) -> str:
        eps = "".join(
            f"<li>{html.escape(n)}: {ep.ip or '-'} ({ep.mac or '-'})</li>"
            for n, ep in self.networks.items()
        )
        return (
            f"<b>Container {html.escape(self.name)}</b> <code>{self.short_id}</code> "
            f"image {html.escape(self.image)}, {self.status}, namespace "
            f"<code>{html.escape(self.ns)}</code><ul>{eps}</ul>"
        )
