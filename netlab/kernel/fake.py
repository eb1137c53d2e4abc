"""A fake kernel: the kernel layer's interface over in-memory state, for tests without root.

The model (:mod:`netlab.model`) only ever reaches Linux through the functions of
:mod:`.netns`, :mod:`.rtnl`, :mod:`.nft`, :mod:`.proc` and :func:`netlab.kernel.batch`/
``soon``/``wait``. :class:`FakeKernel` has a function of the same name and signature for each
of them, and :func:`netlab.testing.install` swaps them in, so that IPAM, names, the
firewall's inputs, the overlay's peer table, the scheduler and the roll-back on failure run
as a normal user in milliseconds, against state a test can read back::

    with netlab.testing.installed(FakeKernel()) as kernel:
        lab = Lab("demo")
        c = lab.host().run("ubuntu", "sleep infinity")
        assert [a.cidr for a in kernel.addrs(c.ns) if a.ifname == "eth0"] == ["172.17.0.2/16"]

**What is modelled**, with the kernel's behaviour where the model depends on it:

* named namespaces: ``create`` returns False for one that exists; ``ident`` is a (dev, inode)
  pair that changes when a name is reused. Deleting a namespace unpins it; its interfaces
  go at once, unless a (fake) process still runs inside, as in the kernel (they go with the
  last such process). Going, they take along the peers of their veths, the macvlan/ipvlan
  children of their links and the VXLAN devices whose socket was opened there;
* links per namespace, with per-namespace ifindexes from 1 (``lo``): kind, MAC, MTU, up,
  master (bridges only: another kind of master is ``EOPNOTSUPP``), alias, veth peers across
  namespaces (deleting one end deletes both), VXLAN id and port (a VNI is taken once per
  port and socket namespace: ``EEXIST``), macvlan/ipvlan children of a parent, moves between
  namespaces (addresses, neighbours, routes and the master are dropped, the index kept if
  free), link-netnsids;
* IPv4 addresses, routes (connected routes of up links, a gateway must be on one:
  ``ENETUNREACH``; a route over a down device: ``ENETDOWN``; routes over a link go when it
  goes down), permanent neighbours, VXLAN FDB entries, ``net.*`` sysctls (per-interface keys
  need the interface: ``FileNotFoundError``, as ``/proc/sys`` says), ``/etc/netns`` files;
* one nftables ruleset text per namespace: ``table``, ``delete table`` (``ENOENT`` when
  absent), ``flush ruleset``, applied all or nothing, braces checked;
* processes: pids from :data:`FAKE_PID_BASE` (2**30, above the kernel's ``PID_MAX_LIMIT`` of
  2**22, so no fake pid is ever a real one), ``proc.start`` returning an object with the
  methods of :class:`.proc.Starting`; servers listen where their command line says
  (``busybox httpd -p [ADDR:]PORT``, ``dnsmasq --listen-address=ADDR``) once told to go,
  and die at once if ADDR is not an address of their namespace. Signals are bookkeeping:
  nothing here calls ``os.kill``, and a pid outside the fake's range is refused
  (:exc:`FakeKernelError`).
  :meth:`FakeKernel.exit` makes a process end by itself with an exit code;
* ``netns.tcp_reachable``: True when a running fake process listens on that TCP address and
  port, in a namespace where the address is configured, and the source namespace has a
  route to it;
* errors: the same errno in a :class:`~.rtnl.KernelError` with the same text as the real
  functions (``EEXIST`` tolerated exactly where they tolerate it, missing links ``ENODEV``);
  a missing namespace is :class:`~.netns.NamespaceNotFound`, as in the real layer;
  :meth:`FakeKernel.fail` makes chosen calls fail as the kernel would;
* the trace: every function records the same command lines as the real one, so
  ``docker --explain`` shows the same text.

Installing it in place of the real kernel (and the lab store in a folder of the test's) is
:mod:`netlab.testing`'s job: this module is the kernel layer's and knows nothing above it.

**What is not**: packets (no forwarding, ARP, NAT or filtering: a test reads the rules and
tables, not their effect; ``tcp_reachable`` ignores the firewall and the bridges), IPv6,
commands inside namespaces (``proc.run_in``, so ``docker exec``, raises
:exc:`FakeKernelError`), ``nft list ruleset``'s own rendering (the fake returns the tables as
loaded), the asynchronous end of a namespace, kernel limits. Everything runs on the calling
thread: ``batch``/``soon`` run their job at once.
"""

from __future__ import annotations

import contextlib
import errno
import fnmatch
import functools
import ipaddress
import os
import shlex
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, TypeVar

from netlab.errors import NetlabError
from netlab.kernel import netns, nft, proc, rtnl, trace

T = TypeVar("T")

FAKE_PID_BASE = 1 << 30
FAKE_NS_DEV = 0xFA4E
ETC_DIR = netns.ETC_DIR  # (shown in the trace; the fake writes nothing there)


class FakeKernelError(NetlabError, RuntimeError):
    """Something the fake kernel does not do, or a way to the real kernel that it closed."""


@dataclass(eq=False)
class FakeLink:
    """One interface of the fake kernel (mutable; :meth:`FakeKernel.links` gives snapshots)."""

    ns: FakeNamespace
    index: int
    name: str
    kind: str
    mac: str
    mtu: int
    up: bool = False
    master: str | None = None
    peer: FakeLink | None = None
    parent: FakeLink | None = None
    alias: str | None = None
    vxlan_id: int | None = None
    vxlan_port: int | None = None
    origin: FakeNamespace | None = None  # vxlan: where its UDP socket lives
    hairpin: bool = False
    addrs: list[ipaddress.IPv4Interface] = field(default_factory=list)
    neigh: dict[str, str] = field(default_factory=dict)  # ip -> mac
    fdb: dict[str, str] = field(default_factory=dict)  # mac -> dst


@dataclass(eq=False)
class FakeNamespace:
    """One network namespace of the fake kernel."""

    name: str
    ident: netns.NsId
    pinned: bool = True
    links: dict[str, FakeLink] = field(default_factory=dict)
    next_index: int = 1
    routes: list[rtnl.Route] = field(default_factory=list)  # (connected ones are computed)
    sysctls: dict[str, str] = field(default_factory=dict)
    tables: dict[str, str] = field(default_factory=dict)  # "ip docker-bridges" -> body
    nsids: dict[int, int] = field(default_factory=dict)  # other's inode -> nsid


