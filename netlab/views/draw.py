"""Draw a lab the way a networking teacher would on a whiteboard (matplotlib).

The layout is written for this domain, not a generic force layout, so the same lab always
gives the same picture:

* the simulated internet at the top, the LAN switch below it as a bar, the LAN client at
  its right end;
* one large box per Docker host, side by side, hanging from the LAN by its ``eth0``;
* inside a host, its bridges in a row (docker0, user networks, docker_gwbridge, and each
  overlay's ``br0`` in its own namespace box), each in its own colour;
* containers in a row under the bridge of their first network; each veth pair is a line
  from the container's ``eth0`` to the bridge port, labelled with the port's name as
  ``ip link`` shows it; a container on two networks has a line to each bridge;
* VXLAN tunnels between the overlay namespaces of different hosts: thick dashed arcs
  labelled with the VNI and UDP 4789;
* published ports: arrows from the LAN into the host, labelled ``tcp 8080 -> web1:80``;
* leftovers (namespaces of the lab that nothing explains) in red at the bottom.

Past eight containers per bridge the row is summarised (``+ 42 more``), so a lab of fifty
containers stays readable. Everything drawn comes from :func:`netlab.views.topology.discover`.
"""

from __future__ import annotations

import io
import itertools
from typing import TYPE_CHECKING, Any

import networkx as nx

from netlab.views.topology import NodeKey, br_node, discover, ns_node

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from netlab.model.lab import Lab

MAX_SHOWN = 8
HOST_W = 10.0
C_W, C_H = 1.9, 1.25
BR_H = 0.9
HOT = "#ff7f0e"
PALETTE = ["#2a9d8f", "#e76f51", "#8ab17d", "#f4a261", "#6d597a"]
COLOURS = {"docker0": "#1d6fb8", "docker_gwbridge": "#7a7a7a", "br0": "#7b2cbf", "lan0": "#264653"}
ROLE_FILL = {"host": "#f4f6f8", "container": "#ffffff", "overlay": "#f3ecfa", "leftover": "#fde8e8"}


def bridge_colour(name: str, index: int) -> str:
    """A stable colour per bridge (user networks cycle through a palette)."""
    return COLOURS.get(name, PALETTE[index % len(PALETTE)])


def _first_cidr(addrs: dict[str, list[str]], ifname: str) -> str:
    return (addrs.get(ifname) or [""])[0]


