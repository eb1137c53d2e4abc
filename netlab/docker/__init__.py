"""A docker command line over netlab: ``docker(...)`` runs one command against a lab host.

The same parser and commands serve the IPython magic ``%docker`` (see
:mod:`netlab.notebook`) and the console command ``netlab docker``. Output is what the docker
CLI prints (columns, JSON, error words); nothing here touches the kernel directly: the
commands call the model, which the kernel layer carries out.

How a command line is run, as the docker CLI runs it:

1. the global flags come first: ``-H HOST`` (the Docker host to talk to; ``tcp://`` and
   ``ssh://`` addresses name the host too), ``--explain`` (netlab's own: also return the
   kernel operations), ``-v`` and ``-h``;
2. the command words are resolved (``network ls``, ``ps``; an alias such as ``container ls``
   is its command), then ``--help``, the flags (pflag's rules, :mod:`.flags`) and the number
   of arguments are checked, each with Docker's message and exit status (125 for a flag the
   CLI refuses, 1 otherwise);
3. the handler runs against the lab's host and its "daemon" errors are printed with
   Docker's prefix (:mod:`.commands`).

The package:

- here, the entry points: :func:`docker`, :func:`use`, :func:`current_lab`,
  :func:`explain_text`, :class:`Output`, and the resolver and usage texts;
- :mod:`.table`: every command's words, usage, flags and handler (:data:`COMMANDS`,
  :data:`ALIASES`, :data:`GROUPS`, re-exported here);
- :mod:`.context`: what a command gets (:class:`.context.Context`) and is
  (:class:`.context.Command`);
- :mod:`.commands`: the commands themselves, one module per part of the CLI;
- :mod:`.output`: ``--format``, inspect documents and per-reference printing;
- :mod:`.flags` and :mod:`.template`: pflag's flags and Go's templates, as docker uses them.

>>> import shlex
>>> shlex.split("network ls --format '{{.Name}}'")
['network', 'ls', '--format', '{{.Name}}']
"""

from __future__ import annotations

import shlex
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import BinaryIO

from netlab.docker.context import Command, Context, usage_error
from netlab.docker.flags import FlagError, parse
from netlab.docker.table import ALIASES, COMMANDS, GROUPS
from netlab.docker.template import TemplateError
from netlab.errors import InvalidArgument, NetlabError, NoSuchLab, one_line
from netlab.kernel import trace
from netlab.model.lab import Lab, latest_lab, owned_elsewhere
from netlab.model.state import lab_names, removed_message

__all__ = [
    "ALIASES",
    "COMMANDS",
    "GROUPS",
    "Output",
    "current_lab",
    "docker",
    "explain_text",
    "use",
]


@dataclass
class Output:
    """What a docker command printed, and its exit status."""

    stdout: str
    stderr: str
    code: int
    explain: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return self.stdout + self.stderr


_current: weakref.ref[Lab] | None = None


def use(lab: Lab) -> None:
    """Make ``lab`` the one ``%docker`` and :func:`docker` talk to by default."""
    global _current
    _current = weakref.ref(lab)


def current_lab() -> Lab:
    """The lab in use: the last one built or chosen here; if this process has had none, the
    only lab on the machine that no other running process owns (never another notebook's).
    A lab this process had that is gone is said to be gone."""

    had = [lab for lab in (_current() if _current else None, latest_lab()) if lab is not None]
    for lab in had:
        if lab.is_up:
            return lab
    if had:
        raise NoSuchLab(removed_message(had[0].name))
    names = [n for n in lab_names() if not owned_elsewhere(n)]
    if len(names) == 1:
        return Lab.attach(names[0])
    if not names:
        others = lab_names()
        raise NoSuchLab(
            "no lab is up"
            + (
                f" here (those up belong to other running notebooks: {', '.join(others)})"
                if others
                else ""
            )
            + ": build one first, e.g. `lab = Lab('demo')` in Python or `netlab up demo` in a "
            "terminal"
        )
    raise InvalidArgument(
        f"several labs are up ({', '.join(names)}): pick one with netlab.docker.use(lab) or -L LAB"
    )


def _host_name(value: str) -> str:
    """``-H node2``, ``-H tcp://node2:2375`` or ``-H ssh://root@node2`` all mean node2."""
    value = value.split("://", 1)[-1].split("@", 1)[-1]
    return value.rsplit(":", 1)[0] if ":" in value else value


