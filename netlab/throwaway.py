"""Throwaway Unix users, for the proofs of rootless mode (tests, the class benchmark, the hub
test): made by root, given subordinate ids, and removed again with everything they ran.

A user sees the checkout through a bind mount in a private mount namespace (:func:`argv_as`),
so the checkout may live in a folder only root can read (``/root/netlab``); nothing of that
mount is seen outside. Removing a user (:func:`remove`) stops the user's rootless netlab the
way the user would (``netlab clean --all``), then, if it is still there, its holder by pid
(found through its socket, never by name), waits for the user's last process, and deletes
the user, its home and its mount point.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import struct
import subprocess
import sysconfig
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from netlab.kernel import userns

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GONE_TIMEOUT = 10.0  # seconds for a stopped user's processes to end


@dataclass(frozen=True)
class User:
    """A throwaway user: name, ids, a home of its own, where it sees the checkout."""

    name: str
    uid: int
    gid: int
    home: str
    mnt: str


def add(name: str, *, login: bool = False) -> User:
    """Make the user, with 65536 subordinate ids (``run.sh subids``) and a fresh home folder
    of its own. With ``login``, the home and a shell are the user's in the passwd file, as a
    JupyterHub (PAM, its spawners) needs; otherwise the user has neither there."""
    home = tempfile.mkdtemp(prefix=f"{name}-home-")
    passwd_home, shell = (home, "/bin/bash") if login else ("/nonexistent", "/usr/sbin/nologin")
    try:
        subprocess.run(
            ["useradd", "--no-create-home", "--home-dir", passwd_home, "--shell", shell, name],
            check=True,
            capture_output=True,
        )
    except BaseException:
        os.rmdir(home)
        raise
    mnt = ""
    try:
        subprocess.run(
            ["bash", os.path.join(REPO, "run.sh"), "subids", name], check=True, capture_output=True
        )
        uid = int(_id(name, "-u"))
        gid = int(_id(name, "-g"))
        os.chown(home, uid, gid)
        mnt = tempfile.mkdtemp(prefix=f"{name}-repo-")
    except BaseException:
        _forget(name, home, mnt)
        raise
    return User(name, uid, gid, home, mnt)


def _id(name: str, flag: str) -> str:
    return subprocess.run(["id", flag, name], capture_output=True, text=True, check=True).stdout


def argv_as(user: User, argv: Sequence[str], env: Mapping[str, str] | None = None) -> list[str]:
    """A command line (for root to run) that runs ``argv`` as ``user``, in the checkout (seen
    at ``user.mnt``), with this Python's scripts (netlab, pytest...) first on PATH, HOME set,
    and ``env`` added."""
    extra = [f"{k}={v}" for k, v in (env or {}).items()]
    script = (
        'mount --bind "$1" "$2" && cd "$2" && shift 2 && '
        'exec setpriv --reuid="$1" --regid="$2" --clear-groups '
        'env HOME="$3" USER="$4" LOGNAME="$4" PATH="$5:/usr/local/bin:/usr/bin:/bin" '
        '"${@:6}"'
    )
    return [
        *("unshare", "--mount", "--propagation", "private", "--", "bash", "-c", script),
        *("as-user", REPO, user.mnt, str(user.uid), str(user.gid), user.home, user.name),
        scripts_seen_by(user),
        *extra,
        *argv,
    ]


def scripts_seen_by(user: User) -> str:
    """The folder of this Python's scripts as ``user`` reaches it: in the checkout (a .venv),
    through the mount point (the checkout may sit in a folder private to root); elsewhere (an
    installed environment, the lab image's) as it is."""
    scripts = sysconfig.get_path("scripts")
    inside = os.path.relpath(scripts, REPO)
    if inside.split(os.sep)[0] == os.pardir:
        return scripts
    return os.path.join(user.mnt, inside)


def run_as(
    user: User, argv: Sequence[str], *, timeout: float = 120, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` as ``user`` (see :func:`argv_as`) and capture its output."""
    return subprocess.run(
        argv_as(user, argv, env), capture_output=True, text=True, timeout=timeout, check=False
    )


def holder_of(user: User) -> int | None:
    """The pid of the user's rootless holder (from its socket, as netlab finds it), or None."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        try:
            s.connect(userns.socket_name(user.uid))
        except (ConnectionRefusedError, FileNotFoundError):
            return None
        raw = s.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    pid, uid, _ = struct.unpack("3i", raw)
    return pid if uid == user.uid else None


def processes_of(uid: int) -> list[int]:
    """The live processes (not zombies) owned by ``uid``."""
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError, IndexError):
                if os.stat(f"/proc/{entry}").st_uid != uid:
                    continue
                with open(f"/proc/{entry}/stat") as f:
                    if f.read().rsplit(")", 1)[1].split()[0] != "Z":
                        out.append(int(entry))
    return out


def wait_gone(uid: int, timeout: float = GONE_TIMEOUT) -> bool:
    """Wait until ``uid`` has no live process; True if so."""
    deadline = time.monotonic() + timeout
    while processes_of(uid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def remove(user: User) -> None:
    """Stop the user's rootless netlab and every process in it, then delete the user."""
    with contextlib.suppress(subprocess.SubprocessError):
        run_as(user, ["netlab", "clean", "--all"], timeout=60)
    pid = holder_of(user)
    if pid is not None:  # (a run that went badly: end the holder by its pid)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    if not wait_gone(user.uid):  # (worse: what the user still runs, by pid)
        for pid in processes_of(user.uid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        wait_gone(user.uid)
    _forget(user.name, user.home, user.mnt)


def _forget(name: str, home: str, mnt: str) -> None:
    subprocess.run(["userdel", name], capture_output=True, check=False)
    if home:
        shutil.rmtree(home, ignore_errors=True)
    if mnt:
        with contextlib.suppress(OSError):
            os.rmdir(mnt)
