"""Real processes: run commands, find and stop processes by pid, read what they listen on.

How a container's (or a service's) first process is born in its namespaces, and how its
PID 1 is found again, is :mod:`netlab.kernel.containers`; this module is what any process
needs: liveness checked against a start time (a recycled pid is never mistaken for the
original), signals by pid and by process group, reaping, and commands run to completion.
"""

from __future__ import annotations

import array
import contextlib
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from netlab.kernel import _worker, netns


class Child(Protocol):
    """A child process of this one that must be reaped (``subprocess.Popen`` or a container's
    init started by :mod:`.containers`)."""

    pid: int

    def poll(self) -> int | None: ...

    def wait(self, timeout: float | None = None) -> int: ...


# Children started by this process, kept so that they are reaped (no zombies, no warnings).
_children: dict[int, Child] = {}


@dataclass(frozen=True)
class Result:
    """A finished command: what ``subprocess.run`` returns, typed and printable."""

    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        """True when the command exited with status 0."""
        return self.returncode == 0

    def __str__(self) -> str:
        return self.stdout + self.stderr


def start_time(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (``/proc/PID/stat`` field 22).

    Recorded with a pid so that a recycled pid is never mistaken for the original process.
    """
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[19])


def alive(pid: int, started: int | None = None) -> bool:
    """True while ``pid`` runs (not a zombie) and, if given, still has the same start time."""
    child = _children.get(pid)
    if child is not None and child.poll() is not None:
        del _children[pid]
        return False
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return False
    fields = stat.rsplit(")", 1)[1].split()
    if fields[0] in ("Z", "X"):
        return False
    return started is None or int(fields[19]) == started


def outliving(procs: Mapping[int, int | None], timeout: float) -> list[int]:
    """Wait up to ``timeout`` s for processes (pid -> start time) to end; return those that
    still run (a pid the kernel gave to a new process meanwhile does not count)."""
    deadline = time.monotonic() + timeout
    while True:
        left = [p for p, started in procs.items() if started and alive(p, started)]
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.01)


def hangup(pid: int, started: int | None, *, log_file: str, says: bytes, timeout: float) -> None:
    """SIGHUP a service (if it is still the process started then) and wait until its log
    file, which it writes to, gains a line containing ``says`` (or ``timeout`` passes)."""
    if not alive(pid, started):
        return
    try:
        offset = os.path.getsize(log_file)
    except OSError:
        offset = 0
    os.kill(pid, signal.SIGHUP)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), open(log_file, "rb") as f:
            f.seek(offset)
            if says in f.read():
                return
        time.sleep(0.001)


def start_detached(argv: Sequence[str]) -> int:
    """Start a command that nobody waits for (``docker exec -d``); it is reaped if it ends."""
    child = subprocess.Popen(
        list(argv),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        env=default_env(),
    )
    _children[child.pid] = child
    return child.pid


def default_env() -> dict[str, str]:
    """The environment of container processes: what Docker's images usually set."""
    return _default_env()


def _default_env() -> dict[str, str]:
    return {
        "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "HOME": "/root",
        "TERM": "xterm",
    }


def kill_group(pid: int, started: int | None = None, sig: int = signal.SIGKILL) -> None:
    """Send ``sig`` to the process group led by ``pid`` (if it still is that process)."""
    if not alive(pid, started):
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, sig)
    reap(pid)


def kill_groups(leaders: Sequence[tuple[int, int]], sig: int = signal.SIGKILL) -> None:
    """Signal every (pid, start time) group leader first, then wait for them all."""
    live = [pid for pid, started in leaders if alive(pid, started)]
    for pid in live:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, sig)
    for pid in live:
        reap(pid)


def kill(pids: Sequence[int], sig: int = signal.SIGKILL) -> None:
    """Send ``sig`` to each pid (not groups); tolerate the ones that are gone already."""
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
    for pid in pids:
        reap(pid)


