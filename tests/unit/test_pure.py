"""Pure logic: identities, IPAM, Docker's table layout, times, firewall text, names rules.

None of these needs root; they run anywhere.
"""

from __future__ import annotations

import doctest
import ipaddress
import itertools
import os
import re
from pathlib import Path

import pytest

import netlab
from netlab import errors
from netlab.errors import InvalidArgument, NoSuchImage
from netlab.kernel import commands
from netlab.model import firewall, ids, images, ipam, logs, records, timefmt, topology
from netlab.model.drivers import peerdb
from netlab.views import tables


@pytest.mark.parametrize(
    "module", [ids, ipam, timefmt, firewall, tables, records, peerdb, errors, commands]
)
def test_doctests(module: object) -> None:
    result = doctest.testmod(module)  # type: ignore[arg-type]
    assert result.attempted > 0 and result.failed == 0


def test_public_names_are_exported() -> None:
    exported = {n for n in dir(netlab) if not n.startswith("_")} - {
        "annotations",
        "errors",
        "model",
        "kernel",
        "views",
        "cli",
        "docker",
        "notebook",
        "testing",  # the fake kernel's installer, once a test imported it
        "throwaway",  # throwaway users for the rootless proofs, once a test imported it
        "rootless",  # rootless mode's entry point (python -m netlab.rootless)
        "workcopy",  # `netlab labs`: a student's copy of the notebooks
        "load_ipython_extension",  # the IPython hook behind `%load_ext netlab`
    }
    assert exported == set(netlab.__all__) - {"__version__"}


def test_ids_are_stable_and_distinct() -> None:
    a = [ids.object_id("demo", "container", n) for n in range(1, 200)]
    assert len(set(a)) == len(a)
    assert a[0] == ids.object_id("demo", "container", 1)
    assert ids.object_id("other", "container", 1) != a[0]
    assert all(len(x) == 64 and int(x, 16) >= 0 for x in a)


def test_veth_names_are_dockers_shape() -> None:
    name = ids.veth_name(ids.object_id("demo", "endpoint", 1))
    # (moby v28.5.2 libnetwork/drivers/bridge/bridge_linux.go vethPrefix, vethLen = 4 + 7)
    assert name.startswith("veth") and len(name) == 11 and int(name[4:], 16) >= 0


def test_mac_rule_and_local_macs() -> None:
    # (moby v28.5.2 libnetwork/netutils/utils.go GenerateMACFromIP, which v28.5.2 uses for
    # overlay endpoints only: libnetwork/drivers/overlay/ov_endpoint.go; bridge_linux.go
    # and macvlan_endpoint.go take GenerateRandomMAC)
    assert ids.mac_from_ip("172.17.0.2") == "02:42:ac:11:00:02"
    assert ids.mac_from_ip("10.0.0.255") == "02:42:0a:00:00:ff"
    mac = ids.local_mac("demo", "docker0")
    first = int(mac.split(":")[0], 16)
    assert first & 0x02 and not first & 0x01, "locally administered unicast"
    assert mac == ids.local_mac("demo", "docker0") != ids.local_mac("demo", "lan0")


def test_default_pools_follow_dockers_order() -> None:
    pools = list(itertools.islice(ipam.default_pools(), 0, 20))
    # (moby v28.5.2 libnetwork/ipamutils/utils.go localScopeDefaultNetworks)
    assert [str(p) for p in pools[:5]] == [
        "172.17.0.0/16",
        "172.18.0.0/16",
        "172.19.0.0/16",
        "172.20.0.0/16",
        "172.21.0.0/16",
    ]
    allpools = list(ipam.default_pools())
    assert str(allpools[14]) == "172.31.0.0/16"
    assert str(allpools[15]) == "192.168.0.0/20"
    assert len(allpools) == 3 + 12 + 16


