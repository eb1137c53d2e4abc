"""Rootless netlab: every lab of a Unix user lives in one user namespace of that user's own.

A normal user may create a user namespace in which they are root, and in it network
namespaces, veth pairs, bridges, VXLAN devices, nftables rules and mounts: everything a lab
needs, with the kernel keeping users apart. As rootless container engines do (rootless
podman's pause process, rootlesskit), one long-lived process per user, the **holder**, keeps
three namespaces that every netlab process of that user then joins:

* a **user namespace** in which the user is root (uid 0 there is the user's uid outside, and
  no other uid is mapped: files the labs write belong to the user);
* a **mount namespace** in which ``/run`` and ``/etc`` are small tmpfs showing everything the
  machine's have (each entry bound back in, "copied up" as rootlesskit calls it) except what
  is netlab's: ``/run/netns`` (the namespace pins), ``/run/netlab`` (lab state),
  ``/run/docker`` and ``/etc/netns`` start empty and stay the user's own. Another user's labs
  cannot be listed, entered, changed or cleaned from here: their pins are in another mount
  namespace, owned by another user namespace;
* a **network namespace**, the user's "home": it has only ``lo``. A process of the user
  namespace may enter the network namespaces it made but never the machine's own again
  (``setns`` there needs privileges over the machine's user namespace), so netlab's kernel
  thread always returns to this one instead (:func:`home_netns`).

The holder starts on first use (:func:`ensure`), in a session of its own, so it outlives the
command or notebook kernel that started it; ``netlab clean --all`` stops it (:func:`stop`).
It is found through an abstract Unix socket named after the uid (abstract sockets belong to
the machine's network namespace, not to a file system, so a service with a private /tmp
finds the same holder): connecting gives the holder's pid (``SO_PEERCRED``), and its owner,
which must be the user (another user cannot pretend to be one's holder).

How a process joins (:func:`enter`): ``setns`` into the user namespace (only a
single-threaded process may: the ``netlab`` command does it first thing; a notebook kernel is
*started* inside by a launcher, ``python -m netlab.rootless kernel -- ARGV``), then the
mount namespace, then (except a notebook kernel, which must keep talking to its Jupyter
server over the machine's loopback) the home network namespace.
"""

from __future__ import annotations

import contextlib
import errno
import os
import pwd
import select
import shutil
import signal
import socket
import stat
import struct
import subprocess
import sys
import time
from collections.abc import Sequence
from typing import NoReturn

from netlab.errors import PrivilegeError, one_line
from netlab.kernel import _sys, rootless_waiter

CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
# Inside the holder's mount namespace: the pin of the home network namespace, which also says
# "this process is in a rootless netlab" (the machine's /run never has it).
HOME_DIR = "/run/netlab-home"
HOME_NETNS = os.path.join(HOME_DIR, "net")
# What the copied-up /run and /etc leave out (empty, the user's own, made by netlab itself).
# xtables.lock: the machine's is root's (mode 0600): iptables here takes a lock of its own.
RUN_OWN = frozenset({"netns", "netlab", "netlab-home", "docker", "xtables.lock"})
ETC_OWN = frozenset({"netns"})
CANNOT_START = "netlab's rootless mode cannot start here: "  # (then why)
TMPFS_SOURCE = "nl-home"  # (the name its tmpfs show in the mount table)
RUN_SIZE = "64m"  # the private /run (netlab's state has a tmpfs of its own inside it)
ETC_SIZE = "8m"  # the private /etc: only /etc/netns files are written there
SUBORDINATE_IDS = 65536  # uids 1-65536 inside (as rootless podman maps them), if given
START_TIMEOUT = 10.0  # seconds for a new holder to say it is ready
# Set in a notebook kernel that had to start outside rootless netlab: why it could not join.
ERROR_VARIABLE = "NETLAB_ROOTLESS_ERROR"
STOP_TIMEOUT = rootless_waiter.STOP_TIMEOUT


class RootlessError(PrivilegeError):
    """Rootless mode cannot start here; the text says why and what to change."""


def socket_name(uid: int | None = None) -> bytes:
    """The holder's abstract socket address for ``uid`` (this user by default)."""
    return b"\0netlab-rootless-%d" % (os.getuid() if uid is None else uid)


def inside() -> bool:
    """True in a process that has joined (or is) a rootless netlab's namespaces."""
    return os.path.exists(HOME_NETNS)


