"""ipywidgets views: the explorer (pick two machines, ping or curl, see the path).

``lab.explorer()`` shows two drop-downs (from, to), a choice of ping or curl, a Run button,
the result of the real command, and the lab's picture with the packet's path lit up in
orange (in red, as far as tcpdump saw it go, when the request failed). "Refresh picture"
discovers the topology again, after changes made in other cells or from a terminal. Its words
are the notebook's language (English, or Korean in labs/ko). Nothing animates: every update
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
from netlab.notebook.exercise import Text
from netlab.views import capture
from netlab.views import draw as drawing
from netlab.views.topology import NodeKey, discover, ns_node

if TYPE_CHECKING:
    from netlab.model.lab import Lab

# The explorer's words, in the notebook's language (see netlab/notebook/exercise.py).
WORDS = {
    "note": Text(
        en="(interactive explorer: it needs a live Jupyter kernel with ipywidgets; shown here "
        "as a static picture)",
        ko="(대화형 익스플로러: ipywidgets가 있는 실행 중인 Jupyter 커널이 필요합니다. 여기서는 "
        "정지된 그림으로 보입니다)",
    ),
    "from": Text(en="from", ko="보내는 곳"),
    "to": Text(en="to", ko="받는 곳"),
    "run": Text(en="Run", ko="실행"),
    "refresh": Text(en="Refresh picture", ko="그림 새로 고침"),
    "choose": Text(
        en="choose two machines and press Run", ko="머신 두 개를 고르고 실행을 누르세요"
    ),
    "reached": Text(en="reached", ko="도착했습니다"),
    "seen": Text(en="last seen at {where}", ko="마지막으로 보인 곳: {where}"),
    "never": Text(en="it never left {where}", ko="{where} 밖으로 나가지 못했습니다"),
    "failed": Text(
        en="failed (exit {code}): {where}, its way drawn in red",
        ko="실패했습니다(종료 상태 {code}): {where}. 지나간 길은 빨간색으로 그렸습니다",
    ),
    "path": Text(en="path", ko="경로"),
    "would": Text(en="the way it would have taken", ko="가려던 경로"),
    "sent": Text(en="<b>{cmd}</b> from {src}", ko="{src}에서 보낸 <b>{cmd}</b>"),
}


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
        self.source = w.Dropdown(description=WORDS["from"].say())
        self.target = w.Dropdown(description=WORDS["to"].say())
        self.tool = w.ToggleButtons(options=["ping", "curl"], value="ping")
        self.run_button = w.Button(description=WORDS["run"].say(), button_style="primary")
        self.refresh_button = w.Button(description=WORDS["refresh"].say())
        self.result = w.HTML(value=f"<i>{WORDS['choose'].say()}</i>")
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
            verdict, drawn = WORDS["reached"].say(), self.path
        else:
            # A request that failed: its way in red, as far as it went.
            last = max((i for i, ns in enumerate(spaces) if seen.get(ns)), default=-1)
            drawn = self.path[: last + 1]
            where = (
                WORDS["seen"].say(where=self._label(self.path[last]))
                if last >= 0
                else WORDS["never"].say(where=src.label)
            )
            verdict = WORDS["failed"].say(code=done.returncode, where=where)
        sent = WORDS["sent"].say(cmd=html.escape(shlex.join(cmd)), src=html.escape(src.label))
        self.result.value = (
            f"{sent}: {html.escape(verdict)}<pre>{html.escape(text)}</pre>"
            f"{WORDS['path' if ok else 'would'].say()}: {html.escape(hops)}"
        )
        self.picture.value = png(self.lab, drawn, self.graph, failed=not ok)
        return text

    def _label(self, node: NodeKey) -> str:
        return str(self.graph.nodes[node].get("label") or node[-1])

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        bundle: dict[str, Any] = dict(self.widget._repr_mimebundle_(**kwargs) or {})
        bundle["image/png"] = base64.b64encode(bytes(self.picture.value)).decode()
        bundle["text/plain"] = WORDS["note"].say()
        return bundle