def _resolve(argv: list[str]) -> tuple[Command | None, list[str], str]:
    """Find the command in argv; return (command, its arguments, the path the user typed)."""
    if not argv:
        return None, [], ""
    first = argv[0]
    if first in GROUPS:
        if len(argv) < 2 or argv[1].startswith("-"):
            return None, argv[1:], first
        path = f"{first} {argv[1]}"
        path = ALIASES.get(path, path)
        return COMMANDS.get(path), argv[2:], f"{first} {argv[1]}"
    path = ALIASES.get(first, first)
    return COMMANDS.get(path), argv[1:], first


def _wants_help(cmd: Command, rest: list[str]) -> bool:
    """``--help`` (or ``-h`` where it is no flag of the command) among the command's flags.

    For ``run`` and ``exec`` only what comes before the image or container counts:
    ``docker run busybox ls --help`` asks ``ls`` for help, not docker.
    """
    has_h = any(f.short == "h" for f in cmd.flags)
    takes_value = {f"--{f.name}" for f in cmd.flags if f.takes_value} | {
        f"-{f.short}" for f in cmd.flags if f.takes_value and f.short
    }
    skip = False
    for tok in rest:
        if skip:
            skip = False
            continue
        if tok == "--":
            return False
        if tok == "--help" or (tok == "-h" and not has_h):
            return True
        if tok in takes_value:
            skip = True
        elif not tok.startswith("-") and not cmd.interspersed:
            return False
    return False


def _plural(n: int) -> str:
    return "argument" if n == 1 else "arguments"


def _arg_count_error(cmd: Command, typed: str, n: int) -> str | None:
    """The CLI's refusal of a wrong number of arguments (docker/cli v28.5.2 cli/required.go:
    NoArgs, ExactArgs, RequiresMinArgs, RequiresMaxArgs, RequiresRangeArgs, with their words
    as they are, "See" in one and "SRun" in another included)."""
    lo, hi = cmd.min_args, cmd.max_args
    if lo <= n and (hi is None or n <= hi):
        return None
    usage = f"docker {typed} {cmd.usage}".rstrip()
    if hi == 0:
        head, run = f"docker: 'docker {typed}' accepts no arguments", "Run"
    elif lo == hi:
        head, run = f"docker: 'docker {typed}' requires {lo} {_plural(lo)}", "Run"
    elif hi is None:
        head, run = f"docker: 'docker {typed}' requires at least {lo} {_plural(lo)}", "See"
    elif lo == 0:
        head, run = f"docker: 'docker {typed}' requires at most {hi} {_plural(hi)}", "SRun"
    else:
        head = f"docker: 'docker {typed}' requires at least {lo} and at most {hi} {_plural(hi)}"
        run = "Run"
    return f"{head}\n\nUsage:  {usage}\n\n{run} 'docker {typed} --help' for more information"


