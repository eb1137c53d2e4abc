"""``Container``: a network namespace with a real process inside, attached like Docker's.

``docker run`` on the default bridge does, in order (each step is a real kernel operation,
shown by ``netlab.kernel.trace``):

1. ``ip netns add`` a namespace for the container (Docker: ``/var/run/docker/netns/<id>``),
   with ``lo`` up and IPv6 off for the interfaces to come;
2. ``ip link add vethXXXXXXX master docker0 up type veth peer name eth0 netns <container>``:
   the pair is born with one end in each namespace, the host end a port of the bridge; the
   container end gets Docker's ``02:42`` + IPv4 MAC;
3. inside the container: the address (the lowest free one of 172.17.0.0/16), ``eth0`` up,
   ``default via 172.17.0.1``;
4. its process is started in the namespace with its own hostname (the short ID) and, in its
   own mount namespace, its ``/etc/hosts`` and ``/etc/resolv.conf`` bind-mounted over /etc.

If any step fails, what the earlier steps made is removed again before the error is raised.
"""

from __future__ import annotations

import contextlib
import html
import os
import shlex
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from netlab.errors import LabBroken, NotRunning
from netlab.kernel import batch, netns, proc, rtnl, soon, trace, wait
from netlab.model import drivers, ids, networks, resolver, topology
from netlab.model.ports import PortMapping
from netlab.model.state import Record
from netlab.model.timefmt import now_rfc3339, rfc3339

if TYPE_CHECKING:
    from netlab.model.host import Host, Network
    from netlab.model.images import Image
    from netlab.views.machine import MachineView
    from netlab.views.ports import PacketPath

KILLED_EXIT_CODE = 137  # 128 + SIGKILL, what `docker stop` leaves for `sleep` as PID 1


