"""A container's processes: how its init is born in its namespaces, and how its PID 1 is found.

A container's process is born the way Docker's runtime starts one, but by system calls on a
short-lived thread of this process and one ``unshare`` (see :func:`start`):

* its init (a small shell, :data:`CONTAINER_SHIM`) joins the container's network namespace
  and gets a UTS namespace (its hostname: Docker sets the short container ID) and a mount
  namespace of its own, in which ``/sys`` shows the container's network namespace, its own
  ``/etc/hostname``, ``/etc/hosts`` and ``/etc/resolv.conf`` are bind-mounted over the
  machine's (the three files Docker bind-mounts), and ``/run``, ``/tmp`` and ``/etc/netns``
  are empty tmpfs: nothing of the machine's namespaces or of netlab's state shows;
* once told "go" (the network is wired meanwhile), the init starts the command through
  ``unshare --pid --fork --mount-proc``: the command is **PID 1** of a PID namespace of its
  own, with a ``/proc`` of that namespace, so ``ps`` inside shows only the container;
* the init stays outside, as Docker's ``containerd-shim`` does: it writes the command's output
  to the container's log, rotating it (:mod:`netlab.model.logs`), and its exit code to a file,
  so ``docker ps -a`` can say ``Exited (0)`` after the process that started it is gone.

The pid recorded is the init's, leader of its own process group; :func:`init_pid` finds the
container's PID 1 from it (``docker stop`` signals PID 1, ``docker exec`` enters its
namespaces with ``nsenter --target PID1``). netlab's own services (a web site, name servers)
are born the same way but simply become the service (:func:`spawn`).
"""

from __future__ import annotations

import contextlib
import os
import select
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence

from netlab.kernel import _sys, commands, netns, proc, trace

# The init of a container: ``sh -c SHIM netlab-init UNSHARE LOG EXIT MAX N SIZE CMD...``, with
# fds 0 "go" (from netlab), 1 and 2 "ready" (to netlab), 3 the container's stdin, 4 and 5 the
# two ends of its output pipe, 6 the folder of LOG, 7 that of EXIT, 8 (if open) the other end
# of its stdin, held so that it never ends (``docker run -d -i``). It says "ready", waits for
# "go", then starts a writer (a subshell, in the background) that copies CMD's output into
# LOG, rotating it as Docker's json-file driver does when it reaches MAX bytes
# (keeping N files: LOG.1 ... LOG.N-1; SIZE is what LOG holds already; when the log's file
# system is full, output is dropped and CMD goes on), and runs CMD, in the foreground, as PID
# 1 of a new PID namespace (UNSHARE: util-linux's). (In the foreground: a shell starts its
# background jobs with SIGINT and SIGQUIT ignored, and a PID 1 could not undo that, so
# nginx would ignore its stop signal.) When CMD has ended and the writer has written all,
# CMD's exit code goes to EXIT. The init reaches LOG and EXIT through fds 6
# and 7 (``/proc/self/fd/6/LOG``): its /run is the container's, where they do not show. Its
# own tools run with a PATH of its own (the container's may differ), and its variables have
# names that no container sets.
CONTAINER_SHIM = (
    'cd /; __nl_u="$1"; __nl_log="/proc/self/fd/6/$2"; __nl_exit="/proc/self/fd/7/$3"; '
    '__nl_max="$4"; __nl_n="$5"; __nl_size="$6"; shift 6; '
    "__nl_p=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin; "
    'echo ready; read -r __nl_go || exit 0; [ "$__nl_go" = go ] || exit 0; '
    "exec >/dev/null 2>&1 </dev/null; "
    "{ exec 3<&- 4>&- 8>&-; "
    "while :; do "
    'if [ "$__nl_size" -ge "$__nl_max" ]; then __nl_i=$((__nl_n - 1)); '
    'while [ "$__nl_i" -gt 1 ]; do '
    'PATH=$__nl_p mv -f "$__nl_log.$((__nl_i - 1))" "$__nl_log.$__nl_i" 2>/dev/null; '
    "__nl_i=$((__nl_i - 1)); done; "
    'if [ "$__nl_n" -gt 1 ]; then PATH=$__nl_p mv -f "$__nl_log" "$__nl_log.1"; fi; '
    ': >"$__nl_log"; __nl_size=0; fi; '
    'if ! PATH=$__nl_p stdbuf -o0 head -c "$((__nl_max - __nl_size))" >>"$__nl_log" '
    "2>/dev/null; then PATH=$__nl_p cat >/dev/null; break; fi; "
    '__nl_size=$(PATH=$__nl_p stat -c %s "$__nl_log") || break; '
    '[ "$__nl_size" -lt "$__nl_max" ] && break; '
    "done; } <&5 & "
    "__nl_w=$!; exec 5<&-; "
    '"$__nl_u" --pid --fork --kill-child --mount-proc -- "$@" '
    "<&3 >&4 2>&4 3<&- 4>&- 6<&- 7<&- 8>&-; "
    "__nl_c=$?; exec 3<&- 4>&-; "
    'wait "$__nl_w"; echo "$__nl_c" >"$__nl_exit"'
)
# The init of a service (``sh -c SERVICE_SHIM netlab-init LOG CMD...``): it says "ready",
# waits for "go", then becomes CMD, which appends its output to LOG.
SERVICE_SHIM = (
    'log="$1"; shift; echo ready; read -r go || exit 0; [ "$go" = go ] || exit 0; '
    'exec >>"$log" 2>&1 </dev/null; exec "$@"'
)
UNSHARE = shutil.which("unshare") or "/usr/bin/unshare"
# What a container's mount namespace gets empty and private: (folder, tmpfs options). /var/run
# is a link to /run on most systems (then nothing more is needed).
PRIVATE_DIRS = (
    ("/run", "mode=0755"),
    ("/var/run", "mode=0755"),
    ("/tmp", "mode=1777"),
    ("/etc/netns", "mode=0755"),
)

