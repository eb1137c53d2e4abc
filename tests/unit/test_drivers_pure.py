"""The network drivers' pure parts, without root: the registry, subnets, peers, firewall."""

from __future__ import annotations

import dataclasses
import ipaddress
import re
from typing import Any

import pytest

from netlab.errors import Conflict, InvalidArgument
from netlab.model import drivers, firewall, ipam
from netlab.model.drivers import CreateRequest, bridge, peerdb
from netlab.model.drivers.base import pick_subnet
from netlab.model.records import NetworkRec


def test_registry_has_one_driver_per_name() -> None:
    assert sorted(drivers.DRIVERS) == ["bridge", "host", "ipvlan", "macvlan", "null", "overlay"]
    for name, drv in drivers.DRIVERS.items():
        assert drv.name == name
    assert drivers.get("overlay").scope == "swarm"
    assert not drivers.get("host").own_namespace and drivers.get("null").own_namespace
    assert [n for n, d in drivers.DRIVERS.items() if d.publishes] == ["bridge"]


def test_unknown_driver_is_dockers_plugin_error() -> None:
    with pytest.raises(InvalidArgument, match=r'^plugin "weave" not found$'):
        drivers.get("weave")


def test_host_and_null_cannot_be_created_twice() -> None:
    with pytest.raises(InvalidArgument, match='only one instance of "host" network is allowed'):
        drivers.get("host").create(None, CreateRequest("h2"), "0" * 64)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("req", "want"),
    [
        (CreateRequest("n"), ("172.19.0.0/16", "172.19.0.1")),
        (CreateRequest("n", subnet="10.9.0.0/24"), ("10.9.0.0/24", "10.9.0.1")),
        (
            CreateRequest("n", subnet="10.9.0.0/24", gateway="10.9.0.254"),
            ("10.9.0.0/24", "10.9.0.254"),
        ),
    ],
)
def test_pick_subnet(req: CreateRequest, want: tuple[str, str]) -> None:
    used = [ipaddress.IPv4Network("172.17.0.0/16"), ipaddress.IPv4Network("172.18.0.0/16")]
    net, gw = pick_subnet(req, used)
    assert (str(net), str(gw)) == want


def test_pick_subnet_refuses_overlaps_and_foreign_gateways() -> None:
    used = [ipaddress.IPv4Network("172.17.0.0/16")]
    with pytest.raises(Conflict, match="Pool overlaps with other one on this address space"):
        pick_subnet(CreateRequest("n", subnet="172.17.5.0/24"), used)
    with pytest.raises(InvalidArgument, match=r"no matching subnet for gateway 10\.1\.0\.1"):
        pick_subnet(CreateRequest("n", subnet="10.9.0.0/24", gateway="10.1.0.1"), used)
    # (docker/cli v28.5.2 cli/command/network/create.go: an unparsable gateway matches no
    # subnet either)
    with pytest.raises(InvalidArgument, match="no matching subnet for gateway nope"):
        pick_subnet(CreateRequest("n", subnet="10.9.0.0/24", gateway="nope"), used)
    with pytest.raises(InvalidArgument, match=r"no matching subnet for gateway 10\.9\.0\.0"):
        pick_subnet(CreateRequest("n", subnet="10.9.0.0/24", gateway="10.9.0.0"), used)


def test_ip_range_gives_the_gateway_and_the_addresses() -> None:
    """Docker's allocator hands out the range's own first address (only the subnet's network
    and broadcast addresses are reserved): the gateway, without --gateway (moby v28.5.2
    libnetwork/network.go ipamAllocateVersion, ipams/defaultipam/allocator.go getAddress)."""
    req = CreateRequest("n", subnet="172.28.0.0/16", ip_range="172.28.5.0/24")
    net, gw = pick_subnet(req, [])
    assert (str(net), str(gw)) == ("172.28.0.0/16", "172.28.5.0")
    r = ipaddress.IPv4Network("172.28.5.0/24")
    assert str(ipam.lowest_free(net, {"172.28.5.0"}, r)) == "172.28.5.1"
    full = {str(a) for a in r}
    with pytest.raises(ipam.IPAMError):
        ipam.lowest_free(net, full, r)
    # A range that starts the subnet: its first address is the subnet's, reserved.
    assert str(ipam.lowest_free(net, (), ipaddress.IPv4Network("172.28.0.0/24"))) == "172.28.0.1"