class Container:
    """A handle on one container; its fields are read from the lab's shared state."""

    def __init__(self, host: Host, cid: str) -> None:
        self.host = host
        self.id = cid

    @property
    def record(self) -> Record:
        """The container's state record."""
        rec = self.host.lab.store.containers().get(self.id)
        if rec is None:
            from netlab.errors import NoSuchContainer

            raise NoSuchContainer(self.id)
        return rec

    @property
    def short_id(self) -> str:
        """The 12-hex ID Docker prints."""
        return ids.short_id(self.id)

    @property
    def name(self) -> str:
        """The container's name (without Docker's leading ``/``)."""
        return str(self.record["Name"])

    @property
    def image(self) -> str:
        """The image as the user named it."""
        return str(self.record["Image"])

    @property
    def running(self) -> bool:
        """True while its main process runs."""
        rec = self.record
        return rec["State"] == "running" and proc.alive(rec["Pid"], rec["PidStart"])

    @property
    def status(self) -> str:
        """``running``, ``exited`` or ``created`` (Docker's State.Status)."""
        reconcile(self.host)
        return str(self.record["State"])

    @property
    def exit_code(self) -> int:
        """The exit code of its main process (0 while running)."""
        reconcile(self.host)
        return int(self.record.get("ExitCode", 0))

    @property
    def pid(self) -> int:
        """The pid of its main process on the machine (0 when not running)."""
        return int(self.record["Pid"]) if self.running else 0

    @property
    def ns(self) -> str:
        """The network namespace the container lives in."""
        return str(self.record["Netns"])

    @property
    def networks(self) -> dict[str, Record]:
        """Its endpoints, by network name: IPAddress, MacAddress, Gateway, EndpointID..."""
        return dict(self.record["Networks"])

    @property
    def ip(self) -> str | None:
        """The IPv4 address of its first network (None on ``none``/``host``)."""
        for ep in self.networks.values():
            if ep.get("IPAddress"):
                return str(ep["IPAddress"])
        return None

    @property
    def mac(self) -> str | None:
        """The MAC address of its first network's interface."""
        for ep in self.networks.values():
            if ep.get("MacAddress"):
                return str(ep["MacAddress"])
        return None

    def exec(self, command: Sequence[str] | str, *, timeout: float | None = 60) -> proc.Result:
        """``docker exec``: run a real command inside the container's namespaces."""
        if not self.running:
            raise NotRunning(f"Container {self.id} is not running")
        argv = shlex.split(command) if isinstance(command, str) else list(command)
        rec = self.record
        env = proc.default_env() | dict(e.split("=", 1) for e in rec.get("Env", []))
        return proc.run_in(proc.container_prefix(rec["Pid"]), argv, timeout=timeout, env=env)

    def stop(self) -> None:
        """``docker stop``: kill its processes (by pid) and release its network."""
        with self.host.lab.store.locked():
            reconcile(self.host)  # one that ended by itself keeps its own exit code
            rec = self.record
            if rec["State"] != "running":
                return
            proc.kill_group(rec["Pid"], rec["PidStart"])
            _finish(self.host, rec, KILLED_EXIT_CODE)

    def remove(self, *, force: bool = False) -> None:
        """``docker rm``: remove a stopped container (``force`` stops it first)."""
        from netlab.errors import Conflict

        with self.host.lab.store.locked():
            reconcile(self.host)
            rec = self.record
            if rec["State"] == "running":
                if not force:
                    raise Conflict(
                        f'cannot remove container "/{rec["Name"]}": container is running: stop '
                        "the container before removing or force remove"
                    )
                proc.kill_group(rec["Pid"], rec["PidStart"])
                _finish(self.host, rec, KILLED_EXIT_CODE)
            self.host.lab.store.drop_container(self.id)

    def packet_path(self, host_port: int | None = None) -> PacketPath:
        """The live path of packets to a published port: rules, counters, conntrack."""
        from netlab.views.ports import packet_path

        return packet_path(self, host_port)

    def view(self) -> MachineView:
        """Its interfaces, routes and neighbours from the kernel, with the ip commands."""
        from netlab.views.machine import view

        return view(
            f"container {self.name} ({self.short_id}) on {self.host.name}",
            self.ns,
            f"docker exec {self.name}",
        )

    def start(self) -> None:
        """``docker start``: start an exited container again (fresh network endpoints)."""
        start_container(self)

    def exec_detached(self, command: Sequence[str] | str) -> int:
        """``docker exec -d``: start a command inside the container and return its pid."""
        if not self.running:
            raise NotRunning(f"Container {self.id} is not running")
        argv = shlex.split(command) if isinstance(command, str) else list(command)
        return proc.start_detached([*proc.container_prefix(self.record["Pid"]), *argv])

    def logs(self) -> str:
        """What its process wrote to stdout and stderr (``docker logs``)."""
        try:
            with open(self.host.lab.store.path("containers", self.id + ".log")) as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def inspect(self) -> dict[str, Any]:
        """What ``docker container inspect`` prints for it (Docker 28's layout)."""
        from netlab.views.inspect import container_inspect

        return container_inspect(self)

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
            f"<li>{html.escape(n)}: {ep.get('IPAddress') or '-'} "
            f"({ep.get('MacAddress') or '-'})</li>"
            for n, ep in self.networks.items()
        )
        return (
            f"<b>Container {html.escape(self.name)}</b> <code>{self.short_id}</code> "
            f"image {html.escape(self.image)}, {self.status}, namespace "
            f"<code>{html.escape(self.ns)}</code><ul>{eps}</ul>"
        )


# --- building and tearing down ------------------------------------------------------------------


