"""Real processes inside namespaces: start them, run commands, find and stop them by pid.

A container's main process is started as
``ip netns exec NS unshare --uts -- sh -c SHIM hostname exitfile CMD...``:

* ``ip netns exec`` enters the network namespace and, in a private mount namespace, bind-mounts
  ``/etc/netns/NS/*`` over ``/etc/*``; that is how a container gets its own ``/etc/hosts``,
  ``/etc/resolv.conf`` and ``/etc/hostname`` without touching the machine's files;
* ``unshare --uts`` gives it its own hostname (Docker sets the short container ID);
* the tiny shell shim sets that hostname, runs the command and writes its exit code to a file,
  so ``docker ps -a`` can say ``Exited (0)`` even after the process that started it is gone.

Each ``exec`` replaces the previous program, so the pid returned is the container's main
process (the shim), leader of its own process group; stopping kills that group by pid.
``docker exec`` enters the same namespaces with ``nsenter --target PID``.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from netlab.kernel import netns, trace

SHIM = (
    'if [ -n "$1" ]; then echo "$1" > /proc/sys/kernel/hostname; fi; '
    'f="$2"; log="$3"; shift 3; echo ready; exec >>"$log" 2>&1; '
    '"$@"; echo $? > "$f"'
)
READY_TIMEOUT = 10.0

# Children started by this process, kept so that they are reaped (no zombies, no warnings).
_children: dict[int, subprocess.Popen[bytes]] = {}


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


def spawn(
    ns: str,
    argv: Sequence[str],
    *,
    hostname: str = "",
    exit_file: str,
    log_file: str,
    keep_stdin_open: bool = False,
    env: Mapping[str, str] | None = None,
) -> tuple[int, int]:
    """Start a container's main process in namespace ``ns``; return (pid, start time)."""
    if not netns.exists(ns):
        raise netns.NamespaceNotFound(ns)
    full = ["ip", "netns", "exec", ns, "unshare", "--uts", "--", "/bin/sh", "-c", SHIM]
    full += ["netlab-init", hostname, exit_file, log_file, *argv]
    trace.record(["ip", "netns", "exec", ns, *argv])
    stdin: int | None = subprocess.DEVNULL
    fifo_fd = -1
    if keep_stdin_open:
        # `docker run -i`/`-t`: stdin stays open and silent, so a shell waits instead of exiting.
        fifo = exit_file + ".stdin"
        with contextlib.suppress(FileExistsError):
            os.mkfifo(fifo, 0o600)
        fifo_fd = os.open(fifo, os.O_RDWR)
        stdin = fifo_fd
    try:
        with open(log_file, "ab") as log:
            # stdout is a pipe until the shim says "ready" and points it at the log.
            child = subprocess.Popen(
                full,
                stdin=stdin,
                stdout=subprocess.PIPE,
                stderr=log,
                start_new_session=True,
                env=dict(env) if env is not None else _default_env(),
                close_fds=True,
            )
    finally:
        if fifo_fd >= 0:
            os.close(fifo_fd)
    _children[child.pid] = child
    # Like Docker, return only once the container's init has its namespaces and hostname.
    assert child.stdout is not None
    with child.stdout:
        fd = child.stdout.fileno()
        if not select.select([fd], [], [], READY_TIMEOUT)[0] or not os.read(fd, 16):
            kill_group(child.pid)
            raise RuntimeError(
                f"the process for {argv[0]!r} did not start in {ns} (see {log_file})"
            )
    started = start_time(child.pid) or 0
    return child.pid, started


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


def kill(pids: Sequence[int], sig: int = signal.SIGKILL) -> None:
    """Send ``sig`` to each pid (not groups); tolerate the ones that are gone already."""
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
    for pid in pids:
        reap(pid)


def reap(pid: int, timeout: float = 2.0) -> None:
    """Wait until ``pid`` has exited (and collect it if it is our child)."""
    child = _children.pop(pid, None)
    if child is not None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.wait(timeout)
        return
    deadline = time.monotonic() + timeout
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.002)


def run_in(
    argv_prefix: Sequence[str],
    argv: Sequence[str],
    *,
    timeout: float | None = None,
    input: str | None = None,
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
            env=_default_env(),
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        return Result(tuple(argv), 124, out, f"timed out after {timeout} s\n")
    except FileNotFoundError as exc:
        return Result(tuple(argv), 127, "", f"{exc.filename}: command not found\n")
    return Result(tuple(argv), done.returncode, done.stdout, done.stderr)


HOSTNAME_SHIM = 'echo "$0" > /proc/sys/kernel/hostname && exec "$@"'


def netns_prefix(ns: str, hostname: str | None = None) -> list[str]:
    """Argv prefix that runs a command in a named namespace, with its /etc/netns files.

    With ``hostname``, the command also gets a private UTS namespace showing that name, so
    ``hostname`` inside a lab host prints the host's name, not the machine's.
    """
    prefix = ["ip", "netns", "exec", ns]
    if hostname:
        prefix += ["unshare", "--uts", "--", "/bin/sh", "-c", HOSTNAME_SHIM, hostname]
    return prefix


def container_prefix(pid: int) -> list[str]:
    """Argv prefix that joins a running container's network, UTS and mount namespaces."""
    return ["nsenter", "--target", str(pid), "--net", "--uts", "--mount", "--"]
