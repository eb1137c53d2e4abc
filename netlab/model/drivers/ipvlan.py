"""The ipvlan driver: like macvlan, but every child shares its parent's MAC.

``docker network create -d ipvlan --subnet 192.168.56.0/24 --gateway 192.168.56.1
-o parent=eth0 [-o ipvlan_mode=l2|l3] NAME``. In ``l2`` mode (the default) the children
answer ARP for their own addresses with the parent's MAC: switches that allow one MAC per
port are happy. In ``l3`` mode the parent routes for its children: no ARP and no broadcast
leave the host, and the containers' default route points at their interface, not at a
gateway.

Not every kernel has it (``CONFIG_IPVLAN``): where it is missing, creating a network fails
at once with one line, and ``netlab doctor`` lists ipvlan as unavailable.
"""

from __future__ import annotations

import dataclasses
import errno
import os
from typing import TYPE_CHECKING, ClassVar

from netlab.errors import InvalidArgument
from netlab.kernel import rtnl
from netlab.model.drivers.macvlan import MacvlanDriver
from netlab.model.records import NO_CONFIG, ContainerRec, Endpoint, EndpointConfig, NetworkRec

if TYPE_CHECKING:
    from netlab.model.host import Host

NO_KERNEL_SUPPORT = (
    "this kernel has no ipvlan support (CONFIG_IPVLAN): creating an ipvlan link fails with "
    "'{reason}'; use -d macvlan instead, or a kernel built with ipvlan"
)


class IpvlanDriver(MacvlanDriver):
    """Children that share the parent's MAC (see the module's docstring)."""

    name: ClassVar[str] = "ipvlan"
    mode_option: ClassVar[str] = "ipvlan_mode"
    modes: ClassVar[tuple[str, ...]] = ("l2", "l3")

    def bad_mode(self, mode: str) -> str:
        return (
            f"requested ipvlan mode '{mode}' is not valid, 'l2' mode is the ipvlan driver default"
        )

    def check_kernel(self, host: Host) -> None:
        """A real probe: an ipvlan child of the host's ``eth0``, born in the host and removed
        again. Its error, if any, is the kernel's own."""
        reason = probe(host.ns, "eth0")
        if reason:
            raise InvalidArgument(NO_KERNEL_SUPPORT.format(reason=reason))

    def endpoint(
        self,
        host: Host,
        net: NetworkRec,
        seq: int,
        ifname: str,
        config: EndpointConfig = NO_CONFIG,
    ) -> Endpoint:
        ep = super().endpoint(host, net, seq, ifname, config)
        # The MAC is the parent's, which Docker does not report; in l3 mode the default route
        # is "dev eth0" (the parent routes), not a gateway.
        return dataclasses.replace(ep, mac="", gateway="" if net.mode == "l3" else ep.gateway)

    def join(
        self, host: Host, container: ContainerRec, ep: Endpoint, *, default_route: bool
    ) -> None:
        super().join(host, container, ep, default_route=default_route)
        if default_route and ep.mode == "l3":
            rtnl.add_route(container.netns, dev=ep.ifname)


def probe(ns: str, parent: str) -> str:
    """'' when the kernel makes an ipvlan child of ``parent`` in ``ns``, else its reason."""
    name = f"nlprobe{os.getpid() % 100000}"
    try:
        rtnl.add_sublink(ns, name, parent=parent, kind="ipvlan", mode="l2", peer_ns=ns)
    except rtnl.KernelError as exc:
        if exc.errno == errno.EOPNOTSUPP:
            return "Operation not supported (the kernel does not know the link kind)"
        return os.strerror(exc.errno)
    rtnl.delete_link(ns, name)
    return ""
