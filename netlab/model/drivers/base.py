"""The interface every network driver implements, and the helpers they share.

See :mod:`netlab.model.drivers` for the drivers themselves and how to add one.
"""

from __future__ import annotations

import dataclasses
import ipaddress
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

from netlab.errors import Conflict, InvalidArgument
from netlab.model import ids, ipam
from netlab.model.records import NO_CONFIG, ContainerRec, Endpoint, EndpointConfig, NetworkRec

if TYPE_CHECKING:
    from netlab.model import firewall
    from netlab.model.host import Host


@dataclass(frozen=True)
class CreateRequest:
    """``docker network create`` as parsed: everything a driver needs to make a network."""

    name: str
    subnet: str | None = None
    gateway: str | None = None
    internal: bool = False
    options: dict[str, str] = field(default_factory=dict)
    ip_range: str | None = None
    aux_addresses: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)


class Driver:
    """The interface every network driver implements (defaults: a driver without endpoints)."""

    name: ClassVar[str] = ""
    scope: ClassVar[str] = "local"
    #: True when containers on it get an interface, an address and an endpoint ID.
    has_endpoints: ClassVar[bool] = False
    #: True when ``-p`` can publish ports of a container on it (the bridge driver).
    publishes: ClassVar[bool] = False
    #: True when a container on it has a network namespace of its own.
    own_namespace: ClassVar[bool] = True

    def create(self, host: Host, req: CreateRequest, nid: str) -> NetworkRec:
        """Make the network's kernel objects and return its record (under the lab's lock)."""
        raise InvalidArgument(f'only one instance of "{self.name}" network is allowed')

    def start(self, host: Host, net: NetworkRec) -> NetworkRec:
        """After the network is in the host's record: what serves it (a name server)."""
        return net

    def remove(self, host: Host, net: NetworkRec) -> None:
        """Remove what :meth:`create` made."""

    def endpoint(
        self,
        host: Host,
        net: NetworkRec,
        seq: int,
        ifname: str,
        config: EndpointConfig = NO_CONFIG,
    ) -> Endpoint:
        """The endpoint a container gets on ``net`` (no kernel call), with what the user
        asked for (``config``: ``--ip``, ``--mac-address``, ``--network-alias``)."""
        return Endpoint(net.id, config=config)

    def join(
        self, host: Host, container: ContainerRec, ep: Endpoint, *, default_route: bool
    ) -> None:
        """Build the endpoint's interface in the container (on the kernel thread)."""

    def leave(self, host: Host, container: ContainerRec, ep: Endpoint) -> None:
        """Remove the endpoint's interface (``docker network disconnect``)."""

    def host_links(self, host: Host, ep: Endpoint) -> list[tuple[str, str]]:
        """``(namespace, link)`` pairs outside the container that go with the endpoint: what
        removal deletes (or waits for) besides the container's namespace."""
        return []

    def firewall(
        self, net: NetworkRec, published: list[firewall.Published]
    ) -> firewall.Bridge | None:
        """The network's share of the Docker host's ``ip docker-bridges`` table."""
        return None

    def changed(self, host: Host, net: NetworkRec) -> None:
        """Endpoints of ``net`` came or went: update what depends on them."""

    def inspect(self, host: Host, net: NetworkRec) -> dict[str, object]:
        """Fields that ``docker network inspect`` adds for this driver (``Peers``)."""
        return {}


# --- helpers shared by the drivers that hand out addresses -------------------------------------


def pick_subnet(
    req: CreateRequest, in_use: list[ipaddress.IPv4Network]
) -> tuple[ipaddress.IPv4Network, ipaddress.IPv4Address]:
    """The subnet and gateway of a new network: ``--subnet``/``--gateway`` or the next pool.

    Docker's errors for a malformed or overlapping subnet and a gateway outside it. Without
    ``--gateway`` the gateway is the first address Docker's allocator hands out: the
    subnet's first host address, or with ``--ip-range`` the range's first address.
    """
    try:
        ipam.check_config(req.subnet, req.ip_range, req.gateway, req.aux_addresses)
    except ValueError as exc:
        raise InvalidArgument(str(exc)) from None
    if req.subnet is not None:
        net = ipam.parse_subnet(req.subnet, req.ip_range)
        if any(net.overlaps(u) for u in in_use):
            raise Conflict(
                "invalid pool request: Pool overlaps with other one on this address space"
            )
    else:
        net = ipam.next_pool(in_use)
    if req.gateway is None:
        return net, ipam.lowest_free(net, (), _range(net, req.ip_range))
    try:
        gw = ipaddress.IPv4Address(req.gateway)
    except ValueError:
        raise InvalidArgument(f"invalid gateway address {req.gateway!r}") from None
    if gw in (net.network_address, net.broadcast_address):
        raise InvalidArgument(f"no matching subnet for gateway {req.gateway}")
    return net, gw


