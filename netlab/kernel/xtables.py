"""iptables inside a namespace: ``iptables-save`` to read the rules, ``iptables-restore
--noflush`` to change them in one transaction per table.

Like nftables, iptables state is per network namespace (on Debian and Ubuntu ``iptables`` is
iptables-nft: its tables are nftables tables of the namespace), so rules loaded here never
reach the machine's own firewall. The programs are started from the kernel worker thread while
that thread is inside the namespace, as :mod:`netlab.kernel.nft` does.
"""

from __future__ import annotations

import socket
import struct
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field

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


# nfnetlink: the ruleset's generation, a number the kernel bumps at every change of any
# nftables table of the namespace (iptables-nft's included).
_NETLINK_NETFILTER = 12
_NFT_MSG_GETGEN = (10 << 8) | 16  # (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETGEN
_NFTA_GEN_ID = 1


def generation(ns: str) -> int:
    """The nftables ruleset generation of namespace ``ns`` (one netlink request, no
    program started); -1 if the kernel does not say."""

    def work() -> int:
        with netns.entered(ns):
            s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, _NETLINK_NETFILTER)
        try:
            s.settimeout(2)
            # nlmsghdr (len, type, flags=NLM_F_REQUEST, seq, pid) + nfgenmsg (AF_UNSPEC, v0, 0)
            s.send(
                struct.pack("=LHHLL", 20, _NFT_MSG_GETGEN, 1, 1, 0) + struct.pack("=BBH", 0, 0, 0)
            )
            data = s.recv(4096)
        finally:
            s.close()
        off = 16 + 4  # (past nlmsghdr and nfgenmsg: the attributes)
        while off + 4 <= len(data):
            length, kind = struct.unpack_from("=HH", data, off)
            if length < 4:
                break
            if kind & 0x7FFF == _NFTA_GEN_ID:
                return int(struct.unpack_from(">L", data, off + 4)[0])
            off += (length + 3) & ~3
        return -1

    try:
        return _worker.call(work)
    except OSError:
        return -1


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


# --- a model of the tables, as the kernel has them ---------------------------------------------
# (what the fake kernel keeps, and what this layer remembers of a namespace between changes)

BUILTIN = {
    "raw": ("PREROUTING", "OUTPUT"),
    "mangle": ("PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"),
    "filter": ("INPUT", "FORWARD", "OUTPUT"),
    "nat": ("PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"),
}


@dataclass
class Table:
    """One iptables table: policies of its built-in chains, rules of every chain."""

    policies: dict[str, str]
    rules: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def new(cls, name: str) -> Table:
        return cls({c: "ACCEPT" for c in BUILTIN[name]}, {c: [] for c in BUILTIN[name]})

    def copy(self) -> Table:
        return Table(dict(self.policies), {c: list(r) for c, r in self.rules.items()})


def apply_restore(tables: dict[str, Table], text: str) -> dict[str, Table]:
    """``iptables-restore --noflush`` input applied to a copy of ``tables``, as the kernel
    would, knowing what netlab writes: ``*TABLE`` ... ``COMMIT``, ``:CHAIN POLICY [0:0]`` (a
    built-in chain's policy; a user chain declared is flushed), ``-N``, ``-A``, ``-I CHAIN N``
    and ``-D``. Where iptables would refuse, ValueError with its words, and nothing applies."""
    out = {name: t.copy() for name, t in tables.items()}
    table: Table | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("*"):
            if line[1:] not in BUILTIN:
                raise ValueError(f"table '{line[1:]}' does not exist")
            table = out.setdefault(line[1:], Table.new(line[1:]))
            continue
        if table is None:
            raise ValueError(f"no table before: {line}")
        if line == "COMMIT":
            table = None
            continue
        words = line.split(" ", 2)
        if line.startswith(":"):
            chain, policy = words[0][1:], words[1]
            if chain in table.policies:
                table.policies[chain] = policy
            else:
                table.rules[chain] = []
        elif words[0] == "-N":
            if words[1] in table.rules:
                raise ValueError(f"Chain already exists: {words[1]}")
            table.rules[words[1]] = []
        elif words[0] in ("-A", "-I", "-D"):
            chain, rest = words[1], words[2] if len(words) > 2 else ""
            if chain not in table.rules:
                raise ValueError(f"Couldn't load target: chain {chain}")
            rules = table.rules[chain]
            if words[0] == "-A":
                rules.append(rest)
            elif words[0] == "-I":
                pos, _, rule = rest.partition(" ")
                if not pos.isdigit() or not 1 <= int(pos) <= len(rules) + 1:
                    raise ValueError(f"Index of insertion too big: {line}")
                rules.insert(int(pos) - 1, rule)
            elif rest in rules:
                rules.remove(rest)
            else:
                raise ValueError(f"Bad rule (does a matching rule exist?): {line}")
        else:
            raise ValueError(f"unknown line: {line}")
    if table is not None:
        raise ValueError("COMMIT expected")
    return out


def render_save(tables: dict[str, Table], *, counters: bool = False) -> str:
    """``iptables-save`` of ``tables`` (counters as ``[0:0]``: the model keeps none)."""
    out = []
    for name in ("raw", "mangle", "filter", "nat"):
        t = tables.get(name)
        if t is None:
            continue
        users = sorted(c for c in t.rules if c not in BUILTIN[name])
        out.append(f"*{name}")
        out += [f":{c} {t.policies[c]} [0:0]" for c in BUILTIN[name]]
        out += [f":{c} - [0:0]" for c in users]
        prefix = "[0:0] " if counters else ""
        out += [f"{prefix}-A {c} {r}" for c in (*BUILTIN[name], *users) for r in t.rules[c]]
        out.append("COMMIT")
    return "".join(line + "\n" for line in out)


def parse_tables(text: str) -> dict[str, Table]:
    """``iptables-save`` output as the model's tables (the inverse of :func:`render_save`)."""
    tables: dict[str, Table] = {}
    table: Table | None = None
    for line in text.splitlines():
        if line.startswith("*") and line[1:] in BUILTIN:
            table = tables.setdefault(line[1:], Table.new(line[1:]))
        elif table is not None and line.startswith(":"):
            chain, policy = line[1:].split()[:2]
            if chain in table.policies:
                table.policies[chain] = policy
            else:
                table.rules.setdefault(chain, [])
        elif table is not None and line.startswith("-A "):
            _, chain, rule = line.split(" ", 2)
            table.rules.setdefault(chain, []).append(rule)
    return tables