def kill_all_in(
    ids: Collection[netns.NsId],
    verify: Mapping[netns.NsId, Collection[int]] | None = None,
    *,
    rounds: int = 50,
) -> dict[int, netns.NsId]:
    """SIGKILL every process in the namespaces ``ids``, and again until none is left; return
    the pids killed, with their namespace (``verify``: see :func:`netns.pids_in`).

    One scan and one kill are not enough: a process can fork between the scan and the kill
    (a shell that starts its command just then), and the child, never seen, would keep the
    namespace alive after its pin is gone. Its children are in the same namespace, so the
    next scan finds them.
    """
    killed: dict[int, netns.NsId] = {}
    for _ in range(rounds):
        found = netns.pids_in(ids, verify) if ids else {}
        if not found:
            break
        killed.update(found)
        # Processes in containers' PID namespaces first, and they are waited for: one that
        # ``docker exec`` started is reaped by its ``nsenter`` outside, which must outlive it
        # (see reap_adopted), and a container's PID 1 ends only after all of them.
        inner = _in_other_pid_ns(found)
        kill(sorted(inner))
        kill(sorted(set(found) - set(inner)))
    reap_adopted()  # (the children of an ``nsenter`` that was killed all the same)
    return killed


def _in_other_pid_ns(pids: Collection[int]) -> list[int]:
    """Those of ``pids`` in another PID namespace than this process (containers')."""
    try:
        own = os.stat("/proc/self/ns/pid").st_ino
    except OSError:
        return []
    out = []
    for pid in pids:
        with contextlib.suppress(OSError):
            if os.stat(f"/proc/{pid}/ns/pid").st_ino != own:
                out.append(pid)
    return out


def reap(pid: int, timeout: float = 2.0) -> None:
    """Wait until ``pid`` has exited (and collect it if it is our child)."""
    child = _children.pop(pid, None)
    if child is not None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.wait(timeout)
        return
    deadline = time.monotonic() + timeout
    while alive(pid) and time.monotonic() < deadline:
        reap_adopted()  # (a container's PID 1 may be waiting for one of them)
        time.sleep(0.002)


def children_of(pid: int) -> list[int]:
    """The pids of ``pid``'s children, those of every thread (``/proc/PID/task/*/children``:
    an orphan is handed to one thread of its new parent, not always the first)."""
    out: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tasks:
        with contextlib.suppress(OSError), open(f"/proc/{pid}/task/{tid}/children") as f:
            out += [int(x) for x in f.read().split()]
    return out


def _pid_depth(status: str) -> int:
    """How deep a process is in nested PID namespaces (its pids, ``NSpid``, one per level)."""
    for line in status.splitlines():
        if line.startswith("NSpid:"):
            return len(line.split()) - 1
    return 1


def reap_adopted() -> list[int]:
    """Collect the zombies this process adopted from containers' PID namespaces; return
    their pids.

    A process a ``docker exec`` started inside a container has its ``nsenter`` outside as
    parent. If that parent dies first, the orphan goes to the reaper of the parent's PID
    namespace: PID 1 (or a subreaper), which is this process when netlab runs as a
    container's command without an init (``docker run IMAGE python ...``). Killed, the
    orphan stays a zombie until its parent collects it, and until then the container's PID 1
    cannot finish exiting (the kernel's zap_pid_ns_processes waits for every process of the
    namespace to be reaped): the container never ends. Only zombies deeper in the PID
    namespace tree than this process are collected: netlab forks none there itself (its
    children there are always born of ``unshare``/``nsenter``), so no ``subprocess`` object
    is robbed of its child's exit status.
    """
    me = os.getpid()
    try:
        with open(f"/proc/{me}/status") as f:
            depth = _pid_depth(f.read())
    except OSError:
        return []
    reaped = []
    for pid in children_of(me):
        if pid in _children:
            continue
        try:
            with open(f"/proc/{pid}/status") as f:
                status = f.read()
        except OSError:
            continue
        if "\nState:\tZ" not in status or _pid_depth(status) <= depth:
            continue
        with contextlib.suppress(ChildProcessError):
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                reaped.append(pid)
    return reaped


