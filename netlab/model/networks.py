"""Network operations of a Docker host: create, remove, connect, disconnect, the firewall.

``docker network create mynet`` on a real host:

1. takes the first free address pool (172.18.0.0/16, 172.19.0.0/16, ...; see
   :mod:`netlab.model.ipam`) or the ``--subnet`` given, and its first address as gateway;
2. asks the network's driver (:mod:`netlab.model.drivers`) to build it: for ``bridge``, the
   bridge ``br-<first 12 hex digits of the network ID>`` with the gateway address;
3. adds the network to the firewall: its own chains and verdict-map entries in
   ``ip docker-bridges``; the default drop at the end of each bridge's ``filter-forward-in``
   chain is what isolates different bridge networks from each other;
4. serves names: containers on a user-defined network find each other by name
   (:mod:`netlab.model.resolver`).

This module does what is common to every driver (names, IDs, the lock, roll-back on failure,
the one firewall table of a host); what differs per driver is in the driver's module.
"""

from __future__ import annotations

import contextlib
import dataclasses
import ipaddress
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING

from netlab.errors import Conflict, InvalidArgument
from netlab.kernel import batch, nft, xtables
from netlab.model import (
    drivers,
    embedded_dns,
    firewall,
    ids,
    ingress,
    iptables_rules,
    topology,
)
from netlab.model.drivers import CreateRequest
from netlab.model.records import NO_CONFIG, ContainerRec, Endpoint, EndpointConfig, NetworkRec

if TYPE_CHECKING:
    from netlab.model.container import Container
    from netlab.model.host import Host, Network


def publishing_endpoint(host: Host, rec: ContainerRec) -> Endpoint:
    """The endpoint a container's published ports go to: its first on a network whose driver
    publishes ports (a bridge; a swarm task's docker_gwbridge, after its overlays), else its
    first."""
    nets = host.lab.store.lab_record.hosts[host.name].networks
    eps = list(rec.networks.values())
    for ep in eps:
        net = nets.get(ep.network_id)
        if net is not None and drivers.of(net).publishes:
            return ep
    return eps[0]


def firewall_inputs(host: Host) -> list[firewall.Bridge]:
    """Every network of the host that has a share of its firewall, docker0 first, with the
    ports published on it."""
    nets = host.lab.store.lab_record.hosts[host.name].networks
    published: dict[str, list[firewall.Published]] = {}
    for rec in host.lab.store.containers().values():
        if rec.host != host.name or rec.state != "running" or not rec.ports:
            continue
        ep = publishing_endpoint(host, rec)
        if ep.ip:
            published.setdefault(ep.network_id, []).extend(
                firewall.Published(ep.ip, m) for m in rec.ports
            )
    out = []
    for nid, net in nets.items():
        share = drivers.of(net).firewall(net, published.get(nid, []))
        if share is not None:
            out.append(share)
    return out


def firewall_endpoints(host: Host) -> list[iptables_rules.Endpoint]:
    """The running containers' addresses on the host's bridges, in the order they started."""
    nets = host.lab.store.lab_record.hosts[host.name].networks
    running = [
        r
        for r in host.lab.store.containers().values()
        if r.host == host.name and r.state == "running"
    ]
    running.sort(key=lambda r: (r.started_at, r.seq))
    sw = host.lab.store.lab_record.swarm
    box = ingress.ingress_box(sw, host.name) if sw is not None else None
    sbox = [iptables_rules.Endpoint("docker_gwbridge", box.gw_ip)] if box and box.gw_ip else []
    return sbox + [
        iptables_rules.Endpoint(nets[ep.network_id].bridge, ep.ip)
        for r in running
        for ep in r.networks.values()
        if ep.ip and ep.network_id in nets and nets[ep.network_id].bridge
    ]


def apply_firewall(host: Host) -> None:
    """Bring the host's firewall to what Docker has for its networks and containers.

    nftables (Docker 29): the whole ``ip docker-bridges`` table is loaded again in one atomic
    ``nft -f`` transaction (no packet sees half a ruleset; counters start again from zero).
    iptables (Docker 28): only Docker's rules that changed are deleted or added, by one
    ``iptables-restore --noflush`` (atomic per table), so the user's own rules (DOCKER-USER,
    INPUT...) and every other counter stay.
    """
    lab = host.lab.store.lab_record
    if lab.firewall_backend != "iptables":
        nft.load(host.ns, firewall.ruleset(firewall_inputs(host)))
        return
    want = iptables_rules.wanted(
        firewall_inputs(host),
        firewall_endpoints(host),
        userland_proxy=lab.userland_proxy,
        ingress=ingress.firewall_input(host),
    )
    # What this layer last left in the kernel (its rules, the rules it owns in built-in
    # chains, and the ruleset's generation then): while the generation is the same, nobody
    # changed anything since, and the kernel's rules need not be read again (each
    # iptables-save is a program started: that halves what a container's start costs).
    memo_file = host.lab.store.path(f"iptables-{host.name}.json")
    try:
        with open(memo_file) as f:
            memo = json.load(f)
    except (FileNotFoundError, ValueError):
        memo = {}
    owned = memo.get("owned", [])
    gen = xtables.generation(host.ns)
    fresh = gen != -1 and memo.get("generation") == gen and "saved" in memo
    saved = memo["saved"] if fresh else xtables.save(host.ns)
    lines, commands = iptables_rules.plan(saved, want, owned)
    if lines:
        text = iptables_rules.restore_text(lines)
        try:
            xtables.restore(host.ns, text, commands)
        except xtables.IptablesError:
            kernel = xtables.save(host.ns) if fresh else saved
            if xtables.parse_tables(kernel) == xtables.parse_tables(saved):
                raise  # (the memory was right: the kernel refused the change itself)
            saved = kernel  # (changed behind the generation's back, by iptables-legacy?)
            lines, commands = iptables_rules.plan(saved, want, owned)
            text = iptables_rules.restore_text(lines)
            xtables.restore(host.ns, text, commands)
        saved = xtables.render_save(xtables.apply_restore(xtables.parse_tables(saved), text))
    memo = {
        "generation": xtables.generation(host.ns),
        "saved": saved,
        "owned": iptables_rules.owned_rules(want),
    }
    with open(memo_file, "w") as f:
        json.dump(memo, f)


