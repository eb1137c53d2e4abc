"""Network operations of a Docker host: create, remove, connect, disconnect, the firewall.

``docker network create mynet`` on a real host:

1. takes the first free address pool (172.18.0.0/16, 172.19.0.0/16, ...; see
   :mod:`netlab.model.ipam`) or the ``--subnet`` given, and its first address as gateway;
2. asks the network's driver (:mod:`netlab.model.drivers`) to build it: for ``bridge``, the
   bridge ``br-<first 12 hex digits of the network ID>`` with the gateway address;
3. adds the network to the firewall: its own chains and verdict-map entries in
   ``ip docker-bridges``; the default drop at the end of each bridge's ``filter-forward-in``
   chain is what isolates different bridge networks from each other;
4. serves names: containers on a user-defined network find each other by name
   (:mod:`netlab.model.resolver`).

This module does what is common to every driver (names, IDs, the lock, roll-back on failure,
the one firewall table of a host); what differs per driver is in the driver's module.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from netlab.errors import Conflict, InvalidArgument
from netlab.kernel import batch, nft
from netlab.model import drivers, firewall, ids, topology
from netlab.model.drivers import CreateRequest
from netlab.model.state import Record

if TYPE_CHECKING:
    from netlab.model.container import Container
    from netlab.model.host import Host, Network


def firewall_inputs(host: Host) -> list[firewall.Bridge]:
    """Every network of the host that has a share of its firewall, docker0 first, with the
    ports published on it."""
    from netlab.model.ports import PortMapping

    nets = host.lab.store.lab_record["Hosts"][host.name]["Networks"]
    published: dict[str, list[firewall.Published]] = {}
    for rec in host.lab.store.containers().values():
        if rec["Host"] != host.name or rec["State"] != "running" or not rec.get("Ports"):
            continue
        for ep in rec["Networks"].values():
            if ep.get("IPAddress"):
                published.setdefault(ep["NetworkID"], []).extend(
                    firewall.Published(ep["IPAddress"], PortMapping(**m)) for m in rec["Ports"]
                )
                break  # Docker publishes on the container's first network
    out = []
    for nid, net in nets.items():
        share = drivers.of(net).firewall(net, published.get(nid, []))
        if share is not None:
            out.append(share)
    return out


def apply_firewall(host: Host) -> None:
    """Load the host's whole ``ip docker-bridges`` table, rebuilt from its networks.

    The load is atomic (one ``nft -f`` transaction), so no packet ever sees half a ruleset;
    rule counters start again from zero.
    """
    nft.load(host.ns, firewall.ruleset(firewall_inputs(host)))


def create_network(
    host: Host,
    name: str,
    *,
    driver: str = "bridge",
    subnet: str | None = None,
    gateway: str | None = None,
    internal: bool = False,
    options: dict[str, str] | None = None,
) -> Network:
    """``docker network create [-d DRIVER] [--subnet S] [--gateway G] [--internal] [-o K=V]
    NAME``: checked first, then built; on any failure nothing stays."""
    topology.check_network_name(name)
    drv = drivers.get(driver)
    req = CreateRequest(name, subnet, gateway, internal, dict(options or {}))
    store = host.lab.store
    with store.locked():
        hnets = store.lab_record["Hosts"][host.name]["Networks"]
        if any(n["Name"] == name for n in hnets.values()):
            raise Conflict(f"network with name {name} already exists")
        seq = store.peek_counter(f"{host.name}/network") + 1
        nid = ids.object_id(host.lab.name, f"{host.name}/network", seq)
        rec = drv.create(host, req, nid)
        if rec["Id"] == nid:
            store.next_counter(f"{host.name}/network")
        try:
            hnets[rec["Id"]] = rec
            if drv.firewall(rec, []) is not None:
                apply_firewall(host)
            drv.start(host, rec)
        except BaseException:
            hnets.pop(rec["Id"], None)
            with contextlib.suppress(Exception):
                drv.remove(host, rec)
                apply_firewall(host)
            raise
        store.save_lab()
    return host.network(rec["Id"])


def remove_network(host: Host, net: Network) -> None:
    """``docker network rm NAME``: refused while containers are attached, as in Docker."""
    store = host.lab.store
    with store.locked():
        rec = store.lab_record["Hosts"][host.name]["Networks"].get(net.id)
        if rec is None:
            return
        if rec["Scope"] == "local":  # (a swarm network's manager checks its services)
            if not rec.get("UserDefined"):
                raise Conflict(f"{net.name} is a pre-defined network and cannot be removed")
            if any(net.name in c.networks for c in host.containers()):
                raise Conflict(
                    f"error while removing network: network {net.name} id {net.id} has "
                    "active endpoints"
                )
        drv = drivers.of(rec)
        drv.remove(host, rec)
        store.lab_record["Hosts"][host.name]["Networks"].pop(net.id, None)
        if drv.firewall(rec, []) is not None:
            apply_firewall(host)
        store.save_lab()


def endpoints_changed(host: Host, net_names: list[str]) -> None:
    """Tell the drivers of the named networks that endpoints came or went (names, peers)."""
    for n in list(host.lab.store.lab_record["Hosts"][host.name]["Networks"].values()):
        if n["Name"] in net_names:
            drivers.of(n).changed(host, n)


# --- connect and disconnect -----------------------------------------------------------------


def connect(host: Host, net: Network, container: Container) -> None:
    """``docker network connect NET CONTAINER``: a new interface (eth1, ...) on the network."""
    drv = drivers.of(net._rec)
    if not drv.has_endpoints or drv.scope != "local":
        raise InvalidArgument(
            "container cannot be disconnected from host network or connected to host network"
            if not drv.own_namespace
            else f"cannot connect to network {net.name} of driver {net.driver}"
        )
    store = host.lab.store
    with store.locked():
        rec = container.record
        if net.name in rec["Networks"] and rec["Networks"][net.name].get("IPAddress"):
            raise Conflict(f"endpoint with name {rec['Name']} already exists in network {net.name}")
        if not rec.get("OwnNetns") or rec["State"] != "running":
            raise InvalidArgument(
                f"container {rec['Id']} is not running"
                if rec["State"] != "running"
                else "container sharing network namespace with another "
                "container or host cannot be connected to any other network"
            )
        used = {ep.get("Ifname") for ep in rec["Networks"].values()}
        ifname = next(f"eth{i}" for i in range(64) if f"eth{i}" not in used)
        ep = drv.endpoint(host, net._rec, store.next_counter("endpoint"), ifname)
        rec["Networks"][net.name] = ep
        try:
            batch(lambda: drv.join(host, rec, ep, default_route=False))
        except BaseException:
            rec["Networks"].pop(net.name, None)
            with contextlib.suppress(Exception):
                drv.leave(host, rec, ep)
            raise
        store.save_container(rec)
        drv.changed(host, net._rec)


def disconnect(host: Host, net: Network, container: Container) -> None:
    """``docker network disconnect NET CONTAINER``: remove that interface again."""
    store = host.lab.store
    with store.locked():
        rec = container.record
        ep: Record | None = rec["Networks"].get(net.name)
        if ep is None:
            raise InvalidArgument(f"container {rec['Id']} is not connected to network {net.name}")
        drv = drivers.of(net._rec)
        if ep.get("EndpointID") and rec["State"] == "running":
            drv.leave(host, rec, ep)
        del rec["Networks"][net.name]
        store.save_container(rec)
        drv.changed(host, net._rec)
