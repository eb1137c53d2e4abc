"""The kernel layer: the only code in netlab that talks to Linux.

Namespaces (:mod:`.netns`), links, addresses, routes and sysctls over rtnetlink
(:mod:`.rtnl`), nftables (:mod:`.nft`), processes (:mod:`.proc`). Functions take a namespace
name, return typed values, and write what they did to :mod:`.trace` as ``ip``/``nft`` lines.
"""

from collections.abc import Callable
from typing import TypeVar

from netlab.kernel import _worker

_T = TypeVar("_T")


def batch(fn: Callable[[], _T]) -> _T:
    """Run several kernel operations as one job on the kernel thread (one hand-off, not many)."""
    return _worker.call(fn)
