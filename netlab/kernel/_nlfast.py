"""Hand-encoded rtnetlink requests for the hot path of building containers.

pyroute2 spends about 0.35 ms of Python per request (filters, NLA objects, an asyncio
round trip); the kernel needs microseconds. Building a container takes about ten requests, so
the requests on that path are encoded here with :mod:`struct` and sent on a plain netlink
socket opened inside the namespace:

* RTM_GETLINK by name (:func:`index_of`) and as a dump (:func:`link_indexes`);
* RTM_NEWLINK creating a bridge or a veth pair (its peer possibly born in another namespace,
  this end possibly enslaved and up), or a vxlan device; RTM_NEWLINK on an existing link
  (up/down, master, MTU, MAC, alias; a move to another namespace with a rename);
* RTM_SETLINK, AF_BRIDGE, nested IFLA_PROTINFO: a bridge port's hairpin mode;
* RTM_NEWNEIGH/RTM_DELNEIGH: a permanent neighbour, and a vxlan FDB entry (AF_BRIDGE, self);
* RTM_NEWADDR (with its broadcast for IPv4), RTM_NEWROUTE in the main table, RTM_DELLINK;
* RTM_GETNSID: the id a namespace gives another.

The address family follows the address given (IPv4 or IPv6, 4- or 16-byte payloads); only a
route to "default" with neither a gateway nor ``family=`` is IPv4. Everything else (dumps
that are fully parsed, rarer objects) goes through pyroute2 in :mod:`netlab.kernel.rtnl`,
which is also the public face of both.

Each request's bytes come from a pure ``*_msg`` function returning ``(type, flags, body)``;
tests/unit/test_nlfast_encoding.py builds the same request with pyroute2's message classes
and compares both once decoded (header fields and the whole attribute tree, nested
attributes and their NLA_F_NESTED flag included), so the two encoders cannot drift apart.
Each request asks for an acknowledgement; a negative ``NLMSG_ERROR`` becomes
:class:`OSError` with the kernel's errno.
"""

from __future__ import annotations

import errno
import ipaddress
import os
import socket
import struct
from collections import OrderedDict
from collections.abc import Mapping

from netlab.kernel import netns

NLM_F_REQUEST = 0x1
NLM_F_ACK = 0x4
NLM_F_EXCL = 0x200
NLM_F_CREATE = 0x400
NLM_F_DUMP = 0x300
NLMSG_ERROR = 2
NLMSG_DONE = 3
RTM_NEWLINK = 16
RTM_DELLINK = 17
RTM_GETLINK = 18
RTM_SETLINK = 19
RTM_NEWADDR = 20
RTM_NEWROUTE = 24
IFLA_ADDRESS = 1
IFLA_IFNAME = 3
IFLA_MTU = 4
IFLA_MASTER = 10
IFLA_LINKINFO = 18
IFLA_IFALIAS = 20
IFLA_NET_NS_FD = 28
IFLA_INFO_KIND = 1
IFLA_INFO_DATA = 2
VETH_INFO_PEER = 1
IFA_ADDRESS = 1
IFA_LOCAL = 2
IFA_BROADCAST = 4
RTA_DST = 1
RTA_OIF = 4
RTA_GATEWAY = 5
IFF_UP = 0x1
RT_TABLE_MAIN = 254
RTPROT_BOOT = 3
RTN_UNICAST = 1
RT_SCOPE_UNIVERSE = 0
RT_SCOPE_LINK = 253

Msg = tuple[int, int, bytes]
"""A request without its netlink header: message type, flags (besides REQUEST|ACK), body."""

_IFINFO = struct.Struct("=BxHiII")
_CACHE = 16
_socks: OrderedDict[str, tuple[netns.NsId, socket.socket]] = OrderedDict()
_seq = 0


def _attr(kind: int, payload: bytes) -> bytes:
    length = 4 + len(payload)
    return struct.pack("=HH", length, kind) + payload + b"\0" * (-length % 4)


def _name(text: str) -> bytes:
    return text.encode() + b"\0"


def _mac(text: str) -> bytes:
    return bytes(int(x, 16) for x in text.split(":"))


def _family(version: int) -> int:
    return socket.AF_INET if version == 4 else socket.AF_INET6


def _sock(ns: str) -> socket.socket:
    ident = netns.ident(ns)
    cached = _socks.get(ns)
    if cached is not None:
        if cached[0] == ident:
            _socks.move_to_end(ns)
            return cached[1]
        cached[1].close()
        del _socks[ns]
    with netns.entered(ns):
        s = socket.socket(
            socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_CLOEXEC, socket.NETLINK_ROUTE
        )
    s.bind((0, 0))
    _socks[ns] = (ident, s)
    while len(_socks) > _CACHE:
        _, (_, old) = _socks.popitem(last=False)
        old.close()
    return s


