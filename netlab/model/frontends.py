"""The hooks through which front ends show model objects; the model imports no front end.

Some ways of looking at a model object are drawn by a front end: ``lab.draw()`` and
``lab.graph()`` (:mod:`netlab.views`), ``lab.explorer()`` (:mod:`netlab.notebook`),
``container.packet_path()`` and ``container.view()``. The model's method calls the function
a front end registered here under that name; the front ends register themselves when they
are imported, and :mod:`netlab` imports them (every import of a netlab module runs it
first), so the methods work wherever netlab does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from netlab.errors import NetlabError

_shown: dict[str, Callable[..., Any]] = {}


def provide(**functions: Callable[..., Any]) -> None:
    """Register what a front end shows, by name (called once, when it is imported)."""
    _shown.update(functions)


def show(name: str, *args: Any, **kwargs: Any) -> Any:
    """What the front end registered under ``name`` makes of ``args``."""
    fn = _shown.get(name)
    if fn is None:
        raise NetlabError(f"no front end shows {name!r} here: `import netlab` first")
    return fn(*args, **kwargs)
