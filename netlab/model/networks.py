"""User-defined bridge networks: create, remove, connect, disconnect, and their name server.

``docker network create mynet`` on a real host:

1. takes the first free address pool (172.18.0.0/16, 172.19.0.0/16, ...; see
   :mod:`netlab.model.ipam`) or the ``--subnet`` given, and its first address as gateway;
2. creates the bridge ``br-<first 12 hex digits of the network ID>`` with the gateway address;
3. adds the bridge to the firewall: its own chains and verdict-map entries in
   ``ip docker-bridges``; the default drop at the end of each bridge's ``filter-forward-in``
   chain is what isolates different bridge networks from each other;
4. serves names: containers on a user-defined network find each other by name through
   Docker's embedded DNS server (127.0.0.11 inside each container).

netlab's name server for a network is a small ``dnsmasq`` in the Docker host's namespace,
listening on the bridge's gateway address and answering from a hosts file that lists the
network's containers (name and short ID); other names go on to the lab's internet DNS. The
containers' ``/etc/resolv.conf`` points at it and says so in a comment. The default bridge
has no name server of its own, as in Docker: its containers cannot resolve each other.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import signal
from typing import TYPE_CHECKING

from netlab.errors import Conflict, InvalidArgument, NetlabError
from netlab.kernel import batch, nft, proc, rtnl
from netlab.model import firewall, ids, ipam, topology
from netlab.model.state import Record
from netlab.model.timefmt import now_rfc3339

if TYPE_CHECKING:
    from netlab.model.container import Container
    from netlab.model.host import Host, Network


def bridges_of(host: Host) -> list[firewall.Bridge]:
    """Every bridge network of the host with its published ports, docker0 first."""
    from netlab.model.ports import PortMapping

    nets = host.lab.store.lab_record["Hosts"][host.name]["Networks"].values()
    published: dict[str, list[firewall.Published]] = {}
    for rec in host.lab.store.containers().values():
        if rec["Host"] != host.name or rec["State"] != "running" or not rec.get("Ports"):
            continue
        for ep in rec["Networks"].values():
            if ep.get("IPAddress") and ep.get("Bridge"):
                published.setdefault(ep["Bridge"], []).extend(
                    firewall.Published(ep["IPAddress"], PortMapping(**m)) for m in rec["Ports"]
                )
                break  # Docker publishes on the container's first network
    return [
        firewall.Bridge(n["Bridge"], n["Subnet"], tuple(published.get(n["Bridge"], ())))
        for n in nets
        if n["Driver"] == "bridge"
    ]


def bridge_sysctls(ns: str, bridge: str) -> None:
    """What Docker sets on a bridge when the kernel handles published ports alone.

    ``route_localnet`` lets ``localhost:8080`` be translated to a container (packets from
    127.0.0.1 may then leave through the bridge, masqueraded on the way).
    """
    rtnl.sysctl(ns, f"net.ipv4.conf.{bridge}.route_localnet", "1")


def apply_firewall(host: Host) -> None:
    """Load the host's whole ``ip docker-bridges`` table, rebuilt from its networks.

    The load is atomic (one ``nft -f`` transaction), so no packet ever sees half a ruleset;
    rule counters start again from zero.
    """
    nft.load(host.ns, firewall.ruleset(bridges_of(host)))


def create_network(
    host: Host,
    name: str,
    *,
    driver: str = "bridge",
    subnet: str | None = None,
    gateway: str | None = None,
    internal: bool = False,
) -> Network:
    """``docker network create [-d bridge] [--subnet S] [--gateway G] NAME``."""
    from netlab.model.host import Network

    topology.check_network_name(name)
    if driver == "overlay":
        from netlab.model.swarm import create_overlay

        created = create_overlay(host, name, subnet)
        return host.network(created["Id"])
    if driver != "bridge":
        raise InvalidArgument(
            f'plugin "{driver}" not found'
            if driver not in ("overlay", "macvlan", "ipvlan")
            else f"netlab does not emulate the {driver} driver on a single host yet"
        )
    store = host.lab.store
    with store.locked():
        hrec = store.lab_record["Hosts"][host.name]
        if any(n["Name"] == name for n in hrec["Networks"].values()):
            raise Conflict(f"network with name {name} already exists")
        in_use = [
            ipaddress.IPv4Network(n["Subnet"]) for n in hrec["Networks"].values() if n.get("Subnet")
        ]
        in_use.append(ipaddress.IPv4Network(topology.LAN_SUBNET))
        if subnet is not None:
            try:
                net = ipam.parse_subnet(subnet)
            except ipam.IPAMError as exc:
                raise InvalidArgument(str(exc)) from None
            if any(net.overlaps(u) for u in in_use):
                raise Conflict(
                    "invalid pool request: Pool overlaps with other one on this address space"
                )
        else:
            try:
                net = ipam.next_pool(in_use)
            except ipam.IPAMError as exc:
                raise NetlabError(str(exc)) from None
        gw = ipam.gateway_of(net)
        if gateway is not None:
            try:
                gw = ipaddress.IPv4Address(gateway)
            except ValueError:
                raise InvalidArgument(f"invalid gateway address {gateway!r}") from None
            if gw not in net or gw in (net.network_address, net.broadcast_address):
                raise InvalidArgument(f"no matching subnet for gateway {gateway}")
        seq = store.next_counter(f"{host.name}/network")
        nid = ids.object_id(host.lab.name, f"{host.name}/network", seq)
        bridge = "br-" + nid[:12]
        rec: Record = {
            "Name": name,
            "Id": nid,
            "Created": now_rfc3339(),
            "Scope": "local",
            "Driver": "bridge",
            "Internal": internal,
            "Attachable": False,
            "Options": {},
            "Labels": {},
            "Subnet": str(net),
            "Gateway": str(gw),
            "Bridge": bridge,
            "UserDefined": True,
        }
        try:

            def build() -> None:
                rtnl.add_bridge(host.ns, bridge, mac=ids.local_mac(host.lab.name, nid))
                rtnl.add_addr(host.ns, bridge, f"{gw}/{net.prefixlen}")
                rtnl.set_link(host.ns, bridge, up=True)
                bridge_sysctls(host.ns, bridge)

            batch(build)
            hrec["Networks"][nid] = rec
            apply_firewall(host)
            _start_resolver(host, rec)
        except BaseException:
            hrec["Networks"].pop(nid, None)
            _stop_resolver(rec)
            rtnl.delete_link(host.ns, bridge)
            with contextlib.suppress(Exception):
                apply_firewall(host)
            raise
        store.save_lab()
    return Network(host, rec)


def remove_network(host: Host, net: Network) -> None:
    """``docker network rm NAME``: refused while containers are attached, as in Docker."""
    if net.driver == "overlay":
        from netlab.model.swarm import remove_overlay

        remove_overlay(host, net.id)
        return
    if not net._rec.get("UserDefined"):
        raise Conflict(f"{net.name} is a pre-defined network and cannot be removed")
    store = host.lab.store
    with store.locked():
        attached = [c for c in host.containers() if net.name in c.networks]
        if attached:
            raise Conflict(
                f"error while removing network: network {net.name} id {net.id} has active endpoints"
            )
        hrec = store.lab_record["Hosts"][host.name]
        rec = hrec["Networks"].pop(net.id)
        _stop_resolver(rec)
        rtnl.delete_link(host.ns, rec["Bridge"])
        apply_firewall(host)
        for suffix in (".hosts", ".resolv.conf"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(store.path("networks", rec["Id"] + suffix))
        store.save_lab()


# --- the name server of a user-defined network ---------------------------------------------------


def resolv_conf_path(host: Host, rec: Record) -> str:
    """The resolv.conf that containers on a user-defined network get."""
    return host.lab.store.path("networks", rec["Id"] + ".resolv.conf")


def _start_resolver(host: Host, rec: Record) -> None:
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
        host.ns,
        argv,
        log_file=store.path("networks", rec["Id"] + ".dns.log"),
    )
    rec["ResolverPid"] = pid
    rec["ResolverStart"] = started


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


def _stop_resolver(rec: Record) -> None:
    if rec.get("ResolverPid"):
        proc.kill_group(rec["ResolverPid"], rec.get("ResolverStart"))
        rec["ResolverPid"] = 0


def refresh_names(host: Host, rec: Record) -> None:
    """Rewrite a network's hosts file from its containers and tell its dnsmasq (SIGHUP)."""
    if not rec.get("UserDefined"):
        return
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
    if rec.get("ResolverPid") and proc.alive(rec["ResolverPid"], rec.get("ResolverStart")):
        _reload(host, rec)


