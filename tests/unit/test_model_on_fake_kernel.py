"""The model's logic on the fake kernel (netlab.kernel.fake), as any user, in a few seconds.

Everything goes through the public API (``Lab``, ``lab.host()``, ``host.run``, container
properties, ``network.inspect()``) and the docker front end; what the model did is read back
from the fake kernel: addresses, links, routes, rules, neighbour and FDB entries. Lab names
start with ``fk`` (the fake's store is a temporary folder; nothing real is created).
"""

from __future__ import annotations

import errno
import inspect
import ipaddress
import json
import os
import re
import shutil
import subprocess
from typing import Any

import pytest

from netlab import Lab, testing
from netlab.docker import docker, use
from netlab.kernel import _worker, containers, netns, nft, proc, rtnl, trace, xtables
from netlab.kernel.fake import (
    FAKE_PID_BASE,
    FakeKernel,
    FakeNetns,
    FakeNft,
    FakeProc,
    FakeRtnl,
    FakeXtables,
    FdbEntry,
)
from netlab.model import ids, images, state, topology
from netlab.model.container import Container
from netlab.model.drivers import overlay

# The real functions, kept before any test replaces them (for the fidelity checks below).
REAL: dict[str, Any] = {
    f"{mod.__name__.rsplit('.', 1)[1]}.{name}": getattr(mod, name)
    for mod, names in (
        (netns, FakeNetns.NAMES),
        (rtnl, FakeRtnl.NAMES),
        (nft, FakeNft.NAMES),
        (xtables, FakeXtables.NAMES),
        (proc, FakeProc.NAMES),
        (containers, FakeProc.CONTAINER_NAMES),
    )
    for name in names
}

needs_busybox = pytest.mark.skipif(
    shutil.which("busybox") is None, reason="the nginx image runs busybox (apt install busybox)"
)


def d(line: str, *, code: int = 0) -> str:
    """Run a docker command line; check its exit code; return its stdout (or stderr)."""
    out = docker(line)
    assert out.code == code, f"docker {line}: {out.stdout}{out.stderr}"
    return out.stdout if code == 0 else out.stderr


def fails(line: str) -> str:
    """Run a docker command line that must fail; return its error. (A kernel error that is
    no NetlabError, such as an OSError, leaves ``docker()`` as an exception, on the real
    kernel too.)"""
    try:
        out = docker(line)
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    assert out.code != 0, f"docker {line}: {out.stdout}{out.stderr}"
    return out.stderr


def backend_for(op: str) -> str:
    """The firewall backend whose kernel call ``op`` is (a fault test's lab must use it)."""
    return "nftables" if op.startswith("nft.") else "iptables"


def lab_of(name: str, *hosts: str, **settings: Any) -> Lab:
    lab = Lab(name, hosts=hosts or ("host",), **settings)
    use(lab)
    return lab


def cidrs(fake: FakeKernel, ns: str, ifname: str) -> list[str]:
    return [a.cidr for a in fake.addrs(ns) if a.ifname == ifname]


def swarm(lab: Lab, *workers: str) -> None:
    out = d(f"-H {lab.hosts[0].name} swarm init")
    token = re.search(r"--token (SWMTKN-1-\S+) ", out)
    assert token is not None, out
    for w in workers:
        d(f"-H {w} swarm join --token {token.group(1)} {lab.host(lab.hosts[0].name).address}:2377")


def snapshot(fake: FakeKernel) -> dict[str, Any]:
    """Everything the fake kernel holds that a failed command must leave as it was."""
    return {
        "namespaces": fake.namespaces(),
        "links": {ns: fake.links(ns) for ns in fake.namespaces()},
        "addrs": {ns: fake.addrs(ns) for ns in fake.namespaces()},
        "routes": {ns: fake.routes(ns) for ns in fake.namespaces()},
        "neigh": {ns: fake.neigh(ns) for ns in fake.namespaces()},
        "fdb": {ns: fake.fdb(ns) for ns in fake.namespaces()},
        "rules": {ns: fake.ruleset(ns) for ns in fake.namespaces()},
        # (its rules and chains: an emptied table stays, as iptables-nft leaves it)
        "iptables": {
            ns: [
                x
                for x in fake.xtables.save(ns).splitlines()
                if x.startswith("-A") or (x.startswith(":") and " ACCEPT " not in x)
            ]
            for ns in fake.namespaces()
        },
        "processes": [(p.pid, p.ns, p.argv) for p in fake.processes],
    }


def changes(before: dict[str, Any], fake: FakeKernel) -> list[str]:
    """What differs from a :func:`snapshot` now, one line per namespace and kind ([] if
    nothing)."""
    after = snapshot(fake)
    out = []
    for key, was in before.items():
        now = after[key]
        if isinstance(was, dict):
            for ns in sorted(set(was) | set(now)):
                if was.get(ns) != now.get(ns):
                    out.append(f"{key} of {ns}: {was.get(ns)} -> {now.get(ns)}")
        elif was != now:
            out.append(f"{key}: {was} -> {now}")
    return out


# --- the fake itself ------------------------------------------------------------------------


def test_nothing_real_is_touched(fake: FakeKernel) -> None:
    lab = lab_of("fk_safe")
    c = lab.host().run("ubuntu", "sleep infinity")
    assert not state.ROOT.startswith("/run/") and state.lab_names() == ["fk_safe"]
    assert os.path.isdir(os.path.join(state.ROOT, "fk_safe"))
    assert not os.path.exists(f"/run/netns/{c.ns}") and not os.path.exists("/run/netlab/fk_safe")
    assert c.pid >= FAKE_PID_BASE and all(p.pid >= FAKE_PID_BASE for p in fake.processes)
    assert c.ns in fake.namespaces() and lab.namespaces() == [
        n for n in fake.namespaces() if n.startswith("nl-fk_safe-")
    ]
    with pytest.raises(Exception, match="fake"):
        c.exec("true")  # no command runs under the fake


def test_the_fake_has_the_real_signatures() -> None:
    fake = FakeKernel()
    parts = {
        "netns": fake.netns,
        "rtnl": fake.rtnl,
        "nft": fake.nft,
        "xtables": fake.xtables,
        "proc": fake.proc,
        "containers": fake.proc,
    }
    for key, real in REAL.items():
        mod, name = key.split(".")
        mine = getattr(parts[mod], name)
        if name == "LinkRemovalWatch":
            real, mine = real.__init__, mine.func.__init__  # (a partial over the fake)
        want = [(p.name, p.kind, p.default) for p in inspect.signature(real).parameters.values()]
        got = [(p.name, p.kind, p.default) for p in inspect.signature(mine).parameters.values()]
        if name == "LinkRemovalWatch":
            got = [got[0], *got[2:]]  # (self, [kernel], ns, indexes)
        assert got == want, key


