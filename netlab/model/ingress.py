"""The ingress routing mesh: a service's published port on every node of the swarm.

``docker service create --name web -p 8080:80 nginx`` publishes port 8080 on *every* node,
also on one that runs no task of ``web``. Docker 28 (moby v28.5.2
``libnetwork/service_linux.go``) builds it from three pieces per node:

1. **the node's own firewall** (``programIngress``): nat chain ``DOCKER-INGRESS``, jumped to
   from ``PREROUTING`` and ``OUTPUT`` for local destinations (before ``DOCKER``), sends the
   port to the node's ``ingress-sbox`` on docker_gwbridge
   (``-A DOCKER-INGRESS -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.18.0.2:8080``);
   filter chain ``DOCKER-INGRESS``, first in ``DOCKER-FORWARD``, lets it through both ways;
   a ``MASQUERADE`` for the node's own connections (``curl localhost:8080``, with
   ``route_localnet`` on docker_gwbridge);
2. **ingress-sbox**, a namespace with ``eth0`` on the ``ingress`` overlay (10.0.0.0/24, VNI
   4096: Docker's ``ingress-endpoint``) and ``eth1`` on docker_gwbridge: it marks the port's
   packets (mangle ``PREROUTING -p tcp --dport 8080 -j MARK``) and IPVS sends each connection
   to a task's address on ``ingress``, anywhere in the swarm, the source rewritten to its own
   (``-m ipvs --ipvs -j SNAT --to-source 10.0.0.2``): the node's load balancer for ingress,
   built as :mod:`netlab.model.service_lb` builds every network's (the same stand-in for IPVS
   where the kernel has none);
3. **each task**, which has an endpoint on ``ingress`` (its ``eth0``), redirects the published
   port to the target port and accepts nothing else there (``addRedirectRules``:
   ``-t nat -A PREROUTING -d 10.0.0.5/32 -p tcp -m tcp --dport 8080 -j REDIRECT --to-ports
   80``, then ``INPUT``/``OUTPUT`` accepts for port 80 and drops for the rest).

``--publish mode=host,published=8080,target=80`` skips all this: the task's container
publishes the port itself, on docker_gwbridge, only on the nodes where a task runs (the
scheduler puts at most one such task on a node).
"""

from __future__ import annotations

import dataclasses
import ipaddress
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from netlab.errors import InvalidArgument
from netlab.kernel import batch, rtnl, xtables
from netlab.model import ids, iptables_rules, topology
from netlab.model import ports as port_specs
from netlab.model.cluster import SwarmError
from netlab.model.records import NetworkRec, SandboxRec, ServicePort, SwarmRec

if TYPE_CHECKING:
    from netlab.model.host import Host

GW_IFACE = "eth1"
# swarmkit's range for a published port left to it (``-p 80``; moby v28.5.2 vendored swarmkit
# manager/allocator/portallocator.go dynamicPortStart/End)
DYNAMIC_PORTS = range(30000, 32768)


def sbox_ns(lab: str, node: str) -> str:
    """The node's ingress-sbox namespace (Docker's ``/var/run/docker/netns/ingress_sbox``)."""
    return topology.ns_name(lab, f"{node}-ingress_sbox")


def ingress_box(sw: SwarmRec, node: str) -> SandboxRec | None:
    """The node's sandbox of the ``ingress`` network (its ingress-sbox is ``lb_netns``)."""
    ing = next((n for n in sw.networks.values() if n.ingress), None)
    return sw.sandboxes.get(f"{node}/{ing.id}") if ing is not None else None


def attach_gateway(host: Host, box: SandboxRec, gw: NetworkRec, ip: str) -> SandboxRec:
    """Give the node's ingress-sbox its endpoint on docker_gwbridge (``gw``; ``eth1`` at
    ``ip``, Docker's ``gateway_ingress-sbox``) and its default route there."""
    lab = host.lab
    prefix = ipaddress.IPv4Network(gw.subnet).prefixlen
    veth = ids.veth_name(ids.object_id(lab.name, f"{host.name}/ingress-sbox", 1))
    ns = box.lb_netns

    def work() -> None:
        # The same name as before a `swarm leave`: the old pair goes with its namespace,
        # but the kernel removes it asynchronously (50-200 ms later). A rejoin in between
        # would find it there and keep it, its eth1 in the dying namespace: remove it first.
        if veth in rtnl.link_indexes(host.ns):
            rtnl.delete_link(host.ns, veth)
        rtnl.add_veth(
            host.ns,
            veth,
            peer_ns=ns,
            peer_name=GW_IFACE,
            peer_mac=ids.mac_from_ip(ip),
            mtu=gw.mtu,
            master=gw.bridge,
            up=True,
        )
        rtnl.add_addr(ns, GW_IFACE, f"{ip}/{prefix}")
        rtnl.set_link(ns, GW_IFACE, up=True)
        rtnl.add_route(ns, "default", gateway=gw.gateway)

    batch(work)
    return dataclasses.replace(box, gw_ip=ip)


