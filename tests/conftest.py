"""Shared fixtures: root-only tests, labs that always go away, and a guard on the machine.

Every test that builds kernel objects does so through the ``lab``/``make_lab`` fixtures, whose
finalizers remove the lab even when the test fails. The session guard records the machine's
own network namespace (links, addresses, routes, neighbours, nftables, the sysctls netlab
touches) before the suite and fails the run if anything differs afterwards.
"""

from __future__ import annotations

import itertools
import os
import subprocess
from collections.abc import Callable, Iterator

import pytest

IS_ROOT = os.geteuid() == 0


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if IS_ROOT:
        return
    skip = pytest.mark.skip(reason="needs root with CAP_NET_ADMIN and CAP_SYS_ADMIN")
    for item in items:
        if "root" in item.keywords:
            item.add_marker(skip)


def machine_snapshot() -> dict[str, str]:
    """What the machine's own network namespace looks like (compared before/after)."""

    def sh(cmd: str) -> str:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout

    return {
        "links": sh("ip -o link show | sed 's/ qlen [0-9]*//'"),
        "addrs": sh("ip -o addr show"),
        "routes": sh("ip route show table all"),
        "neigh": sh("ip neigh show nud permanent"),
        "nft": sh("nft list ruleset 2>/dev/null"),
        "sysctl": sh(
            "sysctl net.ipv4.ip_forward net.ipv6.conf.all.disable_ipv6 "
            "net.ipv6.conf.default.disable_ipv6 2>/dev/null"
        ),
    }


def netlab_leftovers() -> list[str]:
    """Names of namespaces, /etc/netns entries and state folders that netlab might leave."""
    left = []
    if os.path.isdir("/run/netns"):
        left += [f"/run/netns/{n}" for n in os.listdir("/run/netns") if n.startswith("nl-")]
    if os.path.isdir("/etc/netns"):
        left += [f"/etc/netns/{n}" for n in os.listdir("/etc/netns") if n.startswith("nl-")]
    if os.path.isdir("/run/netlab"):
        left += [f"/run/netlab/{n}" for n in os.listdir("/run/netlab")]
    return left


@pytest.fixture(scope="session", autouse=True)
def machine_untouched() -> Iterator[None]:
    """Fail the session if the machine's own namespace changed or netlab left anything."""
    if not IS_ROOT:
        yield
        return
    before = machine_snapshot()
    yield
    after = machine_snapshot()
    changed = {k: (before[k], after[k]) for k in before if before[k] != after[k]}
    assert not changed, f"the machine's own network namespace changed: {changed}"
    assert not netlab_leftovers(), f"netlab left objects behind: {netlab_leftovers()}"


_counter = itertools.count(1)


@pytest.fixture
def make_lab() -> Iterator[Callable[..., object]]:
    """Build labs with unique names (``t<pid>_<n>``); all are removed at the end, always."""
    from netlab import Lab
    from netlab.model.lab import wipe

    names: list[str] = []

    def make(*, hosts: tuple[str, ...] = ("host",), name: str | None = None) -> Lab:
        lab_name = name or f"t{os.getpid() % 100000}_{next(_counter)}"
        names.append(lab_name)
        return Lab(lab_name, hosts=hosts)

    yield make
    for n in names:
        wipe(n)


@pytest.fixture
def lab(make_lab: Callable[..., object]) -> object:
    """One lab with one Docker host named ``host``."""
    return make_lab()


def run(cmd: list[str] | str, **kw: object) -> subprocess.CompletedProcess[str]:
    """Run a command, capturing text output (for tests that check the real tools)."""
    return subprocess.run(cmd, shell=isinstance(cmd, str), capture_output=True, text=True, **kw)  # type: ignore[call-overload]
