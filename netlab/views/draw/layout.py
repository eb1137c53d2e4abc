"""Where everything goes in a lab's picture: geometry from the topology graph, no matplotlib.

Coordinates are drawing units. x: ``HOST_W`` per Docker host, side by side. y: the internet
box at the top (up to ``TOP``), the LAN switch at 1.6, each host's box from ``HOST_TOP`` down
to its last row of containers, then the lanes of the VXLAN tunnels and the leftovers' row.
Which level a namespace belongs to comes from its ``role`` in the graph.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import networkx as nx

from netlab.views.topology import NodeKey, br_node, ns_node

Point = tuple[float, float]

MAX_SHOWN = 8  # containers under one bridge before the row is summarised ("+ N more")
MAX_PUBLISHED = 6  # published-port arrows per host
HOST_W = 10.0  # a host's column; its box leaves 0.4 on each side
C_W, C_H = 1.9, 1.25  # a container's box
C_GAP = 0.25  # between two containers of a row
BR_H = 0.9  # a bridge's bar
TOP = 4.2
HOST_TOP = 0.6
BRIDGE_Y = -2.2
ROW_Y, ROW_DY = -5.2, 2.6  # the first row of containers, and the step to the next
LANE_DY = 0.5  # between two VXLAN lanes under the host boxes
PORTS_Y = -0.6  # the row of published ports' labels, under a host's name
CHAR_W = 0.1  # a character of a port's label, at most (6.5 points, the widest scale)


@dataclass(frozen=True)
class BridgePlace:
    """A bridge's bar (centre ``x``, ``y``; width ``w``) and the containers under it."""

    node: NodeKey
    x: float
    y: float
    w: float
    edge: float  # the right edge of its slot: free of boxes from top to bottom
    containers: list[tuple[NodeKey, Point]]  # the ones shown, with their centres
    more: tuple[int, Point] | None  # how many are summarised, and the summary box's centre


@dataclass(frozen=True)
class HostPlace:
    """A Docker host's box, its bridges left to right, and its published-port arrows."""

    node: NodeKey
    x0: float
    w: float
    top: float
    bottom: float
    bridges: list[BridgePlace]
    published: list[tuple[float, NodeKey, dict[str, Any]]]  # arrow x, container, DNAT edge

    @property
    def mid(self) -> float:
        """The x of the host's ``eth0`` line up to the LAN."""
        return self.x0 + self.w / 2


@dataclass(frozen=True)
class Wire:
    """A veth pair drawn as a line from the container's box to the bridge's bar."""

    container: NodeKey
    bridge: NodeKey
    port: str  # the bridge-side end, as ``ip link`` names it
    start: Point
    end: Point


@dataclass(frozen=True)
class Tunnel:
    """A VXLAN tunnel between the overlay namespaces ``ends``: out of each namespace's box to
    the edge of its slot, down between the boxes, and along a lane of its own under the host
    boxes, where its label sits (a line never crosses a box or a text of the hosts)."""

    ends: tuple[NodeKey, NodeKey]
    data: dict[str, Any]  # the graph's vxlan edge (label, vni)
    xs: list[float]  # out, down, across, up, in
    ys: list[float]
    label_at: Point
    short_label: bool  # a VNI drawn once already: only "VNI n" is written


@dataclass(frozen=True)
class Layout:
    """The whole picture's geometry: frame, levels, and every line between them."""

    width: float
    y_min: float
    host_bottom: float
    figsize: tuple[float, float]
    internet: NodeKey | None
    lan: NodeKey | None
    lan_switch: NodeKey | None
    client: NodeKey | None
    hosts: list[HostPlace]
    wires: list[Wire]
    tunnels: list[Tunnel]
    leftovers: list[NodeKey]


