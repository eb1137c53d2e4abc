"""The macvlan driver: containers as machines of the LAN, each with a MAC of its own.

``docker network create -d macvlan --subnet 192.168.56.0/24 --gateway 192.168.56.1
-o parent=eth0 lan`` makes no kernel object at all: the parent (the host's ``eth0``) is
already there. Each container on the network gets a *macvlan child* of the parent as its
``eth0``, with an address of the LAN and Docker's ``02:42`` MAC, so the LAN's switch sees
one more machine, and the LAN's other machines reach it directly: no bridge, no NAT, no
published ports. Its default route goes to the ``--gateway``, the LAN's router.

The classic lesson: **the host itself cannot reach its macvlan containers** over ``eth0``.
A macvlan child in ``bridge`` mode talks to its siblings and to the wire, but the kernel never
hands frames between a parent and its children. (Docker's docs suggest a macvlan interface of
the host's own as the way around it.)
"""

from __future__ import annotations

import dataclasses
import ipaddress
from typing import TYPE_CHECKING, ClassVar

from netlab.errors import InvalidArgument
from netlab.kernel import rtnl
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


class MacvlanDriver(Driver):
    """Children of a parent interface of the Docker host (see the module's docstring)."""

    name: ClassVar[str] = "macvlan"
    has_endpoints: ClassVar[bool] = True
    #: ``-o MODE_OPTION=...`` and the modes the driver accepts, its default first.
    mode_option: ClassVar[str] = "macvlan_mode"
    modes: ClassVar[tuple[str, ...]] = ("bridge", "private", "vepa", "passthru")

    def check_kernel(self, host: Host) -> None:
        """Refuse early where the kernel lacks the link kind (macvlan: in every kernel)."""

    def bad_mode(self, mode: str) -> str:
        return (
            f"requested macvlan mode '{mode}' is not valid, 'bridge' mode is the macvlan "
            "driver default"
        )

    def create(self, host: Host, req: CreateRequest, nid: str) -> NetworkRec:
        mode = req.options.get(self.mode_option, self.modes[0])
        if mode not in self.modes:
            raise InvalidArgument(self.bad_mode(mode))
        parent = req.options.get("parent", "")
        if parent == "lo":
            raise InvalidArgument(f"loopback interface is not a valid {self.name} parent link")
        if not parent:
            raise InvalidArgument(
                f"netlab needs -o parent=IFACE for a {self.name} network (Docker would make a "
                "dummy parent for an isolated network; netlab does not): on a lab's Docker "
                "host, use -o parent=eth0"
            )
        if parent not in rtnl.link_indexes(host.ns):
            raise InvalidArgument(
                f"invalid subinterface vlan name {parent}, example formatting is eth0.10"
                " (netlab: the Docker host has no interface of that name; its LAN is eth0)"
            )
        self.check_kernel(host)
        nets = host.lab.store.lab_record.hosts[host.name].networks.values()
        in_use = [ipaddress.IPv4Network(n.subnet) for n in nets if n.subnet]
        subnet, gw = pick_subnet(req, in_use)
        return NetworkRec(
            req.name,
            nid,
            now_rfc3339(),
            self.name,
            internal=req.internal,
            options=dict(req.options),
            subnet=str(subnet),
            gateway=str(gw),
            parent=parent,
            mode=mode,
            user_defined=True,
            **ipam_fields(req, subnet),  # type: ignore[arg-type]
        )

    def endpoint(
        self,
        host: Host,
        net: NetworkRec,
        seq: int,
        ifname: str,
        config: EndpointConfig = NO_CONFIG,
    ) -> Endpoint:
        ep = addressed_endpoint(host, net, seq, ifname, config=config)
        return dataclasses.replace(ep, parent=net.parent, mode=net.mode)

    def join(
        self, host: Host, container: ContainerRec, ep: Endpoint, *, default_route: bool
    ) -> None:
        """The child is born in the container as its ``ethN``, then addressed like a veth."""
        cns = container.netns
        rtnl.add_sublink(
            host.ns,
            ep.ifname,
            parent=ep.parent,
            kind=self.name,
            mode=ep.mode,
            peer_ns=cns,
            mac=ep.mac or None,
        )
        rtnl.add_addr(cns, ep.ifname, f"{ep.ip}/{ep.prefixlen}")
        rtnl.set_link(cns, ep.ifname, up=True)
        if default_route and ep.gateway:
            rtnl.add_route(cns, gateway=ep.gateway)

    def leave(self, host: Host, container: ContainerRec, ep: Endpoint) -> None:
        rtnl.delete_link(container.netns, ep.ifname)