def forget(ns: str) -> None:
    """Close the cached socket of a namespace that goes away."""
    cached = _socks.pop(ns, None)
    if cached is not None:
        cached[1].close()


def cached() -> Mapping[str, tuple[netns.NsId, socket.socket]]:
    """The cached sockets, by namespace name (see rtnl.forget_gone)."""
    return dict(_socks)


def request(ns: str, mtype: int, flags: int, body: bytes) -> bytes:
    """Send one request and wait for its ack (or its single reply); raise OSError on error."""
    global _seq
    _seq = (_seq + 1) & 0xFFFFFFFF
    s = _sock(ns)
    s.send(
        struct.pack("=IHHII", 16 + len(body), mtype, flags | NLM_F_REQUEST | NLM_F_ACK, _seq, 0)
        + body
    )
    reply = b""
    while True:
        data = s.recv(65536)
        off = 0
        while off + 16 <= len(data):
            length, rtype, _, seq, _ = struct.unpack_from("=IHHII", data, off)
            if seq == _seq:
                if rtype == NLMSG_ERROR:
                    (code,) = struct.unpack_from("=i", data, off + 16)
                    if code:
                        raise OSError(-code, os.strerror(-code))
                    return reply
                reply = data[off : off + length]
            off += (length + 3) & ~3 if length else len(data)


def get_link_msg(name: str) -> Msg:
    """RTM_GETLINK of one link by name."""
    return RTM_GETLINK, 0, _IFINFO.pack(0, 0, 0, 0, 0) + _attr(IFLA_IFNAME, _name(name))


def index_of(ns: str, name: str) -> int:
    """The ifindex of ``name`` (RTM_GETLINK by name: one message, no dump)."""
    reply = request(ns, *get_link_msg(name))
    if len(reply) < 32:
        raise OSError(errno.ENODEV, f"no interface {name}")
    return int(struct.unpack_from("=i", reply, 20)[0])


def dump_links_msg() -> Msg:
    """RTM_GETLINK dump of every link (sent without NLM_F_ACK: NLMSG_DONE ends it)."""
    return RTM_GETLINK, NLM_F_DUMP, _IFINFO.pack(0, 0, 0, 0, 0)


def link_indexes(ns: str) -> dict[str, int]:
    """``{name: ifindex}`` of every link: one RTM_GETLINK dump, of which only the names are
    parsed (pyroute2 parses everything: 60 ms for 200 links, against about 2 ms here)."""
    global _seq
    _seq = (_seq + 1) & 0xFFFFFFFF
    s = _sock(ns)
    mtype, flags, body = dump_links_msg()
    s.send(struct.pack("=IHHII", 16 + len(body), mtype, flags | NLM_F_REQUEST, _seq, 0) + body)
    out: dict[str, int] = {}
    while True:
        data = s.recv(1 << 20)
        off = 0
        while off + 16 <= len(data):
            length, rtype, _, seq, _ = struct.unpack_from("=IHHII", data, off)
            if seq == _seq:
                if rtype == NLMSG_DONE:
                    return out
                if rtype == NLMSG_ERROR:
                    (code,) = struct.unpack_from("=i", data, off + 16)
                    raise OSError(-code, os.strerror(-code))
                if rtype == RTM_NEWLINK:
                    (index,) = struct.unpack_from("=i", data, off + 20)
                    a, end = off + 32, off + length
                    while a + 4 <= end:
                        alen, atype = struct.unpack_from("=HH", data, a)
                        if alen < 4:
                            break
                        if atype & 0x3FFF == IFLA_IFNAME:
                            out[data[a + 4 : a + alen].rstrip(b"\0").decode()] = index
                            break
                        a += (alen + 3) & ~3
            off += (length + 3) & ~3 if length else len(data)


def new_link_msg(
    name: str,
    kind: str,
    *,
    mtu: int | None = None,
    mac: str | None = None,
    peer: bytes | None = None,
    master: int | None = None,
    up: bool = False,
    index: int = 0,
) -> Msg:
    """RTM_NEWLINK (create, exclusive) of ``kind``, with the VETH_INFO_PEER payload ``peer``;
    ``index``: the interface index it must get (0: the kernel's choice)."""
    attrs = _link_attrs(name, master=master, mtu=mtu, mac=mac)
    info = _attr(IFLA_INFO_KIND, kind.encode())
    if peer is not None:
        info += _attr(IFLA_INFO_DATA, _attr(VETH_INFO_PEER, peer))
    attrs += _attr(IFLA_LINKINFO, info)
    flags = IFF_UP if up else 0
    return RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, _IFINFO.pack(0, 0, index, flags, flags) + attrs