@dataclass(eq=False)
class FakeProcess:
    """A process of the fake kernel: what was started, where, and whether it still runs."""

    pid: int
    started: int
    ns: str
    ns_ident: netns.NsId
    argv: list[str]
    log_file: str
    exit_file: str
    hostname: str = ""
    state: str = "born"  # born (waits for go), running, exited
    exit_code: int | None = None
    listens: list[tuple[str, int, str]] = field(default_factory=list)

    @property
    def alive(self) -> bool:
        """True until it exits or is killed."""
        return self.state != "exited"


@dataclass(frozen=True, order=True)
class FdbEntry:
    """A VXLAN forwarding entry: ``bridge fdb show`` (``MAC dev DEV dst DST self permanent``)."""

    dev: str
    mac: str
    dst: str


@dataclass
class _Failure:
    op: str
    err: int
    ns: str | None
    name: str | None
    times: int
    skip: int


def _op(ns: str, what: str, fn: Callable[[], T], ok: tuple[int, ...] = ()) -> T | None:
    """As ``rtnl._fast``/``_run``: the kernel's errno in a KernelError, those in ``ok`` ignored."""
    try:
        return fn()
    except OSError as exc:
        if exc.errno in ok:
            return None
        raise rtnl.KernelError(f"{what} (in {ns})", exc.errno or 0) from None


def _names(text: str) -> tuple[str, ...]:
    return tuple(text.split())


def _oserror(err: int, what: str = "") -> OSError:
    return OSError(err, os.strerror(err) + (f": {what}" if what else ""))


# --- the kernel ---------------------------------------------------------------------------------


