"""Network drivers: one module per driver, behind one small interface.

Docker's libnetwork keeps each network driver in a package of its own (``drivers/bridge``,
``drivers/overlay``, ``drivers/macvlan``, ...) behind one driver API; netlab does the same:

=============  ==========================================================================
``bridge``     docker0 and user-defined bridges: a Linux bridge in the Docker host, a veth
               per container, NAT and published ports, a name server (:mod:`.bridge`)
``overlay``    swarm overlays: a namespace per network and node with ``br0`` and ``vxlan0``,
               and a peer table programmed into vxlan0 (:mod:`.overlay`, :mod:`.peerdb`)
``macvlan``    containers as machines of the LAN: a macvlan child of the host's ``eth0``
               (:mod:`.macvlan`)
``ipvlan``     the same with the parent's MAC, where the kernel has ipvlan (:mod:`.ipvlan`)
``host``       no namespace of its own: the container shares the host's (:mod:`.host`)
``null``       a namespace with ``lo`` only (:mod:`.null`)
=============  ==========================================================================

A driver answers five questions, each a method of :class:`~.base.Driver` (in :mod:`.base`,
with the helpers the drivers share):

* **create / remove** a network: the kernel objects a network owns (a bridge, a parent check);
* **endpoint**: what a container gets on the network (address, MAC, interface name), decided
  before any kernel call, so a bad request fails before anything is built;
* **join / leave**: the kernel objects of one endpoint (a veth born as a bridge port, a
  macvlan child born in the container's namespace), run on the kernel thread;
* **firewall**: its share of the Docker host's nftables table (:mod:`netlab.model.firewall`);
* **changed**: what must follow when endpoints come or go (a bridge's name server, an
  overlay's peer table).

Adding a driver: write one module here with a :class:`~.base.Driver` subclass and add it to
:data:`DRIVERS` below. Nothing else in netlab compares driver names.
"""

from __future__ import annotations

from netlab.errors import InvalidArgument
from netlab.model.drivers import bridge, host, ipvlan, macvlan, null, overlay
from netlab.model.drivers.base import CreateRequest, Driver
from netlab.model.records import NetworkRec

#: Every driver, by the name ``docker network create -d NAME`` takes.
DRIVERS: dict[str, Driver] = {
    d.name: d
    for d in (
        bridge.BridgeDriver(),
        overlay.OverlayDriver(),
        macvlan.MacvlanDriver(),
        ipvlan.IpvlanDriver(),
        host.HostDriver(),
        null.NullDriver(),
    )
}


def get(name: str) -> Driver:
    """The driver called ``name``, or Docker's error for one it does not know."""
    try:
        return DRIVERS[name]
    except KeyError:
        raise InvalidArgument(f'plugin "{name}" not found') from None


def of(net: NetworkRec) -> Driver:
    """The driver of a network record."""
    return get(net.driver)


__all__ = ["DRIVERS", "CreateRequest", "Driver", "get", "of"]
