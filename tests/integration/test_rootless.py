"""Rootless mode, seen from outside: two throwaway Unix users, each with labs of their own.

What the kernel must guarantee (and these tests check with the real tools): a user sees and
changes only their own labs (``netlab ls``, ``ip netns list``, ``netlab exec``, ``netlab clean
--all``), cannot enter the other's namespaces even knowing their pids, and fills only their
own state's space; the machine's own network namespace, /run/netns and /etc/netns stay as they
were; ``netlab clean --all`` ends every process of the user's rootless netlab.

The users exist only for this module (``useradd``, with subordinate ids), and are removed
with their processes (by pid) even when a test fails. The checkout is shown to them through a
bind mount in a private mount namespace, so it may live in a folder only root can read.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator

import pytest

from netlab import throwaway
from netlab.kernel import userns

pytestmark = pytest.mark.root

Pair = tuple[throwaway.User, throwaway.User]


@pytest.fixture(scope="module")
def two_users() -> Iterator[Pair]:
    if userns.inside():
        pytest.skip("already rootless: users are made by the machine's root")
    if shutil.which("setpriv") is None or shutil.which("useradd") is None:
        pytest.skip("needs setpriv and useradd")
    if masked := userns.proc_masked():
        pytest.skip(masked)
    tag = os.getpid() % 100000
    made = []
    try:
        made.append(throwaway.add(f"nl-a-{tag}"))
        made.append(throwaway.add(f"nl-b-{tag}"))
        yield made[0], made[1]
    finally:
        for user in made:
            throwaway.remove(user)


def netlab(user: throwaway.User, *argv: str) -> subprocess.CompletedProcess[str]:
    return throwaway.run_as(user, ["netlab", *argv])


def _listing(path: str) -> list[str]:
    try:
        return sorted(os.listdir(path))
    except FileNotFoundError:
        return []


def test_each_user_sees_and_changes_only_their_own_labs(two_users: Pair) -> None:
    a, b = two_users
    machine = (_listing("/run/netns"), _listing("/etc/netns"), _listing("/run/netlab"))
    assert netlab(a, "up", "alpha").returncode == 0
    assert netlab(b, "up", "beta").returncode == 0
    # Same lab, same outputs as root mode; each user's own list.
    ls_a, ls_b = netlab(a, "ls").stdout, netlab(b, "ls").stdout
    assert ls_a.startswith("lab alpha: 4 namespaces\n") and "beta" not in ls_a, ls_a
    assert ls_b.startswith("lab beta: 4 namespaces\n") and "alpha" not in ls_b, ls_b
    assert sorted(netlab(a, "shell", "--", "ip", "netns", "list").stdout.split()) == [
        "nl-alpha-client",
        "nl-alpha-host",
        "nl-alpha-inet",
        "nl-alpha-lan",
    ]
    # The other's lab does not exist for a user: not to exec in, not to take down.
    done = netlab(a, "exec", "-L", "beta", "host", "--", "true")
    assert done.returncode == 1 and "beta" in done.stderr, done.stderr
    assert netlab(a, "down", "beta").returncode == 1
    # `netlab clean --all` of one user leaves the other's labs alone.
    cleaned = netlab(a, "clean", "--all")
    assert "cleaned alpha: 4 namespaces" in cleaned.stdout and "beta" not in cleaned.stdout
    assert "stopped your rootless netlab" in cleaned.stdout, cleaned.stdout
    assert throwaway.wait_gone(a.uid), "a's lab processes outlived clean --all"
    assert netlab(b, "exec", "host", "--", "hostname").stdout == "host\n"
    # The machine's own pins, /etc/netns and state never saw either lab.
    assert (_listing("/run/netns"), _listing("/etc/netns"), _listing("/run/netlab")) == machine
    assert netlab(b, "down", "beta").returncode == 0


def test_a_user_cannot_enter_the_others_namespaces(two_users: Pair) -> None:
    a, b = two_users
    assert netlab(b, "up", "beta").returncode == 0
    try:
        pid = throwaway.holder_of(b)
        assert pid is not None
        for flag in ("--user", "--net", "--mount"):
            done = throwaway.run_as(a, ["nsenter", f"--target={pid}", flag, "true"])
            refused = ("Permission denied", "Operation not permitted")
            assert done.returncode != 0 and any(r in done.stderr for r in refused), (
                flag,
                done.stderr,
            )
        # Nor can a reach b's state or namespace pins through /proc.
        done = throwaway.run_as(a, ["ls", f"/proc/{pid}/root/run/netns"])
        assert done.returncode != 0 and "Permission denied" in done.stderr, done.stderr
    finally:
        netlab(b, "down", "beta")


def test_a_users_state_has_its_own_space(two_users: Pair) -> None:
    """Filling one user's state (here by hand, as a chatty container's log could) leaves the
    other's untouched: each state tmpfs is the user's own, with its own limit."""
    a, b = two_users
    assert netlab(a, "up", "alpha").returncode == 0
    assert netlab(b, "up", "beta").returncode == 0
    try:
        fill = "head -c 200000000 /dev/zero > /run/netlab/alpha/filler; df -k /run/netlab"
        done = netlab(a, "shell", "--", "sh", "-c", fill)
        assert "No space left on device" in done.stderr, done.stderr
        used_a = done.stdout.splitlines()[-1].split()
        assert used_a[3] == "0", done.stdout  # (available: none left in a's)
        done = netlab(b, "shell", "--", "df", "-k", "/run/netlab")
        assert done.stdout.splitlines()[-1].split()[3] != "0", done.stdout
        assert netlab(b, "exec", "host", "--", "true").returncode == 0
    finally:
        netlab(a, "shell", "--", "rm", "-f", "/run/netlab/alpha/filler")
        netlab(a, "down", "alpha")
        netlab(b, "down", "beta")
