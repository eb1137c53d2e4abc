"""The null driver: ``--network none`` gives a namespace with ``lo`` and nothing else."""

from __future__ import annotations

from typing import ClassVar

from netlab.model.drivers.base import Driver


class NullDriver(Driver):
    """A namespace of its own, with no endpoint in it."""

    name: ClassVar[str] = "null"
