"""One machine of a lab (a container or a host) as the kernel sees it, with its ip commands.

``container.view()`` in a notebook shows the interfaces (with the bridge port at the other
end of each veth), the routes and the neighbour table, plus the ``ip`` commands that print
the same from a terminal, so a student can map the picture to what they would type.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from netlab.kernel import rtnl


@dataclass(frozen=True)
class MachineView:
    """Interfaces, routes and neighbours of one namespace, read from the kernel."""

    title: str
    ns: str
    links: tuple[rtnl.Link, ...]
    addrs: tuple[rtnl.Addr, ...]
    routes: tuple[rtnl.Route, ...]
    neighbours: tuple[rtnl.Neighbour, ...]
    commands: tuple[str, ...]

    def _addr(self, ifname: str) -> str:
        return ", ".join(a.cidr for a in self.addrs if a.ifname == ifname) or "-"

    def __str__(self) -> str:
        out = [self.title, "interfaces:"]
        for lk in self.links:
            peer = f" (veth, peer ifindex {lk.peer_index})" if lk.kind == "veth" else ""
            out.append(
                f"  {lk.name:<8} {'UP' if lk.up else 'DOWN':<5} {lk.mac}  mtu {lk.mtu}  "
                f"{self._addr(lk.name)}{peer}"
            )
        out.append("routes:")
        out += [
            f"  {r.dst}"
            + (f" via {r.gateway}" if r.gateway else "")
            + (f" dev {r.dev}" if r.dev else "")
            for r in self.routes
        ]
        out.append("neighbours:")
        out += [
            f"  {n.ip} lladdr {n.mac or '-'} dev {n.ifname} {n.state}" for n in self.neighbours
        ] or ["  (none yet)"]
        out.append("the same from a terminal:")
        out += [f"  {c}" for c in self.commands]
        return "\n".join(out)

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{html.escape(lk.name)}</td><td>{'UP' if lk.up else 'DOWN'}</td>"
            f"<td><code>{lk.mac}</code></td><td>{lk.mtu}</td><td>{self._addr(lk.name)}</td>"
            f"<td>{lk.kind}</td></tr>"
            for lk in self.links
        )
        routes = "".join(
            f"<li><code>{html.escape(r.dst)}{' via ' + r.gateway if r.gateway else ''}"
            f"{' dev ' + r.dev if r.dev else ''}</code></li>"
            for r in self.routes
        )
        neigh = (
            "".join(
                f"<li><code>{n.ip} lladdr {n.mac or '-'} dev {n.ifname} {n.state}</code></li>"
                for n in self.neighbours
            )
            or "<li>(none yet)</li>"
        )
        cmds = "".join(f"<li><code>{html.escape(c)}</code></li>" for c in self.commands)
        return (
            f"<b>{html.escape(self.title)}</b><table><tr><th>interface</th><th>state</th>"
            f"<th>MAC</th><th>MTU</th><th>addresses</th><th>kind</th></tr>{rows}</table>"
            f"routes<ul>{routes}</ul>neighbours<ul>{neigh}</ul>"
            f"the same from a terminal<ul>{cmds}</ul>"
        )


def view(title: str, ns: str, exec_prefix: str) -> MachineView:
    """Read a namespace's state; ``exec_prefix`` is how a student gets a shell there."""
    links = tuple(lk for lk in rtnl.links(ns))
    return MachineView(
        title=title,
        ns=ns,
        links=links,
        addrs=tuple(rtnl.addrs(ns)),
        routes=tuple(rtnl.routes(ns)),
        neighbours=tuple(rtnl.neighbours(ns)),
        commands=(
            f"{exec_prefix} ip -br link",
            f"{exec_prefix} ip -4 addr",
            f"{exec_prefix} ip route",
            f"{exec_prefix} ip neigh",
        ),
    )