def test_next_pool_skips_overlaps() -> None:
    used = [ipaddress.IPv4Network("172.17.0.0/16"), ipaddress.IPv4Network("172.18.5.0/24")]
    assert str(ipam.next_pool(used)) == "172.19.0.0/16"
    # (moby v28.5.2 libnetwork/ipamapi/contract.go ErrNoMoreSubnets)
    with pytest.raises(
        ipam.IPAMError, match=r"^all predefined address pools have been fully subnetted$"
    ):
        ipam.next_pool([ipaddress.IPv4Network("0.0.0.0/0")])


def test_lowest_free_reuses_freed_and_exhausts() -> None:
    net = ipaddress.IPv4Network("10.1.0.0/30")  # hosts .1 and .2
    assert str(ipam.lowest_free(net, {"10.1.0.1"})) == "10.1.0.2"
    # (moby v28.5.2 libnetwork/endpoint.go assignAddressVersion)
    with pytest.raises(ipam.IPAMError, match="no available IPv4"):
        ipam.lowest_free(net, {"10.1.0.1", "10.1.0.2"})
    big = ipaddress.IPv4Network("172.17.0.0/16")
    assert str(ipam.lowest_free(big, {"172.17.0.1", "172.17.0.3"})) == "172.17.0.2"


@pytest.mark.parametrize(
    ("bad", "ip_range", "words"),
    [
        # (moby v28.5.2 api/types/network/ipam.go ValidateIPAM, validateIPRange)
        ("172.17.0.1/16", None, "invalid subnet 172.17.0.1/16: it should be 172.17.0.0/16"),
        ("notanet", None, "invalid subnet notanet: invalid CIDR block notation"),
        ("10.0.0.0", None, "invalid subnet 10.0.0.0: invalid CIDR block notation"),
        ("", None, "invalid subnet : invalid CIDR block notation"),
        ("10.1.0.0/16", "10.1.5.7/24", "invalid ip-range 10.1.5.7/24: it should be 10.1.5.0/24"),
        (
            "10.1.0.0/16",
            "10.0.0.0/8",
            "invalid ip-range 10.0.0.0/8: CIDR block is bigger than its parent subnet 10.1.0.0/16",
        ),
        # netlab's own limits
        ("fd00::/64", None, "netlab supports IPv4 subnets only"),
        ("10.0.0.0/31", None, "too small"),
    ],
)
def test_parse_subnet_rejects(bad: str, ip_range: str | None, words: str) -> None:
    with pytest.raises(ipam.IPAMError, match=re.escape(words)):
        ipam.parse_subnet(bad, ip_range)


def test_two_problems_are_listed_as_docker_lists_them() -> None:
    with pytest.raises(ipam.IPAMError) as err:
        ipam.parse_subnet("10.1.0.9/16", "10.1.5.7/24")
    # (moby v28.5.2 api/types/network/ipam.go ValidateIPAM, errJoin/joinError: "* " bullets)
    assert str(err.value) == (
        "invalid network config:\n* invalid subnet 10.1.0.9/16: it should be 10.1.0.0/16\n"
        "* invalid ip-range 10.1.5.7/24: it should be 10.1.5.0/24"
    )


def test_multicast_and_loopback_subnets_are_accepted_as_docker_28_accepts_them() -> None:
    """ValidateIPAM refuses no IPv4 block by kind (only validateIPv6Subnet refuses multicast,
    for IPv6): moby v28.5.2 api/types/network/ipam.go, drivers/bridge/bridge_linux.go."""
    assert str(ipam.parse_subnet("224.1.0.0/16")) == "224.1.0.0/16"
    assert str(ipam.parse_subnet("127.99.0.0/16")) == "127.99.0.0/16"


