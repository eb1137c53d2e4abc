"""The bridge driver: docker0, user-defined bridges and docker_gwbridge.

A bridge network is a Linux bridge in the Docker host's namespace holding the gateway address,
and a veth pair per container: the host end a port of the bridge, the other end the
container's ``eth0``. Docker sets one up in these steps (libnetwork's ``drivers/bridge``
keeps one file per step), and so does :meth:`BridgeDriver.build`:

1. ``ip link add docker0 type bridge`` (user networks: ``br-`` + 12 hex digits of the ID);
2. the gateway address on the bridge, the bridge up;
3. ``route_localnet`` on the bridge, so that ``localhost:8080`` can be translated to a
   container (Docker does this when the kernel alone handles published ports);
4. the bridge's chains in the host's ``ip docker-bridges`` table (see
   :mod:`netlab.model.firewall`): masquerade out, published ports in, and the final drop
   that isolates one bridge network from another. ``--internal`` networks get no
   masquerade and drop whatever crosses their edge; ``enable_icc=false`` (docker_gwbridge)
   drops what goes from one container to another on the same bridge.

Containers on user-defined bridges find each other by name through Docker's embedded DNS
(:mod:`netlab.model.embedded_dns`).
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, ClassVar

from netlab.errors import Conflict, InvalidArgument
from netlab.kernel import batch, rtnl
from netlab.model import firewall, ids, ipam, topology
from netlab.model.drivers.base import (
    CreateRequest,
    Driver,
    addressed_endpoint,
    ipam_fields,
    pick_subnet,
)
from netlab.model.records import NO_CONFIG, ContainerRec, Endpoint, EndpointConfig, NetworkRec
from netlab.model.timefmt import now_rfc3339

if TYPE_CHECKING:
    from netlab.model.host import Host

ICC = "com.docker.network.bridge.enable_icc"
MASQUERADE = "com.docker.network.bridge.enable_ip_masquerade"
BRIDGE_NAME = "com.docker.network.bridge.name"
MTU = "com.docker.network.driver.mtu"
HOST_BINDING = "com.docker.network.bridge.host_binding_ipv4"
_BOOLS = (ICC, MASQUERADE, "com.docker.network.bridge.inhibit_ipv4")


def check_options(options: Mapping[str, str]) -> int:
    """The bridge driver's ``-o`` options as Docker 28 parses them (unknown ones are kept
    and ignored, as Docker does); returns the MTU (0: the default). Docker's words for a
    value it cannot parse (moby v28.5.2 libnetwork/drivers/bridge/bridge_linux.go,
    fromLabels and parseErr; Go's strconv errors)."""

    def bad(label: str, value: str, why: str) -> InvalidArgument:
        return InvalidArgument(f"failed to parse {label} value: {value} ({why})")

    for label in _BOOLS:
        value = options.get(label)
        if value is not None and value not in _GO_TRUE | _GO_FALSE:
            raise bad(label, value, f'strconv.ParseBool: parsing "{value}": invalid syntax')
    mtu = 0
    if MTU in options:
        value = options[MTU]
        try:
            mtu = int(value, 10)
        except ValueError:
            raise bad(MTU, value, f'strconv.Atoi: parsing "{value}": invalid syntax') from None
        if mtu < 0:
            raise InvalidArgument(f"invalid MTU number: {mtu}")
        if mtu and not 68 <= mtu <= 65535:  # (what the kernel takes for a bridge)
            raise InvalidArgument(
                f"invalid MTU {mtu}: netlab's bridges take 68 to 65535 (Linux's limits)"
            )
    if HOST_BINDING in options:
        try:
            ipaddress.ip_address(options[HOST_BINDING])
        except ValueError:
            raise bad(HOST_BINDING, options[HOST_BINDING], "nil ip") from None
    return mtu


_GO_TRUE = {"1", "t", "T", "TRUE", "true", "True"}  # (Go's strconv.ParseBool)
_GO_FALSE = {"0", "f", "F", "FALSE", "false", "False"}


def _flag(net: NetworkRec, label: str) -> bool:
    """A boolean option of the network (default true), read as Go reads it."""
    return net.options.get(label, "true") in _GO_TRUE


def record(
    nid: str,
    name: str,
    bridge: str,
    subnet: ipaddress.IPv4Network,
    gateway: ipaddress.IPv4Address,
    *,
    options: dict[str, str] | None = None,
    internal: bool = False,
    user_defined: bool = False,
) -> NetworkRec:
    """A bridge network's record, as ``docker network inspect`` will show it."""
    return NetworkRec(
        name,
        nid,
        now_rfc3339(),
        "bridge",
        internal=internal,
        options=dict(options or {}),
        subnet=str(subnet),
        gateway=str(gateway),
        bridge=bridge,
        user_defined=user_defined,
    )


def icc(net: NetworkRec) -> bool:
    """Inter-container communication: on unless the network's options turn it off."""
    return _flag(net, ICC)


def masquerade(net: NetworkRec) -> bool:
    """Masquerade on the way out: on unless ``enable_ip_masquerade=false``."""
    return _flag(net, MASQUERADE)


class BridgeDriver(Driver):
    """Linux bridges in the Docker host (see the module's docstring)."""

    name: ClassVar[str] = "bridge"
    has_endpoints: ClassVar[bool] = True
    publishes: ClassVar[bool] = True

    # -- networks ----------------------------------------------------------------------------

    def build(self, host: Host, net: NetworkRec) -> None:
        """The bridge itself: device, gateway address, up, and without docker-proxy
        route_localnet (kernel thread)."""
        bridge = net.bridge
        prefixlen = ipaddress.IPv4Network(net.subnet).prefixlen
        rtnl.add_bridge(
            host.ns,
            bridge,
            mac=ids.local_mac(host.lab.name, *_mac_seed(host, net)),
            mtu=net.mtu,
        )
        rtnl.add_addr(host.ns, bridge, f"{net.gateway}/{prefixlen}")
        rtnl.set_link(host.ns, bridge, up=True)
        if not host.lab.store.lab_record.userland_proxy:
            bridge_sysctls(host.ns, bridge)

    def create(self, host: Host, req: CreateRequest, nid: str) -> NetworkRec:
        mtu = check_options(req.options)
        nets = host.lab.store.lab_record.hosts[host.name].networks.values()
        bridge = req.options.get(BRIDGE_NAME) or "br-" + nid[:12]
        for n in nets:
            if n.bridge == bridge:  # (moby v28.5.2 bridge_linux.go checkConflict, Conflicts)
                raise Conflict(
                    f"cannot create network {nid} ({bridge}): conflicts with network {n.id} "
                    f"({n.bridge}): networks have same bridge name"
                )
        in_use = [ipaddress.IPv4Network(n.subnet) for n in nets if n.subnet]
        in_use.append(ipaddress.IPv4Network(topology.LAN_SUBNET))
        subnet, gw = pick_subnet(req, in_use)
        net = dataclasses.replace(
            record(
                nid,
                req.name,
                bridge,
                subnet,
                gw,
                options=req.options,
                internal=req.internal,
                user_defined=True,
            ),
            mtu=mtu or 1500,
            **ipam_fields(req, subnet),  # type: ignore[arg-type]
        )
        try:
            batch(lambda: self.build(host, net))
        except BaseException:
            rtnl.delete_link(host.ns, bridge)  # (a half-built bridge would be reused later)
            raise
        return net

    def remove(self, host: Host, net: NetworkRec) -> None:
        rtnl.delete_link(host.ns, net.bridge)

    # -- endpoints ---------------------------------------------------------------------------

    def endpoint(
        self,
        host: Host,
        net: NetworkRec,
        seq: int,
        ifname: str,
        config: EndpointConfig = NO_CONFIG,
    ) -> Endpoint:
        ep = addressed_endpoint(host, net, seq, ifname, config=config)
        return dataclasses.replace(
            ep,
            bridge=net.bridge,
            veth=ids.veth_name(ep.endpoint_id),
            default_route=net.default_route,  # docker_gwbridge carries a task's way out
        )

    def bridge_ns(self, host: Host, ep: Endpoint) -> str:
        """Where the endpoint's bridge lives: the Docker host (an overlay: its sandbox)."""
        return host.ns

    def join(
        self, host: Host, container: ContainerRec, ep: Endpoint, *, default_route: bool
    ) -> None:
        """A veth pair born as a bridge port, the address, the container's end up (and the
        default route)."""
        cns = container.netns
        rtnl.add_veth(
            self.bridge_ns(host, ep),
            ep.veth,
            peer_ns=cns,
            peer_name=ep.ifname,
            mac=ids.local_mac(host.lab.name, ep.endpoint_id),
            peer_mac=ep.mac,
            mtu=int(ep.mtu),
            master=ep.bridge,
            up=True,
            numbered=True,
        )
        rtnl.add_addr(cns, ep.ifname, f"{ep.ip}/{ep.prefixlen}")
        rtnl.set_link(cns, ep.ifname, up=True)
        if default_route and ep.gateway:
            rtnl.add_route(cns, gateway=ep.gateway)

    def leave(self, host: Host, container: ContainerRec, ep: Endpoint) -> None:
        rtnl.delete_link(self.bridge_ns(host, ep), ep.veth)

    def host_links(self, host: Host, ep: Endpoint) -> list[tuple[str, str]]:
        return [(self.bridge_ns(host, ep), ep.veth)] if ep.veth else []

    # -- the rest ----------------------------------------------------------------------------

    def firewall(
        self, net: NetworkRec, published: list[firewall.Published]
    ) -> firewall.Bridge | None:
        return firewall.Bridge(
            net.bridge,
            net.subnet,
            () if net.internal else tuple(published),
            icc=icc(net),
            internal=net.internal,
            masquerade=masquerade(net),
        )


def _mac_seed(host: Host, net: NetworkRec) -> tuple[str, ...]:
    """What a bridge's MAC derives from (kept as it always was, so outputs stay the same)."""
    if net.bridge == "docker0":
        return (host.name, "docker0")
    return (net.id,)


def bridge_sysctls(ns: str, bridge: str) -> None:
    """What Docker sets on a bridge when the kernel handles published ports alone
    (``"userland-proxy": false``).

    ``route_localnet`` lets ``localhost:8080`` be translated to a container (packets from
    127.0.0.1 may then leave through the bridge, masqueraded on the way).
    """
    rtnl.sysctl(ns, f"net.ipv4.conf.{bridge}.route_localnet", "1")


def default_bridge(host: Host, nid: str) -> NetworkRec:
    """docker0, the network called ``bridge`` that dockerd makes at start (kernel included)."""
    net = record(
        nid,
        "bridge",
        "docker0",
        ipaddress.IPv4Network(topology.DOCKER0_SUBNET),
        ipaddress.IPv4Address(topology.DOCKER0_GATEWAY),
        options={
            "com.docker.network.bridge.default_bridge": "true",
            ICC: "true",
            MASQUERADE: "true",
            "com.docker.network.bridge.host_binding_ipv4": "0.0.0.0",
            BRIDGE_NAME: "docker0",
            "com.docker.network.driver.mtu": "1500",
        },
    )
    BridgeDriver().build(host, net)
    if os.path.exists("/proc/sys/net/bridge/bridge-nf-call-iptables"):
        # Bridged packets go through the ip hooks too (conntrack sees container-to-container
        # traffic, so a container reaching another through the host's published port works,
        # and enable_icc=false can drop traffic between two ports of one bridge).
        rtnl.sysctl(host.ns, "net.bridge.bridge-nf-call-iptables", "1")
    return net


def gateway_bridge(host: Host, nid: str, in_use: list[ipaddress.IPv4Network]) -> NetworkRec:
    """docker_gwbridge: the bridge that gives swarm tasks their way out (their eth1).

    Docker creates it with inter-container communication off: two tasks on one node cannot
    talk over it, only over their overlay.
    """
    subnet = ipam.next_pool(in_use)
    net = record(
        nid,
        "docker_gwbridge",
        "docker_gwbridge",
        subnet,
        subnet.network_address + 1,
        options={ICC: "false", MASQUERADE: "true", BRIDGE_NAME: "docker_gwbridge"},
    )
    net = dataclasses.replace(net, default_route=True)
    batch(lambda: BridgeDriver().build(host, net))
    return net