def _reload(host: Host, rec: Record, timeout: float = 2.0) -> None:
    """SIGHUP the network's dnsmasq and wait until it says it re-read its hosts file.

    Docker's resolver knows a new container the moment ``docker run`` returns; waiting for
    dnsmasq's own "read ... names" line gives the same guarantee without polling DNS.
    """
    import time

    log = host.lab.store.path("networks", rec["Id"] + ".dns.log")
    try:
        start = os.path.getsize(log)
    except OSError:
        start = 0
    os.kill(rec["ResolverPid"], signal.SIGHUP)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), open(log, "rb") as f:
            f.seek(start)
            if b".hosts - " in f.read():
                return
        time.sleep(0.001)


def refresh_all_names(host: Host, names: list[str]) -> None:
    """:func:`refresh_names` for the named networks of a host."""
    for n in host.lab.store.lab_record["Hosts"][host.name]["Networks"].values():
        if n["Name"] in names:
            refresh_names(host, n)


# --- connect and disconnect -----------------------------------------------------------------


def connect(host: Host, net: Network, container: Container) -> None:
    """``docker network connect NET CONTAINER``: a new interface (eth1, ...) on the network."""
    from netlab.model.container import new_endpoint, wire_endpoint

    if net.driver != "bridge":
        raise InvalidArgument(
            "container cannot be disconnected from host network or connected to host network"
            if net.driver == "host"
            else f"cannot connect to network {net.name} of driver {net.driver}"
        )
    store = host.lab.store
    with store.locked():
        rec = container.record
        if net.name in rec["Networks"] and rec["Networks"][net.name].get("IPAddress"):
            raise Conflict(f"endpoint with name {rec['Name']} already exists in network {net.name}")
        if not rec.get("OwnNetns") or rec["State"] != "running":
            raise InvalidArgument(
                f"container {rec['Id']} is not running"
                if rec["State"] != "running"
                else "container sharing network namespace with another "
                "container or host cannot be connected to any other network"
            )
        used = {ep.get("Ifname") for ep in rec["Networks"].values()}
        ifname = next(f"eth{i}" for i in range(64) if f"eth{i}" not in used)
        ep = new_endpoint(host, net, store.next_counter("endpoint"), ifname=ifname)
        rec["Networks"][net.name] = ep
        try:
            batch(lambda: wire_endpoint(host, rec, ep, default_route=False))
        except BaseException:
            rec["Networks"].pop(net.name, None)
            rtnl.delete_link(host.ns, ep["Veth"])
            raise
        store.save_container(rec)
        refresh_names(host, net._rec)


def disconnect(host: Host, net: Network, container: Container) -> None:
    """``docker network disconnect NET CONTAINER``: remove that interface again."""
    store = host.lab.store
    with store.locked():
        rec = container.record
        ep = rec["Networks"].get(net.name)
        if ep is None:
            raise InvalidArgument(f"container {rec['Id']} is not connected to network {net.name}")
        if ep.get("Veth"):
            rtnl.delete_link(ep.get("BridgeNs") or host.ns, ep["Veth"])
        del rec["Networks"][net.name]
        store.save_container(rec)
        refresh_names(host, net._rec)