def published_ports(sw: SwarmRec) -> list[tuple[str, int]]:
    """Every ingress port of the swarm, ``(protocol, port)``, in the order services got them."""
    return [(p.protocol, p.published) for s in sw.services.values() for p in s.ingress_ports]


def firewall_input(host: Host) -> iptables_rules.Ingress | None:
    """What the node's firewall needs for the routing mesh (None before its first published
    port: Docker makes the DOCKER-INGRESS chains then, and keeps them)."""
    sw = host.lab.store.lab_record.swarm
    box = ingress_box(sw, host.name) if sw is not None else None
    if sw is None or box is None or not box.programmed or not box.gw_ip:
        return None
    return iptables_rules.Ingress("docker_gwbridge", box.gw_ip, tuple(published_ports(sw)))


def redirect_rules(ip: str, ports: Sequence[ServicePort]) -> tuple[str, list[str]]:
    """A task's rules for its address on ingress (``addRedirectRules``), as
    ``iptables-restore --noflush`` input and as the ``iptables`` commands Docker runs.

    >>> text, cmds = redirect_rules("10.0.0.5", [ServicePort(8080, 80)])
    >>> print(cmds[0][19:])
    PREROUTING -d 10.0.0.5/32 -p tcp -m tcp --dport 8080 -j REDIRECT --to-ports 80
    >>> print(cmds[-1])
    iptables -A OUTPUT -s 10.0.0.5/32 -p tcp -j DROP
    """
    cmds: list[str] = []  # (Docker's order: per port its three rules, then the drops)
    nat: list[str] = []
    accept_in: list[str] = []
    accept_out: list[str] = []
    for p in ports:
        m = f"-p {p.protocol} -m {p.protocol}"
        rules = (
            f"PREROUTING -d {ip}/32 {m} --dport {p.published} -j REDIRECT --to-ports {p.target}",
            f"INPUT -d {ip}/32 {m} --dport {p.target} -m conntrack --ctstate NEW,ESTABLISHED "
            "-j ACCEPT",
            f"OUTPUT -s {ip}/32 {m} --sport {p.target} -m conntrack --ctstate ESTABLISHED "
            "-j ACCEPT",
        )
        nat.append(f"-A {rules[0]}")
        accept_in.insert(0, f"-A {rules[1]}")  # (inserted at the top: the last port's first)
        accept_out.insert(0, f"-A {rules[2]}")
        cmds += [
            f"iptables -t nat -A {rules[0]}",
            f"iptables -I {rules[1]}",
            f"iptables -I {rules[2]}",
        ]
    drops = []
    for proto in ("sctp", "udp", "tcp"):
        drops += [
            f"-A INPUT -d {ip}/32 -p {proto} -j DROP",
            f"-A OUTPUT -s {ip}/32 -p {proto} -j DROP",
        ]
    cmds += [f"iptables {r}" for r in drops]
    text = "*nat\n" + "".join(f"{r}\n" for r in nat) + "COMMIT\n*filter\n"
    text += "".join(f"{r}\n" for r in accept_in + accept_out + drops) + "COMMIT\n"
    return text, cmds


def program_task(ns: str, ip: str, ports: Sequence[ServicePort]) -> None:
    """Load a task's redirect rules into its namespace."""
    text, cmds = redirect_rules(ip, ports)
    xtables.restore(ns, text, cmds)


# --- the ports a service asks for ----------------------------------------------------------


