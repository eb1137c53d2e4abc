"""Containers on the default bridge, checked against the kernel rather than the model."""

from __future__ import annotations

import ipaddress
import json
import os
import subprocess
import time
from collections.abc import Callable

import pytest

from netlab import (
    Conflict,
    InvalidArgument,
    Lab,
    NoSuchContainer,
    NoSuchImage,
    NoSuchNetwork,
    StartFailed,
)
from netlab.errors import NotRunning
from netlab.kernel import containers, netns, proc, rtnl
from netlab.model import ids, inspect, topology
from netlab.views import tables

pytestmark = pytest.mark.root


def wait_for(cond, timeout: float = 3.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.01)
    return bool(cond())


def test_run_attaches_through_a_veth_whose_peer_is_a_docker0_port(lab: Lab) -> None:
    host = lab.host()
    c = host.run("ubuntu", "sleep infinity")
    clinks = {lk.name: lk for lk in rtnl.links(c.ns)}
    eth0 = clinks["eth0"]
    assert eth0.kind == "veth" and eth0.up and eth0.mtu == 1500
    hlinks = {lk.index: lk for lk in rtnl.links(host.ns)}
    peer = hlinks[eth0.peer_index]  # the real peer, found by the kernel's ifindex
    docker0 = next(lk for lk in hlinks.values() if lk.name == "docker0")
    assert peer.master == docker0.index, (peer, docker0)
    assert peer.name.startswith("veth") and len(peer.name) == 11
    assert peer.name == c.networks["bridge"].veth
    # brctl, the command students type, agrees.
    brctl = host.exec("brctl show docker0").stdout
    assert peer.name in brctl, brctl


def test_addresses_macs_and_routes_follow_docker(lab: Lab) -> None:
    host = lab.host()
    a = host.run("ubuntu", "sleep infinity")
    b = host.run("ubuntu", "sleep infinity")
    assert (a.ip, b.ip) == ("172.17.0.2", "172.17.0.3")
    for c in (a, b):
        kernel = {x.ifname: x.cidr for x in rtnl.addrs(c.ns)}
        assert kernel["eth0"] == f"{c.ip}/16"
        eth0 = next(lk for lk in rtnl.links(c.ns) if lk.name == "eth0")
        # (moby v28.5.2 libnetwork/netutils/utils.go GenerateMACFromIP, v27's bridge rule;
        # v28.5.2's bridge_linux.go CreateEndpoint takes GenerateRandomMAC)
        assert eth0.mac == ids.mac_from_ip(c.ip) == c.mac
        routes = rtnl.routes(c.ns)
        assert any(r.dst == "default" and r.gateway == "172.17.0.1" for r in routes), routes
    # A freed address is reused at once, as Docker's IPAM does.
    a.remove(force=True)
    c3 = host.run("ubuntu", "sleep infinity")
    assert c3.ip == "172.17.0.2"


def test_ping_host_to_container_and_container_out_to_the_internet(lab: Lab) -> None:
    host = lab.host()
    c = host.run("ubuntu", "sleep infinity")
    r = host.exec(["ping", "-c", "2", "-i", "0.2", "-W", "2", c.ip])
    assert r.ok and "2 received" in r.stdout, r
    r = c.exec(["ping", "-c", "1", "-W", "2", topology.WEB_SITE_NAME])
    assert r.ok and topology.WEB_SITE_IP in r.stdout, r
    # The site sees the Docker host's address: the masquerade rule rewrote the source.
    ruleset = host.ruleset()
    # (Docker 29's nftables rule: moby docker-v29.0.0
    # daemon/libnetwork/drivers/bridge/internal/nftabler/network.go, "MASQUERADE")
    assert 'oifname != "docker0" ip saddr 172.17.0.0/16' in ruleset
    assert "masquerade" in ruleset
    masq = next(line for line in ruleset.splitlines() if "masquerade" in line)
    assert "packets 0 " not in masq, masq


def _etc_mounts() -> list[str]:
    with open("/proc/self/mounts") as f:
        return [line for line in f if " /etc/" in line]


