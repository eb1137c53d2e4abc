"""The lab's fixed address plan and naming rules (pure data and checks, no root needed).

::

    (simulated internet)  nl-LAB-inet
        eth0 203.0.113.254/24        lo: 198.51.100.80 www.dockercon.com (ping, HTTP)
          |                              198.51.100.53 the lab's DNS server
    (LAN and router)      nl-LAB-lan
        wan0 203.0.113.1/24   bridge lan0 192.168.56.1/24 (the hosts' default gateway)
          |                     |  ports named after the hosts (to-node1, ...)
    (a LAN client)        nl-LAB-client  eth0 192.168.56.100/24: a machine outside Docker
    (Docker hosts)        nl-LAB-node1, nl-LAB-node2, ...
        eth0 192.168.56.11/24, .12, ...   docker0 172.17.0.1/16
          |
    (containers)          nl-LAB-<12-hex short ID>
        eth0 172.17.0.2/16, .3, ...   (veth; its host end vethXXXXXXX is a port of docker0)

The internet addresses come from the documentation ranges (RFC 5737), so nothing in a lab can
ever be mistaken for a real destination; the internet namespace routes the LAN directly (no
home-router NAT), so a web site sees the Docker host's address.
"""

from __future__ import annotations

import re

from netlab.errors import InvalidArgument

PREFIX = "nl"
LAN_SUBNET = "192.168.56.0/24"
LAN_GATEWAY = "192.168.56.1"
LAN_PREFIXLEN = 24
FIRST_HOST_OCTET = 11
WAN_ROUTER = "203.0.113.1"
WAN_INTERNET = "203.0.113.254"
WAN_PREFIXLEN = 24
WEB_SITE_NAME = "www.dockercon.com"
WEB_SITE_IP = "198.51.100.80"
DNS_IP = "198.51.100.53"
DOCKER0_SUBNET = "172.17.0.0/16"
DOCKER0_GATEWAY = "172.17.0.1"

# (Whole-string matches: ``re.match`` with ``$`` would accept a name ending in a newline.)
_LAB_RE = re.compile(r"[a-z0-9][a-z0-9_]{0,19}")
_HOST_RE = re.compile(r"[a-z][a-z0-9]{0,11}")
_CONTAINER_RE = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]+")  # Docker's: two characters at least
_NETWORK_RE = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]*")
_SHORT_ID_RE = re.compile(r"[0-9a-f]{12}")  # a container's namespace is nl-LAB-<short ID>
_SWARM_NAME_RE = re.compile(r"[a-zA-Z0-9](?:[-_]*[A-Za-z0-9]+)*")  # swarmkit's DNS component
RESERVED_HOSTS = frozenset({"lan", "inet", "client"})
CLIENT_IP = "192.168.56.100"


def check_lab_name(name: str) -> str:
    """A lab name: lowercase letters, digits and ``_``, 1-20 characters, no ``-``.

    The ``-`` is what separates the parts of a namespace name (``nl-demo-host``), so keeping it
    out of lab names makes every namespace's owner unambiguous.
    """
    if not _LAB_RE.fullmatch(name):
        raise InvalidArgument(
            f"invalid lab name {name!r}: use 1-20 lowercase letters, digits or '_', "
            "starting with a letter or digit (for example 'demo' or 'lab_1')"
        )
    return name


def check_host_name(name: str) -> str:
    """A Docker host name: lowercase letters and digits, starting with a letter, 1-12 chars."""
    if not _HOST_RE.fullmatch(name) or name in RESERVED_HOSTS:
        raise InvalidArgument(
            f"invalid host name {name!r}: use 1-12 lowercase letters or digits starting with a "
            "letter (for example 'host' or 'node1'); 'lan', 'inet' and 'client' are reserved"
        )
    if _SHORT_ID_RE.fullmatch(name):
        raise InvalidArgument(
            f"invalid host name {name!r}: 12 hexadecimal digits is what a container's short ID "
            "looks like, and the two would share a namespace name (nl-LAB-NAME); choose another"
        )
    return name


def check_container_name(name: str) -> str:
    """Docker's rule for container names: ``[a-zA-Z0-9][a-zA-Z0-9_.-]+``."""
    if not _CONTAINER_RE.fullmatch(name):
        raise InvalidArgument(
            f"Invalid container name ({name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"
        )
    return name


def check_network_name(name: str) -> str:
    """A network name: the characters Docker accepts in container names, one at least."""
    if not _NETWORK_RE.fullmatch(name) or len(name) > 63:
        raise InvalidArgument(
            f"invalid network name {name!r}: use letters, digits, '_', '.' or '-', starting "
            "with a letter or digit"
        )
    return name


def check_hostname(name: str) -> str:
    """A container's ``--hostname``: what the kernel takes (64 bytes at most), and nothing that
    would break the container's ``/etc/hosts`` line (spaces, control characters)."""
    if not name or len(name.encode()) > 64 or not name.isprintable() or " " in name:
        raise InvalidArgument(
            f"invalid hostname {name!r}: use 1-64 characters without spaces (the kernel's "
            "limit for a hostname is 64)"
        )
    return name


def check_swarm_name(name: str) -> str:
    """swarmkit's rule for a service's or a swarm network's name: a DNS name component
    (letters and digits, ``-`` or ``_`` only between them), 63 characters at most."""
    if not name:
        raise InvalidArgument(
            "rpc error: code = InvalidArgument desc = meta: name must be provided"
        )
    if not _SWARM_NAME_RE.fullmatch(name):
        raise InvalidArgument(
            "rpc error: code = InvalidArgument desc = name must be valid as a DNS name component"
        )
    if len(name) > 63:
        raise InvalidArgument(
            "rpc error: code = InvalidArgument desc = name must be 63 characters or fewer"
        )
    return name


def ns_prefix(lab: str) -> str:
    """Every namespace of a lab starts with this: ``nl-LAB-``."""
    return f"{PREFIX}-{lab}-"


def ns_name(lab: str, part: str) -> str:
    """The namespace of one part of a lab: ``lan``, ``inet``, a host name or a short ID."""
    return f"{ns_prefix(lab)}{part}"


def lab_of_ns(ns: str) -> str | None:
    """The lab a namespace name belongs to, or None if it is not netlab's form."""
    parts = ns.split("-", 2)
    if len(parts) == 3 and parts[0] == PREFIX and _LAB_RE.fullmatch(parts[1]) and parts[2]:
        return parts[1]
    return None


def host_address(index: int) -> str:
    """The LAN address of the ``index``-th Docker host (0-based): 192.168.56.11, .12, ..."""
    if not 0 <= index < 200:
        raise InvalidArgument("a lab has at most 200 Docker hosts")
    return f"192.168.56.{FIRST_HOST_OCTET + index}"


def lan_port(host: str) -> str:
    """The name of a host's port on the LAN switch (lan0), at most 15 characters."""
    return f"to-{host}"