def plan(g: nx.Graph) -> Layout:
    """Lay the graph out: the levels top to bottom, then the lines that join them."""
    nodes: dict[NodeKey, Any] = dict(g.nodes(data=True))
    hosts = host_nodes(nodes)
    bridges_of = bridges_per_host(nodes, hosts)
    containers_of = containers_per_bridge(g, nodes)
    leftovers = [
        k for k, d in nodes.items() if d.get("role") == "leftover" and d["kind"] == "namespace"
    ]
    rows = container_rows(nodes, hosts, bridges_of, containers_of)
    host_bottom = ROW_Y - (rows - 1) * ROW_DY - 1.4
    lanes = sum(1 for _, _, d in g.edges(data=True) if d["kind"] == "vxlan")
    y_min = host_bottom - (1.6 if leftovers else 0.4) - LANE_DY * lanes
    n_hosts = max(1, len(hosts))
    width = n_hosts * HOST_W
    fig_w = max(9.0, 5.4 * n_hosts)
    places = [
        place_host(g, i, h, bridges_of[nodes[h]["label"]], containers_of, host_bottom)
        for i, h in enumerate(hosts)
    ]
    positions = node_positions(places)
    edges = {bp.node: (bp.x + bp.w / 2 + 0.12, bp.edge) for hp in places for bp in hp.bridges}
    return Layout(
        width=width,
        y_min=y_min,
        host_bottom=host_bottom,
        figsize=(fig_w, fig_w * (TOP - y_min) / width * 0.92),
        internet=with_role(nodes, "internet"),
        lan=with_role(nodes, "lan"),
        lan_switch=next(
            (k for k, d in nodes.items() if d["kind"] == "bridge" and d.get("name") == "lan0"), None
        ),
        client=with_role(nodes, "client"),
        hosts=places,
        wires=wires(g, nodes, positions),
        tunnels=tunnels(g, nodes, positions, edges, host_bottom),
        leftovers=sorted(leftovers),
    )


def with_role(nodes: dict[NodeKey, Any], role: str) -> NodeKey | None:
    """The (first) node of a role: the internet, the LAN router, the client."""
    return next((k for k, d in nodes.items() if d.get("role") == role), None)


def host_nodes(nodes: dict[NodeKey, Any]) -> list[NodeKey]:
    """The Docker hosts' namespaces, by name: their boxes left to right."""
    return sorted(
        (k for k, d in nodes.items() if d.get("role") == "host" and d["kind"] == "namespace"),
        key=lambda k: str(nodes[k].get("label")),
    )


def bridges_per_host(nodes: dict[NodeKey, Any], hosts: list[NodeKey]) -> dict[str, list[NodeKey]]:
    """Each host's bridges in a row: docker0, each overlay's br0, user networks, docker_gwbridge."""
    bridges_of: dict[str, list[NodeKey]] = {}
    order = {"docker0": 0, "docker_gwbridge": 2}
    for h in hosts:
        hname = nodes[h]["label"]
        own = [
            k for k, d in nodes.items() if d["kind"] == "bridge" and d.get("ns") == nodes[h]["ns"]
        ]
        ovl = [
            k
            for k, d in nodes.items()
            if d["kind"] == "bridge" and d.get("role") == "overlay" and d.get("host") == hname
        ]
        own.sort(key=lambda k: (order.get(k[2], 1), k[2]))
        bridges_of[hname] = own[:1] + ovl + own[1:] if own else ovl
    return bridges_of


def drawn_as_box(d: dict[str, Any]) -> bool:
    """Whether a namespace gets a box under a bridge: a container, or a node's
    ``ingress-sbox`` (the routing mesh's way from docker_gwbridge into the ingress network)."""
    return d["kind"] == "namespace" and (
        d.get("role") == "container"
        or (d.get("role") == "loadbalancer" and d.get("label") == "ingress-sbox")
    )


def containers_per_bridge(g: nx.Graph, nodes: dict[NodeKey, Any]) -> dict[NodeKey, list[NodeKey]]:
    """The containers by name under the bridge of their first network (lowest ``ethN``); an
    ``ingress-sbox`` under its last (docker_gwbridge: its tasks stand under the ingress br0)."""
    containers_of: dict[NodeKey, list[NodeKey]] = {}
    for k, d in sorted(nodes.items(), key=lambda kv: str(kv[1].get("label"))):
        if not drawn_as_box(d):
            continue
        brs = [
            n
            for n in g.neighbors(k)
            if nodes[n]["kind"] == "bridge" and g.edges[k, n]["kind"] == "veth"
        ]
        if not brs:
            continue
        brs.sort(key=lambda b: eth_index(g, k, b))
        under = brs[-1] if d.get("role") == "loadbalancer" else brs[0]
        containers_of.setdefault(under, []).append(k)
    return containers_of