class FakeKernel:
    """In-memory namespaces, links, addresses, routes, rules and processes (see the module).

    The functions that replace the real ones are on :attr:`netns`, :attr:`rtnl`, :attr:`nft`
    and :attr:`proc` under their real names; the rest of this class is for tests: queries
    (:meth:`links`, :meth:`addrs`, :meth:`routes`, :meth:`neigh`, :meth:`fdb`,
    :meth:`ruleset`, :attr:`processes`...) and events (:meth:`fail`, :meth:`exit`).
    """

    def __init__(self, *, link_kinds: Sequence[str] = ("macvlan", "ipvlan")) -> None:
        self._namespaces: dict[str, FakeNamespace] = {}
        self._orphans: list[FakeNamespace] = []  # unpinned, held by a process
        self._inodes = 0
        self._macs = 0
        self._pids = 0
        self._procs: dict[int, FakeProcess] = {}
        self._starting: dict[int, FakeStarting] = {}
        self._etc: dict[str, dict[str, str]] = {}
        self._inside: list[FakeNamespace] = []
        self._failures: list[_Failure] = []
        self.sublink_kinds = set(link_kinds)
        self.netns = FakeNetns(self)
        self.rtnl = FakeRtnl(self)
        self.nft = FakeNft(self)
        self.proc = FakeProc(self)

    # -- jobs (batch, soon, wait): at once, on the calling thread -------------------------------

    def batch(self, fn: Callable[[], T]) -> T:
        """:func:`netlab.kernel.batch`: run ``fn`` now."""
        return fn()

    def soon(self, fn: Callable[[], T]) -> Future[T]:
        """:func:`netlab.kernel.soon`: run ``fn`` now, its result or error in a done Future."""
        fut: Future[T] = Future()
        try:
            fut.set_result(fn())
        except BaseException as exc:
            fut.set_exception(exc)
        return fut

    def wait(self, job: Future[T]) -> T:
        """:func:`netlab.kernel.wait`."""
        return job.result()

    # -- failures on demand --------------------------------------------------------------------

    def fail(
        self,
        op: str,
        err: int = errno.EIO,
        *,
        ns: str | None = None,
        name: str | None = None,
        times: int = 1,
        skip: int = 0,
    ) -> None:
        """Make the next ``times`` calls of ``op`` (``"rtnl.add_veth"``, ``"nft.load"``,
        ``"netns.create"``, ``"proc.start"``...) fail with ``err``, as the kernel would say it,
        after ``skip`` matching calls. ``ns`` and ``name`` (the link, or the program) are
        shell patterns the call must match. The call is traced first, as a real one is."""
        self._failures.append(_Failure(op, err, ns, name, times, skip))

    def _injected(self, op: str, ns: str = "", name: str = "") -> int | None:
        for f in self._failures:
            if f.op != op or f.times <= 0:
                continue
            if f.ns is not None and not fnmatch.fnmatchcase(ns, f.ns):
                continue
            if f.name is not None and not fnmatch.fnmatchcase(name, f.name):
                continue
            if f.skip > 0:
                f.skip -= 1
                continue
            f.times -= 1
            return f.err
        return None

    # -- namespaces ----------------------------------------------------------------------------

    def _ns(self, name: str) -> FakeNamespace:
        n = self._namespaces.get(name)
        if n is None:
            raise netns.NamespaceNotFound(name)
        return n

    def _new_namespace(self, name: str) -> FakeNamespace:
        self._inodes += 1
        n = FakeNamespace(name, netns.NsId(FAKE_NS_DEV, 0x10000 + self._inodes))
        lo = self._add_link(n, "lo", "loopback", mac="00:00:00:00:00:00", mtu=65536)
        assert lo.index == 1
        self._namespaces[name] = n
        return n

    def _unpin(self, n: FakeNamespace) -> None:
        """Unpin a namespace; it ends now, or with the last process inside."""
        if self._namespaces.get(n.name) is n:
            del self._namespaces[n.name]
        n.pinned = False
        if any(p.alive and p.ns_ident == n.ident for p in self._procs.values()):
            self._orphans.append(n)
        else:
            self._end(n)

    def _end(self, n: FakeNamespace) -> None:
        """A namespace's last reference is gone: its links go, and what depends on them."""
        for link in list(n.links.values()):
            self._destroy(link)
        for other in self._all_namespaces():
            for link in list(other.links.values()):
                if link.kind == "vxlan" and link.origin is n:
                    self._destroy(link)
        if n in self._orphans:
            self._orphans.remove(n)

    def _all_namespaces(self) -> list[FakeNamespace]:
        return [*self._namespaces.values(), *self._orphans]

    def _process_ended(self, p: FakeProcess) -> None:
        for n in list(self._orphans):
            if n.ident == p.ns_ident and not any(
                q.alive and q.ns_ident == n.ident for q in self._procs.values()
            ):
                self._end(n)

    # -- links ---------------------------------------------------------------------------------

    def _auto_mac(self) -> str:
        self._macs += 1
        return "02:fa:" + ":".join(f"{b:02x}" for b in self._macs.to_bytes(4, "big"))

    def _add_link(
        self, n: FakeNamespace, name: str, kind: str, *, mac: str | None, mtu: int
    ) -> FakeLink:
        if not name or len(name) > 15 or "/" in name or any(c.isspace() for c in name):
            raise _oserror(errno.EINVAL, f"bad interface name {name!r}")
        if name in n.links:
            raise _oserror(errno.EEXIST, name)
        link = FakeLink(n, n.next_index, name, kind, (mac or self._auto_mac()).lower(), mtu)
        n.next_index += 1
        n.links[name] = link
        return link

    def _link(self, n: FakeNamespace, name: str) -> FakeLink:
        link = n.links.get(name)
        if link is None:
            raise _oserror(errno.ENODEV, f"no interface {name}")
        return link

    def _bridge(self, n: FakeNamespace, name: str) -> FakeLink:
        link = self._link(n, name)
        if link.kind != "bridge":
            raise _oserror(errno.EOPNOTSUPP, f"{name} cannot be a master")
        return link

    def _destroy(self, link: FakeLink) -> None:
        """Remove a link and what goes with it: its veth peer, its children, its routes."""
        n = link.ns
        if n.links.get(link.name) is not link:
            return
        del n.links[link.name]
        n.routes = [r for r in n.routes if r.dev != link.name]
        if link.kind == "bridge":
            for port in n.links.values():
                if port.master == link.name:
                    port.master = None
        if link.peer is not None:
            peer = link.peer
            link.peer = peer.peer = None
            self._destroy(peer)
        for other in self._all_namespaces():
            for child in list(other.links.values()):
                if child.parent is link:
                    self._destroy(child)

    def _detach(self, link: FakeLink) -> None:
        """What a link loses when it leaves its namespace (or goes down, for routes)."""
        n = link.ns
        n.routes = [r for r in n.routes if r.dev != link.name]
        if link.kind == "bridge":
            for port in n.links.values():
                if port.master == link.name:
                    port.master = None
        link.master = None
        link.addrs.clear()
        link.neigh.clear()
        link.up = False

    def _nsid(self, n: FakeNamespace, other: FakeNamespace) -> int:
        if other.ident.ino not in n.nsids:
            n.nsids[other.ident.ino] = len(n.nsids)
        return n.nsids[other.ident.ino]

    def _snapshot(self, link: FakeLink) -> rtnl.Link:
        n = link.ns
        peer_index = link.peer.index if link.peer is not None else None
        across = {
            "veth": link.peer.ns if link.peer is not None else None,
            "macvlan": link.parent.ns if link.parent is not None else None,
            "ipvlan": link.parent.ns if link.parent is not None else None,
            "vxlan": link.origin,
        }.get(link.kind)
        bridge = n.links.get(link.master) if link.master is not None else None
        return rtnl.Link(
            index=link.index,
            name=link.name,
            kind=link.kind,
            mac=link.mac,
            mtu=link.mtu,
            up=link.up,
            master=bridge.index if bridge is not None else None,
            peer_index=peer_index,
            peer_netnsid=self._nsid(n, across) if across is not None and across is not n else None,
            alias=link.alias,
            vxlan_id=link.vxlan_id,
        )

    def _connected(self, n: FakeNamespace) -> list[tuple[ipaddress.IPv4Network, FakeLink]]:
        return [
            (a.network, link)
            for link in n.links.values()
            if link.up and link.kind != "loopback"
            for a in link.addrs
        ]

    def _routable(self, n: FakeNamespace, ip: str) -> bool:
        addr = ipaddress.IPv4Address(ip)
        if any(addr == a.ip for link in n.links.values() for a in link.addrs):
            return True
        if any(addr in net for net, _ in self._connected(n)):
            return True
        return any(r.dst == "default" or addr in ipaddress.IPv4Network(r.dst) for r in n.routes)

    def _has_address(self, n: FakeNamespace, ip: str) -> bool:
        return any(str(a.ip) == ip for link in n.links.values() for a in link.addrs)

    # -- processes -----------------------------------------------------------------------------

    def _new_process(
        self, n: FakeNamespace, argv: Sequence[str], log_file: str, exit_file: str, hostname: str
    ) -> FakeProcess:
        self._pids += 1
        p = FakeProcess(
            FAKE_PID_BASE + self._pids,
            self._pids,
            n.name,
            n.ident,
            list(argv),
            log_file,
            exit_file,
            hostname,
        )
        self._procs[p.pid] = p
        return p

    def _process(self, pid: int) -> FakeProcess | None:
        if pid < FAKE_PID_BASE:
            return None
        return self._procs.get(pid)

    def _stop(self, p: FakeProcess, code: int) -> None:
        if p.alive:
            p.state, p.exit_code, p.listens = "exited", code, []
            self._starting.pop(p.pid, None)
            self._process_ended(p)

    def _run(self, p: FakeProcess) -> None:
        """The process runs its command: a server listens where its arguments say."""
        p.state = "running"
        wanted = _listeners(p.argv)
        n = self._namespaces.get(p.ns)
        if n is not None and n.ident != p.ns_ident:
            n = None  # (a newer namespace of the same name)
        for ip, _, _ in wanted:
            if ip != "0.0.0.0" and (n is None or not self._has_address(n, ip)):
                with contextlib.suppress(OSError), open(p.log_file, "a") as f:
                    f.write(f"bind {ip}: Cannot assign requested address\n")
                self._stop(p, 1)
                return
        p.listens = wanted

    # -- queries for tests ---------------------------------------------------------------------

    def namespaces(self) -> list[str]:
        """Names of the pinned namespaces, sorted (as ``ip netns list``)."""
        return sorted(self._namespaces)

    def links(self, ns: str) -> list[rtnl.Link]:
        """The namespace's interfaces, as :func:`.rtnl.links` returns them."""
        return self.rtnl.links(ns)

    def link(self, ns: str, name: str) -> rtnl.Link:
        """One interface by name (KeyError if there is none)."""
        for link in self.links(ns):
            if link.name == name:
                return link
        raise KeyError(f"no link {name} in {ns}")

    def parent(self, ns: str, name: str) -> tuple[str, str] | None:
        """(namespace, name) of a macvlan/ipvlan child's parent; the peer's for a veth."""
        link = self._link(self._ns(ns), name)
        other = link.parent or link.peer
        return (other.ns.name, other.name) if other is not None else None

    def addrs(self, ns: str) -> list[rtnl.Addr]:
        """IPv4 addresses, as :func:`.rtnl.addrs`."""
        return self.rtnl.addrs(ns)

    def routes(self, ns: str) -> list[rtnl.Route]:
        """The main table, as :func:`.rtnl.routes`."""
        return self.rtnl.routes(ns)

    def neigh(self, ns: str) -> list[rtnl.Neighbour]:
        """Neighbour entries, as :func:`.rtnl.neighbours`."""
        return self.rtnl.neighbours(ns)

    def fdb(self, ns: str) -> list[FdbEntry]:
        """FDB entries with a destination (``bridge fdb show`` of the VXLAN devices)."""
        n = self._ns(ns)
        return sorted(
            FdbEntry(link.name, mac, dst)
            for link in n.links.values()
            for mac, dst in link.fdb.items()
        )

    def ruleset(self, ns: str) -> str:
        """The nftables ruleset of the namespace, as loaded."""
        return self.nft.ruleset(ns)

    def sysctl(self, ns: str, key: str) -> str | None:
        """A sysctl's value if it was written (None otherwise)."""
        return self._ns(ns).sysctls.get(key)

    def etc(self, ns: str) -> dict[str, str]:
        """The ``/etc/netns/NS`` files: name -> text (links as ``-> target``)."""
        return dict(self._etc.get(ns, {}))

    def etc_names(self) -> list[str]:
        """Namespaces that have ``/etc/netns`` files."""
        return sorted(self._etc)

    @property
    def processes(self) -> list[FakeProcess]:
        """The processes that still run (or wait to), in start order."""
        return [p for p in self._procs.values() if p.alive]

    def exit(self, pid: int, code: int = 0) -> None:
        """The process ends by itself with ``code`` (its exit file says so, as the real
        init's shim writes it)."""
        p = self._process(pid)
        if p is None or not p.alive:
            raise FakeKernelError(f"no running fake process {pid}")
        if p.exit_file != "-":
            with open(p.exit_file, "w") as f:
                f.write(f"{code}\n")
        self._stop(p, code)


