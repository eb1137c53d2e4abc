"""How a lab's picture looks: matplotlib painters, one per kind of thing in the picture.

Each painter takes the :class:`Canvas` and a piece of the :class:`~.layout.Layout`; the order
they are called in is the order things are stacked (and the order of ``ax.texts``).
matplotlib is imported only when a canvas is made.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

import networkx as nx

from netlab.views.draw.layout import (
    BR_H,
    C_H,
    C_W,
    PORTS_Y,
    TOP,
    BridgePlace,
    HostPlace,
    Layout,
    Point,
    Tunnel,
    Wire,
    drawn_as_box,
    is_host_only,
    port_label,
)
from netlab.views.topology import NodeKey, ns_node

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

HOT = "#ff7f0e"  # links on the highlighted path
FAILED = "#d62728"  # links of the path that nothing crossed (a request that failed)
PALETTE = ["#2a9d8f", "#e76f51", "#8ab17d", "#f4a261", "#6d597a"]
COLOURS = {"docker0": "#1d6fb8", "docker_gwbridge": "#7a7a7a", "br0": "#7b2cbf", "lan0": "#264653"}
ROLE_FILL = {"host": "#f4f6f8", "container": "#ffffff", "overlay": "#f3ecfa", "leftover": "#fde8e8"}
INTERNET = "#3a7d44"
RED = "#c0392b"  # leftovers
PUBLISHED = "#00897b"  # published ports (teal: red is a failed request's, orange a path's)
LAN_Y = 1.6


def bridge_colour(name: str, index: int) -> str:
    """A stable colour per bridge (user networks cycle through a palette)."""
    return COLOURS.get(name, PALETTE[index % len(PALETTE)])


def bridge_colours(nodes: dict[NodeKey, Any], layout: Layout) -> dict[NodeKey, str]:
    """Every shown bridge's colour; user networks take the palette's next, host by host."""
    colours = {}
    index = 0
    for hp in layout.hosts:
        for bp in hp.bridges:
            name = nodes[bp.node]["name"]
            colours[bp.node] = bridge_colour(name, index)
            if name not in COLOURS:
                index += 1
    return colours


def first_cidr(addrs: dict[str, list[str]], ifname: str) -> str:
    """The first address of ``ifname`` (``10.0.0.2/24``), or ``""``."""
    return (addrs.get(ifname) or [""])[0]


def release(figure: Figure) -> Figure:
    """``figure``, without the Agg renderer that last drew or measured it: a full-size RGBA
    buffer (3 MB for a lab's picture) that every text keeps a reference to, and that a
    notebook would keep for every picture in its output history. The figure keeps its
    artists; saving or showing it renders them again. (matplotlib forgets the same
    reference when it pickles a text.)"""
    from matplotlib.backend_bases import FigureCanvasBase
    from matplotlib.text import Text

    FigureCanvasBase(figure)
    for text in figure.findobj(Text):
        text._renderer = None  # type: ignore[attr-defined]
    return figure


def overlaps(figure: Figure, slack: float = 1.0) -> list[str]:
    """What in ``figure`` a reader cannot read: two texts that overlap, and a text that
    straddles a box's border (partly in, partly out). Measured in pixels on an Agg canvas
    at the figure's size (``slack``: pixels of overlap forgiven). Labels on a white pad
    (a wire's port name) may cross lines, which their pad covers; they are texts too, so
    two of them still may not overlap."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.patches import FancyBboxPatch
    from matplotlib.text import Text

    renderer = FigureCanvasAgg(figure).get_renderer()  # type: ignore[no-untyped-call]
    texts = [
        (t.get_text(), t.get_window_extent(renderer))
        for t in figure.findobj(Text)
        if t.get_visible() and t.get_text().strip()
    ]
    found = []
    for (a, ba), (b, bb) in itertools.combinations(texts, 2):
        w = min(ba.x1, bb.x1) - max(ba.x0, bb.x0)
        h = min(ba.y1, bb.y1) - max(ba.y0, bb.y0)
        if w > slack and h > slack:
            found.append(f"text {a!r} overlaps text {b!r}")
    for box in figure.findobj(FancyBboxPatch):
        edge = box.get_window_extent(renderer)
        inner = edge.padded(-slack)
        outer = edge.padded(slack)
        for text, bt in texts:
            inside = (
                inner.x0 <= bt.x0 and bt.x1 <= inner.x1 and inner.y0 <= bt.y0 and bt.y1 <= inner.y1
            )
            outside = (
                bt.x1 <= outer.x0 or bt.x0 >= outer.x1 or bt.y1 <= outer.y0 or bt.y0 >= outer.y1
            )
            if not inside and not outside:
                found.append(f"text {text!r} crosses the border of a box at {edge.bounds}")
    release(figure)
    return found


class Canvas:
    """The figure being painted, the graph it shows, and the primitives painters use."""

    def __init__(
        self,
        g: nx.Graph,
        layout: Layout,
        highlight: list[NodeKey] | None,
        failed: bool = False,
    ) -> None:
        import matplotlib

        matplotlib.use("Agg", force=False) if matplotlib.get_backend() == "" else None
        from matplotlib.figure import Figure

        self.nodes: dict[NodeKey, Any] = dict(g.nodes(data=True))
        # The path's links: orange, or red for the way a request that failed would have gone.
        colour = FAILED if failed else HOT
        self.hot_edges = {frozenset(p): colour for p in itertools.pairwise(highlight or [])}
        self.colours = bridge_colours(self.nodes, layout)
        self.figure = Figure(figsize=layout.figsize, dpi=100)
        self.ax: Axes = self.figure.add_axes((0, 0, 1, 0.97))
        self.ax.set_xlim(0, layout.width)
        self.ax.set_ylim(layout.y_min, TOP)
        self.ax.axis("off")

    def path_colour(self, *pairs: tuple[NodeKey | None, NodeKey | None]) -> str | None:
        """The colour of the highlighted path if it goes straight from ``a`` to ``b`` (for
        the first pair ``(a, b)`` of ``pairs`` that it takes), else None."""
        for a, b in pairs:
            if a is not None and b is not None and frozenset((a, b)) in self.hot_edges:
                return self.hot_edges[frozenset((a, b))]
        return None

    def box(
        self,
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
        """A rounded box with its lower left corner at ``x``, ``y``."""
        from matplotlib.patches import FancyBboxPatch

        self.ax.add_patch(
            FancyBboxPatch(
                (x, y), w, h, boxstyle=f"round,pad=0,rounding_size={r}", fc=fc, ec=ec, lw=lw, ls=ls
            )
        )

    def text(
        self,
        x: float,
        y: float,
        s: str,
        size: float = 9,
        *,
        fit: float = 0,
        cut: bool = False,
        **kw: Any,
    ) -> None:
        """Text centred on ``x``, ``y`` unless ``ha``/``va`` say otherwise; with ``fit``, made
        smaller (down to 5.5 points) until it is no wider than ``fit`` (in data units), and
        with ``cut`` then shortened, ending in an ellipsis, until it is."""
        t = self.ax.text(
            x,
            y,
            s,
            ha=kw.pop("ha", "center"),
            va=kw.pop("va", "center"),
            fontsize=size,
            family="DejaVu Sans",
            **kw,
        )
        if fit:
            from matplotlib.backends.backend_agg import FigureCanvasAgg

            if not isinstance(self.figure.canvas, FigureCanvasAgg):
                FigureCanvasAgg(self.figure)
            renderer = self.figure.canvas.get_renderer()  # type: ignore[attr-defined]
            unit = self.ax.transData.transform((1, 0))[0] - self.ax.transData.transform((0, 0))[0]
            while size > 5.5 and t.get_window_extent(renderer).width / unit > fit:
                size -= 0.5
                t.set_fontsize(size)
            while cut and len(s) > 2 and t.get_window_extent(renderer).width / unit > fit:
                s = s[:-2] + "\u2026"
                t.set_text(s)

    def arrow(self, start: Point, end: Point, **kw: Any) -> None:
        """A straight or curved arrow (or, with ``arrowstyle="-"``, a plain curve)."""
        from matplotlib.patches import FancyArrowPatch

        self.ax.add_patch(FancyArrowPatch(start, end, **kw))


def internet(cv: Canvas, layout: Layout) -> None:
    """The simulated internet's box, at the top in the middle."""
    mid = layout.width / 2
    cv.box(mid - 2.6, 2.9, 5.2, 1.1, "#eef6ee", INTERNET)
    cv.text(mid, 3.6, "simulated internet", 10, weight="bold")
    cv.text(mid, 3.15, "www.dockercon.com 198.51.100.80 \u00b7 DNS .53", 8)


def lan(cv: Canvas, layout: Layout) -> None:
    """The LAN switch as a bar across the picture, and the router's wan0 up to the internet."""
    width = layout.width
    cv.ax.plot(
        [0.6, width - 0.6], [LAN_Y, LAN_Y], color=COLOURS["lan0"], lw=5, solid_capstyle="round"
    )
    cv.text(
        0.7,
        2.0,
        "LAN 192.168.56.0/24  (switch lan0, router .1)",
        9,
        ha="left",
        color=COLOURS["lan0"],
        weight="bold",
    )
    if layout.internet:
        hot = cv.path_colour((layout.lan, layout.internet))
        cv.ax.plot(
            [width / 2, width / 2], [LAN_Y, 2.9], color=hot or INTERNET, lw=4 if hot else 1.5
        )
        cv.text(width / 2 + 0.15, 2.25, "wan0 203.0.113.1", 7, ha="left", color=INTERNET)


def client(cv: Canvas, layout: Layout, node: NodeKey) -> None:
    """The LAN client, a small box at the right end of the switch."""
    cx = layout.width - 1.1
    cv.box(cx - 0.9, 2.35, 1.8, 0.8, "#ffffff", COLOURS["lan0"])
    cv.text(cx, 2.85, "client", 8, weight="bold")
    cv.text(cx, 2.55, first_cidr(cv.nodes[node]["addresses"], "eth0").split("/")[0], 7)
    hot = cv.path_colour((node, layout.lan_switch), (node, layout.lan))
    cv.ax.plot([cx, cx], [LAN_Y, 2.35], color=hot or COLOURS["lan0"], lw=4 if hot else 1.2)


def host(cv: Canvas, layout: Layout, hp: HostPlace) -> None:
    """A Docker host's box with its name and eth0, hanging from the LAN switch."""
    hd = cv.nodes[hp.node]
    x0, top = hp.x0, hp.top
    cv.box(x0, hp.bottom, hp.w, top - hp.bottom, ROLE_FILL["host"], "#34495e", lw=1.8, r=0.3)
    # ("Docker host host" reads as a typo: a lab's single host is just "Docker host")
    name = "Docker host" if hd["label"] == "host" else f"Docker host {hd['label']}"
    cv.text(x0 + 0.25, top - 0.35, name, 11, ha="left", weight="bold")
    cv.text(
        x0 + 0.25,
        top - 0.8,
        f"eth0 {first_cidr(hd['addresses'], 'eth0')}  \u00b7  namespace {hd['ns']}",
        7.5,
        ha="left",
        color="#555555",
    )
    hot = cv.path_colour((hp.node, layout.lan_switch), (hp.node, layout.lan))
    cv.ax.plot([hp.mid, hp.mid], [top, LAN_Y], color=hot or COLOURS["lan0"], lw=4 if hot else 2)
    cv.text(
        hp.mid + 0.12, 1.1, f"eth0 \u2194 to-{hd['label']}", 7, ha="left", color=COLOURS["lan0"]
    )


def bridge(cv: Canvas, bp: BridgePlace) -> None:
    """A bridge's coloured bar with its name and addresses; an overlay's br0 inside the
    dashed box of its namespace, with its vxlan0 port."""
    bd = cv.nodes[bp.node]
    colour = cv.colours[bp.node]
    bx, by, bw = bp.x, bp.y, bp.w
    overlay = bd.get("role") == "overlay"
    if overlay:
        # (its dashed box: the network's name, then its namespace, inside the box's top)
        cv.box(bx - bw / 2 - 0.12, by - 0.85, bw + 0.24, 2.2, ROLE_FILL["overlay"], colour, ls="--")
        net = cv.nodes[ns_node(bd["ns"])]
        cv.text(bx, by + 1.07, net.get("network", ""), 7.5, color=colour, weight="bold", fit=bw)
        cv.text(bx, by + 0.72, f"ns {net['label']}", 6.5, color=colour, fit=bw)
    cv.box(bx - bw / 2, by - BR_H / 2, bw, BR_H, colour, colour)
    cv.text(bx, by + 0.15, bd["name"], 9, color="white", weight="bold", fit=bw - 0.1)
    cv.text(bx, by - 0.2, ", ".join(bd["addresses"]) or "no address", 7, color="white")
    if overlay:
        lb = next(
            (
                d
                for d in cv.nodes.values()
                if d.get("role") == "loadbalancer"
                and d.get("host") == bd.get("host")
                and d.get("network") == net.get("network")
            ),
            None,
        )
        ports = "+ vxlan0, veth-lb" if lb and not drawn_as_box(lb) else "+ vxlan0 (a port)"
        cv.text(bx, by - 0.68, ports, 7, color=colour, fit=bw + 0.2)


def container(cv: Canvas, node: NodeKey, at: Point) -> None:
    """A container's box: its name (smaller, then cut, to fit the box) and up to two
    addresses."""
    x, y = at
    d = cv.nodes[node]
    if d.get("role") == "loadbalancer":  # (a namespace of Docker's, not a container: dashed)
        cv.box(x - C_W / 2, y - C_H / 2, C_W, C_H, ROLE_FILL["overlay"], COLOURS["br0"], ls="--")
    else:
        cv.box(x - C_W / 2, y - C_H / 2, C_W, C_H, ROLE_FILL["container"], "#34495e")
    cv.text(x, y + 0.38, d["label"], 8, weight="bold", fit=C_W - 0.2, cut=True)
    lines = [
        f"{ifname} {d['addresses'][ifname][0].split('/')[0]}" for ifname in sorted(d["addresses"])
    ]
    cv.text(x, y - 0.15, "\n".join(lines[:2]) or "no address", 7)


def more(cv: Canvas, hidden: int, at: Point) -> None:
    """The dotted box that stands for the containers not drawn ("+ 42 more")."""
    x, y = at
    cv.box(x - C_W / 2, y - C_H / 2, C_W, C_H, "#fafafa", "#999999", ls=":")
    cv.text(x, y, f"+ {hidden} more", 8, color="#555555")


def published_ports(cv: Canvas, hp: HostPlace) -> None:
    """Published ports, in a row under the host's name: ``tcp 8080 -> web1:80``. A port
    published on all addresses gets a teal arrow from the LAN into the host; one published on
    127.0.0.1 only is reachable from the host alone: grey, no arrow."""
    for px, target, d in hp.published:
        local = is_host_only(d)
        if not local:
            cv.arrow(
                (px + 0.05, 1.45),
                (px + 0.05, hp.top),
                arrowstyle="-|>",
                mutation_scale=12,
                color=PUBLISHED,
                lw=1.6,
            )
        label = port_label(d, str(cv.nodes[target].get("label", "?")))
        cv.text(px, PORTS_Y, label, 6.5, ha="left", color="#777777" if local else PUBLISHED)


def wire(cv: Canvas, w: Wire) -> None:
    """A veth line in its bridge's colour, the bridge-side name near the container end
    (where the lines are apart); an ingress-sbox's line to the ingress br0 in the next slot
    has it near that bridge: it crosses a task's line to docker_gwbridge mid-way."""
    colour = cv.colours.get(w.bridge, "#333333")
    hot = cv.path_colour((w.container, w.bridge))
    (cx, cy), (bx, by) = w.start, w.end
    cv.ax.plot([cx, bx], [cy, by], color=hot or colour, lw=3.5 if hot else 1.4, zorder=2)
    t = 0.3
    if cv.nodes[w.container].get("role") == "loadbalancer" and abs(bx - cx) >= C_W:
        t = 1 - 0.62 / max(by - cy, 0.62)  # (just under the overlay's box around the bar)
    cv.text(
        cx + (bx - cx) * t,
        cy + (by - cy) * t,
        w.port,
        6.5,
        color=colour,
        zorder=3,
        bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.85},
    )


def tunnel(cv: Canvas, tn: Tunnel) -> None:
    """A VXLAN tunnel: a thick dashed line on its lane, labelled with the VNI and UDP 4789."""
    colour = cv.path_colour(tn.ends) or COLOURS["br0"]
    cv.ax.plot(tn.xs, tn.ys, color=colour, lw=2.6, ls="--", zorder=1)
    lx, ly = tn.label_at
    cv.text(
        lx,
        ly,
        f"VNI {tn.data['vni']}" if tn.short_label else tn.data["label"],
        8,
        color=COLOURS["br0"],
        weight="bold",
        zorder=4,
        bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": COLOURS["br0"]},
    )


def leftovers(cv: Canvas, layout: Layout) -> None:
    """Namespaces of the lab that nothing explains, in red along the bottom."""
    for k, left in enumerate(layout.leftovers):
        lx = 0.6 + k * 3.3
        cv.box(lx, layout.y_min + 0.25, 3.1, 0.9, ROLE_FILL["leftover"], RED, ls="--")
        cv.text(
            lx + 1.55, layout.y_min + 0.7, f"leftover: {cv.nodes[left]['label']}", 7.5, color=RED
        )


def title(cv: Canvas, s: str) -> Figure:
    """The title at the top left; returns the finished figure."""
    cv.figure.suptitle(s, x=0.01, y=0.995, ha="left", va="top", fontsize=12, weight="bold")
    return cv.figure
