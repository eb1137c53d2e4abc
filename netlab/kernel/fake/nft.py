"""The fake of :mod:`netlab.kernel.nft`: one ruleset per namespace, kept as text.

``load`` applies ``nft -f`` text all or nothing (:func:`_apply_nft`), knowing only what netlab
writes: ``table FAMILY NAME { ... }`` (its body is added to the table's), ``delete table``
(``ENOENT`` when absent) and ``flush ruleset``, with the braces checked. The tables are kept as
loaded, not parsed into rules: ``ruleset`` gives them back as loaded, ``ruleset_json`` lists
only the tables. Nothing filters a packet here: a test reads the rules, not their effect.
"""

from __future__ import annotations

import errno
from typing import TYPE_CHECKING, Any

from netlab.kernel import commands, nft, trace
from netlab.kernel.fake.records import _names, _oserror

if TYPE_CHECKING:  # (only a type here: the package imports this module, not the reverse)
    from netlab.kernel.fake import FakeKernel

_FAMILIES = ("ip", "ip6", "inet", "arp", "bridge", "netdev")


def _apply_nft(tables: dict[str, str], text: str) -> dict[str, str]:
    """Apply ``nft -f`` text to a copy of the tables (``family name`` -> body); raise
    OSError on what nft would refuse."""
    out = dict(tables)
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i].strip()
        i += 1
        if not line or line.startswith("#"):
            continue
        words = line.split()
        if words == ["flush", "ruleset"]:
            out.clear()
            continue
        if words[:2] == ["delete", "table"] and len(words) == 4 and words[2] in _FAMILIES:
            key = f"{words[2]} {words[3]}"
            if key not in out:
                raise _oserror(errno.ENOENT, f"delete table {key}")
            del out[key]
            continue
        if words[0] == "table" and len(words) in (3, 4) and words[1] in _FAMILIES:
            key = f"{words[1]} {words[2]}"
            if len(words) == 3:
                out.setdefault(key, "")
                continue
            if words[3] != "{":
                raise _oserror(errno.EINVAL, f"syntax error: {line}")
            depth, body = 1, []
            while i < len(lines):
                depth += lines[i].count("{") - lines[i].count("}")
                if depth == 0:
                    break
                body.append(lines[i] + "\n")
                i += 1
            if depth != 0 or i >= len(lines) or lines[i].strip() != "}":
                raise _oserror(errno.EINVAL, f"syntax error: unbalanced braces in table {key}")
            i += 1
            out[key] = out.get(key, "") + "".join(body)
            continue
        raise _oserror(errno.EINVAL, f"syntax error: {line}")
    return out


class FakeNft:
    """The functions of :mod:`netlab.kernel.nft`, over the fake kernel."""

    NAMES = _names("load ruleset ruleset_json")

    def __init__(self, kernel: FakeKernel) -> None:
        self.k = kernel

    def load(self, ns: str, ruleset: str) -> None:
        trace.record(commands.nft_load(ns, ruleset))
        n = self.k._ns(ns)
        err = self.k._injected("nft.load", ns)
        try:
            if err is not None:
                raise _oserror(err)
            n.tables = _apply_nft(n.tables, ruleset)
        except OSError as exc:
            raise nft.NftError(f"nft -f - in {ns} failed: Error: {exc.strerror}") from None

    def ruleset(self, ns: str) -> str:
        n = self.k._ns(ns)
        return "".join(f"table {key} {{\n{body}}}\n" for key, body in n.tables.items())

    def ruleset_json(self, ns: str) -> list[dict[str, Any]]:
        n = self.k._ns(ns)
        out: list[dict[str, Any]] = []
        for key in n.tables:
            family, name = key.split(" ", 1)
            out.append({"table": {"family": family, "name": name}})
        return out