READY_TIMEOUT = 10.0

# Container inits told to go whose "ready" has not been read yet (see Starting.go).
_starting: dict[int, Starting] = {}
# Inits being born (see _Birth) until told to go or aborted, by id.
_births: dict[int, _Birth] = {}


class Starting:
    """A container process that is born but waits for :meth:`go` before running its command.

    Starting the process early lets its birth (on a thread of its own) and the shell's start
    overlap with the building of the container's network, while the command itself, as in
    Docker, only runs once the network is ready.
    """

    def __init__(
        self,
        birth: _Birth,
        ns: str,
        argv: Sequence[str],
        log_file: str,
        shown: str = "",
    ) -> None:
        self.shown = shown  # the command line a student would type for it (for the trace)
        self._birth = birth
        self.ns = ns
        self.argv = list(argv)
        self.log_file = log_file

    @property
    def child(self) -> _Child:
        """The init's process (waits for its birth; raises if it could not be born)."""
        return self._birth.child()

    @property
    def pid(self) -> int:
        """The pid of the container's init (the shim, then the command's parent)."""
        return self.child.pid

    def go(self, *, wait: bool = True) -> tuple[int, int]:
        """Let the init run the command; return (pid, start time).

        The init was born in its namespaces, with its hostname and /etc files, so anything
        entering them (``docker exec``) at once finds them complete. With ``wait`` this
        returns once the init said "ready" (its shell runs); without, the caller goes on at
        once (building the next container while this one's shell starts), and the "ready"
        is read later (:func:`_collect_ready`).
        """
        assert self.child.stdout is not None and self.child.stdin is not None
        with self.child.stdin:
            self.child.stdin.write(b"go\n")
        trace.record(self.shown)  # the command runs once the network is built, as in Docker
        _starting[self.child.pid] = self
        self._birth.born()
        if wait:
            self.wait_ready()
        return self.child.pid, proc.start_time(self.child.pid) or 0

    def wait_ready(self, timeout: float = READY_TIMEOUT) -> None:
        """Block until the init said "ready"; if it died instead, say why."""
        assert self.child.stdout is not None
        _starting.pop(self.child.pid, None)
        if self.child.stdout.closed:
            return
        with self.child.stdout:
            fd = self.child.stdout.fileno()
            said = b""
            if select.select([fd], [], [], timeout)[0]:
                said = os.read(fd, 4096)
            if not said.startswith(b"ready"):
                self.abort()
                why = said.decode(errors="replace").strip() or "no answer"
                raise RuntimeError(
                    f"the process for {self.argv[0]!r} did not start in {self.ns}: {why}"
                )

    def failed_early(self) -> bool:
        """True if the init already died without ever getting ready (checked without waiting)."""
        assert self.child.stdout is not None
        if self.child.stdout.closed or self.child.poll() is None:
            return False
        try:
            self.wait_ready(0)
        except RuntimeError:
            return True
        return False

    def abort(self) -> None:
        """Kill the waiting process (its command never ran)."""
        self._birth.abort()


