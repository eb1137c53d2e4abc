"""``netlab``: labs from a shell.

::

    netlab up LAB [--hosts node1,node2]     build a lab (one host named "host" by default;
              [--replace]                   --replace: build it anew if it is up;
              [--firewall-backend B]        the daemon's settings: iptables or nftables,
              [--userland-proxy=BOOL]       docker-proxy on published ports or not)
    netlab down LAB                         remove it
    netlab exec [-L LAB] TARGET -- CMD...   run a real command in a host or container
    netlab ls                               every lab, its hosts and containers
    netlab clean [LAB | --all]              remove leftovers (only netlab's)
    netlab doctor                           check privileges, kernel features and tools
    netlab shell [CMD...]                   a shell (or CMD) where `ip netns list` shows your
                                            labs' namespaces (without root: inside your own
                                            user namespace)
    netlab docker [-L LAB] [-H HOST] ARGS   a docker command against a lab's host
    netlab draw [-L LAB] -o FILE.png|svg    a picture of the lab from the live kernel
    netlab labs [copy|where|reset NN]       your own copy of the lab notebooks

``TARGET`` is a host name, a container name or ID (prefix), or ``lan``/``inet`` for the lab's
LAN router and simulated internet. ``-L`` defaults to ``$NETLAB_LAB``, or the only lab there
is.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Sequence

from netlab.errors import InvalidArgument, NetlabError, NoSuchLab, one_line
from netlab.kernel import userns
from netlab.model import frontends


def _default_lab(explicit: str | None) -> str:
    from netlab.model.state import lab_names

    if explicit:
        return explicit
    if os.environ.get("NETLAB_LAB"):
        return os.environ["NETLAB_LAB"]
    labs = lab_names()
    if len(labs) == 1:
        return labs[0]
    if not labs:
        raise NoSuchLab("no lab is up on this machine; start one with `netlab up demo`")
    raise InvalidArgument(f"several labs are up ({', '.join(labs)}): choose one with -L LAB")


def cmd_up(args: argparse.Namespace) -> int:
    from netlab.model.lab import Lab

    hosts = [h.strip() for h in args.hosts.split(",") if h.strip()] if args.hosts else ["host"]
    proxy = None if args.userland_proxy is None else args.userland_proxy == "true"
    lab = Lab(
        args.lab,
        hosts=hosts,
        down_at_exit=False,
        replace=args.replace,
        firewall_backend=args.firewall_backend,
        userland_proxy=proxy,
    )
    for h in lab.hosts:
        print(f"{lab.name}: host {h.name} at {h.address} (namespace {h.ns})")
    print(
        f"lab {lab.name} is up; try: netlab exec -L {lab.name} {lab.hosts[0].name} -- ip -br addr"
    )
    return 0


def cmd_down(args: argparse.Namespace) -> int:
    from netlab.model.lab import wipe
    from netlab.model.state import lab_names
    from netlab.model.topology import check_lab_name

    check_lab_name(args.lab)
    if args.lab not in lab_names():
        raise NoSuchLab(f"no lab named {args.lab!r} on this machine")
    wipe(args.lab)
    print(f"lab {args.lab} removed")
    return 0


def cmd_node(args: argparse.Namespace) -> int:
    """``netlab node down|up LAB NODE``: a swarm node fails (its LAN link goes down) or
    comes back."""
    from netlab.model import swarm
    from netlab.model.lab import Lab

    lab = Lab.attach(args.lab)
    lab.host(args.node)  # (Docker's "no such host" first)
    (swarm.node_down if args.action == "down" else swarm.node_up)(lab, args.node)
    print(f"node {args.node} {args.action}")
    return 0


def cmd_exec(args: argparse.Namespace) -> int:
    from netlab.model.lab import Lab

    argv = list(args.command)
    if argv and argv[0] == "--":
        argv = argv[1:]
    if not argv:
        raise InvalidArgument("no command given: netlab exec [-L LAB] TARGET -- CMD...")
    prefix = Lab.attach(_default_lab(args.lab)).command_prefix(args.target)
    sys.stdout.flush()
    os.execvp(prefix[0], [*prefix, *argv])


def cmd_docker(args: argparse.Namespace) -> int:
    from netlab.docker import docker, explain_text
    from netlab.docker.context import STDOUT_TERMINAL
    from netlab.model.lab import Lab

    argv = list(args.args)
    if argv and argv[0] == "--":
        argv = argv[1:]
    lab = Lab.attach(_default_lab(args.lab))
    if args.explain:
        argv.insert(0, "--explain")
    if sys.stdout.isatty():  # the docker CLI asks its stdout too (its width: moby/term)
        try:
            STDOUT_TERMINAL.set(os.get_terminal_size(sys.stdout.fileno()).columns)
        except OSError:
            STDOUT_TERMINAL.set(200)  # jsonmessage's width when it cannot read the terminal's
    out = docker(argv, lab=lab, host=args.host, stdin=sys.stdin.buffer)
    sys.stdout.write(out.stdout)
    sys.stderr.write(out.stderr)
    if "--explain" in argv[:3]:
        sys.stdout.write(explain_text(out.explain))
    return out.code


def cmd_draw(args: argparse.Namespace) -> int:
    from netlab.model.lab import Lab
    from netlab.views.draw import save

    if not args.output.endswith((".png", ".svg")):
        raise InvalidArgument(f"the picture's file must end in .png or .svg: {args.output}")
    lab = Lab.attach(_default_lab(args.lab))
    save(lab, args.output)
    print(f"drew lab {lab.name} into {args.output}")
    return 0


def cmd_ls(args: argparse.Namespace) -> int:
    from netlab.kernel import netns
    from netlab.model import topology
    from netlab.model.lab import Lab
    from netlab.model.state import lab_names

    labs = lab_names()
    if not labs:
        print("no labs")
    for name in labs:
        try:
            lab = Lab.attach(name)
        except (NoSuchLab, InvalidArgument):
            print(f"{name}: leftover state without a lab record (`netlab clean {name}`)")
            continue
        missing = lab.missing()
        whole = f"incomplete (missing {', '.join(missing)}): run `netlab clean {name}`"
        print(f"lab {name}: {len(lab.namespaces())} namespaces" + (f", {whole}" if missing else ""))
        for h in lab.hosts:
            print(f"  host {h.name:<12} {h.address:<15} {h.ns}")
            for c in h.containers(all=True):
                print(f"    {c.name:<24} {c.short_id}  {c.image:<8} {c.ip or '-':<15} {c.status}")
    strays = sorted(
        {n for n in netns.names() if (lab_ := topology.lab_of_ns(n)) and lab_ not in labs}
    )
    for n in strays:
        print(f"leftover namespace {n} (no lab state; `netlab clean --all` removes it)")
    return 0


def cmd_clean(args: argparse.Namespace) -> int:
    from netlab.kernel import freezer, netns
    from netlab.model import topology
    from netlab.model.lab import wipe
    from netlab.model.state import lab_names, release_root

    if args.all:
        targets = set(lab_names())
        targets |= {lab for n in netns.names() if (lab := topology.lab_of_ns(n))}
        targets |= {lab for n in netns.etc_names() if (lab := topology.lab_of_ns(n))}
        targets |= set(freezer.lab_names())  # (cgroups of paused containers: model/pausing.py)
    elif args.lab:
        targets = {topology.check_lab_name(args.lab)}
    else:
        raise InvalidArgument("say which lab to clean (netlab clean LAB) or --all")
    if not targets:
        print("nothing to clean")
    for lab in sorted(targets):
        done = wipe(lab)
        print(f"cleaned {lab}: {done['namespaces']} namespaces, {done['processes']} processes")
        for ns in done["unpinned"]:
            print(
                f"  (stopped the processes of {ns}, whose name had been deleted while they "
                "still ran in it)"
            )
    if args.all:
        release_root()  # an empty state tmpfs left by a process killed at the wrong moment
        if userns.inside():
            if userns.joined() and not userns.others_inside():
                print("stopped your rootless netlab (its namespaces go with it)")
                userns.stop()
            else:
                print(
                    "(your rootless netlab stays up while other processes run in it: "
                    "notebook kernels, a `netlab shell`)"
                )
    return 0


def cmd_shell(args: argparse.Namespace) -> int:
    argv = list(args.command)
    if argv[:1] == ["--"]:
        argv = argv[1:]
    if not argv:
        argv = [os.environ.get("SHELL") or "/bin/sh", "-i"]
    sys.stdout.flush()
    try:
        os.execvp(argv[0], argv)
    except FileNotFoundError:
        raise InvalidArgument(f"{argv[0]}: command not found") from None


def cmd_labs(args: argparse.Namespace) -> int:
    """``netlab labs [copy | where | reset NN]``: the user's working copy of the labs."""
    from netlab import workcopy

    if args.action == "reset":
        if not args.notebook:
            raise InvalidArgument("which notebook? netlab labs reset NN (e.g. 03)")
        path, kept = workcopy.reset(args.notebook, args.to, args.source)
        print(f"{path}: the original again" + (f"; yours is now {kept}" if kept else ""))
        return 0
    if args.notebook:
        raise InvalidArgument(f"netlab labs {args.action} takes no notebook")
    copied = workcopy.ensure(args.to, args.source)
    print(copied.path if args.action == "where" else copied)
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    from netlab.model.doctor import run_checks

    checks = run_checks(rootless_error=getattr(args, "rootless_error", ""))
    width = max(len(c.name) for c in checks)
    for c in checks:
        mark = "ok  " if c.ok else ("n/a " if c.optional else "FAIL")
        line = f"{mark} {c.name:<{width}}  {c.detail}"
        if c.fix:
            line += f"\n     fix: {c.fix}"
        print(line)
    bad = [c for c in checks if not c.ok and not c.optional]
    print("netlab is ready" if not bad else f"{len(bad)} problem(s) found; see the fixes above")
    return 0 if not bad else 1


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``netlab`` command."""
    p = argparse.ArgumentParser(
        prog="netlab", description="Docker networking labs on the real Linux kernel."
    )
    sub = p.add_subparsers(dest="cmd", required=True, metavar="COMMAND")
    s = sub.add_parser("up", help="build a lab")
    s.add_argument("lab")
    s.add_argument("--hosts", help="comma-separated Docker host names (default: host)")
    s.add_argument(
        "--replace", action="store_true", help="build the lab anew if one of that name is up"
    )
    s.add_argument(
        "--firewall-backend",
        choices=("iptables", "nftables"),
        default="iptables",
        help="as dockerd's --firewall-backend (default: iptables)",
    )
    s.add_argument(
        "--userland-proxy",
        choices=("true", "false"),
        help="as dockerd's --userland-proxy (default: true with iptables, false with nftables)",
    )
    s.set_defaults(fn=cmd_up)
    s = sub.add_parser("down", help="remove a lab")
    s.add_argument("lab")
    s.set_defaults(fn=cmd_down)
    s = sub.add_parser(
        "node",
        help="make a swarm node fail (its LAN link down) or come back",
        description="`netlab node down LAB node2`: node2 is cut off; the manager marks it "
        "Down and starts its tasks on the other nodes. `netlab node up LAB node2` brings it "
        "back.",
    )
    s.add_argument("action", choices=("down", "up"))
    s.add_argument("lab")
    s.add_argument("node")
    s.set_defaults(fn=cmd_node)
    s = sub.add_parser("exec", help="run a command inside a host or container")
    s.add_argument("-L", "--lab")
    s.add_argument("target", help="host name, container name/ID, lan or inet")
    s.add_argument("command", nargs=argparse.REMAINDER, help="-- CMD [ARGS...]")
    s.set_defaults(fn=cmd_exec)
    s = sub.add_parser(
        "docker",
        help="run a docker command against a lab host",
        description="Any docker command netlab knows, e.g. `netlab docker -L "
        "demo network ls` or `netlab docker -H node2 ps`.",
    )
    s.add_argument("-L", "--lab")
    s.add_argument("-H", "--host", help="Docker host of the lab (default: the first)")
    s.add_argument(
        "--explain",
        action="store_true",
        help="also print the kernel operations, as commands you could type",
    )
    s.add_argument("args", nargs=argparse.REMAINDER, help="docker command and arguments")
    s.set_defaults(fn=cmd_docker)
    s = sub.add_parser("draw", help="draw a lab's topology, as the kernel has it")
    s.add_argument("-L", "--lab")
    s.add_argument("-o", "--output", required=True, help="a .png or .svg file")
    s.set_defaults(fn=cmd_draw)
    s = sub.add_parser("ls", help="list labs, hosts and containers")
    s.set_defaults(fn=cmd_ls)
    s = sub.add_parser("clean", help="remove netlab's leftovers (and nothing else)")
    s.add_argument("lab", nargs="?")
    s.add_argument("--all", action="store_true", help="every lab on the machine")
    s.set_defaults(fn=cmd_clean)
    s = sub.add_parser(
        "labs",
        help="your own copy of the lab notebooks",
        description="The notebooks you run are a copy of your own (~/netlab-labs, or "
        "$NETLAB_LABS): `netlab labs` makes it (or adds notebooks new in the originals, "
        "never overwriting yours), `netlab labs where` prints its folder, `netlab labs "
        "reset 03` gives lab 03 back as it was (yours goes to before-reset/).",
    )
    s.add_argument("action", nargs="?", default="copy", choices=("copy", "where", "reset"))
    s.add_argument("notebook", nargs="?", help="with reset: the lab's number (03) or name")
    s.add_argument("--to", help="the copy's folder (default: $NETLAB_LABS or ~/netlab-labs)")
    s.add_argument(
        "--from", dest="source", help="the originals (default: $NETLAB_LABS_SOURCE or labs/)"
    )
    s.set_defaults(fn=cmd_labs)
    s = sub.add_parser("doctor", help="check what netlab needs")
    s.set_defaults(fn=cmd_doctor)
    s = sub.add_parser(
        "shell",
        help="a shell among your labs' namespaces",
        description="Without root, netlab keeps your labs in a user namespace of your own: "
        "`netlab shell` starts your $SHELL there (or runs CMD), so that `ip netns list`, "
        "`ip netns exec` and `nft` see them. As root it is just a shell.",
    )
    s.add_argument("command", nargs=argparse.REMAINDER, help="[--] CMD [ARGS...]")
    s.set_defaults(fn=cmd_shell)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``netlab`` command; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        if userns.needed() and args.fn is not cmd_labs:  # (files only: no namespaces)
            if args.fn is cmd_clean and args.all and userns.holder_pid() is None:
                print("nothing to clean")
                return 0
            try:
                userns.enter()
            except userns.RootlessError as exc:
                if args.fn is not cmd_doctor:
                    raise
                args.rootless_error = str(exc)
        return int(args.fn(args))
    except NetlabError as exc:
        print(f"netlab: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("netlab: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `netlab ls | head -1`: the reader has gone; nothing to say
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # (128 + SIGPIPE, as a shell tool's)
    except Exception as exc:  # the OS's refusal, or a bug: one line, never a traceback
        print(f"netlab: {one_line(exc)}", file=sys.stderr)
        return 1


frontends.provide(command=main)  # (``%netlab`` in a notebook runs it in its kernel)

if __name__ == "__main__":
    sys.exit(main())
