"""Links, addresses, routes, neighbours and FDB entries through rtnetlink (pyroute2).

Each function names the namespace it acts in and mirrors an ``ip`` command, which it also
writes to :mod:`netlab.kernel.trace` (``ip -n NS link add ...``). Results are frozen
dataclasses; no netlink message leaves this module.

How the namespaces are reached cheaply: pyroute2's own ``IPRoute(netns=...)`` forks a helper
(8-11 ms) and creates a missing namespace by default. Here the kernel worker thread enters the
namespace with ``setns``, opens a plain netlink socket there (a socket stays bound to the
namespace it was opened in), comes back, and hands the socket to pyroute2 (``use_socket``).
Handles are cached per namespace, a few at a time, because each holds file descriptors.

Idempotence: adding what exists with the same spec is accepted (``EEXIST``); removing what is
gone is accepted (``ENODEV``/``ENOENT``/``ESRCH``).
"""

from __future__ import annotations

import errno
import fcntl
import os
import select
import socket
import struct
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from shlex import join as shlex_join
from typing import Any, TypeVar

from pyroute2 import IPRoute
from pyroute2.netlink.exceptions import NetlinkError

from netlab.errors import NetlabError
from netlab.kernel import _nlfast, _worker, commands, netns, trace

T = TypeVar("T")

IFF_UP = 0x1
_CACHE_SIZE = 8
_handles: OrderedDict[str, tuple[netns.NsId, IPRoute]] = OrderedDict()


class KernelError(NetlabError, RuntimeError):
    """A netlink request failed; the message names the request and the kernel's reason."""

    def __init__(self, what: str, err: int) -> None:
        super().__init__(f"{what}: {os.strerror(err)} (errno {err})")
        self.errno = err


@dataclass(frozen=True)
class Link:
    """One network interface as ``ip -d link`` shows it."""

    index: int
    name: str
    kind: str  # "veth", "bridge", "vxlan", "loopback", ...
    mac: str
    mtu: int
    up: bool
    master: int | None  # ifindex of the bridge this link is a port of
    peer_index: int | None  # for veth: the peer's ifindex (in ``peer_netnsid`` if set)
    peer_netnsid: int | None
    alias: str | None
    vxlan_id: int | None = None


@dataclass(frozen=True)
class Addr:
    """An address on an interface: ``ip -4 addr``."""

    ifname: str
    index: int
    address: str
    prefixlen: int

    @property
    def cidr(self) -> str:
        """The address with its prefix, as ``ip`` prints it: ``172.17.0.1/16``."""
        return f"{self.address}/{self.prefixlen}"


@dataclass(frozen=True)
class Route:
    """An IPv4 route in the main table: ``ip route``."""

    dst: str  # "default" or a prefix such as "172.17.0.0/16"
    gateway: str | None
    dev: str | None
    src: str | None


def _open(ns: str) -> IPRoute:
    ident = netns.ident(ns)
    cached = _handles.get(ns)
    if cached is not None:
        if cached[0] == ident:
            _handles.move_to_end(ns)
            return cached[1]
        cached[1].close()  # the namespace was replaced under the same name
        del _handles[ns]
    with netns.entered(ns):
        sock = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, socket.NETLINK_ROUTE)
    ipr = IPRoute(use_socket=sock)
    _handles[ns] = (ident, ipr)
    while len(_handles) > _CACHE_SIZE:
        _, (_, old) = _handles.popitem(last=False)
        old.close()
    return ipr


def forget(ns: str) -> None:
    """Close the cached handle of a namespace that is being deleted."""

    def work() -> None:
        cached = _handles.pop(ns, None)
        if cached is not None:
            cached[1].close()
        _nlfast.forget(ns)
        _next_index.pop(ns, None)

    _worker.call(work)


def forget_gone() -> None:
    """Close the cached handles of namespaces whose name is gone (or names another one now):
    a namespace lives as long as a socket in it, so another process's ``netlab clean`` only
    really ends the namespaces this process still holds once it lets go of them."""

    def work() -> None:
        for ns in netns.stale(_handles):
            forget(ns)  # (its _nlfast socket too)
        for ns in netns.stale(_nlfast.cached()):
            _nlfast.forget(ns)

    _worker.call(work)