def _listeners(argv: Sequence[str]) -> list[tuple[str, int, str]]:
    """The sockets a server's command line opens (busybox httpd, dnsmasq); [] for others."""
    out: list[tuple[str, int, str]] = []
    if argv[:2] == ["busybox", "httpd"] and "-p" in argv:
        spec = argv[argv.index("-p") + 1]
        ip, _, port = spec.rpartition(":")
        out.append((ip or "0.0.0.0", int(port), "tcp"))
    elif argv[:1] == ["dnsmasq"]:
        for a in argv:
            if a.startswith("--listen-address="):
                ip = a.split("=", 1)[1]
                out += [(ip, 53, "udp"), (ip, 53, "tcp")]
    return out


class FakeNetns:
    """The functions of :mod:`.netns`, over the fake kernel."""

    NAMES = _names(
        "create delete exists names ident open_fd entered tcp_reachable pids_in "
        "write_etc remove_etc etc_files etc_names"
    )

    def __init__(self, kernel: FakeKernel) -> None:
        self.k = kernel

    def create(self, name: str, inside: Callable[[], None] | None = None) -> bool:
        """As :func:`.netns.create`; ``inside`` runs with the fake inside the new namespace."""
        k = self.k
        trace.record(["ip", "netns", "add", name])
        if name in k._namespaces:
            return False
        err = k._injected("netns.create", name, name)
        if err is not None:
            raise _oserror(err, f"ip netns add {name}")
        n = k._new_namespace(name)
        if inside is not None:
            k._inside.append(n)
            try:
                inside()
            except BaseException:
                k._unpin(n)
                raise
            finally:
                k._inside.pop()
        return True

    def delete(self, name: str) -> bool:
        """As :func:`.netns.delete`: True if it was there."""
        n = self.k._namespaces.get(name)
        if n is None:
            return False
        trace.record(["ip", "netns", "del", name])
        self.k._unpin(n)
        return True

    def exists(self, name: str) -> bool:
        return name in self.k._namespaces

    def names(self) -> list[str]:
        return self.k.namespaces()

    def ident(self, name: str) -> netns.NsId:
        return self.k._ns(name).ident

    def open_fd(self, name: str) -> int:
        self.k._ns(name)
        raise FakeKernelError(f"a fake namespace ({name}) has no file descriptor")

    def entered(self, name: str) -> contextlib.AbstractContextManager[None]:
        self.k._ns(name)
        raise FakeKernelError(f"the fake kernel cannot enter namespace {name} (setns)")

    def tcp_reachable(self, name: str, ip: str, port: int, timeout: float) -> bool:
        """True when a running fake process listens on ``ip:port`` (TCP) where ``ip`` is
        configured, and namespace ``name`` has a route to ``ip``."""
        k = self.k
        src = k._ns(name)
        if not k._routable(src, ip):
            return False
        for p in k._procs.values():
            n = k._namespaces.get(p.ns)
            if p.state != "running" or n is None or n.ident != p.ns_ident:
                continue
            for lip, lport, proto in p.listens:
                if (
                    proto == "tcp"
                    and lport == port
                    and lip in (ip, "0.0.0.0")
                    and k._has_address(n, ip)
                ):
                    return True
        return False

    def pids_in(self, ids: set[netns.NsId]) -> dict[int, netns.NsId]:
        return {p.pid: p.ns_ident for p in self.k._procs.values() if p.alive and p.ns_ident in ids}

    def write_etc(
        self, name: str, files: dict[str, str], *, links: dict[str, str] | None = None
    ) -> None:
        d = os.path.join(ETC_DIR, name)
        trace.record(["mkdir", "-p", d])
        etc = self.k._etc.setdefault(name, {})
        for fname, text in files.items():
            trace.record(f"cat > {d}/{fname} <<'EOF'\n{text.rstrip()}\nEOF")
            etc[fname] = text
        for fname, target in (links or {}).items():
            trace.record(["ln", "-sf", target, f"{d}/{fname}"])
            etc.setdefault(fname, f"-> {target}")

    def remove_etc(self, name: str) -> None:
        self.k._etc.pop(name, None)

    def etc_files(self, name: str) -> dict[str, str]:
        return {f: os.path.join(ETC_DIR, name, f) for f in sorted(self.k._etc.get(name, {}))}

    def etc_names(self) -> list[str]:
        return sorted(self.k._etc)


# --- rtnl -----------------------------------------------------------------------------------


class FakeLinkRemovalWatch:
    """:class:`.rtnl.LinkRemovalWatch` on the fake: removals are immediate, so :meth:`wait`
    only checks that the watched interfaces are gone."""

    def __init__(self, kernel: FakeKernel, ns: str, indexes: set[int]) -> None:
        self.k = kernel
        self.ns = ns
        self.pending = set(indexes)
        if self.pending:
            kernel._ns(ns)

    def wait(self, timeout: float = 5.0) -> bool:
        n = self.k._namespaces.get(self.ns)
        if n is not None:
            self.pending &= {link.index for link in n.links.values()}
        else:
            self.pending.clear()
        return not self.pending


