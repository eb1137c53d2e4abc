"""Checks around the whole run, tests and notebooks alike.

The session guard records the machine's own network namespace (links, addresses, routes,
permanent neighbours, nftables ruleset, the sysctls netlab touches) before anything runs and
fails the run if anything differs afterwards, or if netlab left a namespace, an /etc/netns
entry, a state folder or its tmpfs behind (after the test suite *and* the lab notebooks).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator

import pytest

IS_ROOT = os.geteuid() == 0


def machine_snapshot() -> dict[str, str]:
    """What the machine's own network namespace looks like (compared before/after)."""

    def sh(cmd: str) -> str:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout

    return {
        "links": sh("ip -o link show | sed 's/ qlen [0-9]*//'"),
        "addrs": sh("ip -o addr show"),
        "routes": sh("ip route show table all"),
        "neigh": sh("ip neigh show nud permanent"),
        # (netlab makes /run/docker/netns for the Docker hosts' view and removes it again)
        "run-docker": sh("ls -d /run/docker /run/docker/netns 2>/dev/null"),
        "nft": sh("nft list ruleset 2>/dev/null"),
        "sysctl": sh(
            "sysctl net.ipv4.ip_forward net.ipv6.conf.all.disable_ipv6 "
            "net.ipv6.conf.default.disable_ipv6 2>/dev/null"
        ),
    }


def _ours(pid: str) -> bool:
    """True for a process of this user namespace: another user's rootless netlab (in a user
    namespace of its own) is not this run's to judge."""
    try:
        return os.stat(f"/proc/{pid}/ns/user").st_ino == os.stat("/proc/self/ns/user").st_ino
    except OSError:
        return False


def netlab_leftovers() -> list[str]:
    """Names of namespaces, /etc/netns entries and state folders that netlab might leave."""
    left = []
    if os.path.isdir("/run/netns"):
        left += [f"/run/netns/{n}" for n in os.listdir("/run/netns") if n.startswith("nl-")]
    if os.path.isdir("/etc/netns"):
        left += [f"/etc/netns/{n}" for n in os.listdir("/etc/netns") if n.startswith("nl-")]
    if os.path.isdir("/run/netlab"):
        left += [f"/run/netlab/{n}" for n in os.listdir("/run/netlab")]
    if os.path.ismount("/run/netlab"):
        left.append("the tmpfs on /run/netlab")
    with open("/proc/self/mountinfo") as f:  # a namespace pinned but no longer listed
        rows = f.read().splitlines()
    left += [line.split()[4] for line in rows if "/run/netns/nl-" in line]
    left += [line.split()[4] for line in rows if " - tmpfs netlab" in line]  # (state, logs)
    # A container's init is a shell whose $0 is "netlab-init" (detection only: netlab never
    # finds processes to kill by name; it kills by pid).
    for entry in os.listdir("/proc"):
        if entry.isdigit() and _ours(entry):
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    argv = f.read().split(b"\0")
            except OSError:
                continue
            if b"netlab-init" in argv:
                left.append(f"process {entry}: {b' '.join(argv).decode(errors='replace')}")
    return left


@pytest.fixture(scope="session", autouse=True)
def machine_untouched() -> Iterator[None]:
    """Fail the session if the machine's own namespace changed or netlab left anything."""
    if not IS_ROOT:
        yield
        return
    before = machine_snapshot()
    elsewhere = processes_in_other_namespaces()
    yield
    after = machine_snapshot()
    changed = {k: (before[k], after[k]) for k in before if before[k] != after[k]}
    assert not changed, f"the machine's own network namespace changed: {changed}"
    assert not netlab_leftovers(), f"netlab left objects behind: {netlab_leftovers()}"
    new = {p: argv for p, argv in processes_in_other_namespaces().items() if p not in elsewhere}
    assert not new, f"processes outside the machine's network namespace were left: {new}"


def processes_in_other_namespaces() -> dict[tuple[int, str], str]:
    """Processes whose network namespace is not the machine's (pid 1's), by (pid, start
    time): any the suite started there (a container's command, an orphaned child of one, in
    a namespace pinned or not) must be gone at the end."""
    try:
        machine = os.stat("/proc/1/ns/net").st_ino
    except OSError:
        return {}
    out = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or not _ours(entry):
            continue
        try:
            if os.stat(f"/proc/{entry}/ns/net").st_ino == machine:
                continue
            with open(f"/proc/{entry}/stat") as f:
                started = f.read().rsplit(")", 1)[1].split()[19]
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                argv = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
        except (OSError, IndexError):
            continue
        out[(int(entry), started)] = argv
    return out