def _run(ns: str, what: str, fn: Callable[[IPRoute], T], ok: tuple[int, ...] = ()) -> T | None:
    """Run ``fn`` with the namespace's handle on the worker; tolerate the errnos in ``ok``."""

    def work() -> T | None:
        try:
            return fn(_open(ns))
        except NetlinkError as exc:
            if exc.code in ok:
                return None
            raise KernelError(f"{what} (in {ns})", exc.code) from None

    return _worker.call(work)


def _link(msg: Any) -> Link:
    info = msg.get_attr("IFLA_LINKINFO")
    kind = info.get_attr("IFLA_INFO_KIND") if info else None
    vni = None
    if info and kind == "vxlan":
        data = info.get_attr("IFLA_INFO_DATA")
        vni = data.get_attr("IFLA_VXLAN_ID") if data else None
    name = msg.get_attr("IFLA_IFNAME")
    link = msg.get_attr("IFLA_LINK")
    return Link(
        index=msg["index"],
        name=name,
        kind=kind or ("loopback" if name == "lo" else "unknown"),
        mac=msg.get_attr("IFLA_ADDRESS") or "00:00:00:00:00:00",
        mtu=msg.get_attr("IFLA_MTU"),
        up=bool(msg["flags"] & IFF_UP),
        master=msg.get_attr("IFLA_MASTER"),
        peer_index=link if kind == "veth" else None,
        peer_netnsid=msg.get_attr("IFLA_LINK_NETNSID"),
        alias=msg.get_attr("IFLA_IFALIAS"),
        vxlan_id=vni,
    )


# --- links ------------------------------------------------------------------------------------


def link_indexes(ns: str) -> dict[str, int]:
    """``{name: ifindex}`` of every interface in the namespace (a fast dump, names only)."""
    return _fast(ns, "ip link show", lambda: _nlfast.link_indexes(ns)) or {}


def _fast(ns: str, what: str, fn: Callable[[], T], ok: tuple[int, ...] = ()) -> T | None:
    """Run a hand-encoded request (see :mod:`._nlfast`) on the worker, like :func:`_run`."""

    def work() -> T | None:
        try:
            return fn()
        except OSError as exc:
            if exc.errno in ok:
                return None
            raise KernelError(f"{what} (in {ns})", exc.errno or 0) from None

    return _worker.call(work)


def add_bridge(ns: str, name: str, *, mac: str | None = None, mtu: int = 1500) -> None:
    """``ip link add NAME type bridge`` (and its MAC, as Docker sets for docker0)."""
    trace.record(commands.add_bridge(ns, name, mac=mac, mtu=mtu))
    _fast(
        ns,
        f"ip link add {name} type bridge",
        lambda: _nlfast.new_link(ns, name, "bridge", mtu=mtu, mac=mac),
        ok=(errno.EEXIST,),
    )


def add_veth(
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
    numbered: bool = False,
) -> None:
    """``ip link add NAME [master BR] [up] type veth peer name PEER netns PEER_NS``.

    The peer is born in its namespace, which saves the 13-27 ms a later move costs; making
    this end a bridge port and bringing it up in the same request saves another.

    ``numbered``: the two ends get interface indexes as Docker's do, which makes its pairs
    in the Docker host's namespace and moves one end: consecutive numbers of that namespace,
    the peer first (``eth0`` 4 inside, ``vethX@if4`` 5 outside), so that ``@ifN`` on one side
    is the ``N:`` on the other and every container's differ. They are asked for explicitly
    (see :func:`_veth_indexes`).
    """

    def shown(indexes: tuple[int, int] | None) -> list[str]:
        return commands.add_veth(
            ns, name, peer_ns, peer_name, mac, peer_mac, mtu, master, up, indexes=indexes
        )

    if not numbered:
        trace.record(shown(None))

    def create(own: int, peer_index: int, ns_fd: int | None) -> None:
        peer = _nlfast.veth_peer(peer_name, ns_fd=ns_fd, mtu=mtu, mac=peer_mac, index=peer_index)
        master_index = _nlfast.index_of(ns, master) if master else None
        _nlfast.new_link(
            ns, name, "veth", mtu=mtu, mac=mac, peer=peer, master=master_index, up=up, index=own
        )

    def work() -> None:
        fd = netns.open_fd(peer_ns) if peer_ns != ns else None
        try:
            if not numbered:
                create(0, 0, fd)
                return
            for attempt in range(8):
                peer_index, own = _veth_indexes(ns, fresh=attempt > 0)
                try:
                    create(own, peer_index, fd)
                except OSError as exc:
                    if exc.errno == errno.EBUSY and attempt < 7:
                        continue  # (an index taken meanwhile: the next pair)
                    trace.record(shown((own, peer_index)))
                    raise
                trace.record(shown((own, peer_index)))
                return
        finally:
            if fd is not None:
                os.close(fd)

    _fast(ns, f"ip link add {name} type veth peer name {peer_name}", work, ok=(errno.EEXIST,))