_MODES = {
    "macvlan": {"private": 1, "vepa": 2, "bridge": 4, "passthru": 8},
    "ipvlan": {"l2": 0, "l3": 1, "l3s": 2},
}


class FakeRtnl:
    """The functions of :mod:`.rtnl`, over the fake kernel."""

    NAMES = _names(
        "link_indexes add_bridge add_veth add_vxlan add_sublink move_link neigh_add "
        "neigh_del fdb_add fdb_del set_link set_bridge_port delete_link nsid_of links "
        "add_addr addrs add_route routes sysctl write_sysctls_here loopback_up_here "
        "read_sysctl neighbours forget LinkRemovalWatch"
    )

    def __init__(self, kernel: FakeKernel) -> None:
        self.k = kernel
        self.LinkRemovalWatch = functools.partial(FakeLinkRemovalWatch, kernel)

    def _fail(self, op: str, ns: str, name: str) -> None:
        err = self.k._injected("rtnl." + op, ns, name)
        if err is not None:
            raise _oserror(err)

    def forget(self, ns: str) -> None:
        """Nothing is cached."""

    # -- links ---------------------------------------------------------------------------------

    def link_indexes(self, ns: str) -> dict[str, int]:
        n = self.k._ns(ns)
        return {link.name: link.index for link in n.links.values()}

    def add_bridge(self, ns: str, name: str, *, mac: str | None = None, mtu: int = 1500) -> None:
        address = ["address", mac] if mac else []
        cmd = ["ip", "-n", ns, "link", "add", name, *address, "mtu", str(mtu)]
        trace.record([*cmd, "type", "bridge"])

        def work() -> None:
            n = self.k._ns(ns)
            self._fail("add_bridge", ns, name)
            self.k._add_link(n, name, "bridge", mac=mac, mtu=mtu)

        _op(ns, f"ip link add {name} type bridge", work, ok=(errno.EEXIST,))

    def add_veth(
        self,
        ns: str,
        name: str,
        *,
        peer_ns: str,
        peer_name: str,
        mac: str | None = None,
        peer_mac: str | None = None,
        mtu: int = 1500,
        master: str | None = None,
        up: bool = False,
    ) -> None:
        cmd = ["ip", "-n", ns, "link", "add", name, "mtu", str(mtu)]
        if mac:
            cmd += ["address", mac]
        if master:
            cmd += ["master", master]
        if up:
            cmd += ["up"]
        cmd += ["type", "veth", "peer", "name", peer_name, "netns", peer_ns]
        if peer_mac:
            cmd += ["address", peer_mac]
        trace.record(cmd)
        k = self.k

        def work() -> None:
            pn = k._ns(peer_ns)
            n = k._ns(ns)
            self._fail("add_veth", ns, name)
            if master:
                k._bridge(n, master)
            if name in n.links or peer_name in pn.links or (pn is n and name == peer_name):
                raise _oserror(errno.EEXIST)
            peer = k._add_link(pn, peer_name, "veth", mac=peer_mac, mtu=mtu)
            link = k._add_link(n, name, "veth", mac=mac, mtu=mtu)
            link.peer, peer.peer = peer, link
            link.master, link.up = master, up
            if pn is not n:
                k._nsid(n, pn)
                k._nsid(pn, n)

        _op(ns, f"ip link add {name} type veth peer name {peer_name}", work, ok=(errno.EEXIST,))

    def add_vxlan(
        self,
        ns: str,
        name: str,
        *,
        vni: int,
        port: int = 4789,
        mtu: int = 1450,
        learning: bool = False,
        proxy: bool = True,
    ) -> None:
        cmd = ["ip", "-n", ns, "link", "add", name, "mtu", str(mtu), "type", "vxlan", "id"]
        cmd += [str(vni), "dstport", str(port), *([] if learning else ["nolearning"])]
        trace.record(cmd + (["proxy"] if proxy else []))
        k = self.k

        def work() -> None:
            n = k._ns(ns)
            self._fail("add_vxlan", ns, name)
            for other in k._all_namespaces():
                for link in other.links.values():
                    same = (link.kind, link.origin, link.vxlan_id, link.vxlan_port)
                    if same == ("vxlan", n, vni, port):
                        raise _oserror(errno.EEXIST, f"VNI {vni} is in use")
            link = k._add_link(n, name, "vxlan", mac=None, mtu=mtu)
            link.vxlan_id, link.vxlan_port, link.origin = vni, port, n

        _op(ns, f"ip link add {name} type vxlan id {vni}", work)

    def add_sublink(
        self,
        ns: str,
        name: str,
        *,
        parent: str,
        kind: str,
        mode: str,
        peer_ns: str,
        mac: str | None = None,
    ) -> None:
        cmd = ["ip", "-n", ns, "link", "add", "link", parent, "name", name, "netns", peer_ns]
        cmd += [*(["address", mac] if mac else []), "type", kind, "mode", mode]
        trace.record(cmd)
        k = self.k

        def work() -> None:
            n = k._ns(ns)
            pn = k._ns(peer_ns)
            self._fail("add_sublink", ns, name)
            lower = k._link(n, parent)
            if kind not in k.sublink_kinds:
                raise _oserror(errno.EOPNOTSUPP)
            if mode not in _MODES[kind]:
                raise KeyError(mode)  # (as the real function's table lookup does)
            if lower.kind == "loopback":
                raise _oserror(errno.EINVAL)
            child = k._add_link(
                pn, name, kind, mac=lower.mac if kind == "ipvlan" else mac, mtu=lower.mtu
            )
            child.parent = lower
            if pn is not n:
                k._nsid(pn, n)

        _op(ns, f"ip link add link {parent} name {name} type {kind}", work)

    def move_link(self, ns: str, name: str, *, to_ns: str, new_name: str | None = None) -> None:
        renamed = ["name", new_name] if new_name else []
        trace.record(["ip", "-n", ns, "link", "set", name, "netns", to_ns, *renamed])
        k = self.k

        def work() -> None:
            tn = k._ns(to_ns)
            n = k._ns(ns)
            self._fail("move_link", ns, name)
            link = k._link(n, name)
            target = new_name or name
            if target in tn.links:
                raise _oserror(errno.EEXIST)
            k._detach(link)
            del n.links[name]
            link.ns, link.name = tn, target
            if any(other.index == link.index for other in tn.links.values()):
                link.index = tn.next_index
            tn.next_index = max(tn.next_index, link.index + 1)
            tn.links[target] = link

        _op(ns, f"ip link set {name} netns {to_ns}", work)

    def set_link(
        self,
        ns: str,
        name: str,
        *,
        up: bool | None = None,
        master: str | None = None,
        mtu: int | None = None,
        mac: str | None = None,
        alias: str | None = None,
    ) -> None:
        cmd = ["ip", "-n", ns, "link", "set", name]
        if mac is not None:
            cmd += ["address", mac]
        if mtu is not None:
            cmd += ["mtu", str(mtu)]
        if alias is not None:
            cmd += ["alias", alias]
        if master is not None:
            cmd += ["master", master]
        if up is not None:
            cmd += ["up" if up else "down"]
        trace.record(cmd)
        k = self.k

        def work() -> None:
            n = k._ns(ns)
            self._fail("set_link", ns, name)
            if master is not None:
                k._bridge(n, master)
            link = k._link(n, name)
            if mac is not None:
                link.mac = mac.lower()
            if mtu is not None:
                link.mtu = mtu
            if alias is not None:
                link.alias = alias
            if master is not None:
                link.master = master
            if up is False:
                link.up = False
                n.routes = [r for r in n.routes if r.dev != name]
            elif up:
                link.up = True
                if link.kind == "loopback" and not link.addrs:
                    link.addrs.append(ipaddress.IPv4Interface("127.0.0.1/8"))

        _op(ns, "ip " + shlex.join(cmd[3:]), work)

    def set_bridge_port(self, ns: str, name: str, *, hairpin: bool) -> None:
        trace.record(
            ["bridge", "-n", ns, "link", "set", "dev", name, "hairpin", "on" if hairpin else "off"]
        )
        k = self.k

        def work() -> None:
            n = k._ns(ns)
            self._fail("set_bridge_port", ns, name)
            link = k._link(n, name)
            if link.master is None:
                raise _oserror(errno.EOPNOTSUPP, f"{name} is no bridge port")
            link.hairpin = hairpin

        _op(ns, f"bridge link set dev {name} hairpin", work)

    def delete_link(self, ns: str, name: str) -> None:
        trace.record(["ip", "-n", ns, "link", "del", name])
        k = self.k

        def work() -> None:
            n = k._ns(ns)
            self._fail("delete_link", ns, name)
            k._destroy(k._link(n, name))

        _op(ns, f"ip link del {name}", work, ok=(errno.ENODEV, errno.ENOENT))

    def nsid_of(self, ns: str, other: str) -> int | None:
        o = self.k._ns(other)
        return self.k._ns(ns).nsids.get(o.ident.ino)

    def links(self, ns: str) -> list[rtnl.Link]:
        n = self.k._ns(ns)
        return sorted((self.k._snapshot(lk) for lk in n.links.values()), key=lambda x: x.index)

    # -- neighbours and FDB --------------------------------------------------------------------

    def neigh_add(self, ns: str, dev: str, ip: str, mac: str) -> None:
        trace.record(
            ["ip", "-n", ns, "neigh", "replace", ip, "lladdr", mac, "dev", dev, "nud", "permanent"]
        )

        def work() -> None:
            n = self.k._ns(ns)
            self._fail("neigh_add", ns, dev)
            self.k._link(n, dev).neigh[str(ipaddress.IPv4Address(ip))] = mac.lower()

        _op(ns, f"ip neigh replace {ip} dev {dev}", work)

    def neigh_del(self, ns: str, dev: str, ip: str) -> None:
        trace.record(["ip", "-n", ns, "neigh", "del", ip, "dev", dev])

        def work() -> None:
            n = self.k._ns(ns)
            self._fail("neigh_del", ns, dev)
            if self.k._link(n, dev).neigh.pop(ip, None) is None:
                raise _oserror(errno.ENOENT)

        _op(ns, f"ip neigh del {ip} dev {dev}", work, ok=(errno.ENOENT, errno.ENODEV))

    def fdb_add(self, ns: str, dev: str, mac: str, dst: str) -> None:
        trace.record(
            ["bridge", "-n", ns, "fdb", "replace", mac, "dev", dev, "dst", dst, "self", "permanent"]
        )

        def work() -> None:
            n = self.k._ns(ns)
            self._fail("fdb_add", ns, dev)
            link = self.k._link(n, dev)
            if link.kind != "vxlan":
                raise _oserror(errno.EOPNOTSUPP, f"{dev} has no remote FDB")
            link.fdb[mac.lower()] = dst

        _op(ns, f"bridge fdb replace {mac} dev {dev}", work)

    def fdb_del(self, ns: str, dev: str, mac: str, dst: str) -> None:
        trace.record(["bridge", "-n", ns, "fdb", "del", mac, "dev", dev, "dst", dst, "self"])

        def work() -> None:
            n = self.k._ns(ns)
            self._fail("fdb_del", ns, dev)
            link = self.k._link(n, dev)
            if link.fdb.get(mac.lower()) != dst:
                raise _oserror(errno.ENOENT)
            del link.fdb[mac.lower()]

        _op(ns, f"bridge fdb del {mac} dev {dev}", work, ok=(errno.ENOENT, errno.ENODEV))

    def neighbours(self, ns: str) -> list[rtnl.Neighbour]:
        n = self.k._ns(ns)
        return [
            rtnl.Neighbour(link.name, ip, mac, "PERMANENT")
            for link in sorted(n.links.values(), key=lambda x: x.index)
            for ip, mac in link.neigh.items()
        ]

    # -- addresses and routes ------------------------------------------------------------------

    def add_addr(self, ns: str, ifname: str, cidr: str) -> None:
        trace.record(["ip", "-n", ns, "addr", "add", cidr, "brd", "+", "dev", ifname])

        def work() -> None:
            n = self.k._ns(ns)
            self._fail("add_addr", ns, ifname)
            link = self.k._link(n, ifname)
            addr = ipaddress.IPv4Interface(cidr)
            if any(a.ip == addr.ip for a in link.addrs):
                raise _oserror(errno.EEXIST)
            link.addrs.append(addr)

        _op(ns, f"ip addr add {cidr} dev {ifname}", work, ok=(errno.EEXIST,))

    def addrs(self, ns: str) -> list[rtnl.Addr]:
        n = self.k._ns(ns)
        return [
            rtnl.Addr(link.name, link.index, str(a.ip), a.network.prefixlen)
            for link in sorted(n.links.values(), key=lambda x: x.index)
            for a in link.addrs
        ]

    def add_route(
        self, ns: str, dst: str = "default", *, gateway: str | None = None, dev: str | None = None
    ) -> None:
        cmd = ["ip", "-n", ns, "route", "add", dst]
        if gateway:
            cmd += ["via", gateway]
        if dev:
            cmd += ["dev", dev]
        trace.record(cmd)
        k = self.k

        def work() -> None:
            n = k._ns(ns)
            self._fail("add_route", ns, dev or "")
            link = k._link(n, dev) if dev else None
            if link is not None and not link.up:
                raise _oserror(errno.ENETDOWN)
            if gateway:
                gw = ipaddress.IPv4Address(gateway)
                via = [lk for net, lk in k._connected(n) if gw in net]
                if link is not None:
                    via = [lk for lk in via if lk is link]
                if not via:
                    raise _oserror(errno.ENETUNREACH)
                link = via[0]
            if link is None:
                raise _oserror(errno.EINVAL, "a route needs a gateway or a device")
            key = "default" if dst == "default" else str(ipaddress.IPv4Network(dst))
            if any(r.dst == key for r in n.routes):
                raise _oserror(errno.EEXIST)
            n.routes.append(rtnl.Route(key, gateway, link.name, None))

        _op(ns, "ip " + shlex.join(cmd[3:]), work, ok=(errno.EEXIST,))

    def routes(self, ns: str) -> list[rtnl.Route]:
        n = self.k._ns(ns)
        connected = [
            rtnl.Route(str(a.network), None, link.name, str(a.ip))
            for link in n.links.values()
            if link.up and link.kind != "loopback"
            for a in link.addrs
            if a.network.prefixlen < 32
        ]

        def key(r: rtnl.Route) -> tuple[int, int]:
            if r.dst == "default":
                return (0, 0)
            net = ipaddress.IPv4Network(r.dst)
            return (int(net.network_address), net.prefixlen)

        return sorted([*n.routes, *connected], key=key)

    # -- sysctls -------------------------------------------------------------------------------

    def _write_sysctls(self, n: FakeNamespace, settings: Sequence[tuple[str, str]]) -> None:
        for key, value in settings:
            self._check_key(n, key)
            n.sysctls[key] = value

    def _check_key(self, n: FakeNamespace, key: str) -> None:
        path = "/proc/sys/" + key.replace(".", "/")
        if not key.startswith("net."):
            raise FakeKernelError(f"{key} is not a per-namespace sysctl: the fake refuses it")
        parts = key.split(".")
        per_dev = parts[1] in ("ipv4", "ipv6") and parts[2:3] == ["conf"] and len(parts) == 5
        if per_dev and parts[3] not in ("all", "default") and parts[3] not in n.links:
            raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), path)

    def sysctl(self, ns: str, key: str, value: str, *more: tuple[str, str]) -> None:
        settings = [(key, value), *more]
        for k_, v in settings:
            trace.record(["ip", "netns", "exec", ns, "sysctl", "-w", f"{k_}={v}"])
        n = self.k._ns(ns)
        err = self.k._injected("rtnl.sysctl", ns, key)
        if err is not None:
            raise _oserror(err)
        self._write_sysctls(n, settings)

    def _here(self) -> FakeNamespace:
        if not self.k._inside:
            raise FakeKernelError(
                "a *_here kernel function ran outside a namespace: on the machine's own"
            )
        return self.k._inside[-1]

    def write_sysctls_here(self, settings: Sequence[tuple[str, str]]) -> None:
        self._write_sysctls(self._here(), settings)

    def loopback_up_here(self) -> None:
        lo = self._here().links["lo"]
        lo.up = True
        if not lo.addrs:
            lo.addrs.append(ipaddress.IPv4Interface("127.0.0.1/8"))

    def read_sysctl(self, ns: str, key: str) -> str:
        n = self.k._ns(ns)
        self._check_key(n, key)
        return n.sysctls.get(key, "0")


