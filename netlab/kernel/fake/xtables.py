"""The fake of :mod:`netlab.kernel.xtables`: each namespace's iptables tables as chains of rule
texts.

``restore`` applies ``iptables-restore --noflush`` input all or nothing, knowing what netlab
writes: ``*TABLE`` ... ``COMMIT``, ``:CHAIN POLICY [0:0]`` (a built-in chain's policy), ``-N``
(EEXIST if the chain exists), ``-A``, ``-I CHAIN N`` and ``-D`` (ENOENT for a rule that is not
there); ``save`` prints what ``iptables-save`` would. Nothing filters a packet here: a test
reads the rules, not their effect.
"""

from __future__ import annotations

import errno
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from netlab.kernel import trace, xtables
from netlab.kernel.fake.records import _names, _oserror

if TYPE_CHECKING:  # (only a type here: the package imports this module, not the reverse)
    from netlab.kernel.fake import FakeKernel

BUILTIN = {
    "raw": ("PREROUTING", "OUTPUT"),
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


def _apply(tables: dict[str, Table], text: str) -> dict[str, Table]:
    out = {name: t.copy() for name, t in tables.items()}
    table: Table | None = None
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("*"):
            name = line[1:]
            if name not in BUILTIN:
                raise _oserror(errno.ENOENT, f"table '{name}' does not exist")
            table = out.setdefault(name, Table.new(name))
            continue
        if table is None:
            raise _oserror(errno.EINVAL, f"no table before: {line}")
        if line == "COMMIT":
            table = None
            continue
        words = line.split(" ", 2)
        if line.startswith(":"):
            chain, policy = words[0][1:], words[1]
            if chain in table.policies:
                table.policies[chain] = policy
            else:
                table.rules[chain] = []  # (--noflush: a user chain declared is flushed)
        elif words[0] == "-N":
            if words[1] in table.rules:
                raise _oserror(errno.EEXIST, f"Chain already exists: {words[1]}")
            table.rules[words[1]] = []
        elif words[0] in ("-A", "-I", "-D"):
            chain, rest = words[1], words[2] if len(words) > 2 else ""
            if chain not in table.rules:
                raise _oserror(errno.ENOENT, f"Couldn't load target: chain {chain}")
            rules = table.rules[chain]
            if words[0] == "-A":
                rules.append(rest)
            elif words[0] == "-I":
                pos, _, rule = rest.partition(" ")
                if not pos.isdigit() or not 1 <= int(pos) <= len(rules) + 1:
                    raise _oserror(errno.E2BIG, f"Index of insertion too big: {line}")
                rules.insert(int(pos) - 1, rule)
            elif rest in rules:
                rules.remove(rest)
            else:
                raise _oserror(errno.ENOENT, f"Bad rule (does a matching rule exist?): {line}")
        else:
            raise _oserror(errno.EINVAL, f"unknown line: {line}")
    if table is not None:
        raise _oserror(errno.EINVAL, "COMMIT expected")
    return out


class FakeXtables:
    """The functions of :mod:`netlab.kernel.xtables`, over the fake kernel."""

    NAMES = _names("save restore")

    def __init__(self, kernel: FakeKernel) -> None:
        self.k = kernel

    def save(self, ns: str, *, counters: bool = False) -> str:
        n = self.k._ns(ns)
        out = []
        for name in ("raw", "filter", "nat"):
            t = n.xtables.get(name)
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

    def restore(self, ns: str, text: str, commands: Sequence[str]) -> None:
        for c in commands:
            trace.record(f"ip netns exec {ns} {c}")
        n = self.k._ns(ns)
        err = self.k._injected("xtables.restore", ns)
        try:
            if err is not None:
                raise _oserror(err)
            n.xtables = _apply(n.xtables, text)
        except OSError as exc:
            raise xtables.IptablesError(
                f"iptables-restore in {ns} failed: {exc.strerror}"
            ) from None
