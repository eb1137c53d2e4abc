"""Find and stop every process of a lab, whatever happened to its namespaces.

A lab's processes are found through their network namespace: every process whose
``/proc/PID/ns/net`` is one of the lab's namespaces is the lab's (containers, their ``docker
exec`` children, daemons that left their session, the simulated internet's servers).

While a namespace is pinned under ``/run/netns``, its pin says which one it is. A pin can go
while processes still hold the namespace: deleted by hand (``ip netns del``), or by a bug.
So every namespace of a lab is also written, at its birth, into the lab's **ledger** (a file
in its state folder: name, inode, cookie; see :func:`netlab.kernel.netns.create`). The
inode finds the processes of a namespace whose pin is gone; the cookie, which the kernel
never reuses, tells it apart from a newer namespace (any lab's, or anyone's) that got the
same inode number after it ended.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Collection
from dataclasses import dataclass

from netlab.kernel import netns, proc
from netlab.model import topology
from netlab.model.state import ledger_path


@dataclass(frozen=True)
class Swept:
    """What :func:`stop_processes` found: the processes it killed, and the namespaces among
    them whose pin had been deleted while processes still ran inside."""

    processes: int
    unpinned: tuple[str, ...] = ()


def create(ns: str, *, inside: Callable[[], None] | None = None) -> bool:
    """Create a lab's namespace (:func:`netns.create`) and note it in the lab's ledger."""
    lab = topology.lab_of_ns(ns)
    assert lab is not None, ns
    return netns.create(ns, inside, ledger=ledger_path(lab))


def stop_processes(lab: str, names: Collection[str] | None = None) -> Swept:
    """Kill every process in the lab's namespaces (``names``, or all of them), pinned or not.

    Runs until none is left (see :func:`proc.kill_all_in`). The namespaces stay (pins are
    the caller's); those whose pin was gone end with their last process.
    """
    prefix = topology.ns_prefix(lab)
    pinned: dict[netns.NsId, str] = {}
    wanted = set(names) if names is not None else None
    for n in netns.names() if wanted is None else sorted(wanted):
        if not n.startswith(prefix):
            continue
        with contextlib.suppress(netns.NamespaceNotFound, FileNotFoundError):
            pinned[netns.ident(n)] = n
    lost: dict[netns.NsId, set[int]] = {}
    lost_names: dict[netns.NsId, str] = {}
    if wanted is None or not wanted <= set(pinned.values()):
        for birth in netns.born(ledger_path(lab)):
            if birth.ident in pinned or not birth.cookie:
                continue  # (a pin says which namespace it is; without a cookie, nothing does)
            if wanted is not None and birth.name not in wanted:
                continue
            lost.setdefault(birth.ident, set()).add(birth.cookie)
            lost_names[birth.ident] = birth.name
    killed = proc.kill_all_in({*pinned, *lost}, lost)
    unpinned = sorted({lost_names[k] for k in killed.values() if k in lost_names})
    return Swept(len(killed), tuple(unpinned))