def draw(
    lab: Lab,
    graph: nx.Graph | None = None,
    *,
    title: str | None = None,
    highlight: list[NodeKey] | None = None,
) -> Figure:
    """Render the lab's live topology; returns a matplotlib Figure (nothing is shown).

    ``highlight`` is a path of graph nodes (see :func:`path`): its links are drawn thick and
    orange, the way a packet would go.
    """
    import matplotlib

    matplotlib.use("Agg", force=False) if matplotlib.get_backend() == "" else None
    from matplotlib.figure import Figure
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    g = graph if graph is not None else discover(lab)
    nodes = dict(g.nodes(data=True))
    hot_edges = {frozenset(p) for p in itertools.pairwise(highlight or [])}

    def on_path(a: NodeKey | None, b: NodeKey | None) -> bool:
        return a is not None and b is not None and frozenset((a, b)) in hot_edges

    lan_bridge = next(
        (k for k, d in nodes.items() if d["kind"] == "bridge" and d.get("name") == "lan0"), None
    )
    hosts = sorted(
        (k for k, d in nodes.items() if d.get("role") == "host" and d["kind"] == "namespace"),
        key=lambda k: str(nodes[k].get("label")),
    )
    containers_of: dict[NodeKey, list[NodeKey]] = {}
    bridges_of: dict[str, list[NodeKey]] = {}
    leftovers = [
        k for k, d in nodes.items() if d.get("role") == "leftover" and d["kind"] == "namespace"
    ]

    # Which bridges each host shows: its own, then its overlay namespaces' br0.
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
        order = {"docker0": 0, "docker_gwbridge": 2}
        own.sort(key=lambda k: (order.get(k[2], 1), k[2]))
        bridges_of[hname] = own[:1] + ovl + own[1:] if own else ovl
    # Containers hang under the first bridge they have a veth to.
    for k, d in sorted(nodes.items(), key=lambda kv: str(kv[1].get("label"))):
        if d["kind"] != "namespace" or d.get("role") != "container":
            continue
        brs = [
            n
            for n in g.neighbors(k)
            if nodes[n]["kind"] == "bridge" and g.edges[k, n]["kind"] == "veth"
        ]
        if not brs:
            continue
        brs.sort(key=lambda b: _eth_index(g, k, b))
        containers_of.setdefault(brs[0], []).append(k)

    n_hosts = max(1, len(hosts))
    width = n_hosts * HOST_W
    rows = 1
    for h in hosts:
        brs = bridges_of.get(nodes[h]["label"], [])
        slot_w = (HOST_W - 0.8) / max(1, len(brs))
        per_row = max(1, int(slot_w // (C_W + 0.25)))
        for b in brs:
            n_shown = min(len(containers_of.get(b, [])), MAX_SHOWN)
            rows = max(rows, -(-n_shown // per_row))
    host_bottom = -5.2 - (rows - 1) * 2.6 - 1.4
    far_tunnels = max(0, len(hosts) - 2)  # hosts more than one box apart need a lane
    y_min = host_bottom - (1.6 if leftovers else 0.4) - 0.4 * far_tunnels
    height_units = 4.2 - y_min
    fig_w = max(9.0, 5.4 * n_hosts)
    fig = Figure(figsize=(fig_w, fig_w * height_units / width * 0.92), dpi=100)
    ax = fig.add_axes((0, 0, 1, 0.97))
    ax.set_xlim(0, width)
    ax.set_ylim(y_min, 4.2)
    ax.axis("off")
    pos: dict[NodeKey, tuple[float, float]] = {}

    def box(
        x: float,
        y: float,
        w: float,
        h: float,
        fc: str,
        ec: str,
        lw: float = 1.2,
        ls: str = "-",
        r: float = 0.15,
    ) -> None:
        ax.add_patch(
            FancyBboxPatch(
                (x, y), w, h, boxstyle=f"round,pad=0,rounding_size={r}", fc=fc, ec=ec, lw=lw, ls=ls
            )
        )

    def text(x: float, y: float, s: str, size: float = 9, **kw: Any) -> None:
        ax.text(
            x,
            y,
            s,
            ha=kw.pop("ha", "center"),
            va=kw.pop("va", "center"),
            fontsize=size,
            family="DejaVu Sans",
            **kw,
        )

    # Internet and LAN.
    inet = next((k for k, d in nodes.items() if d.get("role") == "internet"), None)
    lan = next((k for k, d in nodes.items() if d.get("role") == "lan"), None)
    if inet:
        box(width / 2 - 2.6, 2.9, 5.2, 1.1, "#eef6ee", "#3a7d44")
        text(width / 2, 3.6, "simulated internet", 10, weight="bold")
        text(width / 2, 3.15, "www.dockercon.com 198.51.100.80 \u00b7 DNS .53", 8)
    if lan:
        ax.plot([0.6, width - 0.6], [1.6, 1.6], color=COLOURS["lan0"], lw=5, solid_capstyle="round")
        text(
            0.7,
            2.0,
            "LAN 192.168.56.0/24  (switch lan0, router .1)",
            9,
            ha="left",
            color=COLOURS["lan0"],
            weight="bold",
        )
        if inet:
            ax.plot(
                [width / 2, width / 2],
                [1.6, 2.9],
                color=HOT if on_path(lan, inet) else "#3a7d44",
                lw=4 if on_path(lan, inet) else 1.5,
            )
            text(width / 2 + 0.15, 2.25, "wan0 203.0.113.1", 7, ha="left", color="#3a7d44")
    client = next((k for k, d in nodes.items() if d.get("role") == "client"), None)
    if client:
        cx = width - 1.1
        box(cx - 0.9, 2.35, 1.8, 0.8, "#ffffff", COLOURS["lan0"])
        text(cx, 2.85, "client", 8, weight="bold")
        text(cx, 2.55, _first_cidr(nodes[client]["addresses"], "eth0").split("/")[0], 7)
        ax.plot([cx, cx], [1.6, 2.35], color=COLOURS["lan0"], lw=1.2)

    colour_index = 0
    bridge_colours: dict[NodeKey, str] = {}
    for i, h in enumerate(hosts):
        hd = nodes[h]
        x0 = i * HOST_W + 0.4
        w = HOST_W - 0.8
        top, bottom = 0.6, host_bottom
        box(x0, bottom, w, top - bottom, ROLE_FILL["host"], "#34495e", lw=1.8, r=0.3)
        text(x0 + 0.25, top - 0.35, f"Docker host {hd['label']}", 11, ha="left", weight="bold")
        text(
            x0 + 0.25,
            top - 0.8,
            f"eth0 {_first_cidr(hd['addresses'], 'eth0')}  \u00b7  namespace {hd['ns']}",
            7.5,
            ha="left",
            color="#555555",
        )
        pos[h] = (x0 + w / 2, top)
        up_hot = on_path(h, lan_bridge) or on_path(h, lan)
        ax.plot(
            [x0 + w / 2, x0 + w / 2],
            [top, 1.6],
            color=HOT if up_hot else COLOURS["lan0"],
            lw=4 if up_hot else 2,
        )
        text(
            x0 + w / 2 + 0.12,
            1.1,
            f"eth0 \u2194 to-{hd['label']}",
            7,
            ha="left",
            color=COLOURS["lan0"],
        )
        brs = bridges_of.get(hd["label"], [])
        slot_w = w / max(1, len(brs))
        for j, b in enumerate(brs):
            bd = nodes[b]
            colour = bridge_colour(bd["name"], colour_index)
            if bd["name"] not in COLOURS:
                colour_index += 1
            bridge_colours[b] = colour
            bx = x0 + j * slot_w + slot_w / 2
            by = -2.2
            bw = min(slot_w - 0.3, 3.6)
            if bd.get("role") == "overlay":
                box(
                    bx - bw / 2 - 0.12,
                    by - 0.85,
                    bw + 0.24,
                    2.2,
                    ROLE_FILL["overlay"],
                    colour,
                    ls="--",
                )
                net = nodes[ns_node(bd["ns"])]
                text(
                    bx,
                    by + 1.1,
                    f"overlay ns {net['label']} ({net.get('network', '')})",
                    7,
                    color=colour,
                )
            box(bx - bw / 2, by - BR_H / 2, bw, BR_H, colour, colour)
            text(bx, by + 0.15, bd["name"], 9, color="white", weight="bold")
            text(bx, by - 0.2, ", ".join(bd["addresses"]) or "no address", 7, color="white")
            pos[b] = (bx, by)
            if bd.get("role") == "overlay":
                text(bx, by - 0.7, "+ vxlan0 (port of br0)", 7, color=colour)
            # Containers under this bridge.
            cs = containers_of.get(b, [])
            shown = cs if len(cs) <= MAX_SHOWN else cs[: MAX_SHOWN - 1]
            per_row = max(1, int(slot_w // (C_W + 0.25)))
            for n, c in enumerate(shown):
                row, col = divmod(n, per_row)
                cols = min(per_row, len(shown) - row * per_row)
                cx = bx + (col - (cols - 1) / 2) * (C_W + 0.25)
                cy = -5.2 - row * 2.6
                _container(ax, g, nodes, c, cx, cy, box, text)
                pos[c] = (cx, cy)
            if len(cs) > len(shown):
                row, col = divmod(len(shown), per_row)
                cols = min(per_row, len(shown) + 1 - row * per_row)
                cx = bx + (col - (cols - 1) / 2) * (C_W + 0.25)
                cy = -5.2 - row * 2.6
                box(cx - C_W / 2, cy - C_H / 2, C_W, C_H, "#fafafa", "#999999", ls=":")
                text(cx, cy, f"+ {len(cs) - len(shown)} more", 8, color="#555555")
        # Published ports: arrows from the LAN into the host.
        pubs = sorted(
            (
                (a, b_, d)
                for a, b_, d in g.edges(data=True)
                if d["kind"] == "published" and h in (a, b_)
            ),
            key=lambda e: e[2]["host_port"],
        )
        for k, (a, b_, d) in enumerate(pubs[:6]):
            target = b_ if a == h else a
            px = x0 + 0.4 + k * 1.55
            ax.add_patch(
                FancyArrowPatch(
                    (px, 1.45),
                    (px, -0.95),
                    arrowstyle="-|>",
                    mutation_scale=12,
                    color="#c0392b",
                    lw=1.6,
                )
            )
            tname = nodes[target].get("label", "?")
            text(
                px + 0.1,
                -1.25,
                f"{d['proto']} {d['host_port']}\n\u2192 {tname}:{d['container_port']}",
                6.5,
                ha="left",
                color="#c0392b",
            )
    # veth lines (container -> bridge), with the bridge-side name near the bridge.
    for a, b, d in g.edges(data=True):
        if d["kind"] != "veth":
            continue
        c, br = (a, b) if nodes[a]["kind"] == "namespace" else (b, a)
        if c not in pos or br not in pos or nodes[br]["kind"] != "bridge":
            continue
        (cx, cy), (bx, by) = pos[c], pos[br]
        # A container on two networks: eth0's line leaves from the left, eth1's from the right.
        n_eth = sum(1 for n in g.neighbors(c) if g.edges[c, n]["kind"] == "veth")
        cx += (_eth_index(g, c, br) - (n_eth - 1) / 2) * 0.75 if n_eth > 1 else 0.0
        colour = bridge_colours.get(br, "#333333")
        hot = on_path(c, br)
        ax.plot(
            [cx, bx],
            [cy + C_H / 2, by - BR_H / 2],
            color=HOT if hot else colour,
            lw=3.5 if hot else 1.4,
            zorder=2,
        )
        port = d["ends"][br]
        t = 0.3  # near the container end, where the lines are apart
        text(
            cx + (bx - cx) * t,
            (cy + C_H / 2) + ((by - BR_H / 2) - (cy + C_H / 2)) * t,
            port,
            6.5,
            color=colour,
            zorder=3,
            bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.85},
        )
    # VXLAN tunnels between overlay namespaces: neighbouring hosts by an arc through the gap
    # between their boxes, hosts further apart by a lane under all the boxes.
    tunnels = []
    nodes_by_br: dict[tuple[float, float], str] = {}
    for a, b, d in g.edges(data=True):
        if d["kind"] != "vxlan":
            continue
        ba, bb = br_node(nodes[a]["ns"], "br0"), br_node(nodes[b]["ns"], "br0")
        if ba in pos and bb in pos:
            tunnels.append((sorted([pos[ba], pos[bb]]), d))
            nodes_by_br[pos[ba]] = nodes[a]["ns"]
            nodes_by_br[pos[bb]] = nodes[b]["ns"]
    tunnels.sort(key=lambda t: (t[0][1][0] - t[0][0][0], t[0][0][0]))
    lane = 0
    for ((xa, ya), (xb, yb)), d in tunnels:
        span = round((xb - xa) / HOST_W)
        hot = on_path(ns_node(nodes_by_br[(xa, ya)]), ns_node(nodes_by_br[(xb, yb)]))
        style: dict[str, Any] = {"color": HOT if hot else COLOURS["br0"], "lw": 2.6, "ls": "--"}
        if span <= 1:
            ax.add_patch(
                FancyArrowPatch(
                    (xa, ya - 1.0),
                    (xb, yb - 1.0),
                    connectionstyle="arc3,rad=0.18",
                    arrowstyle="-",
                    **style,
                )
            )
            lx, ly = (xa + xb) / 2, ya - 1.95 - 0.09 * (xb - xa)
        else:
            lane += 1
            y_lane = host_bottom - 0.35 * lane
            xs = [xa + 1.9, xa + 1.9, xb + 1.9, xb + 1.9]
            ax.plot(xs, [ya - 1.0, y_lane, y_lane, yb - 1.0], **style)
            lx, ly = (xa + xb) / 2, y_lane
        text(
            lx,
            ly,
            d["label"] if lane <= 1 else f"VNI {d['vni']}",
            8,
            color=COLOURS["br0"],
            weight="bold",
            zorder=4,
            bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": COLOURS["br0"]},
        )
    for k, left in enumerate(sorted(leftovers)):
        lx = 0.6 + k * 3.3
        box(lx, y_min + 0.25, 3.1, 0.9, ROLE_FILL["leftover"], "#c0392b", ls="--")
        text(lx + 1.55, y_min + 0.7, f"leftover: {nodes[left]['label']}", 7.5, color="#c0392b")
    fig.suptitle(
        title or f"lab {lab.name}",
        x=0.01,
        y=0.995,
        ha="left",
        va="top",
        fontsize=12,
        weight="bold",
    )
    return fig


def _eth_index(g: nx.Graph, c: NodeKey, b: NodeKey) -> int:
    name = g.edges[c, b]["ends"].get(c, "eth9")
    digits = "".join(ch for ch in name if ch.isdigit())
    return int(digits) if digits else 9


def _container(
    ax: Any,
    g: nx.Graph,
    nodes: dict[NodeKey, Any],
    c: NodeKey,
    x: float,
    y: float,
    box: Any,
    text: Any,
) -> None:
    d = nodes[c]
    box(x - C_W / 2, y - C_H / 2, C_W, C_H, ROLE_FILL["container"], "#34495e")
    label = d["label"] if len(d["label"]) <= 16 else d["label"][:15] + "\u2026"
    text(x, y + 0.38, label, 8, weight="bold")
    lines = []
    for ifname in sorted(d["addresses"]):
        lines.append(f"{ifname} {d['addresses'][ifname][0].split('/')[0]}")
    text(x, y - 0.15, "\n".join(lines[:2]) or "no address", 7)


def save(lab: Lab, path: str, graph: nx.Graph | None = None) -> str:
    """Draw the lab into a PNG or SVG file (by its extension); returns the path."""
    fig = draw(lab, graph)
    fig.savefig(path, dpi=110)
    return path


def path(graph: nx.Graph, source: NodeKey, target: NodeKey) -> list[NodeKey]:
    """The chain of namespaces and bridges a packet crosses from ``source`` to ``target``.

    Only physical links count (veths, VXLAN tunnels, a namespace holding its bridge);
    published-port edges are rules, not wires.
    """
    wires = nx.subgraph_view(
        graph, filter_edge=lambda a, b: graph.edges[a, b]["kind"] in ("veth", "vxlan", "contains")
    )
    try:
        return list(nx.shortest_path(wires, source, target))
    except (nx.NetworkXNoPath, nx.NodeNotFound):
        return []


class Picture:
    """A drawn lab: shows itself in a notebook as a PNG, with a stable one-line text form."""

    def __init__(self, figure: Figure, lab: str) -> None:
        self.figure = figure
        self.lab = lab

    def save(self, path: str) -> str:
        """Write a .png or .svg file."""
        self.figure.savefig(path, dpi=110)
        return path

    def _repr_png_(self) -> bytes:

        buf = io.BytesIO()
        self.figure.savefig(buf, format="png", dpi=90)
        return buf.getvalue()

    def __repr__(self) -> str:
        return f"<picture of lab {self.lab}, drawn from the kernel>"
