"""The name server of a user-defined network (Docker's embedded DNS, played by dnsmasq).

Containers on a user-defined network find each other by name: Docker answers from its
embedded DNS server at 127.0.0.11 inside each container. netlab's name server for a network is
a small ``dnsmasq`` in the Docker host's namespace, listening on the bridge's gateway address
and answering from a hosts file that lists the network's containers (name and short ID); other
names go on to the lab's internet DNS. The containers' ``/etc/resolv.conf`` points at it and
says so in a comment. The default bridge has no name server of its own, as in Docker: its
containers cannot resolve each other.
"""

from __future__ import annotations

import contextlib
import os
from typing import TYPE_CHECKING

from netlab.kernel import proc
from netlab.model import topology
from netlab.model.state import Record

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


def resolv_conf_path(host: Host, rec: Record) -> str:
    """The resolv.conf that containers on a user-defined network get."""
    return host.lab.store.path("networks", rec["Id"] + ".resolv.conf")


def start(host: Host, rec: Record) -> None:
    """Start the network's name server (its pid goes into the network record)."""
    store = host.lab.store
    os.makedirs(store.path("networks"), exist_ok=True)
    hosts_file = store.path("networks", rec["Id"] + ".hosts")
    with open(hosts_file, "w") as f:
        f.write("")
    with open(resolv_conf_path(host, rec), "w") as f:
        f.write(
            f"# netlab: Docker answers names on network {rec['Name']} from its embedded DNS\n"
            "# server at 127.0.0.11; netlab's name server for this network listens on the\n"
            f"# bridge's gateway address {rec['Gateway']} (a dnsmasq in the Docker host).\n"
            f"nameserver {rec['Gateway']}\n"
            "options ndots:0\n"
        )
    argv = [
        *dnsmasq(rec["Gateway"], store.path("networks", rec["Id"] + ".pid")),
        f"--addn-hosts={hosts_file}",
        f"--server={topology.DNS_IP}",
        "--cache-size=0",
    ]
    pid, started = proc.spawn(
        host.ns, argv, log_file=store.path("networks", rec["Id"] + ".dns.log")
    )
    rec["ResolverPid"] = pid
    rec["ResolverStart"] = started


def stop(host: Host, rec: Record) -> None:
    """Stop the network's name server and remove its files."""
    if rec.get("ResolverPid"):
        proc.kill_group(rec["ResolverPid"], rec.get("ResolverStart"))
        rec["ResolverPid"] = 0
    for suffix in (".hosts", ".resolv.conf"):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(host.lab.store.path("networks", rec["Id"] + suffix))


def refresh(host: Host, rec: Record) -> None:
    """Rewrite a network's hosts file from its containers and tell its dnsmasq (SIGHUP)."""
    lines = []
    for c in host.containers():
        ep = c.networks.get(rec["Name"])
        if ep and ep.get("IPAddress"):
            lines.append(f"{ep['IPAddress']}\t{c.name} {c.short_id}\n")
    path = host.lab.store.path("networks", rec["Id"] + ".hosts")
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.writelines(lines)
    os.replace(tmp, path)
    if rec.get("ResolverPid"):
        # Docker's resolver knows a new container the moment ``docker run`` returns; waiting
        # for dnsmasq's own "read ... names" line gives the same guarantee without polling DNS.
        proc.hangup(
            rec["ResolverPid"],
            rec.get("ResolverStart"),
            log_file=host.lab.store.path("networks", rec["Id"] + ".dns.log"),
            says=b".hosts - ",
            timeout=2.0,
        )
