"""Thin ctypes bindings for the few system calls the standard library lacks on Python 3.11.

``setns``, ``unshare``, ``mount``, ``umount2`` and ``sethostname`` are what ``ip netns add``,
``ip netns exec`` and ``unshare --uts`` use.
Python 3.12 has :func:`os.setns` and :func:`os.unshare`; netlab supports 3.11 (Debian 12), so it
calls libc directly. Errors become :class:`OSError` with the real ``errno``.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

CLONE_FS = 0x00000200
CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWNET = 0x40000000

MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18
MS_SLAVE = 1 << 19
MS_SHARED = 1 << 20
MNT_DETACH = 2

_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
_libc.mount.argtypes = [
    ctypes.c_char_p,
    ctypes.c_char_p,
    ctypes.c_char_p,
    ctypes.c_ulong,
    ctypes.c_void_p,
]
_libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]
_libc.setns.argtypes = [ctypes.c_int, ctypes.c_int]
_libc.unshare.argtypes = [ctypes.c_int]
_libc.sethostname.argtypes = [ctypes.c_char_p, ctypes.c_size_t]
_libc.prctl.argtypes = [
    ctypes.c_int,
    ctypes.c_ulong,
    ctypes.c_ulong,
    ctypes.c_ulong,
    ctypes.c_ulong,
]

PR_SET_PDEATHSIG = 1


def _check(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def setns(fd: int, nstype: int) -> None:
    """Move the calling *thread* into the namespace that ``fd`` refers to."""
    _check(_libc.setns(fd, nstype), "setns")


def unshare(flags: int) -> None:
    """Give the calling thread new namespaces of the kinds in ``flags``."""
    _check(_libc.unshare(flags), "unshare")


def sethostname(name: str) -> None:
    """sethostname(2): the hostname of the calling thread's UTS namespace."""
    raw = name.encode()
    _check(_libc.sethostname(raw, len(raw)), "sethostname")


def mount(source: str, target: str, fstype: str | None, flags: int, data: str = "") -> None:
    """mount(2): with ``MS_BIND`` this pins a namespace file to a path."""
    _check(
        _libc.mount(
            source.encode(),
            target.encode(),
            fstype.encode() if fstype else None,
            flags,
            data.encode() or None,
        ),
        f"mount {source} on {target}",
    )


def umount2(target: str, flags: int = MNT_DETACH) -> None:
    """umount2(2); ``MNT_DETACH`` lets a namespace outlive its path until its last user goes."""
    _check(_libc.umount2(target.encode(), flags), f"umount {target}")


def prctl(option: int, arg: int) -> None:
    """prctl(2) with one argument (``PR_SET_PDEATHSIG``: the signal a process gets when its
    parent ends)."""
    _check(_libc.prctl(option, arg, 0, 0, 0), "prctl")


def write_once(path: str, text: str) -> None:
    """Write ``text`` to ``path`` in one write(2), as files of /proc and cgroups want it (a
    uid map, ``cgroup.procs``, ``freezer.state``): no buffering, no truncation."""
    fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)