def test_container_has_hostname_hosts_and_resolver_like_docker(lab: Lab) -> None:
    # (The machine's own /etc mounts, before: a container runtime or a rootless netlab
    # bind-mounts /etc/hosts of its own, so "none" is not the rule; "the same after" is.)
    machine_etc = _etc_mounts()
    c = lab.host().run("ubuntu", "sleep infinity")
    # (moby v28.5.2 daemon/container.go newContainer: the hostname is id[:12];
    # libnetwork/etchosts/etchosts.go Record: "%s\t%s\n")
    assert c.exec("hostname").stdout.strip() == c.short_id
    hosts = c.exec("cat /etc/hosts").stdout
    assert f"{c.ip}\t{c.short_id}" in hosts
    assert f"nameserver {topology.DNS_IP}" in c.exec("cat /etc/resolv.conf").stdout
    # Docker's way: the files are bind mounts in the container's own mount namespace, and
    # its /sys shows its own network namespace (as after `ip netns exec`).
    mounts = c.exec("cat /proc/self/mounts").stdout
    assert " /etc/hosts " in mounts and " /etc/resolv.conf " in mounts, mounts
    assert c.exec("ls /sys/class/net").stdout.split() == ["eth0", "lo"]
    # Nor does it hold the machine's namespace pins (each would make every new container's
    # mount namespace cost more), as a Docker container does not see the host's namespaces.
    assert "/run/netns/" not in mounts, mounts
    assert c.ns not in netns.etc_names(), "containers need no /etc/netns folder"
    # As in Docker on a network without IPv6: eth0 has no IPv6 at all, lo keeps ::1.
    v6 = c.exec("ip -6 -br addr").stdout
    assert "::1/128" in v6 and "eth0" not in v6, v6
    # The machine's own files and mounts are untouched.
    with open("/etc/hosts") as f:
        assert c.short_id not in f.read()
    assert _etc_mounts() == machine_etc


def test_nginx_serves_its_welcome_page(lab: Lab) -> None:
    host = lab.host()
    web = host.run("nginx", name="web")
    assert wait_for(lambda: host.exec(["curl", "-s", "-m", "2", f"http://{web.ip}/"]).ok)
    page = host.exec(["curl", "-s", "-m", "2", f"http://{web.ip}/"]).stdout
    assert "Welcome to nginx!" in page


def test_network_none_and_host(lab: Lab) -> None:
    host = lab.host()
    none = host.run("ubuntu", "sleep infinity", network="none")
    assert [lk.name for lk in rtnl.links(none.ns)] == ["lo"]
    assert none.ip is None
    hnet = host.run("ubuntu", "sleep infinity", network="host")
    assert hnet.ns == host.ns
    assert "192.168.56.11" in hnet.exec("ip -br addr show eth0").stdout
    # Docker: a --network host container shows the host's name and /etc files (moby v28.5.2
    # daemon/container.go newContainer: os.Hostname(); libnetwork/sandbox_dns_unix.go
    # buildHostsFile copies the host's file).
    assert hnet.exec("hostname").stdout.strip() == "host"
    assert "192.168.56.11\thost" in hnet.exec("cat /etc/hosts").stdout
    hnet.remove(force=True)
    assert netns.exists(host.ns), "removing a --network host container must keep the host"


def test_exited_container_shows_its_code_and_frees_its_network(lab: Lab) -> None:
    host = lab.host()
    c = host.run("alpine", ["sh", "-c", "exit 3"])
    assert wait_for(lambda: c.status == "exited")
    assert c.exit_code == 3
    assert not netns.exists(c.ns)
    row = tables.ps_row(c)
    # (moby v28.5.2 container/state.go State.String: "Exited (%d) %s ago")
    assert row["Status"].startswith("Exited (3) ")
    assert c not in host.containers()
    assert c in host.containers(all=True)
    # (moby v28.5.2 daemon/errors.go errNotRunning)
    with pytest.raises(NotRunning, match=f"container {c.id} is not running"):
        c.exec("true")


def test_ubuntu_without_tty_exits_at_once_with_tty_stays(lab: Lab) -> None:
    host = lab.host()
    plain = host.run("ubuntu")
    tty = host.run("ubuntu", tty=True)
    assert wait_for(lambda: plain.status == "exited")
    assert plain.exit_code == 0
    assert tty.status == "running"


def test_stop_kills_by_pid_and_rm_removes(lab: Lab) -> None:
    host = lab.host()
    c = host.run("ubuntu", "sleep infinity", name="victim")
    pid = c.pid
    started = proc.start_time(pid)
    # (moby v28.5.2 daemon/delete.go cleanupContainer)
    with pytest.raises(Conflict, match="container is running"):
        c.remove()
    c.stop(timeout=0)  # (`sleep` ignores SIGTERM as PID 1: no grace period to wait for)
    assert c.status == "exited" and c.exit_code == 137
    assert not rtnl_has_veth(host, c)
    assert not proc.alive(pid, started)
    c.remove()
    # (moby v28.5.2 daemon/errors.go objNotFoundError)
    with pytest.raises(NoSuchContainer, match="No such container: victim"):
        host.container("victim")


def rtnl_has_veth(host, c) -> bool:  # type: ignore[no-untyped-def]
    veth = c.record.networks["bridge"].veth
    return any(lk.name == veth for lk in rtnl.links(host.ns))


