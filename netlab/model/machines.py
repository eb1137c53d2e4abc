"""The lab's machines on its LAN: their namespace, their /etc files, their wire to the switch.

Docker hosts and the LAN client are such machines (see :mod:`netlab.model.topology` for the
address plan); containers get the same ``/etc/hosts`` lines Docker writes, and every lab
namespace has IPv6 off (the labs are IPv4; no link-local noise appears in ``ip addr``).
"""

from __future__ import annotations

from netlab.kernel import netns, rtnl
from netlab.model import ids, sweep, topology

HOSTS_FILE_BASE = (
    "127.0.0.1\tlocalhost\n"
    "::1\tlocalhost ip6-localhost ip6-loopback\n"
    "fe00::\tip6-localnet\n"
    "ff00::\tip6-mcastprefix\n"
    "ff02::1\tip6-allnodes\n"
    "ff02::2\tip6-allrouters\n"
)
RESOLV_CONF = (
    f"# netlab: the lab's DNS server on its simulated internet\nnameserver {topology.DNS_IP}\n"
)


# Labs are IPv4: with IPv6 off in a namespace, no link-local noise appears.
IPV6_OFF = (("net.ipv6.conf.all.disable_ipv6", "1"), ("net.ipv6.conf.default.disable_ipv6", "1"))


def quiet_ipv6(ns: str) -> None:
    """Turn IPv6 off in a lab namespace (:data:`IPV6_OFF`)."""
    rtnl.sysctl(ns, *IPV6_OFF[0], *IPV6_OFF[1:])


def lan_machine(lab: str, name: str, address: str) -> str:
    """A machine on the lab's LAN: its namespace, /etc files, and a wire to the switch.

    Used for Docker hosts and for the LAN client. Returns the namespace's name.
    """
    ns = topology.ns_name(lab, name)
    lan = topology.ns_name(lab, "lan")
    sweep.create(ns)
    quiet_ipv6(ns)
    netns.write_etc(
        ns,
        {
            "hosts": HOSTS_FILE_BASE + f"{address}\t{name}\n",
            "resolv.conf": RESOLV_CONF,
            "hostname": name + "\n",
        },
    )
    rtnl.set_link(ns, "lo", up=True)
    # Its wire to the LAN switch: eth0 inside, a port of lan0 outside.
    port = topology.lan_port(name)
    rtnl.add_veth(
        lan,
        port,
        peer_ns=ns,
        peer_name="eth0",
        mac=ids.local_mac(lab, port),
        peer_mac=ids.local_mac(lab, name, "eth0"),
    )
    rtnl.set_link(lan, port, master="lan0", up=True)
    rtnl.add_addr(ns, "eth0", f"{address}/{topology.LAN_PREFIXLEN}")
    rtnl.set_link(ns, "eth0", up=True)
    rtnl.add_route(ns, gateway=topology.LAN_GATEWAY)
    return ns
