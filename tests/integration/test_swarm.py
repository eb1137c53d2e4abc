"""Swarm and overlay: the walkthrough against the kernel, joins that fail, clean scaling,
the encapsulation on the wire, the MTU, and three nodes."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time

import pytest

from netlab import Lab
from netlab.docker import docker, use
from netlab.kernel import netns, rtnl
from netlab.model import cluster
from netlab.model.drivers import overlay
from netlab.views.capture import capture_vxlan

pytestmark = pytest.mark.root


def d(line: str) -> str:
    out = docker(line)
    assert out.code == 0, f"docker {line}: {out.stdout}{out.stderr}"
    return out.stdout


def init_and_join(lab: Lab, *workers: str) -> str:
    # (docker/cli v28.5.2 cli/command/swarm/init.go runInit, join_token.go printJoinCommand:
    # "    docker swarm join --token %s %s"; join.go runJoin)
    token = re.search(
        r"--token (SWMTKN-1-\S+) 192\.168\.56\.11:2377", d("-H node1 swarm init")
    ).group(1)  # type: ignore[union-attr]
    for w in workers:
        assert (
            d(f"-H {w} swarm join --token {token} 192.168.56.11:2377")
            == "This node joined a swarm as a worker.\n"
        )
    return token


def fdb(ns: str) -> list[tuple[str, str]]:
    out = subprocess.run(
        ["bridge", "-n", ns, "-j", "fdb", "show", "dev", "vxlan0"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return sorted((e["mac"], e["dst"]) for e in json.loads(out) if e.get("dst"))


def neigh(ns: str) -> list[tuple[str, str]]:
    out = subprocess.run(
        ["ip", "-n", ns, "-j", "neigh", "show", "dev", "vxlan0"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return sorted((e["dst"], e["lladdr"]) for e in json.loads(out))


@pytest.fixture
def two(make_lab) -> Lab:  # type: ignore[no-untyped-def]
    lab = make_lab(hosts=("node1", "node2"))
    use(lab)
    return lab


def test_the_overlay_walkthrough(two: Lab) -> None:
    init_and_join(two, "node2")
    ls = d("-H node1 node ls").splitlines()
    # (docker/cli v28.5.2 cli/command/node/formatter.go defaultNodeTableFormat, its headers,
    # ManagerStatus "Leader", PrettyPrint of "ready"/"active", EngineVersion)
    assert ls[0].split() == [
        "ID",
        "HOSTNAME",
        "STATUS",
        "AVAILABILITY",
        "MANAGER",
        "STATUS",
        "ENGINE",
        "VERSION",
    ]
    assert re.match(r"[0-9a-z]{25} \*\s+node1\s+Ready\s+Active\s+Leader\s+28\.5\.2$", ls[1])
    assert re.match(r"[0-9a-z]{25}\s+node2\s+Ready\s+Active\s+28\.5\.2$", ls[2])
    d("-H node1 network create -d overlay overnet")
    # (docker/cli v28.5.2 cli/command/network/list.go runList: sorted by name)
    names1 = [ln.split()[1] for ln in d("-H node1 network ls").splitlines()[1:]]
    assert names1 == ["bridge", "docker_gwbridge", "host", "ingress", "none", "overnet"]
    assert "overnet" not in d("-H node2 network ls")
    d(
        "-H node1 service create --name myservice --network overnet --replicas 2 ubuntu "
        "sleep infinity"
    )
    # (docker/cli v28.5.2 cli/command/task/formatter.go defaultTaskTableFormat: ID, NAME,
    # IMAGE, NODE, DESIRED STATE, ...; task/print.go: NAME is SERVICE.SLOT)
    ps = [ln.split() for ln in d("-H node1 service ps myservice").splitlines()[1:]]
    assert [(r[1], r[3], r[4]) for r in ps] == [
        ("myservice.1", "node1", "Running"),
        ("myservice.2", "node2", "Running"),
    ]
    assert "overnet" in d("-H node2 network ls")
    row = d("-H node1 ps").splitlines()[1]
    # (moby v28.5.2 daemon/cluster/executor/container/container.go containerConfig.name:
    # SERVICE.SLOT.TASKID)
    assert re.search(r"myservice\.1\.[0-9a-z]{25}$", row), row
    t1 = two.host("node1").containers()[0]
    t2 = two.host("node2").containers()[0]
    ip2 = t2.networks["overnet"].ip
    out = d(f"-H node1 exec {t1.name} ping -c 2 -i 0.2 {ip2}")
    assert "2 received" in out
    # The kernel agrees with what inspect says.
    doc = json.loads(d("-H node1 network inspect overnet"))[0]
    # (moby v28.5.2 libnetwork/netlabel/labels.go OverlayVxlanIDList)
    vni = int(doc["Options"]["com.docker.network.driver.overlay.vxlanid_list"])
    assert vni == 4097
    box1 = t1.networks["overnet"].bridge_ns
    box2 = t2.networks["overnet"].bridge_ns
    vx = next(lk for lk in rtnl.links(box1) if lk.name == "vxlan0")
    assert vx.vxlan_id == vni and vx.mtu == 1450
    br0 = next(a.cidr for a in rtnl.addrs(box1) if a.ifname == "br0")
    assert br0 == "10.0.1.1/24"
    # (moby v28.5.2 api/types/network/ipam.go IPAMConfig, network.go Inspect.Peers/PeerInfo)
    assert doc["IPAM"]["Config"] == [{"Subnet": "10.0.1.0/24", "Gateway": "10.0.1.1"}]
    assert [p["IP"] for p in doc["Peers"]] == ["192.168.56.11", "192.168.56.12"]
    # Static control plane: each side points at the other node's task and load balancer
    # (lb-overnet), and nothing else.
    boxes = two.store.lab_record.swarm.sandboxes
    lb1, lb2 = (
        next(b for b in boxes.values() if b.node == n and b.netns in (box1, box2))
        for n in ("node1", "node2")
    )
    assert sorted(fdb(box1)) == sorted([(t2.mac, "192.168.56.12"), (lb2.lb_mac, "192.168.56.12")])
    assert sorted(fdb(box2)) == sorted([(t1.mac, "192.168.56.11"), (lb1.lb_mac, "192.168.56.11")])
    assert sorted(neigh(box1)) == sorted([(ip2, t2.mac), (lb2.lb_ip, lb2.lb_mac)])
    eth0 = next(lk for lk in rtnl.links(t1.ns) if lk.name == "eth0")
    assert eth0.mtu == 1450
    routes = rtnl.routes(t1.ns)
    assert any(r.dst == "default" and r.dev == "eth1" for r in routes), routes
    assert "1 received" in d(f"-H node1 exec {t1.name} ping -c 1 -W 2 www.dockercon.com")


def test_encapsulation_seen_on_the_wire(two: Lab) -> None:
    init_and_join(two, "node2")
    d("-H node1 network create -d overlay overnet")
    d("-H node1 service create --name s --network overnet --replicas 2 alpine sleep 600")
    t1 = two.host("node1").containers()[0]
    t2 = two.host("node2").containers()[0]
    ip1, ip2 = t1.networks["overnet"].ip, t2.networks["overnet"].ip
    pkts = capture_vxlan(two.host("node1"), lambda: t1.exec(["ping", "-c", "1", "-W", "2", ip2]))
    p = pkts[0]
    assert (p.outer_src_ip, p.outer_dst_ip) == ("192.168.56.11", "192.168.56.12")
    assert p.udp_dst_port == 4789
    vx = next(lk for lk in rtnl.links(t1.networks["overnet"].bridge_ns) if lk.name == "vxlan0")
    assert p.vni == vx.vxlan_id == 4097
    assert (p.inner_src_mac, p.inner_dst_mac) == (t1.mac, t2.mac)
    assert (p.inner_src_ip, p.inner_dst_ip) == (ip1, ip2)
    assert (p.inner_proto, p.inner_detail) == ("ICMP", "echo request")
    assert "VXLAN     VNI 4097" in str(p)
    assert p.as_dict()["vni"] == 4097 and p.as_dict()["inner_dst_ip"] == ip2


def test_overlay_mtu(two: Lab) -> None:
    init_and_join(two, "node2")
    d("-H node1 network create -d overlay overnet")
    d("-H node1 service create --name s --network overnet --replicas 2 alpine sleep 600")
    t1 = two.host("node1").containers()[0]
    ip2 = two.host("node2").containers()[0].networks["overnet"].ip
    fits = t1.exec(["ping", "-c", "1", "-W", "2", "-M", "do", "-s", "1422", ip2])
    assert fits.ok, fits
    too_big = t1.exec(["ping", "-c", "1", "-W", "2", "-M", "do", "-s", "1423", ip2])
    assert not too_big.ok
    assert "message too long, mtu=1450" in too_big.stderr, too_big


def test_join_failures(two: Lab) -> None:
    init_and_join(two)
    out = docker("-H node2 swarm join --token SWMTKN-1-wrong 192.168.56.11:2377")
    # (moby v28.5.2 vendor/github.com/moby/swarmkit/v2/ca/config.go ParseJoinToken, which
    # DownloadRootCA calls first)
    assert (out.code, out.stderr) == (1, "Error response from daemon: invalid join token\n")
    wrong = f"SWMTKN-1-{'0' * 50}-{'1' * 25}"
    out = docker(f"-H node2 swarm join --token {wrong} 192.168.56.11:2377")
    # (vendor/github.com/moby/swarmkit/v2/ca/server.go IssueNodeCertificate: a well-formed
    # token the manager does not know)
    assert out.code == 1 and out.stderr == (
        "Error response from daemon: rpc error: code = InvalidArgument desc = A valid join "
        "token is necessary to join this cluster\n"
    )
    token = cluster.require_manager(two.host("node1")).tokens["worker"]
    lan = two.namespaces()[0].rsplit("-", 1)[0] + "-lan"
    subprocess.run(["ip", "-n", lan, "link", "set", "to-node1", "down"], check=True)
    out = docker(f"-H node2 swarm join --token {token} 192.168.56.11:2377")
    # (moby v28.5.2 daemon/cluster/errors.go errSwarmJoinTimeoutReached)
    assert out.code == 1 and "Timeout was reached before node joined" in out.stderr
    subprocess.run(["ip", "-n", lan, "link", "set", "to-node1", "up"], check=True)
    assert d(f"-H node2 swarm join --token {token} 192.168.56.11:2377").startswith("This node")
    out = docker(f"-H node2 swarm join --token {token} 192.168.56.11:2377")
    # (moby v28.5.2 daemon/cluster/errors.go errSwarmExists, errSwarmNotManager)
    assert "already part of a swarm" in out.stderr
    assert "not a swarm manager" in docker("-H node2 node ls").stderr


def test_scale_and_rm_leave_nothing(two: Lab) -> None:
    init_and_join(two, "node2")
    d("-H node1 network create -d overlay overnet")
    d("-H node1 service create --name s --network overnet --replicas 4 alpine sleep 600")
    assert sorted(len(h.containers()) for h in two.hosts) == [2, 2]
    d("-H node1 service scale s=1")
    assert [len(h.containers()) for h in two.hosts] == [1, 0]
    box1 = overlay.sandbox_ns(two.name, "node1", two.host("node1").network("overnet").id)
    box2 = box1.replace("-node1-", "-node2-")
    assert not netns.exists(box2), "node2's overlay namespace should go with its last task"
    assert fdb(box1) == [] and neigh(box1) == []
    assert "overnet" not in d("-H node2 network ls")
    d("-H node1 service scale s=3")
    assert len(fdb(box1)) == 2  # (node2's task and its load balancer)
    d("-H node1 service rm s")
    assert not netns.exists(box1) and not netns.exists(box2)
    assert all(h.containers(all=True) == [] for h in two.hosts)
    assert "overnet" in d("-H node1 network ls"), "the manager keeps listing the network"


def test_three_nodes(make_lab) -> None:  # type: ignore[no-untyped-def]
    lab = make_lab(hosts=("node1", "node2", "node3"))
    use(lab)
    init_and_join(lab, "node2", "node3")
    d("-H node1 network create -d overlay overnet")
    d("-H node1 service create --name web --network overnet --replicas 3 alpine sleep 600")
    # (docker/cli v28.5.2 cli/command/task/formatter.go defaultTaskTableFormat: 4th is NODE)
    nodes = [ln.split()[3] for ln in d("-H node1 service ps web").splitlines()[1:]]
    assert nodes == ["node1", "node2", "node3"]
    tasks = [h.containers()[0] for h in lab.hosts]
    for a in tasks:
        for b in tasks:
            if a is not b:
                r = a.exec(["ping", "-c", "1", "-W", "2", b.networks["overnet"].ip])
                assert r.ok, (a.name, b.name, r)


def test_a_worker_leaves_and_its_task_runs_again_elsewhere(two: Lab) -> None:
    """docker swarm leave on a worker: its task goes, swarm starts it again on node1, the
    tasks reach each other over the overlay, node2 keeps no overlay namespace, and it can
    join again (moby v28.5.2 daemon/cluster/swarm.go Leave)."""
    token = init_and_join(two, "node2")
    d("-H node1 network create -d overlay overnet")
    d("-H node1 service create -d --name s --network overnet --replicas 2 ubuntu sleep infinity")
    assert sorted(c.host.name for h in two.hosts for c in h.containers()) == ["node1", "node2"]
    assert d("-H node2 swarm leave") == "Node left the swarm.\n"
    tasks = two.host("node1").containers()
    assert len(tasks) == 2 and two.host("node2").containers() == []
    assert not [n for n in two.namespaces() if n.startswith(two.host("node2").ns + "-1-")]
    ip = tasks[1].networks["overnet"].ip
    assert tasks[0].exec(["ping", "-c", "1", "-W", "2", ip]).ok
    assert "node2" in d("-H node1 node ls") and " Down " in d("-H node1 node ls")
    assert d(f"-H node2 swarm join --token {token} 192.168.56.11:2377").startswith("This node")
    d("-H node1 service scale -d s=3")
    assert "node2" in {c.host.name for h in two.hosts for c in h.containers()}


def test_a_node_fails_and_comes_back(make_lab) -> None:  # type: ignore[no-untyped-def]
    """netlab node down: node3's LAN link goes down, the manager lists it Down and starts
    its task on the others, whose tasks still reach each other over the overlay (the peer
    tables forgot node3); node up: its stale task ends and it takes tasks again."""
    from netlab.model import swarm

    lab = make_lab(hosts=("node1", "node2", "node3"))
    use(lab)
    init_and_join(lab, "node2", "node3")
    d("-H node1 network create -d overlay overnet")
    d("-H node1 service create -d --name s --network overnet --replicas 3 ubuntu sleep infinity")
    old = lab.host("node3").containers()
    assert len(old) == 1
    done = subprocess.run(
        [sys.executable, "-m", "netlab", "node", "down", lab.name, "node3"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (done.returncode, done.stdout) == (0, "node node3 down\n"), done.stderr
    rows = d("-H node1 node ls")
    assert any(" node3 " in r and " Down " in r for r in rows.splitlines()), rows
    tasks = [c for n in ("node1", "node2") for c in lab.host(n).containers()]
    assert len(tasks) == 3
    box1 = tasks[0].networks["overnet"].bridge_ns
    assert old[0].networks["overnet"].mac not in [m for m, _ in fdb(box1)]
    far = next(c for c in tasks if c.host.name != tasks[0].host.name)
    assert tasks[0].exec(["ping", "-c", "1", "-W", "2", far.networks["overnet"].ip]).ok
    # Cut off: node3 cannot reach the manager's port.
    assert not lab.host("node3").exec(["ping", "-c", "1", "-W", "1", "192.168.56.11"]).ok
    swarm.node_up(lab, "node3")
    assert lab.host("node3").containers() == []
    assert " Ready " in next(r for r in d("-H node1 node ls").splitlines() if " node3 " in r)
    d("-H node1 service scale -d s=4")
    assert len(lab.host("node3").containers()) == 1


def test_service_logs(two: Lab) -> None:
    """docker/cli v28.5.2 cli/command/service/logs.go: NAME.SLOT.TASKID@NODE, the slot
    padded to the widest replica number, then '    | '."""
    init_and_join(two, "node2")
    d("-H node1 service create -d --name talk --replicas 10 ubuntu sh -c 'echo hi; exec sleep 600'")
    sw = cluster.require_manager(two.host("node1"))
    svc = next(s for s in sw.services.values() if s.name == "talk")
    want = sorted(
        f"talk.{t.slot}.{t.id[:12]}@{t.node}{' ' if t.slot < 10 else ''}    | hi"
        for t in svc.tasks.values()
    )
    for _ in range(50):  # (the tasks write as they start)
        got = sorted(d("-H node1 service logs talk").splitlines())
        if got == want:
            break
        time.sleep(0.1)
    assert got == want
    t = next(t for t in svc.tasks.values() if t.slot == 3)
    assert d(f"-H node1 service logs --raw {t.id}") == "hi\n"
    assert d(f"-H node1 service logs --no-task-ids {t.id}") == f"talk.3@{t.node}    | hi\n"
    out = docker("-H node1 service logs nothing")
    assert (out.code, out.stderr) == (
        1,
        "no such task or service: nothing\n",
    )
