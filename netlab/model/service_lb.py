"""Service VIPs: the load balancer Docker puts on every node of an overlay network.

``docker service create --name web --network overnet --replicas 3`` gives the service a
virtual IP on overnet (``service inspect``: ``Endpoint.VirtualIPs``); ``web`` resolves to it
(``tasks.web`` to the tasks), and a connection to it reaches one task after another. Docker 28
does this (moby v28.5.2 ``libnetwork/service_linux.go``) in a namespace of its own on each node
that has the network, ``lb_<network id>``, whose endpoint ``lb-overnet`` sits on the network's
bridge with an address of the network:

- every VIP of the network is an extra address (``/32``) of that endpoint, so a container's
  ARP for the VIP is answered by its own node's load balancer;
- ``iptables -t mangle -A INPUT -d VIP/32 -j MARK --set-mark 256`` marks the service's
  packets, and an IPVS service on that mark (round robin, NAT) sends each connection to a
  task, the source rewritten to the load balancer's address
  (``-t nat -A POSTROUTING -m ipvs --ipvs -d SUBNET -j SNAT --to-source LB``): a task sees
  the load balancer, not the client.

Where the kernel has no IPVS (``/proc/net/ip_vs`` is missing: this kind of machine), netlab
does the same with iptables alone, in the same namespace and with the same mark: chain
``NETLAB-FWMARK`` (mangle PREROUTING) marks the VIP's packets, chain ``NETLAB-IPVS`` (nat
PREROUTING) stands in for IPVS's round robin with ``-m statistic --mode nth`` DNAT rules, one
per task, and the SNAT to the load balancer's address matches ``--ctstate DNAT`` instead of
``-m ipvs``. ``netlab doctor`` says which one is in use.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
from typing import TYPE_CHECKING

from netlab.kernel import batch, netns, rtnl, xtables
from netlab.model import ids, machines, sweep, topology
from netlab.model.records import SandboxRec, ServiceRec

if TYPE_CHECKING:
    from netlab.model.lab import Lab

FIRST_FWMARK = 256  # (moby v28.5.2 libnetwork/service.go fwMarkCtr)
IFACE = "eth0"


def has_ipvs() -> bool:
    """Does this kernel have IPVS (Docker's load balancer)?"""
    return os.path.exists("/proc/net/ip_vs")


def lb_ns(lab: str, node: str, net_id: str) -> str:
    """The namespace of a node's load balancer for a network (Docker's ``lb_<id>``)."""
    return topology.ns_name(lab, f"{node}-lb-{net_id[:10]}")


def build(lab: Lab, box: SandboxRec, ip: str, prefixlen: int, mtu: int, ns: str = "") -> SandboxRec:
    """Make the node's load balancer for the network of ``box`` (its sandbox): a namespace
    (``ns``, or ``lb_<id>``'s) with an endpoint on br0 at ``ip``, forwarding on, and the jumps
    to its chains."""
    ns = ns or lb_ns(lab.name, box.node, box.net)
    mac = ids.mac_from_ip(ip)

    def work() -> None:
        sweep.create(ns)
        machines.quiet_ipv6(ns)
        rtnl.set_link(ns, "lo", up=True)
        rtnl.add_veth(
            box.netns,
            "veth-lb",
            peer_ns=ns,
            peer_name=IFACE,
            mac=ids.local_mac(lab.name, box.node, box.net, "lb"),
            peer_mac=mac,
            mtu=mtu,
            master="br0",
            up=True,
        )
        rtnl.add_addr(ns, IFACE, f"{ip}/{prefixlen}")
        rtnl.set_link(ns, IFACE, up=True)
        rtnl.sysctl(ns, "net.ipv4.ip_forward", "1")

    try:
        batch(work)
        xtables.restore(ns, _base_rules(ip, prefixlen), [])
    except BaseException:
        rtnl.forget(ns)
        netns.delete(ns)
        raise
    return dataclasses.replace(box, lb_netns=ns, lb_ip=ip, lb_mac=mac)


def _base_rules(ip: str, prefixlen: int) -> str:
    subnet = ipaddress.IPv4Network(f"{ip}/{prefixlen}", strict=False)
    return (
        "*mangle\n:NETLAB-FWMARK - [0:0]\n-A PREROUTING -j NETLAB-FWMARK\nCOMMIT\n"
        "*nat\n:NETLAB-IPVS - [0:0]\n-A PREROUTING -j NETLAB-IPVS\n"
        f"-A POSTROUTING -d {subnet} -m conntrack --ctstate DNAT -j SNAT --to-source {ip}\n"
        "COMMIT\n"
    )


def drop(box: SandboxRec) -> None:
    """Remove a node's load balancer (its veth goes with its namespace)."""
    if box.lb_netns:
        rtnl.forget(box.lb_netns)
        netns.delete(box.lb_netns)


def rules(services: list[tuple[ServiceRec, str, list[str]]], *, ingress: bool = False) -> str:
    """The chains' rules for ``(service, vip, task addresses)``: the mark of each VIP's
    packets (on ``ingress``, of its published ports' packets first), and a round robin over
    its tasks (``--every n-k --packet 0`` for the k-th of n, the last one taking what is
    left), as ``iptables-restore`` input.

    >>> s = ServiceRec("i", "web", "nginx", (), (), "", fwmark=256)
    >>> text = rules([(s, "10.0.1.2", ["10.0.1.5", "10.0.1.6"])]).splitlines()
    >>> print(text[2]); print(text[6][15:69]); print(text[7])
    -A NETLAB-FWMARK -d 10.0.1.2/32 -j MARK --set-xmark 0x100/0xffffffff
    -m mark --mark 0x100 -m statistic --mode nth --every 2
    -A NETLAB-IPVS -m mark --mark 0x100 -j DNAT --to-destination 10.0.1.6
    """
    mark = ["*mangle", ":NETLAB-FWMARK - [0:0]"]
    nat = ["*nat", ":NETLAB-IPVS - [0:0]"]
    for svc, vip, backends in services:
        m = f"0x{svc.fwmark:x}"
        for p in svc.ingress_ports if ingress else ():
            mark.append(
                f"-A NETLAB-FWMARK -p {p.protocol} -m {p.protocol} --dport {p.published} "
                f"-j MARK --set-xmark {m}/0xffffffff"
            )
        mark.append(f"-A NETLAB-FWMARK -d {vip}/32 -j MARK --set-xmark {m}/0xffffffff")
        n = len(backends)
        for k, ip in enumerate(backends):
            nth = f"-m statistic --mode nth --every {n - k} --packet 0 " if k < n - 1 else ""
            nat.append(f"-A NETLAB-IPVS -m mark --mark {m} {nth}-j DNAT --to-destination {ip}")
    return "\n".join([*mark, "COMMIT", *nat, "COMMIT", ""])


def sync(lab: Lab, net_id: str) -> None:
    """Bring every load balancer of the network up to date: its VIP addresses and the round
    robin over each service's running tasks (under the lab's lock)."""
    sw = lab.store.lab_record.swarm
    if sw is None:
        return
    recs = lab.store.containers()
    services = []
    for svc in sw.services.values():
        vip = svc.vips.get(net_id)
        if not vip:
            continue
        backends = []
        for t in sorted(svc.tasks.values(), key=lambda t: (t.slot, t.node)):
            r = recs.get(t.container)
            ep = (
                next((e for e in r.networks.values() if e.network_id == net_id), None)
                if r
                else None
            )
            if r is not None and r.state == "running" and ep is not None and ep.ip:
                backends.append(ep.ip)
        services.append((svc, vip.split("/")[0], backends))
    text = rules(services, ingress=sw.networks[net_id].ingress)
    want = {f"{vip}/32" for _, vip, _ in services}
    for box in sw.sandboxes.values():
        if box.net != net_id or not box.lb_netns:
            continue
        have = {
            a.cidr for a in rtnl.addrs(box.lb_netns) if a.ifname == IFACE and a.cidr.endswith("/32")
        }
        for cidr in sorted(want - have):
            rtnl.add_addr(box.lb_netns, IFACE, cidr)
        for cidr in sorted(have - want):
            rtnl.del_addr(box.lb_netns, IFACE, cidr)
        xtables.restore(box.lb_netns, text, [])
