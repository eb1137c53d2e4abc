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
* VXLAN tunnels between the overlay namespaces of different hosts: thick dashed lines that
  run down beside their namespace's box and along a lane of their own under the host boxes,
  labelled with the VNI and UDP 4789 (no line crosses a box or a label);
* published ports: arrows from the LAN into the host, labelled ``tcp 8080 -> web1:80`` in a
  row under the host's name; a port published on 127.0.0.1 only is grey, with no arrow;
* leftovers (namespaces of the lab that nothing explains) in red at the bottom.

Past eight containers per bridge the row is summarised (``+ 42 more``), so a lab of fifty
containers stays readable. Everything drawn comes from :func:`netlab.views.topology.discover`.

Two modules: :mod:`.layout` decides where everything goes (pure geometry, no matplotlib),
:mod:`.paint` how it looks (colours, text, matplotlib); :func:`draw` is the recipe.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

import networkx as nx

from netlab.views.draw import layout, paint
from netlab.views.draw.paint import bridge_colour
from netlab.views.topology import NodeKey, discover

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from netlab.model.lab import Lab

__all__ = ["Picture", "bridge_colour", "draw", "path", "save"]


def draw(
    lab: Lab,
    graph: nx.Graph | None = None,
    *,
    title: str | None = None,
    highlight: list[NodeKey] | None = None,
    failed: bool = False,
) -> Figure:
    """Render the lab's live topology; returns a matplotlib Figure (nothing is shown).

    ``highlight`` is a path of graph nodes (see :func:`path`): its links are drawn thick and
    orange, the way a packet would go (``failed``: red, the way a request that failed would
    have gone).
    """
    g = graph if graph is not None else discover(lab)
    plan = layout.plan(g)
    cv = paint.Canvas(g, plan, highlight, failed)
    if plan.internet:
        paint.internet(cv, plan)
    if plan.lan:
        paint.lan(cv, plan)
    if plan.client:
        paint.client(cv, plan, plan.client)
    for host in plan.hosts:
        paint.host(cv, plan, host)
        for bridge in host.bridges:
            paint.bridge(cv, bridge)
            for container, at in bridge.containers:
                paint.container(cv, container, at)
            if bridge.more:
                paint.more(cv, *bridge.more)
        paint.published_ports(cv, host)
    for wire in plan.wires:
        paint.wire(cv, wire)
    for tunnel in plan.tunnels:
        paint.tunnel(cv, tunnel)
    paint.leftovers(cv, plan)
    return paint.release(paint.title(cv, title or f"lab {lab.name}"))


def save(lab: Lab, path: str, graph: nx.Graph | None = None) -> str:
    """Draw the lab into a PNG or SVG file (by its extension); returns the path."""
    fig = draw(lab, graph)
    fig.savefig(path, dpi=110)
    paint.release(fig)
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
        paint.release(self.figure)
        return path

    def _repr_png_(self) -> bytes:

        buf = io.BytesIO()
        self.figure.savefig(buf, format="png", dpi=90)
        paint.release(self.figure)
        return buf.getvalue()

    def __repr__(self) -> str:
        return f"<picture of lab {self.lab}, drawn from the kernel>"