# --- nft ------------------------------------------------------------------------------------

_FAMILIES = ("ip", "ip6", "inet", "arp", "bridge", "netdev")


def _apply_nft(tables: dict[str, str], text: str) -> dict[str, str]:
    """Apply ``nft -f`` text to a copy of the tables (``family name`` -> body); raise
    OSError on what nft would refuse."""
    out = dict(tables)
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i].strip()
        i += 1
        if not line or line.startswith("#"):
            continue
        words = line.split()
        if words == ["flush", "ruleset"]:
            out.clear()
            continue
        if words[:2] == ["delete", "table"] and len(words) == 4 and words[2] in _FAMILIES:
            key = f"{words[2]} {words[3]}"
            if key not in out:
                raise _oserror(errno.ENOENT, f"delete table {key}")
            del out[key]
            continue
        if words[0] == "table" and len(words) in (3, 4) and words[1] in _FAMILIES:
            key = f"{words[1]} {words[2]}"
            if len(words) == 3:
                out.setdefault(key, "")
                continue
            if words[3] != "{":
                raise _oserror(errno.EINVAL, f"syntax error: {line}")
            depth, body = 1, []
            while i < len(lines):
                depth += lines[i].count("{") - lines[i].count("}")
                if depth == 0:
                    break
                body.append(lines[i] + "\n")
                i += 1
            if depth != 0 or i >= len(lines) or lines[i].strip() != "}":
                raise _oserror(errno.EINVAL, f"syntax error: unbalanced braces in table {key}")
            i += 1
            out[key] = out.get(key, "") + "".join(body)
            continue
        raise _oserror(errno.EINVAL, f"syntax error: {line}")
    return out


