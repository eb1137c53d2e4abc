"""Published ports: ``-p`` parsing, host-port allocation and conflicts (pure logic, no root).

Forms Docker accepts, and what they mean::

    -p 8080:80              host port 8080 on every address -> container port 80/tcp
    -p 80                   an ephemeral host port (from 32768 up) -> 80/tcp
    -p 127.0.0.1:8080:80    only on the host's loopback address
    -p 127.0.0.1::80        ephemeral, on loopback
    -p 8080:80/udp          UDP
    -p 8080-8081:80-81      a range (the same length on both sides)

>>> parse_publish("127.0.0.1:8080:80/udp")
[PortMapping(host_ip='127.0.0.1', host_port=8080, container_port=80, proto='udp')]
>>> [m.host_port for m in parse_publish("8080-8081:80-81")]
[8080, 8081]
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

from netlab.errors import Conflict, InvalidArgument

MAX_RANGE = 100  # one nftables rule per port: a 65535-port range would be a denial of service
EPHEMERAL_FIRST = 32768
EPHEMERAL_LAST = 60999


@dataclass(frozen=True)
class PortMapping:
    """One published port; ``host_port`` 0 means "pick an ephemeral one", and with
    ``host_last`` "pick the first free one from ``host_port`` to ``host_last``" (``-p
    9085-9087:80``, a host range for one container port)."""

    host_ip: str
    host_port: int
    container_port: int
    proto: str
    host_last: int = 0

    @property
    def key(self) -> str:
        """``80/tcp``: how Docker names the container side."""
        return f"{self.container_port}/{self.proto}"

    def shown(self) -> str:
        """``0.0.0.0:8080->80/tcp``, as ``docker ps`` shows it."""
        return f"{self.host_ip}:{self.host_port}->{self.container_port}/{self.proto}"


def _range(text: str, spec: str, *, host: bool) -> list[int]:
    if host and text in ("", "0"):  # (go-connections nat/parse.go takes 0: any free port)
        return [0]
    first, dash, last = text.partition("-")
    if not first.isdigit() or (dash and not last.isdigit()):
        what = "hostPort" if host else "containerPort"
        raise InvalidArgument(f"invalid {what}: {text}")
    lo, hi = int(first), int(last) if dash else int(first)
    if not (1 <= lo <= 65535 and 1 <= hi <= 65535) or hi < lo:
        what = "hostPort" if host else "containerPort"
        raise InvalidArgument(f"invalid {what}: {text}")
    return list(range(lo, hi + 1))


def parse_publish(spec: str) -> list[PortMapping]:
    """Parse one ``-p`` value into mappings (several for a range)."""
    rest, _, proto = spec.partition("/")
    proto = proto or "tcp"
    if proto not in ("tcp", "udp", "sctp"):
        raise InvalidArgument(f"invalid proto: {proto}")
    if proto == "sctp":
        raise InvalidArgument("netlab publishes tcp and udp ports only")
    parts = rest.rsplit(":", 2)
    if len(parts) == 1:
        host_ip, host_part, cont_part = "0.0.0.0", "", parts[0]
    elif len(parts) == 2:
        host_ip, host_part, cont_part = "0.0.0.0", parts[0], parts[1]
    else:
        host_ip, host_part, cont_part = parts
        host_ip = host_ip.strip("[]") or "0.0.0.0"
    if not cont_part:
        raise InvalidArgument(f"no port specified: {spec}<empty>")  # (go-connections nat.go)
    try:
        ip = ipaddress.ip_address(host_ip)
    except ValueError:
        raise InvalidArgument(f"invalid IP address: {host_ip}") from None
    if ip.version != 4:
        raise InvalidArgument(f"netlab labs are IPv4 only: cannot publish on {host_ip}")
    conts = _range(cont_part, spec, host=False)
    hosts = _range(host_part, spec, host=True)
    if hosts == [0]:
        hosts = [0] * len(conts)
    if len(conts) == 1 and len(hosts) > 1:  # (Docker takes the first free port of the range)
        return [PortMapping(str(ip), hosts[0], conts[0], proto, host_last=hosts[-1])]
    if len(hosts) != len(conts):
        raise InvalidArgument(
            f"invalid ranges specified for container and host Ports: {cont_part} and {host_part}"
        )
    if len(conts) > MAX_RANGE:
        raise InvalidArgument(
            f"netlab publishes at most {MAX_RANGE} ports per -p, not {len(conts)}: {spec}"
        )
    return [PortMapping(str(ip), h, c, proto) for h, c in zip(hosts, conts, strict=True)]


def _clash(a: PortMapping, b: PortMapping) -> bool:
    same_ip = a.host_ip == b.host_ip or "0.0.0.0" in (a.host_ip, b.host_ip)
    return a.proto == b.proto and a.host_port == b.host_port and same_ip


def allocate(
    wanted: Iterable[PortMapping], taken: Iterable[PortMapping], endpoint: str = ""
) -> list[PortMapping]:
    """Give ephemeral host ports and refuse taken ones, with Docker's words.

    >>> allocate([PortMapping("0.0.0.0", 0, 80, "tcp")], [])[0].host_port
    32768
    """
    done: list[PortMapping] = []
    used = list(taken)
    for m in wanted:
        if m.host_port == 0:
            port = EPHEMERAL_FIRST
            while any(
                _clash(PortMapping(m.host_ip, port, m.container_port, m.proto), u) for u in used
            ):
                port += 1
                if port > EPHEMERAL_LAST:
                    raise Conflict(
                        f"no available ephemeral ports in range {EPHEMERAL_FIRST}-{EPHEMERAL_LAST}"
                    )
            m = PortMapping(m.host_ip, port, m.container_port, m.proto)
        elif m.host_last:
            free = [
                p
                for p in range(m.host_port, m.host_last + 1)
                if not any(
                    _clash(PortMapping(m.host_ip, p, m.container_port, m.proto), u) for u in used
                )
            ]
            if not free:
                raise Conflict(
                    # (moby v28.5.2 libnetwork/portallocator/portallocator.go ErrAllPortsAllocated)
                    "failed to set up container networking: driver failed programming external "
                    f"connectivity on endpoint {endpoint}: all ports are allocated"
                )
            m = PortMapping(m.host_ip, free[0], m.container_port, m.proto)
        elif any(_clash(m, u) for u in used):
            raise Conflict(
                "failed to set up container networking: driver failed programming external "
                f"connectivity on endpoint {endpoint}: Bind for {m.host_ip}:{m.host_port} failed: "
                "port is already allocated"
            )
        used.append(m)
        done.append(m)
    return done


def ps_column(mappings: Iterable[PortMapping], exposed: Iterable[str]) -> str:
    """The PORTS column: exposed-only ports first, then published ones, sorted like Docker."""
    ms = sorted(mappings, key=lambda m: (m.container_port, m.host_ip, m.host_port, m.proto))
    published = {m.key for m in ms}
    bare = sorted(
        (e for e in exposed if e not in published), key=lambda e: (int(e.split("/")[0]), e)
    )
    return ", ".join([*bare, *(m.shown() for m in ms)])
