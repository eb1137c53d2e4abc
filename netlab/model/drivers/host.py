"""The host driver: ``--network host`` shares the Docker host's own network namespace.

The container gets no interface of its own: it sees the host's ``eth0``, ``docker0`` and
routes, and a server in it listens on the host's addresses (so ``-p`` means nothing here).
"""

from __future__ import annotations

from typing import ClassVar

from netlab.model.drivers.base import Driver


class HostDriver(Driver):
    """No namespace, no endpoint: the container lives in the host's network."""

    name: ClassVar[str] = "host"
    own_namespace: ClassVar[bool] = False