class FakeNft:
    """The functions of :mod:`.nft`, over the fake kernel."""

    NAMES = _names("load ruleset ruleset_json")

    def __init__(self, kernel: FakeKernel) -> None:
        self.k = kernel

    def load(self, ns: str, ruleset: str) -> None:
        trace.record(f"ip netns exec {ns} nft -f - <<'EOF'\n{ruleset.rstrip()}\nEOF")
        n = self.k._ns(ns)
        err = self.k._injected("nft.load", ns)
        try:
            if err is not None:
                raise _oserror(err)
            n.tables = _apply_nft(n.tables, ruleset)
        except OSError as exc:
            raise nft.NftError(f"nft -f - in {ns} failed: Error: {exc.strerror}") from None

    def ruleset(self, ns: str) -> str:
        n = self.k._ns(ns)
        return "".join(f"table {key} {{\n{body}}}\n" for key, body in n.tables.items())

    def ruleset_json(self, ns: str) -> list[dict[str, Any]]:
        n = self.k._ns(ns)
        out: list[dict[str, Any]] = []
        for key in n.tables:
            family, name = key.split(" ", 1)
            out.append({"table": {"family": family, "name": name}})
        return out


# --- proc -----------------------------------------------------------------------------------


class FakeStarting:
    """What :func:`.proc.start` returns, on the fake: the process exists ("born") and runs
    its command once told to :meth:`go`."""

    def __init__(
        self,
        kernel: FakeKernel,
        process: FakeProcess,
        argv: Sequence[str],
        shown: str,
        err: int | None,
    ) -> None:
        self.k = kernel
        self.process = process
        self.ns = process.ns
        self.argv = list(argv)
        self.log_file = process.log_file
        self.shown = shown
        self._err = err

    @property
    def pid(self) -> int:
        """The fake pid of the container's init."""
        return self.process.pid

    @property
    def child(self) -> Any:
        raise FakeKernelError("a fake process has no subprocess.Popen")

    def go(self, *, wait: bool = True) -> tuple[int, int]:
        p = self.process
        if self._err is not None or not p.alive:
            self.abort()
            why = os.strerror(self._err) if self._err is not None else "no answer"
            raise RuntimeError(
                f"the process for {self.argv[0]!r} did not start in {self.ns}: {why}"
            )
        trace.record(self.shown)
        self.k._starting.pop(p.pid, None)
        self.k._run(p)
        return p.pid, p.started

    def wait_ready(self, timeout: float = proc.READY_TIMEOUT) -> None:
        """The fake init is ready as soon as it was told to go."""

    def failed_early(self) -> bool:
        return False

    def abort(self) -> None:
        self.k._stop(self.process, 137)


