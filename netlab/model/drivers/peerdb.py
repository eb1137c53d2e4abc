"""The overlay's peer table: which endpoint (IP, MAC) lives behind which node.

Docker's overlay driver keeps a peer database (libnetwork's ``drivers/overlay/peerdb.go``),
filled by the gossip of its network database. For every endpoint on another node, each node
programs its ``vxlan0``:

* ``ip neigh replace IP lladdr MAC dev vxlan0 nud permanent`` (ARP is answered locally, the
  device has ``proxy`` on);
* ``bridge fdb replace MAC dev vxlan0 dst NODE_IP self permanent`` (the frame goes to that node
  in a VXLAN packet; nothing is flooded or learned).

netlab's control plane runs in the Python process: :func:`sync` computes what each node's
table should hold from the lab's state, and :func:`diff` (pure) says what to add and remove.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from netlab.kernel import rtnl
from netlab.model.records import Peer

if TYPE_CHECKING:
    from netlab.model.lab import Lab


def diff(have: list[Peer], want: list[Peer]) -> tuple[list[Peer], list[Peer]]:
    """``(to remove, to add)`` to turn the table ``have`` into ``want``.

    >>> a, b = Peer("10.0.1.2", "02:42:0a:00:01:02", "192.168.56.11"), Peer(
    ...     "10.0.1.3", "02:42:0a:00:01:03", "192.168.56.12")
    >>> diff([a], [b])
    ([Peer(ip='10.0.1.2', mac='02:42:0a:00:01:02', node_ip='192.168.56.11')], \
[Peer(ip='10.0.1.3', mac='02:42:0a:00:01:03', node_ip='192.168.56.12')])
    """
    keep, known = set(want), set(have)  # (sets: a table of a thousand tasks is compared often)
    return [p for p in have if p not in keep], [p for p in want if p not in known]


def wanted(
    endpoints: list[tuple[str, str, str]], node: str, addresses: dict[str, str]
) -> list[Peer]:
    """The table of ``node``: every endpoint ``(node, ip, mac)`` of the network on another
    node, sorted (so the state on disk is the same whatever the order of events)."""
    return sorted(Peer(ip, mac, addresses[n]) for n, ip, mac in endpoints if n != node)


def sync(lab: Lab, net_id: str) -> None:
    """Program every node's vxlan0 with the other nodes' endpoints of one overlay network
    (under the lab's lock; while the swarm scales, once at its end)."""
    sw = lab.store.lab_record.swarm
    if not sw or lab.deferred:
        return
    hosts = lab.store.lab_record.hosts
    # A node that is down is heard of by nobody (gossip), and hears nothing new.
    down = {n for n, rec in sw.nodes.items() if rec.status != "ready"}
    endpoints = [
        (rec.host, ep.ip, ep.mac)
        for rec in lab.store.containers().values()
        if rec.state == "running" and rec.host not in down
        for ep in rec.networks.values()
        if ep.network_id == net_id and ep.ip
    ]
    endpoints += [  # the nodes' load balancers (lb-NAME) are endpoints of the network too
        (b.node, b.lb_ip, b.lb_mac)
        for b in sw.sandboxes.values()
        if b.net == net_id and b.lb_ip and b.node not in down
    ]
    addresses = {name: h.address for name, h in hosts.items()}
    boxes = dict(sw.sandboxes)
    try:
        for key, box in sw.sandboxes.items():
            if box.net != net_id or box.node in down:
                continue
            # The table on record follows the kernel step by step: a peer counts as present
            # from before its first entry is added until after its last is removed, so a
            # failure halfway leaves a record that a later sync (the roll-back) can mend.
            table = list(box.peers)
            gone, new = diff(table, wanted(endpoints, box.node, addresses))
            try:
                for p in gone:
                    rtnl.neigh_del(box.netns, "vxlan0", p.ip)
                    rtnl.fdb_del(box.netns, "vxlan0", p.mac, p.node_ip)
                    table.remove(p)
                for p in new:
                    table.append(p)
                    rtnl.neigh_add(box.netns, "vxlan0", p.ip, p.mac)
                    rtnl.fdb_add(box.netns, "vxlan0", p.mac, p.node_ip)
            finally:
                boxes[key] = dataclasses.replace(box, peers=tuple(sorted(table)))
    finally:
        if boxes != sw.sandboxes:
            lab.store.put_swarm(dataclasses.replace(sw, sandboxes=boxes))
