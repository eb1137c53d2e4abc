"""Command-line flags the way the docker CLI (spf13/pflag) reads them.

``-d``, ``--detach``, ``-dt`` (grouped short flags), ``--name web``, ``--name=web``, ``-p8080:80``,
repeated flags (``-p 80 -p 443``), ``--`` to end flags, and for ``run``/``exec`` flags only
before the first positional argument (the rest is the container's command). Errors carry
pflag's words ("unknown flag: --foo", "flag needs an argument: --name").

>>> spec = [Flag("detach", "d"), Flag("tty", "t"), Flag("name", takes_value=True)]
>>> opts, args = parse(spec, ["-dt", "--name=web", "ubuntu", "sleep", "-x"], interspersed=False)
>>> opts["detach"], opts["tty"], opts["name"], args
(True, True, 'web', ['ubuntu', 'sleep', '-x'])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


class FlagError(ValueError):
    """A command line the docker CLI would refuse; the message is pflag's."""


@dataclass(frozen=True)
class Flag:
    """One flag: long name, optional shorthand, whether it takes a value, and repeats."""

    name: str
    short: str = ""
    takes_value: bool = False
    repeated: bool = False
    help: str = ""
    hidden: bool = False

    def usage(self) -> str:
        """One line of the ``--help`` flag table."""
        left = (f"-{self.short}, " if self.short else "    ") + f"--{self.name}"
        if self.takes_value:
            left += " list" if self.repeated else " string"
        return f"  {left:<26}{self.help}"


_TRUE = {"true", "1", "t", "T", "TRUE", "True"}
_FALSE = {"false", "0", "f", "F", "FALSE", "False"}


def _bool(val: str, flag: str) -> bool:
    """A boolean flag's explicit value (``--rm=false``, ``-d=true``), pflag's way."""
    if val not in _TRUE | _FALSE:
        raise FlagError(
            f'invalid argument "{val}" for "{flag}" flag: '
            f'strconv.ParseBool: parsing "{val}": invalid syntax'
        )
    return val in _TRUE


def parse(
    spec: Sequence[Flag], argv: Sequence[str], *, interspersed: bool = True
) -> tuple[dict[str, Any], list[str]]:
    """Parse ``argv`` against ``spec``: (values by long name, positional arguments)."""
    by_long = {f.name: f for f in spec}
    by_short = {f.short: f for f in spec if f.short}
    values: dict[str, Any] = {
        f.name: ([] if f.repeated else (None if f.takes_value else False)) for f in spec
    }
    args: list[str] = []

    def store(flag: Flag, value: Any) -> None:
        if flag.repeated:
            values[flag.name].append(value)
        else:
            values[flag.name] = value

    i = 0
    while i < len(argv):
        tok = argv[i]
        i += 1
        if tok == "--":
            args.extend(argv[i:])
            break
        if tok.startswith("--") and len(tok) > 2:
            name, eq, val = tok[2:].partition("=")
            flag = by_long.get(name)
            if flag is None:
                raise FlagError(f"unknown flag: --{name}")
            if flag.takes_value:
                if not eq:
                    if i >= len(argv):
                        raise FlagError(f"flag needs an argument: --{name}")
                    val = argv[i]
                    i += 1
                store(flag, val)
            else:
                store(flag, _bool(val, f"--{name}") if eq else True)
            continue
        if tok.startswith("-") and len(tok) > 1:
            j = 1
            while j < len(tok):
                ch = tok[j]
                flag = by_short.get(ch)
                if flag is None:
                    raise FlagError(f"unknown shorthand flag: '{ch}' in {tok}")
                if flag.takes_value:
                    rest = tok[j + 1 :]
                    if rest.startswith("="):
                        rest = rest[1:]
                    if not rest:
                        if i >= len(argv):
                            raise FlagError(f"flag needs an argument: '{ch}' in {tok}")
                        rest = argv[i]
                        i += 1
                    store(flag, rest)
                    break
                if tok[j + 1 : j + 2] == "=":  # -d=false, as pflag allows
                    store(flag, _bool(tok[j + 2 :], f"-{ch}"))
                    break
                store(flag, True)
                j += 1
            continue
        args.append(tok)
        if not interspersed:
            args.extend(argv[i:])
            break
    return values, args
