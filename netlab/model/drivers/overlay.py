"""The overlay driver: a swarm network that spans nodes over VXLAN.

Per overlay network, each node that runs a task of it gets a namespace of its own (Docker's
``1-<network id>``; here ``nl-LAB-NODE-1-<10 hex>``, the *sandbox*) holding:

* a bridge ``br0`` with the network's gateway address (MTU 1450);
* a VXLAN device ``vxlan0`` (UDP 4789, VNI from 4097; ``ingress`` owns 4096), a port of br0.
  It is created in the node's namespace, so that its UDP socket speaks over the node's
  ``eth0``, then moved into the sandbox, as Docker does.

A task container's ``eth0`` is a veth whose other end is a port of br0 (so this driver is the
bridge driver with the bridge in the sandbox), and its ``eth1`` is on ``docker_gwbridge``.
Which MAC lives behind which node is the peer table's business (:mod:`.peerdb`). A worker
sees the network in ``docker network ls`` only while it runs a task of it.

What is the swarm's (nodes, services, the scheduler) stays in :mod:`netlab.model.swarm`.
"""

from __future__ import annotations

import dataclasses
import ipaddress
from collections.abc import Mapping
from typing import TYPE_CHECKING, ClassVar, TypeVar

from netlab.errors import Conflict
from netlab.kernel import batch, netns, rtnl
from netlab.model import (
    cluster,
    firewall,
    ids,
    ipam,
    machines,
    service_lb,
    sweep,
    topology,
)
from netlab.model import ingress as mesh
from netlab.model.drivers import peerdb
from netlab.model.drivers.base import CreateRequest, addressed_endpoint, free_address
from netlab.model.drivers.bridge import BridgeDriver
from netlab.model.records import (
    NO_CONFIG,
    Endpoint,
    EndpointConfig,
    NetworkRec,
    OverlayRec,
    SandboxRec,
)
from netlab.model.timefmt import now_rfc3339

if TYPE_CHECKING:
    from netlab.model.host import Host

VXLAN_PORT = 4789
OVERLAY_MTU = 1450
INGRESS_VNI = 4096
OVERLAY_POOL = "10.0.0.0/8"


def swarm_id(lab: str, seed: str) -> str:
    """A swarmkit-style 25-character base-36 ID (see :func:`netlab.model.ids.b36`)."""
    return ids.b36(f"{lab}/{seed}", 25)


def ingress(lab: str) -> OverlayRec:
    """The ``ingress`` network that ``docker swarm init`` makes (VNI 4096, 10.0.0.0/24)."""
    return OverlayRec(
        "ingress",
        swarm_id(lab, "net/ingress"),
        "10.0.0.0/24",
        "10.0.0.1",
        INGRESS_VNI,
        now_rfc3339(),
        ingress=True,
    )


def host_view(net: OverlayRec, sandbox: str = "") -> NetworkRec:
    """How an overlay network appears in one node's list of networks (``sandbox``: its
    namespace on that node, once a task runs there)."""
    return NetworkRec(
        net.name,
        net.id,
        net.created,
        "overlay",
        scope="swarm",
        ingress=net.ingress,
        subnet=net.subnet,
        gateway=net.gateway,
        bridge="br0",
        bridge_ns=sandbox,
        mtu=OVERLAY_MTU,
        vni=net.vni,
        options={"com.docker.network.driver.overlay.vxlanid_list": str(net.vni)},
    )


def sandbox_ns(lab: str, node: str, net_id: str) -> str:
    """The overlay namespace of a network on a node (Docker names it ``1-<network id>``)."""
    return topology.ns_name(lab, f"{node}-1-{net_id[:10]}")


class OverlayDriver(BridgeDriver):
    """VXLAN overlays across the swarm's nodes (see the module's docstring)."""

    name: ClassVar[str] = "overlay"
    scope: ClassVar[str] = "swarm"
    publishes: ClassVar[bool] = False

    def create(self, host: Host, req: CreateRequest, nid: str) -> NetworkRec:
        """``docker network create -d overlay NAME`` on the manager (``nid`` is not used:
        swarm networks take swarmkit IDs)."""
        store = host.lab.store
        sw = cluster.require_manager(host)  # (under the lock: another process may have written)
        topology.check_swarm_name(req.name)
        if any(n.name == req.name for n in sw.networks.values()):
            raise Conflict(f"network with name {req.name} already exists")
        used = [ipaddress.IPv4Network(n.subnet) for n in sw.networks.values()]
        if req.subnet:
            subnet = ipam.parse_subnet(req.subnet)
            if any(subnet.overlaps(u) for u in used):
                raise Conflict(
                    "invalid pool request: Pool overlaps with other one on this address space"
                )
        else:
            pools = ipaddress.IPv4Network(OVERLAY_POOL).subnets(new_prefix=24)
            subnet = ipam.next_pool(used, pools)
        vni = max([n.vni for n in sw.networks.values()] + [INGRESS_VNI]) + 1
        rec = OverlayRec(
            req.name,
            swarm_id(host.lab.name, f"net/{req.name}/{vni}"),
            str(subnet),
            str(subnet.network_address + 1),
            vni,
            now_rfc3339(),
        )
        store.put_swarm(dataclasses.replace(sw, networks={**sw.networks, rec.id: rec}))
        return host_view(rec)

    def remove(self, host: Host, net: NetworkRec) -> None:
        """``docker network rm`` of an overlay: refused while a service uses it."""
        sw = cluster.require_manager(host)
        nid = net.id
        users = [s.name for s in sw.services.values() if nid in s.networks]
        if users:
            raise cluster.SwarmError(
                f"rpc error: code = FailedPrecondition desc = network {nid} is "
                f"in use by service {users[0]}"
            )
        if net.ingress:
            raise cluster.SwarmError("ingress network cannot be removed in netlab")
        store = host.lab.store
        store.put_swarm(dataclasses.replace(sw, networks=_without(sw.networks, nid)))
        for h in store.lab_record.hosts.values():
            if nid in h.networks:
                store.drop_network(h.name, nid)

    def endpoint(
        self,
        host: Host,
        net: NetworkRec,
        seq: int,
        ifname: str,
        config: EndpointConfig = NO_CONFIG,
    ) -> Endpoint:
        # An overlay's addresses are handed out across the whole swarm.
        ep = addressed_endpoint(host, net, seq, ifname, cluster_wide=True, config=config)
        return dataclasses.replace(
            ep,
            bridge=net.bridge,
            veth=ids.veth_name(ep.endpoint_id),
            bridge_ns=net.bridge_ns,  # br0 lives in the network's sandbox
        )

    def bridge_ns(self, host: Host, ep: Endpoint) -> str:
        return ep.bridge_ns

    def firewall(
        self, net: NetworkRec, published: list[firewall.Published]
    ) -> firewall.Bridge | None:
        return None  # (br0 is in the sandbox, not in the host's firewall)

    def changed(self, host: Host, net: NetworkRec) -> None:
        peerdb.sync(host.lab, net.id)

    def inspect(self, host: Host, net: NetworkRec) -> dict[str, object]:
        """``Peers``: the nodes that have the network's sandbox, with their IPs."""
        lab = host.lab
        sw = lab.store.lab_record.swarm
        if not sw:
            return {"Peers": []}
        hosts = lab.store.lab_record.hosts
        return {
            "Peers": [
                {"Name": sw.nodes[b.node].id[:12], "IP": hosts[b.node].address}
                for b in sorted(sw.sandboxes.values(), key=lambda b: hosts[b.node].index)
                if b.net == net.id
            ]
        }


