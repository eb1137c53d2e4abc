"""docker-proxy processes: one per published port and address family, as Docker 28 runs them
with its default ``"userland-proxy": true``.

For each port the daemon (here: netlab, on the kernel thread inside the Docker host's
namespace) opens the listening socket itself, so a port that something else holds fails before
any proxy starts, and hands it to ``docker-proxy`` as fd 4 with a status pipe as fd 3 (moby
v28.5.2 ``libnetwork/portmapper/proxy_linux.go``). ``-p 8080:80`` gets two: one for 0.0.0.0
and, where the host can listen on IPv6, one for ``::`` that also leads to the container's IPv4
address (``libnetwork/drivers/bridge/port_mapping_linux.go``). They end with SIGINT, as
Docker ends them, when the container's ports are released.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from netlab.errors import NetlabError
from netlab.kernel import containers, netns, proc
from netlab.kernel import docker_proxy as _program
from netlab.model.ports import PortMapping

if TYPE_CHECKING:
    from netlab.model.host import Host

PROGRAM = _program.__file__
START_TIMEOUT = 16.0  # seconds, as dockerd waits for a proxy's status


class ProxyError(NetlabError):
    """A published port that docker-proxy could not take (Docker's words in the message)."""


def argv(m: PortMapping, host_ip: str, container_ip: str) -> list[str]:
    """docker-proxy's command line, as Docker 28 starts it."""
    return [
        "-proto",
        m.proto,
        "-host-ip",
        host_ip,
        "-host-port",
        str(m.host_port),
        "-container-ip",
        container_ip,
        "-container-port",
        str(m.container_port),
        "-use-listen-fd",
    ]


def addresses(m: PortMapping, v6: bool) -> list[str]:
    """The host addresses a mapping gets a proxy on: 0.0.0.0 and ``::`` (where the host can
    listen on IPv6) for one published on every address, else its own."""
    if m.host_ip in ("0.0.0.0", ""):
        return ["0.0.0.0", "::"] if v6 else ["0.0.0.0"]
    return [m.host_ip]


def v6_listenable(ns: str) -> bool:
    """Can the namespace listen on IPv6 (Docker's ``netutils.IsV6Listenable``)?"""
    try:
        os.close(netns.listen_socket(ns, "tcp", "::1", 0))
    except OSError:
        return False
    return True


def start(host: Host, ports: Sequence[PortMapping], container_ip: str) -> list[tuple[int, int]]:
    """Start the proxies of a container's published ports; their (pid, start time). On a
    failure, those started are stopped again and :class:`ProxyError` says what failed."""
    started: list[tuple[int, int]] = []
    v6 = v6_listenable(host.ns)
    try:
        for m in ports:
            for ip in addresses(m, v6):
                started.append(_start_one(host.ns, m, ip, container_ip))
    except BaseException:
        stop(started)
        raise
    return started


def _start_one(ns: str, m: PortMapping, ip: str, container_ip: str) -> tuple[int, int]:
    try:
        sock = netns.listen_socket(ns, m.proto, ip, m.host_port)
    except OSError as exc:
        shown = f"[{ip}]" if ":" in ip else ip
        raise ProxyError(
            f"failed to bind host port for {shown}:{m.host_port}:{container_ip}:"
            f"{m.container_port}/{m.proto}: {exc.strerror.lower() if exc.strerror else exc}"
        ) from None
    args = argv(m, ip, container_ip)
    status_r, status_w = os.pipe()
    try:
        pid, started = containers.spawn(
            ns,
            [sys.executable, "-S", PROGRAM, *args],
            log_file=os.devnull,
            fds={3: status_w, 4: sock},
            shown_as=["docker-proxy", *args],
        )
        ready, _, _ = select.select([status_r], [], [], START_TIMEOUT)
        said = os.read(status_r, 4096).decode(errors="replace") if ready else ""
    finally:
        os.close(status_r)
    if not said.startswith("0\n"):
        stop([(pid, started)])
        why = said.partition("\n")[2] or "did not start"
        raise ProxyError(f"docker-proxy for {ip}:{m.host_port}/{m.proto}: {why}")
    return pid, started


def stop(proxies: Sequence[tuple[int, int]]) -> None:
    """End proxies as Docker does (SIGINT), or for good if they do not go (SIGKILL)."""
    proc.kill_groups(proxies, signal.SIGINT)
    with contextlib.suppress(Exception):
        proc.kill_groups([p for p in proxies if proc.alive(*p)], signal.SIGKILL)
