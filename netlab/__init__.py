"""netlab: Docker networking built from real Linux kernel objects, for hands-on labs.

The public API is flat::

    from netlab import Lab
    with Lab("demo") as lab:
        c = lab.host().run("ubuntu", "sleep infinity")
        print(c.ip, c.exec("ip -br addr").stdout)

Layers, each knowing only the one below it: :mod:`netlab.kernel` (the only code that talks
to Linux), :mod:`netlab.model` (Docker's concepts), then the front ends
(:mod:`netlab.views`, :mod:`netlab.cli`).
"""

from __future__ import annotations

# The front ends that model objects show themselves through (lab.draw(), lab.explorer(),
# container.packet_path()...) register when imported: see netlab.model.frontends.
from netlab import notebook as _notebook  # noqa: F401  (registration only)
from netlab import views as _views  # noqa: F401  (registration only)
from netlab.cli import main as _cli  # noqa: F401  (registration only)
from netlab.errors import (
    Conflict,
    InvalidArgument,
    LabBroken,
    LabInUse,
    LabRebuilt,
    NetlabError,
    NoSuchContainer,
    NoSuchHost,
    NoSuchImage,
    NoSuchLab,
    NoSuchNetwork,
    NotFound,
    NotRunning,
    PrivilegeError,
    StartFailed,
    ToolMissing,
)
from netlab.model.container import Container
from netlab.model.host import Host, Network
from netlab.model.lab import Lab

__version__ = "0.1.0"


def load_ipython_extension(ipython: object) -> None:
    """``%load_ext netlab``: the ``%docker`` and ``%on`` magics."""
    from netlab.notebook.magics import load_ipython_extension as load

    load(ipython)


__all__ = [
    "Conflict",
    "Container",
    "Host",
    "InvalidArgument",
    "Lab",
    "LabBroken",
    "LabInUse",
    "LabRebuilt",
    "NetlabError",
    "Network",
    "NoSuchContainer",
    "NoSuchHost",
    "NoSuchImage",
    "NoSuchLab",
    "NoSuchNetwork",
    "NotFound",
    "NotRunning",
    "PrivilegeError",
    "StartFailed",
    "ToolMissing",
    "__version__",
]