def test_name_conflict_has_dockers_words_and_builds_nothing(lab: Lab) -> None:
    host = lab.host()
    first = host.run("ubuntu", "sleep infinity", name="web")
    before = (sorted(lab.namespaces()), len(rtnl.links(host.ns)))
    with pytest.raises(Conflict) as err:
        host.run("ubuntu", "sleep infinity", name="web")
    # (moby v28.5.2 daemon/errors.go nameConflictError)
    assert str(err.value) == (
        f'Conflict. The container name "/web" is already in use by container "{first.id}". '
        "You have to remove (or rename) that container to be able to reuse that name."
    )
    assert (sorted(lab.namespaces()), len(rtnl.links(host.ns))) == before


@pytest.mark.parametrize(
    ("kwargs", "error", "text"),
    [
        # (moby v28.5.2 distribution/errors.go notFoundError; libnetwork/error.go
        # ErrNoSuchNetwork; daemon/names.go reserveName)
        ({"image": "mysql"}, NoSuchImage, "pull access denied for mysql"),
        ({"image": "ubuntu", "network": "nonet"}, NoSuchNetwork, "network nonet not found"),
        ({"image": "ubuntu", "name": "bad/name"}, InvalidArgument, "Invalid container name"),
    ],
)
def test_bad_input_is_refused_and_leaves_nothing(lab: Lab, kwargs, error, text) -> None:  # type: ignore[no-untyped-def]
    host = lab.host()
    before = (sorted(lab.namespaces()), len(rtnl.links(host.ns)), lab.store.containers())
    with pytest.raises(error, match=text):
        host.run(**kwargs)
    assert (sorted(lab.namespaces()), len(rtnl.links(host.ns)), lab.store.containers()) == before


def test_a_command_not_found_leaves_a_created_container(lab: Lab) -> None:
    # As on Docker: created, not started (docker run exits 127), nothing in the kernel
    # (moby v28.5.2 daemon/errors.go setExitCodeFromError, isInvalidCommand; the words are
    # Go os/exec's, through runc).
    host = lab.host()
    before = (sorted(lab.namespaces()), len(rtnl.links(host.ns)))
    with pytest.raises(StartFailed, match='"no-such-binary": executable file not found') as e:
        host.run("ubuntu", "no-such-binary", name="ghost")
    assert e.value.exit_code == 127
    assert (sorted(lab.namespaces()), len(rtnl.links(host.ns))) == before
    assert [(c.name, c.status) for c in host.containers(all=True)] == [("ghost", "created")]


def test_failure_midway_rolls_back_the_kernel(lab: Lab, monkeypatch: pytest.MonkeyPatch) -> None:
    host = lab.host()
    before = (sorted(lab.namespaces()), len(rtnl.links(host.ns)))

    def broken_go(self: containers.Starting, **kwargs: object) -> None:
        raise OSError("spawn failed on purpose")

    monkeypatch.setattr(containers.Starting, "go", broken_go)
    with pytest.raises(StartFailed, match="on purpose"):
        host.run("ubuntu", "sleep infinity", name="half")
    assert (sorted(lab.namespaces()), len(rtnl.links(host.ns))) == before
    assert [(c.name, c.status) for c in host.containers(all=True)] == [("half", "created")]
    monkeypatch.undo()
    host.container("half").start()  # (docker start: it runs now)
    assert host.container("half").running


def test_network_inspect_matches_the_kernel(lab: Lab) -> None:
    host = lab.host()
    cs = [host.run("ubuntu", "sleep infinity") for _ in range(2)]
    doc = json.loads(inspect.render([host.network("bridge").inspect()]))[0]
    # (moby v28.5.2 api/types/network/network.go Inspect: the field order; Peers and
    # Services are omitempty)
    assert list(doc) == [
        "Name",
        "Id",
        "Created",
        "Scope",
        "Driver",
        "EnableIPv4",
        "EnableIPv6",
        "IPAM",
        "Internal",
        "Attachable",
        "Ingress",
        "ConfigFrom",
        "ConfigOnly",
        "Containers",
        "Options",
        "Labels",
    ]
    # (moby v28.5.2 api/types/network/ipam.go IPAMConfig; daemon/daemon_unix.go
    # initBridgeDriver, libnetwork/drivers/bridge/labels.go BridgeName)
    assert doc["IPAM"]["Config"] == [{"Subnet": "172.17.0.0/16", "Gateway": "172.17.0.1"}]
    assert doc["Options"]["com.docker.network.bridge.name"] == "docker0"
    assert len(doc["Id"]) == 64
    assert set(doc["Containers"]) == {c.id for c in cs}
    for c in cs:
        entry = doc["Containers"][c.id]
        kernel_addr = next(a for a in rtnl.addrs(c.ns) if a.ifname == "eth0")
        kernel_mac = next(lk.mac for lk in rtnl.links(c.ns) if lk.name == "eth0")
        # (moby v28.5.2 api/types/network/network.go EndpointResource)
        assert entry["IPv4Address"] == kernel_addr.cidr
        assert entry["MacAddress"] == kernel_mac
        assert entry["Name"] == c.name
    gw = next(a for a in rtnl.addrs(host.ns) if a.ifname == "docker0")
    assert ipaddress.ip_interface(gw.cidr).ip == ipaddress.ip_address(
        doc["IPAM"]["Config"][0]["Gateway"]
    )


