"""``network create`` options and IPAM flags, ``run --ip/--mac-address/--network-alias`` and
``network connect --ip/--alias``, on the fake kernel: what the kernel got, what inspect shows,
and Docker's words for what it refuses (each next to its source, Docker 28.5.2).
"""

from __future__ import annotations

import errno
import json
import re

from netlab.docker import docker
from netlab.kernel import xtables
from netlab.kernel.fake import FakeKernel
from tests.unit.test_model_on_fake_kernel import changes, cidrs, d, fails, lab_of, snapshot, swarm


def inspect_net(name: str) -> dict:
    return json.loads(d(f"network inspect {name}"))[0]


def test_ip_range_aux_address_and_labels(fake: FakeKernel) -> None:
    lab = lab_of("fk_ipam")
    d(
        "network create --subnet 172.28.0.0/16 --ip-range 172.28.5.0/24 "
        "--aux-address router=172.28.5.1 --aux-address far=172.28.9.9 "
        "--label course=net101 --label empty mynet"
    )
    net = inspect_net("mynet")
    # (api/types/network/ipam.go IPAMConfig: Subnet, IPRange, Gateway, AuxiliaryAddresses)
    assert net["IPAM"]["Config"] == [
        {
            "Subnet": "172.28.0.0/16",
            "IPRange": "172.28.5.0/24",
            "Gateway": "172.28.5.0",
            "AuxiliaryAddresses": {"router": "172.28.5.1", "far": "172.28.9.9"},
        }
    ]
    assert net["Labels"] == {"course": "net101", "empty": ""}
    host = lab.host()
    assert cidrs(fake, host.ns, "br-" + net["Id"][:12]) == ["172.28.5.0/16"]
    # The gateway holds .0 of the range, .1 is reserved: containers start at .2.
    a = host.run("ubuntu", "sleep infinity", name="a1", network="mynet")
    assert a.ip == "172.28.5.2"
    assert d("network ls --filter label=course=net101 --format '{{.Name}}'") == "mynet\n"


def test_bridge_options_reach_the_kernel_and_the_firewall(fake: FakeKernel) -> None:
    lab = lab_of("fk_opts", firewall_backend="iptables")
    host = lab.host()
    d(
        "network create -o com.docker.network.bridge.name=br-lab "
        "-o com.docker.network.driver.mtu=1400 "
        "-o com.docker.network.bridge.enable_ip_masquerade=false "
        "-o com.docker.network.bridge.enable_icc=false quiet"
    )
    assert fake.link(host.ns, "br-lab").mtu == 1400
    a = host.run("ubuntu", "sleep infinity", name="a1", network="quiet")
    assert fake.link(a.ns, "eth0").mtu == 1400
    rules = xtables.save(host.ns)
    assert "-A POSTROUTING -s 172.18.0.0/16 ! -o br-lab -j MASQUERADE" not in rules
    assert "-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE" in rules
    assert "-A DOCKER-FORWARD -i br-lab -o br-lab -j DROP" in rules
    assert inspect_net("quiet")["Options"]["com.docker.network.driver.mtu"] == "1400"


def test_bridge_options_docker_refuses(fake: FakeKernel) -> None:
    lab_of("fk_badopts")
    # (moby v28.5.2 libnetwork/drivers/bridge/bridge_linux.go fromLabels, parseErr)
    assert fails("network create -o com.docker.network.bridge.enable_icc=maybe n1") == (
        "Error response from daemon: failed to parse com.docker.network.bridge.enable_icc "
        'value: maybe (strconv.ParseBool: parsing "maybe": invalid syntax)\n'
    )
    assert fails("network create -o com.docker.network.driver.mtu=big n1") == (
        "Error response from daemon: failed to parse com.docker.network.driver.mtu value: "
        'big (strconv.Atoi: parsing "big": invalid syntax)\n'
    )
    d("network create -o com.docker.network.bridge.name=br-x n1")
    # (bridge_linux.go checkConflict, networkConfiguration.Conflicts)
    err = fails("network create -o com.docker.network.bridge.name=br-x n2")
    assert re.fullmatch(
        r"Error response from daemon: cannot create network [0-9a-f]{64} \(br-x\): conflicts "
        r"with network [0-9a-f]{64} \(br-x\): networks have same bridge name\n",
        err,
    )
    # Client-side (docker/cli v28.5.2 cli/command/network/create.go): no daemon prefix.
    out = fails("network create --ip-range 10.1.2.0/24 n3")
    assert out == "every ip-range or gateway must have a corresponding subnet\n"
    out = fails("network create --subnet 10.1.0.0/16 --ip-range 10.2.0.0/24 n3")
    assert out == "no matching subnet for range 10.2.0.0/24\n"
    # (opts/opts.go ValidateLabel: a flag error, exit 125)
    out = fails("network create --label =x n3")
    assert out.startswith('invalid argument "=x" for "--label" flag: invalid label \'=x\': empty')
    assert d("network ls --format '{{.Name}}'").split() == ["bridge", "host", "n1", "none"]