def needed() -> bool:
    """True when this process must join the holder before it can build labs: it is not root
    and not inside yet."""
    return os.geteuid() != 0 and not inside()


def home_netns() -> str | None:
    """The home network namespace's pin when inside a rootless netlab, else None."""
    return HOME_NETNS if inside() else None


def outer_uid() -> int:
    """Inside: the user's uid outside (what uid 0 here is), from the uid map."""
    with open("/proc/self/uid_map") as f:
        for line in f:
            inner, outer, _ = line.split()
            if inner == "0":
                return int(outer)
    return os.getuid()


def map_text(uid_map: str | None = None) -> str:
    """The uid map (this process's, or the text of one) as one line.

    >>> map_text("         0       1001          1\\n         1     100000      65536\\n")
    '0 -> 1001, 1-65536 -> 100000-165535'
    """
    if uid_map is None:
        uid_map = _read("/proc/self/uid_map")
    out = []
    for line in uid_map.splitlines():
        if line.strip():
            inner, outer, count = (int(x) for x in line.split())
            if count == 1:
                out.append(f"{inner} -> {outer}")
            else:
                out.append(f"{inner}-{inner + count - 1} -> {outer}-{outer + count - 1}")
    return ", ".join(out)


def _peer(sock: socket.socket) -> tuple[int, int, int]:
    raw = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    pid, uid, gid = struct.unpack("3i", raw)
    return pid, uid, gid


def _connect() -> socket.socket | None:
    """A connection to this user's holder, or None if none is listening."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
    try:
        s.connect(socket_name())
    except (ConnectionRefusedError, FileNotFoundError):
        s.close()
        return None
    except BaseException:
        s.close()
        raise
    return s


def _own_holder() -> tuple[socket.socket, int] | None:
    """A connection to this user's running holder and its pid, or None if none runs;
    RootlessError if another user's process holds the socket's name."""
    s = _connect()
    if s is None:
        return None
    pid, uid, _ = _peer(s)
    if uid != os.getuid():
        s.close()
        raise RootlessError(
            f"the socket of netlab's rootless holder for uid {os.getuid()} belongs to uid "
            f"{uid} (pid {pid}): another user took its name; ask an administrator to look"
        )
    return s, pid


def holder_pid() -> int | None:
    """The pid of this user's running holder, or None."""
    found = _own_holder()
    if found is None:
        return None
    found[0].close()
    return found[1]


def ensure() -> int:
    """This user's holder pid, started first if none runs."""
    pid = holder_pid()
    if pid is not None:
        return pid
    check_allowed()
    child = subprocess.Popen(
        [sys.executable, "-m", "netlab.rootless", "holder"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
        close_fds=True,
    )
    assert child.stdout is not None and child.stderr is not None
    ready, _, _ = select.select([child.stdout], [], [], START_TIMEOUT)
    line = child.stdout.readline() if ready else b""
    child.stdout.close()
    if line.strip() != b"ready":
        if not ready:
            child.kill()
        err = child.stderr.read().decode(errors="replace").strip()
        child.stderr.close()
        code = child.wait()
        if code == 3:  # another process started the holder at the same moment: wait for it
            return _wait_for_other()
        masked = proc_masked()
        if masked:  # (a container runtime's default: say the one thing that helps)
            raise RootlessError(CANNOT_START + masked)
        raise RootlessError(
            "netlab's rootless holder did not start"
            + (f": {err.splitlines()[-1]}" if err else f" (exit {code})")
            + " (`netlab doctor` checks what rootless mode needs)"
        )
    child.stderr.close()
    child.wait()  # (the intermediate process, gone once the holder is ready)
    pid = holder_pid()
    if pid is None:
        raise RootlessError("netlab's rootless holder said it was ready, then went away")
    return pid


def proc_masked(mountinfo: str = "/proc/self/mountinfo") -> str:
    """Why no user here can start rootless netlab ("" if nothing known stops it): mounts
    over paths of /proc, as container runtimes mask /proc/kcore, /proc/keys, /proc/sys...
    unless the container is privileged. While any hides part of /proc, the kernel gives no
    user namespace a proc of its own (fs/namespace.c, mnt_already_visible; only mounts on
    folders that are always empty, as binfmt_misc's, are allowed), and the holder's start
    stops at "mount proc on /proc: Operation not permitted". podman's --security-opt
    unmask=ALL and Docker's systempaths=unconfined lift the masks."""
    masked = []
    with contextlib.suppress(OSError), open(mountinfo) as f:
        for line in f:
            fields = line.split()
            point = fields[4] if len(fields) > 4 else ""
            if point.startswith("/proc/") and point != "/proc/sys/fs/binfmt_misc":
                masked.append(point)
    if not masked:
        return ""
    return (
        f"/proc is partly masked ({', '.join(masked[:3])}{'...' if len(masked) > 3 else ''}):"
        " the kernel gives no user namespace a proc of its own, so rootless mode cannot start"
        " (podman: --security-opt unmask=ALL; Docker: --security-opt systempaths=unconfined;"
        " or run netlab as root: --user root)"
    )


def _wait_for_other() -> int:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        pid = holder_pid()
        if pid is not None:
            return pid
        time.sleep(0.02)
    raise RootlessError("another netlab process is starting the rootless holder, and it hangs")


def check_allowed() -> None:
    """Raise :class:`RootlessError` with the fix if this kernel forbids unprivileged user
    namespaces (measured by trying, in a child that exits at once)."""
    uid = os.getuid()
    pid = os.fork()
    if pid == 0:  # the child: try, and say how it went with the exit code
        code = 0
        try:
            _sys.unshare(CLONE_NEWUSER | _sys.CLONE_NEWNS | _sys.CLONE_NEWNET)
            _sys.write_once("/proc/self/setgroups", "deny")
            _sys.write_once("/proc/self/uid_map", f"0 {uid} 1")
            with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0):
                pass
            _sys.mount("none", "/", None, _sys.MS_REC | _sys.MS_SLAVE)
        except OSError as exc:
            code = 10 if exc.errno in (errno.EPERM, errno.EACCES) else 11
        except BaseException:
            code = 12
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) == 0:
        return
    raise RootlessError(why_not())


