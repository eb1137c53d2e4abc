"""ipywidgets views: the explorer (pick two machines, ping or curl, see the path).

``lab.explorer()`` shows two drop-downs (from, to), a choice of ping or curl, a Run button,
the result of the real command, and the lab's picture with the packet's path lit up in
orange (in red when the request failed). "Refresh picture" discovers the topology again,
after changes made in other cells or from a terminal. Nothing animates: every update
replaces a widget's value, which keeps notebooks testable with nbval.

Where widgets cannot render (a static viewer, a public Binder page, GitHub), the explorer
falls back to a static picture and a note: its display bundle carries a PNG and a plain-text
explanation next to the widget itself.
"""

from __future__ import annotations

import base64
import html
import io
import shlex
import subprocess
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from netlab.kernel import containers, proc
from netlab.model import topology
from netlab.model.state import removed_message
from netlab.views import capture
from netlab.views import draw as drawing
from netlab.views.topology import NodeKey, discover, ns_node

if TYPE_CHECKING:
    from netlab.model.lab import Lab

NOTE = (
    "(interactive explorer: it needs a live Jupyter kernel with ipywidgets; shown here as a "
    "static picture)"
)


@dataclass(frozen=True)
class Machine:
    """Something to send from or to: its label, how to run a command in it, its address."""

    label: str
    prefix: tuple[str, ...]  # argv prefix that runs a command inside it ("" for none)
    address: str
    node: NodeKey


def machines(lab: Lab) -> list[Machine]:
    """Every machine of the lab the explorer offers, in a stable order."""

    out = []
    for h in lab.hosts:
        out.append(Machine(f"host {h.name}", tuple(h.command_prefix()), h.address, ns_node(h.ns)))
        for c in h.containers():
            out.append(
                Machine(
                    f"container {c.name} ({h.name})",
                    tuple(containers.container_prefix(c.record.pid)),
                    c.ip or "",
                    ns_node(c.ns),
                )
            )
    client = topology.ns_name(lab.name, "client")
    out.append(
        Machine(
            "LAN client",
            tuple(proc.netns_prefix(client, "client")),
            topology.CLIENT_IP,
            ns_node(client),
        )
    )
    out.append(
        Machine(
            f"internet {topology.WEB_SITE_NAME}",
            (),
            topology.WEB_SITE_NAME,
            ns_node(topology.ns_name(lab.name, "inet")),
        )
    )
    return out


def png(
    lab: Lab,
    highlight: list[NodeKey] | None = None,
    graph: Any = None,
    failed: bool = False,
) -> bytes:
    """The lab's picture as PNG bytes (``failed``: see :func:`netlab.views.draw.draw`)."""
    fig = drawing.draw(lab, graph, highlight=highlight, failed=failed)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    return buf.getvalue()


class Explorer:
    """The widget behind ``lab.explorer()``; its parts are attributes, for tests and reuse."""

    def __init__(self, lab: Lab) -> None:
        import ipywidgets as w

        self.lab = lab
        self.source = w.Dropdown(description="from")
        self.target = w.Dropdown(description="to")
        self.tool = w.ToggleButtons(options=["ping", "curl"], value="ping")
        self.run_button = w.Button(description="Run", button_style="primary")
        self.refresh_button = w.Button(description="Refresh picture")
        self.result = w.HTML(value="<i>choose two machines and press Run</i>")
        self.picture = w.Image(format="png")
        self.path: list[NodeKey] = []
        self.run_button.on_click(self.run)
        self.refresh_button.on_click(self.refresh)
        self.widget = w.VBox(
            [
                w.HBox([self.source, self.target]),
                w.HBox([self.tool, self.run_button, self.refresh_button]),
                self.result,
                self.picture,
            ]
        )
        self.refresh()

    def _gone(self) -> bool:
        """True, and said in the explorer, once the lab is removed (no nsenter error then)."""
        if self.lab.is_up:
            return False
        self.result.value = f"<b>{html.escape(removed_message(self.lab.name))}</b>"
        return True

    def refresh(self, _: object = None) -> None:
        """Discover the lab again and redraw (keeps the chosen machines if they still exist)."""
        if self._gone():
            return
        self._machines = {m.label: m for m in machines(self.lab)}
        labels = list(self._machines)
        old_s, old_t = self.source.value, self.target.value
        self.source.options = [m for m in labels if self._machines[m].prefix]
        self.target.options = labels
        if old_s in self.source.options:
            self.source.value = old_s
        if old_t in labels:
            self.target.value = old_t
        elif len(labels) > 1:
            self.target.value = labels[-1]
        self.graph = discover(self.lab)
        self.picture.value = png(self.lab, self.path, self.graph)

    def run(self, _: object = None) -> str:
        """Run ping or curl from the source to the target; show the output and the path."""
        if self._gone():
            return ""
        src = self._machines[self.source.value]
        dst = self._machines[self.target.value]
        if self.tool.value == "ping":
            cmd = ["ping", "-c", "1", "-W", "2", dst.address]
            request = "icmp[icmptype] == icmp-echo"  # (what tcpdump counts along the way)
        else:
            request = "tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn"
            # (curl reads the \n of -w itself: the line shown can be pasted into a shell)
            cmd = ["curl", "-sS", "-m", "3", "-o", "/dev/null"]
            cmd += ["-w", "HTTP %{http_code} from %{remote_ip}\\n", f"http://{dst.address}/"]
        self.path = drawing.path(self.graph, src.node, dst.node)
        runs: list[subprocess.CompletedProcess[str]] = []

        def send() -> None:
            runs.append(
                subprocess.run(
                    [*src.prefix, *cmd], capture_output=True, text=True, timeout=30, check=False
                )
            )

        # tcpdump in every namespace on the way counts the request's first packet.
        spaces = [self.graph.nodes[n].get("ns", "") for n in self.path]
        seen = capture.seen_where([ns for ns in spaces if ns], send, request)
        done = runs[0]
        text = (done.stdout + done.stderr).strip()
        if done.returncode != 0:  # (curl's -w line of a request that got no answer says nothing)
            text = "\n".join(ln for ln in text.splitlines() if not ln.startswith("HTTP 000"))
        hops = " \u2192 ".join(self._label(n) for n in self.path)
        ok = done.returncode == 0
        if ok:
            verdict, drawn = "reached", self.path
        else:
            # A request that failed: its way in red, as far as it went.
            last = max((i for i, ns in enumerate(spaces) if seen.get(ns)), default=-1)
            drawn = self.path[: last + 1]
            where = (
                f"last seen at {self._label(self.path[last])}"
                if last >= 0
                else f"it never left {src.label}"
            )
            verdict = f"failed (exit {done.returncode}): {where}, its way drawn in red"
        self.result.value = (
            f"<b>{html.escape(shlex.join(cmd))}</b> from {html.escape(src.label)}"
            f": {html.escape(verdict)}<pre>{html.escape(text)}</pre>"
            f"{'path' if ok else 'the way it would have taken'}: {html.escape(hops)}"
        )
        self.picture.value = png(self.lab, drawn, self.graph, failed=not ok)
        return text

    def _label(self, node: NodeKey) -> str:
        return str(self.graph.nodes[node].get("label") or node[-1])

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        bundle: dict[str, Any] = dict(self.widget._repr_mimebundle_(**kwargs) or {})
        bundle["image/png"] = base64.b64encode(bytes(self.picture.value)).decode()
        bundle["text/plain"] = NOTE
        return bundle