class FakeProc:
    """The functions of :mod:`.proc` that start, find or stop processes, over the fake
    (the pure ones, such as ``container_prefix``, stay the real ones)."""

    NAMES = _names(
        "start_time alive start abort_births spawn hangup start_detached kill_group "
        "kill_groups kill reap run_in listening wait_listening forget_small_mount_ns"
    )

    def __init__(self, kernel: FakeKernel) -> None:
        self.k = kernel

    def _fake(self, pid: int) -> FakeProcess:
        p = self.k._process(pid)
        if p is None:
            raise FakeKernelError(f"refusing to signal pid {pid}: not a process of the fake kernel")
        return p

    def start_time(self, pid: int) -> int | None:
        p = self.k._process(pid)
        return p.started if p is not None and p.alive else None

    def alive(self, pid: int, started: int | None = None) -> bool:
        p = self.k._process(pid)  # (a pid of the machine's is never looked up)
        return p is not None and p.alive and (started is None or p.started == started)

    def start(
        self,
        ns: str,
        argv: Sequence[str],
        *,
        hostname: str = "",
        etc: Mapping[str, str] | None = None,
        exit_file: str,
        log_file: str,
        keep_stdin_open: bool = False,
        env: Mapping[str, str] | None = None,
    ) -> FakeStarting:
        k = self.k
        n = k._ns(ns)
        binds = dict(etc) if etc is not None else k.netns.etc_files(ns)
        missing = [name for name in binds if not os.path.exists(os.path.join("/etc", name))]
        if missing and etc is not None:
            raise RuntimeError(
                f"cannot give the container its own /etc/{missing[0]}: this machine has no "
                f"/etc/{missing[0]} to mount it over (create an empty one)"
            )
        for name in missing:
            del binds[name]
        steps = [f"hostname {hostname}"] if hostname else []
        if etc is not None:
            steps += [f"mount --bind {shlex.quote(src)} /etc/{name}" for name, src in binds.items()]
        shown = ["ip", "netns", "exec", ns]
        if steps:
            shown += [
                "unshare",
                "--uts",
                "--mount",
                "sh",
                "-c",
                "; ".join([*steps, 'exec "$0" "$@"']),
            ]
        err = k._injected("proc.start", ns, argv[0] if argv else "")
        p = k._new_process(n, argv, log_file, exit_file, hostname)
        starting = FakeStarting(k, p, argv, shlex.join([*shown, *argv]) + " &", err)
        k._starting[p.pid] = starting
        return starting

    def abort_births(self, ns: str) -> None:
        for s in [s for s in self.k._starting.values() if s.ns == ns]:
            s.abort()

    def spawn(self, ns: str, argv: Sequence[str], *, log_file: str) -> tuple[int, int]:
        err = self.k._injected("proc.spawn", ns, argv[0] if argv else "")
        if err is not None:
            self.k._ns(ns)
            raise RuntimeError(
                f"the process for {argv[0]!r} did not start in {ns}: {os.strerror(err)}"
            )
        return self.start(ns, argv, exit_file="-", log_file=log_file).go()

    def hangup(
        self, pid: int, started: int | None, *, log_file: str, says: bytes, timeout: float
    ) -> None:
        """A fake server rereads nothing: nothing to signal, nothing to wait for."""

    def start_detached(self, argv: Sequence[str]) -> int:
        k = self.k
        target: FakeProcess | None = None
        if argv[:2] == ["nsenter", "--target"]:
            target = k._process(int(argv[2]))
        if target is None or not target.alive:
            raise FakeKernelError(f"the fake kernel can only start commands in a container: {argv}")
        n = next(x for x in k._all_namespaces() if x.ident == target.ns_ident)
        rest = list(argv[argv.index("--") + 1 :]) if "--" in argv else list(argv)
        p = k._new_process(n, rest, "/dev/null", "-", target.hostname)
        k._run(p)
        return p.pid

    def kill_group(self, pid: int, started: int | None = None, sig: int = 9) -> None:
        if not self.alive(pid, started):
            return
        self.k._stop(self._fake(pid), 128 + sig)

    def kill_groups(self, leaders: Sequence[tuple[int, int]], sig: int = 9) -> None:
        for pid, started in leaders:
            self.kill_group(pid, started, sig)

    def kill(self, pids: Sequence[int], sig: int = 9) -> None:
        for pid in pids:
            self.k._stop(self._fake(pid), 128 + sig)

    def reap(self, pid: int, timeout: float = 2.0) -> None:
        """Fake processes need no reaping."""

    def run_in(
        self,
        argv_prefix: Sequence[str],
        argv: Sequence[str],
        *,
        timeout: float | None = None,
        input: str | None = None,
        env: Mapping[str, str] | None = None,
    ) -> proc.Result:
        raise FakeKernelError(
            f"the fake kernel runs no commands ({shlex.join(argv)}): test it on the real one"
        )

    def listening(self, ns: str) -> list[tuple[str, int, str]]:
        n = self.k._ns(ns)
        return [
            s
            for p in self.k._procs.values()
            if p.state == "running" and p.ns_ident == n.ident
            for s in p.listens
        ]

    def wait_listening(
        self, ns: str, sockets: Sequence[tuple[str, int, str]], timeout: float = 5.0
    ) -> None:
        want = set(sockets) - set(self.listening(ns))
        if want:
            raise RuntimeError(f"nothing listens on {sorted(want)} in {ns} after {timeout:.0f} s")

    def forget_small_mount_ns(self) -> None:
        """There is no mount namespace to forget."""