# Per namespace, the next interface index netlab gives a veth pair there (kernel thread).
_next_index: dict[str, int] = {}


def _veth_indexes(ns: str, *, fresh: bool = False) -> tuple[int, int]:
    """(peer's, own) interface indexes for the next veth pair made in ``ns``: the next two
    numbers after the highest index there, as the kernel counts. Read once, then counted on
    here (``fresh``: read again, after a pair was refused because an index was taken)."""
    nxt = _next_index.get(ns)
    if nxt is None or fresh:  # (the count is past a refused pair already: never go back)
        nxt = max(max(_nlfast.link_indexes(ns).values(), default=1) + 1, nxt or 0)
    _next_index[ns] = nxt + 2
    return nxt, nxt + 1


def add_vxlan(
    ns: str,
    name: str,
    *,
    vni: int,
    port: int = 4789,
    mtu: int = 1450,
    learning: bool = False,
    proxy: bool = True,
) -> None:
    """``ip link add NAME type vxlan id VNI dstport PORT nolearning proxy``, as Docker's overlay.

    With learning off and ``proxy`` on, the device answers ARP from its neighbour table and
    sends each frame to the node its FDB names: nothing is flooded or learned.
    """
    trace.record(
        commands.add_vxlan(ns, name, vni=vni, port=port, mtu=mtu, learning=learning, proxy=proxy)
    )
    _fast(
        ns,
        f"ip link add {name} type vxlan id {vni}",
        lambda: _nlfast.new_vxlan(
            ns, name, vni=vni, port=port, mtu=mtu, learning=learning, proxy=proxy
        ),
    )  # no EEXIST tolerance: the kernel says EEXIST too when the VNI is taken on this port


def add_sublink(
    ns: str,
    name: str,
    *,
    parent: str,
    kind: str,
    mode: str,
    peer_ns: str,
    mac: str | None = None,
) -> None:
    """``ip -n NS link add link PARENT name NAME netns PEER_NS [address MAC] type KIND mode
    MODE``: a macvlan or ipvlan child of ``parent``, born in another namespace.

    The child speaks through its parent's wire but lives in the container. (Docker creates it
    in the host under a temporary name and moves it; being born there is the same in one step.)
    """
    trace.record(
        commands.add_sublink(
            ns, name, parent=parent, kind=kind, mode=mode, peer_ns=peer_ns, mac=mac
        )
    )
    modes = {
        "macvlan": {"private": 1, "vepa": 2, "bridge": 4, "passthru": 8},
        "ipvlan": {"l2": 0, "l3": 1, "l3s": 2},
    }

    def fn(ipr: IPRoute) -> None:
        fd = netns.open_fd(peer_ns)
        try:
            index = ipr.link_lookup(ifname=parent)
            if not index:
                raise NetlinkError(errno.ENODEV)
            ipr.link(
                "add",
                ifname=name,
                kind=kind,
                link=index[0],
                net_ns_fd=fd,
                **({"address": mac} if mac else {}),
                **{f"{kind}_mode": modes[kind][mode]},
            )
        finally:
            os.close(fd)

    _run(ns, f"ip link add link {parent} name {name} type {kind}", fn)


def move_link(ns: str, name: str, *, to_ns: str, new_name: str | None = None) -> None:
    """``ip -n NS link set NAME netns TO_NS [name NEW]``."""
    trace.record(commands.move_link(ns, name, to_ns=to_ns, new_name=new_name))

    def work() -> None:
        fd = netns.open_fd(to_ns)
        try:
            _nlfast.move_link(ns, name, fd, new_name)
        finally:
            os.close(fd)

    _fast(ns, f"ip link set {name} netns {to_ns}", work)