def create_container(
    host: Host,
    img: Image,
    image_ref: str,
    argv: tuple[str, ...],
    real: list[str],
    *,
    name: str | None,
    net: Network,
    hostname: str | None,
    tty: bool,
    interactive: bool,
    publish: Sequence[PortMapping] = (),
    more_networks: Sequence[str] = (),
    env: Sequence[str] = (),
) -> Container:
    """Allocate, build and start a container; on any failure leave nothing behind.

    ``more_networks`` (names or IDs) are attached after ``net``, as eth1, eth2, ...
    """
    lab = host.lab
    store = lab.store
    with store.locked():
        if name is not None:
            host.check_name_free(name)
        seq = store.next_counter("container")
        cid = ids.object_id(lab.name, "container", seq)
        short = ids.short_id(cid)
        if name is None:
            name = host.random_name(seq)
        own_ns = drivers.of(net._rec).own_namespace
        cns = topology.ns_name(lab.name, short) if own_ns else host.ns
        # The namespace is made on the kernel thread while this one does the bookkeeping
        # (the record, addresses, ports); whatever fails from here on removes it again.
        made = soon(lambda: _new_namespace(cns)) if own_ns else None
        try:
            display = img.display_command(argv)
            rec: Record = {
                "Id": cid,
                "Seq": seq,
                "Name": name,
                "Host": host.name,
                "Image": image_ref,
                "ImageId": img.image_id,
                "Path": display[0],
                "Args": list(display[1:]),
                "Created": now_rfc3339(),
                "Hostname": hostname or (short if own_ns else host.name),
                "Netns": cns,
                "OwnNetns": own_ns,
                "State": "created",
                "Pid": 0,
                "PidStart": 0,
                "ExitCode": 0,
                "StartedAt": "0001-01-01T00:00:00Z",
                "FinishedAt": "0001-01-01T00:00:00Z",
                "Tty": tty,
                "OpenStdin": interactive,
                "NetworkMode": net.name,
                "RealArgv": real,
                "Networks": {net.name: {"NetworkID": net.id}},
                # (more networks are added below, in order: they become eth1, eth2, ...)
                "ExposedPorts": list(img.exposed),
                "PortSpecs": [asdict(m) for m in publish],
                "Env": list(env),
                "Ports": [],
            }
            for ref in more_networks:
                extra = host.network(ref)
                rec["Networks"][extra.name] = {"NetworkID": extra.id}
            _launch(host, rec, made)
        except BaseException:
            if made is not None:  # (it may have failed before _launch waited for it)
                _drop_new_namespace(cns, made)
            store.drop_container(cid)
            raise
    return Container(host, cid)


def _attach_endpoints(host: Host, rec: Record) -> None:
    """Give each of the container's networks a fresh endpoint (at create and at start)."""
    for i, (net_name, old) in enumerate(list(rec["Networks"].items())):
        net = host.network(old["NetworkID"]) if old.get("NetworkID") else host.network(net_name)
        drv = drivers.of(net._rec)
        seq = host.lab.store.next_counter("endpoint") if drv.has_endpoints else 0
        rec["Networks"][net_name] = drv.endpoint(host, net._rec, seq, f"eth{i}")


def _launch(host: Host, rec: Record, made: Future[bool] | None = None) -> None:
    """Attach, wire and start a created or exited container (under the lab's lock).

    ``made``: the creation of its namespace, already under way (see create_container).
    """
    _allocate_ports(host, rec)
    _attach_endpoints(host, rec)
    if rec["StartedAt"] != "0001-01-01T00:00:00Z":  # an earlier run's exit code goes
        with contextlib.suppress(FileNotFoundError):
            os.unlink(host.lab.store.path("containers", rec["Id"] + ".exit"))
    starting: proc.Starting | None = None
    try:
        if not netns.exists(host.ns):
            raise LabBroken(
                f"the namespace of host {host.name!r} ({host.ns}) is gone; run "
                f"`netlab clean {host.lab.name}` and build the lab again"
            )
        if rec["OwnNetns"] and made is None:
            made = soon(lambda: _new_namespace(rec["Netns"]))
        # The kernel thread goes on, in order, from the namespace to the container's files
        # and its network, while this thread starts the init's birth as soon as the files
        # are there. (The trace keeps a fixed order: all but the last line, the process,
        # come from the kernel thread.)
        resolv = _resolv(host, rec)  # (the store is read here, not on the kernel thread)
        files = soon(lambda: _container_files(host, rec, made, resolv))
        plan = _wiring(host, rec)  # (read here too: the kernel thread only builds)
        wired = soon(lambda: _wire(host, rec, plan) if _ours(made) else None)
        starting = _start_init(host, rec, wait(files))
        wait(wired)
        # A server image (nginx) is ready when it listens: docker run returns then, so a
        # request right after it gets an answer. Others go on while their init starts.
        serves = [
            p for p in rec.get("ExposedPorts", []) if rec["RealArgv"][:2] == ["busybox", "httpd"]
        ]
        rec["Pid"], rec["PidStart"] = starting.go(wait=bool(serves))
        if serves:
            proc.wait_listening(
                rec["Netns"], [("0.0.0.0", int(p.split("/")[0]), "tcp") for p in serves]
            )
        rec["State"] = "running"
        rec["ExitCode"] = 0
        rec["StartedAt"] = now_rfc3339()
        rec["FinishedAt"] = "0001-01-01T00:00:00Z"
        host.lab.store.save(container=rec)
        networks.endpoints_changed(host, list(rec["Networks"]))
        if rec["Ports"]:
            _publish(host, rec)
        if starting.failed_early():
            starting.wait_ready(0)  # raises with the init's own words
    except BaseException:
        # Whatever failed (or Ctrl-C), nothing half-built stays: the process, its network,
        # its port rules and its peers' entries all go again.
        if starting is not None:
            starting.abort()
        _teardown(host, rec)
        rec["State"] = "created"
        rec["Ports"] = []
        host.lab.store.save(container=rec)
        with contextlib.suppress(Exception):
            networks.endpoints_changed(host, list(rec["Networks"]))
            if rec.get("PortSpecs"):
                networks.apply_firewall(host)
        raise


