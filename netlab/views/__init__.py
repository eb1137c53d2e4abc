"""Front-end views: what Docker prints (tables) and what a notebook shows (pictures, paths).

Importing this package registers with :mod:`netlab.model.frontends` what model objects show
through it: ``lab.graph()``, ``lab.draw()``, ``container.packet_path()`` and
``container.view()``. networkx and matplotlib load only when a picture is first asked for.
"""

from __future__ import annotations

from typing import Any

from netlab.model import frontends
from netlab.views import machine, ports


def _graph(lab: Any) -> Any:
    from netlab.views.topology import discover  # (networkx: only when asked)

    return discover(lab)


def _draw(lab: Any, path: str | None = None, *, highlight: list[Any] | None = None) -> Any:
    from netlab.views.draw import Picture, draw  # (matplotlib: only when asked)

    pic = Picture(draw(lab, highlight=highlight), lab.name)
    if path:
        pic.save(path)
    return pic


frontends.provide(
    graph=_graph, draw=_draw, packet_path=ports.packet_path, machine_view=machine.view
)