def test_table_layout_matches_docker_cli() -> None:
    out = tables.table(tables.PS_HEADERS, [])
    # (docker/cli v28.5.2 cli/command/formatter/container.go defaultContainerTableFormat,
    # custom.go headers, formatter.go tabwriter.NewWriter(out, 10, 1, 3, ' ', 0);
    # network/formatter.go defaultNetworkTableFormat)
    assert out == "CONTAINER ID   IMAGE     COMMAND   CREATED   STATUS    PORTS     NAMES"
    rows = [
        ["31616f46d165", "bridge", "bridge", "local"],
        ["edabda8e9816", "my_bridge", "bridge", "local"],
    ]
    lines = tables.table(tables.NETWORK_LS_HEADERS, rows).splitlines()
    assert lines[0] == "NETWORK ID     NAME        DRIVER    SCOPE"
    assert lines[2] == "edabda8e9816   my_bridge   bridge    local"
    assert not any(line.endswith(" ") for line in lines)


def test_command_column() -> None:
    # (docker/cli v28.5.2 cli/command/formatter/container.go ContainerContext.Command:
    # Ellipsis(command, 20), displayutils.go Ellipsis ends with "…")
    assert tables.ellipsis(tables.command_line("sleep", ["infinity"])) == "sleep infinity"
    cmd = tables.command_line("/docker-entrypoint.sh", ["nginx", "-g", "daemon off;"])
    assert cmd == "/docker-entrypoint.sh nginx -g 'daemon off;'"
    assert tables.ellipsis(cmd) == "/docker-entrypoint.…"


@pytest.mark.parametrize(
    ("secs", "text"),
    [
        (0.2, "Less than a second"),
        (1, "1 second"),
        (59, "59 seconds"),
        (60, "About a minute"),
        (150, "2 minutes"),
        (3600, "About an hour"),
        (7200, "2 hours"),
        (86400 * 3, "3 days"),
        (86400 * 20, "2 weeks"),
        (86400 * 90, "3 months"),
        (86400 * 800, "2 years"),
    ],
)
def test_human_duration(secs: float, text: str) -> None:
    # (docker/cli v28.5.2 vendor/github.com/docker/go-units/duration.go HumanDuration)
    assert timefmt.human_duration(secs) == text


def test_rfc3339_round_trip_and_trailing_zeros() -> None:
    # (Go time.Time MarshalJSON: time.RFC3339Nano, trailing zeros dropped)
    assert timefmt.rfc3339(1_700_000_000_500_000_000) == "2023-11-14T22:13:20.5Z"
    assert timefmt.rfc3339(1_700_000_000_000_000_000) == "2023-11-14T22:13:20Z"
    assert timefmt.parse_rfc3339("2023-11-14T22:13:20.5Z") == 1_700_000_000.5


def test_firewall_ruleset_has_dockers_chains() -> None:
    text = firewall.ruleset([firewall.Bridge("docker0", "172.17.0.0/16")])
    # (Docker 29, not in moby v28.5.2: moby docker-v29.0.0
    # daemon/libnetwork/drivers/bridge/internal/nftabler/nftabler.go, network.go)
    for chain in (
        "filter-FORWARD",
        "nat-PREROUTING",
        "nat-OUTPUT",
        "nat-POSTROUTING",
        "raw-PREROUTING",
        "filter-forward-in__docker0",
        "nat-postrouting-out__docker0",
    ):
        assert f"chain {chain} {{" in text
    assert 'elements = { "docker0" : jump filter-forward-in__docker0 }' in text
    assert text.startswith("table ip docker-bridges\ndelete table ip docker-bridges\n")
    assert "dnat" not in text, "no published port, no DNAT rule"