def create_network(
    host: Host,
    name: str,
    *,
    driver: str = "bridge",
    subnet: str | None = None,
    gateway: str | None = None,
    internal: bool = False,
    options: Mapping[str, str] | None = None,
    ip_range: str | None = None,
    aux_addresses: Mapping[str, str] | None = None,
    labels: Mapping[str, str] | None = None,
) -> Network:
    """``docker network create [-d DRIVER] [--subnet S] [--ip-range R] [--gateway G]
    [--aux-address NAME=IP] [--internal] [-o K=V] [--label K=V] NAME``: checked first, then
    built; on any failure nothing stays."""
    drv = drivers.get(driver)
    if drv.scope == "local":  # (swarm networks are named by swarmkit's rule: the driver's)
        topology.check_network_name(name)
    req = CreateRequest(
        name,
        subnet,
        gateway,
        internal,
        dict(options or {}),
        ip_range,
        dict(aux_addresses or {}),
        dict(labels or {}),
    )
    store = host.lab.store
    with store.locked():
        hnets = store.lab_record.hosts[host.name].networks
        if any(n.name == name for n in hnets.values()):
            raise Conflict(f"network with name {name} already exists")
        seq = store.peek_counter(f"{host.name}/network") + 1
        nid = ids.object_id(host.lab.name, f"{host.name}/network", seq)
        rec = drv.create(host, req, nid)
        if rec.id == nid:
            store.next_counter(f"{host.name}/network")
        try:
            store.put_network(host.name, rec)
            if drv.firewall(rec, []) is not None:
                apply_firewall(host)
            drv.start(host, rec)
        except BaseException:
            rec = _stored(host, rec.id) or rec  # (with what start recorded: its name server)
            store.drop_network(host.name, rec.id)
            with contextlib.suppress(Exception):
                drv.remove(host, rec)
                apply_firewall(host)
            raise
    return host.network(rec.id)


def _stored(host: Host, nid: str) -> NetworkRec | None:
    """The network's record as the store has it now."""
    return host.lab.store.lab_record.hosts[host.name].networks.get(nid)


def remove_network(host: Host, net: Network) -> None:
    """``docker network rm NAME``: refused while containers are attached, as in Docker."""
    store = host.lab.store
    with store.locked():
        rec = store.lab_record.hosts[host.name].networks.get(net.id)
        if rec is None:
            return
        if rec.scope == "local":  # (a swarm network's manager checks its services)
            if not rec.user_defined:
                raise Conflict(f"{net.name} is a pre-defined network and cannot be removed")
            attached = [c for c in reversed(host.containers()) if net.name in c.networks]
            if attached:
                # (moby v28.5.2 libnetwork/error.go ActiveEndpointsError, network.go)
                eps = ", ".join(
                    f'name:"{c.name}" id:"{c.record.networks[net.name].endpoint_id[:12]}"'
                    for c in attached
                )
                raise Conflict(
                    f"error while removing network: network {net.name} has active endpoints ({eps})"
                )
        drv = drivers.of(rec)
        drv.remove(host, rec)
        if _stored(host, net.id) is not None:  # (an overlay's removal forgets it everywhere)
            store.drop_network(host.name, net.id)
        if drv.firewall(rec, []) is not None:
            apply_firewall(host)


def endpoints_changed(host: Host, net_names: list[str], *, ports: bool = False) -> None:
    """Tell the drivers of the named networks that endpoints came or went (names, peers),
    and bring the firewall up to date where it has a share of them: published ports
    (``ports``), and with iptables every container (its raw table protects each one)."""
    nets = [n for n in host.lab.store.lab_record.hosts[host.name].networks.values()]
    for n in nets:
        if n.name in net_names:
            drivers.of(n).changed(host, n)
    if any(n.name in net_names and embedded_dns.served(n) for n in nets):
        embedded_dns.refresh(host.lab)  # (the names its containers' DNS answers)
    if ports or host.lab.store.lab_record.firewall_backend == "iptables":
        apply_firewall(host)