def _allocate_ports(host: Host, rec: Record) -> None:
    """Host ports for the container's ``-p`` requests; Docker's error if one is taken."""
    from netlab.model.ports import allocate

    taken = [
        PortMapping(**m)
        for r in host.lab.store.containers().values()
        if r["Host"] == host.name and r["State"] == "running" and r["Id"] != rec["Id"]
        for m in r.get("Ports", [])
    ]
    wanted = [PortMapping(**m) for m in rec.get("PortSpecs", [])]
    first = host.network(next(iter(rec["Networks"].values()))["NetworkID"])
    if first._rec.get("Internal"):
        wanted = []  # Docker publishes nothing for a container on an --internal network
    eid = ids.object_id(host.lab.name, "endpoint", host.lab.store.peek_counter("endpoint") + 1)
    rec["Ports"] = [asdict(m) for m in allocate(wanted, taken, f"{rec['Name']} ({eid})")]


def _publish(host: Host, rec: Record) -> None:
    """Program the port rules (one atomic nft load) and hairpin mode on the bridge port."""
    first = next(iter(rec["Networks"].values()))
    if first.get("Veth"):
        rtnl.set_bridge_port(host.ns, first["Veth"], hairpin=True)
    networks.apply_firewall(host)


def start_container(c: Container) -> None:
    """``docker start``: bring an exited container back (new endpoints, same identity)."""
    with c.host.lab.store.locked():
        reconcile(c.host)
        rec = c.record
        if rec["State"] == "running":
            return
        _launch(c.host, rec)


def _ours(made: Future[bool] | None) -> bool:
    """On the kernel thread, after the job ``made``: True unless it found the namespace
    already there (someone else's: nothing of ours goes into it)."""
    return made is None or made.result()


def _container_files(
    host: Host, rec: Record, made: Future[bool] | None, resolv: str
) -> dict[str, str] | None:
    """Write the container's /etc/hosts (kernel thread, after its namespace); return what
    its init shows over /etc (None: the host's own files, for ``--network host``)."""
    if not _ours(made):
        raise LabBroken(
            f"namespace {rec['Netns']} exists already: another process changed this lab;"
            f" run `netlab clean {host.lab.name}` and build it again"
        )
    if not rec["OwnNetns"]:
        return None
    # Like Docker, keep the container's /etc/hosts with its other files and bind-mount it
    # (and the network's resolv.conf) over /etc in the container. (Docker also mounts an
    # /etc/hostname; netlab sets the hostname itself and skips that file.)
    hosts = host.lab.store.path("containers", rec["Id"] + ".hosts")
    text = host_file(rec)
    trace.record(f"cat > {hosts} <<'EOF'\n{text.rstrip()}\nEOF")
    with open(hosts, "w") as f:
        f.write(text)
    return {"hosts": hosts, "resolv.conf": resolv}


def _start_init(host: Host, rec: Record, etc: dict[str, str] | None) -> proc.Starting:
    """Start the container's init, waiting for "go" (see :func:`proc.start`)."""
    store = host.lab.store
    starting = proc.start(
        rec["Netns"],
        rec["RealArgv"],
        hostname=rec["Hostname"],
        etc=etc,
        exit_file=store.path("containers", rec["Id"] + ".exit"),
        log_file=store.path("containers", rec["Id"] + ".log"),
        keep_stdin_open=rec["Tty"] or rec["OpenStdin"],
        env=proc.default_env() | dict(e.split("=", 1) for e in rec.get("Env", [])),
    )
    return starting