def new_link(
    ns: str,
    name: str,
    kind: str,
    *,
    mtu: int | None = None,
    mac: str | None = None,
    peer: bytes | None = None,
    master: int | None = None,
    up: bool = False,
    index: int = 0,
) -> None:
    """RTM_NEWLINK (create, exclusive) of ``kind`` with optional veth peer description; the
    kernel also brings it up and enslaves it to ``master`` (an ifindex) if asked."""
    request(
        ns,
        *new_link_msg(name, kind, mtu=mtu, mac=mac, peer=peer, master=master, up=up, index=index),
    )


def veth_peer(
    name: str, *, ns_fd: int | None, mtu: int | None, mac: str | None, index: int = 0
) -> bytes:
    """The VETH_INFO_PEER payload: an ifinfomsg and the peer's attributes.

    (The peer cannot be created up: the kernel configures it before the pair is linked,
    and opening a veth without its peer fails with ENOTCONN. Its ``index`` is only honoured
    when the first end has one too.)
    """
    attrs = _link_attrs(name, mtu=mtu, mac=mac)
    if ns_fd is not None:
        attrs += _attr(IFLA_NET_NS_FD, struct.pack("=I", ns_fd))
    return _IFINFO.pack(0, 0, index, 0, 0) + attrs


def _link_attrs(
    name: str, *, master: int | None = None, mtu: int | None = None, mac: str | None = None
) -> bytes:
    """The attributes a link request names it by, and those it may set."""
    attrs = _attr(IFLA_IFNAME, _name(name))
    if master is not None:
        attrs += _attr(IFLA_MASTER, struct.pack("=I", master))
    if mtu is not None:
        attrs += _attr(IFLA_MTU, struct.pack("=I", mtu))
    if mac is not None:
        attrs += _attr(IFLA_ADDRESS, _mac(mac))
    return attrs


def set_link_msg(
    name: str,
    *,
    up: bool | None = None,
    master: int | None = None,
    mtu: int | None = None,
    mac: str | None = None,
    alias: str | None = None,
) -> Msg:
    """RTM_NEWLINK on an existing link found by name (as ``ip link set`` does)."""
    flags = change = 0
    if up is not None:
        change = IFF_UP
        flags = IFF_UP if up else 0
    attrs = _link_attrs(name, master=master, mtu=mtu, mac=mac)
    if alias is not None:
        attrs += _attr(IFLA_IFALIAS, alias.encode())
    return RTM_NEWLINK, 0, _IFINFO.pack(0, 0, 0, flags, change) + attrs


def set_link(
    ns: str,
    name: str,
    *,
    up: bool | None = None,
    master: int | None = None,
    mtu: int | None = None,
    mac: str | None = None,
    alias: str | None = None,
) -> None:
    """RTM_NEWLINK on an existing link found by name (as ``ip link set`` does)."""
    request(ns, *set_link_msg(name, up=up, master=master, mtu=mtu, mac=mac, alias=alias))


IFLA_PROTINFO = 12
IFLA_BRPORT_MODE = 4
NLA_F_NESTED = 0x8000
AF_BRIDGE = 7


def brport_hairpin_msg(index: int, on: bool) -> Msg:
    """RTM_SETLINK, AF_BRIDGE, IFLA_PROTINFO (flagged nested: without the flag the bridge
    reads its first byte as a port state) holding IFLA_BRPORT_MODE."""
    mode = _attr(IFLA_BRPORT_MODE, struct.pack("=B", 1 if on else 0))
    body = _IFINFO.pack(AF_BRIDGE, 0, index, 0, 0) + _attr(IFLA_PROTINFO | NLA_F_NESTED, mode)
    return RTM_SETLINK, 0, body


def set_brport_hairpin(ns: str, name: str, on: bool) -> None:
    """``bridge link set dev NAME hairpin on``: RTM_SETLINK, AF_BRIDGE, IFLA_BRPORT_MODE."""
    request(ns, *brport_hairpin_msg(index_of(ns, name), on))