def test_the_fake_traces_what_the_real_layer_traces(
    fake: FakeKernel, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each state-changing function records the same command lines, real or fake (the real
    ones run with the kernel thread stubbed out: they only trace)."""
    calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = [
        ("netns.create", ("nl-x-a",), {}),
        ("netns.create", ("nl-x-b",), {}),
        ("rtnl.add_bridge", ("nl-x-a", "br0"), {"mac": "02:42:00:00:00:01"}),
        (
            "rtnl.add_veth",
            ("nl-x-a", "v1"),
            {
                "peer_ns": "nl-x-b",
                "peer_name": "eth0",
                "mac": "02:42:00:00:00:02",
                "master": "br0",
                "up": True,
                "peer_mac": "02:42:00:00:00:03",
            },
        ),
        ("rtnl.add_addr", ("nl-x-b", "eth0", "10.0.0.2/24"), {}),
        ("rtnl.set_link", ("nl-x-b", "eth0"), {"up": True, "mtu": 1400, "alias": "a b"}),
        ("rtnl.add_route", ("nl-x-b",), {"gateway": "10.0.0.1"}),
        ("rtnl.add_vxlan", ("nl-x-a", "vx"), {"vni": 4097}),
        ("rtnl.move_link", ("nl-x-a", "vx"), {"to_ns": "nl-x-b", "new_name": "vxlan0"}),
        ("rtnl.neigh_add", ("nl-x-b", "vxlan0", "10.0.0.9", "02:42:0a:00:00:09"), {}),
        ("rtnl.fdb_add", ("nl-x-b", "vxlan0", "02:42:0a:00:00:09", "192.168.56.12"), {}),
        ("rtnl.neigh_del", ("nl-x-b", "vxlan0", "10.0.0.9"), {}),
        ("rtnl.fdb_del", ("nl-x-b", "vxlan0", "02:42:0a:00:00:09", "192.168.56.12"), {}),
        (
            "rtnl.add_sublink",
            ("nl-x-a", "mv"),
            {"parent": "br0", "kind": "macvlan", "mode": "bridge", "peer_ns": "nl-x-b"},
        ),
        ("rtnl.set_bridge_port", ("nl-x-a", "v1"), {"hairpin": True}),
        ("rtnl.sysctl", ("nl-x-b", "net.ipv4.ip_forward", "1"), {}),
        ("nft.load", ("nl-x-a", "table ip t\ndelete table ip t\ntable ip t {\n}\n"), {}),
        ("rtnl.delete_link", ("nl-x-a", "v1"), {}),
    ]
    done = subprocess.CompletedProcess[str]([], 0, "", "")
    with monkeypatch.context() as m:
        m.setattr(_worker, "call", lambda fn: done)  # the real functions reach no kernel
        with trace.recording() as real_lines:
            for key, args, kwargs in calls:
                REAL[key](*args, **kwargs)
    parts = {"netns": fake.netns, "rtnl": fake.rtnl, "nft": fake.nft}
    with trace.recording() as fake_lines:
        for key, args, kwargs in calls:
            mod, name = key.split(".")
            getattr(parts[mod], name)(*args, **kwargs)
    assert fake_lines == real_lines
    fake.netns.delete("nl-x-a")
    fake.netns.delete("nl-x-b")


def test_the_fake_keeps_the_kernels_rules(fake: FakeKernel) -> None:
    k = fake
    assert k.netns.create("nl-x-a") and not k.netns.create("nl-x-a")
    k.netns.create("nl-x-b")
    k.rtnl.add_bridge("nl-x-a", "br0")
    k.rtnl.add_bridge("nl-x-a", "br0")  # EEXIST is fine, as in the real function
    k.rtnl.add_veth("nl-x-a", "v1", peer_ns="nl-x-b", peer_name="eth0", master="br0")
    with pytest.raises(rtnl.KernelError) as no_dev:
        k.rtnl.add_veth("nl-x-a", "v2", peer_ns="nl-x-b", peer_name="eth1", master="nope")
    assert no_dev.value.errno == errno.ENODEV
    with pytest.raises(rtnl.KernelError) as not_bridge:
        k.rtnl.set_link("nl-x-a", "br0", master="v1")
    assert not_bridge.value.errno == errno.EOPNOTSUPP
    with pytest.raises(netns.NamespaceNotFound):
        k.rtnl.add_bridge("nl-x-gone", "br0")
    v1 = k.link("nl-x-a", "v1")
    eth0 = k.link("nl-x-b", "eth0")
    assert (v1.peer_index, eth0.peer_index, v1.master) == (eth0.index, v1.index, 2)
    assert k.rtnl.nsid_of("nl-x-a", "nl-x-b") == v1.peer_netnsid
    # A gateway must be on a connected network of an up link.
    k.rtnl.add_addr("nl-x-b", "eth0", "10.1.0.2/24")
    with pytest.raises(rtnl.KernelError) as unreachable:
        k.rtnl.add_route("nl-x-b", gateway="10.1.0.1")
    assert unreachable.value.errno == errno.ENETUNREACH
    k.rtnl.set_link("nl-x-b", "eth0", up=True)
    k.rtnl.add_route("nl-x-b", gateway="10.1.0.1")
    assert [r.dst for r in k.routes("nl-x-b")] == ["default", "10.1.0.0/24"]
    # One VNI per port and socket namespace.
    k.rtnl.add_vxlan("nl-x-a", "vx1", vni=42)
    with pytest.raises(rtnl.KernelError) as taken:
        k.rtnl.add_vxlan("nl-x-a", "vx2", vni=42)
    assert taken.value.errno == errno.EEXIST
    with pytest.raises(FileNotFoundError):
        k.rtnl.sysctl("nl-x-a", "net.ipv4.conf.nope.route_localnet", "1")
    # A process keeps its namespace (and the veth peer) alive after the delete.
    pid, _ = k.proc.spawn("nl-x-b", ["sleep", "1"], log_file="/dev/null")
    assert k.netns.delete("nl-x-b") and "nl-x-b" not in k.namespaces()
    assert "v1" in [lk.name for lk in k.links("nl-x-a")]
    k.proc.kill([pid])
    assert [lk.name for lk in k.links("nl-x-a")] == ["lo", "br0", "vx1"]
    with pytest.raises(Exception, match="not a process of the fake"):
        k.proc.kill([1])
    k.netns.delete("nl-x-a")


# --- IPAM -----------------------------------------------------------------------------------


def test_containers_take_the_lowest_free_address(fake: FakeKernel) -> None:
    lab = lab_of("fk_ipam")
    host = lab.host()
    a = host.run("ubuntu", "sleep infinity", name="a1")
    b = host.run("ubuntu", "sleep infinity", name="b1")
    assert (a.ip, b.ip) == ("172.17.0.2", "172.17.0.3")
    assert cidrs(fake, a.ns, "eth0") == ["172.17.0.2/16"]
    # (the MAC from the IP: moby v28.5.2 libnetwork/netutils/utils.go GenerateMACFromIP, as
    # v27's bridge driver did; v28.5.2's bridge_linux.go CreateEndpoint takes a random one)
    assert fake.link(a.ns, "eth0").mac == a.mac == "02:42:ac:11:00:02"
    assert ("default", "172.17.0.1", "eth0") in [
        (r.dst, r.gateway, r.dev) for r in fake.routes(a.ns)
    ]
    # The host end is a port of docker0, its peer is the container's eth0.
    veth = next(lk for lk in fake.links(host.ns) if lk.peer_index == fake.link(a.ns, "eth0").index)
    assert veth.master == fake.link(host.ns, "docker0").index
    a_ns = a.ns
    d("rm -f a1")
    assert a_ns not in fake.namespaces() and veth.name not in fake.rtnl.link_indexes(host.ns)
    c = host.run("ubuntu", "sleep infinity", name="c1")
    assert c.ip == "172.17.0.2"  # a's address, free again
    assert cidrs(fake, c.ns, "eth0") == ["172.17.0.2/16"]


def test_a_container_that_exits_frees_its_address(fake: FakeKernel) -> None:
    lab = lab_of("fk_exit")
    host = lab.host()
    a = host.run("ubuntu", "sleep 1", name="a1")
    ns, pid = a.ns, a.pid
    fake.exit(pid, 3)
    assert (a.status, a.exit_code) == ("exited", 3)
    assert ns not in fake.namespaces()
    # (moby v28.5.2 container/state.go State.String: "Exited (%d) %s ago")
    assert "Exited (3)" in d("ps -a")
    assert host.run("ubuntu", "sleep infinity").ip == "172.17.0.2"


def test_user_networks_take_the_next_pools(fake: FakeKernel) -> None:
    lab = lab_of("fk_pools")
    host = lab.host()
    n1 = host.create_network("n1")
    n2 = host.create_network("n2")
    assert (n1.subnet, n1.gateway, n2.subnet, n2.gateway) == (
        "172.18.0.0/16",
        "172.18.0.1",
        "172.19.0.0/16",
        "172.19.0.1",
    )
    assert n1.bridge == "br-" + n1.id[:12]
    assert cidrs(fake, host.ns, n1.bridge) == ["172.18.0.1/16"]
    assert fake.link(host.ns, n1.bridge).up
    d("network create --subnet 10.10.0.0/24 --gateway 10.10.0.254 n3")
    n3 = host.network("n3")
    # (moby v28.5.2 api/types/network/ipam.go IPAMConfig: IPRange, AuxAddress omitempty)
    assert n3.inspect()["IPAM"]["Config"] == [{"Subnet": "10.10.0.0/24", "Gateway": "10.10.0.254"}]
    assert cidrs(fake, host.ns, n3.bridge or "") == ["10.10.0.254/24"]
    c = host.run("ubuntu", "sleep infinity", network="n3")
    assert c.ip == "10.10.0.1" and cidrs(fake, c.ns, "eth0") == ["10.10.0.1/24"]
    # (moby v28.5.2 api/types/network/network.go EndpointResource)
    assert n3.inspect()["Containers"][c.id]["IPv4Address"] == "10.10.0.1/24"
    # A removed network's pool is the next one taken.
    d("network rm n1")
    assert n1.bridge not in fake.rtnl.link_indexes(host.ns)
    assert host.create_network("n4").subnet == "172.18.0.0/16"


@pytest.mark.parametrize("subnet", ["172.17.5.0/24", "172.19.0.0/16", "192.168.56.0/25"])
def test_an_overlapping_subnet_is_refused(fake: FakeKernel, subnet: str) -> None:
    lab = lab_of("fk_overlap")
    lab.host().create_network("n2")  # 172.18.0.0/16
    lab.host().create_network("n3")  # 172.19.0.0/16
    before = snapshot(fake)
    err = d(f"network create --subnet {subnet} bad", code=1)
    # (moby v28.5.2 libnetwork/ipams/defaultipam/allocator.go RequestPool: "invalid pool
    # request: %v" of ipamapi/contract.go ErrPoolOverlap)
    assert err == (
        "Error response from daemon: invalid pool request: Pool overlaps with other one on "
        "this address space\n"
    )
    assert changes(before, fake) == []
    assert "bad" not in d("network ls")


def test_overlay_addresses_are_unique_across_nodes(fake: FakeKernel) -> None:
    lab = lab_of("fk_ovip", "node1", "node2")
    swarm(lab, "node2")
    d("-H node1 network create -d overlay overnet")
    d("-H node1 service create --name s --network overnet --replicas 4 ubuntu sleep infinity")
    tasks = lab.containers()
    assert sorted(c.host.name for c in tasks) == ["node1", "node1", "node2", "node2"]
    ips = sorted(c.networks["overnet"].ip for c in tasks)
    # The service's VIP first (the manager allocates it with the service), then each node's
    # load balancer (lb-overnet) as the network reaches the node, and the tasks.
    svc = json.loads(d("-H node1 service inspect s"))[0]
    assert [v["Addr"] for v in svc["Endpoint"]["VirtualIPs"]] == ["10.0.1.2/24"]
    boxes = lab.store.lab_record.swarm.sandboxes.values()
    lbs = sorted(b.lb_ip for b in boxes if b.lb_ip.startswith("10.0.1."))  # (not ingress-sbox)
    assert lbs == ["10.0.1.3", "10.0.1.5"]
    assert ips == ["10.0.1.4", "10.0.1.6", "10.0.1.7", "10.0.1.8"]
    for c in tasks:  # the kernel agrees, and every task's eth0 has the overlay MTU
        assert cidrs(fake, c.ns, "eth0") == [c.networks["overnet"].ip + "/24"]
        assert fake.link(c.ns, "eth0").mtu == 1450
        assert cidrs(fake, c.ns, "eth1")[0].startswith("172.18.")  # docker_gwbridge
    # A freed overlay address is not handed out again at once: swarmkit's allocator goes on
    # serially (moby v28.5.2 libnetwork/cnmallocator/networkallocator.go AllocSerialPrefix),
    # and wraps around at the end of the subnet.
    d("-H node1 service scale s=3")
    d("-H node1 service scale s=4")
    again = sorted(c.networks["overnet"].ip for c in lab.containers())
    assert again == [*ips[:3], "10.0.1.9"]


# --- names and IDs --------------------------------------------------------------------------


def _build_and_run(name: str) -> tuple[list[str], list[str], list[str]]:
    lab = lab_of(name)
    for _ in range(3):
        d("run -d ubuntu sleep infinity")
    d("network create mynet")
    cs = lab.host().containers()
    return [c.name for c in cs], [c.id for c in cs], d("network ls -q --no-trunc").split()


def test_names_and_ids_are_deterministic_per_lab(fake: FakeKernel) -> None:
    first = _build_and_run("fk_names")
    again = _build_and_run("fk_names")  # (the same lab built again: the same everything)
    other = _build_and_run("fk_names2")
    assert first == again
    assert all(re.fullmatch(r"[a-z]+_[a-z]+", n) for n in first[0])
    assert len(set(first[0])) == 3
    assert set(first[0]).isdisjoint(other[0]) and set(first[1]).isdisjoint(other[1])
    assert all(re.fullmatch(r"[0-9a-f]{64}", i) for i in first[1] + first[2])


def test_a_taken_name_is_dockers_conflict(fake: FakeKernel) -> None:
    lab_of("fk_conflict")
    cid = d("run -d --name web ubuntu sleep infinity").strip()
    before = snapshot(fake)
    err = d("run -d --name web ubuntu sleep infinity", code=125)
    # (moby v28.5.2 daemon/errors.go nameConflictError; docker/cli v28.5.2
    # cli/command/container/run.go withHelp)
    assert err == (
        f'docker: Error response from daemon: Conflict. The container name "/web" is already '
        f'in use by container "{cid}". You have to remove (or rename) that container to be '
        "able to reuse that name.\n\nRun 'docker run --help' for more information\n"
    )
    assert changes(before, fake) == []
    d("network create n1")
    # (moby v28.5.2 libnetwork/error.go NetworkNameError)
    assert d("network create n1", code=1) == (
        "Error response from daemon: network with name n1 already exists\n"
    )


# --- the firewall's inputs ------------------------------------------------------------------


@needs_busybox
def test_a_published_port_is_a_dnat_rule(fake: FakeKernel) -> None:
    lab = lab_of("fk_pub", firewall_backend="nftables")  # (Docker 29's table)
    host = lab.host()
    before = fake.ruleset(host.ns)
    assert "dnat" not in before
    web = d("run -d -p 8080:80 nginx").strip()
    rules = fake.ruleset(host.ns)
    # (Docker 29, not in moby v28.5.2: moby docker-v29.0.0
    # daemon/libnetwork/drivers/bridge/internal/nftabler/port.go setPerPortDNAT, network.go)
    assert 'tcp dport 8080 counter dnat to 172.17.0.2:80 comment "DNAT"' in rules
    assert "ip daddr 172.17.0.2 tcp dport 80 counter accept" in rules
    assert any(
        images.serves_http(p.argv) and ("0.0.0.0", 80, "tcp") in p.listens for p in fake.processes
    )
    d(f"rm -f {web}")
    assert fake.ruleset(host.ns) == before


def test_a_user_network_has_its_chains(fake: FakeKernel) -> None:
    lab = lab_of("fk_chains", firewall_backend="nftables")  # (Docker 29's table)
    host = lab.host()
    br = host.create_network("n1").bridge
    rules = fake.ruleset(host.ns)
    # (Docker 29, not in moby v28.5.2: moby docker-v29.0.0
    # daemon/libnetwork/drivers/bridge/internal/nftabler/network.go, chainFilterFwdIn)
    assert f'"{br}" : jump filter-forward-in__{br}' in rules
    assert f"chain filter-forward-in__{br} {{" in rules
    assert f'iifname "{br}" counter accept comment "ICC"' in rules
    assert f'oifname != "{br}" ip saddr 172.18.0.0/16 counter masquerade' in rules
    d("network rm n1")
    assert br not in fake.ruleset(host.ns)


@needs_busybox
def test_an_internal_network_gets_no_way_out(fake: FakeKernel) -> None:
    lab = lab_of("fk_internal", firewall_backend="nftables")  # (Docker 29's table)
    host = lab.host()
    d("network create --internal priv")
    net = host.network("priv")
    br = net.bridge
    rules = fake.ruleset(host.ns)
    # (Docker 29: moby docker-v29.0.0 daemon/libnetwork/drivers/bridge/internal/nftabler/
    # network.go, "INTERNAL NETWORK INGRESS"/"EGRESS")
    assert f'iifname != "{br}" counter drop comment "INTERNAL NETWORK INGRESS"' in rules
    assert f'oifname != "{br}" counter drop comment "INTERNAL NETWORK EGRESS"' in rules
    chain = rules.split(f"chain nat-postrouting-out__{br} {{", 1)[1].split("}", 1)[0]
    assert "masquerade" not in chain
    assert "172.18.0.0/16 counter masquerade" not in rules
    assert net.inspect()["Internal"] is True
    c = host.run("nginx", network="priv", publish=["8080:80"])
    assert [r.dst for r in fake.routes(c.ns)] == ["172.18.0.0/16"]  # no default route
    assert "dnat" not in fake.ruleset(host.ns)  # nothing published


def test_docker_gwbridge_drops_task_to_task_traffic(fake: FakeKernel) -> None:
    lab = lab_of("fk_gw")
    swarm(lab)
    host = lab.host()
    assert cidrs(fake, host.ns, "docker_gwbridge") == ["172.18.0.1/16"]
    rules = fake.xtables.save(host.ns).splitlines()
    # (docker_gwbridge has ICC off: moby v28.5.2 libnetwork/default_gateway_linux.go
    # createGWNetwork; iptabler/network.go setICC for a bridge without it)
    assert "-A DOCKER-FORWARD -i docker_gwbridge -o docker_gwbridge -j DROP" in rules
    assert "-A DOCKER-FORWARD -i docker_gwbridge ! -o docker_gwbridge -j ACCEPT" in rules
    assert "-A POSTROUTING -s 172.18.0.0/16 ! -o docker_gwbridge -j MASQUERADE" in rules
    assert "-A DOCKER-FORWARD -i docker0 -j ACCEPT" in rules


def test_swarm_mode_refuses_the_nftables_backend(fake: FakeKernel) -> None:
    # Docker 29 with --firewall-backend=nftables (moby docker-v29.1.0 daemon/config/
    # config_linux.go IsSwarmCompatible): overlays have no nftables rules yet.
    lab_of("fk_nftswarm", "node1", "node2", firewall_backend="nftables")
    before = snapshot(fake)
    msg = "Error response from daemon: --firewall-backend=nftables is incompatible with swarm mode"
    assert msg in fails("-H node1 swarm init")
    assert changes(before, fake) == [] and "docker_gwbridge" not in d("-H node1 network ls")


# --- the overlay's peer table ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("'bad name'", "name must be valid as a DNS name component"),
        ("web.1", "name must be valid as a DNS name component"),
        ("x" * 300, "name must be 63 characters or fewer"),
    ],
)
def test_swarm_names_are_checked_as_swarmkit_does(fake: FakeKernel, name: str, error: str) -> None:
    lab = lab_of("fk_svcname", "node1")
    swarm(lab)
    before = snapshot(fake)
    for line in (
        f"-H node1 service create --name {name} ubuntu sleep infinity",
        f"-H node1 network create -d overlay {name}",
    ):
        # (moby v28.5.2 vendor/github.com/moby/swarmkit/v2/manager/controlapi/common.go
        # validateAnnotations)
        assert f"rpc error: code = InvalidArgument desc = {error}" in fails(line)
    assert d("-H node1 service ls").count("\n") == 1  # the header only
    assert changes(before, fake) == []


def test_each_node_knows_the_other_nodes_tasks(fake: FakeKernel) -> None:
    lab = lab_of("fk_peers", "node1", "node2")
    swarm(lab, "node2")
    d("-H node1 network create -d overlay overnet")
    d("-H node1 service create --name s --network overnet --replicas 2 ubuntu sleep infinity")
    net = lab.host("node1").network("overnet")
    box1 = overlay.sandbox_ns(lab.name, "node1", net.id)
    box2 = overlay.sandbox_ns(lab.name, "node2", net.id)
    (t1,) = lab.host("node1").containers()
    (t2,) = lab.host("node2").containers()
    ip1, ip2 = t1.networks["overnet"].ip, t2.networks["overnet"].ip
    mac1, mac2 = t1.networks["overnet"].mac, t2.networks["overnet"].mac
    # (and the other node's load balancer, lb-overnet: the tasks there answer it)
    boxes = lab.store.lab_record.swarm.sandboxes
    lb2 = next(b for b in boxes.values() if b.node == "node2" and b.net == net.id)
    lb1 = next(b for b in boxes.values() if b.node == "node1" and b.net == net.id)
    assert sorted((n.ifname, n.ip, n.mac, n.state) for n in fake.neigh(box1)) == sorted(
        [("vxlan0", ip2, mac2, "PERMANENT"), ("vxlan0", lb2.lb_ip, lb2.lb_mac, "PERMANENT")]
    )
    assert sorted(fake.fdb(box1)) == sorted(
        [
            FdbEntry("vxlan0", mac2, "192.168.56.12"),
            FdbEntry("vxlan0", lb2.lb_mac, "192.168.56.12"),
        ]
    )
    assert sorted(fake.fdb(box2)) == sorted(
        [
            FdbEntry("vxlan0", mac1, "192.168.56.11"),
            FdbEntry("vxlan0", lb1.lb_mac, "192.168.56.11"),
        ]
    )
    vx = fake.link(box1, "vxlan0")
    assert (vx.vxlan_id, vx.mtu, vx.master) == (4097, 1450, fake.link(box1, "br0").index)
    # (moby v28.5.2 api/types/network/network.go Inspect.Peers, PeerInfo)
    assert [p["IP"] for p in net.inspect()["Peers"]] == ["192.168.56.11", "192.168.56.12"]
    # Scaling down removes node2's task: node1 forgets it, node2's sandbox goes.
    out = docker("--explain -H node1 service scale s=1")
    assert out.code == 0, out
    assert f"ip -n {box1} neigh del {ip2} dev vxlan0" in out.explain
    assert f"bridge -n {box1} fdb del {mac2} dev vxlan0 dst 192.168.56.12 self" in out.explain
    assert fake.neigh(box1) == [] and fake.fdb(box1) == []
    assert box2 not in fake.namespaces() and ip1 == t1.networks["overnet"].ip
    assert "overnet" not in d("-H node2 network ls")  # a worker forgets it with its last task
    assert [p["IP"] for p in net.inspect()["Peers"]] == ["192.168.56.11"]
    d("-H node1 service scale s=2")
    (t2,) = lab.host("node2").containers()
    lb2 = next(
        b
        for b in lab.store.lab_record.swarm.sandboxes.values()
        if b.node == "node2" and b.lb_ip and b.net == net.id
    )
    assert sorted(n.ip for n in fake.neigh(box1)) == sorted([t2.networks["overnet"].ip, lb2.lb_ip])
    d("-H node1 service rm s")
    assert box1 not in fake.namespaces()


# --- the scheduler --------------------------------------------------------------------------


def _placement(service: str) -> list[str]:
    # Column 4 is NODE (docker/cli v28.5.2 cli/command/task/formatter.go
    # defaultTaskTableFormat: ID, NAME, IMAGE, NODE, DESIRED STATE, ...).
    rows = [ln.split() for ln in d(f"-H node1 service ps {service}").splitlines()[1:]]
    return [r[3] for r in rows]


def test_replicas_spread_one_per_node_first(fake: FakeKernel) -> None:
    lab = lab_of("fk_sched", "node1", "node2", "node3")
    swarm(lab, "node2", "node3")
    d("-H node1 service create --name a --replicas 3 ubuntu sleep infinity")
    assert _placement("a") == ["node1", "node2", "node3"]
    d("-H node1 service create --name b --replicas 2 ubuntu sleep infinity")
    assert _placement("b") == ["node1", "node2"]
    # c: node3 has the fewest tasks in all; then, with one c each... the fewest in all again.
    d("-H node1 service create --name c --replicas 2 ubuntu sleep infinity")
    assert _placement("c") == ["node3", "node1"]
    d("-H node1 service scale a=5")
    assert _placement("a") == ["node1", "node2", "node3", "node2", "node3"]
    assert [len(h.containers()) for h in lab.hosts] == [3, 3, 3]


# --- roll-back on failure -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("op", "err", "pattern"),
    [
        ("rtnl.add_veth", errno.ENOMEM, None),
        ("rtnl.add_addr", errno.EADDRNOTAVAIL, None),
        ("rtnl.add_route", errno.ENETUNREACH, None),
        ("netns.create", errno.ENOSPC, "nl-fk_rbrun-[0-9a-f]*"),
        ("containers.start", errno.EAGAIN, None),
    ],
)
def test_a_failed_run_leaves_a_created_container_and_nothing_in_the_kernel(
    fake: FakeKernel, op: str, err: int, pattern: str | None
) -> None:
    lab = lab_of("fk_rbrun")
    lab.host().run("ubuntu", "sleep infinity", name="first")
    before = snapshot(fake)
    fake.fail(op, err, ns=pattern)
    out = docker("run -d --name x1 ubuntu sleep infinity")
    assert out.code == 125 and os.strerror(err) in out.stderr
    assert re.fullmatch(r"[0-9a-f]{64}\n", out.stdout)  # (its ID first, as Docker prints)
    assert changes(before, fake) == []
    # As on Docker, the container stays, Created; the name is taken until it is removed.
    # (moby v28.5.2 container/state.go State.String "Created"; daemon/errors.go
    # nameConflictError)
    assert d("ps -a --format '{{.Names}} {{.Status}}'").startswith("x1 Created\n")
    assert "is already in use" in fails("run -d --name x1 ubuntu sleep infinity")
    d("rm x1")
    # Nothing leaked: the address is free again.
    assert lab.host().run("ubuntu", "sleep infinity", name="x1").ip == "172.17.0.3"


@needs_busybox
def test_a_failed_port_rule_leaves_a_created_container(fake: FakeKernel) -> None:
    lab = lab_of("fk_rbpub", firewall_backend="iptables")
    host = lab.host()
    before = snapshot(fake)
    fake.fail("xtables.restore", errno.EINVAL, ns=host.ns)
    assert f"iptables-restore in {host.ns} failed" in fails("run -d -p 8080:80 nginx")
    assert changes(before, fake) == []
    # (moby v28.5.2 container/state.go State.String)
    assert d("ps -a --format '{{.Status}}'") == "Created\n"
    d("rm " + d("ps -aq").strip())
    d("run -d -p 8080:80 nginx")  # the port is free
    assert "--dport 8080 " in fake.xtables.save(host.ns)


@pytest.mark.parametrize(
    ("op", "err"),
    [
        ("xtables.restore", errno.EINVAL),
        ("nft.load", errno.EINVAL),
        ("rtnl.add_addr", errno.EADDRINUSE),
        ("rtnl.sysctl", errno.EACCES),
        ("rtnl.set_link", errno.ENOBUFS),
    ],
)
def test_a_failed_network_create_leaves_nothing(fake: FakeKernel, op: str, err: int) -> None:
    # (without docker-proxy, as then the bridge gets its route_localnet sysctl too)
    lab = lab_of("fk_rbnet", firewall_backend=backend_for(op), userland_proxy=False)
    host = lab.host()
    before = snapshot(fake)
    ls = d("network ls")
    fake.fail(op, err, ns=host.ns)
    assert os.strerror(err) in fails("network create n1")
    assert changes(before, fake) == []
    assert d("network ls") == ls
    assert host.create_network("n1").subnet == "172.18.0.0/16"


@pytest.mark.parametrize(
    ("op", "err", "pattern"),
    [
        ("rtnl.add_veth", errno.ENOMEM, "nl-fk_rbsvc-node2-1-*"),  # the 2nd task's eth0
        ("rtnl.add_vxlan", errno.EEXIST, "nl-fk_rbsvc-node2"),  # node2's sandbox
        ("netns.create", errno.ENOSPC, "nl-fk_rbsvc-node2-1-*"),
        ("containers.start", errno.EAGAIN, "nl-fk_rbsvc-[0-9a-f]*"),
    ],
)
def test_a_failed_service_create_leaves_nothing(
    fake: FakeKernel, op: str, err: int, pattern: str
) -> None:
    lab = lab_of("fk_rbsvc", "node1", "node2")
    swarm(lab, "node2")
    d("-H node1 network create -d overlay overnet")
    before = snapshot(fake)
    ls = d("-H node1 service ls")
    fake.fail(op, err, ns=pattern, skip=1 if op == "containers.start" else 0)
    create = "-H node1 service create --name s --network overnet --replicas 2 ubuntu sleep inf"
    assert os.strerror(err) in fails(create)
    assert changes(before, fake) == []
    assert d("-H node1 service ls") == ls
    assert d("-H node1 ps -a -q") == "" and d("-H node2 ps -a -q") == ""
    assert "overnet" not in d("-H node2 network ls")
    d(create)
    assert _placement("s") == ["node1", "node2"]


def test_a_failed_peer_update_leaves_no_stale_entry(fake: FakeKernel) -> None:
    lab = lab_of("fk_rbpeer", "node1", "node2")
    swarm(lab, "node2")
    d("-H node1 network create -d overlay overnet")
    d("-H node1 service create --name a --network overnet --replicas 1 ubuntu sleep infinity")
    box1 = overlay.sandbox_ns(lab.name, "node1", lab.host().network("overnet").id)
    before = snapshot(fake)
    fake.fail("rtnl.fdb_add", errno.ENOBUFS, ns=box1)  # when node2's task is announced
    create = "-H node1 service create --name b --network overnet --replicas 1 ubuntu sleep inf"
    assert os.strerror(errno.ENOBUFS) in fails(create)
    assert "b " not in d("-H node1 service ls") and d("-H node2 ps -a -q") == ""
    assert fake.fdb(box1) == []
    assert fake.neigh(box1) == []  # (10.0.1.3 -> 02:42:0a:00:01:03 stayed before the fix)
    assert changes(before, fake) == []


@pytest.mark.parametrize(
    ("op", "err", "node"),
    [
        ("xtables.restore", errno.EINVAL, "node1"),
        ("rtnl.add_bridge", errno.ENOMEM, "node1"),
        ("containers.spawn", errno.EAGAIN, "node1"),  # the manager's port 2377
        ("rtnl.add_vxlan", errno.EADDRINUSE, "node1"),  # (its ingress sandbox)
        ("xtables.restore", errno.EINVAL, "node2"),
        ("rtnl.add_addr", errno.EADDRINUSE, "node2"),
        ("rtnl.add_veth", errno.ENOBUFS, "node2"),  # (its ingress-sbox)
    ],
)
def test_a_failed_init_or_join_leaves_nothing(
    fake: FakeKernel, op: str, err: int, node: str
) -> None:
    lab = lab_of("fk_rbswarm", "node1", "node2")
    if node == "node2":
        d("-H node1 swarm init")
    before = snapshot(fake)
    ls = d(f"-H {node} network ls")
    fake.fail(op, err, ns=f"nl-fk_rbswarm-{node}")
    token = "SWMTKN-1-" + "x" * 50
    if node == "node2":
        token = d("-H node1 swarm join-token -q worker").strip()
    command = "swarm init" if node == "node1" else f"swarm join --token {token} 192.168.56.11:2377"
    assert os.strerror(err) in fails(f"-H {node} {command}")
    assert changes(before, fake) == []
    assert d(f"-H {node} network ls") == ls
    # (docker/cli v28.5.2 cli/command/swarm/init.go runInit, join.go runJoin)
    assert re.match("Swarm initialized|This node joined", d(f"-H {node} {command}"))
    assert "docker_gwbridge" in d(f"-H {node} network ls")
    assert lab.host(node).network("docker_gwbridge").subnet == "172.18.0.0/16"


@pytest.mark.parametrize(
    ("op", "err"),
    [
        ("netns.create", errno.ENOSPC),
        ("rtnl.add_veth", errno.ENOMEM),
        ("rtnl.add_addr", errno.EINVAL),
        ("xtables.restore", errno.EINVAL),
        ("nft.load", errno.EINVAL),
    ],
)
def test_a_failed_lab_or_host_build_leaves_nothing(fake: FakeKernel, op: str, err: int) -> None:
    fake.fail(op, err)
    backend = backend_for(op)
    with pytest.raises(Exception, match=os.strerror(err)):
        Lab("fk_rblab", hosts=("node1", "node2"), firewall_backend=backend)
    assert fake.namespaces() == [] and fake.processes == [] and fake.etc_names() == []
    assert state.lab_names() == []
    lab = Lab("fk_rblab", hosts=("node1", "node2"), firewall_backend=backend)
    before = snapshot(fake)
    fake.fail(op, err)  # (the first such call of add_host)
    with pytest.raises(Exception, match=os.strerror(err)):
        lab.add_host("node3")
    assert changes(before, fake) == [] and [h.name for h in lab.hosts] == ["node1", "node2"]
    assert lab.add_host("node3").address == "192.168.56.13"


# --- macvlan --------------------------------------------------------------------------------


def test_a_macvlan_container_is_a_child_of_the_hosts_eth0(fake: FakeKernel) -> None:
    lab = lab_of("fk_macvlan")
    host = lab.host()
    d(
        "network create -d macvlan --subnet 192.168.56.0/24 --gateway 192.168.56.1 "
        "-o parent=eth0 lan"
    )
    c = host.run("ubuntu", "sleep infinity", network="lan")
    eth0 = fake.link(c.ns, "eth0")
    assert eth0.kind == "macvlan" and fake.parent(c.ns, "eth0") == (host.ns, "eth0")
    # (GenerateMACFromIP; moby v28.5.2 libnetwork/drivers/macvlan/macvlan_endpoint.go
    # CreateEndpoint takes GenerateRandomMAC)
    assert c.ip == "192.168.56.2" and eth0.mac == c.mac == "02:42:c0:a8:38:02"
    assert cidrs(fake, c.ns, "eth0") == ["192.168.56.2/24"]
    assert ("default", "192.168.56.1", "eth0") in [
        (r.dst, r.gateway, r.dev) for r in fake.routes(c.ns)
    ]
    assert "lan" not in fake.ruleset(host.ns)  # no bridge, no firewall share
    c_ns = c.ns
    d(f"rm -f {c.id}")
    assert c_ns not in fake.namespaces() and "eth0" in fake.rtnl.link_indexes(host.ns)


def test_a_macvlan_needs_a_real_parent(fake: FakeKernel) -> None:
    lab_of("fk_macbad")
    before = snapshot(fake)
    err = d("network create -d macvlan --subnet 10.5.0.0/24 -o parent=eth9 lan", code=1)
    # (moby v28.5.2 libnetwork/drivers/macvlan/macvlan_setup.go createVlanLink)
    assert err.startswith(
        "Error response from daemon: invalid subinterface vlan name eth9, example formatting "
        "is eth0.10"
    )
    assert changes(before, fake) == []


def test_ipvlan_where_the_kernel_lacks_it() -> None:
    kernel = FakeKernel(link_kinds=("macvlan",))
    with testing.installed(kernel):
        lab_of("fk_noipvlan")
        err = d("network create -d ipvlan --subnet 10.5.0.0/24 -o parent=eth0 l2", code=1)
        # (netlab's own words, after the kernel's errno text: no moby v28.5.2 message)
        assert "this kernel has no ipvlan support (CONFIG_IPVLAN)" in err
        assert "Operation not supported" in err
    assert kernel.namespaces() == []


# --- the trace ------------------------------------------------------------------------------


def test_explain_shows_the_kernel_operations(fake: FakeKernel) -> None:
    lab = lab_of("fk_explain", firewall_backend="iptables")
    host = lab.host()
    out = docker("--explain run -d --name a1 ubuntu sleep infinity")
    c = host.container("a1")
    veth = next(lk.name for lk in fake.links(host.ns) if lk.name.startswith("veth"))
    assert out.explain[0] == f"ip netns add {c.ns}"
    # Numbered as Docker's pairs are: eth0 inside is 4, the host's end 5 (after lo, eth0 and
    # docker0 of the host), so that `vethX@if4` outside names `4: eth0@if5` inside.
    assert fake.link(host.ns, veth).index == 5 and fake.link(c.ns, "eth0").index == 4
    assert (
        f"ip -n {host.ns} link add {veth} index 5 mtu 1500 address "
        f"{fake.link(host.ns, veth).mac} master docker0 up type veth peer name eth0 index 4 "
        f"netns {c.ns} address 02:42:ac:11:00:02"
    ) in out.explain
    assert f"ip -n {c.ns} addr add 172.17.0.2/16 brd + dev eth0" in out.explain
    assert f"ip -n {c.ns} route add default via 172.17.0.1" in out.explain
    start = next(x for x in out.explain if x.startswith(f"ip netns exec {c.ns} unshare"))
    assert start.startswith(f"ip netns exec {c.ns} unshare --uts --mount sh -c")
    # (then Docker 28's raw rule for the new address: iptables, as Docker runs it; moby
    # v28.5.2 libnetwork/drivers/bridge/internal/iptabler/endpoint.go, "DIRECT ACCESS
    # FILTERING - DROP")
    assert out.explain[-1].endswith(
        "iptables -t raw -A PREROUTING -d 172.17.0.2/32 ! -i docker0 -j DROP"
    )
    assert start.endswith('exec unshare --pid --fork --mount-proc "$0" "$@"\' sleep infinity &')
    assert ipaddress.IPv4Address(c.ip or "")


# --- no traceback at the edge -----------------------------------------------------------------


def test_bad_input_and_bugs_are_one_line_never_a_traceback(
    fake: FakeKernel, monkeypatch: pytest.MonkeyPatch
) -> None:
    lab = lab_of("fk_edge", "node1", "node2")
    swarm(lab)
    d("-H node1 run -d --name web ubuntu sleep infinity")
    cases = [
        # (netlab's own words: moby v28.5.2 has no hostname check of its own)
        (f"-H node1 run -d --hostname {'h' * 65} ubuntu sleep 1", "invalid hostname"),
        ("-H node1 run -d --hostname 'a b' ubuntu sleep 1", "invalid hostname"),
        # (netlab's own words: moby v28.5.2 daemon/cluster/swarm.go validateAddr)
        ("-H node2 swarm join --token x 192.168.56.11:99999", "a port is 1-65535"),
        # (Go text/template exec.go walkRange, parse/parse.go: the docker CLI's Go)
        ("-H node1 ps --format '{{range .State}}{{.}}{{end}}'", "range can't iterate over"),
        ("-H node1 ps --format '{{with .Names}}{{.}}'", "unexpected EOF"),
        # (moby v28.5.2 vendor/github.com/docker/go-units/size.go parseSize)
        ("-H node1 run -d --log-opt max-size=abc busybox true", "invalid size: 'abc'"),
        # (moby v28.5.2 daemon/logger/jsonfilelog/jsonfilelog.go New)
        ("-H node1 run -d --log-opt max-file=0 busybox true", "max-file cannot be less than 1"),
    ]
    before = snapshot(fake)
    for line, words in cases:
        out = docker(line)
        assert out.code != 0 and words in out.stderr, (line, out)
        assert changes(before, fake) == [], line
        assert "Traceback" not in out.stderr and out.stderr.count("\n") <= 3, (line, out)
    # A bug (any exception that is not netlab's) and the OS's refusal: one line each.
    from netlab.model import lifecycle

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setattr(lifecycle, "stop_containers", boom)
    out = docker("-H node1 stop web")
    assert out.code == 1 and out.stderr == (
        "netlab: unexpected error (a bug in netlab): RuntimeError: boom second line; please "
        "report it with the command you ran\n"
    )

    def refused(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied", "/run/netlab/fk_edge/lock")

    monkeypatch.setattr(lifecycle, "stop_containers", refused)
    out = docker("-H node1 stop web")
    assert out.stderr == (
        "netlab: Permission denied: /run/netlab/fk_edge/lock (run netlab as root, or with "
        "sudo; `netlab doctor` says what is missing)\n"
    )


def test_the_leftover_of_an_interrupted_run_is_removed_by_the_next(fake: FakeKernel) -> None:
    """docker run killed right after its namespace and wire were made leaves them without a
    record or a saved counter: the next run gets the same names and must just work."""
    lab = lab_of("fk_leftover")
    host = lab.host()
    cid = ids.object_id(lab.name, "container", lab.store.peek_counter("container") + 1)
    eid = ids.object_id(lab.name, "endpoint", lab.store.peek_counter("endpoint") + 1)
    ns = topology.ns_name(lab.name, ids.short_id(cid))
    fake.netns.create(ns)
    fake.rtnl.add_veth(host.ns, ids.veth_name(eid), peer_ns=ns, peer_name="eth0")
    c = host.run("ubuntu", "sleep infinity")
    assert (c.id, c.ns, c.ip, c.status) == (cid, ns, "172.17.0.2", "running")
    veth = fake.link(host.ns, ids.veth_name(eid))
    assert veth.peer_index == fake.link(c.ns, "eth0").index
    assert cidrs(fake, c.ns, "eth0") == ["172.17.0.2/16"]


def test_a_lab_whose_build_did_not_finish_says_so(fake: FakeKernel) -> None:
    import dataclasses

    lab = lab_of("fk_partial", "node1")
    assert lab.missing() == []
    with lab.store.locked():  # as a build killed before its last step leaves it
        lab.store.save_lab(dataclasses.replace(lab.store.lab_record, complete=False))
    fake.netns.delete(topology.ns_name(lab.name, "node1"))
    assert lab.missing() == ["a build that did not finish", "namespace nl-fk_partial-node1"]


def test_rm_of_several_answers_for_each_as_docker_does(fake: FakeKernel) -> None:
    """What the batched docker rm prints per reference (its speed is bench_scale's)."""
    lab = lab_of("fk_rm")
    for n in ("c1", "c2", "c3"):
        d(f"run -d --name {n} ubuntu sleep infinity")
    d("stop c3")
    out = docker("rm c1 nothere c3 c3")
    assert out.code == 1 and out.stdout == "c3\n", out
    # (moby v28.5.2 daemon/delete.go containerRm: the name as the client sent it)
    assert out.stderr == (
        'Error response from daemon: cannot remove container "c1": container is running: '
        "stop the container before removing or force remove\n"
        "Error response from daemon: No such container: nothere\n"
        "Error response from daemon: No such container: c3\n"
    )
    assert d("rm -f c1 c2") == "c1\nc2\n"
    assert d("ps -aq") == ""
    assert sorted(fake.namespaces()) == sorted(lab.namespaces()) and len(lab.namespaces()) == 4


def test_a_child_born_between_the_scan_and_the_kill_is_found(
    fake: FakeKernel, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The issue's 60-round race, made certain: right after the first scan of /proc, the
    # container's shell starts its command (a new process in the same namespace).
    lab = Lab("fork")
    c = lab.host().run("busybox", "sleep 1001")
    ident = netns.ident(c.ns)
    real = netns.pids_in
    forked: list[int] = []

    def scan_then_fork(*a: Any, **k: Any) -> dict[int, netns.NsId]:
        found = real(*a, **k)
        if not forked and ident in a[0]:
            n = fake._ns(c.ns)
            child = fake._new_process(n, ["sleep", "1001"], "/dev/null", "-", "")
            fake._run(child)
            forked.append(child.pid)
        return found

    monkeypatch.setattr(netns, "pids_in", scan_then_fork)
    lab.down()
    assert forked and not [p for p in fake.processes if p.pid in forked and p.alive]


def test_a_namespace_whose_pin_was_deleted_is_found_through_the_ledger(fake: FakeKernel) -> None:
    lab = Lab("pin")
    c = lab.host().run("busybox", "sleep 4242")
    ns, pid = c.ns, c.record.pid
    netns.delete(ns)  # `ip netns del` by hand: the process holds the namespace on
    assert not netns.exists(ns) and proc.alive(pid)
    from netlab.model.lab import wipe

    done = wipe("pin")
    assert done["unpinned"] == (ns,) and not proc.alive(pid)


# --- one lab name is one lab ---------------------------------------------------------------


def test_a_lab_built_again_in_the_same_process_replaces_it_and_old_handles_refuse(
    fake: FakeKernel,
) -> None:
    from netlab import LabRebuilt

    first = Lab("again")
    old = first.host().run("busybox", "sleep 1", name="web")
    second = Lab("again")  # (a notebook cell run twice)
    new = second.host().run("busybox", "sleep 2", name="web")
    assert new.id == old.id  # (IDs are deterministic: the old handle would hit the new one)
    for act in (old.stop, lambda: first.host().run("busybox", "sleep 3"), lambda: old.running):
        with pytest.raises(LabRebuilt, match="was built anew since this was opened"):
            act()
    assert new.running and second.host().container("web").record.args == ("2",)


def _set_owner(lab: Lab, owner: tuple[int, int]) -> None:
    import dataclasses

    with lab.store.locked():
        lab.store.save_lab(dataclasses.replace(lab.store.lab_record, owner=owner))


def test_a_lab_of_another_live_process_is_not_replaced(fake: FakeKernel) -> None:
    from netlab import LabInUse

    lab = Lab("theirs")
    c = lab.host().run("busybox", "sleep 9")
    other = (c.record.pid, c.record.pid_start)  # (a live process that is not this one)
    _set_owner(lab, other)
    with pytest.raises(LabInUse, match=rf"lab 'theirs' belongs to process {other[0]} .*still"):
        Lab("theirs")
    assert c.running  # untouched
    again = Lab("theirs", replace=True)
    assert again.host().containers(all=True) == [] and not proc.alive(*other)


def test_a_lab_whose_owner_ended_is_replaced(fake: FakeKernel) -> None:
    lab = Lab("dead")
    c = lab.host().run("busybox", "sleep 9")
    gone = (c.record.pid, c.record.pid_start)
    c.stop()
    _set_owner(lab, gone)  # ("Restart kernel and run all": the old kernel has ended)
    assert Lab("dead").host().containers(all=True) == []


def test_a_lab_made_by_netlab_up_is_replaced_only_when_asked(fake: FakeKernel) -> None:
    from netlab import LabInUse

    up = Lab("cli", down_at_exit=False)
    assert up.store.lab_record.owner == (0, 0)
    with pytest.raises(LabInUse, match=r"made by `netlab up`.*netlab up --replace cli"):
        Lab("cli")
    assert Lab("cli", replace=True).store.lab_record.owner[0] == os.getpid()


def test_an_ambiguous_id_prefix_is_dockers_error(fake: FakeKernel) -> None:
    lab = lab_of("fk_prefix")
    ids_ = [lab.host().run("ubuntu", "sleep infinity").id for _ in range(20)]
    first = {}
    for cid in ids_:
        first.setdefault(cid[0], []).append(cid)
    shared = next(p for p, group in first.items() if len(group) > 1)
    out = docker(f"inspect {shared}")
    # (moby v28.5.2 container/view.go GetByPrefix)
    assert out.code == 1 and f"multiple IDs found with provided prefix: {shared}" in out.stderr
    assert docker(f"inspect -f '{{{{.Id}}}}' {ids_[0][:12]}").stdout == ids_[0] + "\n"


def test_inspect_says_whether_a_run_was_attached(fake: FakeKernel) -> None:
    host = lab_of("fk_attach").host()
    keys = ("AttachStdin", "AttachStdout", "AttachStderr", "OpenStdin", "StdinOnce")

    def config(c: Container) -> tuple[bool, ...]:
        return tuple(c.inspect()["Config"][k] for k in keys)

    # docker run -d -i / docker run -i / docker run (Docker 28's values for each: docker/cli
    # v28.5.2 cli/command/container/opts.go parse, run.go runContainer for -d).
    assert config(host.run("ubuntu", "sleep 1", interactive=True)) == (F, F, F, T, F)
    assert config(host.run("ubuntu", "sleep 1", interactive=True, attach=True)) == (T, T, T, T, T)
    assert config(host.run("ubuntu", "sleep 1", attach=True)) == (F, T, T, F, F)


T, F = True, False


def test_ps_filters_as_dockers_daemon_applies_them(fake: FakeKernel) -> None:
    # (moby v28.5.2 daemon/list.go; values match exactly or as a regular expression)
    lab_of("fk_psf")
    d("run -d --name web1 -p 8080:80 nginx")
    d("network create mynet")
    d("run -d --name app --network mynet ubuntu sleep infinity")
    d("run -d --name db ubuntu sleep infinity")
    d("stop -t 0 db")
    code = d("inspect -f '{{.State.ExitCode}}' db").strip()

    def names(flags: str) -> list[str]:
        return d(f"ps {flags} --format '{{{{.Names}}}}'").split()

    assert names("--filter name=web") == ["web1"]
    assert names("--filter name=^a") == ["app"]
    assert names("--filter status=exited") == ["db"]  # (a status filter lists every state)
    assert names("-a --filter status=running --filter status=exited") == ["db", "app", "web1"]
    assert names("--filter network=mynet") == ["app"]
    assert names("--filter ancestor=nginx:latest") == ["web1"]
    assert names("--filter publish=8080/tcp") == ["web1"] and names("--filter expose=80") == [
        "web1"
    ]
    assert names(f"-a --filter exited={code}") == ["db"]
    assert names("--filter name=web --filter network=mynet") == []  # (keys: all of them)
    assert names("-n 2") == ["db", "app"] and names("-l") == ["db"]
    assert names("--filter since=web1") == ["app"] and names("-a --filter before=app") == ["web1"]
    # (docker/cli v28.5.2 cli/command/formatter/container.go ContainerContext.Size, with
    # go-units HumanSizeWithPrecision(…, 3); custom.go SizeHeader)
    assert d("ps -s").splitlines()[0].split()[-1] == "SIZE"
    assert "0B (virtual 192MB)" in d("ps -s")
    # Docker's words for what it refuses.
    # (moby v28.5.2 api/types/filters/errors.go invalidFilter, from daemon/list.go's Validate)
    assert fails("ps --filter foo=bar") == "Error response from daemon: invalid filter 'foo'\n"
    # (moby v28.5.2 daemon/list.go foldFilter; api/types/container/state.go
    # ValidateContainerState)
    assert fails("ps --filter status=sleeping") == (
        "Error response from daemon: invalid filter 'status=sleeping': invalid value for state "
        "(sleeping): must be one of created, running, paused, restarting, removing, exited, dead\n"
    )
    # (docker/cli v28.5.2 opts/opts.go FilterOpt.Set in vendor/github.com/spf13/pflag/flag.go's
    # "invalid argument %q for %q flag: %v", in cli/cobra.go FlagErrorFunc's layout)
    assert fails("ps --filter name") == (
        'invalid argument "name" for "-f, --filter" flag: bad format of filter (expected '
        "name=value)\n\nUsage:  docker ps [OPTIONS]\n\n"
        "Run 'docker ps --help' for more information\n"
    )


def test_network_ls_filters_as_dockers_daemon_applies_them(fake: FakeKernel) -> None:
    # (moby v28.5.2 daemon/network/filter.go)
    lab_of("fk_nlsf")
    d("network create mynet")
    d("network create -d bridge other")
    d("run -d --name app --network mynet ubuntu sleep infinity")

    def names(flags: str) -> list[str]:
        return d(f"network ls {flags} --format '{{{{.Name}}}}'").split()

    assert names("--filter name=net") == ["mynet"]
    assert names("--filter type=custom") == ["mynet", "other"]
    assert names("--filter type=builtin") == ["bridge", "host", "none"]
    assert names("--filter dangling=true") == ["other"]
    assert names("--filter driver=null") == ["none"]
    assert names("--filter scope=local --filter driver=host") == ["host"]
    # (moby v28.5.2 daemon/network/filter.go FilterNetworks, filterNetworkByType)
    assert fails("network ls --filter type=mine") == (
        "Error response from daemon: invalid filter: 'type'='mine'\n"
    )
    assert fails("network ls --filter dangling=maybe") == (
        "Error response from daemon: invalid value for filter 'dangling', must be \"true\" "
        '(or "1"), or "false" (or "0")\n'
    )


def test_the_iptables_backend_and_docker_proxy_on_the_fake(fake: FakeKernel) -> None:
    lab = Lab("fk_ipt", firewall_backend="iptables")
    use(lab)
    ns = lab.host().ns
    d("run -d --name web1 -p 8080:80 nginx")
    saved = fake.xtables.save(ns)
    # (moby v28.5.2 libnetwork/drivers/bridge/internal/iptabler/port.go setPerPortNAT,
    # iptabler.go FORWARD policy DROP, endpoint.go direct-access DROP)
    dnat = (
        "-A DOCKER ! -i docker0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.17.0.2:80"
    )
    assert dnat in saved and ":FORWARD DROP [0:0]" in saved
    assert "-A PREROUTING -d 172.17.0.2/32 ! -i docker0 -j DROP" in saved

    def proxies() -> list[list[str]]:
        return [
            p.argv[3:]
            for p in fake.processes
            if p.alive and p.ns == ns and p.argv[2:3] and p.argv[2].endswith("docker_proxy.py")
        ]

    # (moby v28.5.2 libnetwork/portmapper/proxy_linux.go StartProxy: docker-proxy's argv)
    assert proxies() == [
        [
            "-proto",
            "tcp",
            "-host-ip",
            "0.0.0.0",
            "-host-port",
            "8080",
            "-container-ip",
            "172.17.0.2",
            "-container-port",
            "80",
            "-use-listen-fd",
        ]
    ]
    # The user's rule stays; the container's rules and proxy go with it.
    xtables.restore(ns, "*filter\n-A DOCKER-USER -s 10.1.2.3/32 -j DROP\nCOMMIT\n", [])
    d("stop -t 0 web1")
    saved = fake.xtables.save(ns)
    assert dnat not in saved and "172.17.0.2" not in saved and proxies() == []
    assert "-A DOCKER-USER -s 10.1.2.3/32 -j DROP" in saved


def test_iptables_is_read_again_only_when_someone_else_changed_it(
    fake: FakeKernel, monkeypatch: pytest.MonkeyPatch
) -> None:
    lab = lab_of("fk_iptmemo", firewall_backend="iptables", userland_proxy=False)
    ns = lab.host().ns
    reads = []
    real_save = xtables.save
    monkeypatch.setattr(xtables, "save", lambda n, **kw: reads.append(n) or real_save(n, **kw))
    d("run -d --name c1 ubuntu sleep infinity")
    d("run -d --name c2 ubuntu sleep infinity")
    assert reads == []  # (the generation is what netlab left: its memory is the kernel's)
    # Someone deletes one of Docker's rules: the generation moves, netlab reads and repairs.
    xtables.restore(ns, "*raw\n-D PREROUTING -d 172.17.0.2/32 ! -i docker0 -j DROP\nCOMMIT\n", [])
    d("run -d --name c3 ubuntu sleep infinity")
    assert reads == [ns]
    raw = xtables.parse_tables(fake.xtables.save(ns))["raw"].rules["PREROUTING"]
    assert raw == [f"-d 172.17.0.{i}/32 ! -i docker0 -j DROP" for i in (2, 3, 4)]
