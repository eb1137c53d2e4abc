"""The lab's topology as a networkx graph, discovered from the live kernel.

Nothing here trusts the model's idea of what exists: the graph is built from the lab's
namespaces as the kernel lists them, the interfaces in each, the real peer of every veth
(its ``link-netnsid`` resolved to a namespace, then its peer ifindex), the bridges the
interfaces are enslaved to, the VXLAN devices and their VNI, and the DNAT rules of each
host's firewall. The model is only used to *name* things (which namespace is which
container); a namespace the model does not know shows up as a leftover.

Node kinds: ``namespace`` (role: internet, lan, client, host, container, overlay,
loadbalancer (a node's ``lb-NETWORK``: the picture names it in its overlay's box), leftover)
and ``bridge``. Edge kinds: ``contains`` (a namespace holds a bridge), ``veth``
(labelled with both interface names as ``ip link`` shows them), ``vxlan`` (VNI, UDP port),
``published`` (a DNAT rule: host port -> container address and port).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import networkx as nx

from netlab.kernel import netns, nft, rtnl
from netlab.model import topology

if TYPE_CHECKING:
    from netlab.model.lab import Lab

NodeKey = tuple[str, ...]


def ns_node(ns: str) -> NodeKey:
    """The graph key of a namespace."""
    return ("ns", ns)


def br_node(ns: str, bridge: str) -> NodeKey:
    """The graph key of a bridge inside a namespace."""
    return ("br", ns, bridge)


def _roles(lab: Lab) -> dict[str, dict[str, Any]]:
    """What the model calls each of the lab's namespaces (role, label, host)."""
    roles: dict[str, dict[str, Any]] = {
        topology.ns_name(lab.name, "inet"): {"role": "internet", "label": "internet"},
        topology.ns_name(lab.name, "lan"): {"role": "lan", "label": "LAN + router"},
        topology.ns_name(lab.name, "client"): {"role": "client", "label": "client"},
    }
    if not lab.is_up:
        return roles
    for h in lab.hosts:
        roles[h.ns] = {"role": "host", "label": h.name, "host": h.name}
    for rec in lab.store.containers().values():
        if rec.state == "running" and rec.own_netns:
            roles[rec.netns] = {
                "role": "container",
                "label": rec.name,
                "host": rec.host,
                "short_id": rec.id[:12],
            }
    sw = lab.store.lab_record.swarm
    for box in sw.sandboxes.values() if sw else ():
        net = sw.networks[box.net]  # type: ignore[union-attr]
        roles[box.netns] = {
            "role": "overlay",
            "label": f"1-{net.id[:10]}",
            "host": box.node,
            "network": net.name,
        }
        if box.lb_netns:  # the node's load balancer for the network (lb-NETWORK; ingress-sbox)
            roles[box.lb_netns] = {
                "role": "loadbalancer",
                "label": "ingress-sbox" if net.ingress else f"lb-{net.name}",
                "host": box.node,
                "network": net.name,
            }
    return roles


def discover(lab: Lab) -> nx.Graph:
    """Build the graph of ``lab`` from the kernel (see the module docstring)."""
    g: nx.Graph = nx.Graph(lab=lab.name)
    roles = _roles(lab)
    namespaces = sorted(n for n in netns.names() if n.startswith(topology.ns_prefix(lab.name)))
    links = {ns: rtnl.links(ns) for ns in namespaces}
    addrs: dict[str, dict[str, list[str]]] = {}
    for ns in namespaces:
        by_if: dict[str, list[str]] = {}
        for a in rtnl.addrs(ns):
            if a.ifname != "lo":
                by_if.setdefault(a.ifname, []).append(a.cidr)
        addrs[ns] = by_if
    for ns in namespaces:
        info = roles.get(
            ns,
            {
                "role": "leftover",
                "label": ns.removeprefix(topology.ns_prefix(lab.name)),
                "leftover": True,
            },
        )
        g.add_node(ns_node(ns), kind="namespace", ns=ns, addresses=addrs[ns], **info)
        for lk in links[ns]:
            if lk.kind == "bridge":
                g.add_node(
                    br_node(ns, lk.name),
                    kind="bridge",
                    ns=ns,
                    name=lk.name,
                    addresses=addrs[ns].get(lk.name, []),
                    role=info["role"],
                    host=info.get("host"),
                    mtu=lk.mtu,
                )
                g.add_edge(ns_node(ns), br_node(ns, lk.name), kind="contains")
    _add_veths(g, namespaces, links)
    _add_vxlan(g, namespaces, links)
    _add_published(g, lab, namespaces, roles)
    return g


