"""The cgroup freezer: how ``docker pause`` stops a container's processes without ending them.

A paused container's processes are still there (``docker top`` lists them, their memory and
sockets stay) but the kernel schedules none of them. What a student sees: a web server in it
no longer answers (the kernel still completes the TCP handshake into the listening socket's
backlog, but nobody accepts), while ``ping`` still does, because the kernel itself answers an
echo request in the container's network namespace, frozen processes or not (as on Docker).

Docker's runtime (runc) does it with the container's cgroup; netlab's containers have no cgroup
of their own, so pausing makes one, moves the processes into it and freezes it:

* **cgroup v1** (a ``freezer`` hierarchy, e.g. ``/sys/fs/cgroup/freezer`` on a hybrid
  machine): ``echo FROZEN > freezer.state``, then read it again until it says ``FROZEN`` (it
  says ``FREEZING`` while some task has not stopped yet; as runc does, the request is
  repeated meanwhile). ``THAWED`` undoes it.
* **cgroup v2** (``/sys/fs/cgroup`` is ``cgroup2``): ``echo 1 > cgroup.freeze``, then wait
  until ``cgroup.events`` says ``frozen 1``; ``0`` undoes it.

netlab's cgroups live under a folder of its own, ``<root>/netlab/<lab>/<container id 12>``
(``<root>``: the v1 freezer's mount, else the v2 mount, else, without root, the topmost
cgroup2 folder above this process that this user may write: a delegated one), so a lab's
leftovers are found again by name and nothing else is ever touched; the lab's folder and
``netlab`` itself go when they are empty. Processes are moved by pid, one ``write`` to
``cgroup.procs`` each, and each one's cgroup before the move is read from ``/proc/PID/cgroup``,
so thawing puts every process back where it came from.

Kernel behaviour that matters (measured on 6.18):

* a **v1-frozen** task does not die of SIGKILL: it stays in ``D`` state until thawed, then
  dies. Anything that kills a paused container (``docker rm -f``, ``stop``, ``kill``, a lab's
  clean-up) must thaw after signalling, as moby's daemon/kill.go does (it resumes the task
  after the kill signal), or it waits for ever; a **v2-frozen** task dies of SIGKILL at once;
* a cgroup can only be removed (``rmdir``) once no live task is in it (``EBUSY`` before);
  killed tasks leave it as they exit, a moment after the signal;
* a process forked by a member of a cgroup is born in it: processes are moved until a scan
  of the container finds none left outside, then the cgroup is frozen.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from netlab.kernel import _sys, trace, userns

V1_MOUNT = "/sys/fs/cgroup/freezer"  # (where a v1 freezer is usually mounted; mountinfo says)
PARENT = "netlab"
TIMEOUT = 5.0  # seconds for the kernel to freeze or thaw every task of a cgroup
RMDIR_TIMEOUT = 5.0  # seconds for killed tasks to leave a cgroup
MOUNTINFO = "/proc/self/mountinfo"


class FreezerError(RuntimeError):
    """No freezer that netlab may use, or a freeze that the kernel did not complete (the
    text says what is missing)."""


@dataclass(frozen=True)
class Hierarchy:
    """A cgroup hierarchy that can freeze: its version, where it is mounted, the part of the
    hierarchy the mount shows (``/`` unless a container sees only its own subtree), and the
    folder under which netlab makes its cgroups."""

    version: int  # 1 (the freezer controller), 2 (cgroup.freeze) or 0 (SIGNALS)
    mount: str
    mount_root: str
    base: str  # <base>/netlab/<lab>/<name>


# Where a frozen container's processes came from: (pid, cgroup folder).
Origins = tuple[tuple[int, str], ...]

# Rootless without a cgroup of its own to write (cgroup v1, or a cgroup2 not delegated to the
# user), netlab stops a paused container's processes with SIGSTOP and resumes them with
# SIGCONT, as the freezer's stand-in: what a student sees is the same (the server does not
# answer, the kernel still answers ping, `docker top` shows the processes, state T rather
# than D). Real rootless Docker cannot pause there at all ("cgroup v2 and systemd needed").
SIGNALS = Hierarchy(0, "", "", "")
SIGNALS_PREFIX = "signals:"


def _mounts() -> list[tuple[str, str, str, list[str]]]:
    """The cgroup mounts: (root in the hierarchy, mount point, fstype, super options)."""
    out = []
    try:
        with open(MOUNTINFO) as f:
            lines = f.read().splitlines()
    except OSError:
        return []
    for line in lines:
        before, _, after = line.partition(" - ")
        fields, tail = before.split(), after.split()
        if len(fields) < 5 or len(tail) < 3 or tail[0] not in ("cgroup", "cgroup2"):
            continue
        point = fields[4].replace("\\040", " ")
        out.append((fields[3], point, tail[0], tail[2].split(",")))
    return out


def _writable(folder: str) -> bool:
    procs = os.path.join(folder, "cgroup.procs")
    return os.access(folder, os.W_OK) and os.access(procs, os.W_OK)


def _own_v2_cgroup() -> str:
    """This process's cgroup in the v2 hierarchy (``0::/PATH``), or ""."""
    with contextlib.suppress(OSError), open("/proc/self/cgroup") as f:
        for line in f:
            if line.startswith("0::"):
                return line[3:].strip()
    return ""


