"""Running netlab on the fake kernel: for tests that need no root and touch nothing real.

:class:`netlab.kernel.fake.FakeKernel` is an in-memory kernel with the kernel layer's
functions; this module puts it in place of the real one, above every layer (it patches the
kernel modules, the lab store and the Docker front end's state, so it may import them all)::

    with installed(FakeKernel()) as kernel:
        lab = Lab("demo")
        c = lab.host().run("ubuntu", "sleep infinity")
        assert [a.cidr for a in kernel.addrs(c.ns) if a.ifname == "eth0"] == ["172.17.0.2/16"]

What it does: every function of :mod:`netlab.kernel.netns`, ``rtnl``, ``nft`` and ``proc``
that the model calls becomes the fake's, ``batch``/``soon``/``wait`` run their job at once,
the lab store lives in a folder of the caller's (never under ``/run``, never mounted),
``Lab(...)`` skips the privilege and tool checks, and every other way to the real kernel
(the kernel thread, ``mount``/``setns``/``unshare``) raises, so that a missed function fails
loudly instead of touching the machine.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import pkgutil
import sys
import tempfile
import weakref
from collections.abc import Callable, Iterator
from typing import Any, Protocol

import netlab.docker
import netlab.kernel
import netlab.model
from netlab.kernel import _sys, _worker, containers, freezer, netns, nft, proc, rtnl, xtables
from netlab.kernel.fake import (
    FakeFreezer,
    FakeKernel,
    FakeKernelError,
    FakeNetns,
    FakeNft,
    FakeProc,
    FakeRtnl,
    FakeXtables,
)
from netlab.model import doctor, lab, state

__all__ = ["FakeKernel", "down_all", "install", "installed"]


class SetAttr(Protocol):
    """What :func:`install` needs of pytest's ``monkeypatch``."""

    def setattr(self, target: Any, name: str, value: Any, raising: bool = ...) -> None: ...


class _Patcher:
    """A small ``monkeypatch`` for :func:`installed` (undone in reverse order)."""

    def __init__(self) -> None:
        self._undo: list[tuple[Any, str, Any]] = []

    def setattr(self, target: Any, name: str, value: Any, raising: bool = True) -> None:
        self._undo.append((target, name, getattr(target, name)))
        setattr(target, name, value)

    def undo(self) -> None:
        while self._undo:
            target, name, old = self._undo.pop()
            setattr(target, name, old)


def _nothing() -> None:
    """In place of the privilege and tool checks: the fake kernel needs neither."""


def _closed(what: str) -> Callable[..., Any]:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise FakeKernelError(f"{what} reached under the fake kernel (a function it lacks?)")

    return refuse


def install(kernel: FakeKernel, monkeypatch: SetAttr, root: str) -> None:
    """Replace the kernel layer's functions with ``kernel``'s, through ``monkeypatch``
    (pytest's fixture undoes it all after the test), and keep labs' state under ``root`` (a
    folder of the caller's, which must exist and not be under /run)."""
    real = os.path.realpath(root)
    if not os.path.isdir(real) or real == "/run" or real.startswith("/run/"):
        raise FakeKernelError(f"the fake kernel's state needs a folder of its own: {root!r}")
    # Modules that bound batch/soon/wait at import: load them all now, so the scan below
    # finds them. (One it misses reaches the kernel thread, which is closed: it fails.)
    for pkg in (netlab.model, netlab.docker):
        for mod_info in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + "."):
            importlib.import_module(mod_info.name)
    mp = monkeypatch
    for module, fake, names in (
        (netns, kernel.netns, FakeNetns.NAMES),
        (rtnl, kernel.rtnl, FakeRtnl.NAMES),
        (nft, kernel.nft, FakeNft.NAMES),
        (xtables, kernel.xtables, FakeXtables.NAMES),
        (proc, kernel.proc, FakeProc.NAMES),
        (containers, kernel.proc, FakeProc.CONTAINER_NAMES),
        (freezer, kernel.freezer, FakeFreezer.NAMES),
    ):
        for name in names:
            mp.setattr(module, name, getattr(fake, name))
    mp.setattr(netns, "RUN_DIR", os.path.join(real, "run-netns"))  # (never made)
    # Functions that other modules may have bound by name at import (``from netlab.kernel
    # import batch``): every netlab module's binding is replaced, not only the original.
    rebound: list[tuple[Callable[..., Any], Callable[..., Any]]] = [
        (netlab.kernel.batch, kernel.batch),
        (netlab.kernel.soon, kernel.soon),
        (netlab.kernel.wait, kernel.wait),
        (doctor.require_privileges, _nothing),
        (doctor.require_tools, _nothing),
    ]
    for mod_name, mod in list(sys.modules.items()):
        if mod is None or not (mod_name == "netlab" or mod_name.startswith("netlab.")):
            continue
        for name, value in list(vars(mod).items()):
            for original, replacement in rebound:
                if value is original:
                    mp.setattr(mod, name, replacement)
    # Every other way to the kernel is closed.
    for name in ("call", "submit"):
        mp.setattr(_worker, name, _closed(f"the kernel thread (_worker.{name})"))
    for name in ("mount", "umount2", "setns", "unshare", "sethostname"):
        mp.setattr(_sys, name, _closed(f"the system call {name}"))
    # The store in the caller's folder, never mounted.
    mp.setattr(state, "ROOT", os.path.join(real, "run-netlab"))
    mp.setattr(state, "_mount_root", _mount_root)
    mp.setattr(state, "_mount_logs", _mount_logs)
    mp.setattr(state, "_unmount_root", _unmount_root)
    # Labs built here are not the process's: no exit-time clean-up through the real
    # kernel, and no front end keeps talking to them afterwards.
    mp.setattr(lab, "_open_labs", weakref.WeakSet())
    mp.setattr(lab, "_latest", None)
    mp.setattr(netlab.docker, "_current", None)


@contextlib.contextmanager
def installed(kernel: FakeKernel, root: str | None = None) -> Iterator[FakeKernel]:
    """:func:`install` for a ``with`` block (a temporary folder unless ``root``); labs still
    up at the end are removed, then everything is put back."""
    patcher = _Patcher()
    with contextlib.ExitStack() as stack:
        if root is None:
            root = stack.enter_context(tempfile.TemporaryDirectory(prefix="netlab-fake-"))
        try:
            install(kernel, patcher, root)
            yield kernel
            down_all()
        finally:
            patcher.undo()


def down_all() -> None:
    """Remove every lab of the (installed) fake's store, as ``netlab clean`` would."""
    for name in state.lab_names():
        lab.wipe(name)


def _mount_logs(path: str) -> None:
    """A lab's logs folder, without its tmpfs (nothing is mounted under the fake kernel)."""
    os.makedirs(path, exist_ok=True)


def _mount_root() -> None:
    """The store's root as a plain folder (the fake never mounts a tmpfs)."""
    os.makedirs(state.ROOT, mode=0o755, exist_ok=True)


def _unmount_root() -> None:
    """Remove the store's root once no lab is left (nothing to unmount)."""
    try:
        if os.listdir(state.ROOT):
            return
    except FileNotFoundError:
        return
    with contextlib.suppress(OSError):
        os.rmdir(state.ROOT)
