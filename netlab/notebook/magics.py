"""IPython magics: ``%docker``, ``%%docker`` and ``%on``.

Load them with ``%load_ext netlab``. Then, in a notebook whose lab is built (``Lab("demo")``)::

    %docker network ls
    %docker run -dt ubuntu sleep infinity
    %docker -H node2 swarm join --token {token} {addr}     # IPython expands {vars}
    %docker --explain run -d ubuntu sleep infinity         # also print the kernel operations

    %on host brctl show            # a real command inside the Docker host's namespaces
    %on web1 ping -c 3 172.17.0.1  # ... or a container's (name or ID), or lan / inet

    %%docker                       # one docker command per line
    network create mynet
    run -d --name a --network mynet ubuntu sleep infinity

    %netlab doctor                 # the netlab command: doctor, ls, clean, draw, ...
    %netlab check 1                # the lab's exercise 1: check it (hint 1, solution 1)

``%docker`` prints exactly what the docker CLI prints (stdout and stderr apart); a failing
command prints its error and does not raise, as in a terminal.
"""

from __future__ import annotations

import contextlib
import re
import shlex
import subprocess
import sys
from typing import Any

from netlab.docker import current_lab, docker, explain_text
from netlab.errors import NetlabError, one_line
from netlab.model import frontends
from netlab.notebook import exercises


def _print_output(line: str) -> int:
    argv = shlex.split(line)
    out = docker(argv)
    sys.stdout.write(out.stdout)
    if out.stderr:
        sys.stderr.write(out.stderr)
    if "--explain" in argv[:3]:
        sys.stdout.write(explain_text(out.explain))
    return out.code


def docker_magic(line: str, cell: str | None = None) -> None:
    """``%docker ARGS`` / ``%%docker [GLOBAL FLAGS]``: docker commands against the lab.

    In the cell form each line is one command (a leading ``docker`` is optional) and the
    flags on the ``%%docker`` line (``-H node2``, ``--explain``) apply to every line; the
    cell stops at the first command that fails, as a shell script with ``set -e`` would.
    """
    if cell is None:
        _print_output(_strip_docker(line))
        return
    for ln in cell.splitlines():
        if not ln.strip() or ln.lstrip().startswith("#"):
            continue
        if _print_output(f"{line.strip()} {_strip_docker(ln)}".strip()) != 0:
            break


def _strip_docker(line: str) -> str:
    line = line.strip()
    return line[len("docker ") :] if line.startswith("docker ") else line


def run_on(target: str, command: str) -> int:
    """Run ``command`` (a shell command line) inside a host, container, ``lan`` or ``inet``."""
    return _run_and_print([*current_lab().command_prefix(target), "/bin/sh", "-c", command])


def _run_and_print(argv: list[str]) -> int:
    """Run a real command, print its stdout and stderr as a cell's output, return its status."""

    done = subprocess.run(argv, capture_output=True, text=True, timeout=300, check=False)
    sys.stdout.write(done.stdout)
    if done.stderr:
        sys.stderr.write(done.stderr)
    return done.returncode


def on_magic(line: str, cell: str | None = None) -> None:
    """``%on TARGET CMD...`` / ``%%on TARGET``: a real shell command inside a lab machine."""
    target, _, rest = line.strip().partition(" ")
    if not target:
        sys.stderr.write(
            "usage: %on TARGET COMMAND...  (TARGET: a host, a container, lan or inet)\n"
        )
        return
    command = cell if cell is not None else rest
    try:
        run_on(target, command)
    except NetlabError as exc:
        sys.stderr.write(f"netlab: {exc}\n")
    except Exception as exc:  # (the OS's refusal, or a bug: one line, never a traceback)
        sys.stderr.write(f"netlab: {one_line(exc)}\n")


_NAME = re.compile(r"(?<![{$])\{([A-Za-z_][\w.]*(?:\[[^\]{}]*\])?)\}(?!})|\$([A-Za-z_]\w*)")


def expand(line: str, namespace: dict[str, Any]) -> str:
    """Put Python values into a command line: ``{name}``, ``{obj.attr}``, ``{d['k']}``, ``$name``.

    Unlike IPython's own expansion, Go templates such as ``{{.Names}}`` stay as they are, so
    ``%docker ps --format '{{.Names}}'`` is typed exactly as in a terminal.

    >>> expand("join --token {t} {addr}:2377 --format '{{.ID}}'", {"t": "T1", "addr": "10.0.0.1"})
    "join --token T1 10.0.0.1:2377 --format '{{.ID}}'"
    """

    def value(m: re.Match[str]) -> str:
        expr = m.group(1) or m.group(2)
        try:
            return str(eval(expr, {}, namespace))
        except Exception:
            return m.group(0)

    return _NAME.sub(value, line)


# ``netlab`` commands that replace the process they run in: they run in a child, as from a shell.
_OWN_PROCESS = frozenset({"exec", "shell"})


def netlab_magic(line: str) -> None:
    """``%netlab ARGS``: the ``netlab`` console command (doctor, ls, clean, node, ...), with
    the same output and effect as in a shell. (``%netlab check|hint|solution N`` are the
    notebook's own: the lab's exercise N, see :mod:`netlab.notebook.exercises`.)

    It runs in this kernel (the command a front end registered in :mod:`netlab.model.frontends`):
    no new Python loading netlab again, which on a machine shared by a class is 28 MB and a
    second per command. ``exec`` and ``shell``, which replace the process they run in, run
    as ``python -m netlab`` with this kernel's Python, so they work even where the ``netlab``
    script is not on the PATH of the notebook server.
    """
    argv = shlex.split(line)
    if argv[:1] and argv[0] in _OWN_PROCESS:
        _run_and_print([sys.executable, "-m", "netlab", *argv])
        return
    with contextlib.suppress(SystemExit):  # (argparse's --help and usage errors)
        frontends.show("command", argv)


def load_ipython_extension(ipython: Any) -> None:
    """Register the magics (called by ``%load_ext netlab``)."""

    def netlab(line: str) -> None:
        argv = shlex.split(line)
        if argv[:1] and argv[0] in exercises.COMMANDS:  # (they read the notebook's `answer`)
            exercises.command(argv, ipython.user_ns)
        else:
            netlab_magic(line)

    netlab.__doc__ = netlab_magic.__doc__
    ipython.register_magic_function(netlab, "line", "netlab")

    def docker(line: str, cell: str | None = None) -> None:
        docker_magic(
            expand(line, ipython.user_ns), None if cell is None else expand(cell, ipython.user_ns)
        )

    def on(line: str, cell: str | None = None) -> None:
        on_magic(
            expand(line, ipython.user_ns), None if cell is None else expand(cell, ipython.user_ns)
        )

    for fn in (docker, on):
        fn._ipython_magic_no_var_expand = True  # type: ignore[attr-defined]
        fn.__doc__ = (docker_magic if fn is docker else on_magic).__doc__
    ipython.register_magic_function(docker, "line_cell", "docker")
    ipython.register_magic_function(on, "line_cell", "on")
