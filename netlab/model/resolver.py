"""The name server of a user-defined network (Docker's embedded DNS, played by dnsmasq).

Containers on a user-defined network find each other by name: Docker answers from its
embedded DNS server at 127.0.0.11 inside each container. netlab's name server for a network is
a small ``dnsmasq`` in the Docker host's namespace, listening on the bridge's gateway address
and answering from a hosts file that lists the network's containers (Docker's DNS names of each
endpoint: name, ``--network-alias`` names, short ID, hostname; and ``NAME.NETWORK`` first, which
a reverse lookup answers, as Docker's does); other names go on to the lab's internet DNS.
The containers' ``/etc/resolv.conf`` points at it and says so in a comment. The default
bridge has no name server of its own, as in Docker: its containers cannot resolve each other.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
from typing import TYPE_CHECKING

from netlab.kernel import containers, proc
from netlab.model import topology
from netlab.model.records import NetworkRec

if TYPE_CHECKING:
    from netlab.model.host import Host


def dnsmasq(listen: str, pid_file: str) -> list[str]:
    """A dnsmasq that answers on one address only, from its command line alone.

    No config file, no /etc/hosts, no upstream from /etc/resolv.conf, in the foreground,
    logging to stderr (so to the lab's log file); the rest is added by the caller.
    """
    return [
        "dnsmasq",
        "--keep-in-foreground",
        "--conf-file=/dev/null",
        "--no-resolv",
        "--no-hosts",
        "--bind-interfaces",
        f"--listen-address={listen}",
        "--user=root",
        "--log-facility=-",
        f"--pid-file={pid_file}",
    ]


def resolv_conf_path(host: Host, rec: NetworkRec) -> str:
    """The resolv.conf that containers on a user-defined network get."""
    return host.lab.store.path("networks", rec.id + ".resolv.conf")


def start(host: Host, rec: NetworkRec) -> NetworkRec:
    """Start the network's name server (call under the lab's lock, with the network in the
    host's record); returns the network's record with its pid, as now stored."""
    store = host.lab.store
    os.makedirs(store.path("networks"), exist_ok=True)
    hosts_file = store.path("networks", rec.id + ".hosts")
    with open(hosts_file, "w") as f:
        f.write("")
    with open(resolv_conf_path(host, rec), "w") as f:
        f.write(
            f"# netlab: Docker answers names on network {rec.name} from its embedded DNS\n"
            "# server at 127.0.0.11; netlab's name server for this network listens on the\n"
            f"# bridge's gateway address {rec.gateway} (a dnsmasq in the Docker host).\n"
            f"nameserver {rec.gateway}\n"
            "options ndots:0\n"
        )
    argv = [
        *dnsmasq(rec.gateway, store.path("networks", rec.id + ".pid")),
        f"--addn-hosts={hosts_file}",
        f"--server={topology.DNS_IP}",
        "--cache-size=0",
    ]
    pid, started = containers.spawn(
        host.ns, argv, log_file=store.path("networks", rec.id + ".dns.log")
    )
    started_rec = dataclasses.replace(rec, resolver_pid=pid, resolver_start=started)
    store.put_network(host.name, started_rec)  # (at once: a process must never go unrecorded)
    # Ready when it answers: also, a SIGHUP (a new container's name) that reached dnsmasq
    # before it set up its handler would end it (seen under load).
    proc.wait_listening(host.ns, [(rec.gateway, 53, "udp")])
    return started_rec


def stop(host: Host, rec: NetworkRec) -> None:
    """Stop the network's name server and remove its files."""
    if rec.resolver_pid:
        proc.kill_group(rec.resolver_pid, rec.resolver_start)
    for suffix in (".hosts", ".resolv.conf"):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(host.lab.store.path("networks", rec.id + suffix))


def refresh(host: Host, rec: NetworkRec) -> None:
    """Rewrite a network's hosts file from its containers and tell its dnsmasq (SIGHUP)."""
    lines = []
    for c in host.containers():
        ep = c.networks.get(rec.name)
        if ep and ep.ip:
            # Docker's DNS names of the endpoint (name, aliases, short ID, hostname), and
            # NAME.NETWORK first: what a reverse lookup answers (``a1.mynet``).
            names = [c.name, *ep.config.aliases, c.short_id, c.record.hostname]
            names = list(dict.fromkeys([f"{c.name}.{rec.name}", *names]))
            lines.append(f"{ep.ip}\t{' '.join(names)}\n")
    path = host.lab.store.path("networks", rec.id + ".hosts")
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.writelines(lines)
    os.replace(tmp, path)
    if rec.resolver_pid:
        # Docker's resolver knows a new container the moment ``docker run`` returns; waiting
        # for dnsmasq's own "read ... names" line gives the same guarantee without polling DNS.
        proc.hangup(
            rec.resolver_pid,
            rec.resolver_start,
            log_file=host.lab.store.path("networks", rec.id + ".dns.log"),
            says=b".hosts - ",
            timeout=2.0,
        )
