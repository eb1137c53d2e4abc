"""The ingress routing mesh against the kernel: a service's published port answers on every
node, a node without a task too; Docker 28's rules where Docker puts them (the node's
DOCKER-INGRESS chains, the ingress-sbox, the task's REDIRECT); ``--publish mode=host`` only
where a task runs (moby v28.5.2 libnetwork/service_linux.go programIngress, configureFWMark,
addRedirectRules)."""

from __future__ import annotations

import json
import re

import pytest

from netlab import Lab
from netlab.docker import docker, use
from netlab.kernel import proc
from netlab.model import swarm

pytestmark = pytest.mark.root

SERVE_HOSTNAME = "sh -c 'hostname > /tmp/index.html; exec busybox httpd -f -p 80 -h /tmp'"


def ok(line: str) -> str:
    out = docker(line)
    assert out.code == 0, f"docker {line}: {out.stdout}{out.stderr}"
    return out.stdout


def swarm_of(make_lab: object, *nodes: str) -> Lab:
    lab = make_lab(hosts=nodes)  # type: ignore[operator]
    use(lab)
    token = re.search(r"--token (\S+) ", ok(f"-H {nodes[0]} swarm init"))
    assert token is not None
    for n in nodes[1:]:
        ok(f"-H {n} swarm join --token {token.group(1)} {lab.host(nodes[0]).address}:2377")
    return lab


def curl(lab: Lab, where: str, url: str) -> str:
    """What ``curl`` prints from ``where`` ("" when it fails)."""
    r = lab.exec(where, f"curl -s -m 2 {url}")
    return r.stdout.strip() if r.ok else ""


def iptables(lab: Lab, ns: str, *args: str) -> list[str]:
    out = proc.run_in(proc.netns_prefix(ns), ["iptables", *args])
    assert out.ok, out
    return out.stdout.splitlines()


def test_a_published_port_answers_on_every_node(make_lab: object) -> None:
    lab = swarm_of(make_lab, "node1", "node2", "node3")
    ok(
        "-H node1 service create -d --name web -p 8080:80 --replicas 2 "
        f"--constraint node.hostname!=node3 ubuntu {SERVE_HOSTNAME}"
    )
    tasks = [c for h in lab.hosts for c in h.containers() if c.name.startswith("web.")]
    assert sorted(c.host.name for c in tasks) == ["node1", "node2"]
    names = {c.record.hostname for c in tasks}
    # From the LAN, every node answers, node3 too, which runs no task; each connection goes
    # to the next task (the ingress-sbox's round robin).
    for node in lab.hosts:
        seen = {curl(lab, "client", f"http://{node.address}:8080/") for _ in range(4)}
        assert seen == names, (node.name, seen)
    # The node's own programs reach it on localhost (route_localnet, MASQUERADE).
    assert curl(lab, "node3", "http://127.0.0.1:8080/") in names
    # (docker/cli v28.5.2 cli/command/service/formatter.go Ports)
    assert "*:8080->80/tcp" in ok("-H node1 service ls")
    spec = json.loads(ok("-H node1 service inspect web"))[0]
    port = {"Protocol": "tcp", "TargetPort": 80, "PublishedPort": 8080, "PublishMode": "ingress"}
    assert spec["Endpoint"]["Ports"] == [port] and spec["Spec"]["EndpointSpec"]["Ports"] == [port]
    ingress = json.loads(ok("-H node3 network inspect ingress"))[0]
    assert ingress["Ingress"] is True
    assert ingress["IPAM"]["Config"] == [{"Subnet": "10.0.0.0/24", "Gateway": "10.0.0.1"}]
    assert spec["Endpoint"]["VirtualIPs"][0]["NetworkID"] == ingress["Id"]
    sbox = ingress["Containers"]["ingress-sbox"]
    assert sbox["Name"] == "ingress-endpoint" and sbox["IPv4Address"].startswith("10.0.0.")
    gw = json.loads(ok("-H node3 network inspect docker_gwbridge"))[0]["Containers"]
    assert gw["ingress-sbox"]["Name"] == "gateway_ingress-sbox"
    sbox_ip = gw["ingress-sbox"]["IPv4Address"].split("/")[0]
    # Docker 28's rules on the node (programIngress), in the kernel.
    node3 = lab.host("node3").ns
    assert iptables(lab, node3, "-t", "nat", "-S", "DOCKER-INGRESS") == [
        "-N DOCKER-INGRESS",
        f"-A DOCKER-INGRESS -p tcp -m tcp --dport 8080 -j DNAT --to-destination {sbox_ip}:8080",
        "-A DOCKER-INGRESS -j RETURN",
    ]
    assert iptables(lab, node3, "-t", "nat", "-S", "PREROUTING")[1:] == [
        "-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER-INGRESS",
        "-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER",
    ]
    assert iptables(lab, node3, "-S", "DOCKER-INGRESS") == [
        "-N DOCKER-INGRESS",
        "-A DOCKER-INGRESS -p tcp -m tcp --dport 8080 -j ACCEPT",
        "-A DOCKER-INGRESS -p tcp -m tcp --sport 8080 -m conntrack --ctstate RELATED,ESTABLISHED "
        "-j ACCEPT",
        "-A DOCKER-INGRESS -j RETURN",
    ]
    assert iptables(lab, node3, "-S", "DOCKER-FORWARD")[1] == "-A DOCKER-FORWARD -j DOCKER-INGRESS"
    # The task: eth0 on ingress, the published port redirected to the target (addRedirectRules).
    t = tasks[0]
    ip = t.networks["ingress"].ip
    assert iptables(lab, t.ns, "-t", "nat", "-S", "PREROUTING")[1:] == [
        f"-A PREROUTING -d {ip}/32 -p tcp -m tcp --dport 8080 -j REDIRECT --to-ports 80"
    ]
    assert f"-A INPUT -d {ip}/32 -p tcp -j DROP" in iptables(lab, t.ns, "-S", "INPUT")
    assert f"{ip}/24" in ok(f"-H {t.host.name} exec {t.name} ip -br addr show eth0")
    # The service goes: its port closes everywhere, the chains stay with their RETURN.
    ok("-H node1 service rm web")
    assert curl(lab, "client", f"http://{lab.host('node3').address}:8080/") == ""
    assert iptables(lab, node3, "-t", "nat", "-S", "DOCKER-INGRESS") == [
        "-N DOCKER-INGRESS",
        "-A DOCKER-INGRESS -j RETURN",
    ]


