"""The hand encoder of :mod:`netlab.kernel._nlfast` against pyroute2, request by request.

Each case builds a request's bytes with a pure ``*_msg`` function of ``_nlfast`` and the same
request with pyroute2's message classes (``ifinfmsg``, ``ndmsg``, ``ifaddrmsg``, ``rtmsg``,
``nsidmsg``), decodes both with pyroute2's parser and compares them as plain trees: netlink
type and flags, the fixed header's fields, then every attribute with its name, its
NLA_F_NESTED/NET_BYTEORDER flags and, recursively, its nested attributes (IFLA_LINKINFO,
IFLA_INFO_DATA, VETH_INFO_PEER and its ifinfomsg, IFLA_PROTINFO) or its decoded value and
payload bytes. Attribute order is ignored: the kernel parses every one of these levels into a
table by type (``nla_parse``). Strings are compared without their trailing NULs, which the
kernel reads either way (``nla_strscpy``, ``nla_strcmp``).

No root, no kernel, no socket: an autouse fixture makes opening one an error.
"""

from __future__ import annotations

import inspect
import socket
import struct
from collections.abc import Iterator
from typing import Any

import pytest
from pyroute2.netlink import nlmsg_atoms
from pyroute2.netlink.rtnl.ifaddrmsg import ifaddrmsg
from pyroute2.netlink.rtnl.ifinfmsg import ifinfmsg
from pyroute2.netlink.rtnl.ndmsg import ndmsg
from pyroute2.netlink.rtnl.nsidmsg import nsidmsg
from pyroute2.netlink.rtnl.rtmsg import rtmsg

from netlab.kernel import _nlfast as nl

AF_INET = socket.AF_INET
AF_INET6 = socket.AF_INET6
REQ_ACK = nl.NLM_F_REQUEST | nl.NLM_F_ACK
NEW = nl.NLM_F_CREATE | nl.NLM_F_EXCL
REPLACE = nl.NLM_F_CREATE | nl.NLM_F_REPLACE
MAC1 = "02:42:ac:11:00:02"
MAC2 = "0a:58:0a:f4:01:ff"


