"""iptables inside a namespace: ``iptables-save`` to read the rules, ``iptables-restore
--noflush`` to change them in one transaction per table.

Like nftables, iptables state is per network namespace (on Debian and Ubuntu ``iptables`` is
iptables-nft: its tables are nftables tables of the namespace), so rules loaded here never
reach the machine's own firewall. The programs are started from the kernel worker thread while
that thread is inside the namespace, as :mod:`netlab.kernel.nft` does.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence

from netlab.errors import NetlabError, ToolMissing
from netlab.kernel import _worker, netns, trace


class IptablesError(NetlabError, RuntimeError):
    """``iptables-restore`` rejected a change; the message carries its own explanation."""


def _run(ns: str, argv: list[str], stdin: str | None = None) -> str:
    def work() -> subprocess.CompletedProcess[str]:
        with netns.entered(ns):
            return subprocess.run(argv, input=stdin, capture_output=True, text=True, check=False)

    try:
        done = _worker.call(work)
    except FileNotFoundError:
        raise ToolMissing(
            f"{argv[0]} is not installed (Debian/Ubuntu: apt-get install -y iptables); "
            "`netlab doctor` checks every tool netlab needs"
        ) from None
    if done.returncode != 0:
        raise IptablesError(f"{argv[0]} in {ns} failed: {done.stderr.strip()}")
    return done.stdout


def save(ns: str, *, counters: bool = False) -> str:
    """``iptables-save``: every table of the namespace that exists, as restore input (with
    ``counters``, each rule after its ``[packets:bytes]``)."""
    return _run(ns, ["iptables-save", "-c"] if counters else ["iptables-save"])


def restore(ns: str, text: str, commands: Sequence[str]) -> None:
    """Apply ``text`` with ``iptables-restore --noflush`` (each table all or nothing), leaving
    every other rule and counter as it is; ``commands`` are the same edits as ``iptables``
    command lines, which ``--explain`` shows."""
    for c in commands:
        trace.record(f"ip netns exec {ns} {c}")
    _run(ns, ["iptables-restore", "--noflush"], text)