def test_host_mode_publishes_only_where_a_task_runs(make_lab: object) -> None:
    lab = swarm_of(make_lab, "node1", "node2")
    ok(
        "-H node1 service create -d --name web --publish mode=host,published=8081,target=80 "
        f"--constraint node.hostname==node2 ubuntu {SERVE_HOSTNAME}"
    )
    (t,) = lab.host("node2").containers()
    assert curl(lab, "client", f"http://{lab.host('node2').address}:8081/") == t.record.hostname
    assert curl(lab, "client", f"http://{lab.host('node1').address}:8081/") == ""
    # (docker/cli v28.5.2 cli/command/task/formatter.go Ports; service ls shows ingress only)
    ps = ok("-H node1 service ps web --format '{{.Node}} {{.Ports}}'")
    assert ps == "node2 *:8081->80/tcp\n"
    assert ok("-H node1 service ls --format '{{.Ports}}'") == "\n"
    # One such task per node: a second one has nowhere to go (swarmkit's HostPortFilter).
    ok("-H node1 service scale -d web=2")
    err = ok("-H node1 service ps web --no-trunc --format '{{.Node}}: {{.Error}}'")
    # (swarmkit's explanations, most failures first, ties in the pipeline's order)
    assert err.splitlines() == [
        "node2: ",
        ': "no suitable node (scheduling constraints not satisfied on 1 node; '
        'host-mode port already in use on 1 node)"',
    ], err


def test_published_ports_are_checked_as_swarm_does(make_lab: object) -> None:
    swarm_of(make_lab, "node1")
    ok("-H node1 service create -d --name web -p 8080:80 ubuntu sleep infinity")
    sid = ok("-H node1 service inspect -f '{{.ID}}' web").strip()
    out = docker("-H node1 service create -d --name two -p 8080:81 ubuntu sleep infinity")
    # (vendored swarmkit manager/controlapi/service.go checkPortConflicts)
    assert out.stderr == (
        "Error response from daemon: rpc error: code = InvalidArgument desc = port '8080' is "
        f"already in use by service 'web' ({sid}) as an ingress port\n"
    ), out
    out = docker("-H node1 service create -d --name rr --endpoint-mode dnsrr -p 9090:80 ubuntu")
    assert "port published with ingress mode can't be used with dnsrr mode" in out.stderr
    # A port left open gets the first of swarm's dynamic range.
    ok("-H node1 service create -d --name any -p 80 ubuntu sleep infinity")
    ls = ok("-H node1 service ls --format '{{.Name}} {{.Ports}}'").splitlines()
    assert "any *:30000->80/tcp" in ls, ls