def _in_mount(rel: str, mount: str, mount_root: str) -> str | None:
    """The folder under ``mount`` of the hierarchy path ``rel`` (None if the mount does not
    show it)."""
    root = mount_root.rstrip("/")
    if root and rel != root and not rel.startswith(root + "/"):
        return None
    return os.path.normpath(os.path.join(mount, rel[len(root) :].lstrip("/")))


def hierarchies() -> list[Hierarchy]:
    """Every freezer netlab could use here, the preferred first (a v1 freezer, as runc
    prefers it on a hybrid machine; then cgroup2), whether or not it may write there."""
    v1, v2 = [], []
    for root, point, fstype, opts in _mounts():
        if fstype == "cgroup" and "freezer" in opts:
            v1.append(Hierarchy(1, point, root, point))
        elif fstype == "cgroup2":
            v2.append(Hierarchy(2, point, root, point))
    return v1[:1] + v2[:1] + ([SIGNALS] if userns.inside() else [])


def find() -> Hierarchy:
    """The freezer netlab uses: the first of :func:`hierarchies` where it may make cgroups
    (on cgroup2 without root, a delegated folder above this process); FreezerError naming
    what is missing if none."""
    found = hierarchies()
    if not found:
        raise FreezerError(
            "no cgroup freezer: neither a cgroup v1 freezer hierarchy nor cgroup2 is mounted"
        )
    why = []
    for h in found:
        if h.version == 0 or _writable(h.base):
            return h
        if h.version == 2:
            own = _in_mount(_own_v2_cgroup(), h.mount, h.mount_root)
            best = None
            while own and own.startswith(h.mount + "/") and _writable(own):
                best, own = own, os.path.dirname(own)
            if best is not None:
                return Hierarchy(2, h.mount, h.mount_root, best)
        why.append(unusable(h.mount, h.version, read_only=_read_only(h.mount)))
    raise FreezerError(no_freezer(why))


def unusable(mount: str, version: int, *, read_only: bool) -> str:
    """Why a freezer hierarchy cannot be used, in the words of :func:`no_freezer`."""
    name = "cgroup v1 freezer" if version == 1 else "cgroup2"
    return f"{mount} ({name}) is {'read-only' if read_only else 'not writable by this user'}"


def no_freezer(why: Iterable[str]) -> str:
    """The one line that says no freezer may be used, naming each hierarchy's problem."""
    return (
        "no cgroup freezer netlab may use: "
        + " and ".join(why)
        + " (run netlab as root with /sys/fs/cgroup mounted read-write, or in a delegated "
        "cgroup2 folder)"
    )


