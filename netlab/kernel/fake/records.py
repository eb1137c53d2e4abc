"""What the fake kernel remembers: namespaces, links and processes, as plain records.

The fakes of :mod:`netlab.kernel.netns`, ``rtnl``, ``nft`` and ``proc`` (the modules next to
this one) and :class:`~netlab.kernel.fake.FakeKernel` all read and change these objects; they
are mutable on purpose, as the kernel's own state is. A test reads links, addresses and
routes as snapshots, the frozen records of the real layer (:class:`netlab.kernel.rtnl.Link`,
``Addr``, ``Route``...), and FDB entries as :class:`FdbEntry`; only
:attr:`FakeKernel.processes <netlab.kernel.fake.FakeKernel.processes>` hands out the
:class:`FakeProcess` records themselves.

Also here, because every part uses them: :exc:`FakeKernelError`, and small helpers (an errno
as the exception the real layer raises for it, the names of a fake's functions).
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from netlab.errors import NetlabError
from netlab.kernel import netns, rtnl

T = TypeVar("T")

FAKE_PID_BASE = 1 << 30
FAKE_NS_DEV = 0xFA4E


class FakeKernelError(NetlabError, RuntimeError):
    """Something the fake kernel does not do, or a way to the real kernel that it closed."""


@dataclass(eq=False)
class FakeLink:
    """One interface of the fake kernel (mutable; :meth:`FakeKernel.links` gives snapshots)."""

    ns: FakeNamespace
    index: int
    name: str
    kind: str
    mac: str
    mtu: int
    up: bool = False
    master: str | None = None
    peer: FakeLink | None = None
    parent: FakeLink | None = None
    alias: str | None = None
    vxlan_id: int | None = None
    vxlan_port: int | None = None
    origin: FakeNamespace | None = None  # vxlan: where its UDP socket lives
    hairpin: bool = False
    addrs: list[ipaddress.IPv4Interface] = field(default_factory=list)
    neigh: dict[str, str] = field(default_factory=dict)  # ip -> mac
    fdb: dict[str, str] = field(default_factory=dict)  # mac -> dst


@dataclass(eq=False)
class FakeNamespace:
    """One network namespace of the fake kernel."""

    name: str
    ident: netns.NsId
    pinned: bool = True
    links: dict[str, FakeLink] = field(default_factory=dict)
    next_index: int = 1
    routes: list[rtnl.Route] = field(default_factory=list)  # (connected ones are computed)
    sysctls: dict[str, str] = field(default_factory=dict)
    tables: dict[str, str] = field(default_factory=dict)  # "ip docker-bridges" -> body
    nsids: dict[int, int] = field(default_factory=dict)  # other's inode -> nsid
    xtables: dict[str, Any] = field(default_factory=dict)  # iptables: "nat" -> xtables.Table
    xtables_generation: int = 1  # (the kernel's count of ruleset changes)


@dataclass(eq=False)
class FakeProcess:
    """A process of the fake kernel: what was started, where, and whether it still runs."""

    pid: int
    started: int
    ns: str
    ns_ident: netns.NsId
    argv: list[str]
    log_file: str
    exit_file: str
    hostname: str = ""
    state: str = "born"  # born (waits for go), running, exited
    exit_code: int | None = None
    listens: list[tuple[str, int, str]] = field(default_factory=list)
    # The cgroup freezer (see fake/freezer.py): frozen, it acts on no signal; those sent
    # meanwhile wait, as a v1-frozen task's SIGKILL does, until it is thawed.
    frozen: bool = False
    pending: list[int] = field(default_factory=list)
    pid_ns_of: int = 0  # a ``docker exec -d`` command: the PID 1 whose PID namespace it joined

    @property
    def alive(self) -> bool:
        """True until it exits or is killed."""
        return self.state != "exited"


@dataclass(frozen=True, order=True)
class FdbEntry:
    """A VXLAN forwarding entry: ``bridge fdb show`` (``MAC dev DEV dst DST self permanent``)."""

    dev: str
    mac: str
    dst: str


@dataclass
class _Failure:
    op: str
    err: int
    ns: str | None
    name: str | None
    times: int
    skip: int


def _op(ns: str, what: str, fn: Callable[[], T], ok: tuple[int, ...] = ()) -> T | None:
    """As ``rtnl._fast``/``_run``: the kernel's errno in a KernelError, those in ``ok`` ignored."""
    try:
        return fn()
    except OSError as exc:
        if exc.errno in ok:
            return None
        raise rtnl.KernelError(f"{what} (in {ns})", exc.errno or 0) from None


def _names(text: str) -> tuple[str, ...]:
    return tuple(text.split())


def _oserror(err: int, what: str = "") -> OSError:
    return OSError(err, os.strerror(err) + (f": {what}" if what else ""))