def test_service_update_rolls_the_tasks_and_the_ports(make_lab: object) -> None:
    lab = swarm_of(make_lab, "node1", "node2")
    ok("-H node1 network create -d overlay overnet")
    svc = "-H node1 service create -d --name web --network overnet --replicas 2"
    ok(f"{svc} ubuntu {SERVE_HOSTNAME}")
    before = set(ok("-H node1 service ps -q web").split())
    node2 = lab.host("node2").address
    assert curl(lab, "client", f"http://{node2}:8080/") == ""
    # --publish-add: every task again (it needs an end on ingress), then the port answers.
    assert ok("-H node1 service update -d --publish-add 8080:80 web") == "web\n"
    after = set(ok("-H node1 service ps -q web").split())
    assert len(after) == 2 and not after & before
    names = {c.record.hostname for h in lab.hosts for c in h.containers()}
    assert {curl(lab, "client", f"http://{node2}:8080/") for _ in range(4)} == names
    # --image and --replicas: a new spec rolled out, then scaled.
    ok("-H node1 service update -d --image busybox --replicas 3 web")
    images = ok("-H node1 service ps web --format '{{.Name}} {{.Image}}'").splitlines()
    assert images == ["web.1 busybox:latest", "web.2 busybox:latest", "web.3 busybox:latest"]
    # (docker/cli v28.5.2 cli/command/service/formatter.go serviceInspectPrettyTemplate)
    sid = ok("-H node1 service inspect -f '{{.ID}}' web").strip()
    assert ok("-H node1 service inspect --pretty web") == (
        f"\nID:\t\t{sid}\nName:\t\tweb\nService Mode:\tReplicated\n Replicas:\t3\nPlacement:\n"
        "ContainerSpec:\n Image:\t\tbusybox:latest\n Args:\t\tsh -c hostname > /tmp/index.html; "
        "exec busybox httpd -f -p 80 -h /tmp \n Init:\t\tfalse\nResources:\nNetworks: overnet \n"
        "Endpoint Mode:\tvip\nPorts:\n PublishedPort = 8080\n  Protocol = tcp\n  TargetPort = 80\n"
        "  PublishMode = ingress \n"
    )
    # --publish-rm takes the target port; the port closes on every node.
    ok("-H node1 service update -d --publish-rm 80 web")
    assert curl(lab, "client", f"http://{node2}:8080/") == ""
    assert "Ports" not in json.loads(ok("-H node1 service inspect web"))[0]["Endpoint"]
    out = docker("-H node1 service inspect --pretty --format '{{.ID}}' web")
    assert (out.code, out.stderr) == (1, "--format is incompatible with human friendly format\n")


def test_the_mesh_follows_a_drain_and_a_node_failure(make_lab: object) -> None:
    lab = swarm_of(make_lab, "node1", "node2", "node3")
    ok(
        "-H node1 service create -d --name web -p 8080:80 --replicas 2 "
        f"--constraint node.hostname!=node3 ubuntu {SERVE_HOSTNAME}"
    )
    addr = {h.name: h.address for h in lab.hosts}
    for _ in range(4):  # (node1's ingress bridge learns where each task's MAC lives)
        curl(lab, "client", f"http://{addr['node1']}:8080/")
    (moved,) = lab.host("node2").containers()
    old_ip = moved.networks["ingress"].ip
    ok("-H node1 node update --availability drain node2")
    tasks = [c for h in lab.hosts for c in h.containers() if c.name.startswith("web.")]
    assert sorted(c.host.name for c in tasks) == ["node1", "node1"]
    # swarmkit hands out overlay addresses serially: the moved task does not take the old
    # one, whose MAC node1's bridge still places behind the VXLAN port.
    assert old_ip not in [c.networks["ingress"].ip for c in tasks]
    names = {c.record.hostname for c in tasks}
    for node in ("node1", "node2", "node3"):
        seen = [curl(lab, "client", f"http://{addr[node]}:8080/") for _ in range(4)]
        assert set(seen) == names, (node, seen)
    # A node that fails and comes back keeps its end of the mesh (ingress is on every node).
    swarm.node_down(lab, "node3")
    assert curl(lab, "client", f"http://{addr['node1']}:8080/") in names
    swarm.node_up(lab, "node3")
    assert "ingress" in ok("-H node3 network ls")
    assert {curl(lab, "client", f"http://{addr['node3']}:8080/") for _ in range(4)} == names