def _range(net: ipaddress.IPv4Network, text: str | None) -> ipaddress.IPv4Network | None:
    """``--ip-range`` as a network (None when absent or the whole subnet)."""
    if not text:
        return None
    r = ipaddress.IPv4Network(text, strict=False)
    return None if r == net else r


def ipam_fields(req: CreateRequest, net: ipaddress.IPv4Network) -> dict[str, object]:
    """The IPAM settings a network's record keeps from the request."""
    r = _range(net, req.ip_range)
    return {
        "ip_range": str(r) if r is not None else (req.ip_range or ""),
        "aux_addresses": dict(req.aux_addresses),
        "static_subnet": req.subnet is not None,
        "labels": dict(req.labels),
    }


def free_address(host: Host, net: NetworkRec, *, cluster_wide: bool = False) -> str:
    """The lowest free address of ``net`` (per Docker host), from its ``--ip-range`` if it has
    one; auxiliary addresses in that range are never handed out. Across the swarm (an
    overlay), serially, as swarm's allocator asks (moby v28.5.2 libnetwork/cnmallocator/
    networkallocator.go sets ``AllocSerialPrefix``): the next free one after the last, so
    that a task started elsewhere right after another ended does not take its address (whose
    MAC the overlay's bridges still place where it was)."""
    subnet = ipaddress.IPv4Network(net.subnet)
    within = _range(subnet, net.ip_range)
    pool = within or subnet
    taken = taken_addresses(host, net, cluster_wide=cluster_wide)
    taken |= {a for a in net.aux_addresses.values() if ipaddress.IPv4Address(a) in pool}
    sw = host.lab.store.lab_record.swarm
    ov = sw.networks.get(net.id) if cluster_wide and sw is not None else None
    try:
        ip = str(ipam.lowest_free(subnet, taken, within, after=ov.last_ip if ov else ""))
    except ipam.IPAMError:  # (moby v28.5.2 libnetwork/endpoint.go assignAddressVersion)
        raise ipam.IPAMError(
            f"no available IPv4 addresses on this network's address pools: {net.name} ({net.id})"
        ) from None
    if sw is not None and ov is not None:
        nets = {**sw.networks, net.id: dataclasses.replace(ov, last_ip=ip)}
        host.lab.store.put_swarm(dataclasses.replace(sw, networks=nets))
    return ip


def taken_addresses(host: Host, net: NetworkRec, *, cluster_wide: bool = False) -> set[str]:
    """The addresses of ``net`` in use: its gateway and its containers' (created ones too)."""
    taken = {net.gateway} - {""}
    sw = host.lab.store.lab_record.swarm
    if cluster_wide and sw is not None:  # (an overlay's VIPs and load balancers have some too)
        taken |= {
            v.split("/")[0] for s in sw.services.values() for n, v in s.vips.items() if n == net.id
        }
        taken |= {b.lb_ip for b in sw.sandboxes.values() if b.net == net.id and b.lb_ip}
    if sw is not None and net.name == "docker_gwbridge":  # (the node's ingress-sbox is on it)
        taken |= {b.gw_ip for b in sw.sandboxes.values() if b.node == host.name and b.gw_ip}
    for r in host.lab.store.containers().values():
        if (cluster_wide or r.host == host.name) and r.state in ("running", "created"):
            for other in r.networks.values():
                if other.network_id == net.id and other.ip:
                    taken.add(other.ip)
    return taken


def addressed_endpoint(
    host: Host,
    net: NetworkRec,
    seq: int,
    ifname: str,
    *,
    cluster_wide: bool = False,
    config: EndpointConfig = NO_CONFIG,
) -> Endpoint:
    """An endpoint with an address: the one asked for (``--ip``) or the lowest free one, the
    MAC asked for (``--mac-address``) or Docker's 02:42 one made from the address, its IDs."""
    if config.ip:
        if config.ip in taken_addresses(host, net, cluster_wide=cluster_wide):
            # (moby v28.5.2 libnetwork/ipamapi/contract.go ErrIPAlreadyAllocated)
            raise Conflict("Address already in use")
        ip = config.ip
    else:
        ip = free_address(host, net, cluster_wide=cluster_wide)
    return Endpoint(
        net.id,
        endpoint_id=ids.object_id(host.lab.name, "endpoint", seq),
        gateway="" if net.internal else net.gateway,
        ip=ip,
        prefixlen=ipaddress.IPv4Network(net.subnet).prefixlen,
        mac=config.mac.lower() if config.mac else ids.mac_from_ip(ip),
        ifname=ifname,
        mtu=net.mtu,
        config=config,
    )
