"""The fake of :mod:`netlab.kernel.proc`'s functions that start, find and stop processes.

``start`` makes a :class:`~.records.FakeProcess` that is born and waits, as the real init
does, until its :class:`FakeStarting` is told to :meth:`~FakeStarting.go`. Then it runs: a
server listens where its command line says (:func:`_listeners`), or dies at once if that
address is not in its namespace. Signals are bookkeeping: nothing here calls ``os.kill``, and
a pid that is not the fake's (they start at :data:`~.records.FAKE_PID_BASE`) is refused.
``run_in`` (a command inside a namespace, ``docker exec``) needs the real kernel: it raises.
"""

from __future__ import annotations

import errno
import os
import shlex
import signal
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from netlab.kernel import commands, containers, proc, trace
from netlab.kernel.fake.records import FakeKernelError, FakeProcess, _names

if TYPE_CHECKING:  # (only a type here: the package imports this module, not the reverse)
    from netlab.kernel.fake import FakeKernel


def _listeners(argv: Sequence[str]) -> list[tuple[str, int, str]]:
    """The sockets a server's command line opens (busybox httpd, the nginx image's nginx,
    dnsmasq, a ``sh -c`` whose script starts one of them first); [] for others."""
    out: list[tuple[str, int, str]] = []
    if list(argv[:2]) == ["sh", "-c"] and len(argv) > 2:
        return _listeners(shlex.split(argv[2].split("&")[0]))
    if argv[:2] == ["busybox", "httpd"] and "-p" in argv:
        spec = argv[argv.index("-p") + 1]
        ip, _, port = spec.rpartition(":")
        out.append((ip or "0.0.0.0", int(port), "tcp"))
    elif list(argv) == ["nginx", "-g", "daemon off;"]:  # (its default.conf: 80 and [::]:80)
        out += [("0.0.0.0", 80, "tcp"), ("::", 80, "tcp")]
    elif any(a.endswith("docker_proxy.py") for a in argv[:3]) and "-host-port" in argv:
        ip, port = argv[argv.index("-host-ip") + 1], argv[argv.index("-host-port") + 1]
        out.append((ip, int(port), argv[argv.index("-proto") + 1]))
    elif argv[:1] == ["dnsmasq"]:
        for a in argv:
            if a.startswith("--listen-address="):
                ip = a.split("=", 1)[1]
                out += [(ip, 53, "udp"), (ip, 53, "tcp")]
    return out


class FakeStarting:
    """What :func:`.containers.start` returns, on the fake: the process exists ("born") and runs
    its command once told to :meth:`go`."""

    def __init__(
        self,
        kernel: FakeKernel,
        process: FakeProcess,
        argv: Sequence[str],
        shown: str,
        err: int | None,
    ) -> None:
        self.k = kernel
        self.process = process
        self.ns = process.ns
        self.argv = list(argv)
        self.log_file = process.log_file
        self.shown = shown
        self._err = err

    @property
    def pid(self) -> int:
        """The fake pid of the container's init."""
        return self.process.pid

    @property
    def child(self) -> Any:
        raise FakeKernelError("a fake process has no subprocess.Popen")

    def go(self, *, wait: bool = True) -> tuple[int, int]:
        p = self.process
        if self._err is not None or not p.alive:
            self.abort()
            why = os.strerror(self._err) if self._err is not None else "no answer"
            raise RuntimeError(
                f"the process for {self.argv[0]!r} did not start in {self.ns}: {why}"
            )
        trace.record(self.shown)
        self.k._starting.pop(p.pid, None)
        self.k._run(p)
        return p.pid, p.started

    def wait_ready(self, timeout: float = containers.READY_TIMEOUT) -> None:
        """The fake init is ready as soon as it was told to go."""

    def failed_early(self) -> bool:
        return False

    def abort(self) -> None:
        self.k._stop(self.process, 137)