def docker(
    argv: Sequence[str] | str,
    *,
    lab: Lab | None = None,
    host: str | None = None,
    stdin: BinaryIO | bytes | str | None = None,
) -> Output:
    """Run one docker command line against a lab host and return what it printed.

    ``argv`` is a list or a string split like a shell (``"network ls"``). ``stdin`` is what
    ``docker run -i`` passes to the container (a binary file, bytes or text). Global flags:
    ``-H/--host HOST`` picks the lab's Docker host, ``--explain`` also returns the kernel
    operations the command performed, as command lines a student could type.
    """
    words = shlex.split(argv) if isinstance(argv, str) else list(argv)
    explain = False
    while words and words[0].startswith("-"):
        w = words.pop(0)
        if w in ("-H", "--host") and words:
            host = _host_name(words.pop(0))
        elif w.startswith(("--host=", "-H=")):
            host = _host_name(w.split("=", 1)[1])
        elif w.startswith("-H") and len(w) > 2:
            host = _host_name(w[2:])
        elif w == "--explain":
            explain = True
        elif w in ("-v", "--version"):
            words = ["version"]
        elif w in ("-h", "--help"):
            words = []
        else:
            return Output("", usage_error("", "", f"unknown flag: {w}"), 125)
    cmd, rest, typed = _resolve(words)
    if cmd is None:
        if not words:
            return Output(_usage(), "", 0)
        group = words[0]
        if group in GROUPS:
            sub = words[1] if len(words) > 1 else ""
            subs = sorted(p.split(" ", 1)[1] for p in COMMANDS if p.startswith(group + " "))
            if not sub or sub in ("-h", "--help"):
                # (docker/cli v28.5.2 cli/cobra.go usageTemplate: each subcommand padded to
                # cobra's NamePadding, 11 at least, then its Short)
                pad = max([11, *(len(s) for s in subs)])
                rows = "".join(f"  {s:<{pad}} {COMMANDS[f'{group} {s}'].summary}\n" for s in subs)
                return Output(
                    f"\nUsage:  docker {group} COMMAND\n\n{GROUPS[group]}\n\nCommands:\n{rows}"
                    f"\nRun 'docker {group} COMMAND --help' for more information on a command.\n",
                    "",
                    0,
                )
            if sub.startswith("-"):  # (cli/cobra.go FlagErrorFunc)
                return Output("", usage_error(group, "COMMAND", f"unknown flag: {sub}"), 125)
            # (cli/required.go NoArgs of a management command)
            return Output(
                "",
                f"docker: unknown command: docker {group} {sub}\n\nUsage:  docker {group} "
                f"COMMAND\n\nRun 'docker {group} --help' for more information\n",
                1,
            )
        # (docker/cli v28.5.2 cmd/docker/docker.go newDockerCommand RunE)
        return Output(
            "",
            f"docker: unknown command: docker {typed}\n\nRun 'docker --help' for more "
            "information\n",
            1,
        )
    if _wants_help(cmd, rest):
        return Output(cmd.help_text() + "\n", "", 0)
    try:
        opts, args = parse(cmd.flags, rest, interspersed=cmd.interspersed)
    except FlagError as exc:
        return Output("", usage_error(typed, cmd.usage, str(exc)), 125)
    problem = _arg_count_error(cmd, typed, len(args))
    if problem:
        return Output("", problem + "\n", 1)
    try:
        the_lab = lab if lab is not None else current_lab()
        ctx = Context(
            the_lab,
            the_lab.host(host),
            stdin=stdin.encode() if isinstance(stdin, str) else stdin,
            path=typed,
            usage=cmd.usage,
        )
    except NetlabError as exc:
        return Output("", f"netlab: {exc}\n", 1)
    except Exception as exc:  # (the OS's refusal, or a bug: one line, never a traceback)
        return Output("", f"netlab: {one_line(exc)}\n", 1)
    with trace.recording() as lines:
        try:
            code = cmd.handler(ctx, opts, args)
        except TemplateError as exc:  # the CLI's own words for a --format it refuses, no daemon's
            ctx.err.append(f"{exc}\n")
            code = exc.status
        except NetlabError as exc:
            ctx.out.append("")
            if cmd.path == "run":
                msg = str(exc)
                pre = ""
                if msg.startswith("Unable to find image"):
                    pre, _, msg = msg.partition("\n")
                    pre += "\n"
                ctx.err.append(
                    f"{pre}docker: Error response from daemon: {msg}\n\n"
                    "Run 'docker run --help' for more information\n"
                )
                code = 125
            else:
                ctx.err.append(f"Error response from daemon: {exc}\n")
                code = 1
        except Exception as exc:  # (the OS's refusal, or a bug: one line, never a traceback)
            ctx.out.append("")
            ctx.err.append(f"netlab: {one_line(exc)}\n")
            code = 125 if cmd.path == "run" else 1
    return Output("".join(ctx.out), "".join(ctx.err), code, list(lines) if explain else [])


def _usage() -> str:
    cmds = sorted({p.split(" ")[0] for p in COMMANDS})
    return (
        "\nUsage:  docker [OPTIONS] COMMAND\n\nnetlab's docker: Docker's networking on the "
        "real Linux kernel\n\nCommands:\n"
        + "".join(f"  {c}\n" for c in cmds)
        + "\nGlobal Options:\n  -H, --host string   Lab host to talk to (default: the first)\n"
        "      --explain       Also show the kernel operations, as ip/nft commands\n"
    )


def explain_text(lines: list[str]) -> str:
    """The "what did Docker just do?" block printed after a command run with --explain."""
    if not lines:
        return "\n# netlab: this command changed nothing in the kernel\n"
    return (
        "\n# What that did in the kernel, as commands you could type:\n" + "\n".join(lines) + "\n"
    )
