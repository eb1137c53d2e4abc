"""Port publishing: every reachability line of the lesson is a real request."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable, Iterator

import pytest

from netlab import Lab
from netlab.docker import docker, use
from netlab.kernel import rtnl
from netlab.model import topology

pytestmark = pytest.mark.root

WELCOME = "Welcome to nginx!"
HOST_IP = "192.168.56.11"


@pytest.fixture
def web(make_lab: Callable[..., Lab]) -> Iterator[Lab]:
    # Docker 29's nftables backend without docker-proxy: the kernel alone carries every
    # path (test_iptables.py has Docker 28's default, iptables and docker-proxy).
    lab = make_lab(firewall_backend="nftables")
    use(lab)
    out = docker("run --name web1 -d -p 8080:80 nginx")
    assert out.code == 0, out
    yield lab


def curl_in(ns: str, url: str, timeout: float = 2) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["ip", "netns", "exec", ns, "curl", "-sS", "-m", str(timeout), url],
        capture_output=True,
        text=True,
    )


def client(lab: Lab) -> str:
    return topology.ns_name(lab.name, "client")


def test_reachable_from_a_lan_client(web: Lab) -> None:
    r = curl_in(client(web), f"http://{HOST_IP}:8080/")
    assert WELCOME in r.stdout, r


def test_reachable_from_the_host_itself(web: Lab) -> None:
    for url in (f"http://{HOST_IP}:8080/", "http://localhost:8080/", "http://127.0.0.1:8080/"):
        r = web.host().exec(["curl", "-sS", "-m", "2", url])
        assert WELCOME in r.stdout, (url, r)


def test_reachable_from_another_container_and_from_itself(web: Lab) -> None:
    docker("run -d --name other ubuntu sleep infinity")
    for who in ("other", "web1"):
        out = docker(f"exec {who} curl -sS -m 2 http://{HOST_IP}:8080/")
        assert WELCOME in out.stdout, (who, out)


def test_not_reachable_directly_unpublished_or_on_loopback(web: Lab) -> None:
    docker("run --name local -d -p 127.0.0.1:8081:80 nginx")
    ns = client(web)
    # A client that knows a route to the containers still cannot reach them directly
    # (Docker 28's "direct access" drop).
    subprocess.run(["ip", "-n", ns, "route", "add", "172.17.0.0/16", "via", HOST_IP], check=True)
    r = curl_in(ns, "http://172.17.0.2:80/", timeout=1)
    assert r.returncode == 28, r  # timed out: dropped, not refused
    r = curl_in(ns, f"http://{HOST_IP}:9999/")
    assert r.returncode == 7 and "Failed to connect" in r.stderr, r  # refused at once
    r = curl_in(ns, f"http://{HOST_IP}:8081/")
    assert r.returncode == 7, r
    # ...while the loopback-published port works on the host itself.
    assert WELCOME in web.host().exec("curl -sS -m 2 http://127.0.0.1:8081/").stdout


def test_udp_and_ephemeral_ports(web: Lab) -> None:
    server = (
        "import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); "
        "s.bind(('', 53)); d, a = s.recvfrom(100); s.sendto(d.upper(), a)"
    )
    out = docker(
        ["run", "-d", "--name", "udp1", "-p", "5353:53/udp", "alpine", "python3", "-c", server]
    )
    assert out.code == 0, out
    ask = (
        "import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); "
        f"s.settimeout(2); s.sendto(b'hello', ('{HOST_IP}', 5353)); print(s.recv(100))"
    )
    r = subprocess.run(
        ["ip", "netns", "exec", client(web), "python3", "-c", ask], capture_output=True, text=True
    )
    assert r.stdout.strip() == "b'HELLO'", r
    docker("run -d --name eph -p 80 nginx")
    # (docker/cli v28.5.2 cli/command/container/port.go runPort: "%s -> %s"; the first port
    # of the kernel's ip_local_port_range: moby v28.5.2
    # libnetwork/portallocator/portallocator_linux.go)
    assert docker("port eph").stdout == "80/tcp -> 0.0.0.0:32768\n"
    assert WELCOME in curl_in(client(web), f"http://{HOST_IP}:32768/").stdout


def test_port_ps_and_inspect_show_the_mapping(web: Lab) -> None:
    # (docker/cli v28.5.2 cli/command/container/port.go runPort)
    assert docker("port web1").stdout == "80/tcp -> 0.0.0.0:8080\n"
    assert docker("port web1 80").stdout == "0.0.0.0:8080\n"
    # The same rule as nftables' JSON (what nft -j prints), the form programs read.
    from netlab.kernel import nft

    rules = [o["rule"] for o in nft.ruleset_json(web.host().ns) if "rule" in o]
    dnat = [r for r in rules if r["chain"] == "nat-prerouting-and-output"]
    assert len(dnat) == 1 and any("dnat" in e for e in dnat[0]["expr"]), dnat
    # (docker/cli v28.5.2 cli/command/formatter/container.go DisplayablePorts)
    assert "0.0.0.0:8080->80/tcp" in docker("ps").stdout
    doc = json.loads(docker("inspect web1").stdout)[0]
    # (moby v28.5.2 api/types/container/network_settings.go NetworkSettingsBase.Ports;
    # vendor/github.com/docker/go-connections/nat/nat.go PortBinding `json:"HostIp"`)
    assert doc["NetworkSettings"]["Ports"] == {
        "80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}]
    }
    docker("run -d --name plain nginx")
    # (DisplayablePorts: an exposed, unpublished port is "80/tcp")
    assert re.search(r"\s80/tcp\s+plain$", docker("ps").stdout, re.M)


def rules(lab: Lab) -> set[str]:
    text = lab.host().ruleset()
    return {
        re.sub(r"counter packets \d+ bytes \d+", "counter", line.strip())
        for line in text.splitlines()
    }


def test_rm_removes_exactly_its_own_rules(web: Lab) -> None:
    with_one = rules(web)
    docker("run --name web2 -d -p 8082:80 nginx")
    with_two = rules(web)
    added = with_two - with_one
    # (Docker 29's nftables rule: moby docker-v29.0.0
    # daemon/libnetwork/drivers/bridge/internal/nftabler/port.go setPerPortDNAT)
    assert any("dport 8082" in r and "dnat to 172.17.0.3:80" in r for r in added), added
    assert docker("rm -f web1").code == 0
    after = rules(web)
    assert not any("172.17.0.2" in r or "dport 8080" in r for r in after)
    assert added <= after, "web2's rules must stay"
    assert WELCOME in curl_in(client(web), f"http://{HOST_IP}:8082/").stdout


def test_conflict_has_dockers_words_and_leaves_a_created_container(web: Lab) -> None:
    before = (
        sorted(web.namespaces()),
        sorted(lk.name for lk in rtnl.links(web.host().ns)),
        rules(web),
    )
    out = docker("run --name web2 -d -p 8080:80 nginx")
    assert out.code == 125 and re.fullmatch(r"[0-9a-f]{64}\n", out.stdout)
    # (moby v28.5.2 daemon/start_linux.go errSetupNetworking; libnetwork/endpoint.go
    # programExternalConnectivity; libnetwork/portallocator/portallocator.go
    # alreadyAllocatedErr; docker/cli v28.5.2 cli/command/container/run.go withHelp)
    assert re.match(
        r"docker: Error response from daemon: failed to set up container "
        r"networking: driver failed programming external connectivity on endpoint "
        r"web2 \([0-9a-f]{64}\): Bind for 0\.0\.0\.0:8080 failed: port is already "
        r"allocated\n",
        out.stderr,
    ), out.stderr
    after = (
        sorted(web.namespaces()),
        sorted(lk.name for lk in rtnl.links(web.host().ns)),
        rules(web),
    )
    assert after == before  # (nothing in the kernel; the container is only Created)
    assert web.host().container("web2").status == "created"


def test_packet_path_reads_counters_and_conntrack(web: Lab) -> None:
    c = web.host().container("web1")
    before = c.packet_path()
    assert WELCOME in curl_in(client(web), f"http://{HOST_IP}:8080/").stdout
    after = c.packet_path()
    dnat = next(s for s in after.steps if s.hook == "DNAT")
    assert "dnat to 172.17.0.2:80" in dnat.rule
    assert dnat.packets == next(s for s in before.steps if s.hook == "DNAT").packets + 1
    assert any(
        "dst=192.168.56.11" in e and "dport=8080" in e and "src=172.17.0.2" in e
        for e in after.conntrack
    ), after.conntrack
    assert "published port 0.0.0.0:8080->80/tcp" in str(after)


def test_a_host_range_for_one_port_takes_the_first_free_one(web: Lab) -> None:
    docker("run -d --name r1 -p 9085-9087:80 nginx")
    docker("run -d --name r2 -p 9085-9087:80 nginx")
    # (docker/cli v28.5.2 cli/command/container/port.go runPort)
    assert docker("port r1").stdout == "80/tcp -> 0.0.0.0:9085\n"
    assert docker("port r2").stdout == "80/tcp -> 0.0.0.0:9086\n"
    assert WELCOME in curl_in(client(web), f"http://{HOST_IP}:9086/").stdout
    # (docker/cli v28.5.2 vendor/github.com/docker/go-connections/nat/nat.go ParsePortSpec:
    # one container port and a host range keep the range as HostPort)
    bindings = json.loads(docker("inspect -f '{{json .HostConfig.PortBindings}}' r2").stdout)
    assert bindings == {"80/tcp": [{"HostIp": "", "HostPort": "9085-9087"}]}
