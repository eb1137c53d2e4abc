"""Docker 28's iptables backend on the real kernel: the rules ``iptables -S`` shows in the
Docker host, the paths they let through, DOCKER-USER, and the machine left alone."""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Callable, Iterator

import pytest

from netlab import Lab
from netlab.docker import docker, use

pytestmark = pytest.mark.root

HOST_IP = "192.168.56.11"
WELCOME = "Welcome to nginx!"


@pytest.fixture(params=[True, False], ids=["userland-proxy", "no-proxy"])
def ipt(make_lab: Callable[..., Lab], request: pytest.FixtureRequest) -> Iterator[Lab]:
    lab = make_lab(firewall_backend="iptables", userland_proxy=request.param)
    use(lab)
    yield lab


def proxy_on(lab: Lab) -> bool:
    return lab.store.lab_record.userland_proxy


def curl_from_client(lab: Lab, url: str) -> subprocess.CompletedProcess[str]:
    ns = f"nl-{lab.name}-client"
    return subprocess.run(
        ["ip", "netns", "exec", ns, "curl", "-sS", "-m", "2", url], capture_output=True, text=True
    )


def sh(lab: Lab, cmd: str) -> str:
    out = lab.host().exec(cmd)
    assert out.ok, out
    return out.stdout


def test_a_published_port_is_docker_28s_dnat_and_accept(ipt: Lab) -> None:
    assert docker("run -d --name web1 -p 8080:80 nginx").code == 0
    proxy = proxy_on(ipt)
    dnat = (
        f"-A DOCKER {'! -i docker0 ' if proxy else ''}-p tcp -m tcp --dport 8080 -j DNAT "
        "--to-destination 172.17.0.2:80"
    )
    nat = sh(ipt, "iptables -t nat -S").splitlines()
    assert dnat in nat and "-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE" in nat
    assert ("-A DOCKER -i docker0 -j RETURN" in nat) == proxy
    filt = sh(ipt, "iptables -S").splitlines()
    assert filt[:3] == ["-P INPUT ACCEPT", "-P FORWARD DROP", "-P OUTPUT ACCEPT"]
    assert "-A FORWARD -j DOCKER-USER" in filt and "-A FORWARD -j DOCKER-FORWARD" in filt
    accept = "-A DOCKER -d 172.17.0.2/32 ! -i docker0 -o docker0 -p tcp -m tcp --dport 80 -j ACCEPT"
    assert filt.index(accept) < filt.index("-A DOCKER ! -i docker0 -o docker0 -j DROP")
    assert sh(ipt, "iptables -t raw -S PREROUTING").splitlines()[1:] == [
        "-A PREROUTING -d 172.17.0.2/32 ! -i docker0 -j DROP"
    ]
    # iptables-nft: the same rules are nftables tables of the Docker host's namespace.
    ruleset = sh(ipt, "nft list ruleset")
    assert "table ip nat {" in ruleset and "dnat to 172.17.0.2:80" in ruleset
    # Every way in works: the LAN client, the host itself, another container, itself.
    assert WELCOME in curl_from_client(ipt, f"http://{HOST_IP}:8080/").stdout
    for url in (f"http://{HOST_IP}:8080/", "http://localhost:8080/"):
        assert WELCOME in ipt.host().exec(["curl", "-sS", "-m", "2", url]).stdout, url
    docker("run -d --name other ubuntu sleep infinity")
    for who in ("other", "web1"):
        out = docker(f"exec {who} curl -sS -m 2 http://{HOST_IP}:8080/")
        assert WELCOME in out.stdout, (who, out)
    # A container that stops takes its rules along, and only its rules.
    before = set(sh(ipt, "iptables-save").splitlines())
    docker("stop -t 0 web1")
    after = set(sh(ipt, "iptables-save").splitlines())
    hairpin = (
        "-A POSTROUTING -s 172.17.0.2/32 -d 172.17.0.2/32 -p tcp -m tcp --dport 80 -j MASQUERADE"
    )
    assert {x for x in before - after if x.startswith("-A")} == {
        accept,
        dnat,
        "-A PREROUTING -d 172.17.0.2/32 ! -i docker0 -j DROP",
        *([] if proxy else [hairpin]),
    }
    assert not {x for x in after - before if x.startswith("-A")}


