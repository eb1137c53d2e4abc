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

import ipaddress
from typing import TYPE_CHECKING, ClassVar

from netlab.errors import Conflict
from netlab.kernel import batch, netns, rtnl
from netlab.model import firewall, ids, ipam, topology
from netlab.model.drivers import CreateRequest, addressed_endpoint, peerdb
from netlab.model.drivers.bridge import BridgeDriver
from netlab.model.state import Record
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


def ingress(lab: str) -> Record:
    """The ``ingress`` network that ``docker swarm init`` makes (VNI 4096, 10.0.0.0/24)."""
    return {
        "Name": "ingress",
        "Id": swarm_id(lab, "net/ingress"),
        "Subnet": "10.0.0.0/24",
        "Gateway": "10.0.0.1",
        "VNI": INGRESS_VNI,
        "Created": now_rfc3339(),
        "Ingress": True,
    }


def host_view(net: Record, sandbox: str | None) -> Record:
    """How an overlay network appears in one node's list of networks."""
    return {
        "Name": net["Name"],
        "Id": net["Id"],
        "Created": net["Created"],
        "Scope": "swarm",
        "Driver": "overlay",
        "Internal": False,
        "Attachable": False,
        "Labels": {},
        "Ingress": bool(net.get("Ingress")),
        "Subnet": net["Subnet"],
        "Gateway": net["Gateway"],
        "Bridge": "br0",
        "BridgeNs": sandbox,
        "Mtu": OVERLAY_MTU,
        "VNI": net["VNI"],
        "Options": {"com.docker.network.driver.overlay.vxlanid_list": str(net["VNI"])},
    }


def sandbox_ns(lab: str, node: str, net_id: str) -> str:
    """The overlay namespace of a network on a node (Docker names it ``1-<network id>``)."""
    return topology.ns_name(lab, f"{node}-1-{net_id[:10]}")


class OverlayDriver(BridgeDriver):
    """VXLAN overlays across the swarm's nodes (see the module's docstring)."""

    name: ClassVar[str] = "overlay"
    scope: ClassVar[str] = "swarm"
    publishes: ClassVar[bool] = False

    def create(self, host: Host, req: CreateRequest, nid: str) -> Record:
        """``docker network create -d overlay NAME`` on the manager (``nid`` is not used:
        swarm networks take swarmkit IDs)."""
        from netlab.model.swarm import require_manager

        store = host.lab.store
        sw = require_manager(host)  # (read under the lock: another process may have written)
        if any(n["Name"] == req.name for n in sw["Networks"].values()):
            raise Conflict(f"network with name {req.name} already exists")
        used = [ipaddress.IPv4Network(n["Subnet"]) for n in sw["Networks"].values()]
        if req.subnet:
            subnet = ipam.parse_subnet(req.subnet)
            if any(subnet.overlaps(u) for u in used):
                raise Conflict(
                    "invalid pool request: Pool overlaps with other one on this address space"
                )
        else:
            pools = ipaddress.IPv4Network(OVERLAY_POOL).subnets(new_prefix=24)
            subnet = ipam.next_pool(used, pools)
        vni = max([n["VNI"] for n in sw["Networks"].values()] + [INGRESS_VNI]) + 1
        rec = {
            "Name": req.name,
            "Id": swarm_id(host.lab.name, f"net/{req.name}/{vni}"),
            "Subnet": str(subnet),
            "Gateway": str(subnet.network_address + 1),
            "VNI": vni,
            "Created": now_rfc3339(),
        }
        sw["Networks"][rec["Id"]] = rec
        store.lab_record["Hosts"][host.name]["Networks"][rec["Id"]] = host_view(rec, None)
        return host_view(rec, None)

    def remove(self, host: Host, net: Record) -> None:
        """``docker network rm`` of an overlay: refused while a service uses it."""
        from netlab.model.swarm import SwarmError, require_manager

        sw = require_manager(host)
        nid = net["Id"]
        users = [s["Name"] for s in sw["Services"].values() if nid in s["Networks"]]
        if users:
            raise SwarmError(
                f"rpc error: code = FailedPrecondition desc = network {nid} is "
                f"in use by service {users[0]}"
            )
        if net.get("Ingress"):
            raise SwarmError("ingress network cannot be removed in netlab")
        sw["Networks"].pop(nid)
        for h in host.lab.store.lab_record["Hosts"].values():
            h["Networks"].pop(nid, None)

    def endpoint(self, host: Host, net: Record, seq: int, ifname: str) -> Record:
        # An overlay's addresses are handed out across the whole swarm.
        ep = addressed_endpoint(host, net, seq, ifname, cluster_wide=True)
        ep["Bridge"] = net["Bridge"]
        ep["Veth"] = ids.veth_name(ep["EndpointID"])
        ep["BridgeNs"] = net["BridgeNs"]  # br0 lives in the network's sandbox
        return ep

    def bridge_ns(self, host: Host, ep: Record) -> str:
        return str(ep["BridgeNs"])

    def firewall(self, net: Record, published: list[firewall.Published]) -> firewall.Bridge | None:
        return None  # (br0 is in the sandbox, not in the host's firewall)

    def changed(self, host: Host, net: Record) -> None:
        peerdb.sync(host.lab, net["Id"])

    def inspect(self, host: Host, net: Record) -> dict[str, object]:
        """``Peers``: the nodes that have the network's sandbox, with their IPs."""
        lab = host.lab
        sw = lab.store.lab_record.get("Swarm")
        if not sw:
            return {"Peers": []}
        hosts = lab.store.lab_record["Hosts"]
        return {
            "Peers": [
                {"Name": sw["Nodes"][b["Node"]]["ID"][:12], "IP": hosts[b["Node"]]["Address"]}
                for b in sorted(sw["Sandboxes"].values(), key=lambda b: hosts[b["Node"]]["Index"])
                if b["Net"] == net["Id"]
            ]
        }