def test_container_inspect_network_settings(lab: Lab) -> None:
    c = lab.host().run("ubuntu", "sleep infinity")
    doc = c.inspect()
    ns = doc["NetworkSettings"]
    # (moby v28.5.2 api/types/container/network_settings.go DefaultNetworkSettings,
    # api/types/network/endpoint.go EndpointSettings; the Name "/"+name: daemon/names.go)
    assert ns["IPAddress"] == c.ip and ns["Gateway"] == "172.17.0.1"
    assert ns["MacAddress"] == c.mac
    assert ns["Networks"]["bridge"]["IPAddress"] == c.ip
    assert ns["Networks"]["bridge"]["NetworkID"] == lab.host().network("bridge").id
    assert doc["State"]["Running"] and doc["State"]["Pid"] == c.pid
    assert doc["Name"] == "/" + c.name


def test_views_print_dockers_columns(lab: Lab) -> None:
    host = lab.host()
    c = host.run("ubuntu", "sleep infinity", name="sleepy")
    ls = tables.network_ls(host).splitlines()
    # (docker/cli v28.5.2 cli/command/network/formatter.go defaultNetworkTableFormat,
    # formatter/container.go defaultContainerTableFormat, custom.go ContainerIDHeader)
    assert ls[0] == "NETWORK ID     NAME      DRIVER    SCOPE"
    assert [line.split()[1:] for line in ls[1:]] == [
        ["bridge", "bridge", "local"],
        ["host", "host", "local"],
        ["none", "null", "local"],
    ]
    ps = tables.ps(host).splitlines()
    assert ps[0].split("   ")[0] == "CONTAINER ID"
    assert ps[1].startswith(c.short_id) and '"sleep infinity"' in ps[1]
    assert ps[1].endswith("sleepy")


def test_identities_are_deterministic(make_lab) -> None:  # type: ignore[no-untyped-def]
    seen = []
    for _ in range(2):
        lab = make_lab(name="detlab")
        c = lab.host().run("ubuntu", "sleep infinity")
        seen.append(
            (
                c.id,
                c.name,
                c.mac,
                c.networks["bridge"].endpoint_id,
                lab.host().network("bridge").id,
                c.networks["bridge"].veth,
            )
        )
        lab.down()
    assert seen[0] == seen[1]


def test_remove_many_at_once(lab: Lab) -> None:
    host = lab.host()
    keep = host.run("ubuntu", "sleep infinity", name="keep")
    gone = [host.run("ubuntu", "sleep infinity") for _ in range(5)]
    pids = [(c.pid, proc.start_time(c.pid)) for c in gone]
    with pytest.raises(Conflict, match="container is running"):
        host.remove_containers(gone)
    assert all(c.running for c in gone), "a refused removal must not stop anything"
    host.remove_containers(gone, force=True)
    assert host.containers(all=True) == [keep]
    assert not any(proc.alive(p, started) for p, started in pids)
    assert sorted(lab.namespaces()) == sorted(
        [topology.ns_name(lab.name, p) for p in ("lan", "inet", "client", "host")] + [keep.ns]
    )
    veths = [lk.name for lk in rtnl.links(host.ns) if lk.name.startswith("veth")]
    assert veths == [keep.networks["bridge"].veth], "the kernel still has removed veths"


def test_containers_start_after_the_state_moved_to_a_new_tmpfs(
    make_lab: Callable[..., Lab], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Containers' mount namespaces are copied from a snapshot of the machine's; a file system
    # mounted after the snapshot (a new state tmpfs: here at another path) must make netlab
    # take a new one, or the container would not find its hosts file and log.
    from netlab.model import state

    first = make_lab()
    first.host().run("ubuntu", "sleep infinity")  # the snapshot exists now
    root = f"/run/netlab-t{os.getpid()}"
    monkeypatch.setattr(state, "ROOT", root)
    try:
        second = make_lab()
        assert os.path.ismount(root)
        c = second.host().run("ubuntu", "sleep infinity")
        assert f"{c.ip}\t{c.short_id}" in c.exec("cat /etc/hosts").stdout
        c2 = second.host().run("alpine", ["echo", "logged"])
        assert wait_for(lambda: "logged" in c2.logs())
        second.down()
        assert not os.path.exists(root)
    finally:
        if os.path.ismount(root):
            subprocess.run(["umount", "-l", root], check=False)
        subprocess.run(["rm", "-rf", root], check=False)
