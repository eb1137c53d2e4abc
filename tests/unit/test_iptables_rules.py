"""Docker 28's iptables rules (the default firewall backend), checked against the listings
moby captured from a running Docker 28.5.2 daemon (tests/fixtures/docker28-iptables.json says
where each comes from), and the edits that bring a namespace's rules there."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from netlab.model.firewall import Bridge, Published
from netlab.model.iptables_rules import Endpoint, listing, owned_rules, plan, restore_text, wanted
from netlab.model.ports import PortMapping

FIXTURE = json.loads(
    (Path(__file__).parent.parent / "fixtures" / "docker28-iptables.json").read_text()
)
DOCKER0 = Bridge("docker0", "172.17.0.0/16")
C1 = "192.0.2.2"


def port(host_ip: str = "0.0.0.0") -> tuple[Published, ...]:
    return (Published(C1, PortMapping(host_ip, 8080, 80, "tcp")),)


# Each scenario of moby's iptablesdoc, as netlab's inputs: the networks (docker0 first, then
# as created), the running containers' addresses, and userland-proxy.
SCENARIOS = {
    "new-daemon": ([DOCKER0], [], True),
    "usernet-portmap": (
        [DOCKER0, Bridge("bridge1", "192.0.2.0/24", port())],
        [Endpoint("bridge1", C1)],
        True,
    ),
    "usernet-portmap-noproxy": (
        [DOCKER0, Bridge("bridge1", "192.0.2.0/24", port())],
        [Endpoint("bridge1", C1)],
        False,
    ),
    "usernet-portmap-noicc": (
        [DOCKER0, Bridge("bridge1", "192.0.2.0/24", port(), icc=False)],
        [Endpoint("bridge1", C1)],
        True,
    ),
    "usernet-portmap-lo": (
        [DOCKER0, Bridge("bridge1", "192.0.2.0/24", port("127.0.0.1"))],
        [Endpoint("bridge1", C1)],
        True,
    ),
    "usernet-internal": (
        [
            DOCKER0,
            Bridge("bridgeICC", "192.0.2.0/24", internal=True),
            Bridge("bridgeNoICC", "198.51.100.0/24", icc=False, internal=True),
        ],
        [Endpoint("bridgeICC", C1), Endpoint("bridgeNoICC", "198.51.100.2")],
        True,
    ),
}


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_the_rules_are_docker_28s_line_for_line(scenario: str) -> None:
    bridges, endpoints, proxy = SCENARIOS[scenario]
    rules = wanted(bridges, endpoints, userland_proxy=proxy)
    docker = FIXTURE["scenarios"][scenario]["tables"]
    assert {"filter", "nat"} <= set(docker)  # (some pages leave out the raw table)
    for table in docker:
        assert listing(rules, table) == docker[table], (scenario, table)


def test_a_new_host_gets_its_chains_and_forward_drop_in_one_restore() -> None:
    rules = wanted([DOCKER0], [], userland_proxy=False)
    lines, commands = plan("", rules)
    assert list(lines) == ["filter", "nat"]  # (raw: no rule yet)
    assert lines["filter"][0] == ":FORWARD DROP [0:0]"
    assert "-N DOCKER-USER" in lines["filter"] and "-N DOCKER" in lines["nat"]
    assert commands[0] == "iptables -t filter -P FORWARD DROP"
    assert "iptables -t nat -A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE" in commands
    text = restore_text(lines)
    assert text.startswith("*filter\n:FORWARD DROP [0:0]\n") and text.endswith("COMMIT\n")


def save_of(rules: dict[tuple[str, str], list[str]], extra: dict[str, list[str]]) -> str:
    """What iptables-save would print for ``rules`` plus the user's own ``extra`` lines."""
    out = []
    for table in ("raw", "filter", "nat"):
        body = listing(rules, table) + extra.get(table, [])
        if not body:
            continue
        chains = [x.split()[1] for x in body if x.startswith("-N ")]
        out.append(f"*{table}")
        out += [f":{c} - [0:0]" for c in chains]
        out += [x for x in body if x.startswith("-A ")]
        out.append("COMMIT")
    return "\n".join(out) + "\n"


def test_changes_touch_only_dockers_rules_and_keep_the_users() -> None:
    before = wanted([DOCKER0], [], userland_proxy=False)
    # The user's rules: one in DOCKER-USER, one in nat POSTROUTING (between Docker's).
    mine = {"filter": ["-A DOCKER-USER -s 192.168.56.100/32 -j DROP"],
            "nat": ["-A POSTROUTING -s 10.9.9.0/24 -j MASQUERADE"]}  # fmt: skip
    saved = save_of(before, mine)
    web = Bridge(
        "docker0",
        "172.17.0.0/16",
        (Published("172.17.0.2", PortMapping("0.0.0.0", 8080, 80, "tcp")),),
    )
    after = wanted([web], [Endpoint("docker0", "172.17.0.2")], userland_proxy=False)
    lines, commands = plan(saved, after, owned_rules(before))
    assert "-N DOCKER-USER" not in lines["filter"] and not any(
        "DOCKER-USER" in x for x in lines["filter"]
    )
    assert not any("10.9.9.0/24" in x for x in lines["nat"])
    assert commands == [
        "iptables -t raw -A PREROUTING -d 172.17.0.2/32 ! -i docker0 -j DROP",
        "iptables -t filter -I DOCKER 1 -d 172.17.0.2/32 ! -i docker0 -o docker0 -p tcp -m tcp "
        "--dport 80 -j ACCEPT",
        "iptables -t nat -A POSTROUTING -s 172.17.0.2/32 -d 172.17.0.2/32 -p tcp -m tcp --dport 80 "
        "-j MASQUERADE",
        "iptables -t nat -A DOCKER -p tcp -m tcp --dport 8080 -j DNAT "
        "--to-destination 172.17.0.2:80",
    ]
    # And back: the container's rules go, nothing else.
    lines, commands = plan(save_of(after, mine), before, owned_rules(after))
    assert [c.split(" ", 4)[3] for c in commands] == ["-D"] * 4
    assert not any("DOCKER-USER" in c or "10.9.9.0" in c for c in commands)


def test_a_rule_inserted_among_the_users_goes_above_dockers_next() -> None:
    one = wanted([DOCKER0], [], userland_proxy=True)
    two = wanted([DOCKER0, Bridge("br-1", "172.18.0.0/16")], [], userland_proxy=True)
    saved = save_of(one, {"nat": ["-A POSTROUTING -s 10.9.9.0/24 -j MASQUERADE"]})
    _, commands = plan(saved, two, owned_rules(one))
    # Docker inserts a new network's MASQUERADE at the top of POSTROUTING.
    assert "iptables -t nat -I POSTROUTING 1 -s 172.18.0.0/16 ! -o br-1 -j MASQUERADE" in commands
    assert "iptables -t nat -I DOCKER 1 -i br-1 -j RETURN" in commands


def test_nothing_to_do_is_no_restore() -> None:
    rules = wanted([DOCKER0], [Endpoint("docker0", "172.17.0.2")], userland_proxy=True)
    assert plan(save_of(rules, {}), rules, owned_rules(rules)) == ({}, [])
