"""A docker command line over netlab: ``docker(...)`` runs one command against a lab host.

The same parser and commands serve the IPython magic ``%docker`` (see
:mod:`netlab.notebook`) and the console command ``netlab docker``. Output is what the docker
CLI prints (columns, JSON, error words); nothing here touches the kernel directly: the
commands call the model, which the kernel layer carries out.

>>> import shlex
>>> shlex.split("network ls --format '{{.Name}}'")
['network', 'ls', '--format', '{{.Name}}']
"""

from __future__ import annotations

import shlex
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from netlab.docker import commands as C
from netlab.docker.flags import Flag, FlagError, parse
from netlab.errors import InvalidArgument, NetlabError, NoSuchLab
from netlab.kernel import trace
from netlab.model.lab import Lab, latest_lab
from netlab.model.state import lab_names

if TYPE_CHECKING:
    from netlab.model.lab import Lab

F = Flag
_FMT = C.FORMAT

COMMANDS: dict[str, C.Command] = {
    c.path: c
    for c in (
        C.Command(
            "run",
            "[OPTIONS] IMAGE [COMMAND] [ARG...]",
            "Create and run a new container from an image",
            (
                F("detach", "d", help="Run container in background and print container ID"),
                F("tty", "t", help="Allocate a pseudo-TTY"),
                F("interactive", "i", help="Keep STDIN open even if not attached"),
                F("name", takes_value=True, help="Assign a name to the container"),
                F("network", takes_value=True, help="Connect a container to a network"),
                F("net", takes_value=True, hidden=True),
                F("rm", help="Automatically remove the container when it exits"),
                F("hostname", "h", takes_value=True, help="Container host name"),
                F(
                    "publish",
                    "p",
                    takes_value=True,
                    repeated=True,
                    help="Publish a container's port(s) to the host",
                ),
                F("publish-all", "P", help="Publish all exposed ports to random ports"),
                F("env", "e", takes_value=True, repeated=True, help="Set environment variables"),
            ),
            C.cmd_run,
            min_args=1,
            interspersed=False,
        ),
        C.Command(
            "ps",
            "[OPTIONS]",
            "List containers",
            (
                F("all", "a", help="Show all containers (default shows just running)"),
                F("quiet", "q", help="Only display container IDs"),
                F("no-trunc", help="Don't truncate output"),
                _FMT,
            ),
            C.cmd_ps,
            max_args=0,
        ),
        C.Command(
            "exec",
            "[OPTIONS] CONTAINER COMMAND [ARG...]",
            "Execute a command in a running container",
            (
                F("interactive", "i", help="Keep STDIN open even if not attached"),
                F("tty", "t", help="Allocate a pseudo-TTY"),
                F("detach", "d", hidden=True),
                F("env", "e", takes_value=True, repeated=True, help="Set environment variables"),
            ),
            C.cmd_exec,
            min_args=2,
            interspersed=False,
        ),
        C.Command(
            "inspect",
            "[OPTIONS] NAME|ID [NAME|ID...]",
            "Return low-level information on Docker objects",
            (
                F("format", "f", takes_value=True, help="Format output using a custom template"),
                F("type", takes_value=True, help="Only inspect objects of the given type"),
            ),
            C.cmd_inspect,
            min_args=1,
        ),
        C.Command(
            "container inspect",
            "[OPTIONS] CONTAINER [CONTAINER...]",
            "Display detailed information on one or more containers",
            (F("format", "f", takes_value=True, help="Format output using a custom template"),),
            C.cmd_container_inspect,
            min_args=1,
        ),
        C.Command(
            "stop",
            "[OPTIONS] CONTAINER [CONTAINER...]",
            "Stop one or more running containers",
            (F("time", "t", takes_value=True, hidden=True),),
            C.cmd_stop,
            min_args=1,
        ),
        C.Command(
            "start",
            "[OPTIONS] CONTAINER [CONTAINER...]",
            "Start one or more stopped containers",
            (F("attach", "a", hidden=True),),
            C.cmd_start,
            min_args=1,
        ),
        C.Command(
            "rm",
            "[OPTIONS] CONTAINER [CONTAINER...]",
            "Remove one or more containers",
            (F("force", "f", help="Force the removal of a running container (uses SIGKILL)"),),
            C.cmd_rm,
            min_args=1,
        ),
        C.Command(
            "logs",
            "[OPTIONS] CONTAINER",
            "Fetch the logs of a container",
            (
                F("tail", "n", takes_value=True, help="Number of lines to show from the end"),
                F("follow", "f", hidden=True),
            ),
            C.cmd_logs,
            min_args=1,
            max_args=1,
        ),
        C.Command(
            "port",
            "CONTAINER [PRIVATE_PORT[/PROTO]]",
            "List port mappings or a specific mapping for the container",
            (),
            C.cmd_port,
            min_args=1,
            max_args=2,
        ),
        C.Command(
            "images",
            "[OPTIONS] [REPOSITORY[:TAG]]",
            "List images",
            (F("quiet", "q", help="Only show image IDs"),),
            C.cmd_images,
            max_args=1,
        ),
        C.Command(
            "version",
            "[OPTIONS]",
            "Show the Docker version information",
            (),
            C.cmd_version,
            max_args=0,
        ),
        C.Command(
            "info", "[OPTIONS]", "Display system-wide information", (), C.cmd_info, max_args=0
        ),
        C.Command(
            "network ls",
            "[OPTIONS]",
            "List networks",
            (
                F("quiet", "q", help="Only display network IDs"),
                F("no-trunc", help="Do not truncate the output"),
                _FMT,
            ),
            C.cmd_network_ls,
            max_args=0,
        ),
        C.Command(
            "network create",
            "[OPTIONS] NETWORK",
            "Create a network",
            (
                F(
                    "driver",
                    "d",
                    takes_value=True,
                    help='Driver to manage the Network (default "bridge")',
                ),
                F(
                    "subnet",
                    takes_value=True,
                    help="Subnet in CIDR format that represents a network segment",
                ),
                F("gateway", takes_value=True, help="IPv4 or IPv6 Gateway for the master subnet"),
                F("internal", help="Restrict external access to the network"),
                F(
                    "opt",
                    "o",
                    takes_value=True,
                    repeated=True,
                    help="Set driver specific options (default map[])",
                ),
            ),
            C.cmd_network_create,
            min_args=1,
            max_args=1,
        ),
        C.Command(
            "network inspect",
            "[OPTIONS] NETWORK [NETWORK...]",
            "Display detailed information on one or more networks",
            (F("format", "f", takes_value=True, help="Format output using a custom template"),),
            C.cmd_network_inspect,
            min_args=1,
        ),
        C.Command(
            "network connect",
            "[OPTIONS] NETWORK CONTAINER",
            "Connect a container to a network",
            (),
            C.cmd_network_connect,
            min_args=2,
            max_args=2,
        ),
        C.Command(
            "network disconnect",
            "[OPTIONS] NETWORK CONTAINER",
            "Disconnect a container from a network",
            (F("force", "f", help="Force the container to disconnect from a network"),),
            C.cmd_network_disconnect,
            min_args=2,
            max_args=2,
        ),
        C.Command(
            "network rm",
            "NETWORK [NETWORK...]",
            "Remove one or more networks",
            (F("force", "f", hidden=True),),
            C.cmd_network_rm,
            min_args=1,
        ),
        C.Command(
            "network prune",
            "[OPTIONS]",
            "Remove all unused networks",
            (F("force", "f", help="Do not prompt for confirmation"),),
            C.cmd_network_prune,
            max_args=0,
        ),
        C.Command(
            "swarm init",
            "[OPTIONS]",
            "Initialize a swarm",
            (F("advertise-addr", takes_value=True, help="Advertised address"),),
            C.cmd_swarm_init,
            max_args=0,
        ),
        C.Command(
            "swarm join",
            "[OPTIONS] HOST:PORT",
            "Join a swarm as a node and/or manager",
            (
                F("token", takes_value=True, help="Token for entry into the swarm"),
                F("advertise-addr", takes_value=True, hidden=True),
            ),
            C.cmd_swarm_join,
            min_args=1,
            max_args=1,
        ),
        C.Command(
            "swarm join-token",
            "[OPTIONS] (worker|manager)",
            "Manage join tokens",
            (F("quiet", "q", help="Only display token"),),
            C.cmd_swarm_join_token,
            min_args=1,
            max_args=1,
        ),
        C.Command(
            "node ls",
            "[OPTIONS]",
            "List nodes in the swarm",
            (F("quiet", "q", help="Only display IDs"),),
            C.cmd_node_ls,
            max_args=0,
        ),
        C.Command(
            "service create",
            "[OPTIONS] IMAGE [COMMAND] [ARG...]",
            "Create a new service",
            (
                F("name", takes_value=True, help="Service name"),
                F("replicas", takes_value=True, help="Number of tasks"),
                F("network", takes_value=True, repeated=True, help="Network attachments"),
                F(
                    "detach",
                    "d",
                    help="Exit immediately instead of waiting for the service to converge",
                ),
            ),
            C.cmd_service_create,
            min_args=1,
            interspersed=False,
        ),
        C.Command(
            "service ls",
            "[OPTIONS]",
            "List services",
            (F("quiet", "q", help="Only display IDs"),),
            C.cmd_service_ls,
            max_args=0,
        ),
        C.Command(
            "service ps",
            "[OPTIONS] SERVICE [SERVICE...]",
            "List the tasks of one or more services",
            (F("quiet", "q", help="Only display task IDs"), F("no-trunc", hidden=True)),
            C.cmd_service_ps,
            min_args=1,
        ),
        C.Command(
            "service scale",
            "SERVICE=REPLICAS [SERVICE=REPLICAS...]",
            "Scale one or multiple replicated services",
            (F("detach", "d", hidden=True),),
            C.cmd_service_scale,
            min_args=1,
        ),
        C.Command(
            "service rm",
            "SERVICE [SERVICE...]",
            "Remove one or more services",
            (),
            C.cmd_service_rm,
            min_args=1,
        ),
        C.Command(
            "service inspect",
            "[OPTIONS] SERVICE [SERVICE...]",
            "Display detailed information on one or more services",
            (
                F("format", "f", takes_value=True, help="Format output using a custom template"),
                F("pretty", hidden=True),
            ),
            C.cmd_service_inspect,
            min_args=1,
        ),
    )
}