# --- connect and disconnect -----------------------------------------------------------------


PREDEFINED = ("bridge", "host", "none", "default")  # (not "user-defined" in Docker's terms)


def check_endpoint_config(
    net: NetworkRec, config: EndpointConfig, *, at_create: bool = False
) -> None:
    """What Docker checks of ``--ip``, ``--mac-address`` and ``--network-alias`` for one
    network before it makes the endpoint, with its words (moby v28.5.2
    daemon/container_operations.go validateEndpointSettings, daemon/create.go
    validateNetworkingConfig, runconfig/errors.go, api/types/network/endpoint.go)."""
    problems = []
    if net.name in PREDEFINED:
        if config.ip:
            problems.append("user specified IP address is supported on user defined networks only")
        if config.aliases:
            problems.append(
                "network-scoped alias is supported only for containers in user defined networks"
            )
    if config.ip:
        try:
            ip = ipaddress.IPv4Address(config.ip)
        except ValueError:
            ip = None
        if ip is None or ip.is_unspecified:
            problems.append(f"invalid IPv4 address: {config.ip}")
        elif net.static_subnet and net.subnet:
            if ip not in ipaddress.IPv4Network(net.subnet):
                problems.append(
                    f"no configured subnet or ip-range contain the IP address {config.ip}"
                )
        elif net.name not in PREDEFINED:
            problems.append(
                "user specified IP address is supported only when connecting to networks with "
                "user configured subnets"
            )
    text = ""
    if problems:  # (joined as moby's internal/multierror does)
        joined = problems[0] if len(problems) == 1 else "* " + "\n* ".join(problems)
        text = f"invalid endpoint settings:\n{joined}"
    elif config.mac and not ids.valid_mac(config.mac):
        text = f"invalid MAC address {config.mac}"
    if text:
        raise InvalidArgument(
            f"invalid config for network {net.name}: {text}" if at_create else text
        )


def connect(
    host: Host, net: Network, container: Container, config: EndpointConfig = NO_CONFIG
) -> None:
    """``docker network connect [--ip IP] [--alias NAME] NET CONTAINER``: a new interface
    (eth1, ...) on the network."""
    drv = drivers.of(net.rec)
    if not drv.has_endpoints or drv.scope != "local":
        raise InvalidArgument(
            "container cannot be disconnected from host network or connected to host network"
            if not drv.own_namespace
            else f"cannot connect to network {net.name} of driver {net.driver}"
        )
    store = host.lab.store
    with store.locked():
        rec = container.record
        if net.name in rec.networks and rec.networks[net.name].ip:
            raise Conflict(f"endpoint with name {rec.name} already exists in network {net.name}")
        if not rec.own_netns or rec.state != "running":
            raise InvalidArgument(
                f"container {rec.id} is not running"
                if rec.state != "running"
                else "container sharing network namespace with another "
                "container or host cannot be connected to any other network"
            )
        used = {ep.ifname for ep in rec.networks.values()}
        ifname = next(f"eth{i}" for i in range(64) if f"eth{i}" not in used)
        check_endpoint_config(net.rec, config)
        ep = drv.endpoint(host, net.rec, store.next_counter("endpoint"), ifname, config)
        joined = dataclasses.replace(rec, networks={**rec.networks, net.name: ep})
        try:
            batch(lambda: drv.join(host, joined, ep, default_route=False))
        except BaseException:
            with contextlib.suppress(Exception):
                drv.leave(host, joined, ep)
            raise
        store.save_container(joined)
        endpoints_changed(host, [net.name])
        if not embedded_dns.uses(host, rec) and embedded_dns.uses(host, joined):
            _start_resolver(host, joined)


def _start_resolver(host: Host, rec: ContainerRec) -> None:
    """A running container's first network with Docker's embedded DNS: the resolver starts
    for it and its resolv.conf is written again, in place (the file is bind-mounted), as
    Docker does (moby v28.5.2 libnetwork/sandbox_linux.go populateNetworkResources ->
    sandbox_dns_unix.go startResolver, rebuildDNS)."""
    embedded_dns.attach(host, rec)
    # (truncated and written, not replaced: the container sees the same file)
    with open(embedded_dns.resolv_file(host.lab, rec), "w") as f:
        f.write(embedded_dns.resolv_conf(rec, True))


def disconnect(host: Host, net: Network, container: Container) -> None:
    """``docker network disconnect NET CONTAINER``: remove that interface again."""
    store = host.lab.store
    with store.locked():
        rec = container.record
        ep = rec.networks.get(net.name)
        if ep is None:
            raise InvalidArgument(f"container {rec.id} is not connected to network {net.name}")
        drv = drivers.of(net.rec)
        if ep.endpoint_id and rec.state == "running":
            drv.leave(host, rec, ep)
        nets = {k: v for k, v in rec.networks.items() if k != net.name}
        store.save_container(dataclasses.replace(rec, networks=nets))
        endpoints_changed(host, [net.name])