def test_run_ip_mac_and_aliases(fake: FakeKernel) -> None:
    lab = lab_of("fk_epcfg")
    host = lab.host()
    d("network create --subnet 10.10.0.0/24 mynet")
    cid = d(
        "run -d --name web --network mynet --ip 10.10.0.50 --mac-address 92:D0:C6:0A:29:33 "
        "--network-alias www --network-alias site ubuntu sleep infinity"
    ).strip()
    web = host.container(cid)
    assert cidrs(fake, web.ns, "eth0") == ["10.10.0.50/24"]
    assert fake.link(web.ns, "eth0").mac == "92:d0:c6:0a:29:33"
    ep = json.loads(d("inspect web"))[0]["NetworkSettings"]["Networks"]["mynet"]
    assert ep["IPAMConfig"] == {"IPv4Address": "10.10.0.50"}
    assert ep["Aliases"] == ["www", "site"]
    assert ep["DNSNames"] == ["web", "www", "site", cid[:12]]
    # The next container takes the lowest free address, not the one asked for.
    assert host.run("ubuntu", "sleep infinity", name="b1", network="mynet").ip == "10.10.0.2"
    # Kept across a restart, as Docker keeps the endpoint's settings.
    d("stop -t 0 web")
    d("start web")
    assert cidrs(fake, web.ns, "eth0") == ["10.10.0.50/24"]
    # network connect --ip --alias
    d("network create --subnet 10.20.0.0/24 other")
    d("network connect --ip 10.20.0.9 --alias api other b1")
    b1 = host.container("b1")
    assert cidrs(fake, b1.ns, "eth1") == ["10.20.0.9/24"]
    assert b1.networks["other"].config.aliases == ("api",)


def test_run_endpoint_flags_docker_refuses(fake: FakeKernel) -> None:
    lab_of("fk_epbad")
    d("network create --subnet 10.10.0.0/24 mynet")
    d("network create plain")
    d("run -d --name web --network mynet --ip 10.10.0.50 ubuntu sleep infinity")
    help_tail = "\n\nRun 'docker run --help' for more information\n"
    # The daemon's (moby v28.5.2 daemon/create.go validateNetworkingConfig,
    # daemon/container_operations.go validateEndpointSettings, runconfig/errors.go).
    pre = "docker: Error response from daemon: invalid config for network"
    assert fails("run -d --ip 172.17.0.9 ubuntu sleep 1") == (
        f"{pre} bridge: invalid endpoint settings:\n"
        "user specified IP address is supported on user defined networks only" + help_tail
    )
    assert fails("run -d --network plain --ip 172.18.0.9 ubuntu sleep 1") == (
        f"{pre} plain: invalid endpoint settings:\nuser specified IP address is supported "
        "only when connecting to networks with user configured subnets" + help_tail
    )
    assert fails("run -d --network mynet --ip 10.99.0.9 ubuntu sleep 1") == (
        f"{pre} mynet: invalid endpoint settings:\n"
        "no configured subnet or ip-range contain the IP address 10.99.0.9" + help_tail
    )
    # (api/types/network/endpoint.go Validate)
    assert "invalid IPv4 address: 10.10.0.x" in fails(
        "run -d --network mynet --ip 10.10.0.x ubuntu sleep 1"
    )
    # Taken: the container is created and stays Created (libnetwork ipamapi
    # ErrIPAlreadyAllocated, wrapped by daemon/start_linux.go errSetupNetworking).
    out = fails("run -d --name dup --network mynet --ip 10.10.0.50 ubuntu sleep 1")
    assert "Address already in use" in out
    # The CLI's own (docker/cli v28.5.2 cli/command/container/opts.go parse,
    # parseNetworkAttachmentOpt; run.go withHelp).
    assert fails("run -d --mac-address 92:d0:zz:0a:29:33 ubuntu sleep 1") == (
        "docker: 92:d0:zz:0a:29:33 is not a valid mac address" + help_tail
    )
    assert fails("run -d --network-alias x ubuntu sleep 1") == (
        "docker: network-scoped aliases are only supported for user-defined networks" + help_tail
    )


def test_ps_is_task_filter(fake: FakeKernel) -> None:
    """moby v28.5.2 daemon/list.go: ``is-task`` keeps a swarm task's containers (true) or
    the others (false); a value that is neither is api/types/filters' invalidFilter."""
    lab = lab_of("fk_istask", "node1")
    swarm(lab)
    d("-H node1 service create --name svc --replicas 1 ubuntu sleep infinity")
    d("-H node1 run -d --name plain ubuntu sleep infinity")
    names = "-H node1 ps --format '{{.Names}}' --filter"
    assert d(f"{names} is-task=false") == "plain\n"
    assert d(f"{names} is-task=true").startswith("svc.1.")
    assert fails("-H node1 ps --filter is-task=maybe") == (
        "Error response from daemon: invalid filter 'is-task=[maybe]'\n"
    )