ALIASES = {
    "container ls": "ps",
    "container ps": "ps",
    "container list": "ps",
    "container run": "run",
    "container exec": "exec",
    "container stop": "stop",
    "container start": "start",
    "container rm": "rm",
    "container remove": "rm",
    "container logs": "logs",
    "container port": "port",
    "image ls": "images",
    "image list": "images",
    "network list": "network ls",
    "network remove": "network rm",
    "container create": "run",
    "node list": "node ls",
    "service list": "service ls",
    "service remove": "service rm",
}
GROUPS = {
    "network": "Manage networks",
    "container": "Manage containers",
    "image": "Manage images",
    "swarm": "Manage Swarm",
    "node": "Manage Swarm nodes",
    "service": "Manage Swarm services",
}


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
    """The lab in use: the last one built or chosen here, else the only lab on the machine."""

    lab = _current() if _current is not None else None
    if lab is None or not lab.is_up:
        lab = latest_lab()
    if lab is not None and lab.is_up:
        return lab
    names = lab_names()
    if len(names) == 1:
        return Lab.attach(names[0])
    if not names:
        raise NoSuchLab(
            "no lab is up: build one first, e.g. `lab = Lab('demo')` in Python "
            "or `netlab up demo` in a terminal"
        )
    raise InvalidArgument(
        f"several labs are up ({', '.join(names)}): pick one with netlab.docker.use(lab) or -L LAB"
    )


