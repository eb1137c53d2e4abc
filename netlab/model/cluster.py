"""The swarm's membership: which node plays which role, and the swarm's record.

Both the swarm's control plane (:mod:`netlab.model.swarm`: init, join, services) and the
overlay driver (:mod:`netlab.model.drivers.overlay`: networks only a manager creates) ask
these questions, so they live below both.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from netlab.errors import NetlabError
from netlab.model.records import ServiceRec, SwarmRec

if TYPE_CHECKING:
    from netlab.model.host import Host
    from netlab.model.lab import Lab

NOT_MANAGER = (
    "This node is not a swarm manager. Worker nodes can't be used to view or modify "
    "cluster state. Please run this command on a manager node or promote the current "
    "node to a manager."
)
NOT_IN_SWARM = (
    'This node is not a swarm manager. Use "docker swarm init" or "docker swarm '
    'join" to connect this node to swarm and try again.'
)


class SwarmError(NetlabError):
    """A swarm command refused, in Docker's words."""


def current(lab: Lab) -> SwarmRec | None:
    """The swarm record, or None before ``docker swarm init``."""
    return lab.store.lab_record.swarm


def live(lab: Lab) -> SwarmRec:
    """The swarm record as stored now (every step that changes it writes it back)."""
    sw = current(lab)
    if sw is None:
        raise SwarmError(NOT_IN_SWARM)
    return sw


def services(lab: Lab) -> list[ServiceRec]:
    """The swarm's services (none outside a swarm)."""
    sw = current(lab)
    return list(sw.services.values()) if sw else []


def role(host: Host) -> str | None:
    """``manager``, ``worker`` or None (not in the swarm)."""
    sw = current(host.lab)
    if not sw or host.name not in sw.nodes or sw.nodes[host.name].status != "ready":
        return None
    return sw.nodes[host.name].role


def require_manager(host: Host) -> SwarmRec:
    """The swarm record, or Docker's refusal when ``host`` is no manager."""
    r = role(host)
    if r is None:
        raise SwarmError(NOT_IN_SWARM)
    if r != "manager":
        raise SwarmError(NOT_MANAGER)
    return live(host.lab)