def test_docker_proxy_serves_local_and_container_clients(make_lab: Callable[..., Lab]) -> None:
    lab = make_lab(firewall_backend="iptables")  # (Docker's default: userland-proxy on)
    use(lab)
    docker("run -d --name web1 -p 8080:80 nginx")
    want = (
        "docker-proxy -proto tcp -host-ip 0.0.0.0 -host-port 8080 -container-ip 172.17.0.2 "
        "-container-port 80 -use-listen-fd"
    )
    ps = sh(lab, "ps -eo pid=,args=").splitlines()
    pids = [line.split(None, 1)[0] for line in ps if line.split(None, 1)[1] == want]
    assert len(pids) == 1, ps  # (and one for [::] where the host can listen on IPv6)
    listen = sh(lab, "ss -Hltnp sport = :8080")
    assert f'users:(("docker-proxy",pid={pids[0]},' in listen, listen
    # localhost goes through the proxy: nginx sees the proxy's address, docker0's; the LAN
    # client goes through the DNAT and keeps its own.
    assert WELCOME in lab.host().exec("curl -sS -m 2 http://localhost:8080/").stdout
    assert WELCOME in curl_from_client(lab, f"http://{HOST_IP}:8080/").stdout
    deadline = time.monotonic() + 5
    while docker("logs web1").stdout.count('"GET / ') < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    seen = [x.split()[0] for x in docker("logs web1").stdout.splitlines() if '"GET / ' in x]
    assert seen == ["172.17.0.1", "192.168.56.100"], seen
    # The proxy goes with the container's ports.
    docker("stop -t 0 web1")
    assert not [x for x in sh(lab, "ps -eo args=").splitlines() if x.startswith("docker-proxy")]
    assert sh(lab, "ss -Hltn sport = :8080") == ""


def test_a_port_the_host_holds_fails_as_on_docker(make_lab: Callable[..., Lab]) -> None:
    lab = make_lab(firewall_backend="iptables")
    use(lab)
    holder = subprocess.Popen(
        ["ip", "netns", "exec", lab.host().ns, "busybox", "nc", "-l", "-p", "8080"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 5
        while ":8080" not in sh(lab, "ss -Hltn") and time.monotonic() < deadline:
            time.sleep(0.02)
        out = docker("run -d --name web1 -p 8080:80 nginx")
        assert out.code == 125, out
        assert re.search(
            r"driver failed programming external connectivity on endpoint web1 \([0-9a-f]{64}\): "
            r"failed to bind host port for 0\.0\.0\.0:8080:172\.17\.0\.2:80/tcp: address "
            r"already in use",
            out.stderr,
        ), out.stderr
        assert "Created" in docker("ps -a --format '{{.Status}}'").stdout
        assert "8080" not in sh(lab, "iptables-save")  # (nothing half-made)
    finally:
        holder.kill()
        holder.wait()


def test_docker_user_filters_published_ports_and_keeps_its_rules(ipt: Lab) -> None:
    docker("run -d --name web1 -p 8080:80 nginx")
    sh(ipt, "iptables -I DOCKER-USER -s 192.168.56.100 -j DROP")
    r = curl_from_client(ipt, f"http://{HOST_IP}:8080/")
    assert r.returncode == 28, r  # dropped in FORWARD, before Docker's ACCEPT
    assert WELCOME in ipt.host().exec("curl -sS -m 2 http://localhost:8080/").stdout
    # Docker never flushes DOCKER-USER: the rule outlives containers coming and going.
    docker("rm -f web1")
    docker("run -d --name web2 -p 8080:80 nginx")
    assert "-A DOCKER-USER -s 192.168.56.100/32 -j DROP" in sh(ipt, "iptables -S DOCKER-USER")
    sh(ipt, "iptables -D DOCKER-USER -s 192.168.56.100 -j DROP")
    assert WELCOME in curl_from_client(ipt, f"http://{HOST_IP}:8080/").stdout


def test_networks_are_isolated_and_explain_shows_iptables_commands(ipt: Lab) -> None:
    out = docker("--explain network create mynet")
    assert out.code == 0
    bridge = ipt.host().network("mynet").bridge
    want = (
        r"ip netns exec \S+ iptables -t nat -I POSTROUTING \d "
        rf"-s 172\.18\.0\.0/16 ! -o {bridge} -j MASQUERADE"
    )
    assert any(re.fullmatch(want, line) for line in out.explain), out.explain
    docker("run -d --name ca ubuntu sleep infinity")
    docker("run -d --name cb --network mynet ubuntu sleep infinity")
    assert docker("exec ca ping -c 1 -W 1 172.18.0.2").code != 0  # DOCKER-ISOLATION drops it
    assert docker("exec cb ping -c 1 -W 1 172.18.0.1").code == 0
    docker("rm -f ca cb")
    docker("network rm mynet")
    rules = sh(ipt, "iptables-save")
    assert "172.18.0.0/16" not in rules and "br-" not in rules


def test_packet_path_reads_docker_28s_chains_and_their_counters(ipt: Lab) -> None:
    docker("run -d --name web1 -p 8080:80 nginx")
    c = ipt.host().container("web1")
    before = {s.chain: s.packets for s in c.packet_path().steps}
    assert WELCOME in curl_from_client(ipt, f"http://{HOST_IP}:8080/").stdout
    path = c.packet_path()
    dnat = next(s for s in path.steps if s.hook == "DNAT")
    assert dnat.chain == "DOCKER (nat)" and dnat.rule.endswith("--to-destination 172.17.0.2:80")
    assert dnat.packets == before["DOCKER (nat)"] + 1  # (conntrack: only the first packet)
    accept = next(s for s in path.steps if s.chain == "DOCKER (filter)")
    assert accept.rule.endswith("--dport 80 -j ACCEPT") and accept.packets == 1
    assert "(no such rule)" not in str(path)