def _read_only(path: str) -> bool:
    try:
        return bool(os.statvfs(path).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def _version(path: str) -> int:
    """1 or 2: which freezer a cgroup folder has."""
    if os.path.exists(os.path.join(path, "freezer.state")):
        return 1
    if os.path.exists(os.path.join(path, "cgroup.freeze")):
        return 2
    raise FreezerError(f"{path} has neither freezer.state nor cgroup.freeze")


def _read(path: str) -> str:
    with open(path) as f:
        return f.read()


def _origin(pid: int, h: Hierarchy) -> str | None:
    """The cgroup folder (under the mount) that ``pid`` is in now; None if it is gone."""
    try:
        text = _read(f"/proc/{pid}/cgroup")
    except OSError:
        return None
    for line in text.splitlines():
        _, controllers, rel = line.split(":", 2)
        if (h.version == 2 and controllers == "") or (
            h.version == 1 and "freezer" in controllers.split(",")
        ):
            return _in_mount(rel, h.mount, h.mount_root) or h.mount
    return h.mount


def _procs(path: str) -> list[int]:
    try:
        return [int(x) for x in _read(os.path.join(path, "cgroup.procs")).split()]
    except OSError:
        return []


def _move(pid: int, path: str) -> bool:
    """Move ``pid`` (the whole process) into the cgroup ``path``; False if it is gone."""
    try:
        _sys.write_once(os.path.join(path, "cgroup.procs"), str(pid))
    except ProcessLookupError:
        return False
    except OSError as exc:
        if exc.errno == errno.ESRCH:
            return False
        raise
    return True


def _set_frozen(path: str, frozen: bool, timeout: float = TIMEOUT) -> None:
    """Freeze or thaw the cgroup ``path`` and wait until the kernel says it is done."""
    version = _version(path)
    if version == 1:
        want = "FROZEN" if frozen else "THAWED"
        trace.record(f"echo {want} > {path}/freezer.state")
        state = os.path.join(path, "freezer.state")
        deadline = time.monotonic() + timeout
        while True:
            _sys.write_once(state, want)  # (again each round: tasks forked meanwhile, as runc does)
            if _read(state).strip() == want:
                return
            if time.monotonic() > deadline:
                break
            time.sleep(0.001)
    else:
        trace.record(f"echo {int(frozen)} > {path}/cgroup.freeze")
        _sys.write_once(os.path.join(path, "cgroup.freeze"), str(int(frozen)))
        events = os.path.join(path, "cgroup.events")
        deadline = time.monotonic() + timeout
        while True:
            if f"frozen {int(frozen)}" in _read(events).splitlines():
                return
            if time.monotonic() > deadline:
                break
            time.sleep(0.001)
    what = "freeze" if frozen else "thaw"
    raise FreezerError(f"the kernel did not {what} {path} within {timeout:.0f} s")


def cgroup_path(h: Hierarchy, lab: str, name: str) -> str:
    """The folder of a container's cgroup."""
    return os.path.join(h.base, PARENT, lab, name)


def freeze(lab: str, name: str, pids: Callable[[], Iterable[int]]) -> tuple[str, Origins]:
    """Freeze the processes that ``pids()`` lists (asked again until none is left outside):
    make the cgroup ``netlab/LAB/NAME``, move them into it, freeze it. Return its folder and
    where each process came from (for :func:`thaw`). On any failure nothing stays: the
    processes go back, the cgroup goes, and FreezerError says why."""
    h = find()
    if h.version == 0:
        return _stop_all(lab, name, pids)
    path = cgroup_path(h, lab, name)
    for folder in (os.path.dirname(os.path.dirname(path)), os.path.dirname(path), path):
        try:
            os.mkdir(folder)
            trace.record(f"mkdir {folder}")
        except FileExistsError:
            pass
        except OSError as exc:
            _remove_empty(path)
            raise FreezerError(f"cannot make {folder}: {exc.strerror}") from None
    origins: dict[int, str] = {}
    try:
        _version(path)  # (a cgroup2 without cgroup.freeze: Linux before 5.2)
        for _ in range(100):
            new = [p for p in pids() if p not in origins]
            if not new:
                break
            for pid in new:
                origin = _origin(pid, h)
                if origin is not None and _move(pid, path):
                    trace.record(f"echo {pid} > {path}/cgroup.procs")
                    origins[pid] = origin
        _set_frozen(path, True)
        for pid in pids():  # (one that a moved process forked just then is in the cgroup)
            if pid not in origins and (origin := _origin(pid, h)) is not None:
                _move(pid, path)
                origins[pid] = origin
    except BaseException as exc:
        with contextlib.suppress(Exception):
            thaw(path, tuple(origins.items()))
        if isinstance(exc, OSError):
            raise FreezerError(f"cannot freeze {path}: {exc.strerror or exc}") from None
        raise
    return path, tuple(origins.items())


def thaw(path: str, origins: Origins = (), *, keep: bool = False) -> None:
    """Thaw the cgroup ``path``, move its processes back where they came from (``origins``;
    one netlab did not move in, forked meanwhile, goes where the first one came from), and
    remove it (and netlab's folders above it once empty). A cgroup that is gone already is
    nothing to do. ``keep``: only thaw (the processes stay, and so does the cgroup)."""
    if path.startswith(SIGNALS_PREFIX):
        _continue_all(origins)
        return
    if not os.path.isdir(path):
        return
    with contextlib.suppress(FreezerError, FileNotFoundError):
        _set_frozen(path, False)
    if keep:
        return
    back = dict(origins)
    default = next(iter(back.values()), os.path.dirname(path))
    deadline = time.monotonic() + RMDIR_TIMEOUT
    while True:
        for pid in _procs(path):
            with contextlib.suppress(OSError):
                _move(pid, back.get(pid, default) if os.path.isdir(back.get(pid, "")) else default)
        try:
            os.rmdir(path)
            trace.record(f"rmdir {path}")
            break
        except FileNotFoundError:
            break
        except OSError as exc:
            if exc.errno != errno.EBUSY or time.monotonic() > deadline:
                raise FreezerError(f"cannot remove {path}: {exc.strerror}") from None
            time.sleep(0.002)  # (killed tasks still leaving it)
    _remove_empty(path)


def _stopped(pid: int) -> bool | None:
    """True once ``pid`` is stopped (state T), None once it is gone."""
    try:
        state = _read(f"/proc/{pid}/stat").rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return None
    return None if state in ("Z", "X") else state in ("T", "t")


def _stop_all(lab: str, name: str, pids: Callable[[], Iterable[int]]) -> tuple[str, Origins]:
    """The :data:`SIGNALS` freeze: SIGSTOP each process ``pids()`` lists (asked again until
    none is new), then wait until the kernel shows each stopped."""
    stopped: dict[int, str] = {}
    try:
        for _ in range(100):
            new = [p for p in pids() if p not in stopped]
            if not new:
                break
            for pid in new:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGSTOP)
                    trace.record(f"kill -STOP {pid}")
                stopped[pid] = ""
        deadline = time.monotonic() + TIMEOUT
        while any(_stopped(p) is False for p in stopped):
            if time.monotonic() > deadline:
                raise FreezerError(f"the kernel did not stop the processes of {name} in time")
            time.sleep(0.001)
    except BaseException:
        _continue_all(tuple(stopped.items()))
        raise
    return f"{SIGNALS_PREFIX}{lab}/{name}", tuple(stopped.items())