IFLA_VXLAN_ID = 1
IFLA_VXLAN_LEARNING = 7
IFLA_VXLAN_PROXY = 11
IFLA_VXLAN_L2MISS = 13
IFLA_VXLAN_L3MISS = 14
IFLA_VXLAN_PORT = 15
RTM_NEWNEIGH = 28
RTM_DELNEIGH = 29
NDA_DST = 1
NDA_LLADDR = 2
NUD_PERMANENT = 0x80
NTF_SELF = 0x02
NLM_F_REPLACE = 0x100
_NDMSG = struct.Struct("=BxxxiHBB")


def new_vxlan_msg(name: str, *, vni: int, port: int, mtu: int, learning: bool, proxy: bool) -> Msg:
    """RTM_NEWLINK (create, exclusive) of kind vxlan."""
    data = (
        _attr(IFLA_VXLAN_ID, struct.pack("=I", vni))
        + _attr(IFLA_VXLAN_LEARNING, struct.pack("=B", int(learning)))
        + _attr(IFLA_VXLAN_PROXY, struct.pack("=B", int(proxy)))
        + _attr(IFLA_VXLAN_PORT, struct.pack("!H", port))
    )
    info = _attr(IFLA_INFO_KIND, b"vxlan") + _attr(IFLA_INFO_DATA, data)
    attrs = (
        _attr(IFLA_IFNAME, _name(name))
        + _attr(IFLA_MTU, struct.pack("=I", mtu))
        + _attr(IFLA_LINKINFO, info)
    )
    return RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, _IFINFO.pack(0, 0, 0, 0, 0) + attrs


def new_vxlan(
    ns: str, name: str, *, vni: int, port: int, mtu: int, learning: bool, proxy: bool
) -> None:
    """RTM_NEWLINK of kind vxlan (VNI, UDP port, learning, ARP proxy)."""
    request(ns, *new_vxlan_msg(name, vni=vni, port=port, mtu=mtu, learning=learning, proxy=proxy))


def move_link_msg(index: int, target_fd: int, new_name: str | None) -> Msg:
    """RTM_NEWLINK on link ``index``: IFLA_NET_NS_FD and maybe a new IFLA_IFNAME."""
    attrs = _attr(IFLA_NET_NS_FD, struct.pack("=I", target_fd))
    if new_name:
        attrs += _attr(IFLA_IFNAME, _name(new_name))
    return RTM_NEWLINK, 0, _IFINFO.pack(0, 0, index, 0, 0) + attrs


def move_link(ns: str, name: str, target_fd: int, new_name: str | None) -> None:
    """``ip link set NAME netns TARGET [name NEW]``: one request moves (and renames) it."""
    request(ns, *move_link_msg(index_of(ns, name), target_fd, new_name))


def neigh_msg(add: bool, index: int, ip: str, mac: str | None) -> Msg:
    """RTM_NEWNEIGH (create or replace) or RTM_DELNEIGH of a permanent entry; the family
    (AF_INET or AF_INET6) and NDA_DST's size follow ``ip``."""
    addr = ipaddress.ip_address(ip)
    body = _NDMSG.pack(_family(addr.version), index, NUD_PERMANENT, 0, 0)
    body += _attr(NDA_DST, addr.packed)
    if mac:
        body += _attr(NDA_LLADDR, _mac(mac))
    if add:
        return RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_REPLACE, body
    return RTM_DELNEIGH, 0, body


def neigh(ns: str, add: bool, dev: str, ip: str, mac: str | None) -> None:
    """``ip neigh add|del IP lladdr MAC dev DEV nud permanent`` (IPv4 or IPv6)."""
    request(ns, *neigh_msg(add, index_of(ns, dev), ip, mac))


def fdb_msg(add: bool, index: int, mac: str, dst: str) -> Msg:
    """RTM_NEWNEIGH (create or replace) or RTM_DELNEIGH, AF_BRIDGE, self, permanent: ``mac``
    behind the remote ``dst`` (an IPv4 or IPv6 address: 4 or 16 bytes of NDA_DST)."""
    body = _NDMSG.pack(AF_BRIDGE, index, NUD_PERMANENT, NTF_SELF, 0)
    body += _attr(NDA_LLADDR, _mac(mac)) + _attr(NDA_DST, ipaddress.ip_address(dst).packed)
    if add:
        return RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_REPLACE, body
    return RTM_DELNEIGH, 0, body


def fdb(ns: str, add: bool, dev: str, mac: str, dst: str) -> None:
    """``bridge fdb add|del MAC dev DEV dst IP self permanent`` (on a vxlan device)."""
    request(ns, *fdb_msg(add, index_of(ns, dev), mac, dst))