class FakeProc:
    """The functions of :mod:`.proc` that start, find or stop processes, over the fake
    (the pure ones, such as ``container_prefix``, stay the real ones)."""

    NAMES = _names(
        "start_time alive hangup start_detached kill_group kill_groups kill reap run_in control "
        "listening wait_listening signal_pid"
    )
    # (those of :mod:`netlab.kernel.containers`)
    CONTAINER_NAMES = _names(
        "start abort_births spawn forget_small_mount_ns init_pid pids_in_pid_ns wait_ended"
    )

    def __init__(self, kernel: FakeKernel) -> None:
        self.k = kernel

    def _fake(self, pid: int) -> FakeProcess:
        p = self.k._process(pid)
        if p is None:
            raise FakeKernelError(f"refusing to signal pid {pid}: not a process of the fake kernel")
        return p

    def start_time(self, pid: int) -> int | None:
        p = self.k._process(pid)
        return p.started if p is not None and p.alive else None

    def alive(self, pid: int, started: int | None = None) -> bool:
        p = self.k._process(pid)  # (a pid of the machine's is never looked up)
        return p is not None and p.alive and (started is None or p.started == started)

    def start(
        self,
        ns: str,
        argv: Sequence[str],
        *,
        hostname: str = "",
        binds: Mapping[str, str] | None = None,
        exit_file: str,
        log_file: str,
        stdin: int | None = None,
        keep_stdin_open: bool = False,
        env: Mapping[str, str] | None = None,
        log_limits: tuple[int, int],
    ) -> FakeStarting:
        k = self.k
        n = k._ns(ns)
        shown = commands.start(ns, argv, hostname=hostname, binds=binds, private=exit_file != "-")
        containers.bind_targets(binds, lambda: k.netns.etc_files(ns))  # (the same checks)
        err = k._injected("containers.start", ns, argv[0] if argv else "")
        p = k._new_process(n, argv, log_file, exit_file, hostname)
        starting = FakeStarting(k, p, argv, shown, err)
        k._starting[p.pid] = starting
        return starting

    def abort_births(self, ns: str) -> None:
        for s in [s for s in self.k._starting.values() if s.ns == ns]:
            s.abort()

    def spawn(
        self,
        ns: str,
        argv: Sequence[str],
        *,
        log_file: str,
        fds: Mapping[int, int] | None = None,
        shown_as: Sequence[str] | None = None,
    ) -> tuple[int, int]:
        for child_fd, fd in (fds or {}).items():  # (handed over and closed, as the real one)
            if child_fd == 3:  # (a docker-proxy's status pipe: it started)
                os.write(fd, b"0\n")
            os.close(fd)
        err = self.k._injected("containers.spawn", ns, argv[0] if argv else "")
        if err is not None:
            self.k._ns(ns)
            raise RuntimeError(
                f"the process for {argv[0]!r} did not start in {ns}: {os.strerror(err)}"
            )
        return self.start(ns, argv, exit_file="-", log_file=log_file, log_limits=(1, 1)).go()

    def hangup(
        self, pid: int, started: int | None, *, log_file: str, says: bytes, timeout: float
    ) -> None:
        """A fake server rereads nothing: nothing to signal, nothing to wait for."""

    def start_detached(self, argv: Sequence[str]) -> int:
        k = self.k
        target: FakeProcess | None = None
        if argv[:2] == ["nsenter", "--target"]:
            target = k._process(int(argv[2]))
        if target is None or not target.alive:
            raise FakeKernelError(f"the fake kernel can only start commands in a container: {argv}")
        n = next(x for x in k._all_namespaces() if x.ident == target.ns_ident)
        rest = list(argv[argv.index("--") + 1 :]) if "--" in argv else list(argv)
        p = k._new_process(n, rest, "/dev/null", "-", target.hostname)
        p.pid_ns_of = target.pid
        k._run(p)
        return p.pid

    def kill_group(self, pid: int, started: int | None = None, sig: int = 9) -> None:
        if not self.alive(pid, started):
            return
        self._signal(self._fake(pid), sig)

    def kill_groups(self, leaders: Sequence[tuple[int, int]], sig: int = 9) -> None:
        for pid, started in leaders:
            self.kill_group(pid, started, sig)

    def kill(self, pids: Sequence[int], sig: int = 9) -> None:
        for pid in pids:
            self._signal(self._fake(pid), sig)

    def reap(self, pid: int, timeout: float = 2.0) -> None:
        """Fake processes need no reaping."""

    def control(
        self, path: str, text: str, fds: Sequence[int] = (), *, timeout: float = 5.0
    ) -> str:
        """A fake daemon's answer: one alive whose command line names ``path`` serves it
        (netlab's embedded DNS server: attach, detach, ping); the fds stay the caller's, as
        with a real SCM_RIGHTS message."""
        if not any(p.alive and path in p.argv for p in self.k._procs.values()):
            raise ConnectionRefusedError(errno.ECONNREFUSED, f"connect {path}")
        held = self.k.dns_attached.setdefault(path, set())
        word, _, arg = text.partition(" ")
        if word == "attach":
            held.add(arg)
        elif word == "detach":
            held.discard(arg)
        return "ok" if word != "ping" else f"ok {len(held)}"

    def run_in(
        self,
        argv_prefix: Sequence[str],
        argv: Sequence[str],
        *,
        timeout: float | None = None,
        input: str | None = None,
        env: Mapping[str, str] | None = None,
    ) -> proc.Result:
        raise FakeKernelError(
            f"the fake kernel runs no commands ({shlex.join(argv)}): test it on the real one"
        )

    def listening(self, ns: str) -> list[tuple[str, int, str]]:
        n = self.k._ns(ns)
        return [
            s
            for p in self.k._procs.values()
            if p.state == "running" and p.ns_ident == n.ident
            for s in p.listens
        ]

    def wait_listening(
        self, ns: str, sockets: Sequence[tuple[str, int, str]], timeout: float = 5.0
    ) -> None:
        want = set(sockets) - set(self.listening(ns))
        if want:
            raise RuntimeError(f"nothing listens on {sorted(want)} in {ns} after {timeout:.0f} s")

    def init_pid(self, init: int, started: int | None = None, timeout: float = 2.0) -> int | None:
        """A fake container has no separate PID 1: its one process is both."""
        return init if self.alive(init, started) else None

    def wait_ended(self, pid1: int, started: int | None, timeout: float = 2.0) -> bool:
        """A fake process ends at once on SIGKILL (unless frozen: then it stays)."""
        return not self.alive(pid1, started)

    def signal_pid(self, pid: int, sig: int) -> bool:
        """A fake process ends on any signal that ends a process by default (SIGTERM, SIGINT,
        SIGKILL...), with 128 + its number: as if its command handled SIGTERM by exiting."""
        p = self.k._process(pid)
        if p is None or not p.alive:
            return False
        self._signal(p, sig)
        return True

    def _signal(self, p: FakeProcess, sig: int) -> None:
        """A signal that ends a process by default ends it; a frozen one waits in its
        pending signals until it is thawed (the cgroup v1 freezer's way, even for SIGKILL)."""
        if sig in (signal.SIGCHLD, signal.SIGCONT, signal.SIGURG, signal.SIGWINCH, 0):
            return
        if p.frozen:
            p.pending.append(sig)
            return
        self.k._stop(p, 128 + sig)

    def pids_in_pid_ns(self, pid1: int) -> list[int]:
        """A fake container's processes: its one process and its ``docker exec -d`` ones."""
        p = self.k._process(pid1)
        if p is None or not p.alive:
            return []
        return [pid1] + [q.pid for q in self.k._procs.values() if q.alive and q.pid_ns_of == pid1]

    def forget_small_mount_ns(self) -> None:
        """There is no mount namespace to forget."""
