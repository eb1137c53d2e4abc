"""A fake kernel: the kernel layer's interface over in-memory state, for tests without root.

The model (:mod:`netlab.model`) only ever reaches Linux through the functions of
:mod:`netlab.kernel.netns`, ``rtnl``, ``nft``, ``proc`` and :func:`netlab.kernel.batch`/
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
  2**22, so no fake pid is ever a real one), ``containers.start`` returning an object with
  the methods of :class:`.containers.Starting`; servers listen where their command line says
  (``busybox httpd -p [ADDR:]PORT``, ``dnsmasq --listen-address=ADDR``) once told to go,
  and die at once if ADDR is not an address of their namespace. Signals are bookkeeping:
  nothing here calls ``os.kill``, and a pid outside the fake's range is refused
  (:exc:`FakeKernelError`).
  :meth:`FakeKernel.exit` makes a process end by itself with an exit code;
* the cgroup freezer (:mod:`.freezer`, ``docker pause``): a frozen process keeps the
  signals sent to it pending, SIGKILL too (as cgroup v1 does), until it is thawed;
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
:mod:`netlab.testing`'s job: this package is the kernel layer's and knows nothing above it.

**What is not**: packets (no forwarding, ARP, NAT or filtering: a test reads the rules and
tables, not their effect; ``tcp_reachable`` ignores the firewall and the bridges), IPv6,
commands inside namespaces (``proc.run_in``, so ``docker exec``, raises
:exc:`FakeKernelError`), ``nft list ruleset``'s own rendering (the fake returns the tables as
loaded), the asynchronous end of a namespace, kernel limits. Everything runs on the calling
thread: ``batch``/``soon`` run their job at once.

**How it is laid out**: :class:`FakeKernel`, here, holds the state and the rules that span
the parts (a namespace's end takes its links along; a process's exit may end a namespace),
the failures to inject and the queries for tests. The records it keeps are in
:mod:`netlab.kernel.fake.records`. Each real module has its fake in a module of the same name,
``netlab.kernel.fake.netns``, ``rtnl``, ``nft`` and ``proc`` (:class:`FakeNetns`,
:class:`FakeRtnl`, :class:`FakeNft`, :class:`FakeProc`): each traces what the real one
traces, then reads and changes the kernel's state. Only this package imports its parts; they
know :class:`FakeKernel` as a type only.
"""

from __future__ import annotations

import contextlib
import errno
import fnmatch
import ipaddress
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import TypeVar

from netlab.kernel.fake.freezer import FakeFreezer
from netlab.kernel.fake.netns import ETC_DIR, FakeNetns
from netlab.kernel.fake.nft import FakeNft
from netlab.kernel.fake.proc import FakeProc, FakeStarting, _listeners
from netlab.kernel.fake.records import (
    FAKE_NS_DEV,
    FAKE_PID_BASE,
    FakeKernelError,
    FakeLink,
    FakeNamespace,
    FakeProcess,
    FdbEntry,
    _Failure,
    _oserror,
)
from netlab.kernel.fake.rtnl import FakeLinkRemovalWatch, FakeRtnl
from netlab.kernel.fake.xtables import FakeXtables

# The real layer's names one by one, not its modules: importing the submodule
# netlab.kernel.fake.netns binds ``netns`` in this package to it, hiding a real ``netns`` here.
from netlab.kernel.netns import NamespaceNotFound, NsId
from netlab.kernel.rtnl import Addr, Link, Neighbour, Route

__all__ = [
    "ETC_DIR",
    "FAKE_NS_DEV",
    "FAKE_PID_BASE",
    "FakeFreezer",
    "FakeKernel",
    "FakeKernelError",
    "FakeLink",
    "FakeLinkRemovalWatch",
    "FakeNamespace",
    "FakeNetns",
    "FakeNft",
    "FakeProc",
    "FakeProcess",
    "FakeRtnl",
    "FakeStarting",
    "FakeXtables",
    "FdbEntry",
]

T = TypeVar("T")


class FakeKernel:
    """In-memory namespaces, links, addresses, routes, rules and processes (see the package).

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
        self.xtables = FakeXtables(self)
        self.proc = FakeProc(self)
        self.freezer = FakeFreezer(self)
        self.dns_ports = 0  # (the fake's embedded DNS ports: 40001, 40002, ...)
        # What each embedded DNS server (by control socket) holds sockets for.
        self.dns_attached: dict[str, set[str]] = {}

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
        ``"netns.create"``, ``"containers.start"``...) fail with ``err``, as the kernel would
        say it, after ``skip`` matching calls. ``ns`` and ``name`` (the link, or the program) are
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
            raise NamespaceNotFound(name)
        return n

    def _new_namespace(self, name: str) -> FakeNamespace:
        self._inodes += 1
        n = FakeNamespace(name, NsId(FAKE_NS_DEV, 0x10000 + self._inodes))
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
        self,
        n: FakeNamespace,
        name: str,
        kind: str,
        *,
        mac: str | None,
        mtu: int,
        index: int = 0,
    ) -> FakeLink:
        """A new link; ``index`` as asked (EBUSY if taken), else the next free one, as the
        kernel counts (an index asked for does not move its count)."""
        if not name or len(name) > 15 or "/" in name or any(c.isspace() for c in name):
            raise _oserror(errno.EINVAL, f"bad interface name {name!r}")
        if name in n.links:
            raise _oserror(errno.EEXIST, name)
        used = {lk.index for lk in n.links.values()}
        if index:
            if index in used:
                raise _oserror(errno.EBUSY, f"interface index {index}")
        else:
            index = n.next_index
            while index in used:
                index += 1
            n.next_index = index + 1
        link = FakeLink(n, index, name, kind, (mac or self._auto_mac()).lower(), mtu)
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

    def _snapshot(self, link: FakeLink) -> Link:
        n = link.ns
        peer_index = link.peer.index if link.peer is not None else None
        across = {
            "veth": link.peer.ns if link.peer is not None else None,
            "macvlan": link.parent.ns if link.parent is not None else None,
            "ipvlan": link.parent.ns if link.parent is not None else None,
            "vxlan": link.origin,
        }.get(link.kind)
        bridge = n.links.get(link.master) if link.master is not None else None
        return Link(
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
            if ip not in ("0.0.0.0", "::") and (n is None or not self._has_address(n, ip)):
                with contextlib.suppress(OSError), open(p.log_file, "a") as f:
                    f.write(f"bind {ip}: Cannot assign requested address\n")
                self._stop(p, 1)
                return
        p.listens = wanted

    # -- queries for tests ---------------------------------------------------------------------

    def namespaces(self) -> list[str]:
        """Names of the pinned namespaces, sorted (as ``ip netns list``)."""
        return sorted(self._namespaces)

    def links(self, ns: str) -> list[Link]:
        """The namespace's interfaces, as :func:`.rtnl.links` returns them."""
        return self.rtnl.links(ns)

    def link(self, ns: str, name: str) -> Link:
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

    def addrs(self, ns: str) -> list[Addr]:
        """IPv4 addresses, as :func:`.rtnl.addrs`."""
        return self.rtnl.addrs(ns)

    def routes(self, ns: str) -> list[Route]:
        """The main table, as :func:`.rtnl.routes`."""
        return self.rtnl.routes(ns)

    def neigh(self, ns: str) -> list[Neighbour]:
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
        if p.frozen:
            raise FakeKernelError(f"fake process {pid} is frozen: it runs nothing, exits neither")
        if p.exit_file != "-":
            with open(p.exit_file, "w") as f:
                f.write(f"{code}\n")
        self._stop(p, code)