def test_firewall_rules_of_published_ports() -> None:
    from netlab.model.ports import PortMapping

    pub = (
        firewall.Published("172.17.0.2", PortMapping("0.0.0.0", 8080, 80, "tcp")),
        firewall.Published("172.17.0.3", PortMapping("127.0.0.1", 8081, 80, "tcp")),
        firewall.Published("172.17.0.3", PortMapping("0.0.0.0", 5353, 53, "udp")),
    )
    text = firewall.ruleset([firewall.Bridge("docker0", "172.17.0.0/16", pub)])
    chain = text.split("chain nat-prerouting-and-output {")[1].split("}")[0]
    # (Docker 29: moby docker-v29.0.0 daemon/libnetwork/drivers/bridge/internal/nftabler/
    # port.go setPerPortDNAT, filterPortMappedOnLoopback, setPerPortHairpinMasq)
    assert [ln.strip() for ln in chain.strip().splitlines()] == [
        'tcp dport 8080 counter dnat to 172.17.0.2:80 comment "DNAT"',
        'ip daddr 127.0.0.1 tcp dport 8081 counter dnat to 172.17.0.3:80 comment "DNAT"',
        'udp dport 5353 counter dnat to 172.17.0.3:53 comment "DNAT"',
    ]
    assert (
        'iifname != "lo" ip daddr 127.0.0.1 tcp dport 8081 counter drop comment '
        '"DROP REMOTE LOOPBACK"'
    ) in text
    assert text.count("ip daddr 172.17.0.3 tcp dport 80 counter accept") == 1
    assert "ip saddr 172.17.0.2 ip daddr 172.17.0.2 tcp dport 80 counter masquerade" in text


@pytest.mark.parametrize(
    ("spec", "want"),
    [
        ("8080:80", [("0.0.0.0", 8080, 80, "tcp")]),
        ("80", [("0.0.0.0", 0, 80, "tcp")]),
        ("127.0.0.1::80", [("127.0.0.1", 0, 80, "tcp")]),
        ("53:53/udp", [("0.0.0.0", 53, 53, "udp")]),
        ("8080-8081:80-81", [("0.0.0.0", 8080, 80, "tcp"), ("0.0.0.0", 8081, 81, "tcp")]),
        # A host range for one container port: the first free port of it (Docker accepts it).
        ("9085-9087:80", [("0.0.0.0", 9085, 80, "tcp", 9087)]),
    ],
)
def test_parse_publish(
    spec: str, want: list[tuple[str, int, int, str] | tuple[str, int, int, str, int]]
) -> None:
    from netlab.model.ports import PortMapping, parse_publish

    assert parse_publish(spec) == [PortMapping(*w) for w in want]


@pytest.mark.parametrize(
    ("spec", "error"),
    [
        ("8080:65536", "invalid containerPort"),
        ("x", "invalid"),
        ("8080:80/icmp", "invalid proto"),
        ("8080-8082:80-81", "invalid ranges"),
        ("::1:8080:80", "IPv4 only"),
        ("300.1.1.1:80:80", "invalid IP address"),
        ("8080:", "no port specified: 8080:<empty>"),
    ],
)
def test_parse_publish_refuses(spec: str, error: str) -> None:
    # (docker/cli v28.5.2 vendor/github.com/docker/go-connections/nat/nat.go ParsePortSpec;
    # "IPv4 only" is netlab's own limit. "0:80" is accepted: any free port, as "80")
    from netlab.model.ports import parse_publish

    with pytest.raises(InvalidArgument, match=error):
        parse_publish(spec)


def test_a_host_range_takes_its_first_free_port() -> None:
    from netlab.errors import Conflict
    from netlab.model.ports import allocate, parse_publish

    taken = parse_publish("9085:80") + parse_publish("9086:81")
    (got,) = allocate(parse_publish("9085-9087:80"), taken, "web (x)")
    assert (got.host_port, got.host_last) == (9087, 0)
    # (moby v28.5.2 libnetwork/portallocator/portallocator.go ErrAllPortsAllocated)
    with pytest.raises(
        Conflict, match=r"connectivity on endpoint web \(x\): all ports are allocated$"
    ):
        allocate(parse_publish("9085-9086:80"), taken, "web (x)")