def _continue_all(origins: Origins) -> None:
    for pid, _ in origins:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGCONT)
            trace.record(f"kill -CONT {pid}")


def _remove_empty(path: str) -> None:
    """Remove the lab's folder and ``netlab`` above ``path`` if they are empty."""
    for folder in (os.path.dirname(path), os.path.dirname(os.path.dirname(path))):
        if (
            os.path.basename(os.path.dirname(folder)) != PARENT
            and os.path.basename(folder) != PARENT
        ):
            return
        try:
            os.rmdir(folder)
        except OSError:
            return


def lab_cgroups(lab: str) -> list[str]:
    """The cgroups netlab made for lab ``lab`` in every freezer hierarchy (leftovers too)."""
    out = []
    for h in _bases():
        folder = os.path.join(h, PARENT, lab)
        with contextlib.suppress(OSError):
            out += [os.path.join(folder, e.name) for e in os.scandir(folder) if e.is_dir()]
    return sorted(out)


def lab_names() -> list[str]:
    """The labs that have cgroups of netlab's (for ``netlab clean --all``)."""
    out: set[str] = set()
    for h in _bases():
        with contextlib.suppress(OSError):
            out |= {e.name for e in os.scandir(os.path.join(h, PARENT)) if e.is_dir()}
    return sorted(out)


def _bases() -> list[str]:
    bases = [h.base for h in hierarchies() if h.version]
    with contextlib.suppress(FreezerError):
        if (h := find()).version:
            bases.append(h.base)
    return sorted(set(bases))


def remove_lab(lab: str, *, keep: bool = False) -> int:
    """Thaw every cgroup of lab ``lab`` (``keep``: and leave them, e.g. before its processes
    are killed), else remove them too; return how many there were."""
    found = lab_cgroups(lab)
    for path in found:
        with contextlib.suppress(FreezerError):
            thaw(path, keep=keep)
    return len(found)