def why_not() -> str:
    """What forbids unprivileged user namespaces on this machine, and the fix."""
    max_ns = _read("/proc/sys/user/max_user_namespaces")
    if max_ns == "0":
        return (
            "unprivileged user namespaces are off (user.max_user_namespaces = 0): an "
            "administrator runs `sysctl -w user.max_user_namespaces=15000` (and puts it in "
            "/etc/sysctl.d/ to keep it)"
        )
    if _read("/proc/sys/kernel/unprivileged_userns_clone") == "0":
        return (
            "unprivileged user namespaces are off (kernel.unprivileged_userns_clone = 0): "
            "an administrator runs `sysctl -w kernel.unprivileged_userns_clone=1`"
        )
    if _read("/proc/sys/kernel/apparmor_restrict_unprivileged_userns") == "1":
        return (
            "AppArmor restricts unprivileged user namespaces "
            "(kernel.apparmor_restrict_unprivileged_userns = 1, Ubuntu 24.04's default): an "
            "administrator runs `sysctl -w kernel.apparmor_restrict_unprivileged_userns=0`, "
            "or adds an AppArmor profile that allows `userns` for this Python"
        )
    return (
        "this process may not create a user namespace (a container runtime's seccomp "
        "profile or a missing kernel feature, CONFIG_USER_NS): run netlab as root instead"
    )


def _read(path: str) -> str:
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return ""


def _threads() -> int:
    for line in _read("/proc/self/status").splitlines():
        if line.startswith("Threads:"):
            return int(line.split()[1])
    return 1


