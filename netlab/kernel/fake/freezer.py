"""The fake of :mod:`netlab.kernel.freezer`: cgroups as a dict, freezing as a flag.

The fake machine has a cgroup v1 freezer at :data:`~netlab.kernel.freezer.V1_MOUNT`. A
cgroup is a set of fake pids; freezing one marks its processes ``frozen``: they act on no
signal (:class:`~.proc.FakeProc` keeps the signals pending, as a v1-frozen task keeps even
SIGKILL) and cannot end by themselves, until thawed, when the pending signals act. Each call
traces what the real one traces. ``FakeKernel.fail("freezer.freeze", errno.EROFS)`` (or
``EACCES``) makes the next pause find no usable freezer, with the real module's words.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from netlab.kernel import freezer, trace
from netlab.kernel.fake.records import _names

if TYPE_CHECKING:  # (only a type here: the package imports this module, not the reverse)
    from netlab.kernel.fake import FakeKernel


class FakeFreezer:
    """The functions of :mod:`netlab.kernel.freezer` over the fake kernel's processes."""

    NAMES = _names("find freeze thaw lab_cgroups lab_names remove_lab")
    HIERARCHY = freezer.Hierarchy(1, freezer.V1_MOUNT, "/", freezer.V1_MOUNT)

    def __init__(self, kernel: FakeKernel) -> None:
        self.k = kernel
        self.cgroups: dict[str, set[int]] = {}  # folder -> pids in it

    def find(self) -> freezer.Hierarchy:
        err = self.k._injected("freezer.freeze")
        if err is not None:
            why = freezer.unusable(freezer.V1_MOUNT, 1, read_only=err == errno.EROFS)
            raise freezer.FreezerError(freezer.no_freezer([why]))
        return self.HIERARCHY

    def freeze(
        self, lab: str, name: str, pids: Callable[[], Iterable[int]]
    ) -> tuple[str, freezer.Origins]:
        path = freezer.cgroup_path(self.find(), lab, name)
        if path not in self.cgroups:
            trace.record(f"mkdir {path}")
        members = self.cgroups.setdefault(path, set())
        origins = []
        for pid in pids():
            p = self.k._process(pid)
            if p is None or not p.alive:
                continue
            trace.record(f"echo {pid} > {path}/cgroup.procs")
            members.add(pid)
            origins.append((pid, freezer.V1_MOUNT))
        trace.record(f"echo FROZEN > {path}/freezer.state")
        for pid in members:
            p = self.k._process(pid)
            if p is not None:
                p.frozen = True
        return path, tuple(origins)

    def thaw(self, path: str, origins: freezer.Origins = (), *, keep: bool = False) -> None:
        members = self.cgroups.get(path)
        if members is None:
            return
        trace.record(f"echo THAWED > {path}/freezer.state")
        for pid in sorted(members):
            p = self.k._process(pid)
            if p is None:
                continue
            p.frozen = False
            pending, p.pending = p.pending, []
            for sig in pending:
                self.k.proc.signal_pid(pid, sig)
        if keep:
            return
        trace.record(f"rmdir {path}")
        del self.cgroups[path]

    def lab_cgroups(self, lab: str) -> list[str]:
        folder = os.path.join(freezer.V1_MOUNT, freezer.PARENT, lab) + "/"
        return sorted(p for p in self.cgroups if p.startswith(folder))

    def lab_names(self) -> list[str]:
        top = os.path.join(freezer.V1_MOUNT, freezer.PARENT) + "/"
        return sorted({p[len(top) :].split("/")[0] for p in self.cgroups if p.startswith(top)})

    def remove_lab(self, lab: str, *, keep: bool = False) -> int:
        found = self.lab_cgroups(lab)
        for path in found:
            self.thaw(path, keep=keep)
        return len(found)

    def frozen(self) -> dict[str, list[int]]:
        """For tests: each cgroup and its pids."""
        return {p: sorted(m) for p, m in self.cgroups.items()}
