"""The fake of :mod:`netlab.kernel.rtnl`: links, addresses, routes, neighbours, VXLAN FDB
entries and sysctls.

Each function first traces the ``ip``/``bridge`` line the real one traces (both build it with
:mod:`netlab.kernel.commands`), then does its work inside ``_op``, which turns an errno into
the :class:`~netlab.kernel.rtnl.KernelError` the real function raises and ignores exactly the
errnos it ignores (``EEXIST`` when adding, ``ENODEV`` or ``ENOENT`` when removing). The work
changes the records of
:mod:`netlab.kernel.fake.records`; what a link drags along when it goes (its veth peer, its
macvlan/ipvlan children, its routes) is ``FakeKernel._destroy``, because a namespace's end and
a process's exit cause it too.

:class:`FakeRtnl` is one class for the whole real module, whose functions
:func:`netlab.testing.install` replaces by name (:attr:`FakeRtnl.NAMES`): hence its length.
"""

from __future__ import annotations

import errno
import functools
import ipaddress
import os
import shlex
from collections.abc import Sequence
from typing import TYPE_CHECKING

from netlab.kernel import commands, rtnl, trace
from netlab.kernel.fake.records import FakeKernelError, FakeNamespace, _names, _op, _oserror

if TYPE_CHECKING:  # (only a type here: the package imports this module, not the reverse)
    from netlab.kernel.fake import FakeKernel


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
    """The functions of :mod:`netlab.kernel.rtnl`, over the fake kernel."""

    NAMES = _names(
        "link_indexes add_bridge add_veth add_vxlan add_sublink move_link neigh_add "
        "neigh_del fdb_add fdb_del set_link set_bridge_port delete_link nsid_of links "
        "add_addr del_addr addrs add_route routes sysctl write_sysctls_here loopback_up_here "
        "read_sysctl neighbours forget forget_gone LinkRemovalWatch"
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

    def forget_gone(self) -> None:
        """Nothing is cached."""

    # -- links ---------------------------------------------------------------------------------

    def link_indexes(self, ns: str) -> dict[str, int]:
        n = self.k._ns(ns)
        return {link.name: link.index for link in n.links.values()}

    def add_bridge(self, ns: str, name: str, *, mac: str | None = None, mtu: int = 1500) -> None:
        trace.record(commands.add_bridge(ns, name, mac=mac, mtu=mtu))

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
        numbered: bool = False,
    ) -> None:
        k = self.k
        indexes = None
        if numbered:  # (as the kernel layer numbers pairs: after the highest index in ns)
            n0 = k._ns(ns)
            own = max((lk.index for lk in n0.links.values()), default=1) + 2
            indexes = (own, own - 1)
        trace.record(
            commands.add_veth(
                ns, name, peer_ns, peer_name, mac, peer_mac, mtu, master, up, indexes=indexes
            )
        )

        def work() -> None:
            pn = k._ns(peer_ns)
            n = k._ns(ns)
            self._fail("add_veth", ns, name)
            if master:
                k._bridge(n, master)
            if name in n.links or peer_name in pn.links or (pn is n and name == peer_name):
                raise _oserror(errno.EEXIST)
            own, peer_index = indexes or (0, 0)
            peer = k._add_link(pn, peer_name, "veth", mac=peer_mac, mtu=mtu, index=peer_index)
            link = k._add_link(n, name, "veth", mac=mac, mtu=mtu, index=own)
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
        trace.record(
            commands.add_vxlan(
                ns, name, vni=vni, port=port, mtu=mtu, learning=learning, proxy=proxy
            )
        )
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
        trace.record(
            commands.add_sublink(
                ns, name, parent=parent, kind=kind, mode=mode, peer_ns=peer_ns, mac=mac
            )
        )
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
        trace.record(commands.move_link(ns, name, to_ns=to_ns, new_name=new_name))
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
        cmd = commands.set_link(ns, name, up=up, master=master, mtu=mtu, mac=mac, alias=alias)
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
        trace.record(commands.set_bridge_port(ns, name, hairpin=hairpin))
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
        trace.record(commands.delete_link(ns, name))
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
        trace.record(commands.neigh_add(ns, dev, ip, mac))

        def work() -> None:
            n = self.k._ns(ns)
            self._fail("neigh_add", ns, dev)
            self.k._link(n, dev).neigh[str(ipaddress.IPv4Address(ip))] = mac.lower()

        _op(ns, f"ip neigh replace {ip} dev {dev}", work)

    def neigh_del(self, ns: str, dev: str, ip: str) -> None:
        trace.record(commands.neigh_del(ns, dev, ip))

        def work() -> None:
            n = self.k._ns(ns)
            self._fail("neigh_del", ns, dev)
            if self.k._link(n, dev).neigh.pop(ip, None) is None:
                raise _oserror(errno.ENOENT)

        _op(ns, f"ip neigh del {ip} dev {dev}", work, ok=(errno.ENOENT, errno.ENODEV))

    def fdb_add(self, ns: str, dev: str, mac: str, dst: str) -> None:
        trace.record(commands.fdb_add(ns, dev, mac, dst))

        def work() -> None:
            n = self.k._ns(ns)
            self._fail("fdb_add", ns, dev)
            link = self.k._link(n, dev)
            if link.kind != "vxlan":
                raise _oserror(errno.EOPNOTSUPP, f"{dev} has no remote FDB")
            link.fdb[mac.lower()] = dst

        _op(ns, f"bridge fdb replace {mac} dev {dev}", work)

    def fdb_del(self, ns: str, dev: str, mac: str, dst: str) -> None:
        trace.record(commands.fdb_del(ns, dev, mac, dst))

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
        trace.record(commands.add_addr(ns, ifname, cidr))

        def work() -> None:
            n = self.k._ns(ns)
            self._fail("add_addr", ns, ifname)
            link = self.k._link(n, ifname)
            addr = ipaddress.IPv4Interface(cidr)
            if any(a.ip == addr.ip for a in link.addrs):
                raise _oserror(errno.EEXIST)
            link.addrs.append(addr)

        _op(ns, f"ip addr add {cidr} dev {ifname}", work, ok=(errno.EEXIST,))

    def del_addr(self, ns: str, ifname: str, cidr: str) -> None:
        trace.record(commands.del_addr(ns, ifname, cidr))
        n = self.k._ns(ns)
        link = self.k._link(n, ifname)
        addr = ipaddress.IPv4Interface(cidr)
        link.addrs = [a for a in link.addrs if a != addr]

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
        cmd = commands.add_route(ns, dst, gateway=gateway, dev=dev)
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
            trace.record(commands.sysctl(ns, k_, v))
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