# As Docker does for a network without IPv6, the container's interfaces get no IPv6 (no
# link-local address, no router solicitations); ``lo`` keeps ::1. Set before eth0 exists,
# "default" is all it takes, and costs far less than "all" (which revisits every device).
CONTAINER_SYSCTLS = (("net.ipv6.conf.default.disable_ipv6", "1"),)


def _new_namespace(ns: str) -> bool:
    """Create a container's namespace with its first settings; False if it existed."""
    return netns.create(ns, inside=lambda: _namespace_basics(ns))


def _namespace_basics(ns: str) -> None:
    """A new container namespace's first settings, made from inside it (see netns.create).

    ``lo`` goes up first: in a new namespace its IPv6 settings are only copied from
    "default" when it first comes up, and it should keep ::1.
    """
    trace.record(["ip", "-n", ns, "link", "set", "lo", "up"])
    rtnl.loopback_up_here()
    rtnl.record_sysctls(ns, CONTAINER_SYSCTLS)
    rtnl.write_sysctls_here(CONTAINER_SYSCTLS)


def _drop_new_namespace(ns: str, made: Future[bool]) -> None:
    """Remove a namespace made for a container that failed to start (if it was made)."""
    try:
        new = wait(made)
    except Exception:
        return  # never made

    def work() -> None:
        rtnl.forget(ns)
        netns.delete(ns)

    if new:
        batch(work)


def _wiring(host: Host, rec: Record) -> list[tuple[drivers.Driver, Record, bool]]:
    """What :func:`_wire` does: each endpoint with its driver, and whether the default route
    goes through it: the endpoint marked for it (docker_gwbridge for a swarm task), else the
    first one."""
    nets = host.lab.store.lab_record["Hosts"][host.name]["Networks"]
    eps = [
        (drivers.of(nets[ep["NetworkID"]]), ep)
        for ep in rec["Networks"].values()
        if ep.get("EndpointID")
    ]
    marked = [ep for _, ep in eps if ep.get("DefaultRoute")]
    return [(drv, ep, ep in marked if marked else i == 0) for i, (drv, ep) in enumerate(eps)]


def _wire(host: Host, rec: Record, plan: list[tuple[drivers.Driver, Record, bool]]) -> None:
    """Connect each endpoint of a new container through its network's driver (kernel thread)."""
    for drv, ep, default_route in plan:
        drv.join(host, rec, ep, default_route=default_route)


def _resolv(host: Host, rec: Record) -> str:
    """The resolv.conf a container links to: its first network's name server, or the lab's."""
    nets = host.lab.store.lab_record["Hosts"][host.name]["Networks"]
    for ep in rec["Networks"].values():
        net = nets.get(ep.get("NetworkID", ""))
        if net is not None and net.get("ResolverPid"):
            return resolver.resolv_conf_path(host, net)
    return host.lab.store.path("resolv.conf")


def host_file(rec: Record) -> str:
    """The container's /etc/hosts, as Docker writes it (its own IP and hostname last)."""
    from netlab.model.host import HOSTS_FILE_BASE

    lines = HOSTS_FILE_BASE
    for ep in rec["Networks"].values():
        if ep.get("IPAddress"):
            lines += f"{ep['IPAddress']}\t{rec['Hostname']}\n"
    return lines


def _teardown(host: Host, rec: Record) -> None:
    """Remove a container's network: its veths (synchronously) and its namespace.

    Deleting the host end of a veth removes both ends at once, so the container's interfaces
    are really gone when this returns; the emptied namespace is then only unpinned.
    """
    if not rec.get("OwnNetns"):
        return
    cns = rec["Netns"]
    veths = _host_links(host, rec)

    proc.abort_births(cns)  # an init whose start was interrupted before anyone held it
    _kill_strays([cns])

    def work() -> None:
        for bns, veth in veths:
            if netns.exists(bns):
                rtnl.delete_link(bns, veth)
        rtnl.forget(cns)
        netns.delete(cns)

    batch(work)


def _host_links(host: Host, rec: Record) -> list[tuple[str, str]]:
    """The links outside the container that go with its endpoints (the host ends of veths)."""
    nets = host.lab.store.lab_record["Hosts"][host.name]["Networks"]
    out = []
    for ep in rec["Networks"].values():
        net = nets.get(ep.get("NetworkID", ""))
        if net is not None and ep.get("EndpointID"):
            out += drivers.of(net).host_links(host, ep)
    return out


