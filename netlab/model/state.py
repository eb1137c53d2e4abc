"""The small on-disk state of a lab, shared by every process that works on it.

The kernel holds the real network; this store holds what the kernel cannot: Docker's
identities (IDs, names), what each container runs, and counters. A notebook, a terminal and
the ``netlab`` command all read and write the same store, so they see the same lab.

Layout (``/run/netlab`` is a small tmpfs of netlab's own, mounted with the first lab and
removed with the last, so the state lives in memory and dies with the namespaces at reboot)::

    /run/netlab/<lab>/lab.json              the lab: hosts, networks, the swarm
    /run/netlab/<lab>/containers/<id>.json  one file per container
    /run/netlab/<lab>/logs/<id>.log[.N]     its output (docker logs), rotated; logs/ is a
                                            tmpfs of the lab's own (see model/logs.py)
    /run/netlab/<lab>/containers/<id>.hosts its /etc/hosts (bind-mounted in the container)
    /run/netlab/<lab>/containers/<id>.exit  its exit code, written when it ends by itself
    /run/netlab/<lab>/seq.json              a generation number bumped by every change (readers
                                            reload when it moved) and the ID counters
    /run/netlab/<lab>/lock                  flock(2) held while changing anything
    /run/netlab/<lab>/namespaces            the ledger: each namespace made, with its inode
                                            and cookie (see :mod:`netlab.model.sweep`)

Both kinds of JSON file hold typed records (:mod:`netlab.model.records`) and the schema
version; this module is the only place that reads or writes them.

The lab's folder is created before any kernel object and removed after the last one, so a
lab killed at any moment can always be found again by ``netlab clean``.

Why a tmpfs of its own: ``/run`` is a tmpfs on a systemd machine, but not in a container or on
a machine whose root file system holds /run. There, each new file costs a disk file system's
inode allocation, measured at 0.2-0.5 ms on an ext4 root without a journal (whose allocator
steps over every inode freed in the last minutes), which made a container's few state files
cost as much as its whole network. On tmpfs a new file costs about 5 us.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import json
import os
import shutil
import threading
import uuid
from collections.abc import Iterator
from typing import Any, TypeVar

from netlab.errors import LabBroken, LabRebuilt, NoSuchLab
from netlab.kernel import _sys, containers, rtnl, userns
from netlab.model import logs
from netlab.model.records import (
    SCHEMA,
    ContainerRec,
    HostRec,
    LabRec,
    NetworkRec,
    SwarmRec,
    from_json,
    to_json,
)

ROOT = "/run/netlab"
TMPFS_OPTIONS = "mode=0755,size=25%"
# Rootless, each user's state has a tmpfs of its own (in the user's mount namespace): a
# small one, so that a class of users cannot together take the machine's memory. (Container
# logs have a tmpfs of their own per lab, see model/logs.py; a lab of 1000 containers keeps
# about 10 MB here.)
TMPFS_OPTIONS_ROOTLESS = "mode=0755,size=64m"
# Where a Docker host keeps its containers' network namespaces (``SandboxKey``). A Docker
# host's commands see the lab's folder of them there (:func:`netlab.kernel.proc.netns_prefix`),
# over an empty folder that netlab makes if the machine has none, and removes with its last
# lab (the file ``MADE_MARK`` in ``ROOT`` says which folders it made).
DOCKER_NETNS = "/run/docker/netns"
MADE_MARK = ".made"

R = TypeVar("R")


def removed_message(name: str) -> str:
    """What a notebook says when its lab is gone (its last cell ran ``lab.down()``, or
    ``netlab clean`` ran elsewhere). Noticing it is also when this process lets go of the
    lab's namespaces it still held (see :func:`rtnl.forget_gone`)."""
    rtnl.forget_gone()
    return (
        f"lab {name!r} was removed (by lab.down(), as a lab's last cell does, also after Run "
        "All, or by `netlab clean`): build it again by running the cells from the top down "
        "to this one (Run > Run All Above Selected Cell), then this cell"
    )


def lab_dir(lab: str) -> str:
    """Where a lab's state lives."""
    return os.path.join(ROOT, lab)


def ledger_path(lab: str) -> str:
    """The lab's ledger: every namespace it made, as born (see :mod:`netlab.model.sweep`)."""
    return os.path.join(ROOT, lab, "namespaces")


def lab_names() -> list[str]:
    """Names of the labs that have state on this machine."""
    try:
        return sorted(n for n in os.listdir(ROOT) if os.path.isdir(os.path.join(ROOT, n)))
    except FileNotFoundError:
        return []