def parse_publish(value: str) -> list[ServicePort]:
    """One ``-p``/``--publish`` value as the CLI reads it (docker/cli v28.5.2
    opts/swarmopts/port.go PortOpt.Set): the long form ``published=8080,target=80,
    protocol=udp,mode=host`` or the short one ``8080:80[/udp]`` (a range gives one port
    each); the error is the CLI's.

    >>> parse_publish("8080:80")
    [ServicePort(published=8080, target=80, protocol='tcp', mode='ingress')]
    >>> parse_publish("mode=host,target=80,published=8081")
    [ServicePort(published=8081, target=80, protocol='tcp', mode='host')]
    """
    if re.search(r"\w+=\w+(,\w+=\w+)*", value):
        fields: dict[str, str] = {}
        for part in value.split(","):
            key, eq, val = part.lower().partition("=")
            if not eq or not key:
                raise InvalidArgument(f"invalid field: {part}")
            if key == "protocol" and val not in ("tcp", "udp", "sctp"):
                raise InvalidArgument(f"invalid protocol value '{val}'")
            if key == "mode" and val not in ("ingress", "host"):
                raise InvalidArgument(
                    f"invalid publish mode value ({val}): must be either 'ingress' or 'host'"
                )
            if key in ("target", "published"):
                if not val.isdigit() or int(val) > 65535:
                    why = "value out of range" if val.isdigit() else "invalid syntax"
                    word = "target" if key == "target" else "published"
                    raise InvalidArgument(
                        f"invalid {word} port ({val}): value must be an integer: {why}"
                    )
            elif key not in ("protocol", "mode"):
                raise InvalidArgument(f"invalid field key: {key}")
            fields[key] = val
        if not int(fields.get("target", "0")):
            raise InvalidArgument("missing mandatory field 'target'")
        return [
            ServicePort(
                int(fields.get("published", "0")),
                int(fields["target"]),
                fields.get("protocol", "tcp"),
                fields.get("mode", "ingress"),
            )
        ]
    rest = value.split("/")[0]
    if rest.count(":") >= 2:
        raise InvalidArgument("hostip is not supported")
    return [
        ServicePort(m.host_port, m.container_port, m.proto) for m in port_specs.parse_publish(value)
    ]


def allocate(sw: SwarmRec, wanted: Sequence[ServicePort], service: str = "") -> list[ServicePort]:
    """The ports of a new (or changed) service: each published port checked against the
    other services' (swarmkit's controlapi checkPortConflicts, in its words), an ingress port
    left open given the lowest free one from 30000 (the allocator's dynamic range)."""
    ingress_taken: dict[tuple[str, int], tuple[str, str]] = {}
    host_taken: dict[tuple[str, int], tuple[str, str]] = {}
    for s in sw.services.values():
        if s.name == service:
            continue
        for p in s.ports:
            where = ingress_taken if p.mode == "ingress" else host_taken
            where[(p.protocol, p.published)] = (s.name, s.id)
    out: list[ServicePort] = []
    for p in wanted:
        key = (p.protocol, p.published)
        if p.published and p.mode == "host" and key in ingress_taken:
            name, sid = ingress_taken[key]
            raise SwarmError(
                f"rpc error: code = InvalidArgument desc = port '{p.published}' is already in "
                f"use by service '{name}' ({sid}) as a host-published port"
            )
        if p.published and p.mode == "ingress" and (key in ingress_taken or key in host_taken):
            name, sid = ingress_taken.get(key) or host_taken[key]
            raise SwarmError(
                f"rpc error: code = InvalidArgument desc = port '{p.published}' is already in "
                f"use by service '{name}' ({sid}) as an ingress port"
            )
        if p.mode == "ingress" and not p.published:
            used = {k[1] for k in ingress_taken} | {q.published for q in out}
            free = next((n for n in DYNAMIC_PORTS if n not in used), 0)
            p = dataclasses.replace(p, published=free)
        if p.mode == "ingress":
            ingress_taken[(p.protocol, p.published)] = (service, "")
        out.append(p)
    return out


def ls_column(ports: Sequence[ServicePort]) -> str:
    """``service ls``'s PORTS: the ingress ports, sorted, consecutive ones as a range
    (docker/cli v28.5.2 cli/command/service/formatter.go Ports).

    >>> ls_column([ServicePort(8081, 81), ServicePort(8080, 80), ServicePort(53, 53, "udp")])
    '*:8080-8081->80-81/tcp, *:53->53/udp'
    """
    ranges: list[list[int | str]] = []  # [pStart, pEnd, tStart, tEnd, proto]
    for p in sorted(
        (p for p in ports if p.mode == "ingress"), key=lambda p: (p.protocol, p.published)
    ):
        if ranges:
            r = ranges[-1]
            is_range = r[3] != r[2]
            # (Go's unsigned differences: a smaller port is a new range too)
            if (
                p.protocol == r[4]
                and 0 <= p.published - int(r[1]) <= 1
                and 0 <= p.target - int(r[3]) <= 1
                and not (is_range and p.target <= int(r[3]))
            ):
                r[1], r[3] = p.published, p.target
                continue
        ranges.append([p.published, p.published, p.target, p.target, p.protocol])

    def show(a: int | str, b: int | str) -> str:
        return f"{a}-{b}" if b != a else str(a)

    return ", ".join(f"*:{show(r[0], r[1])}->{show(r[2], r[3])}/{r[4]}" for r in ranges)
