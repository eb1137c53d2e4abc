"""``Lab``: one sandbox, its lifecycle and its exact clean-up.

A lab is a handful of named network namespaces (``nl-LAB-*``) plus a small state folder
(:mod:`netlab.model.state`). Building one:

1. removes whatever an earlier run of the same lab left (so "Restart kernel and run all"
   always works);
2. writes the state folder first, so that a crash at any later point leaves something
   ``netlab clean`` can find;
3. builds the LAN with its router, the simulated internet (a web site and a DNS server) and
   one namespace per Docker host (see :mod:`netlab.model.topology` for the address plan).

Taking it down kills the lab's processes by pid (every process whose network namespace is one
of the lab's), deletes the namespaces (waiting until the kernel has removed their interfaces),
removes the ``/etc/netns`` files and, last, the state folder. Nothing outside the lab's own
namespaces is touched, ever.
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import fcntl
import html
import os
import shlex
import weakref
from collections.abc import Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any

from netlab.errors import (
    InvalidArgument,
    LabInUse,
    NetlabError,
    NoSuchContainer,
    NoSuchHost,
    NoSuchLab,
    NotRunning,
)
from netlab.kernel import batch, containers, freezer, netns, proc, rtnl
from netlab.model import frontends, machines, sweep, topology
from netlab.model.doctor import require_privileges, require_tools
from netlab.model.host import Host, build_host
from netlab.model.ids import local_mac
from netlab.model.records import LabRec
from netlab.model.resolver import dnsmasq
from netlab.model.state import Store, lab_dir, lab_names, removed_message
from netlab.model.timefmt import now_rfc3339

if TYPE_CHECKING:
    from netlab.model.container import Container
    from netlab.model.host import Host

_open_labs: weakref.WeakSet[Lab] = weakref.WeakSet()
_latest: weakref.ref[Lab] | None = None


def latest_lab() -> Lab | None:
    """The lab this process built or attached last (what ``%docker`` talks to by default)."""
    return _latest() if _latest is not None else None


class Lab:
    """One sandbox: a LAN, a simulated internet and one or more Docker hosts.

    ``Lab("demo")`` builds the lab; ``Lab.attach("demo")`` opens a lab that another process
    built. Use it as a context manager, or call :meth:`down` when done::

        with Lab("demo") as lab:
            web = lab.host().run("nginx")
            print(lab.host().exec(["curl", "-s", web.ip]).stdout)

    ``firewall_backend`` and ``userland_proxy`` are the Docker daemon's settings of those names
    (``daemon.json``) for every host of the lab: ``"iptables"`` (the default, as Docker's)
    writes Docker 28's iptables chains and, by default, starts a docker-proxy per published
    port and address family
    (``userland_proxy=False``: the kernel alone handles local and hairpin traffic);
    ``"nftables"`` writes Docker 29's ``ip docker-bridges`` table, without docker-proxy.

    A lab belongs to the process that built it (a notebook's kernel, a script) and goes when
    that process ends; one made with ``down_at_exit=False`` (``netlab up``) lives until it is
    taken down. Building a lab whose name is taken replaces the earlier lab only if it
    belonged to this same process (a notebook cell run again) or to a process that has ended
    ("Restart kernel and run all"); otherwise :class:`LabInUse` says whose it is, unless
    ``replace=True``. Objects of a replaced lab (its Lab, hosts and containers) refuse to
    act on the new one (:class:`LabRebuilt`).
    """

    def __init__(
        self,
        name: str = "demo",
        *,
        hosts: Sequence[str] = ("host",),
        down_at_exit: bool = True,
        replace: bool = False,
        firewall_backend: str = "iptables",
        userland_proxy: bool | None = None,
        _attach: bool = False,
    ) -> None:
        global _latest
        self.name = topology.check_lab_name(name)
        self.store = Store(self.name)
        self._hosts: dict[str, Host] = {}
        # While a swarm scales (nested: a count), the peer tables and the DNS names are
        # brought up to date once, at its end, not per task (netlab.model.swarm.settling).
        self.deferred = 0
        if _attach:
            if not self.store.exists():
                raise NoSuchLab(
                    f"no lab named {name!r} on this machine (labs: "
                    f"{', '.join(lab_names()) or 'none'}); create it with `netlab up {name}`"
                )
            self.build = self.store.pin()
            _latest = weakref.ref(self)
            return
        host_list = list(dict.fromkeys(hosts))
        if not host_list:
            raise InvalidArgument("a lab needs at least one Docker host")
        for h in host_list:
            topology.check_host_name(h)
        if firewall_backend not in ("iptables", "nftables"):
            raise InvalidArgument(
                f"invalid firewall backend {firewall_backend!r}: use iptables or nftables"
            )
        if userland_proxy is None:
            userland_proxy = firewall_backend == "iptables"  # (Docker's default: true)
        if userland_proxy and firewall_backend == "nftables":
            raise InvalidArgument(
                "netlab's nftables backend has no docker-proxy: use userland_proxy=False, or "
                'firewall_backend="iptables"'
            )
        settings = {"firewall_backend": firewall_backend, "userland_proxy": userland_proxy}

        require_privileges()
        require_tools()
        me = (os.getpid(), proc.start_time(os.getpid()) or 0)
        with self.store.claim() as previous:
            if previous is not None and not replace:
                _may_replace(previous, me)
            _wipe(self.name, keep_lock=True)
            try:
                self._build(host_list, owner=me, settings=settings)
                with self.store.locked():
                    done = dataclasses.replace(
                        self.store.lab_record,
                        complete=True,
                        owner=me if down_at_exit else (0, 0),
                    )
                    self.store.save_lab(done)
            except BaseException:
                _wipe(self.name)  # (those waiting for the lock see it gone, and start over)
                raise
        self.build = self.store.current_build()
        if down_at_exit:
            _open_labs.add(self)
        _latest = weakref.ref(self)

    @classmethod
    def attach(cls, name: str) -> Lab:
        """Open a lab that exists (built by a notebook, a script or ``netlab up``)."""
        return cls(name, _attach=True)

    # -- building ------------------------------------------------------------------------------

    def _build(self, hosts: list[str], *, owner: tuple[int, int], settings: dict[str, Any]) -> None:
        self.store.create(LabRec(self.name, now_rfc3339(), owner=owner, **settings))
        with open(self.store.path("resolv.conf"), "w") as f:
            f.write(machines.RESOLV_CONF)  # shared by every container (linked from /etc/netns)
        lan = topology.ns_name(self.name, "lan")
        inet = topology.ns_name(self.name, "inet")
        sweep.create(lan)
        sweep.create(inet)
        machines.quiet_ipv6(lan)
        machines.quiet_ipv6(inet)
        # The LAN switch and router.
        rtnl.add_bridge(lan, "lan0", mac=_mac(self.name, "lan0"))
        rtnl.add_addr(lan, "lan0", f"{topology.LAN_GATEWAY}/{topology.LAN_PREFIXLEN}")
        rtnl.set_link(lan, "lan0", up=True)
        rtnl.set_link(lan, "lo", up=True)
        # The uplink from the router to the internet.
        rtnl.add_veth(
            lan,
            "wan0",
            peer_ns=inet,
            peer_name="eth0",
            mac=_mac(self.name, "wan0"),
            peer_mac=_mac(self.name, "inet-eth0"),
        )
        rtnl.add_addr(lan, "wan0", f"{topology.WAN_ROUTER}/{topology.WAN_PREFIXLEN}")
        rtnl.set_link(lan, "wan0", up=True)
        rtnl.add_route(lan, gateway=topology.WAN_INTERNET)
        rtnl.sysctl(lan, "net.ipv4.ip_forward", "1")
        # The simulated internet: a web site and a DNS server on loopback addresses.
        rtnl.set_link(inet, "lo", up=True)
        rtnl.add_addr(inet, "lo", f"{topology.WEB_SITE_IP}/32")
        rtnl.add_addr(inet, "lo", f"{topology.DNS_IP}/32")
        rtnl.add_addr(inet, "eth0", f"{topology.WAN_INTERNET}/{topology.WAN_PREFIXLEN}")
        rtnl.set_link(inet, "eth0", up=True)
        rtnl.add_route(inet, topology.LAN_SUBNET, gateway=topology.WAN_ROUTER)
        self._start_internet_services(inet)
        machines.lan_machine(self.name, "client", topology.CLIENT_IP)  # a machine outside Docker
        for h in hosts:
            self.add_host(h)

    def _start_internet_services(self, inet: str) -> None:

        # The page says which address it was reached from (busybox httpd runs
        # cgi-bin/index.cgi for / when there is no index.html): a lab shows that the site sees
        # the host's address, not the container's.
        www = self.store.path("www", "dockercon")
        os.makedirs(os.path.join(www, "cgi-bin"), exist_ok=True)
        page = os.path.join(www, "cgi-bin", "index.cgi")
        with open(page, "w") as f:
            f.write(
                "#!/bin/sh\n"
                "printf 'Content-Type: text/html\\r\\n\\r\\n'\n"
                'echo "<html><body><h1>DockerCon</h1>'
                "<p>You reached www.dockercon.com on netlab's simulated internet"
                ' from $REMOTE_ADDR.</p></body></html>"\n'
            )
        os.chmod(page, 0o755)
        os.makedirs(self.store.path("services"), exist_ok=True)
        services = {
            "www": ["busybox", "httpd", "-f", "-p", f"{topology.WEB_SITE_IP}:80", "-h", www],
            "dns": [
                *dnsmasq(topology.DNS_IP, self.store.path("services", "dns.pid")),
                f"--address=/{topology.WEB_SITE_NAME}/{topology.WEB_SITE_IP}",
                "--local=/#/",  # (every other name: NXDOMAIN, as the internet answers)
            ],
        }
        for name, argv in services.items():
            containers.spawn(inet, argv, log_file=self.store.path("services", f"{name}.log"))
        proc.wait_listening(inet, [(topology.WEB_SITE_IP, 80, "tcp"), (topology.DNS_IP, 53, "udp")])

    def add_host(self, name: str) -> Host:
        """Add a Docker host (its own namespace on the LAN, with docker0) and return it."""

        topology.check_host_name(name)
        with self.store.locked():
            hosts = self.store.lab_record.hosts
            if name in hosts:
                return self.host(name)
            index = len(hosts)
            try:
                build_host(self, name, index)
            except BaseException:
                _unbuild_host(self, name)
                raise
        host = Host(self, name)
        self._hosts[name] = host
        return host

    # -- reading -------------------------------------------------------------------------------

    @property
    def hosts(self) -> list[Host]:
        """The lab's Docker hosts, in the order they were added."""

        recs = self.store.lab_record.hosts if self.store.exists() else {}
        return [
            self._hosts.setdefault(h.name, Host(self, h.name))
            for h in sorted(recs.values(), key=lambda h: h.index)
        ]

    def host(self, name: str | None = None) -> Host:
        """A Docker host by name; without a name, the first (or only) one."""
        hosts = self.hosts
        if name is None:
            if not hosts:
                self.check_up()
                raise NoSuchHost(f"lab {self.name!r} has no Docker host")
            return hosts[0]
        for h in hosts:
            if h.name == name:
                return h
        raise NoSuchHost(
            f"no Docker host {name!r} in lab {self.name!r} (hosts: "
            f"{', '.join(h.name for h in hosts)})"
        )

    def containers(self, *, all: bool = False) -> list[Container]:
        """Containers of every host (running ones unless ``all``)."""
        return [c for h in self.hosts for c in h.containers(all=all)]

    def namespaces(self) -> list[str]:
        """The lab's namespaces that exist in the kernel now."""
        prefix = topology.ns_prefix(self.name)
        return [n for n in netns.names() if n.startswith(prefix)]

    def command_prefix(self, target: str) -> list[str]:
        """The argv prefix that runs a command inside ``target`` of this lab.

        ``target`` is a Docker host's name, ``lan``, ``inet`` or ``client``, or a container's
        name or ID (prefix) on any host of the lab (``netlab exec``, ``%on``).
        """
        if target in topology.RESERVED_HOSTS:
            return proc.netns_prefix(topology.ns_name(self.name, target), target)
        if target in {h.name for h in self.hosts}:
            return self.host(target).command_prefix()
        for h in self.hosts:
            try:
                c = h.container(target)
            except NoSuchContainer:
                continue
            if not c.running:
                raise NotRunning(c.id)
            return containers.container_prefix(c.record.pid)
        raise NoSuchContainer(target)

    def exec(
        self, target: str, command: Sequence[str] | str, *, timeout: float | None = 60
    ) -> proc.Result:
        """Run a real command inside ``target`` (a Docker host, ``client``, ``lan``, ``inet``
        or a running container), as ``%on TARGET`` does; a string is split like a shell
        would. ``lab.exec("client", "curl -s -m 1 http://192.168.56.11:8080/").ok``."""
        argv = shlex.split(command) if isinstance(command, str) else list(command)
        return proc.run_in(self.command_prefix(target), argv, timeout=timeout)

    def graph(self) -> Any:
        """The topology as a networkx graph, discovered from the kernel (views.topology)."""
        return frontends.show("graph", self)

    def draw(self, path: str | None = None, *, highlight: list[Any] | None = None) -> Any:
        """A picture of the lab as the kernel has it; saved to ``path`` (.png/.svg) if given.

        Returns a :class:`netlab.views.draw.Picture`, which a notebook displays as an image
        (its ``.figure`` is the matplotlib Figure).
        """
        self.check_up()
        return frontends.show("draw", self, path, highlight=highlight)

    def explorer(self) -> Any:
        """An ipywidgets explorer: pick two machines, ping or curl, see the path lit up."""
        self.check_up()
        return frontends.show("explorer", self)

    def check_up(self) -> None:
        """Raise :class:`NoSuchLab`, saying so in a notebook's words, if this lab is gone."""
        if not self.store.exists():
            raise NoSuchLab(removed_message(self.name))

    def missing(self) -> list[str]:
        """What keeps the lab from being whole: a build that did not finish, namespaces of
        its hosts, LAN or internet that are gone (empty for a lab that is whole)."""
        if not self.store.exists():
            return ["its state"]
        problems = [] if self.store.lab_record.complete else ["a build that did not finish"]
        have = set(self.namespaces())
        parts = ["lan", "inet", "client", *(h.name for h in self.hosts)]
        gone = [p for p in parts if topology.ns_name(self.name, p) not in have]
        return problems + [f"namespace {topology.ns_name(self.name, p)}" for p in gone]

    @property
    def is_up(self) -> bool:
        """True while the lab's state exists."""
        return self.store.exists()

    # -- lifecycle -----------------------------------------------------------------------------

    def down(self) -> None:
        """Remove everything of this lab: processes, namespaces, files. Safe to call twice."""
        wipe(self.name)
        _open_labs.discard(self)

    def __enter__(self) -> Lab:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.down()

    def __repr__(self) -> str:
        state = "up" if self.is_up else "down"
        return f"<Lab {self.name!r} {state}: hosts {[h.name for h in self.hosts]}>"

    def _repr_html_(self) -> str:
        if not self.is_up:
            return f"<b>Lab {html.escape(self.name)}</b>: down"
        rows = "".join(
            f"<tr><td>{html.escape(h.name)}</td><td>{h.address}</td>"
            f"<td>{len(h.containers())}</td><td><code>{html.escape(h.ns)}</code></td></tr>"
            for h in self.hosts
        )
        return (
            f"<b>Lab {html.escape(self.name)}</b> (LAN {topology.LAN_SUBNET}, internet site "
            f"{topology.WEB_SITE_NAME} = {topology.WEB_SITE_IP})"
            "<table><tr><th>host</th><th>address</th><th>containers</th><th>namespace</th></tr>"
            f"{rows}</table>"
        )


def owned_elsewhere(name: str) -> bool:
    """True if lab ``name`` belongs to another process that still runs (a notebook's lab,
    not one made by ``netlab up``): it is not this process's to fall back on."""
    try:
        pid, started = Store(name).lab_record.owner
    except (NoSuchLab, OSError, ValueError):
        return False
    if pid == 0 or (pid, started) == (os.getpid(), proc.start_time(os.getpid()) or 0):
        return False
    return proc.alive(pid, started)


def _may_replace(previous: LabRec, me: tuple[int, int]) -> None:
    """Raise :class:`LabInUse` unless the lab found under our name may be replaced: it
    belonged to this process, or to one that has ended (see :class:`Lab`)."""
    name = previous.name
    how = (
        f"use another name, work with it (Lab.attach({name!r}), `netlab docker -L {name} ...`), "
        f"or replace it (Lab({name!r}, replace=True), `netlab up --replace {name}`)"
    )
    pid, started = previous.owner
    if pid == 0:
        if not previous.complete:
            return  # a `netlab up` that died while building: its leftovers go
        raise LabInUse(
            f"lab {name!r} is up (made by `netlab up`, it stays until `netlab down {name}`): {how}"
        )
    if (pid, started) == me or not proc.alive(pid, started):
        return
    command = _command_of(pid)
    if "ipykernel" in command:  # (the same lab open in two notebooks, two languages...)
        how = (
            "it is another notebook's kernel (the same lab open twice, or in the other "
            "language?): shut that kernel down (JupyterLab: the Running Terminals and Kernels "
            f"panel) and run this cell again, or {how}"
        )
    raise LabInUse(
        f"lab {name!r} belongs to process {pid} ({command}), which is still running: {how}"
    )


def _command_of(pid: int) -> str:
    """A process's command line, short, for a message."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            argv = [a.decode(errors="replace") for a in f.read().split(b"\0") if a]
    except OSError:
        return "?"
    text = " ".join(os.path.basename(a) if i == 0 else a for i, a in enumerate(argv))
    return text if len(text) <= 60 else text[:57] + "..."


def _unbuild_host(lab: Lab, name: str) -> None:
    """Undo a half-built host: its namespace, its LAN port, its files and its record."""
    ns = topology.ns_name(lab.name, name)
    rtnl.forget(ns)
    netns.delete(ns)
    netns.remove_etc(ns)
    rtnl.delete_link(topology.ns_name(lab.name, "lan"), topology.lan_port(name))
    lab.store.drop_host(name)


def _mac(lab: str, what: str) -> str:

    return local_mac(lab, what)


def wipe(lab: str) -> dict[str, Any]:
    """Remove every trace of lab ``lab`` and nothing else; return what was removed.

    Works from the kernel's view (namespaces named ``nl-LAB-*``, processes inside them found
    through ``/proc``, also in namespaces whose pin was deleted: see
    :mod:`netlab.model.sweep`), so it also cleans up after a killed notebook kernel. It holds the
    lab's lock, so it never runs in the middle of another process's ``docker run``.
    """
    batch(lambda: None)  # let a job that an interrupted caller left on the worker end
    lock_fd = -1
    with contextlib.suppress(FileNotFoundError):
        lock_fd = os.open(os.path.join(lab_dir(lab), "lock"), os.O_RDWR | os.O_CLOEXEC)

        fcntl.flock(lock_fd, fcntl.LOCK_EX)
    try:
        return _wipe(lab)
    finally:
        if lock_fd >= 0:
            os.close(lock_fd)


def _wipe(lab: str, *, keep_lock: bool = False) -> dict[str, Any]:
    prefix = topology.ns_prefix(lab)
    names = [n for n in netns.names() if n.startswith(prefix)]
    # Empty placeholder files left by a crash between create and mount.
    with contextlib.suppress(FileNotFoundError):
        names += [n for n in os.listdir(netns.RUN_DIR) if n.startswith(prefix) and n not in names]
    for n in names:
        containers.abort_births(n)  # (inits this process was starting when it was interrupted)
    freezer.remove_lab(lab, keep=True)  # paused containers thawed, or (v1) SIGKILL waits
    swept = sweep.stop_processes(lab)
    freezer.remove_lab(lab)  # then their cgroups go (see netlab.model.pausing)
    # Containers first, so that their veths' removal can be awaited in their host namespace;
    # then hosts (seen from the LAN), then the LAN (seen from the internet), then the internet.
    order = {"lan": 2, "inet": 3, "client": 1}
    hosts_rec = _hosts_of(lab)

    def rank(n: str) -> int:
        part = n[len(prefix) :]
        return order.get(part, 1 if part in hosts_rec else 0)

    # A lab another live process owns (a notebook's, cleaned from a terminal): its sockets
    # keep the namespaces, and so their veths, until it notices the lab is gone; the
    # removals are then not waited for long.
    wait = 0.5 if owned_elsewhere(lab) else 5.0
    for level in range(4):
        batch = [n for n in names if rank(n) == level]
        if not batch:
            continue
        watches = _watch_for(lab, level, batch, hosts_rec)
        for n in batch:
            rtnl.forget(n)
            netns.delete(n)
        for watch in watches:
            watch.wait(wait)
    for n in netns.etc_names():
        if n.startswith(prefix):
            netns.remove_etc(n)
    Store(lab).destroy(keep_lock=keep_lock)
    return {"namespaces": len(names), "processes": swept.processes, "unpinned": swept.unpinned}


def _hosts_of(lab: str) -> set[str]:
    """The names of a lab's Docker hosts, as far as its state can still be read."""
    try:
        return set(Store(lab).lab_record.hosts)
    except (NetlabError, OSError, ValueError, KeyError, TypeError):
        return set()  # (gone, or written by another version: clean-up goes on without it)


def _watch_for(
    lab: str, level: int, batch: list[str], hosts: set[str]
) -> list[rtnl.LinkRemovalWatch]:
    """Watches, in namespaces that survive this step, for the veths the step removes."""
    if level == 0:
        # Containers: their veth peers are ports of bridges in host namespaces.
        watches: list[rtnl.LinkRemovalWatch] = []
        for h in hosts:
            hns = topology.ns_name(lab, h)
            if netns.exists(hns):
                idx = {
                    lk.index for lk in rtnl.links(hns) if lk.kind == "veth" and lk.name != "eth0"
                }
                watches.append(rtnl.LinkRemovalWatch(hns, idx))
        return watches
    observer = {1: "lan", 2: "inet"}.get(level)
    if observer is None:
        return []
    ons = topology.ns_name(lab, observer)
    if not netns.exists(ons):
        return []
    names = (
        {topology.lan_port(n[len(topology.ns_prefix(lab)) :]) for n in batch}
        if level == 1
        else {"eth0"}
    )  # level 1: the hosts' and the client's ports on lan0
    idx = {lk.index for lk in rtnl.links(ons) if lk.name in names}
    return [rtnl.LinkRemovalWatch(ons, idx)]


@atexit.register
def _down_open_labs() -> None:
    """Backstop: labs built by this process and not taken down are removed at exit."""
    for lab in list(_open_labs):
        with contextlib.suppress(Exception):
            if lab.store.current_build() == lab.build:  # not a newer build by someone else
                lab.down()