@contextlib.contextmanager
def _machine_lock() -> Iterator[None]:
    """Serialise making and removing lab folders (and the tmpfs) between netlab processes.

    The lock is a flock(2) on ``/run`` itself: nothing to create, nothing left behind.
    """
    fd = os.open(os.path.dirname(ROOT), os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the flock


def _mount_root() -> None:
    """Give ``/run/netlab`` its tmpfs (call under :func:`_machine_lock`).

    Left as a plain folder if it already holds something (an older netlab's labs stay in
    sight of ``netlab clean``) or if mounting is not allowed here.
    """
    if os.path.ismount(ROOT):
        return
    os.makedirs(ROOT, mode=0o755, exist_ok=True)
    if os.listdir(ROOT) or not _in_machines_mount_ns():
        return
    options = TMPFS_OPTIONS_ROOTLESS if userns.inside() else TMPFS_OPTIONS
    with contextlib.suppress(OSError):
        _sys.mount("netlab", ROOT, "tmpfs", _sys.MS_NOSUID | _sys.MS_NODEV, options)


def _make_docker_netns() -> None:
    """Make :data:`DOCKER_NETNS` (and ``/run/docker``) where the machine has none, noting
    which in ``ROOT/.made`` (under :func:`_machine_lock`)."""
    made = []
    for folder in (os.path.dirname(DOCKER_NETNS), DOCKER_NETNS):
        if not os.path.isdir(folder):
            with contextlib.suppress(OSError):
                os.mkdir(folder, 0o700 if folder != DOCKER_NETNS else 0o755)
                made.append(folder)
    if made:
        with open(os.path.join(ROOT, MADE_MARK), "a") as f:
            f.write("".join(m + "\n" for m in made))


def _remove_docker_netns() -> None:
    """Remove the folders :func:`_make_docker_netns` made (if still empty), and the note."""
    mark = os.path.join(ROOT, MADE_MARK)
    try:
        with open(mark) as f:
            made = f.read().split()
    except FileNotFoundError:
        return
    for folder in reversed(made):
        with contextlib.suppress(OSError):
            os.rmdir(folder)
    os.unlink(mark)


def _in_machines_mount_ns() -> bool:
    """True if this process sees the machine's mounts (those of pid 1). A process in a mount
    namespace of its own (a service with PrivateTmp=, say) would mount a tmpfs that nobody
    else sees: the notebook's labs would vanish from a terminal's ``netlab ls``."""
    try:
        return os.stat("/proc/self/ns/mnt").st_ino == os.stat("/proc/1/ns/mnt").st_ino
    except OSError:
        return True  # pid 1 hides its namespaces (a sandbox's init): nothing says otherwise


def _unmount_root() -> None:
    """Remove ``/run/netlab`` (and its tmpfs) once no lab is left in it (under the lock)."""
    try:
        if set(os.listdir(ROOT)) - {MADE_MARK}:
            return
    except FileNotFoundError:
        return
    _remove_docker_netns()
    if os.path.ismount(ROOT):
        _sys.umount2(ROOT, _sys.MNT_DETACH)
    with contextlib.suppress(OSError):
        os.rmdir(ROOT)
    containers.forget_small_mount_ns()  # (it may still hold the tmpfs, and other mounts)


def _mount_logs(path: str) -> None:
    """Give a lab's logs folder a tmpfs of its own (:data:`logs.LAB_LOG_SPACE`), so that its
    containers' output cannot fill the state of every lab; a plain folder where mounting is
    not allowed, or in a process that does not see the machine's mounts."""
    os.makedirs(path, exist_ok=True)
    if os.path.ismount(path) or not os.path.ismount(ROOT) or not _in_machines_mount_ns():
        return  # (where the state has no tmpfs of its own, its labs' logs get none either)
    with contextlib.suppress(OSError):
        _sys.mount(
            "netlab-logs",
            path,
            "tmpfs",
            _sys.MS_NOSUID | _sys.MS_NODEV,
            f"mode=0755,size={logs.LAB_LOG_SPACE}",
        )


def _unmount_logs(path: str) -> None:
    """Empty a lab's logs folder and let go of its tmpfs (files first: a mount namespace
    that still holds the tmpfs then holds nothing in it)."""
    with contextlib.suppress(FileNotFoundError):
        for entry in os.scandir(path):
            with contextlib.suppress(FileNotFoundError, IsADirectoryError):
                os.unlink(entry.path)
    if os.path.ismount(path):
        with contextlib.suppress(OSError):
            _sys.umount2(path, _sys.MNT_DETACH)


def release_root() -> None:
    """Remove ``/run/netlab`` and its tmpfs if no lab is left in it."""
    with _machine_lock():
        _unmount_root()


def _write_record(path: str, record: object) -> None:
    """A record as JSON, with the schema version (see :mod:`netlab.model.records`)."""
    _write_json(path, {"schema": SCHEMA, "record": to_json(record)})


def _write_json(path: str, obj: Any) -> None:
    tmp = f"{path}.tmp{os.getpid()}.{threading.get_native_id()}"
    with open(tmp, "w") as f:
        # (No indent: json's C encoder only runs without one, and is ~10x faster.)
        f.write(json.dumps(obj, sort_keys=True, separators=(",", ":")))
    os.replace(tmp, path)


class Store:
    """Read and change one lab's state; a cache is reloaded when another process wrote."""

    def __init__(self, lab: str) -> None:
        self.lab = lab
        self.dir = lab_dir(lab)
        self._tlock = threading.RLock()
        self._depth = 0
        self._lock_fd = -1
        self._synced = False  # True while we hold the lock and the cache is up to date
        self._synced_by = 0  # the thread that holds the lock (others still read the files)
        self._seen: tuple[str, int] = ("", -1)
        self._build = ""
        self._pinned = ""  # the build this store works on (set by create or pin, never reset)
        self._lab: LabRec | None = None
        self._counters: dict[str, int] = {}
        self._containers: dict[str, ContainerRec] = {}
        self._ordered: dict[str, ContainerRec] | None = None  # by seq, made when asked

    # -- existence ---------------------------------------------------------------------------

    def exists(self) -> bool:
        """True when the lab has a state folder with a lab record."""
        return os.path.exists(os.path.join(self.dir, "lab.json"))

    def create(self, record: LabRec) -> None:
        """Make the folder and the first lab record (the lab's first act, before the kernel).

        Each build gets a random build ID, so that a process holding a cache of an earlier
        build of the same lab (deterministic, so otherwise identical) notices the rebuild.
        """
        with _machine_lock():
            _mount_root()
            if os.path.ismount(ROOT):  # (netlab's own state tmpfs: the machine's /run)
                _make_docker_netns()
            os.makedirs(os.path.join(self.dir, "containers"), exist_ok=True)
        _mount_logs(os.path.join(self.dir, "logs"))
        self._build = self._pinned = uuid.uuid4().hex
        record = dataclasses.replace(record, build=self._build)
        with self.locked(creating=True):
            _write_record(os.path.join(self.dir, "lab.json"), record)
            self._lab = record
            self._counters = {}
            self._containers = {}
            self._ordered = None
            self._bump()

    def pin(self) -> str:
        """Work on the lab's build as it is now, and refuse to act on a later one (a handle of
        a lab that was built again must not act on the new lab's same-named objects)."""
        with self.locked():  # (a build in progress holds the lock: this waits for its end)
            self._pinned = self._build = self.current_build()
        return self._pinned

    def destroy(self, *, keep_lock: bool = False) -> None:
        """Remove the whole folder (the lab's last act, after the kernel objects are gone).

        With ``keep_lock`` (the lab is being built again, by the holder of its lock) the lock
        file stays, so that everyone waiting for the lab waits for the new build too.
        """
        _unmount_logs(os.path.join(self.dir, "logs"))
        with _machine_lock():
            if keep_lock:
                with contextlib.suppress(FileNotFoundError):
                    for entry in os.scandir(self.dir):
                        if entry.name == "lock":
                            continue
                        if entry.is_dir(follow_symlinks=False):
                            shutil.rmtree(entry.path, ignore_errors=True)
                        else:
                            with contextlib.suppress(FileNotFoundError):
                                os.unlink(entry.path)
            else:
                shutil.rmtree(self.dir, ignore_errors=True)
                _unmount_root()  # only when no other lab is left
        self._build = ""
        self._seen = ("", -1)
        self._lab = None
        self._containers = {}
        self._ordered = None

    # -- locking and generations ---------------------------------------------------------------

    @contextlib.contextmanager
    def claim(self) -> Iterator[LabRec | None]:
        """Hold the lab's lock for a whole build, creating its folder if needed; yield the lab
        record found there (None if there is none, or an unreadable one).

        Whoever else wants the lab (another build, ``docker run``, ``netlab down``) waits
        until the build is done. The lock file may have been removed (a ``netlab down``)
        while we waited for it: then it is made again and waited for anew.
        """
        with self._tlock:
            if self._depth:
                raise RuntimeError("Store.claim() inside locked()")
            lock = os.path.join(self.dir, "lock")
            while True:
                with _machine_lock():
                    _mount_root()
                    os.makedirs(self.dir, exist_ok=True)
                fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
                fcntl.flock(fd, fcntl.LOCK_EX)
                try:
                    here = os.stat(lock)
                except FileNotFoundError:
                    here = None
                mine = os.fstat(fd)
                if here is not None and (here.st_dev, here.st_ino) == (mine.st_dev, mine.st_ino):
                    break
                os.close(fd)  # (a lock file removed while we waited: nobody waits on it)
            self._lock_fd, self._depth = fd, 1
            try:
                previous: LabRec | None = None
                with contextlib.suppress(FileNotFoundError, LabBroken, ValueError, TypeError):
                    previous = self._read(os.path.join(self.dir, "lab.json"), LabRec)
                self._synced = False
                yield previous
            finally:
                self._depth = 0
                self._synced = False
                os.close(fd)
                self._lock_fd = -1

    @contextlib.contextmanager
    def locked(self, *, creating: bool = False) -> Iterator[None]:
        """Hold the lab's lock (re-entrant in this process); reload first if others wrote.

        Raises :class:`NoSuchLab` if the lab was removed meanwhile (by another process,
        ``netlab clean``), instead of writing into a ghost folder.
        """
        with self._tlock:
            if self._depth == 0:
                if creating:
                    os.makedirs(self.dir, exist_ok=True)
                try:
                    self._lock_fd = os.open(
                        os.path.join(self.dir, "lock"), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644
                    )
                except FileNotFoundError:
                    raise self._gone() from None
                fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
                if not creating and not self.exists():
                    os.close(self._lock_fd)
                    self._lock_fd = -1
                    raise self._gone()
            self._depth += 1
            try:
                self.refresh()
                self._synced, self._synced_by = True, threading.get_ident()
                yield
            finally:
                self._depth -= 1
                if self._depth == 0:
                    self._synced = False
                    os.close(self._lock_fd)  # closing releases the flock
                    self._lock_fd = -1

    def _rebuilt(self) -> Exception:
        return LabRebuilt(
            f"lab {self.lab!r} was built anew since this was opened (by Lab({self.lab!r}) or "
            f"`netlab up --replace {self.lab}`, here or in another process): run the command "
            f"again, or use the new lab (Lab.attach({self.lab!r}))"
        )

    def _gone(self) -> Exception:
        rtnl.forget_gone()  # (what this process still held of it: the namespaces end now)

        return NoSuchLab(
            f"lab {self.lab!r} was removed (by `netlab clean`, another notebook or "
            f"a terminal); build it again with Lab({self.lab!r})"
        )

    def _read_seq(self) -> tuple[tuple[str, int], dict[str, int]]:
        try:
            with open(os.path.join(self.dir, "seq.json")) as f:
                data = json.load(f)
            return (str(data["build"]), int(data["generation"])), dict(data["counters"])
        except (FileNotFoundError, ValueError, KeyError, TypeError):
            return ("", 0), {}

    def _bump(self) -> None:
        if self._synced:
            gen = self._seen[1]  # we hold the lock: the file says what we last wrote or read
        else:
            (build, gen), _ = self._read_seq()
            if build and build != self._build:
                raise self._rebuilt()  # rebuilt by someone else since our last refresh
        seen = (self._build, gen + 1)
        _write_json(
            os.path.join(self.dir, "seq.json"),
            {"build": self._build, "generation": gen + 1, "counters": self._counters},
        )
        self._seen = seen

    def refresh(self) -> None:
        """Reload the cache if another process changed the lab since we last looked."""
        if self._synced and self._synced_by == threading.get_ident():
            return  # we hold the lock: nobody else can have written since we looked
        seen, counters = self._read_seq()
        if seen == self._seen:
            return
        if seen[0]:
            if self._pinned and seen[0] != self._pinned:
                raise self._rebuilt()
            self._build = seen[0]
        self._counters = counters
        try:
            self._lab = self._read(os.path.join(self.dir, "lab.json"), LabRec)
        except FileNotFoundError:
            self._lab = None
        containers: dict[str, ContainerRec] = {}
        cdir = os.path.join(self.dir, "containers")
        with contextlib.suppress(FileNotFoundError):
            for entry in os.scandir(cdir):
                if entry.name.endswith(".json"):
                    with contextlib.suppress(FileNotFoundError, json.JSONDecodeError):
                        rec = self._read(entry.path, ContainerRec)
                        containers[rec.id] = rec
        self._containers = containers
        self._ordered = None
        self._seen = seen

    def _read(self, path: str, cls: type[R]) -> R:
        with open(path) as f:
            data = json.load(f)
        if not isinstance(data, dict) or data.get("schema") != SCHEMA:
            raise LabBroken(
                f"lab {self.lab!r} was written by another version of netlab ({path}); "
                f"remove it with `netlab clean {self.lab}` and build it again"
            )
        return from_json(cls, data["record"])

    # -- records -----------------------------------------------------------------------------

    @property
    def lab_record(self) -> LabRec:
        """The lab record (hosts, networks, the swarm)."""
        self.refresh()
        if self._lab is None:
            raise self._gone()
        return self._lab

    def save(self, *, lab: LabRec | None = None, container: ContainerRec | None = None) -> None:
        """Write the lab record and/or one container record (under :meth:`locked`), then tell
        other readers once."""
        if lab is not None:
            _write_record(os.path.join(self.dir, "lab.json"), lab)
            self._lab = lab
        if container is not None:
            _write_record(self.path("containers", container.id + ".json"), container)
            cid, ordered = container.id, self._ordered
            if ordered is not None and cid not in ordered and ordered:
                last = ordered[next(reversed(ordered))]
                if last.seq > container.seq:
                    self._ordered = ordered = None  # out of order: sort again when asked
            self._containers[cid] = container
            if ordered is not None:
                ordered[cid] = container  # (a new one has the highest seq: it goes last)
        self._bump()

    def save_lab(self, lab: LabRec) -> None:
        """Write a new lab record (call under :meth:`locked`)."""
        self.save(lab=lab)

    def put_host(self, host: HostRec) -> None:
        """Write a host's new record (call under :meth:`locked`)."""
        lab = self.lab_record
        self.save_lab(dataclasses.replace(lab, hosts={**lab.hosts, host.name: host}))

    def drop_host(self, name: str) -> None:
        """Forget a host (call under :meth:`locked`)."""
        lab = self.lab_record
        hosts = {k: v for k, v in lab.hosts.items() if k != name}
        self.save_lab(dataclasses.replace(lab, hosts=hosts))

    def put_network(self, host: str, net: NetworkRec) -> None:
        """Write one network of a host (call under :meth:`locked`)."""
        h = self.lab_record.hosts[host]
        self.put_host(dataclasses.replace(h, networks={**h.networks, net.id: net}))

    def drop_network(self, host: str, nid: str) -> None:
        """Forget one network of a host (call under :meth:`locked`)."""
        h = self.lab_record.hosts[host]
        nets = {k: v for k, v in h.networks.items() if k != nid}
        self.put_host(dataclasses.replace(h, networks=nets))

    def put_swarm(self, swarm: SwarmRec | None) -> None:
        """Write the swarm's new record, or remove it (call under :meth:`locked`)."""
        self.save_lab(dataclasses.replace(self.lab_record, swarm=swarm))

    def containers(self) -> dict[str, ContainerRec]:
        """All container records, by full ID, in creation order."""
        self.refresh()
        if self._ordered is None:
            self._ordered = dict(sorted(self._containers.items(), key=lambda kv: kv[1].seq))
        return dict(self._ordered)

    def save_container(self, rec: ContainerRec) -> None:
        """Write (create or update) one container record; call under :meth:`locked`."""
        self.save(container=rec)

    def drop_container(self, *cids: str) -> None:
        """Forget containers and their files; call under :meth:`locked`."""
        # Its log and every rotated file (found by name: one killed while rotating may have
        # left a gap in the numbers).
        wanted = tuple(cid + ".log" for cid in cids)
        with contextlib.suppress(FileNotFoundError):
            for entry in os.scandir(os.path.join(self.dir, "logs")):
                if entry.name.startswith(wanted):
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(entry.path)
        for cid in cids:
            for suffix in (".json", ".exit", ".hosts", ".hostname", ".resolv.conf"):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(self.path("containers", cid + suffix))
            shutil.rmtree(self.path("containers", cid + ".files"), ignore_errors=True)
            self._containers.pop(cid, None)
        self._ordered = None
        self._bump()

    def log_file(self, cid: str) -> str:
        """A container's log (its rotated files add ``.1``, ``.2``, ...)."""
        return os.path.join(self.dir, "logs", cid + ".log")

    def next_counter(self, kind: str) -> int:
        """Advance and return the lab's counter for ``kind`` (IDs derive from it)."""
        self._counters[kind] = self._counters.get(kind, 0) + 1
        return self._counters[kind]

    def current_build(self) -> str:
        """The build ID of the lab as it is on disk now ("" when there is none)."""
        return self._read_seq()[0][0]

    def peek_counter(self, kind: str) -> int:
        """The current value of the lab's counter for ``kind`` (without advancing it)."""
        return self._counters.get(kind, 0)

    def path(self, *parts: str) -> str:
        """A path inside the lab's folder."""
        return os.path.join(self.dir, *parts)