def ensure_sandbox(host: Host, net: OverlayRec) -> str:
    """Build the network's sandbox on ``host`` if it has none: br0 and vxlan0 (under the
    lab's lock, in a swarm)."""
    store = host.lab.store
    sw = cluster.live(host.lab)
    key = f"{host.name}/{net.id}"
    if key in sw.sandboxes:
        return str(sw.sandboxes[key].netns)
    ns = sandbox_ns(host.lab.name, host.name, net.id)
    gw_len = ipaddress.IPv4Network(net.subnet).prefixlen
    tmp = f"vx-{net.vni:06x}-{net.id[:5]}"  # Docker's temporary name, then vxlan0

    def build() -> None:
        sweep.create(ns)
        machines.quiet_ipv6(ns)
        rtnl.set_link(ns, "lo", up=True)
        rtnl.add_bridge(ns, "br0", mac=ids.local_mac(host.lab.name, key, "br0"), mtu=OVERLAY_MTU)
        rtnl.add_addr(ns, "br0", f"{net.gateway}/{gw_len}")
        rtnl.add_vxlan(host.ns, tmp, vni=net.vni, port=VXLAN_PORT, mtu=OVERLAY_MTU)
        rtnl.move_link(host.ns, tmp, to_ns=ns, new_name="vxlan0")
        rtnl.set_link(
            ns, "vxlan0", mac=ids.local_mac(host.lab.name, key, "vxlan0"), master="br0", up=True
        )
        rtnl.set_link(ns, "br0", up=True)

    try:
        batch(build)
    except BaseException:
        rtnl.forget(ns)
        netns.delete(ns)
        rtnl.delete_link(host.ns, tmp)
        raise
    box = SandboxRec(host.name, net.id, ns)
    # The node's load balancer for the network's services (lb-NAME); on ingress, the node's
    # ingress-sbox, with a leg on docker_gwbridge too (netlab.model.ingress).
    try:
        lb_ip = free_address(host, host_view(net), cluster_wide=True)
        lb_ns = mesh.sbox_ns(host.lab.name, host.name) if net.ingress else ""
        box = service_lb.build(host.lab, box, lb_ip, gw_len, OVERLAY_MTU, ns=lb_ns)
        if net.ingress:
            gwbridge = host.network("docker_gwbridge").rec
            box = mesh.attach_gateway(host, box, gwbridge, free_address(host, gwbridge))
    except BaseException:
        service_lb.drop(box)
        rtnl.forget(ns)
        netns.delete(ns)
        raise
    store.put_swarm(dataclasses.replace(sw, sandboxes={**sw.sandboxes, key: box}))
    store.put_network(host.name, host_view(net, ns))
    return ns


def drop_sandbox(host: Host, net_id: str, *, manager: bool) -> None:
    """Remove a network's sandbox from a node (its last task there is gone)."""
    store = host.lab.store
    sw = cluster.live(host.lab)
    key = f"{host.name}/{net_id}"
    box = sw.sandboxes.get(key)
    if box is None:
        return
    # vxlan0 first, synchronously: until it is gone the node's VNI/port pair stays taken, and
    # namespace deletion is asynchronous (a new vxlan0 right after would fail with EEXIST).
    service_lb.drop(box)
    rtnl.delete_link(box.netns, "vxlan0")
    rtnl.forget(box.netns)
    netns.delete(box.netns)
    store.put_swarm(dataclasses.replace(sw, sandboxes=_without(sw.sandboxes, key)))
    if manager:
        store.put_network(host.name, host_view(sw.networks[net_id]))  # managers list them all
    else:
        store.drop_network(host.name, net_id)  # a worker forgets the network with its last task
    if box.lb_ip:  # (the other nodes forget its load balancer)
        peerdb.sync(host.lab, net_id)


V = TypeVar("V")


def _without(items: Mapping[str, V], key: str) -> dict[str, V]:
    return {k: v for k, v in items.items() if k != key}