def start(
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
) -> Starting:
    """Start a container's init in namespace ``ns``; it runs ``argv`` once told to go.

    The init is born in ``ns``, with a UTS namespace showing ``hostname`` and a mount
    namespace of its own in which each of ``binds`` (path in the container -> file or folder
    to show there; by default the files of ``/etc/netns/NS`` over /etc, as ``ip netns exec``
    shows them) is bind-mounted, and /run, /tmp and /etc/netns are private (see the module's
    docstring). The command's stdin is ``stdin`` (a file descriptor, e.g. a pipe's end that
    the caller writes and closes: ``docker run -i``), or with ``keep_stdin_open`` a pipe that
    never ends (``docker run -d -i``/``-t``: a shell waits for input forever), or /dev/null.
    ``log_limits`` (max bytes per file, number of files) is how much of its output
    ``log_file`` keeps; ``exit_file`` gets its exit code.
    """
    if not netns.exists(ns):
        raise netns.NamespaceNotFound(ns)
    _collect_ready()
    max_size, max_file = log_limits
    if max_size <= 0 or max_file < 1:
        raise ValueError(f"bad log limits {log_limits}")
    try:
        size = os.path.getsize(log_file)  # (a restarted container's log goes on)
    except FileNotFoundError:
        size = 0
    full = [
        "/bin/sh",
        "-c",
        CONTAINER_SHIM,
        "netlab-init",
        UNSHARE,
        os.path.basename(log_file),
        os.path.basename(exit_file),
        str(max_size),
        str(max_file),
        str(size),
        *argv,
    ]
    shown = commands.start(ns, argv, hostname=hostname, binds=binds, private=True)
    binds = bind_targets(binds, lambda: netns.etc_files(ns))
    # Every file descriptor the init gets is opened here, in the machine's mount namespace
    # (the init's own hides /run); the birth thread only hands them over.
    fds: dict[int, int] = {}
    try:
        fds[6] = os.open(os.path.dirname(log_file), os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
        fds[7] = os.open(os.path.dirname(exit_file), os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
        fds[5], fds[4] = os.pipe()
        if stdin is not None:
            fds[3] = os.dup(stdin)
        elif keep_stdin_open:
            fds[3], fds[8] = os.pipe()
        else:
            fds[3] = os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)
    except BaseException:
        for fd in fds.values():
            os.close(fd)
        raise
    environ = dict(env) if env is not None else proc.default_env()

    def release() -> None:
        for fd in fds.values():
            os.close(fd)
        fds.clear()

    birth = _Birth(
        ns,
        hostname,
        binds,
        list(binds.values()),
        lambda: _spawn_init(full, environ, fds),
        private=True,
        release=release,
    )
    return Starting(birth, ns, argv, log_file, shown)


def bind_targets(
    binds: Mapping[str, str] | None, default: Callable[[], dict[str, str]]
) -> dict[str, str]:
    """What a container's process sees bind-mounted (path inside -> file or folder):
    ``binds``, or else the files of ``default()`` (name -> file: those of ``/etc/netns/NS``)
    over /etc.

    Something can only be bind-mounted over a path that exists: one the machine lacks is an
    error when ``binds`` asks for it, and is left out of the default (``ip netns exec`` too
    only warns and goes on).
    """
    if binds is None:
        out = {os.path.join("/etc", name): src for name, src in default().items()}
        return {target: src for target, src in out.items() if os.path.exists(target)}
    for target in binds:
        if not os.path.exists(target):
            raise RuntimeError(
                f"cannot give the container its own {target}: this machine has no {target} "
                "to mount it over (create an empty one)"
            )
    return dict(binds)


# A mount namespace like the machine's but without /run/netns and its namespace pins, from
# which containers' mount namespaces are copied (an fd on it, or -1 before the first).
_small_ns = -1
_small_ns_lock = threading.Lock()


def _enter_small_mount_ns(used: Iterable[str]) -> None:
    """Move the calling thread (with a file-system context of its own) into the small mount
    namespace, made or made again first if it does not show the ``used`` paths (files to
    bind, folders of the log and exit files) as the machine does.

    Why: unsharing a mount namespace copies every mount of the current one, and the machine's
    holds one pin per network namespace under /run/netns. Copied from the machine's, a
    container's mount namespace would cost O(N) with N containers (0.1 ms at 30, 0.5 ms at
    400 on the 2-core VM); copied from this one it costs the same at any N. (Containers do
    not see the machine's namespaces there.) The small namespace is a slave of the machine's:
    where the machine's mounts are shared (as under systemd), mounts and unmounts reach it;
    where they are private it is a snapshot, let go with the last lab. A file system mounted
    later (a new /run/netlab tmpfs) may be missing from it until it is made again, hence the
    check of the files the container uses.
    """
    global _small_ns

    def look() -> list[tuple[int, int] | None]:
        out: list[tuple[int, int] | None] = []
        for path in paths:
            try:
                st = os.stat(path)
                out.append((st.st_dev, st.st_ino))
            except FileNotFoundError:
                out.append(None)
        return out

    paths = list(used)
    machine = look()
    with _small_ns_lock:  # (held while the fd is used: nobody closes it under our feet)
        for fresh in (False, True):
            if fresh and _small_ns >= 0:  # a stale snapshot: make it again
                os.close(_small_ns)
                _small_ns = -1
            if _small_ns < 0:
                _small_ns = _make_small_mount_ns()
            _sys.setns(_small_ns, _sys.CLONE_NEWNS)
            if look() == machine:
                return
    raise RuntimeError(f"netlab's mount namespace does not show {paths} as the machine does")


def forget_small_mount_ns() -> None:
    """Let go of the small mount namespace (when the last lab is gone): what it still
    holds is freed; the next container makes a new one."""
    global _small_ns
    with _small_ns_lock:
        if _small_ns >= 0:
            os.close(_small_ns)
            _small_ns = -1


def _make_small_mount_ns() -> int:
    """Make the small mount namespace on a fresh thread; return an fd on it."""
    made: list[int] = []
    failed: list[BaseException] = []

    def make() -> None:
        try:
            # Threads inherit the namespaces of the thread that starts them, which may be in a
            # stale small namespace: start from the main thread's (the machine's) instead.
            _sys.unshare(_sys.CLONE_FS)
            machine = os.open("/proc/self/ns/mnt", os.O_RDONLY | os.O_CLOEXEC)
            try:
                _sys.setns(machine, _sys.CLONE_NEWNS)
            finally:
                os.close(machine)
            _sys.unshare(_sys.CLONE_NEWNS)
            # A slave: unmounts on the machine (and, where / is shared, new mounts) reach
            # it, so it holds nothing alive that the machine let go; nothing goes back.
            _sys.mount("none", "/", None, _sys.MS_REC | _sys.MS_SLAVE)
            with contextlib.suppress(OSError):  # no /run/netns mount: nothing to drop
                _sys.umount2(netns.RUN_DIR, _sys.MNT_DETACH)
            made.append(
                os.open(
                    f"/proc/self/task/{threading.get_native_id()}/ns/mnt",
                    os.O_RDONLY | os.O_CLOEXEC,
                )
            )
        except BaseException as exc:
            failed.append(exc)

    thread = threading.Thread(target=make, name="netlab-mount-template", daemon=True)
    thread.start()
    thread.join()
    if failed:
        raise failed[0]
    return made[0]


class _Birth:
    """A short-lived thread that takes a container's namespaces and starts its init there.

    Namespaces belong to threads, and a child is born in those of the thread that starts it.
    The thread joins ``ns``, then unshares a UTS namespace and a mount namespace, copied from
    a small one without the machine's namespace pins (see :func:`_enter_small_mount_ns`),
    makes every mount in it private (nothing mounted later propagates into the container),
    remounts /sys for ``ns`` (as ``ip netns exec`` does), binds the /etc files and sets the
    hostname; for a container (``private``) it also mounts empty tmpfs on /run, /tmp and
    /etc/netns (the machine's namespace pins, netlab's state and other labs' files vanish).
    Then it starts the child (``spawn``) and ends; the namespaces live on in the child.
    Nothing here touches any other thread or the machine's own namespaces.
    """

    def __init__(
        self,
        ns: str,
        hostname: str,
        binds: Mapping[str, str],
        used: Sequence[str],
        spawn: Callable[[], _Child],
        *,
        private: bool,
        release: Callable[[], None] = lambda: None,
    ) -> None:
        self.ns = ns
        self._hostname, self._binds, self._used, self._spawn = hostname, binds, used, spawn
        self._private, self._release = private, release
        self._child: _Child | None = None
        self._error: BaseException | None = None
        _births[id(self)] = self
        self._thread = threading.Thread(target=self._run, name=f"netlab-init {ns}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        ns, hostname, binds, used = self.ns, self._hostname, self._binds, self._used
        try:
            fd = netns.open_fd(ns)
            try:
                _sys.setns(fd, _sys.CLONE_NEWNET)
            finally:
                os.close(fd)
            _sys.unshare(_sys.CLONE_FS)  # a file-system context of its own, so that it may
            _enter_small_mount_ns(used)  # ... enter another mount namespace
            _sys.unshare(_sys.CLONE_NEWNS | _sys.CLONE_NEWUTS)
            _sys.mount("none", "/", None, _sys.MS_REC | _sys.MS_PRIVATE)  # the container's
            read_only = os.statvfs("/sys").f_flag & os.ST_RDONLY
            with contextlib.suppress(OSError):  # no sysfs mounted there: nothing to detach
                _sys.umount2("/sys", _sys.MNT_DETACH)
            _sys.mount(ns, "/sys", "sysfs", _sys.MS_RDONLY if read_only else 0)
            for target, source in binds.items():
                _sys.mount(source, target, None, _sys.MS_BIND)
            if hostname:
                _sys.sethostname(hostname)
            if self._private:
                for path, mode in PRIVATE_DIRS:
                    if os.path.isdir(path) and not os.path.islink(path):
                        _sys.mount("tmpfs", path, "tmpfs", _sys.MS_NOSUID | _sys.MS_NODEV, mode)
            child = self._spawn()
            proc._children[child.pid] = child
            self._child = child
        except BaseException as exc:
            self._error = exc
        finally:
            self._release()  # (the fds the child was to get, if it never got them)

    def child(self) -> _Child:
        """The started process, once the thread is done; its error if it failed."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._child is not None
        return self._child

    def born(self) -> None:
        """The init was told to go: it is a container's process now, no longer a birth."""
        _births.pop(id(self), None)

    def abort(self) -> None:
        """Wait for the thread to end (even through Ctrl-C: it takes milliseconds, and a
        child born after an abort would wait forever), then kill what it started."""
        _births.pop(id(self), None)
        while self._thread.is_alive():
            with contextlib.suppress(KeyboardInterrupt):
                self._thread.join()
        child = self._child
        if child is None:
            return  # never born: nothing to kill
        proc.kill_group(child.pid)
        for stream in (child.stdin, child.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()


def abort_births(ns: str) -> None:
    """Abort every init still being born in ``ns`` (a rollback that may have lost its
    Starting to an interruption calls this before removing the namespace)."""
    for birth in [b for b in _births.values() if b.ns == ns]:
        birth.abort()


def spawn(
    ns: str,
    argv: Sequence[str],
    *,
    log_file: str,
    fds: Mapping[int, int] | None = None,
    shown_as: Sequence[str] | None = None,
) -> tuple[int, int]:
    """Start a service in namespace ``ns`` and let it run at once; return (pid, start time).

    The service is born as a container's init is (its hostname, the /etc files of
    ``/etc/netns/NS``, /sys of the namespace), but sees the machine's /run and PID namespace
    (it is netlab's own: a name server reading its files from the lab's state). The init
    ``exec``s the service, so the pid is the service itself (signals such as SIGHUP reach it
    directly); no exit code is recorded. ``fds`` (fd in the service -> fd here, from 3 on)
    are handed over and closed here; ``shown_as`` is the command line the trace shows (the
    program's name as a user knows it).
    """
    if not netns.exists(ns):
        raise netns.NamespaceNotFound(ns)
    shown = commands.start(ns, shown_as or argv)
    given = dict(fds or {})
    binds = bind_targets(None, lambda: netns.etc_files(ns))
    full = ["/bin/sh", "-c", SERVICE_SHIM, "netlab-init", log_file, *argv]
    environ = proc.default_env()
    used = [*binds.values(), os.path.dirname(log_file)]
    birth = _Birth(ns, "", binds, used, lambda: _spawn_init(full, environ, given), private=False)
    return Starting(birth, ns, argv, log_file, shown).go()


class _Child:
    """A process started by :func:`_spawn_init`: its pid, the pipes on which it is told "go"
    (``stdin``) and says "ready" (``stdout``), and its exit status once collected (what
    ``subprocess.Popen`` offers, for the few uses here)."""

    def __init__(self, pid: int, go: int, ready: int) -> None:
        self.pid = pid
        self.stdin = os.fdopen(go, "wb", buffering=0)
        self.stdout = os.fdopen(ready, "rb", buffering=0)
        self.returncode: int | None = None

    def poll(self) -> int | None:
        """Its exit status if it has ended (collected at once), else None."""
        if self.returncode is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:
                self.returncode = -1  # (collected elsewhere)
                return self.returncode
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        """Wait until it has ended; ``subprocess.TimeoutExpired`` after ``timeout`` s."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while (code := self.poll()) is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(str(self.pid), timeout or 0)
            time.sleep(0.002)
        return code


def _keep_to_self() -> None:
    """Mark the fds this process inherited (above 2) close-on-exec: a lab's long-lived
    processes must not hold them (``flock LOCK python ...``: a leftover lab's server held
    the lock, and every later ``flock`` waited for ever)."""
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        if fd > 2:
            with contextlib.suppress(OSError):  # (one closed meanwhile by another thread)
                if os.get_inheritable(fd):
                    os.set_inheritable(fd, False)


def _spawn_init(argv: list[str], env: Mapping[str, str], fds: dict[int, int]) -> _Child:
    """Start an init (on a birth thread, in its namespaces) with ``fds`` (child fd -> fd
    here) and its "go"/"ready" pipes as fds 0, 1 and 2, in a session of its own; close the
    fds handed over.

    ``posix_spawn`` rather than ``subprocess``: only it can place fds at chosen numbers in
    the child without running Python code there (a shell reaches fds 0-9 only, and a
    ``preexec_fn`` is unsafe in a threaded process). Every other fd of this process is
    close-on-exec: Python opens them so, and those this process was given open (a lock
    ``flock`` holds for it, a terminal's) are made so first; the init inherits nothing else.
    """
    _keep_to_self()
    go_r, go_w = os.pipe()
    ready_r, ready_w = os.pipe()
    given = {**fds, 0: go_r, 1: ready_w, 2: ready_w}
    # Each source to a number above them all, then to its place: no source is overwritten.
    top = max([*given.values(), 9]) + 1
    actions: list[tuple[int, ...]] = []
    for i, src in enumerate(given.values()):
        actions.append((os.POSIX_SPAWN_DUP2, src, top + i))
    for i, dst in enumerate(given):
        actions.append((os.POSIX_SPAWN_DUP2, top + i, dst))
    actions += [(os.POSIX_SPAWN_CLOSE, top + i) for i in range(len(given))]
    try:
        pid = os.posix_spawn(argv[0], argv, dict(env), file_actions=actions, setsid=True)
    except BaseException:
        for fd in (go_w, ready_r):
            os.close(fd)
        raise
    finally:
        for fd in {*fds.values(), go_r, ready_w}:
            os.close(fd)
        fds.clear()
    return _Child(pid, go_w, ready_r)


def _collect_ready() -> None:
    """Close the pipes of inits that said "ready" meanwhile (without waiting for any).

    Keeps the number of open pipes down to the containers still starting, so a notebook
    that builds 500 containers does not run out of file descriptors.
    """
    if not _starting:
        return
    by_fd = {
        s.child.stdout.fileno(): s
        for s in _starting.values()
        if s.child.stdout is not None and not s.child.stdout.closed
    }
    if not by_fd:
        return
    ready, _, _ = select.select(list(by_fd), [], [], 0)
    for fd in ready:
        with contextlib.suppress(RuntimeError):
            by_fd[fd].wait_ready(0)


def init_pid(init: int, started: int | None = None, timeout: float = 2.0) -> int | None:
    """The pid (here) of the container's PID 1, whose init is ``init``: the child of the
    ``unshare`` the init started; None once the container has ended.

    Right after "go" PID 1 may not be born yet: it is waited for, ``timeout`` s at most.
    """
    deadline = time.monotonic() + timeout
    while True:
        for child in proc.children_of(init):
            if _comm(child) == "unshare":  # (the others are the log writer's)
                for grandchild in proc.children_of(child):
                    # (right after its fork it is still `unshare`, mounting /proc: wait
                    # for the command's exec, so that what is found is the command)
                    if _comm(grandchild) != "unshare" or time.monotonic() > deadline:
                        return grandchild
        if not proc.alive(init, started) or time.monotonic() > deadline:
            return None
        time.sleep(0.001)


def wait_ended(pid1: int, started: int | None, timeout: float = 2.0) -> bool:
    """Wait until a killed container's PID 1 has ended (``timeout`` s at most); True if it has.

    A PID 1 ends only once every other process of its PID namespace has been reaped (the
    kernel's zap_pid_ns_processes): a process ``docker exec`` started is reaped by its
    ``nsenter`` outside, so the ``nsenter`` must live until then, and is killed after this;
    the zombies this process adopted meanwhile are reaped here (see
    :func:`proc.reap_adopted`).
    """
    deadline = time.monotonic() + timeout
    while proc.alive(pid1, started):
        proc.reap_adopted()
        if time.monotonic() > deadline:
            return False
        time.sleep(0.002)
    return True


def _comm(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return ""


def pids_in_pid_ns(pid1: int) -> list[int]:
    """Every process (pids here) in the PID namespace of ``pid1``: a container's processes.

    Root without CAP_SYS_PTRACE (in a container under a runtime's default capabilities, or
    podman's narrower set) may not read another user's ``/proc/PID/ns``: such a process (an
    nginx worker, www-data) counts when one of its ancestors is in the namespace."""
    try:
        want = os.stat(f"/proc/{pid1}/ns/pid").st_ino
    except OSError:
        return []
    out, closed = [], []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                if os.stat(f"/proc/{entry.name}/ns/pid").st_ino == want:
                    out.append(int(entry.name))
            except PermissionError:
                closed.append(int(entry.name))
            except OSError:
                continue
    if closed:
        members = set(out)
        out += [pid for pid in closed if _descends_from(pid, members)]
    return sorted(out)


def _descends_from(pid: int, ancestors: set[int]) -> bool:
    """Whether one of ``pid``'s ancestors (its parent, the parent's parent...) is in
    ``ancestors``."""
    for _ in range(128):  # (deeper than any process tree here)
        try:
            with open(f"/proc/{pid}/stat") as f:
                pid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            return False
        if pid in ancestors:
            return True
        if pid <= 1:
            return False
    return False


def container_prefix(init: int) -> list[str]:
    """Argv prefix that joins a running container's network, UTS, mount and PID namespaces
    (those of its PID 1; ``init`` is the init's pid), as ``docker exec`` does."""
    pid1 = init_pid(init)
    if pid1 is None:
        raise ProcessLookupError(f"the container whose init was {init} has ended")
    return ["nsenter", "--target", str(pid1), "--net", "--uts", "--mount", "--pid", "--"]
