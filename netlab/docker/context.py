"""What every docker command shares: the invocation's :class:`Context` and the
:class:`Command` that describes a (sub)command.

The docker CLI is a client: it parses the command line, sends one request to the daemon and
prints the answer. Here the "daemon" is the model (:mod:`netlab.model`), and a command's
handler is a function ``(ctx, opts, args) -> int``:

- ``ctx`` (:class:`Context`) is the lab and the Docker host the command talks to (``-H``),
  and the two streams it prints to (``ctx.out``, ``ctx.err``);
- ``opts`` maps every flag's long name to its value (see :mod:`netlab.docker.flags`);
- ``args`` are the positional arguments, already counted against the command's
  ``min_args``/``max_args``;
- the result is the exit status the docker CLI would return.

An error from the daemon is raised (any :class:`netlab.errors.NetlabError`, or
:class:`DaemonError` for the ones the front end itself answers): :func:`netlab.docker.docker`
prints it the way the CLI does, ``Error response from daemon: ...`` with exit status 1.

>>> Command("network rm", "NETWORK [NETWORK...]", "Remove one or more networks", (),
...         lambda ctx, opts, args: 0).help_text().splitlines()[1]
'Usage:  docker network rm NETWORK [NETWORK...]'
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, BinaryIO

from netlab.docker.flags import Flag
from netlab.errors import NetlabError

if TYPE_CHECKING:
    from netlab.model.host import Host
    from netlab.model.lab import Lab


#: The columns of the terminal the docker CLI's stdout is, or None when it is no terminal (a
#: notebook, a test, a pipe). The CLI prints some things differently on a terminal (``docker
#: service create``'s progress bars); ``netlab docker`` sets this from its own stdout.
STDOUT_TERMINAL: ContextVar[int | None] = ContextVar("netlab_stdout_terminal", default=None)


@dataclass
class Context:
    """One docker invocation: the lab and host it talks to, and what it printed."""

    lab: Lab
    host: Host
    out: list[str] = field(default_factory=list)
    err: list[str] = field(default_factory=list)
    stdin: BinaryIO | bytes | None = None  # what `docker run -i` passes on (None: nothing)
    path: str = ""  # the command as typed ("container ls"), for the CLI's usage errors
    usage: str = ""  # its usage line's arguments ("[OPTIONS]")
    terminal: int | None = field(default_factory=STDOUT_TERMINAL.get)  # stdout's columns

    def print(self, text: str = "") -> None:
        """A line on stdout."""
        self.out.append(text + "\n")

    def eprint(self, text: str = "") -> None:
        """A line on stderr."""
        self.err.append(text + "\n")

    def flag_error(self, message: str) -> int:
        """A flag or value the CLI refuses before it asks the daemon, printed as the docker
        CLI prints it (docker/cli v28.5.2 cli/cobra.go FlagErrorFunc); exit status 125."""
        self.err.append(usage_error(self.path, self.usage, message))
        return 125


def usage_error(path: str, usage: str, message: str, *, see: str = "Run") -> str:
    """``MESSAGE``, the usage line and the ``--help`` hint, as docker CLI 28 prints them."""
    line = f"docker {path} {usage}".rstrip() if path else "docker [OPTIONS] COMMAND [ARG...]"
    where = f"docker {path}" if path else "docker"
    return f"{message}\n\nUsage:  {line}\n\n{see} '{where} --help' for more information\n"


Handler = Callable[[Context, dict[str, Any], list[str]], int]


@dataclass(frozen=True)
class Command:
    """A docker (sub)command: how it is called, its flags, argument counts and handler."""

    path: str  # "network create"
    usage: str  # "[OPTIONS] NETWORK"
    summary: str
    flags: tuple[Flag, ...]
    handler: Handler
    min_args: int = 0
    max_args: int | None = None
    interspersed: bool = True

    def help_text(self) -> str:
        """What ``docker PATH --help`` prints."""
        lines = [f"\nUsage:  docker {self.path} {self.usage}".rstrip(), "", self.summary, ""]
        shown = [f for f in self.flags if not f.hidden]
        if shown:
            lines.append("Options:")
            lines += [f.usage() for f in shown]
        return "\n".join(lines)


class DaemonError(NetlabError):
    """An error the docker daemon would answer with (printed after its prefix)."""


FORMAT = Flag("format", takes_value=True, help="Format output using a custom template")
