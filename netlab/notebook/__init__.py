"""Notebook front end: IPython magics (``%load_ext netlab``) and the ipywidgets explorer.

Importing this package registers ``lab.explorer()`` with :mod:`netlab.model.frontends`;
ipywidgets loads only when an explorer is first asked for.
"""

from __future__ import annotations

from typing import Any

from netlab.model import frontends


def _explorer(lab: Any) -> Any:
    from netlab.notebook.widgets import Explorer  # (ipywidgets: only when asked)

    return Explorer(lab)


frontends.provide(explorer=_explorer)