def _host_name(value: str) -> str:
    """``-H node2``, ``-H tcp://node2:2375`` or ``-H ssh://root@node2`` all mean node2."""
    value = value.split("://", 1)[-1].split("@", 1)[-1]
    return value.rsplit(":", 1)[0] if ":" in value else value


def _resolve(argv: list[str]) -> tuple[C.Command | None, list[str], str]:
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


def _wants_help(cmd: C.Command, rest: list[str]) -> bool:
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


def _arg_count_error(cmd: C.Command, typed: str, n: int) -> str | None:
    lo, hi = cmd.min_args, cmd.max_args
    if lo == hi and n != lo:
        need = f"exactly {lo} {_plural(lo)}"
    elif n < lo:
        need = f"at least {lo} {_plural(lo)}"
    elif hi is not None and n > hi:
        need = "no arguments" if hi == 0 else f"at most {hi} {_plural(hi)}"
        if hi == 0:
            return (
                f"\"docker {typed}\" accepts no arguments.\nSee 'docker {typed} --help'."
                f"\n\nUsage:  docker {typed} {cmd.usage}\n\n{cmd.summary}"
            )
    else:
        return None
    return (
        f"\"docker {typed}\" requires {need}.\nSee 'docker {typed} --help'.\n\n"
        f"Usage:  docker {typed} {cmd.usage}\n\n{cmd.summary}"
    )


def docker(
    argv: Sequence[str] | str,
    *,
    lab: Lab | None = None,
    host: str | None = None,
) -> Output:
    """Run one docker command line against a lab host and return what it printed.

    ``argv`` is a list or a string split like a shell (``"network ls"``). Global flags:
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
            return Output("", f"unknown flag: {w}\nSee 'docker --help'.\n", 125)
    cmd, rest, typed = _resolve(words)
    if cmd is None:
        if not words:
            return Output(_usage(), "", 0)
        if typed in GROUPS:
            sub = rest[0] if rest else ""
            subs = sorted(p.split(" ", 1)[1] for p in COMMANDS if p.startswith(typed + " "))
            if not sub or sub in ("-h", "--help"):
                return Output(
                    f"\nUsage:  docker {typed} COMMAND\n\n{GROUPS[typed]}\n\n"
                    "Commands:\n" + "".join(f"  {s}\n" for s in subs),
                    "",
                    0,
                )
        else:
            sub = ""
        what = f"{typed} {sub}".strip() if typed in GROUPS else typed
        return Output("", f"docker: '{what}' is not a docker command.\nSee 'docker --help'\n", 1)
    if _wants_help(cmd, rest):
        return Output(cmd.help_text() + "\n", "", 0)
    try:
        opts, args = parse(cmd.flags, rest, interspersed=cmd.interspersed)
    except FlagError as exc:
        return Output("", f"{exc}\nSee 'docker {typed} --help'.\n", 125)
    problem = _arg_count_error(cmd, typed, len(args))
    if problem:
        return Output("", problem + "\n", 1)
    try:
        the_lab = lab if lab is not None else current_lab()
        ctx = C.Context(the_lab, the_lab.host(host))
    except NetlabError as exc:
        return Output("", f"netlab: {exc}\n", 1)
    with trace.recording() as lines:
        try:
            code = cmd.handler(ctx, opts, args)
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