def _end_node(ns: str, lk: rtnl.Link, by_index: dict[int, rtnl.Link]) -> NodeKey:
    """A veth end attaches to its bridge if it is a port of one, else to its namespace."""
    if lk.master is not None and lk.master in by_index:
        return br_node(ns, by_index[lk.master].name)
    return ns_node(ns)


def _add_veths(g: nx.Graph, namespaces: list[str], links: dict[str, list[rtnl.Link]]) -> None:
    by_index = {ns: {lk.index: lk for lk in links[ns]} for ns in namespaces}
    # A veth's peer is the veth, in another namespace, whose ifindex is this end's peer_index
    # and whose own peer_index is this end's ifindex; only when several namespaces have such a
    # link does the kernel's namespace id decide (one netlink question per candidate, not per
    # namespace: drawing stays linear in the number of containers).
    veths: dict[int, list[tuple[str, rtnl.Link]]] = {}
    for ns in namespaces:
        for lk in links[ns]:
            if lk.kind == "veth":
                veths.setdefault(lk.index, []).append((ns, lk))
    done: set[tuple[str, int]] = set()
    for ns in namespaces:
        for lk in links[ns]:
            if lk.kind != "veth" or (ns, lk.index) in done or lk.peer_index is None:
                continue
            peer_ns = ns
            if lk.peer_netnsid is not None:
                candidates = [
                    o
                    for o, p in veths.get(lk.peer_index, [])
                    if o != ns and p.peer_index == lk.index
                ]
                if len(candidates) > 1:
                    candidates = [o for o in candidates if rtnl.nsid_of(ns, o) == lk.peer_netnsid]
                peer_ns = candidates[0] if candidates else ""
            peer = by_index.get(peer_ns, {}).get(lk.peer_index)
            if peer is None:
                continue
            done.add((ns, lk.index))
            done.add((peer_ns, peer.index))
            a = _end_node(ns, lk, by_index[ns])
            b = _end_node(peer_ns, peer, by_index[peer_ns])
            g.add_edge(
                a,
                b,
                kind="veth",
                ends={a: lk.name, b: peer.name},
                label=f"{lk.name} \u2194 {peer.name}",
                mtu=lk.mtu,
            )


def _add_vxlan(g: nx.Graph, namespaces: list[str], links: dict[str, list[rtnl.Link]]) -> None:
    by_vni: dict[int, list[str]] = {}
    for ns in namespaces:
        for lk in links[ns]:
            if lk.kind == "vxlan" and lk.vxlan_id is not None:
                by_vni.setdefault(lk.vxlan_id, []).append(ns)
    for vni, boxes in by_vni.items():
        for i, a in enumerate(boxes):
            for b in boxes[i + 1 :]:
                g.add_edge(
                    ns_node(a),
                    ns_node(b),
                    kind="vxlan",
                    vni=vni,
                    port=4789,
                    label=f"VXLAN VNI {vni}, UDP 4789",
                )


_DNAT = re.compile(r"(?:ip daddr (\S+) )?(tcp|udp) dport (\d+) .*dnat to ([\d.]+):(\d+)")


def _add_published(
    g: nx.Graph, lab: Lab, namespaces: Iterable[str], roles: dict[str, dict[str, Any]]
) -> None:
    by_ip: dict[str, NodeKey] = {}
    for ns in namespaces:
        for cidrs in g.nodes[ns_node(ns)]["addresses"].values():
            for c in cidrs:
                by_ip[c.split("/")[0]] = ns_node(ns)
    for ns in namespaces:
        if roles.get(ns, {}).get("role") != "host":
            continue
        try:
            text = nft.ruleset(ns)
        except Exception:
            continue
        for m in _DNAT.finditer(text):
            host_ip, proto, hport, cip, cport = m.groups()
            target = by_ip.get(cip)
            if target is None:
                continue
            g.add_edge(
                ns_node(ns),
                target,
                kind="published",
                proto=proto,
                host_port=int(hport),
                container_port=int(cport),
                host_ip=host_ip or "0.0.0.0",
                label=f"{host_ip or '0.0.0.0'}:{hport}->{cport}/{proto}",
            )