def test_the_embedded_dns_on_the_fake_kernel(fake: FakeKernel) -> None:
    """Containers on a user network get 127.0.0.11 and Docker's resolv.conf, the NAT rules in
    their own namespace and their sockets at the host's one server; the default bridge keeps
    the host's servers (moby v28.5.2 libnetwork/resolver_unix.go, sandbox_dns_unix.go,
    internal/resolvconf)."""
    lab = lab_of("fk_edns", firewall_backend="iptables")
    host = lab.host()
    d("network create mynet")
    a = host.run("ubuntu", "sleep infinity", name="a1", network="mynet")
    b = host.run("ubuntu", "sleep infinity", name="b1")
    rules = xtables.save(a.ns)
    assert "-A OUTPUT -d 127.0.0.11/32 -j DOCKER_OUTPUT" in rules
    assert re.search(
        r"-A DOCKER_OUTPUT -d 127\.0\.0\.11/32 -p udp -m udp --dport 53 -j DNAT "
        r"--to-destination 127\.0\.0\.11:\d+",
        rules,
    )
    assert "DOCKER_OUTPUT" not in xtables.save(b.ns)
    servers = [p for p in fake.processes if dns_server_argv(p.argv)]
    assert len(servers) == 1
    (held,) = fake.dns_attached.values()
    assert held == {a.id}
    # One server for the host, whatever the number of containers and networks.
    d("network create other")
    c = host.run("ubuntu", "sleep infinity", name="c1", network="other")
    assert held == {a.id, c.id}
    assert len([p for p in fake.processes if dns_server_argv(p.argv)]) == 1
    with open(lab.store.path("dns-host.json")) as f:
        table = json.load(f)
    mynet = table["networks"][a.networks["mynet"].network_id]
    assert mynet["names"]["a1"] == [a.ip]
    assert mynet["reverse"] == {a.ip: "a1.mynet"}
    d("rm -f a1")
    assert held == {c.id}
    d("stop -t 0 c1")
    assert held == set()


def test_a_failed_dns_setup_leaves_a_created_container(fake: FakeKernel) -> None:
    lab = lab_of("fk_ednsfail", firewall_backend="iptables")
    host = lab.host()
    d("network create mynet")
    host.run("ubuntu", "sleep infinity", name="first", network="mynet")
    before = snapshot(fake)
    fake.fail("xtables.restore", errno.EINVAL, ns="nl-fk_ednsfail-[0-9a-f]*")
    out = docker("run -d --name x1 --network mynet ubuntu sleep infinity")
    assert out.code == 125, out
    assert changes(before, fake) == []
    (held,) = fake.dns_attached.values()
    assert held == {host.container("first").id}
    assert d("ps -a --format '{{.Names}} {{.Status}}'").startswith("x1 Created\n")


def dns_server_argv(argv: list[str]) -> bool:
    return any(a.endswith("dns_server.py") for a in argv)


def test_swarm_leave(fake: FakeKernel) -> None:
    """moby v28.5.2 daemon/cluster/swarm.go Leave, errors.go errNoSwarm; docker/cli v28.5.2
    cli/command/swarm/leave.go ("Node left the swarm.")."""
    lab = lab_of("fk_leave", "node1", "node2", "node3")
    assert fails("-H node2 swarm leave") == (
        "Error response from daemon: This node is not part of a swarm\n"
    )
    swarm(lab, "node2", "node3")
    d("-H node1 network create -d overlay overnet")
    d("-H node1 service create -d --name s --network overnet --replicas 3 ubuntu sleep infinity")
    assert sorted(c.host.name for h in lab.hosts for c in h.containers()) == [
        "node1",
        "node2",
        "node3",
    ]
    assert d("-H node3 swarm leave") == "Node left the swarm.\n"
    # Its task runs again on the others; node3 has no task and no view of the overlay left.
    on = sorted(c.host.name for h in lab.hosts for c in h.containers())
    assert on == ["node1", "node1", "node2"] or on == ["node1", "node2", "node2"]
    assert "overnet" not in d("-H node3 network ls")
    assert "docker_gwbridge" in d("-H node3 network ls")
    rows = d("-H node1 node ls").splitlines()[1:]
    status = {r.replace(" * ", " ").split()[1]: r.replace(" * ", " ").split()[2:4] for r in rows}
    assert status == {
        "node1": ["Ready", "Active"],
        "node2": ["Ready", "Active"],
        "node3": ["Down", "Active"],
    }
    assert fails("-H node3 service ls").startswith("Error response from daemon: This node is not")
    # The manager leaves only with --force, and the swarm is gone
    assert fails("-H node1 swarm leave") == (
        "Error response from daemon: You are attempting to leave the swarm on a node that is "
        "participating as a manager. Removing the last manager erases all current state of the "
        "swarm. Use `--force` to ignore this message. \n"
    )
    assert d("-H node1 swarm leave --force") == "Node left the swarm.\n"
    assert [c for h in lab.hosts for c in h.containers()] == []
    assert "overnet" not in d("-H node1 network ls")
    assert d("-H node1 swarm init").startswith("Swarm initialized")