def control(path: str, text: str, fds: Sequence[int] = (), *, timeout: float = 5.0) -> str:
    """Send one command to a daemon of netlab's on its control socket (a SOCK_SEQPACKET
    Unix socket), with ``fds`` passed along (SCM_RIGHTS); its one-line answer. OSError when
    nobody listens there."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as s:
        s.settimeout(timeout)
        s.connect(path)
        anc = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))] if fds else []
        s.sendmsg([text.encode()], anc)
        return s.recv(4096).decode()


def run_in(
    argv_prefix: Sequence[str],
    argv: Sequence[str],
    *,
    timeout: float | None = None,
    input: str | None = None,
    env: Mapping[str, str] | None = None,
) -> Result:
    """Run ``prefix + argv`` to completion and capture its output as text."""
    full = [*argv_prefix, *argv]
    try:
        done = subprocess.run(
            full,
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=dict(env) if env is not None else _default_env(),
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        return Result(tuple(argv), 124, out, f"timed out after {timeout} s\n")
    except FileNotFoundError as exc:
        return Result(tuple(argv), 127, "", f"{exc.filename}: command not found\n")
    return Result(tuple(argv), done.returncode, done.stdout, done.stderr)


# (sethostname(2) through Debian's essential `hostname`, not a write to
# /proc/sys/kernel/hostname: that file is the machine root's, which a rootless lab is not.)
HOSTNAME_SHIM = 'hostname "$0" && exec "$@"'
# ... and a Docker host's: its folder of sandboxes ($1) shows at /run/docker/netns.
DOCKER_HOST_SHIM = (
    'hostname "$0" && '
    '{ [ ! -d /run/docker/netns ] || mount --bind "$1" /run/docker/netns; } && shift && exec "$@"'
)


def netns_prefix(ns: str, hostname: str | None = None, *, sandboxes: str = "") -> list[str]:
    """Argv prefix that runs a command in a named namespace, with its /etc/netns files.

    With ``hostname``, the command also gets a private UTS namespace showing that name, so
    ``hostname`` inside a lab host prints the host's name, not the machine's. With
    ``sandboxes`` (a Docker host's folder of its containers' namespaces), that folder shows
    at ``/run/docker/netns`` (where Docker keeps them) in the command's mount namespace, the
    private one ``ip netns exec`` makes.
    """
    prefix = ["ip", "netns", "exec", ns]
    if hostname and sandboxes:
        prefix += ["unshare", "--uts", "--", "/bin/sh", "-c", DOCKER_HOST_SHIM, hostname]
        prefix.append(sandboxes)
    elif hostname:
        prefix += ["unshare", "--uts", "--", "/bin/sh", "-c", HOSTNAME_SHIM, hostname]
    return prefix


def _v4(hexip: str) -> str:
    """An address from /proc/net/{tcp,tcp6}: IPv4 as is, "::" as 0.0.0.0, ::ffff:a.b.c.d."""
    if len(hexip) == 32:
        if hexip == "0" * 32:
            return "0.0.0.0"  # a dual-stack socket on every address
        hexip = hexip[24:]  # v4-mapped: the last 32 bits
    return ".".join(str(int(hexip[i : i + 2], 16)) for i in (6, 4, 2, 0))


def listening(ns: str) -> list[tuple[str, int, str]]:
    """(address, port, proto) of listening TCP and bound UDP sockets in a namespace.

    Read from /proc/net of the namespace (the kernel worker thread enters it, so /proc/self/
    task/TID/net shows that namespace). Dual-stack IPv6 sockets count for IPv4 too, as
    BusyBox's httpd opens one.
    """

    def work() -> list[tuple[str, int, str]]:
        out = []
        with netns.entered(ns):
            base = f"/proc/self/task/{threading.get_native_id()}/net/"
            for proto, name in (("tcp", "tcp"), ("tcp", "tcp6"), ("udp", "udp"), ("udp", "udp6")):
                try:
                    with open(base + name) as f:
                        rows = f.read().splitlines()[1:]
                except FileNotFoundError:
                    continue
                for line in rows:
                    cols = line.split()
                    if proto == "tcp" and cols[3] != "0A":  # 0A: LISTEN
                        continue
                    hexip, hexport = cols[1].split(":")
                    if (
                        len(hexip) == 32
                        and hexip != "0" * 32
                        and not hexip.startswith("0000000000000000FFFF0000")
                    ):
                        continue  # a real IPv6 address: not for IPv4 clients
                    out.append((_v4(hexip), int(hexport, 16), proto))
        return out

    return _worker.call(work)


def wait_listening(ns: str, sockets: Sequence[tuple[str, int, str]], timeout: float = 5.0) -> None:
    """Wait until servers in ``ns`` listen on each (address, port, proto)."""
    want = set(sockets)
    deadline = time.monotonic() + timeout
    while want and time.monotonic() < deadline:
        want -= set(listening(ns))
        if want:
            time.sleep(0.002)
    if want:
        raise RuntimeError(f"nothing listens on {sorted(want)} in {ns} after {timeout:.0f} s")


def signal_pid(pid: int, sig: int) -> bool:
    """Send ``sig`` to one process; False if it is gone."""
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        return False
    return True