def enter(*, net: bool = True, kernel: bool = False) -> None:
    """Join this user's holder (started first if needed), in a child: this process forks,
    the child returns (in the holder's namespaces, its PID namespace included: joining one
    takes effect for children only), and this process stays behind, passing signals on,
    and ends with the child's exit status.

    ``net=False`` keeps the machine's network namespace (a notebook kernel's sockets to its
    Jupyter server); netlab's kernel thread then moves to the home namespace by itself.
    ``kernel=True`` (a notebook kernel): the child gets a process group of its own and this
    process passes Ctrl-C (Jupyter's interrupt) on; otherwise both are in the terminal's
    foreground group, which sends Ctrl-C to both, and this process ignores it.
    """
    if inside():
        return
    if _threads() > 1:
        raise RootlessError(
            "a process with threads cannot join a user namespace: start it inside "
            "(`netlab shell`, or the notebook kernel 'Python 3 (netlab)')"
        )
    pid = ensure()
    holder = os.pidfd_open(pid)  # (to stop it later: its pid is out of sight of the new /proc)
    fds = {}
    try:
        for kind in ("user", "mnt", "net", "pid_for_children"):
            fds[kind] = os.open(f"/proc/{pid}/ns/{kind}", os.O_RDONLY | os.O_CLOEXEC)
        try:
            cwd: str | None = os.getcwd()
        except OSError:
            cwd = None
        _sys.setns(fds["user"], CLONE_NEWUSER)
        _sys.setns(fds["mnt"], _sys.CLONE_NEWNS)
        if net:
            _sys.setns(fds["net"], _sys.CLONE_NEWNET)
        _sys.setns(fds["pid_for_children"], CLONE_NEWPID)
    finally:
        for fd in fds.values():
            os.close(fd)
    sys.stdout.flush()
    sys.stderr.flush()
    asks_r, asks_w = os.pipe2(os.O_CLOEXEC)
    child = os.fork()
    if child == 0:
        global _ask_parent
        os.close(asks_r)
        os.close(holder)
        _ask_parent = asks_w
        _sys.prctl(_sys.PR_SET_PDEATHSIG, signal.SIGKILL)
        if kernel:
            os.setpgid(0, 0)
        # (Joining a mount namespace moves to its root: go back where the caller was.)
        for where in (cwd, os.environ.get("HOME"), "/"):
            if where:
                with contextlib.suppress(OSError):
                    os.chdir(where)
                    break
        return
    os.close(asks_w)
    _stay_behind(child, kernel, asks_r, holder)


# In the child of :func:`enter`: a pipe to the parent left outside, which reads what is
# written there once the child has ended (see :func:`stop`).
_ask_parent = -1


def _stay_behind(child: int, kernel: bool, asks: int, holder: int) -> NoReturn:
    """The parent left outside by :func:`enter` becomes a small waiter
    (:func:`rootless_waiter.stay`): it passes signals on to ``child``, waits for it, stops
    the holder if the child asked for it (``netlab clean --all``), and ends as it ended."""
    block = (*rootless_waiter.PASSED, signal.SIGINT)
    _become("stay", child, asks, holder, int(kernel), keep=(asks, holder), block=block)


def _become(role: str, *args: int, keep: Sequence[int], block: Sequence[int]) -> NoReturn:
    """Replace this process with :mod:`rootless_waiter` in ``role`` (Python without netlab,
    its modules or its threads: a few MB instead of tens). The file descriptors ``keep``
    are passed on, and the signals the role handles stay blocked until it handles them."""
    for fd in keep:
        os.set_inheritable(fd, True)
    signal.pthread_sigmask(signal.SIG_BLOCK, set(block))
    sys.stdout.flush()
    sys.stderr.flush()
    argv = [sys.executable, "-I", "-S", rootless_waiter.__file__, role, *map(str, args)]
    os.execv(sys.executable, argv)


def joined() -> bool:
    """True in the child of :func:`enter` (it came in from outside), False in a process born
    inside (or outside)."""
    return _ask_parent >= 0


def others_inside() -> list[int]:
    """Inside: the processes of the PID namespace other than its init, this process, its
    ancestors and its descendants (a notebook kernel, another shell)."""
    me = os.getpid()
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = _read(f"/proc/{entry}/stat").rsplit(")", 1)[1].split()
            except IndexError:
                continue  # (gone meanwhile)
            parents[int(entry)] = int(fields[1])
    mine = {1, me}
    p = me
    while p in parents and parents[p] not in mine:
        p = parents[p]
        mine.add(p)
    others = []
    for pid in sorted(parents):
        q = pid
        while q not in mine and q in parents and q != 0:
            q = parents[q]
        if q == me or pid in mine:
            continue
        others.append(pid)
    return others


def stop() -> bool:
    """Stop this user's holder; True if one was running (or will be). Every process in it
    ends (its PID namespace with its init). A process that joined it with :func:`enter`
    asks the parent it left outside to do it once it has ended; one born inside (a shell's
    command, a notebook's) cannot, as it would end with the rest. The next netlab command
    starts a fresh holder."""
    if inside() and _ask_parent >= 0:  # this process joined: its parent stops it after
        os.write(_ask_parent, b"stop")
        return True
    if inside():
        return False  # (born inside: it would end with the rest)
    found = _own_holder()
    if found is None:
        return False
    with found[0] as s:
        s.sendall(b"stop")
        s.settimeout(STOP_TIMEOUT)
        with contextlib.suppress(OSError):
            s.recv(1)  # the holder closes the connection as it goes
    deadline = time.monotonic() + STOP_TIMEOUT
    while time.monotonic() < deadline and _connect() is not None:
        time.sleep(0.02)
    return True


