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

import contextlib
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from netlab.kernel import userns

pytestmark = pytest.mark.root

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
VENV_BIN = os.path.dirname(sys.executable)


@dataclass
class User:
    name: str
    uid: int
    gid: int
    home: str
    mnt: str

    def run(self, *argv: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """``argv`` as this user, in the checkout (seen at ``mnt``), with netlab on PATH."""
        script = (
            'mount --bind "$1" "$2" && cd "$2" && shift 2 && '
            'exec setpriv --reuid="$1" --regid="$2" --clear-groups '
            'env HOME="$3" PATH="$4:/usr/sbin:/usr/bin:/sbin:/bin" "${@:5}"'
        )
        venv_bin = os.path.join(self.mnt, os.path.relpath(VENV_BIN, REPO))
        return subprocess.run(
            [
                *("unshare", "--mount", "--propagation", "private", "--", "bash", "-c", script),
                *("as-user", REPO, self.mnt, str(self.uid), str(self.gid), self.home, venv_bin),
                *argv,
            ],
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def netlab(self, *argv: str) -> subprocess.CompletedProcess[str]:
        return self.run("netlab", *argv)

    def holder(self) -> int | None:
        """The pid of the user's holder (from its socket, as netlab finds it), or None."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            try:
                s.connect(userns.socket_name(self.uid))
            except (ConnectionRefusedError, FileNotFoundError):
                return None
            raw = s.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
        pid, uid, _ = struct.unpack("3i", raw)
        return pid if uid == self.uid else None


def _processes_of(uid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError):
                if os.stat(f"/proc/{entry}").st_uid == uid:
                    with open(f"/proc/{entry}/stat") as f:
                        if f.read().rsplit(")", 1)[1].split()[0] != "Z":
                            out.append(int(entry))
    return out


def _wait(cond: object, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():  # type: ignore[operator]
            return True
        time.sleep(0.05)
    return bool(cond())  # type: ignore[operator]


@contextlib.contextmanager
def _user(tag: str) -> Iterator[User]:
    name = f"nl-{tag}-{os.getpid() % 100000}"
    subprocess.run(
        [
            "useradd",
            "--no-create-home",
            "--home-dir",
            "/nonexistent",
            "--shell",
            "/usr/sbin/nologin",
            name,
        ],
        check=True,
    )
    home = tempfile.mkdtemp(prefix=f"{name}-home-")
    mnt = tempfile.mkdtemp(prefix=f"{name}-repo-")
    user = None
    try:
        subprocess.run(["bash", os.path.join(REPO, "run.sh"), "subids", name], check=True)
        uid, gid = int(_id(name, "-u")), int(_id(name, "-g"))
        os.chown(home, uid, gid)
        user = User(name, uid, gid, home, mnt)
        yield user
    finally:
        if user is not None:
            with contextlib.suppress(subprocess.SubprocessError):
                user.netlab("clean", "--all")
            pid = user.holder()
            if pid is not None:  # (a test that failed badly: end it by its pid)
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, 15)
            _wait(lambda: not _processes_of(user.uid))
        subprocess.run(["userdel", name], check=False, capture_output=True)
        shutil.rmtree(home, ignore_errors=True)
        with contextlib.suppress(OSError):
            os.rmdir(mnt)


def _id(name: str, flag: str) -> str:
    return subprocess.run(["id", flag, name], capture_output=True, text=True, check=True).stdout


@pytest.fixture(scope="module")
def two_users() -> Iterator[tuple[User, User]]:
    if userns.inside():
        pytest.skip("already rootless: users are made by the machine's root")
    if shutil.which("setpriv") is None or shutil.which("useradd") is None:
        pytest.skip("needs setpriv and useradd")
    with _user("a") as a, _user("b") as b:
        yield a, b


def _listing(path: str) -> list[str]:
    try:
        return sorted(os.listdir(path))
    except FileNotFoundError:
        return []


def test_each_user_sees_and_changes_only_their_own_labs(two_users: tuple[User, User]) -> None:
    a, b = two_users
    machine = (_listing("/run/netns"), _listing("/etc/netns"), _listing("/run/netlab"))
    assert a.netlab("up", "alpha").returncode == 0
    assert b.netlab("up", "beta").returncode == 0
    # Same lab, same outputs as root mode; each user's own list.
    ls_a, ls_b = a.netlab("ls").stdout, b.netlab("ls").stdout
    assert ls_a.startswith("lab alpha: 4 namespaces\n") and "beta" not in ls_a, ls_a
    assert ls_b.startswith("lab beta: 4 namespaces\n") and "alpha" not in ls_b, ls_b
    assert sorted(a.netlab("shell", "--", "ip", "netns", "list").stdout.split()) == [
        "nl-alpha-client",
        "nl-alpha-host",
        "nl-alpha-inet",
        "nl-alpha-lan",
    ]
    # The other's lab does not exist for a user: not to exec in, not to take down.
    done = a.netlab("exec", "-L", "beta", "host", "--", "true")
    assert done.returncode == 1 and "beta" in done.stderr, done.stderr
    assert a.netlab("down", "beta").returncode == 1
    # `netlab clean --all` of one user leaves the other's labs alone.
    cleaned = a.netlab("clean", "--all")
    assert "cleaned alpha: 4 namespaces" in cleaned.stdout and "beta" not in cleaned.stdout
    assert "stopped your rootless netlab" in cleaned.stdout, cleaned.stdout
    assert _wait(lambda: not _processes_of(a.uid)), "a's lab processes outlived clean --all"
    assert b.netlab("exec", "host", "--", "hostname").stdout == "host\n"
    # The machine's own pins, /etc/netns and state never saw either lab.
    assert (_listing("/run/netns"), _listing("/etc/netns"), _listing("/run/netlab")) == machine
    assert b.netlab("down", "beta").returncode == 0


def test_a_user_cannot_enter_the_others_namespaces(two_users: tuple[User, User]) -> None:
    a, b = two_users
    assert b.netlab("up", "beta").returncode == 0
    try:
        pid = b.holder()
        assert pid is not None
        for flag in ("--user", "--net", "--mount"):
            done = a.run("nsenter", f"--target={pid}", flag, "true")
            refused = ("Permission denied", "Operation not permitted")
            assert done.returncode != 0 and any(r in done.stderr for r in refused), (
                flag,
                done.stderr,
            )
        # Nor can a reach b's state or namespace pins through /proc.
        done = a.run("ls", f"/proc/{pid}/root/run/netns")
        assert done.returncode != 0 and "Permission denied" in done.stderr, done.stderr
    finally:
        b.netlab("down", "beta")


def test_a_users_state_has_its_own_space(two_users: tuple[User, User]) -> None:
    """Filling one user's state (here by hand, as a chatty container's log could) leaves the
    other's untouched: each state tmpfs is the user's own, with its own limit."""
    a, b = two_users
    assert a.netlab("up", "alpha").returncode == 0
    assert b.netlab("up", "beta").returncode == 0
    try:
        fill = "head -c 200000000 /dev/zero > /run/netlab/alpha/filler; df -k /run/netlab"
        done = a.netlab("shell", "--", "sh", "-c", fill)
        assert "No space left on device" in done.stderr, done.stderr
        used_a = done.stdout.splitlines()[-1].split()
        assert used_a[3] == "0", done.stdout  # (available: none left in a's)
        done = b.netlab("shell", "--", "df", "-k", "/run/netlab")
        assert done.stdout.splitlines()[-1].split()[3] != "0", done.stdout
        assert b.netlab("exec", "host", "--", "true").returncode == 0
    finally:
        a.netlab("shell", "--", "rm", "-f", "/run/netlab/alpha/filler")
        a.netlab("down", "alpha")
        b.netlab("down", "beta")