def test_allocate_ephemeral_and_conflicts() -> None:
    from netlab.errors import Conflict
    from netlab.model.ports import PortMapping, allocate, ps_column

    taken = [PortMapping("0.0.0.0", 32768, 80, "tcp"), PortMapping("127.0.0.1", 8081, 80, "tcp")]
    got = allocate(
        [PortMapping("0.0.0.0", 0, 80, "tcp"), PortMapping("0.0.0.0", 0, 80, "udp")], taken
    )
    assert [m.host_port for m in got] == [32769, 32768]
    # (moby v28.5.2 libnetwork/portallocator/portallocator.go alreadyAllocatedErr)
    with pytest.raises(Conflict, match=r"Bind for 0\.0\.0\.0:8081 failed: port is already"):
        allocate([PortMapping("0.0.0.0", 8081, 80, "tcp")], taken, "web")
    assert allocate([PortMapping("127.0.0.2", 8081, 80, "tcp")], taken)  # other IP: fine
    # (docker/cli v28.5.2 cli/command/formatter/container.go DisplayablePorts)
    assert ps_column(taken, ["80/tcp", "443/tcp"]) == (
        "443/tcp, 0.0.0.0:32768->80/tcp, 127.0.0.1:8081->80/tcp"
    )


@pytest.mark.parametrize("name", ["demo", "lab_1", "a", "x" * 20])
def test_lab_names_accepted(name: str) -> None:
    assert topology.check_lab_name(name) == name


@pytest.mark.parametrize(
    "name", ["", "Demo", "my-lab", "_x", "x" * 21, "é", "a/b", "a b", "zqnl\n", "zq\tx"]
)
def test_lab_names_refused(name: str) -> None:
    with pytest.raises(InvalidArgument, match="invalid lab name"):
        topology.check_lab_name(name)


@pytest.mark.parametrize(
    "name", ["lan", "inet", "Node1", "1node", "averyveryverylong", "a-b", "node1\n", "abcdef012345"]
)
def test_host_names_refused(name: str) -> None:
    with pytest.raises(InvalidArgument, match="invalid host name"):
        topology.check_host_name(name)


def test_namespace_names_round_trip() -> None:
    ns = topology.ns_name("demo", "node1")
    assert ns == "nl-demo-node1"
    assert topology.lab_of_ns(ns) == "demo"
    assert topology.lab_of_ns("nl-demo-6dd93d6cdc80") == "demo"
    assert topology.lab_of_ns("other") is None
    assert topology.lab_of_ns("nl-Bad-x") is None
    assert len(topology.lan_port("abcdefghijkl")) <= 15


def test_images() -> None:
    assert images.lookup("nginx").ref == "nginx:latest"
    assert images.lookup("library/ubuntu:latest").name == "ubuntu"
    # (docker/cli v28.5.2 cli/command/container/create.go createContainer)
    with pytest.raises(NoSuchImage, match="Unable to find image 'mysql:latest' locally"):
        images.lookup("mysql")
    with pytest.raises(NoSuchImage, match=r"ubuntu:22\.04"):
        images.lookup("ubuntu:22.04")
    nginx = images.lookup("nginx")
    assert nginx.display_command(()) == ("/docker-entrypoint.sh", "nginx", "-g", "daemon off;")
    assert images.lookup("ubuntu").real_argv(("sleep", "infinity")) == ["sleep", "infinity"]
    assert images.image_files("ubuntu", "/nonexistent") == {}


