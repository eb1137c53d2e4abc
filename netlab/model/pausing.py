"""``docker pause`` and ``docker unpause``: a container's processes frozen, not ended.

Pausing freezes every process of the container's PID namespace (its PID 1 and all it
started, ``docker exec`` commands too: what ``docker top`` lists) with the kernel's cgroup
freezer (:mod:`netlab.kernel.freezer`); the init that netlab started outside that namespace
(its log writer, as Docker's ``containerd-shim``) is left alone, as Docker leaves the shim.
The container stays ``running`` with ``Paused`` true: ``docker ps`` says ``Up 5 seconds
(Paused)``, ``docker inspect`` ``"Status": "paused"``, ``docker info`` counts it under
``Paused``. Its network is untouched: the kernel still answers a ping, but no process
answers anything else.

The rules are moby v28.5.2's, and so are the messages (each names its source file):

- pausing a container that is not running, or is already paused, and unpausing one that is
  not paused, are errors (daemon/pause.go, daemon/unpause.go);
- ``docker exec`` into a paused container (daemon/exec.go), ``docker start`` of one
  (daemon/start.go) and ``docker rm`` without ``-f`` (daemon/delete.go) are refused;
- ``docker kill``, ``docker stop`` and ``docker rm -f`` work: the signal is sent, then the
  container is thawed so that it acts (daemon/kill.go resumes the task after the kill
  signal, or after the image's stop signal; any other ``kill -s`` signal waits, pending,
  until ``docker unpause``). On a cgroup v1 freezer this order is needed: a frozen task
  ignores even SIGKILL until thawed.

A lab's removal (``netlab clean`` too) thaws and removes its cgroups before it kills its
processes. The paused state is in the container's record (``paused``, the cgroup, where each
process came from), so another process (``netlab docker unpause`` in a terminal) finds it.
"""

from __future__ import annotations

import signal
from dataclasses import replace
from typing import TYPE_CHECKING

from netlab.errors import Conflict, NetlabError, NoSuchContainer, NotRunning
from netlab.kernel import containers, freezer
from netlab.model import images
from netlab.model.records import ContainerRec

if TYPE_CHECKING:
    from netlab.model.host import Host


class PauseFailed(NetlabError):
    """The kernel could not freeze or thaw the container (no usable freezer, for one)."""


def pause(host: Host, cid: str) -> None:
    """``docker pause``: freeze every process of the container (one whose process ended
    meanwhile is not running: the caller reconciles first, see Container.pause)."""
    store = host.lab.store
    with store.locked():
        rec = _record(host, cid)
        pid1 = containers.init_pid(rec.pid, rec.pid_start) if rec.state == "running" else None
        if pid1 is None:
            raise NotRunning(rec.id)  # container/container.go GetRunningTask
        if rec.paused:
            raise Conflict(f"Container {rec.id} is already paused")  # daemon/errors.go
        try:
            path, origins = freezer.freeze(
                host.lab.name, rec.short_id, lambda: containers.pids_in_pid_ns(pid1)
            )
        except freezer.FreezerError as exc:
            # daemon/pause.go: "cannot pause container %s: %s", the runtime's error after it
            raise PauseFailed(
                f"cannot pause container {rec.id}: OCI runtime pause failed: {exc}"
            ) from None
        try:
            store.save_container(replace(rec, paused=True, freezer=path, cgroup_origins=origins))
        except BaseException:
            freezer.thaw(path, origins)
            raise


def unpause(host: Host, cid: str) -> None:
    """``docker unpause``: thaw the container's processes, back in their own cgroups."""
    store = host.lab.store
    with store.locked():
        rec = _record(host, cid)
        if not rec.paused:
            raise Conflict(f"Container {rec.id} is not paused")  # daemon/unpause.go
        if rec.state != "running":
            raise NotRunning(rec.id)  # container/container.go GetRunningTask
        try:
            freezer.thaw(rec.freezer, rec.cgroup_origins)
        except freezer.FreezerError as exc:
            raise PauseFailed(  # daemon/unpause.go
                f"Cannot unpause container {rec.id}: OCI runtime resume failed: {exc}"
            ) from None
        store.save_container(thawed(rec))


def _record(host: Host, cid: str) -> ContainerRec:
    rec = host.lab.store.containers().get(cid)
    if rec is None:
        raise NoSuchContainer(cid)
    return rec


def thawed(rec: ContainerRec) -> ContainerRec:
    """The record of a container that is no longer paused."""
    return replace(rec, paused=False, freezer="", cgroup_origins=())


def release(rec: ContainerRec) -> ContainerRec:
    """Thaw a paused container for good (after a kill signal, before it is waited for): its
    processes go back to their cgroups, and netlab's cgroup goes. Return its record as it is
    now (not stored: the caller stores what comes next)."""
    if rec.freezer:
        freezer.thaw(rec.freezer, rec.cgroup_origins)
    return thawed(rec) if rec.paused or rec.freezer else rec


def resumes_after(rec: ContainerRec, sig: int) -> bool:
    """Does sending ``sig`` to a paused container thaw it? moby daemon/kill.go
    killWithSignal: SIGKILL does; so does the image's stop signal, or any signal for an image
    without one; another signal stays pending until ``docker unpause``."""
    if sig == signal.SIGKILL:
        return True
    try:
        name = images.lookup(rec.image).stop_signal
    except NetlabError:
        name = ""
    if not name:
        return True
    name = name.upper().removeprefix("SIG")
    return int(name) == sig if name.isdigit() else signal.Signals["SIG" + name] == sig


def check_not_paused_for_exec(rec: ContainerRec, ref: str) -> None:
    """``docker exec`` into a paused container is refused (moby daemon/exec.go
    getActiveContainer, with the reference as given)."""
    if rec.paused and rec.state == "running":
        raise Conflict(f"Container {ref} is paused, unpause the container before exec")