def neigh_add(ns: str, dev: str, ip: str, mac: str) -> None:
    """``ip neigh replace IP lladdr MAC dev DEV nud permanent``."""
    trace.record(commands.neigh_add(ns, dev, ip, mac))
    _fast(ns, f"ip neigh replace {ip} dev {dev}", lambda: _nlfast.neigh(ns, True, dev, ip, mac))


def neigh_del(ns: str, dev: str, ip: str) -> None:
    """``ip neigh del IP dev DEV`` (gone already is fine)."""
    trace.record(commands.neigh_del(ns, dev, ip))
    _fast(
        ns,
        f"ip neigh del {ip} dev {dev}",
        lambda: _nlfast.neigh(ns, False, dev, ip, None),
        ok=(errno.ENOENT, errno.ENODEV),
    )


def fdb_add(ns: str, dev: str, mac: str, dst: str) -> None:
    """``bridge fdb replace MAC dev DEV dst IP self permanent``."""
    trace.record(commands.fdb_add(ns, dev, mac, dst))
    _fast(ns, f"bridge fdb replace {mac} dev {dev}", lambda: _nlfast.fdb(ns, True, dev, mac, dst))


def fdb_del(ns: str, dev: str, mac: str, dst: str) -> None:
    """``bridge fdb del MAC dev DEV dst IP self`` (gone already is fine)."""
    trace.record(commands.fdb_del(ns, dev, mac, dst))
    _fast(
        ns,
        f"bridge fdb del {mac} dev {dev}",
        lambda: _nlfast.fdb(ns, False, dev, mac, dst),
        ok=(errno.ENOENT, errno.ENODEV),
    )


def set_link(
    ns: str,
    name: str,
    *,
    up: bool | None = None,
    master: str | None = None,
    mtu: int | None = None,
    mac: str | None = None,
    alias: str | None = None,
) -> None:
    """``ip link set NAME [address MAC] [mtu N] [alias TEXT] [master BR] [up|down]``."""
    cmd = commands.set_link(ns, name, up=up, master=master, mtu=mtu, mac=mac, alias=alias)
    trace.record(cmd)

    def work() -> None:
        master_index = _nlfast.index_of(ns, master) if master is not None else None
        _nlfast.set_link(ns, name, up=up, master=master_index, mtu=mtu, mac=mac, alias=alias)

    _fast(ns, "ip " + shlex_join(cmd[3:]), work)


def set_bridge_port(ns: str, name: str, *, hairpin: bool) -> None:
    """``bridge link set dev NAME hairpin on|off``: may a frame leave by the port it came in?"""
    trace.record(commands.set_bridge_port(ns, name, hairpin=hairpin))
    _fast(
        ns,
        f"bridge link set dev {name} hairpin",
        lambda: _nlfast.set_brport_hairpin(ns, name, hairpin),
    )


def delete_link(ns: str, name: str) -> None:
    """``ip link del NAME`` (a veth takes its peer with it); a missing link is fine."""
    trace.record(commands.delete_link(ns, name))
    _fast(
        ns,
        f"ip link del {name}",
        lambda: _nlfast.del_link(ns, name),
        ok=(errno.ENODEV, errno.ENOENT),
    )


def nsid_of(ns: str, other: str) -> int | None:
    """The netnsid namespace ``ns`` uses for ``other`` (what ``link-netnsid`` shows)."""

    def work() -> int | None:
        fd = netns.open_fd(other)
        try:
            return _nlfast.nsid_of(ns, fd)
        finally:
            os.close(fd)

    return _fast(ns, f"ip netns list-id target-nsid of {other}", work)


def links(ns: str) -> list[Link]:
    """``ip -d link show``: every interface of the namespace, by index."""
    result = _run(ns, "ip link show", lambda ipr: [_link(m) for m in ipr.link("dump")])
    return sorted(result or [], key=lambda link: link.index)


# --- addresses and routes ---------------------------------------------------------------------