def test_the_nginx_image_is_the_machines_nginx_with_the_official_images_files(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(images, "nginx_program", lambda: "/usr/sbin/nginx")
    nginx = images.lookup("nginx")
    real = nginx.real_argv(())
    assert real == ["nginx", "-g", "daemon off;"] and images.serves_http(real)
    assert nginx.real_argv(("nginx", "-v")) == ["nginx", "-v"]
    binds = images.image_files("nginx:latest", str(tmp_path))
    assert binds["/etc/nginx/nginx.conf"] == f"{tmp_path}/nginx.conf"
    assert binds["/etc/nginx/conf.d"] == f"{tmp_path}/conf.d"
    assert binds["/var/log/nginx"] == f"{tmp_path}/log"
    assert binds[images.html_dir()] == f"{tmp_path}/html"
    assert os.readlink(tmp_path / "log" / "access.log") == "/dev/stdout"
    assert os.readlink(tmp_path / "log" / "error.log") == "/dev/stderr"
    conf = (tmp_path / "nginx.conf").read_text()
    assert "access_log  /var/log/nginx/access.log  main;" in conf
    assert "include /etc/nginx/conf.d/*.conf;" in conf
    assert "listen  [::]:80;" in (tmp_path / "conf.d" / "default.conf").read_text()
    assert "Welcome to nginx!" in (tmp_path / "html" / "index.html").read_text()
    assert (tmp_path / "html").stat().st_mode & 0o005 == 0o005  # (workers: www-data)
    images.write_nginx(str(tmp_path))  # (again: it writes over its files)


def test_without_nginx_the_nginx_image_runs_busybox_httpd(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(images, "nginx_program", lambda: None)
    real = images.lookup("nginx").real_argv(())
    assert images.serves_http(real) and real[-1] == images.html_dir()
    assert "busybox httpd -f -p 80" in real[2]
    assert images.image_files("nginx", str(tmp_path)) == {images.html_dir(): f"{tmp_path}/html"}
    assert "Welcome to nginx!" in (tmp_path / "html" / "index.html").read_text()


@pytest.mark.parametrize("name", ["web", "web-1", "a.b_c", "X9", "x" * 64])
def test_container_names(name: str) -> None:
    assert topology.check_container_name(name) == name


@pytest.mark.parametrize("name", ["-web", "we b", "a/b", "é", "", "a", "tn\n"])
def test_container_names_refused(name: str) -> None:
    # (moby v28.5.2 daemon/names.go reserveName, daemon/names/names.go RestrictedNameChars:
    # no length limit, so "x" * 64 is a name)
    with pytest.raises(InvalidArgument, match="Invalid container name"):
        topology.check_container_name(name)


@pytest.mark.parametrize("name", ["n", "my.net", "net_1", "N-2"])
def test_network_names(name: str) -> None:
    assert topology.check_network_name(name) == name


@pytest.mark.parametrize("name", ["", "-n", "a b", "net\n", "x" * 64])
def test_network_names_refused(name: str) -> None:
    # (netlab's own words and rule: moby v28.5.2 libnetwork/controller.go NewNetwork refuses
    # only an empty name, "invalid name: name is empty")
    with pytest.raises(InvalidArgument, match="invalid network name"):
        topology.check_network_name(name)


@pytest.mark.parametrize("name", ["web", "my_service", "web-1", "a", "x" * 63])
def test_swarm_names(name: str) -> None:
    assert topology.check_swarm_name(name) == name


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("bad name", "name must be valid as a DNS name component"),
        ("-s", "name must be valid as a DNS name component"),
        ("web.1", "name must be valid as a DNS name component"),
        ("web-", "name must be valid as a DNS name component"),
        ("svc\n", "name must be valid as a DNS name component"),
        ("x" * 64, "name must be 63 characters or fewer"),
        ("", "meta: name must be provided"),
    ],
)
def test_swarm_names_refused(name: str, error: str) -> None:
    # (moby v28.5.2 vendor/github.com/moby/swarmkit/v2/manager/controlapi/common.go
    # validateAnnotations)
    with pytest.raises(
        InvalidArgument, match=f"^rpc error: code = InvalidArgument desc = {error}$"
    ):
        topology.check_swarm_name(name)