def eth_index(g: nx.Graph, c: NodeKey, b: NodeKey) -> int:
    """N of the container's ``ethN`` on its veth to bridge ``b`` (9 when it has no number)."""
    name = g.edges[c, b]["ends"].get(c, "eth9")
    digits = "".join(ch for ch in name if ch.isdigit())
    return int(digits) if digits else 9


def per_row(slot_w: float) -> int:
    """How many containers fit side by side under a bridge's slot."""
    return max(1, int(slot_w // (C_W + C_GAP)))


def container_rows(
    nodes: dict[NodeKey, Any],
    hosts: list[NodeKey],
    bridges_of: dict[str, list[NodeKey]],
    containers_of: dict[NodeKey, list[NodeKey]],
) -> int:
    """The most rows of containers under any bridge (all host boxes get that height)."""
    rows = 1
    for h in hosts:
        brs = bridges_of.get(nodes[h]["label"], [])
        across = per_row((HOST_W - 0.8) / max(1, len(brs)))
        for b in brs:
            n_shown = min(len(containers_of.get(b, [])), MAX_SHOWN)
            rows = max(rows, -(-n_shown // across))
    return rows


def place_host(
    g: nx.Graph,
    i: int,
    h: NodeKey,
    bridges: list[NodeKey],
    containers_of: dict[NodeKey, list[NodeKey]],
    bottom: float,
) -> HostPlace:
    """The ``i``-th host's box, with its bridges in equal slots and its published ports."""
    x0 = i * HOST_W + 0.4
    w = HOST_W - 0.8
    slot_w = w / max(1, len(bridges))
    return HostPlace(
        node=h,
        x0=x0,
        w=w,
        top=HOST_TOP,
        bottom=bottom,
        bridges=[
            place_bridge(b, x0 + j * slot_w + slot_w / 2, slot_w, containers_of.get(b, []))
            for j, b in enumerate(bridges)
        ],
        published=published_ports(g, h, x0, w),
    )


def place_bridge(b: NodeKey, bx: float, slot_w: float, cs: list[NodeKey]) -> BridgePlace:
    """A bridge's bar centred in its slot; its containers in centred rows under it.

    Past ``MAX_SHOWN`` the last place goes to a "+ N more" box.
    """
    shown = cs if len(cs) <= MAX_SHOWN else cs[: MAX_SHOWN - 1]
    across = per_row(slot_w)
    return BridgePlace(
        node=b,
        x=bx,
        y=BRIDGE_Y,
        w=min(slot_w - 0.3, 3.6),
        edge=bx + slot_w / 2,
        containers=[(c, grid_spot(bx, n, len(shown), across)) for n, c in enumerate(shown)],
        more=(
            (len(cs) - len(shown), grid_spot(bx, len(shown), len(shown) + 1, across))
            if len(cs) > len(shown)
            else None
        ),
    )


def grid_spot(bx: float, n: int, count: int, across: int) -> Point:
    """The centre of the ``n``-th of ``count`` boxes in rows of ``across``, centred on ``bx``."""
    row, col = divmod(n, across)
    cols = min(across, count - row * across)
    return (bx + (col - (cols - 1) / 2) * (C_W + C_GAP), ROW_Y - row * ROW_DY)


def port_label(d: dict[str, Any], target: str) -> str:
    """``tcp 8080 -> web1:80``; ``tcp 127.0.0.1:8081 -> local:80 (host only)``."""
    local = is_host_only(d)
    where = f"{d['host_ip']}:" if local else ""
    text = f"{d['proto']} {where}{d['host_port']} \u2192 {target}:{d['container_port']}"
    return text + (" (host only)" if local else "")


def is_host_only(d: dict[str, Any]) -> bool:
    """A port published on a loopback address: the LAN cannot reach it."""
    return str(d.get("host_ip", "")).startswith("127.")


def published_ports(
    g: nx.Graph, h: NodeKey, x0: float, w: float
) -> list[tuple[float, NodeKey, dict[str, Any]]]:
    """The host's published ports by host port: where each label starts, left to right under
    the host's name, and its container. An arrow comes down from the LAN at a label's start,
    so none starts where the host's own eth0 line and its name are (``mid`` to ``mid + 2``);
    a label is given ``CHAR_W`` per character, what it takes in the narrowest pictures."""
    nodes = g.nodes
    pubs = sorted(
        ((a, b, d) for a, b, d in g.edges(data=True) if d["kind"] == "published" and h in (a, b)),
        key=lambda e: (is_host_only(e[2]), e[2]["host_port"]),
    )
    mid = x0 + w / 2
    out = []
    x = x0 + 0.3
    for a, b, d in pubs[:MAX_PUBLISHED]:
        target = b if a == h else a
        width = CHAR_W * len(port_label(d, str(nodes[target].get("label", "?"))))
        if mid - 0.2 < x < mid + 2.0 or (x < mid - 0.2 < x + width and not is_host_only(d)):
            x = max(x, mid + 2.0)
        if x + width > x0 + w:
            break  # (no room left in the box)
        out.append((x, target, d))
        x += width + 0.3
    return out


def node_positions(hosts: list[HostPlace]) -> dict[NodeKey, Point]:
    """Where the lines start and end: each host's top, each bridge's and container's centre."""
    pos: dict[NodeKey, Point] = {}
    for hp in hosts:
        pos[hp.node] = (hp.mid, hp.top)
        for bp in hp.bridges:
            pos[bp.node] = (bp.x, bp.y)
            pos.update(bp.containers)
    return pos


def wires(g: nx.Graph, nodes: dict[NodeKey, Any], pos: dict[NodeKey, Point]) -> list[Wire]:
    """The veth lines from shown containers up to shown bridges.

    A container on two networks: eth0's line leaves from the left, eth1's from the right.
    """
    out = []
    for a, b, d in g.edges(data=True):
        if d["kind"] != "veth":
            continue
        c, br = (a, b) if nodes[a]["kind"] == "namespace" else (b, a)
        if c not in pos or br not in pos or nodes[br]["kind"] != "bridge":
            continue
        (cx, cy), (bx, by) = pos[c], pos[br]
        n_eth = sum(1 for n in g.neighbors(c) if g.edges[c, n]["kind"] == "veth")
        cx += (eth_index(g, c, br) - (n_eth - 1) / 2) * 0.75 if n_eth > 1 else 0.0
        out.append(Wire(c, br, d["ends"][br], (cx, cy + C_H / 2), (bx, by - BR_H / 2)))
    return out


def tunnels(
    g: nx.Graph,
    nodes: dict[NodeKey, Any],
    pos: dict[NodeKey, Point],
    edges: dict[NodeKey, tuple[float, float]],
    host_bottom: float,
) -> list[Tunnel]:
    """VXLAN tunnels between shown br0s, the shortest first, each on a lane of its own under
    the host boxes. A line leaves its namespace's box on the right, runs down its slot's
    right edge (containers are centred in their slot: the edge is free), along its lane, and
    up into the other box the same way."""
    found = []
    for a, b, d in g.edges(data=True):
        if d["kind"] != "vxlan":
            continue
        ba, bb = br_node(nodes[a]["ns"], "br0"), br_node(nodes[b]["ns"], "br0")
        if ba in pos and bb in pos:
            ends = sorted(
                [(pos[ba], ba, ns_node(nodes[a]["ns"])), (pos[bb], bb, ns_node(nodes[b]["ns"]))]
            )
            found.append((ends, d))
    found.sort(key=lambda t: (t[0][1][0][0] - t[0][0][0][0], t[0][0][0][0]))
    out = []
    seen: set[object] = set()
    for lane, ([((_, ya), ba, na), ((_, yb), bb, nb)], d) in enumerate(found):
        y_lane = host_bottom - 0.45 - LANE_DY * lane
        (box_a, edge_a), (box_b, edge_b) = edges[ba], edges[bb]
        xs = [box_a, edge_a, edge_a, edge_b, edge_b, box_b]
        ys = [ya, ya, y_lane, y_lane, yb, yb]
        out.append(Tunnel((na, nb), d, xs, ys, ((edge_a + edge_b) / 2, y_lane), d["vni"] in seen))
        seen.add(d["vni"])
    return out