@pytest.mark.parametrize(
    ("subnet", "ip_range", "gateway", "aux", "words"),
    [
        (
            None,
            "10.1.2.0/24",
            None,
            {},
            "every ip-range or gateway must have a corresponding subnet",
        ),
        (None, None, "10.1.2.1", {}, "every ip-range or gateway must have a corresponding subnet"),
        ("10.1.0.0/16", "10.2.0.0/24", None, {}, "no matching subnet for range 10.2.0.0/24"),
        ("10.1.0.0/16", "10.1.2.0", None, {}, "invalid CIDR address: 10.1.2.0"),
        (
            "10.1.0.0/16",
            None,
            None,
            {"r": "10.9.0.9"},
            "no matching subnet for aux-address 10.9.0.9",
        ),
        (None, None, None, {"r": "10.9.0.9"}, "no matching subnet for aux-address 10.9.0.9"),
    ],
)
def test_ipam_config_is_checked_as_the_cli_does(
    subnet: str | None, ip_range: str | None, gateway: str | None, aux: dict[str, str], words: str
) -> None:
    """docker/cli v28.5.2 cli/command/network/create.go createIPAMConfig."""
    with pytest.raises(ValueError, match=f"^{re.escape(words)}$"):
        ipam.check_config(subnet, ip_range, gateway, aux)


def test_peer_diff_adds_and_removes_only_what_changed() -> None:
    a = peerdb.Peer("10.0.1.2", "02:42:0a:00:01:02", "192.168.56.12")
    b = peerdb.Peer("10.0.1.3", "02:42:0a:00:01:03", "192.168.56.12")
    c = peerdb.Peer("10.0.1.4", "02:42:0a:00:01:04", "192.168.56.13")
    assert peerdb.diff([a, b], [b, c]) == ([a], [c])
    assert peerdb.diff([a], [a]) == ([], [])


def test_peer_table_of_a_node_leaves_out_its_own_endpoints() -> None:
    eps = [("node1", "10.0.1.2", "m1"), ("node2", "10.0.1.3", "m2"), ("node3", "10.0.1.4", "m3")]
    addrs = {"node1": "192.168.56.11", "node2": "192.168.56.12", "node3": "192.168.56.13"}
    assert peerdb.wanted(eps, "node2", addrs) == [
        peerdb.Peer("10.0.1.2", "m1", "192.168.56.11"),
        peerdb.Peer("10.0.1.4", "m3", "192.168.56.13"),
    ]


def _net(**extra: Any) -> NetworkRec:
    net = bridge.record(
        "f" * 64,
        "n",
        "br-ffffffffffff",
        ipaddress.IPv4Network("172.20.0.0/16"),
        ipaddress.IPv4Address("172.20.0.1"),
        user_defined=True,
    )
    return dataclasses.replace(net, **extra)


def test_bridge_firewall_inputs_follow_icc_and_internal() -> None:
    drv = drivers.get("bridge")
    share = drv.firewall(_net(), [])
    assert share == firewall.Bridge("br-ffffffffffff", "172.20.0.0/16", (), icc=True)
    gw = drv.firewall(_net(options={bridge.ICC: "false"}), [])
    assert gw is not None and not gw.icc
    text = firewall.ruleset([gw])
    assert 'iifname "br-ffffffffffff" counter drop comment "ICC"' in text


def test_internal_bridge_chains_are_dockers() -> None:
    from netlab.model.ports import PortMapping

    pub = [firewall.Published("172.20.0.2", PortMapping("0.0.0.0", 8080, 80, "tcp"))]
    share = drivers.get("bridge").firewall(_net(internal=True), pub)
    assert share is not None and share.internal and share.published == ()
    text = firewall.bridge_chains(share)
    assert text == (
        "\tchain filter-forward-in__br-ffffffffffff {\n"
        "\t\tct state established,related counter accept\n"
        '\t\tiifname != "br-ffffffffffff" counter drop comment "INTERNAL NETWORK INGRESS"\n'
        '\t\tcounter accept comment "ICC"\n'
        "\t}\n\n"
        "\tchain filter-forward-out__br-ffffffffffff {\n"
        "\t\tct state established,related counter accept\n"
        '\t\toifname != "br-ffffffffffff" counter drop comment "INTERNAL NETWORK EGRESS"\n'
        "\t}\n\n"
        "\tchain nat-postrouting-in__br-ffffffffffff {\n\t}\n\n"
        "\tchain nat-postrouting-out__br-ffffffffffff {\n\t}\n"
    )
    assert "masquerade" not in text and "dnat" not in firewall.ruleset([share])


def test_overlay_and_macvlan_have_no_share_of_the_host_firewall() -> None:
    for name in ("overlay", "macvlan", "ipvlan", "host", "null"):
        assert drivers.get(name).firewall(_net(), []) is None