RTM_GETNSID = 90
NETNSA_NSID = 1
NETNSA_FD = 3


def nsid_msg(other_fd: int) -> Msg:
    """RTM_GETNSID of the namespace behind ``other_fd`` (an rtgenmsg and NETNSA_FD)."""
    body = struct.pack("=Bxxx", socket.AF_UNSPEC) + _attr(NETNSA_FD, struct.pack("=I", other_fd))
    return RTM_GETNSID, 0, body


def nsid_of(ns: str, other_fd: int) -> int | None:
    """The id that namespace ``ns`` gives the namespace behind ``other_fd`` (None: none yet).

    A veth's ``link-netnsid`` is such an id: it names the peer's namespace, as seen from here.
    """
    reply = request(ns, *nsid_msg(other_fd))
    off = 16 + 4
    while off + 4 <= len(reply):
        length, kind = struct.unpack_from("=HH", reply, off)
        if kind == NETNSA_NSID and length >= 8:
            (value,) = struct.unpack_from("=i", reply, off + 4)
            return None if value < 0 else int(value)
        off += (length + 3) & ~3 if length else len(reply)
    return None


def del_link_msg(name: str) -> Msg:
    """RTM_DELLINK by name."""
    return RTM_DELLINK, 0, _IFINFO.pack(0, 0, 0, 0, 0) + _attr(IFLA_IFNAME, _name(name))


def del_link(ns: str, name: str) -> None:
    """RTM_DELLINK by name."""
    request(ns, *del_link_msg(name))


def add_addr_msg(index: int, cidr: str) -> Msg:
    """RTM_NEWADDR (create, exclusive) of ``cidr`` on link ``index``: family and sizes follow
    the address; an IPv4 address shorter than /31 gets its broadcast (``brd +``)."""
    iface = ipaddress.ip_interface(cidr)
    prefixlen = iface.network.prefixlen
    packed = iface.ip.packed
    body = struct.pack("=BBBBI", _family(iface.version), prefixlen, 0, 0, index)
    body += _attr(IFA_LOCAL, packed) + _attr(IFA_ADDRESS, packed)
    if iface.version == 4 and prefixlen < 31:
        body += _attr(IFA_BROADCAST, iface.network.broadcast_address.packed)
    return RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, body


def add_addr(ns: str, index: int, cidr: str) -> None:
    """RTM_NEWADDR of an IPv4 or IPv6 address (IPv4 with its broadcast: ``brd +``)."""
    request(ns, *add_addr_msg(index, cidr))


_DEFAULT4 = ipaddress.IPv4Network("0.0.0.0/0")
_DEFAULT6 = ipaddress.IPv6Network("::/0")


def add_route_msg(
    dst: str, *, gateway: str | None, oif: int | None, family: int | None = None
) -> Msg:
    """RTM_NEWROUTE (create, exclusive) in the main table; ``dst`` is "default" or a prefix.

    The family follows ``dst``, else ``gateway``, else ``family`` (AF_INET when None);
    a gateway of the other family than the prefix is a ValueError.
    """
    gw = ipaddress.ip_address(gateway) if gateway else None
    net: ipaddress.IPv4Network | ipaddress.IPv6Network
    if dst == "default":
        six = gw.version == 6 if gw else family == socket.AF_INET6
        net = _DEFAULT6 if six else _DEFAULT4
    else:
        net = ipaddress.ip_network(dst)
    if gw is not None and gw.version != net.version:
        raise ValueError(f"gateway {gateway} is not of the family of {dst}")
    body = struct.pack(
        "=BBBBBBBBI",
        _family(net.version),
        net.prefixlen,
        0,
        0,
        RT_TABLE_MAIN,
        RTPROT_BOOT,
        # universe via a gateway, link for a directly attached net
        RT_SCOPE_UNIVERSE if gw else RT_SCOPE_LINK,
        RTN_UNICAST,
        0,
    )
    if net.prefixlen:
        body += _attr(RTA_DST, net.network_address.packed)
    if gw is not None:
        body += _attr(RTA_GATEWAY, gw.packed)
    if oif is not None:
        body += _attr(RTA_OIF, struct.pack("=I", oif))
    return RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, body


def add_route(
    ns: str, dst: str, *, gateway: str | None, oif: int | None, family: int | None = None
) -> None:
    """RTM_NEWROUTE in the main table (``dst`` "default" or a prefix, IPv4 or IPv6)."""
    request(ns, *add_route_msg(dst, gateway=gateway, oif=oif, family=family))