def add_addr(ns: str, ifname: str, cidr: str) -> None:
    """``ip addr add CIDR brd + dev IFNAME``."""
    trace.record(commands.add_addr(ns, ifname, cidr))
    _fast(
        ns,
        f"ip addr add {cidr} dev {ifname}",
        lambda: _nlfast.add_addr(ns, _nlfast.index_of(ns, ifname), cidr),
        ok=(errno.EEXIST,),
    )


def del_addr(ns: str, ifname: str, cidr: str) -> None:
    """``ip addr del CIDR dev IFNAME`` (one that is not there is no error)."""
    trace.record(commands.del_addr(ns, ifname, cidr))
    ip, _, plen = cidr.partition("/")

    def work(ipr: IPRoute) -> None:
        ipr.addr("del", index=ipr.link_lookup(ifname=ifname)[0], address=ip, prefixlen=int(plen))

    _run(ns, f"ip addr del {cidr} dev {ifname}", work, ok=(errno.EADDRNOTAVAIL,))


def addrs(ns: str) -> list[Addr]:
    """``ip -4 addr show``."""

    def work(ipr: IPRoute) -> list[Addr]:
        names = {m["index"]: m.get_attr("IFLA_IFNAME") for m in ipr.link("dump")}
        return [
            Addr(names.get(m["index"], "?"), m["index"], m.get_attr("IFA_ADDRESS"), m["prefixlen"])
            for m in ipr.addr("dump", family=socket.AF_INET)
        ]

    return _run(ns, "ip addr show", work) or []


def add_route(
    ns: str, dst: str = "default", *, gateway: str | None = None, dev: str | None = None
) -> None:
    """``ip route add DST [via GATEWAY] [dev DEV]``."""
    cmd = commands.add_route(ns, dst, gateway=gateway, dev=dev)
    trace.record(cmd)

    def work() -> None:
        oif = _nlfast.index_of(ns, dev) if dev else None
        _nlfast.add_route(ns, dst, gateway=gateway, oif=oif)

    _fast(ns, "ip " + shlex_join(cmd[3:]), work, ok=(errno.EEXIST,))


def routes(ns: str) -> list[Route]:
    """``ip route show`` (IPv4, main table)."""

    def work(ipr: IPRoute) -> list[Route]:
        names = {m["index"]: m.get_attr("IFLA_IFNAME") for m in ipr.link("dump")}
        out = []
        for m in ipr.route("dump", family=socket.AF_INET, table=254):
            dst = m.get_attr("RTA_DST")
            out.append(
                Route(
                    dst=f"{dst}/{m['dst_len']}" if dst else "default",
                    gateway=m.get_attr("RTA_GATEWAY"),
                    dev=names.get(m.get_attr("RTA_OIF")),
                    src=m.get_attr("RTA_PREFSRC"),
                )
            )
        return out

    return _run(ns, "ip route show", work) or []


# --- sysctls ----------------------------------------------------------------------------------


def sysctl(ns: str, key: str, value: str, *more: tuple[str, str]) -> None:
    """``sysctl -w KEY=VALUE [...]`` inside the namespace (``net.*`` keys are per namespace).

    Several settings given at once are written from one visit to the namespace.
    """
    settings = [(key, value), *more]
    record_sysctls(ns, settings)

    def work() -> None:
        with netns.entered(ns):
            write_sysctls_here(settings)

    _worker.call(work)


def record_sysctls(ns: str, settings: Sequence[tuple[str, str]]) -> None:
    """Trace the ``sysctl -w`` lines of ``settings`` (done elsewhere, in namespace ``ns``)."""
    for k, v in settings:
        trace.record(commands.sysctl(ns, k, v))


def write_sysctls_here(settings: Sequence[tuple[str, str]]) -> None:
    """Write ``net.*`` sysctls in the calling thread's network namespace (untraced).

    /proc/sys/net shows the namespace of the thread that opens it.
    """
    for k, v in settings:
        with open("/proc/sys/" + k.replace(".", "/"), "w") as f:
            f.write(v)


_SIOCGIFFLAGS = 0x8913
_SIOCSIFFLAGS = 0x8914
_IFREQ_FLAGS = struct.Struct("16sh22x")  # struct ifreq: name, then ifr_flags in the union