def ensure_sandbox(host: Host, net: Record) -> str:
    """Build the network's sandbox on ``host`` if it has none: br0 and vxlan0."""
    sw = host.lab.store.lab_record["Swarm"]
    key = f"{host.name}/{net['Id']}"
    if key in sw["Sandboxes"]:
        return str(sw["Sandboxes"][key]["Netns"])
    ns = sandbox_ns(host.lab.name, host.name, net["Id"])
    gw_len = ipaddress.IPv4Network(net["Subnet"]).prefixlen
    tmp = f"vx-{net['VNI']:06x}-{net['Id'][:5]}"  # Docker's temporary name, then vxlan0

    def build() -> None:
        from netlab.model.host import quiet_ipv6

        netns.create(ns)
        quiet_ipv6(ns)
        rtnl.set_link(ns, "lo", up=True)
        rtnl.add_bridge(ns, "br0", mac=ids.local_mac(host.lab.name, key, "br0"), mtu=OVERLAY_MTU)
        rtnl.add_addr(ns, "br0", f"{net['Gateway']}/{gw_len}")
        rtnl.add_vxlan(host.ns, tmp, vni=net["VNI"], port=VXLAN_PORT, mtu=OVERLAY_MTU)
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
    sw["Sandboxes"][key] = {"Node": host.name, "Net": net["Id"], "Netns": ns, "Peers": []}
    host.lab.store.lab_record["Hosts"][host.name]["Networks"][net["Id"]] = host_view(net, ns)
    return ns


def drop_sandbox(host: Host, net_id: str, *, manager: bool) -> None:
    """Remove a network's sandbox from a node (its last task there is gone)."""
    sw = host.lab.store.lab_record["Swarm"]
    box = sw["Sandboxes"].pop(f"{host.name}/{net_id}", None)
    if box is None:
        return
    # vxlan0 first, synchronously: until it is gone the node's VNI/port pair stays taken, and
    # namespace deletion is asynchronous (a new vxlan0 right after would fail with EEXIST).
    rtnl.delete_link(box["Netns"], "vxlan0")
    rtnl.forget(box["Netns"])
    netns.delete(box["Netns"])
    hnets = host.lab.store.lab_record["Hosts"][host.name]["Networks"]
    if manager:
        hnets[net_id] = host_view(sw["Networks"][net_id], None)  # managers list every network
    else:
        hnets.pop(net_id, None)  # a worker forgets the network with its last task