def test_store_lists_containers_by_creation_order_and_sees_other_writers(
    tmp_path: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    from netlab.model import state

    monkeypatch.setattr(state, "ROOT", str(tmp_path))
    monkeypatch.setattr(state, "_mount_root", lambda: None)  # no tmpfs for a unit test
    from dataclasses import replace

    from netlab.model.records import ContainerRec, Endpoint, LabRec

    def rec(seq: int) -> ContainerRec:
        return ContainerRec(
            id=f"c{seq}", seq=seq, name=f"n{seq}", host="host", image="busybox",
            image_id="sha256:0", path="sh", args=(), created="", hostname="h",
            netns="nl-u1-x", own_netns=True, real_argv=("sh",),
            networks={"bridge": Endpoint("n1", ip="172.17.0.2")}, state="running",
        )  # fmt: skip

    mine, other = state.Store("u1"), state.Store("u1")
    mine.create(LabRec("u1", ""))
    with mine.locked():
        for seq in (2, 1, 3):
            mine.save(container=rec(seq))
    assert list(mine.containers()) == ["c1", "c2", "c3"]
    with other.locked():  # another process: it reloads, then its writes reach us
        other.save(container=rec(0))
        other.save(container=replace(other.containers()["c2"], state="exited"))
        other.drop_container("c3")
    assert list(mine.containers()) == ["c0", "c1", "c2"]
    assert mine.containers()["c2"].state == "exited"
    assert mine.containers()["c1"] == rec(1)  # typed records survive their JSON


# --- log options (Docker's json-file driver) --------------------------------------------


@pytest.mark.parametrize(
    ("text", "size"),
    [("10m", 10_000_000), ("1k", 1000), ("1KB", 1000), ("1kib", 1000), ("5", 5),
     ("2.5m", 2_500_000), ("10 m", 10_000_000), ("1g", 10**9), ("7b", 7)],
)  # fmt: skip
def test_sizes_are_read_as_dockers_from_human_size(text: str, size: int) -> None:
    # (moby v28.5.2 daemon/logger/jsonfilelog/jsonfilelog.go New: units.FromHumanSize,
    # vendor/github.com/docker/go-units/size.go parseSize)
    assert logs.from_human_size(text) == size


@pytest.mark.parametrize(
    ("opts", "error"),
    [
        ({"max-size": "abc"}, "invalid size: 'abc'"),
        ({"max-size": "-1"}, "invalid size: '-1'"),
        ({"max-size": "1x"}, "invalid suffix: 'x'"),
        ({"max-size": "0"}, "max-size must be a positive number"),
        ({"max-file": "0"}, "max-file cannot be less than 1"),
        ({"max-file": "x"}, 'strconv.Atoi: parsing "x": invalid syntax'),
        ({"tagz": "x"}, "unknown log opt 'tagz' for json-file log driver"),
        ({"compress": "true"}, "compress cannot be true when max-file is less than 2"),
    ],
)
def test_bad_log_opts_get_dockers_words(opts: dict[str, str], error: str) -> None:
    # (moby v28.5.2 daemon/logger/jsonfilelog/jsonfilelog.go New, ValidateLogOpt;
    # go-units size.go parseSize; Go strconv.Atoi)
    with pytest.raises(InvalidArgument, match=error.replace("(", r"\(")):
        logs.limits(opts)


def test_log_limits_follow_dockers_defaults_under_netlabs_cap() -> None:
    assert logs.limits({}) == logs.Limits(logs.DEFAULT_MAX_SIZE, logs.DEFAULT_MAX_FILE)
    # (moby v28.5.2 daemon/logger/jsonfilelog/jsonfilelog.go New: maxFiles := 1)
    assert logs.limits({"max-size": "1m"}) == logs.Limits(1_000_000, 1)  # (Docker: 1 file)
    assert logs.limits({"max-size": "1m", "max-file": "3"}) == logs.Limits(1_000_000, 3)
    assert logs.parse_opts(["max-size=1m", "novalue"]) == {"max-size": "1m", "novalue": ""}