def _kill_strays(namespaces: list[str]) -> None:
    """Kill, by pid, every process still inside these namespaces.

    A container's main process group is already gone, but a daemon that called ``setsid``
    (``busybox httpd`` without ``-f``) or a ``docker exec ... &`` may still run there; it
    would keep the namespace alive after it is unpinned, out of reach of ``netlab clean``.
    """
    ids = set()
    for ns in namespaces:
        with contextlib.suppress(netns.NamespaceNotFound):
            ids.add(netns.ident(ns))
    if ids:
        proc.kill(sorted(netns.pids_in(ids)))


def _finish(host: Host, rec: Record, code: int, finished: str | None = None) -> None:
    """Mark a container exited with ``code``, release its network (Docker does too)."""
    _teardown(host, rec)
    nets = list(rec["Networks"])
    had_ports = bool(rec.get("Ports"))
    rec["Ports"] = []
    rec["State"] = "exited"
    rec["ExitCode"] = code
    rec["Pid"] = 0
    rec["FinishedAt"] = finished or now_rfc3339()
    for ep in rec["Networks"].values():
        for key in ("IPAddress", "Gateway", "MacAddress", "EndpointID"):
            if key in ep:
                ep[key] = ""
        if "IPPrefixLen" in ep:
            ep["IPPrefixLen"] = 0
    host.lab.store.save_container(rec)
    networks.endpoints_changed(host, nets)
    if had_ports:
        networks.apply_firewall(host)  # the container's port rules go, the others stay


def reconcile(host: Host) -> None:
    """Notice containers whose process ended by itself: mark them exited, free their network."""
    store = host.lab.store
    dead = [
        r
        for r in store.containers().values()
        if r["Host"] == host.name
        and r["State"] == "running"
        and not proc.alive(r["Pid"], r["PidStart"])
    ]
    if not dead:
        return
    with store.locked():
        for r in dead:
            rec = store.containers().get(r["Id"])
            if rec is None or rec["State"] != "running":
                continue
            exit_file = store.path("containers", rec["Id"] + ".exit")
            code = KILLED_EXIT_CODE
            finished = None
            with contextlib.suppress(FileNotFoundError, ValueError):
                with open(exit_file) as f:
                    code = int(f.read().strip())
                finished = rfc3339(os.stat(exit_file).st_mtime_ns)
            _finish(host, rec, code, finished)
            if rec.get("AutoRemove"):
                store.drop_container(rec["Id"])  # `docker run --rm`


def remove_many(host: Host, containers: list[Container], *, force: bool) -> None:
    """Remove several containers at once (``docker rm [-f] A B C``, ``container prune``).

    Like a namespace-deleting ``ip -batch`` script: every process is killed first, then every
    namespace is unpinned in one go, and the kernel's removal of all their veths is awaited
    together (one ``RTM_DELLINK`` watch), so the kernel's clean-up work is batched.
    """
    from netlab.errors import Conflict

    store = host.lab.store
    with store.locked():
        reconcile(host)
        recs = [c.record for c in containers]
        running = [r for r in recs if r["State"] == "running"]
        if running and not force:
            r = running[0]
            raise Conflict(
                f'cannot remove container "/{r["Name"]}": container is running: stop the '
                "container before removing or force remove"
            )
        proc.kill_groups([(r["Pid"], r["PidStart"]) for r in running])
        _kill_strays([r["Netns"] for r in recs if r.get("OwnNetns")])
        own = [r for r in recs if r.get("OwnNetns") and netns.exists(r["Netns"])]
        veths = {link for r in own for ns, link in _host_links(host, r) if ns == host.ns}
        watch = None
        if veths and netns.exists(host.ns):
            idx = {i for name, i in rtnl.link_indexes(host.ns).items() if name in veths}
            watch = rtnl.LinkRemovalWatch(host.ns, idx)

        def unpin() -> None:
            for r in own:
                rtnl.forget(r["Netns"])
                netns.delete(r["Netns"])

        batch(unpin)
        if watch is not None:
            watch.wait(30.0)
        store.drop_container(*(r["Id"] for r in recs))
        networks.endpoints_changed(host, sorted({n for r in recs for n in r["Networks"]}))
        if any(r.get("Ports") for r in recs):
            networks.apply_firewall(host)
