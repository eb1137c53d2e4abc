"""The kernel layer: the only code in netlab that talks to Linux.

Namespaces (:mod:`.netns`), links, addresses, routes and sysctls over rtnetlink
(:mod:`.rtnl`), nftables (:mod:`.nft`), processes (:mod:`.proc`). Functions take a namespace
name, return typed values, and write what they did to :mod:`.trace` as ``ip``/``nft`` lines,
which :mod:`.commands` builds.
"""

import os
from collections.abc import Callable
from concurrent.futures import Future
from typing import TypeVar

from netlab.kernel import _worker

# The tools netlab runs (nft, iptables, dnsmasq, conntrack, brctl, ip) live in the sbin
# folders, which a normal login user's PATH on Debian leaves out (/usr/local/bin:/usr/bin:
# /bin): a student's rootless kernel would not find them, and doctor would tell them to
# install what is installed. They go at the end of this process's PATH, for its children too.
SBIN = ("/usr/local/sbin", "/usr/sbin", "/sbin")
_path = os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin").split(os.pathsep)
os.environ["PATH"] = os.pathsep.join([*_path, *(d for d in SBIN if d not in _path)])

_T = TypeVar("_T")


def batch(fn: Callable[[], _T]) -> _T:
    """Run several kernel operations as one job on the kernel thread (one hand-off, not many)."""
    return _worker.call(fn)


def soon(fn: Callable[[], _T]) -> Future[_T]:
    """Queue kernel operations on the kernel thread and return at once (jobs run in order);
    get the result with :func:`wait`. The caller's own work overlaps the kernel's."""
    return _worker.submit(fn)


def wait(job: Future[_T]) -> _T:
    """The result of a job queued with :func:`soon` (or its error)."""
    return _worker.wait(job)
