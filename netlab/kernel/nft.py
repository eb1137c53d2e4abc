"""nftables inside a namespace: ``nft -f -`` to load rules, ``nft -j list`` to read them.

nftables state is per network namespace, so a ruleset loaded here never reaches the
machine's own firewall. ``nft`` is started from the kernel worker thread while that thread is
inside the namespace: a child process is born in the namespace of the thread that forks it.
"""

from __future__ import annotations

import json
import subprocess
from typing import Any

from netlab.errors import NetlabError, ToolMissing
from netlab.kernel import _worker, commands, netns, trace


class NftError(NetlabError, RuntimeError):
    """``nft`` rejected a ruleset; the message carries nft's own explanation."""


def _nft(ns: str, args: list[str], stdin: str | None = None) -> str:
    def work() -> subprocess.CompletedProcess[str]:
        with netns.entered(ns):
            return subprocess.run(
                ["nft", *args], input=stdin, capture_output=True, text=True, check=False
            )

    try:
        done = _worker.call(work)
    except FileNotFoundError:
        raise ToolMissing(
            "nft is not installed (Debian/Ubuntu: apt-get install -y nftables); "
            "`netlab doctor` checks every tool netlab needs"
        ) from None
    if done.returncode != 0:
        raise NftError(f"nft {' '.join(args)} in {ns} failed: {done.stderr.strip()}")
    return done.stdout


def load(ns: str, ruleset: str) -> None:
    """Load a ruleset atomically (``nft -f -``): all of it applies, or none."""
    trace.record(commands.nft_load(ns, ruleset))
    _nft(ns, ["-f", "-"], ruleset)


def ruleset(ns: str) -> str:
    """``nft list ruleset`` as text."""
    return _nft(ns, ["list", "ruleset"])


def ruleset_json(ns: str) -> list[dict[str, Any]]:
    """``nft -j list ruleset``: the list under the top-level ``nftables`` key."""
    out = _nft(ns, ["-j", "list", "ruleset"])
    data: dict[str, list[dict[str, Any]]] = json.loads(out)
    return data.get("nftables", [])
