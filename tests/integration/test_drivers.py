"""The network drivers against the kernel: docker_gwbridge's ICC, --internal, macvlan, ipvlan."""

from __future__ import annotations

import json
import re
import shlex

import pytest

from netlab import Lab
from netlab.docker import docker, use
from netlab.kernel import proc, rtnl
from netlab.model import topology
from netlab.model.drivers import ipvlan

pytestmark = pytest.mark.root


def d(line: str) -> str:
    out = docker(line)
    assert out.code == 0, f"docker {line}: {out.stdout}{out.stderr}"
    return out.stdout


def fails(line: str) -> str:
    out = docker(line)
    assert out.code != 0, f"docker {line} should fail: {out.stdout}"
    return out.stderr


def pings(container: str, ip: str, *, host: str = "host") -> bool:
    out = docker(f"-H {host} exec {container} ping -c 1 -W 1 {ip}")
    return out.code == 0


def client(lab: Lab, command: str) -> proc.Result:
    """A command on the lab's LAN client (a machine outside Docker, 192.168.56.100)."""
    ns = topology.ns_name(lab.name, "client")
    return proc.run_in(proc.netns_prefix(ns), shlex.split(command), timeout=10)


def addresses(name: str, *, host: str = "host") -> dict[str, str]:
    """The container's IPv4 address per network, from ``docker inspect``."""
    info = json.loads(d(f"-H {host} inspect {name}"))[0]
    return {n: ep["IPAddress"] for n, ep in info["NetworkSettings"]["Networks"].items()}


def test_two_tasks_on_one_node_cannot_talk_over_docker_gwbridge(make_lab) -> None:  # type: ignore[no-untyped-def]
    lab = make_lab(hosts=("node1",))
    use(lab)
    d("-H node1 swarm init")
    d("-H node1 network create -d overlay ov")
    d("-H node1 service create --name s --network ov --replicas 2 busybox sleep 600")
    names = d("-H node1 ps --format {{.Names}}").split()
    assert len(names) == 2, names
    a, b = (addresses(n, host="node1") for n in names)
    assert set(a) == {"ov", "docker_gwbridge"}, a
    # Docker creates docker_gwbridge with enable_icc=false: its rule drops task to task.
    assert not pings(names[0], b["docker_gwbridge"], host="node1")
    assert pings(names[0], b["ov"], host="node1")
    saved = proc.run_in(
        proc.netns_prefix(lab.host("node1").ns), ["iptables-save", "-c", "-t", "filter"]
    ).stdout
    assert "[1:84] -A DOCKER-FORWARD -i docker_gwbridge -o docker_gwbridge -j DROP" in saved, saved


def test_internal_network_has_no_way_out(make_lab) -> None:  # type: ignore[no-untyped-def]
    lab = make_lab(firewall_backend="nftables")  # (Docker 29's rule text; Docker 28's: fixture)
    use(lab)
    d("network create --internal secret")
    d("run -d --name srv --network secret -p 8080:80 nginx")
    d("run -d --name cli --network secret busybox sleep 600")
    # Containers on it still reach each other (and by name) ...
    assert pings("cli", addresses("srv")["secret"])
    assert pings("cli", "srv")
    # ... but not the gateway's other side, the LAN or the internet: no default route.
    routes = d("exec cli ip route")
    assert "default" not in routes, routes
    assert not pings("cli", "192.168.56.1")
    out = docker("exec cli curl -s -m 1 http://www.dockercon.com/")
    assert out.code != 0, out.stdout
    # No masquerade and no published port: Docker's chains for an internal bridge.
    rules = lab.host().ruleset()
    net_id = d("network inspect -f {{.Id}} secret").strip()
    bridge = "br-" + net_id[:12]
    assert f'iifname != "{bridge}" counter packets' in rules
    assert f'oifname != "{bridge}" counter packets' in rules
    assert "INTERNAL NETWORK EGRESS" in rules and "INTERNAL NETWORK INGRESS" in rules
    assert f'oifname != "{bridge}" ip saddr' not in rules  # no masquerade
    assert "dport 8080" not in rules
    assert d("port srv").strip() == ""
    # A host on the LAN cannot reach in either.
    ip_a = addresses("srv")["secret"]
    assert client(lab, f"ping -c 1 -W 1 {ip_a}").returncode != 0
    info = json.loads(d("network inspect secret"))[0]
    assert info["Internal"] is True