# ---------------------------------------------------------------------------- the holder


def _copy_up(top: str, own: frozenset[str], size: str) -> None:
    """Put a tmpfs over ``top`` that shows every entry of the old one (bound back in, links
    copied) except the names in ``own``, which start empty."""
    entries = sorted(os.listdir(top))
    old = os.open(top, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        mode = stat.S_IMODE(os.stat(top).st_mode)
        _sys.mount(
            TMPFS_SOURCE, top, "tmpfs", _sys.MS_NOSUID | _sys.MS_NODEV, f"mode={mode:o},size={size}"
        )
        for name in entries:
            if name in own:
                continue
            src, dst = f"/proc/self/fd/{old}/{name}", os.path.join(top, name)
            try:
                st = os.lstat(src)
                if stat.S_ISLNK(st.st_mode):
                    os.symlink(os.readlink(src), dst)
                    continue
                if stat.S_ISDIR(st.st_mode):
                    os.mkdir(dst, stat.S_IMODE(st.st_mode))
                else:
                    os.close(os.open(dst, os.O_CREAT | os.O_WRONLY | os.O_CLOEXEC, 0o600))
                _sys.mount(src, dst, None, _sys.MS_BIND | _sys.MS_REC)
            except FileNotFoundError:
                continue  # (gone meanwhile)
    finally:
        os.close(old)


def subordinate_ids(
    kind: str, uid: int | None = None, *, table: str | None = None
) -> tuple[int, int] | None:
    """The first range of subordinate ids (``/etc/subuid`` or ``/etc/subgid``, as ``kind``
    says, or the text ``table``) given to the user, by name or uid: (first, count) with at
    most :data:`SUBORDINATE_IDS`, or None."""
    uid = os.getuid() if uid is None else uid
    try:
        name = pwd.getpwuid(uid).pw_name
    except KeyError:
        name = ""
    if table is None:
        table = _read(f"/etc/sub{kind}")
    for line in table.splitlines():
        parts = line.strip().split(":")
        if (
            len(parts) == 3
            and parts[0] in (name, str(uid))
            and parts[1].isdigit()
            and parts[2].isdigit()
            and int(parts[2]) > 0
        ):
            return int(parts[1]), min(int(parts[2]), SUBORDINATE_IDS)
    return None


def _map_ids(pid: int) -> str:
    """Map the ids of ``pid``'s new user namespace with the setuid helpers newuidmap and
    newgidmap (package uidmap), as rootless podman does: 0 is the user, 1-65536 the user's
    subordinate ids, so that a container's process may switch to another user (nginx's
    workers run as www-data, uid 33). Returns the kinds it mapped ("uid", "gid"); the holder
    maps the rest itself, to root alone."""
    done = ""
    for kind, own, helper in (("uid", os.getuid(), "newuidmap"), ("gid", os.getgid(), "newgidmap")):
        sub, tool = subordinate_ids(kind), shutil.which(helper)
        if sub is None or tool is None:
            continue
        argv = [tool, str(pid), "0", str(own), "1", "1", str(sub[0]), str(sub[1])]
        if subprocess.run(argv, capture_output=True, check=False).returncode == 0:
            done += kind[0]
    return done


def _init(ready: int) -> NoReturn:
    """PID 1 of the user's PID namespace: mount its /proc, bring ``lo`` up in the home
    namespace, then become :func:`rootless_waiter.init`, which says so on ``ready`` and
    reaps orphans until told to stop (SIGTERM, from a process inside) or until the holder
    goes (the kernel's parent-death signal, which outlives ``execve``). When it ends, the
    kernel kills every process of the namespace: nothing of the user's labs runs on."""
    # (The holder waits for "ready" below, so it is alive when this is set. Its pid is 0
    # here: it is outside this PID namespace.)
    _sys.prctl(_sys.PR_SET_PDEATHSIG, signal.SIGKILL)
    _sys.mount("proc", "/proc", "proc", _sys.MS_NOSUID | _sys.MS_NODEV | _sys.MS_NOEXEC)
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    _become("init", ready, keep=(ready,), block=rootless_waiter.INIT_SIGNALS)


def _holder(out: int, sync: int, mapped: int) -> int:
    """The holder's life: make the namespaces (its parent maps the ids: it is told on
    ``sync``, answers on ``mapped``) and the PID namespace's init, say "ready" on ``out``,
    then wait for "stop" (or for the init to end)."""
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
    try:
        listener.bind(socket_name())  # (in the machine's network namespace, before leaving it)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            return 3  # another holder is there or starting
        raise
    uid, gid = os.getuid(), os.getgid()
    _sys.unshare(CLONE_NEWUSER | _sys.CLONE_NEWNS | _sys.CLONE_NEWNET | CLONE_NEWPID)
    os.write(sync, b"u")
    os.close(sync)
    with os.fdopen(mapped, "rb") as answer:
        done = answer.read().decode()
    if "g" not in done:
        # (The kernel's condition for a process mapping gid 0 by itself.)
        _sys.write_once("/proc/self/setgroups", "deny")
        _sys.write_once("/proc/self/gid_map", f"0 {gid} 1")
    if "u" not in done:
        _sys.write_once("/proc/self/uid_map", f"0 {uid} 1")
    # Nothing mounted here goes back to the machine; its unmounts still reach us.
    _sys.mount("none", "/", None, _sys.MS_REC | _sys.MS_SLAVE)
    _copy_up("/run", RUN_OWN, RUN_SIZE)
    _copy_up("/etc", ETC_OWN, ETC_SIZE)
    os.mkdir(HOME_DIR, 0o755)
    os.close(os.open(HOME_NETNS, os.O_CREAT | os.O_WRONLY | os.O_CLOEXEC, 0o444))
    _sys.mount("/proc/self/ns/net", HOME_NETNS, None, _sys.MS_BIND)
    ready_r, ready_w = os.pipe()
    init = os.fork()  # (the first child: PID 1 of the new PID namespace)
    if init == 0:
        code = 1
        try:
            os.close(ready_r)
            listener.close()
            _init(ready_w)
        except BaseException as exc:
            print(f"netlab rootless init: {one_line(exc)}", file=sys.stderr)
        finally:
            os._exit(code)
    os.close(ready_w)
    with os.fdopen(ready_r, "rb") as said:
        if said.read(1) != b"i":
            os.waitpid(init, 0)
            return 1
    listener.listen(16)
    os.write(out, b"ready\n")
    os.close(out)
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    os.close(devnull)
    fd = listener.detach()
    _become("holder", fd, init, keep=(fd,), block=rootless_waiter.HOLDER_SIGNALS)


def _daemon() -> int:
    """Start the holder in a child and pass its "ready" on, then end: the holder's parent is
    then init (or the session's subreaper), which reaps it whenever it ends."""
    read_end, write_end = os.pipe()
    sync_r, sync_w = os.pipe()
    mapped_r, mapped_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        for fd in (read_end, sync_r, mapped_w):
            os.close(fd)
        code = 1
        try:
            code = _holder(write_end, sync_w, mapped_r)
        except BaseException as exc:
            print(f"netlab rootless holder: {one_line(exc)}", file=sys.stderr)
        finally:
            os._exit(code)
    for fd in (write_end, sync_w, mapped_r):
        os.close(fd)
    if os.read(sync_r, 1) == b"u":  # the holder has its user namespace: map its ids
        os.write(mapped_w, _map_ids(pid).encode())
    os.close(sync_r)
    os.close(mapped_w)
    with os.fdopen(read_end, "rb") as said:
        line = said.readline()
    if line == b"ready\n":
        sys.stdout.buffer.write(line)
        return 0
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) or 1


def main(argv: Sequence[str]) -> int:
    """``python -m netlab.rootless holder | run -- ARGV | kernel -- ARGV | stop``."""
    if not argv:
        print("usage: python -m netlab.rootless holder | run|kernel -- ARGV | stop")
        return 2
    what, rest = argv[0], list(argv[1:])
    if rest[:1] == ["--"]:
        rest = rest[1:]
    if what == "holder":
        return _daemon()
    if what == "stop":
        return 0 if stop() else 1
    if what in ("run", "kernel") and rest:
        if os.geteuid() != 0 and not inside():
            try:
                enter(net=what == "run", kernel=what == "kernel")
            except RootlessError as exc:
                print(f"netlab: {exc}", file=sys.stderr)
                if what == "run":
                    return 1
                # A notebook kernel starts anyway (the notebooks open, their stored outputs
                # can be read); building a lab in it then says why it cannot, in one line.
                os.environ[ERROR_VARIABLE] = str(exc)
        os.execvp(rest[0], rest)
    print(f"netlab: unknown use {' '.join(argv)!r}", file=sys.stderr)
    return 2