def loopback_up_here() -> None:
    """``ip link set lo up`` in the calling thread's network namespace (untraced).

    Done with the classic SIOCSIFFLAGS ioctl on a socket, which belongs to the namespace
    of the thread that opens it, so it works on any thread (no cached netlink socket).
    """
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        got = fcntl.ioctl(sock, _SIOCGIFFLAGS, _IFREQ_FLAGS.pack(b"lo", 0))
        flags = _IFREQ_FLAGS.unpack(got)[1]
        fcntl.ioctl(sock, _SIOCSIFFLAGS, _IFREQ_FLAGS.pack(b"lo", flags | IFF_UP))


def read_sysctl(ns: str, key: str) -> str:
    """The value of a ``net.*`` sysctl inside the namespace."""

    def work() -> str:
        with netns.entered(ns), open("/proc/sys/" + key.replace(".", "/")) as f:
            return f.read().strip()

    return _worker.call(work)


# --- waiting for the kernel to finish removing ------------------------------------------------

RTMGRP_LINK = 1
SO_RCVBUFFORCE = 33  # (not in Python's socket module)
RTM_DELLINK = 17


class LinkRemovalWatch:
    """Watch a namespace for the removal of some interfaces (``RTM_DELLINK`` events).

    Namespace deletion is asynchronous: the veths of a deleted namespace vanish 50-200 ms
    later, in a kernel worker. A veth's peer lives in a namespace that survives (the host),
    so that is where the removal is seen. Open the watch *before* deleting, then :meth:`wait`.
    Events are read from a plain netlink socket: no polling, no ``ip`` in a loop.
    """

    def __init__(self, ns: str, indexes: set[int]) -> None:
        self.ns = ns
        self.pending = set(indexes)

        def work() -> socket.socket:
            with netns.entered(ns):
                s = socket.socket(
                    socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_CLOEXEC, socket.NETLINK_ROUTE
                )
            # Hundreds of removals at once overflow the default buffer (ENOBUFS).
            try:
                s.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 8 << 20)
            except PermissionError:  # (needs CAP_NET_ADMIN over the machine: not rootless)
                s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)  # capped by rmem_max
            s.bind((0, RTMGRP_LINK))
            return s

        self.sock = _worker.call(work) if self.pending else None

    def wait(self, timeout: float = 5.0) -> bool:
        """Block until every watched interface is gone (True) or the timeout passes (False)."""

        if self.sock is None:
            return True
        deadline = time.monotonic() + timeout
        try:
            while self.pending:
                left = deadline - time.monotonic()
                if left <= 0 or not select.select([self.sock], [], [], left)[0]:
                    return False
                try:
                    data = self.sock.recv(65536)
                except OSError as exc:
                    if exc.errno != errno.ENOBUFS:
                        raise
                    # Events were lost: ask the kernel which watched links still exist.
                    self.pending &= {lk.index for lk in links(self.ns)}
                    continue
                off = 0
                while off + 16 <= len(data):
                    length, mtype = struct.unpack_from("=IH", data, off)
                    if mtype == RTM_DELLINK and length >= 32:
                        (index,) = struct.unpack_from("=i", data, off + 20)
                        self.pending.discard(index)
                    off += (length + 3) & ~3 if length else len(data)
            return True
        finally:
            self.sock.close()
            self.sock = None


@dataclass(frozen=True)
class Neighbour:
    """An IPv4 neighbour (ARP) entry: ``ip neigh``."""

    ifname: str
    ip: str
    mac: str | None
    state: str


_NUD = {
    0x01: "INCOMPLETE",
    0x02: "REACHABLE",
    0x04: "STALE",
    0x08: "DELAY",
    0x10: "PROBE",
    0x20: "FAILED",
    0x40: "NOARP",
    0x80: "PERMANENT",
}


def neighbours(ns: str) -> list[Neighbour]:
    """``ip -4 neigh show``."""

    def work(ipr: IPRoute) -> list[Neighbour]:
        names = {m["index"]: m.get_attr("IFLA_IFNAME") for m in ipr.link("dump")}
        return [
            Neighbour(
                names.get(m["ifindex"], "?"),
                m.get_attr("NDA_DST"),
                m.get_attr("NDA_LLADDR"),
                _NUD.get(m["state"], str(m["state"])),
            )
            for m in ipr.neigh("dump", family=socket.AF_INET)
        ]

    return _run(ns, "ip neigh show", work) or []