def test_macvlan_containers_are_machines_of_the_lan(lab: Lab) -> None:  # type: ignore[no-untyped-def]
    use(lab)
    nid = d(
        "network create -d macvlan --subnet 192.168.56.0/24 --gateway 192.168.56.1 "
        "-o parent=eth0 lan"
    ).strip()
    d("run -d --name web --network lan nginx")
    d("run -d --name other --network lan busybox sleep 600")
    web = addresses("web")["lan"]
    assert web == "192.168.56.2"
    links = {link.name: link for link in rtnl.links(lab.host().container("web").ns)}
    assert links["eth0"].kind == "macvlan"
    assert links["eth0"].mac == "02:42:c0:a8:38:02"
    # The LAN client reaches the container directly: no NAT, no published port.
    out = client(lab, f"curl -s -m 2 http://{web}/")
    assert "Welcome to nginx" in out.stdout, out.stdout + out.stderr
    neigh = client(lab, "ip neigh show").stdout
    assert re.search(rf"{re.escape(web)} dev eth0 lladdr 02:42:c0:a8:38:02", neigh), neigh
    # Siblings reach each other, and the way out is the LAN's router.
    assert pings("other", web)
    assert pings("web", "www.dockercon.com")
    # The classic lesson: the host cannot reach its own macvlan containers over eth0.
    assert lab.host().exec(f"ping -c 1 -W 1 {web}").returncode != 0
    info = json.loads(d("network inspect lan"))[0]
    assert info["Driver"] == "macvlan" and info["Id"] == nid
    assert info["Options"] == {"parent": "eth0"}
    assert info["IPAM"]["Config"] == [{"Subnet": "192.168.56.0/24", "Gateway": "192.168.56.1"}]
    assert sorted(c["IPv4Address"] for c in info["Containers"].values()) == [
        "192.168.56.2/24",
        "192.168.56.3/24",
    ]
    # Gone with the container and the network, nothing left in the host.
    d("rm -f web other")
    d("network rm lan")
    assert "lan" not in d("network ls --format {{.Name}}").split()


def test_macvlan_errors_leave_nothing(lab: Lab) -> None:  # type: ignore[no-untyped-def]
    use(lab)
    before = d("network ls")
    err = fails("network create -d macvlan -o parent=eth9 x")
    assert "invalid subinterface vlan name eth9" in err, err
    err = fails("network create -d macvlan -o parent=eth0 -o macvlan_mode=wrong x")
    assert "requested macvlan mode 'wrong' is not valid" in err, err
    err = fails("network create -d macvlan -o parent=lo x")
    assert "loopback interface is not a valid macvlan parent link" in err, err
    err = fails("network create -d nosuch x")
    assert 'plugin "nosuch" not found' in err, err
    assert d("network ls") == before


def test_ipvlan_fails_in_one_line_where_the_kernel_lacks_it(lab: Lab) -> None:  # type: ignore[no-untyped-def]
    use(lab)
    if not ipvlan.probe(lab.host().ns, "eth0"):
        pytest.skip("this kernel has ipvlan: the driver's own test covers it")
    err = fails("network create -d ipvlan --subnet 192.168.56.0/24 -o parent=eth0 x")
    assert err.count("\n") == 1 and "no ipvlan support" in err, err
    assert "x" not in d("network ls --format {{.Name}}").split()
    assert not [link for link in lab.host().links() if link.name.startswith("nlprobe")]


def test_ipvlan_l2_containers_share_the_parent_mac(lab: Lab) -> None:  # type: ignore[no-untyped-def]
    use(lab)
    reason = ipvlan.probe(lab.host().ns, "eth0")
    if reason:
        pytest.skip(f"this kernel has no ipvlan: {reason}")
    d("network create -d ipvlan --subnet 192.168.56.0/24 --gateway 192.168.56.1 -o parent=eth0 v")
    d("run -d --name web --network v nginx")
    web = addresses("web")["v"]
    out = client(lab, f"curl -s -m 2 http://{web}/")
    assert "Welcome to nginx" in out.stdout, out.stdout + out.stderr
    host_mac = {link.name: link.mac for link in lab.host().links()}["eth0"]
    links = {link.name: link for link in rtnl.links(lab.host().container("web").ns)}
    assert links["eth0"].kind == "ipvlan" and links["eth0"].mac == host_mac