@pytest.fixture(autouse=True)
def no_socket(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Encoding must need no socket (hence no root and no kernel)."""

    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("the encoding tests must not open a socket")

    monkeypatch.setattr(socket, "socket", forbidden)
    monkeypatch.setattr(nl, "request", forbidden)
    yield


# --- decoding and comparing -------------------------------------------------------------------


def frame(msg: nl.Msg, *, ack: bool = True) -> bytes:
    """The bytes ``_nlfast`` sends for ``msg``: nlmsghdr (as :func:`_nlfast.request` adds it)
    and body."""
    mtype, flags, body = msg
    flags |= REQ_ACK if ack else nl.NLM_F_REQUEST
    return struct.pack("=IHHII", 16 + len(body), mtype, flags, 0, 0) + body


def decode(cls: type[Any], data: bytes) -> Any:
    msg = cls(bytes(data))
    msg.decode()
    return msg


def reference(
    cls: type[Any],
    mtype: int,
    flags: int,
    fields: dict[str, Any],
    attrs: list[tuple[Any, ...]],
    *,
    ack: bool = True,
) -> Any:
    """The same request built by pyroute2, encoded, then decoded afresh."""
    msg = cls()
    msg["header"]["type"] = mtype
    msg["header"]["flags"] = flags | (REQ_ACK if ack else nl.NLM_F_REQUEST)
    for key, value in fields.items():
        msg[key] = value
    msg["attrs"] = attrs
    msg.encode()
    return decode(cls, msg.data)


def _node(msg: Any) -> dict[str, Any]:
    fields = {name: msg.get(name) for name, _ in msg.fields if not name.startswith("__")}
    attrs = [_attr(slot) for slot in msg["attrs"]]
    attrs.sort(key=lambda a: a[0])  # stable: duplicates keep their order (the last one wins)
    return {"fields": fields, "attrs": attrs}


def _attr(slot: Any) -> tuple[Any, ...]:
    name, nla = slot.cell[0], slot.nla  # .nla decodes it
    if nla.nla_map:  # nested: recurse
        return (name, nla._nla_flags, _node(nla))
    raw = bytes(nla.data[nla.offset + 4 : nla.offset + nla.length])
    if isinstance(nla, nlmsg_atoms.string):
        raw = raw.rstrip(b"\0")
    return (name, nla._nla_flags, nla.getvalue(), raw.hex())


def tree(msg: Any) -> dict[str, Any]:
    """A decoded pyroute2 message as plain dicts, lists and tuples."""
    header = msg["header"]
    return {"type": header["type"], "flags": header["flags"], **_node(msg)}


def ifinfo(index: int = 0, flags: int = 0, change: int = 0, family: int = 0) -> dict[str, int]:
    return {"family": family, "ifi_type": 0, "index": index, "flags": flags, "change": change}


def ndm(family: int, index: int, flags: int = 0) -> dict[str, int]:
    return {
        "family": family,
        "ifindex": index,
        "state": nl.NUD_PERMANENT,
        "flags": flags,
        "ndm_type": 0,
    }


def rtm(family: int, dst_len: int, scope: int) -> dict[str, int]:
    return {
        "family": family,
        "dst_len": dst_len,
        "src_len": 0,
        "tos": 0,
        "table": nl.RT_TABLE_MAIN,
        "proto": nl.RTPROT_BOOT,
        "scope": scope,
        "type": nl.RTN_UNICAST,
        "flags": 0,
    }


def ifam(family: int, prefixlen: int, index: int) -> dict[str, int]:
    return {"family": family, "prefixlen": prefixlen, "flags": 0, "scope": 0, "index": index}


def linkinfo(kind: str, data: list[tuple[Any, ...]] | None = None) -> tuple[Any, ...]:
    info: list[tuple[Any, ...]] = [("IFLA_INFO_KIND", kind)]
    if data is not None:
        info.append(("IFLA_INFO_DATA", {"attrs": data}))
    return ("IFLA_LINKINFO", {"attrs": info})


def peer(attrs: list[tuple[Any, ...]]) -> tuple[Any, ...]:
    return ("VETH_INFO_PEER", {**ifinfo(), "attrs": attrs})


# --- the cases --------------------------------------------------------------------------------

# (id, hand-built request, pyroute2 class, type, flags, fields, attrs)
CASES: list[tuple[str, nl.Msg, type[Any], int, int, dict[str, Any], list[tuple[Any, ...]]]] = [
    (
        "getlink-by-name",
        nl.get_link_msg("eth0"),
        ifinfmsg,
        nl.RTM_GETLINK,
        0,
        ifinfo(),
        [("IFLA_IFNAME", "eth0")],
    ),
    (
        "newlink-bridge",
        nl.new_link_msg("docker0", "bridge", mtu=1500, mac=MAC1),
        ifinfmsg,
        nl.RTM_NEWLINK,
        NEW,
        ifinfo(),
        [
            ("IFLA_IFNAME", "docker0"),
            ("IFLA_MTU", 1500),
            ("IFLA_ADDRESS", MAC1),
            linkinfo("bridge"),
        ],
    ),
    (
        "newlink-veth-peer-in-netns-master-up",
        nl.new_link_msg(
            "veth1a2b",
            "veth",
            mtu=1450,
            mac=MAC2,
            peer=nl.veth_peer("eth0", ns_fd=7, mtu=1450, mac=MAC1),
            master=3,
            up=True,
        ),
        ifinfmsg,
        nl.RTM_NEWLINK,
        NEW,
        ifinfo(flags=nl.IFF_UP, change=nl.IFF_UP),
        [
            ("IFLA_IFNAME", "veth1a2b"),
            ("IFLA_MASTER", 3),
            ("IFLA_MTU", 1450),
            ("IFLA_ADDRESS", MAC2),
            linkinfo(
                "veth",
                [
                    peer(
                        [
                            ("IFLA_IFNAME", "eth0"),
                            ("IFLA_MTU", 1450),
                            ("IFLA_ADDRESS", MAC1),
                            ("IFLA_NET_NS_FD", 7),
                        ]
                    )
                ],
            ),
        ],
    ),
    (
        "newlink-veth-with-indexes",
        nl.new_link_msg(
            "v", "veth", peer=nl.veth_peer("p", ns_fd=None, mtu=None, mac=None, index=4), index=5
        ),
        ifinfmsg,
        nl.RTM_NEWLINK,
        NEW,
        ifinfo(index=5),
        [
            ("IFLA_IFNAME", "v"),
            linkinfo(
                "veth", [("VETH_INFO_PEER", {**ifinfo(index=4), "attrs": [("IFLA_IFNAME", "p")]})]
            ),
        ],
    ),
    (
        "newlink-veth-peer-here-down",
        nl.new_link_msg("a", "veth", peer=nl.veth_peer("b", ns_fd=None, mtu=None, mac=None)),
        ifinfmsg,
        nl.RTM_NEWLINK,
        NEW,
        ifinfo(),
        [("IFLA_IFNAME", "a"), linkinfo("veth", [peer([("IFLA_IFNAME", "b")])])],
    ),
    (
        "newlink-vxlan",
        nl.new_vxlan_msg("vx-0a1b", vni=4097, port=4789, mtu=1450, learning=False, proxy=True),
        ifinfmsg,
        nl.RTM_NEWLINK,
        NEW,
        ifinfo(),
        [
            ("IFLA_IFNAME", "vx-0a1b"),
            ("IFLA_MTU", 1450),
            linkinfo(
                "vxlan",
                [
                    ("IFLA_VXLAN_ID", 4097),
                    ("IFLA_VXLAN_LEARNING", 0),
                    ("IFLA_VXLAN_PROXY", 1),
                    ("IFLA_VXLAN_PORT", 4789),
                ],
            ),
        ],
    ),
    (
        "newlink-vxlan-learning-noproxy",
        nl.new_vxlan_msg("vx", vni=1, port=8472, mtu=1400, learning=True, proxy=False),
        ifinfmsg,
        nl.RTM_NEWLINK,
        NEW,
        ifinfo(),
        [
            ("IFLA_IFNAME", "vx"),
            ("IFLA_MTU", 1400),
            linkinfo(
                "vxlan",
                [
                    ("IFLA_VXLAN_ID", 1),
                    ("IFLA_VXLAN_LEARNING", 1),
                    ("IFLA_VXLAN_PROXY", 0),
                    ("IFLA_VXLAN_PORT", 8472),
                ],
            ),
        ],
    ),
    (
        "setlink-everything-down",
        nl.set_link_msg("eth0", up=False, master=4, mtu=9000, mac=MAC1, alias="web.1"),
        ifinfmsg,
        nl.RTM_NEWLINK,
        0,
        ifinfo(flags=0, change=nl.IFF_UP),
        [
            ("IFLA_IFNAME", "eth0"),
            ("IFLA_MASTER", 4),
            ("IFLA_MTU", 9000),
            ("IFLA_ADDRESS", MAC1),
            ("IFLA_IFALIAS", "web.1"),
        ],
    ),
    (
        "setlink-up",
        nl.set_link_msg("lo", up=True),
        ifinfmsg,
        nl.RTM_NEWLINK,
        0,
        ifinfo(flags=nl.IFF_UP, change=nl.IFF_UP),
        [("IFLA_IFNAME", "lo")],
    ),
    (
        "setlink-nothing-but-name",
        nl.set_link_msg("eth1"),
        ifinfmsg,
        nl.RTM_NEWLINK,
        0,
        ifinfo(),
        [("IFLA_IFNAME", "eth1")],
    ),
    (
        "brport-hairpin-on",
        nl.brport_hairpin_msg(12, True),
        ifinfmsg,
        nl.RTM_SETLINK,
        0,
        ifinfo(index=12, family=nl.AF_BRIDGE),
        # as pyroute2's own brport request builds it (requests/bridge.py): flagged nested
        [("IFLA_PROTINFO", {"attrs": [("IFLA_BRPORT_MODE", 1)]}, nl.NLA_F_NESTED)],
    ),
    (
        "brport-hairpin-off",
        nl.brport_hairpin_msg(5, False),
        ifinfmsg,
        nl.RTM_SETLINK,
        0,
        ifinfo(index=5, family=nl.AF_BRIDGE),
        [("IFLA_PROTINFO", {"attrs": [("IFLA_BRPORT_MODE", 0)]}, nl.NLA_F_NESTED)],
    ),
    (
        "move-link-and-rename",
        nl.move_link_msg(9, 11, "eth0"),
        ifinfmsg,
        nl.RTM_NEWLINK,
        0,
        ifinfo(index=9),
        [("IFLA_NET_NS_FD", 11), ("IFLA_IFNAME", "eth0")],
    ),
    (
        "move-link",
        nl.move_link_msg(9, 11, None),
        ifinfmsg,
        nl.RTM_NEWLINK,
        0,
        ifinfo(index=9),
        [("IFLA_NET_NS_FD", 11)],
    ),
    (
        "dellink",
        nl.del_link_msg("veth1a2b"),
        ifinfmsg,
        nl.RTM_DELLINK,
        0,
        ifinfo(),
        [("IFLA_IFNAME", "veth1a2b")],
    ),
    (
        "neigh-add-v4",
        nl.neigh_msg(True, 3, "10.0.0.2", MAC1),
        ndmsg,
        nl.RTM_NEWNEIGH,
        REPLACE,
        ndm(AF_INET, 3),
        [("NDA_DST", "10.0.0.2"), ("NDA_LLADDR", MAC1)],
    ),
    (
        "neigh-del-v4",
        nl.neigh_msg(False, 3, "10.0.0.2", None),
        ndmsg,
        nl.RTM_DELNEIGH,
        0,
        ndm(AF_INET, 3),
        [("NDA_DST", "10.0.0.2")],
    ),
    (
        "neigh-add-v6",
        nl.neigh_msg(True, 3, "fd00:1::2", MAC1),
        ndmsg,
        nl.RTM_NEWNEIGH,
        REPLACE,
        ndm(AF_INET6, 3),
        [("NDA_DST", "fd00:1::2"), ("NDA_LLADDR", MAC1)],
    ),
    (
        "neigh-del-v6",
        nl.neigh_msg(False, 3, "fe80::42:acff:fe11:2", None),
        ndmsg,
        nl.RTM_DELNEIGH,
        0,
        ndm(AF_INET6, 3),
        [("NDA_DST", "fe80::42:acff:fe11:2")],
    ),
    (
        "fdb-add-v4",
        nl.fdb_msg(True, 6, MAC2, "192.168.56.11"),
        ndmsg,
        nl.RTM_NEWNEIGH,
        REPLACE,
        ndm(nl.AF_BRIDGE, 6, nl.NTF_SELF),
        [("NDA_LLADDR", MAC2), ("NDA_DST", "192.168.56.11")],
    ),
    (
        "fdb-del-v4",
        nl.fdb_msg(False, 6, MAC2, "192.168.56.11"),
        ndmsg,
        nl.RTM_DELNEIGH,
        0,
        ndm(nl.AF_BRIDGE, 6, nl.NTF_SELF),
        [("NDA_LLADDR", MAC2), ("NDA_DST", "192.168.56.11")],
    ),
    (
        "fdb-add-v6",
        nl.fdb_msg(True, 6, MAC2, "2001:db8::11"),
        ndmsg,
        nl.RTM_NEWNEIGH,
        REPLACE,
        ndm(nl.AF_BRIDGE, 6, nl.NTF_SELF),
        [("NDA_LLADDR", MAC2), ("NDA_DST", "2001:db8::11")],
    ),
    (
        "fdb-del-v6",
        nl.fdb_msg(False, 6, MAC2, "2001:db8::11"),
        ndmsg,
        nl.RTM_DELNEIGH,
        0,
        ndm(nl.AF_BRIDGE, 6, nl.NTF_SELF),
        [("NDA_LLADDR", MAC2), ("NDA_DST", "2001:db8::11")],
    ),
    (
        "getnsid",
        nl.nsid_msg(8),
        nsidmsg,
        nl.RTM_GETNSID,
        0,
        {"rtgen_family": socket.AF_UNSPEC},
        [("NETNSA_FD", 8)],
    ),
    (
        "addr-v4-with-broadcast",
        nl.add_addr_msg(4, "172.17.0.2/16"),
        ifaddrmsg,
        nl.RTM_NEWADDR,
        NEW,
        ifam(AF_INET, 16, 4),
        [
            ("IFA_LOCAL", "172.17.0.2"),
            ("IFA_ADDRESS", "172.17.0.2"),
            ("IFA_BROADCAST", "172.17.255.255"),
        ],
    ),
    (
        "addr-v4-slash31-no-broadcast",
        nl.add_addr_msg(4, "10.0.0.0/31"),
        ifaddrmsg,
        nl.RTM_NEWADDR,
        NEW,
        ifam(AF_INET, 31, 4),
        [("IFA_LOCAL", "10.0.0.0"), ("IFA_ADDRESS", "10.0.0.0")],
    ),
    (
        "addr-v4-slash32",
        nl.add_addr_msg(1, "127.0.0.2/32"),
        ifaddrmsg,
        nl.RTM_NEWADDR,
        NEW,
        ifam(AF_INET, 32, 1),
        [("IFA_LOCAL", "127.0.0.2"), ("IFA_ADDRESS", "127.0.0.2")],
    ),
    (
        "addr-v6",
        nl.add_addr_msg(4, "fd00:dead:beef::2/64"),
        ifaddrmsg,
        nl.RTM_NEWADDR,
        NEW,
        ifam(AF_INET6, 64, 4),
        [("IFA_LOCAL", "fd00:dead:beef::2"), ("IFA_ADDRESS", "fd00:dead:beef::2")],
    ),
    (
        "addr-v6-slash128",
        nl.add_addr_msg(2, "2001:db8::1/128"),
        ifaddrmsg,
        nl.RTM_NEWADDR,
        NEW,
        ifam(AF_INET6, 128, 2),
        [("IFA_LOCAL", "2001:db8::1"), ("IFA_ADDRESS", "2001:db8::1")],
    ),
    (
        "route-v4-default-via",
        nl.add_route_msg("default", gateway="172.17.0.1", oif=None),
        rtmsg,
        nl.RTM_NEWROUTE,
        NEW,
        rtm(AF_INET, 0, nl.RT_SCOPE_UNIVERSE),
        [("RTA_GATEWAY", "172.17.0.1")],
    ),
    (
        "route-v4-prefix-dev",
        nl.add_route_msg("10.1.0.0/16", gateway=None, oif=5),
        rtmsg,
        nl.RTM_NEWROUTE,
        NEW,
        rtm(AF_INET, 16, nl.RT_SCOPE_LINK),
        [("RTA_DST", "10.1.0.0"), ("RTA_OIF", 5)],
    ),
    (
        "route-v4-default-dev",
        nl.add_route_msg("default", gateway=None, oif=5),
        rtmsg,
        nl.RTM_NEWROUTE,
        NEW,
        rtm(AF_INET, 0, nl.RT_SCOPE_LINK),
        [("RTA_OIF", 5)],
    ),
    (
        "route-v4-prefix-via-dev",
        nl.add_route_msg("192.168.0.0/24", gateway="10.0.0.1", oif=2),
        rtmsg,
        nl.RTM_NEWROUTE,
        NEW,
        rtm(AF_INET, 24, nl.RT_SCOPE_UNIVERSE),
        [("RTA_DST", "192.168.0.0"), ("RTA_GATEWAY", "10.0.0.1"), ("RTA_OIF", 2)],
    ),
    (
        "route-v6-default-via",
        nl.add_route_msg("default", gateway="fd00::1", oif=None),
        rtmsg,
        nl.RTM_NEWROUTE,
        NEW,
        rtm(AF_INET6, 0, nl.RT_SCOPE_UNIVERSE),
        [("RTA_GATEWAY", "fd00::1")],
    ),
    (
        "route-v6-prefix-dev",
        nl.add_route_msg("fd00:1::/64", gateway=None, oif=5),
        rtmsg,
        nl.RTM_NEWROUTE,
        NEW,
        rtm(AF_INET6, 64, nl.RT_SCOPE_LINK),
        [("RTA_DST", "fd00:1::"), ("RTA_OIF", 5)],
    ),
    (
        "route-v6-default-dev-by-family",
        nl.add_route_msg("default", gateway=None, oif=5, family=AF_INET6),
        rtmsg,
        nl.RTM_NEWROUTE,
        NEW,
        rtm(AF_INET6, 0, nl.RT_SCOPE_LINK),
        [("RTA_OIF", 5)],
    ),
    (
        "route-v6-prefix-via-link-local-dev",
        nl.add_route_msg("2001:db8:5::/48", gateway="fe80::1", oif=3),
        rtmsg,
        nl.RTM_NEWROUTE,
        NEW,
        rtm(AF_INET6, 48, nl.RT_SCOPE_UNIVERSE),
        [("RTA_DST", "2001:db8:5::"), ("RTA_GATEWAY", "fe80::1"), ("RTA_OIF", 3)],
    ),
]


@pytest.mark.parametrize(
    ("hand", "cls", "mtype", "flags", "fields", "attrs"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
def test_hand_encoding_matches_pyroute2(
    hand: nl.Msg,
    cls: type[Any],
    mtype: int,
    flags: int,
    fields: dict[str, Any],
    attrs: list[tuple[Any, ...]],
) -> None:
    ours = tree(decode(cls, frame(hand)))
    theirs = tree(reference(cls, mtype, flags, fields, attrs))
    assert ours == theirs
    assert ours["attrs"], "a request with no attribute would compare nothing"


def test_link_dump_request_matches_pyroute2() -> None:
    """The dump :func:`_nlfast.link_indexes` sends: no ACK asked, NLMSG_DONE ends it."""
    ours = tree(decode(ifinfmsg, frame(nl.dump_links_msg(), ack=False)))
    theirs = tree(reference(ifinfmsg, nl.RTM_GETLINK, nl.NLM_F_DUMP, ifinfo(), [], ack=False))
    assert ours == theirs
    assert ours["flags"] == nl.NLM_F_REQUEST | nl.NLM_F_DUMP


def test_every_request_builder_is_covered() -> None:
    """A new ``*_msg`` builder in _nlfast needs a case here."""
    builders = {name for name in dir(nl) if name.endswith("_msg") and callable(getattr(nl, name))}
    covered = {
        "get_link_msg",
        "dump_links_msg",
        "new_link_msg",
        "new_vxlan_msg",
        "set_link_msg",
        "brport_hairpin_msg",
        "move_link_msg",
        "del_link_msg",
        "neigh_msg",
        "fdb_msg",
        "nsid_msg",
        "add_addr_msg",
        "add_route_msg",
    }
    assert builders == covered


# --- the comparison can fail ------------------------------------------------------------------


def _veth(mtu: int, peer_name: str) -> Any:
    return reference(
        ifinfmsg,
        nl.RTM_NEWLINK,
        NEW,
        ifinfo(),
        [
            ("IFLA_IFNAME", "a"),
            ("IFLA_MTU", mtu),
            linkinfo("veth", [peer([("IFLA_IFNAME", peer_name), ("IFLA_MTU", mtu)])]),
        ],
    )


def test_comparison_sees_differences() -> None:
    peer_msg = nl.veth_peer("b", ns_fd=None, mtu=1500, mac=None)
    ours = tree(decode(ifinfmsg, frame(nl.new_link_msg("a", "veth", mtu=1500, peer=peer_msg))))
    assert ours == tree(_veth(1500, "b"))  # the control
    assert ours != tree(_veth(1400, "b"))  # an MTU differs (on both ends)
    assert ours != tree(_veth(1500, "c"))  # the peer's name, three levels down
    # the IFLA_PROTINFO NLA_F_NESTED flag (without it the bridge reads a port state)
    flagless = reference(
        ifinfmsg,
        nl.RTM_SETLINK,
        0,
        ifinfo(index=12, family=nl.AF_BRIDGE),
        [("IFLA_PROTINFO", {"attrs": [("IFLA_BRPORT_MODE", 1)]})],
    )
    assert tree(decode(ifinfmsg, frame(nl.brport_hairpin_msg(12, True)))) != tree(flagless)
    # an IPv4 request against an IPv6 one, and netlink flags
    v4 = tree(decode(ndmsg, frame(nl.neigh_msg(True, 3, "10.0.0.2", MAC1))))
    v6 = tree(decode(ndmsg, frame(nl.neigh_msg(True, 3, "::ffff:10.0.0.2", MAC1))))
    assert v4 != v6
    assert v4 != tree(decode(ndmsg, frame(nl.neigh_msg(False, 3, "10.0.0.2", MAC1))))


def test_comparison_sees_payload_size() -> None:
    """A 16-byte RTA_DST in an AF_INET route decodes to the same text: the bytes tell."""
    mtype, flags, body = nl.add_route_msg("10.1.0.0/16", gateway=None, oif=None)
    padded = body[:12] + struct.pack("=HH", 20, nl.RTA_DST) + bytes([10, 1]) + bytes(14)
    good, bad = (tree(decode(rtmsg, frame((mtype, flags, b)))) for b in (body, padded))
    assert good["attrs"][0][2] == bad["attrs"][0][2] == "10.1.0.0"
    assert good != bad


# --- the family follows the address -----------------------------------------------------------


@pytest.mark.parametrize(
    ("msg", "family", "size"),
    [
        (nl.add_addr_msg(1, "10.0.0.1/8"), AF_INET, 4),
        (nl.add_addr_msg(1, "fd00::1/8"), AF_INET6, 16),
        (nl.neigh_msg(True, 1, "10.0.0.1", MAC1), AF_INET, 4),
        (nl.neigh_msg(True, 1, "fd00::1", MAC1), AF_INET6, 16),
        (nl.fdb_msg(True, 1, MAC1, "10.0.0.1"), nl.AF_BRIDGE, 4),
        (nl.fdb_msg(True, 1, MAC1, "fd00::1"), nl.AF_BRIDGE, 16),
        (nl.add_route_msg("10.0.0.0/8", gateway=None, oif=1), AF_INET, 4),
        (nl.add_route_msg("fd00::/8", gateway=None, oif=1), AF_INET6, 16),
    ],
)
def test_family_and_address_size_follow_the_address(msg: nl.Msg, family: int, size: int) -> None:
    _, _, body = msg
    assert body[0] == family
    neigh = msg[0] in (nl.RTM_NEWNEIGH, nl.RTM_DELNEIGH)
    sizes = set()
    off = 8 if msg[0] == nl.RTM_NEWADDR else 12  # ifaddrmsg; ndmsg and rtmsg
    while off < len(body):
        length, kind = struct.unpack_from("=HH", body, off)
        assert length >= 4
        if not (neigh and kind == nl.NDA_LLADDR):
            sizes.add(length - 4)
        off += (length + 3) & ~3
    assert sizes <= {size, 4} and size in sizes  # addresses, and RTA_OIF's u32


def test_default_route_family() -> None:
    assert nl.add_route_msg("default", gateway=None, oif=1)[2][0] == AF_INET
    assert nl.add_route_msg("default", gateway="fd00::1", oif=None)[2][0] == AF_INET6
    assert nl.add_route_msg("default", gateway=None, oif=1, family=AF_INET6)[2][0] == AF_INET6
    # the gateway decides over family=
    assert nl.add_route_msg("default", gateway="10.0.0.1", oif=None, family=AF_INET6)[2][0] == (
        AF_INET
    )
    with pytest.raises(ValueError):
        nl.add_route_msg("10.0.0.0/8", gateway="fd00::1", oif=None)
    with pytest.raises(ValueError):
        nl.add_route_msg("10.0.0.1/8", gateway=None, oif=1)  # host bits set, as before


def test_signatures_rtnl_calls_still_bind() -> None:
    """The calls :mod:`netlab.kernel.rtnl` makes, bound against the functions' signatures."""
    calls: list[tuple[Any, tuple[Any, ...], dict[str, Any]]] = [
        (nl.index_of, ("ns", "eth0"), {}),
        (nl.link_indexes, ("ns",), {}),
        (nl.forget, ("ns",), {}),
        (nl.new_link, ("ns", "br0", "bridge"), {"mtu": 1500, "mac": None}),
        (
            nl.new_link,
            ("ns", "v", "veth"),
            {"mtu": 1500, "mac": None, "peer": b"", "master": None, "up": True, "index": 5},
        ),
        (nl.veth_peer, ("p",), {"ns_fd": None, "mtu": 1500, "mac": None, "index": 4}),
        (
            nl.new_vxlan,
            ("ns", "vx"),
            {"vni": 1, "port": 4789, "mtu": 1450, "learning": False, "proxy": True},
        ),
        (nl.move_link, ("ns", "v", 3, None), {}),
        (nl.neigh, ("ns", True, "v", "10.0.0.1", MAC1), {}),
        (nl.fdb, ("ns", True, "v", MAC1, "10.0.0.1"), {}),
        (
            nl.set_link,
            ("ns", "v"),
            {"up": True, "master": None, "mtu": None, "mac": None, "alias": None},
        ),
        (nl.set_brport_hairpin, ("ns", "v", True), {}),
        (nl.del_link, ("ns", "v"), {}),
        (nl.nsid_of, ("ns", 3), {}),
        (nl.add_addr, ("ns", 1, "10.0.0.1/24"), {}),
        (nl.add_route, ("ns", "default"), {"gateway": None, "oif": 1}),
    ]
    for fn, args, kwargs in calls:
        inspect.signature(fn).bind(*args, **kwargs)
