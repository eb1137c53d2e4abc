"""The ``docker network`` commands: ``ls``, ``create``, ``inspect``, ``connect``,
``disconnect``, ``rm`` and ``prune``.

What the docker CLI does here, and netlab with it:

- ``network ls`` lists the host's networks: the three that every Docker host has
  (``bridge``, ``host``, ``none``) and the user-defined ones, sorted by name, with 12-digit
  IDs unless ``--no-trunc``; ``--format`` is described in :mod:`netlab.docker.output`.
- ``network create NAME`` prints the new network's full ID. ``-d`` picks the driver
  (``bridge`` by default; ``overlay`` needs a swarm manager, ``macvlan``/``ipvlan`` a parent
  link given with ``-o parent=IF``), ``--subnet``/``--gateway`` its addresses (else the first
  free pool of Docker's defaults, see :mod:`netlab.model.ipam`), ``--internal`` a network
  with no way out.
- ``network inspect`` prints the networks' API documents (``Containers``, ``IPAM``...),
  ``network connect``/``disconnect`` give a container an endpoint on one more network or take
  it away (each one a real interface in the container), and print nothing when they succeed.
- ``network rm`` removes each network named, printing each name as typed; a network with
  endpoints or a predefined one is refused by the daemon.
- ``network prune`` asks for confirmation unless ``-f``; with no terminal to answer it, netlab
  says so and stops. Then it removes every user-defined network no container uses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from netlab.docker import filters
from netlab.docker.context import Context
from netlab.docker.output import each_ref, print_formatted, print_objects
from netlab.errors import InvalidArgument, NoSuchNetwork
from netlab.model import ids, ipam
from netlab.views import tables

if TYPE_CHECKING:
    from netlab.model.host import Network

NETWORK_HEADERS = {
    "ID": "NETWORK ID",
    "Name": "NAME",
    "Driver": "DRIVER",
    "Scope": "SCOPE",
    "IPv6": "IPV6",
    "Internal": "INTERNAL",
    "CreatedAt": "CREATED AT",
}


def _network_row(n: Network) -> dict[str, Any]:
    return {
        "ID": ids.short_id(n.id),
        "Name": n.name,
        "Driver": n.driver,
        "Scope": n.scope,
        "IPv6": "false",
        "Internal": str(n.rec.internal).lower(),
        "CreatedAt": n.rec.created,
        "Labels": "",
    }


def cmd_network_ls(ctx: Context, opts: dict[str, Any], args: list[str]) -> int:
    wanted = filters.from_flag(opts["filter"])
    if isinstance(wanted, str):
        return ctx.flag_error(wanted)
    nets = select(ctx.host.networks(), wanted)
    if opts["quiet"]:
        for n in nets:
            ctx.print(n.id if opts["no-trunc"] else ids.short_id(n.id))
        return 0
    rows = [_network_row(n) for n in nets]
    if opts["no-trunc"]:
        for r, n in zip(rows, nets, strict=True):
            r["ID"] = n.id
    if opts["format"]:
        return print_formatted(ctx, opts["format"], rows, NETWORK_HEADERS)
    ctx.print(
        tables.table(
            tables.NETWORK_LS_HEADERS, [[r["ID"], r["Name"], r["Driver"], r["Scope"]] for r in rows]
        )
    )
    return 0


BUILTIN = ("bridge", "host", "none")  # (moby: the networks the daemon makes itself)


def select(nets: list[Network], wanted: filters.Filters) -> list[Network]:
    """The networks ``docker network ls --filter`` lists (moby daemon/network/filter.go)."""
    filters.validate(wanted, filters.NETWORK_KEYS)
    dangling = wanted.get("dangling", [])
    if len(dangling) > 1:
        raise InvalidArgument('got more than one value for filter key "dangling"')
    if dangling and dangling[0] not in ("0", "1", "true", "false"):
        raise InvalidArgument(
            'invalid value for filter \'dangling\', must be "true" (or "1"), or "false" (or "0")'
        )
    for t in wanted.get("type", []):
        if t not in ("builtin", "custom"):
            raise InvalidArgument(f"invalid filter: 'type'='{t}'")
    out = []
    for n in nets:
        builtin = n.name in BUILTIN
        used = builtin or bool(n.containers())
        if not (
            filters.exact(wanted, "driver", n.driver)
            and filters.matches(wanted, "name", n.name)
            and filters.matches(wanted, "id", n.id)
            and filters.labels_match(wanted, n.rec.labels)
            and filters.exact(wanted, "scope", n.scope)
            and (not dangling or used != (dangling[0] in ("1", "true")))
            and filters.exact(wanted, "type", "builtin" if builtin else "custom")
        ):
            continue
        out.append(n)
    return out


def cmd_network_create(ctx: Context, opts: dict[str, Any], args: list[str]) -> int:
    # (Like the docker CLI's map options, "-o KEY" alone means KEY="".)
    options = dict(opt.partition("=")[::2] for opt in opts["opt"])
    aux = dict(a.partition("=")[::2] for a in opts["aux-address"])
    for label in opts["label"]:  # (docker/cli v28.5.2 opts/opts.go ValidateLabel)
        key = label.partition("=")[0].lstrip(" \t\n\v\f\r")
        problem = "empty name" if not key else ""
        if problem or any(c in key for c in " \t\n\v\f\r"):
            why = (
                f"invalid label '{label}': {problem}"
                if problem
                else (f"label '{key}' contains whitespaces")
            )
            return ctx.flag_error(f'invalid argument "{label}" for "--label" flag: {why}')
    try:  # (what the CLI checks before it asks the daemon: createIPAMConfig)
        ipam.check_config(opts["subnet"], opts["ip-range"], opts["gateway"], aux)
    except ValueError as exc:
        ctx.err.append(f"{exc}\n")
        return 1
    net = ctx.host.create_network(
        args[0],
        driver=opts["driver"] or "bridge",
        subnet=opts["subnet"],
        gateway=opts["gateway"],
        internal=bool(opts["internal"]),
        options=options,
        ip_range=opts["ip-range"],
        aux_addresses=aux,
        labels=dict(lb.partition("=")[::2] for lb in opts["label"]),
    )
    ctx.print(net.id)
    return 0


def cmd_network_inspect(ctx: Context, opts: dict[str, Any], args: list[str]) -> int:
    found, missing = [], []
    for ref in args:
        try:
            found.append(ctx.host.network(ref).inspect())
        except NoSuchNetwork:
            missing.append(ref)
    print_objects(ctx, found, opts["format"])
    for ref in missing:
        ctx.eprint(f"Error response from daemon: network {ref} not found")
    return 1 if missing else 0


def cmd_network_connect(ctx: Context, opts: dict[str, Any], args: list[str]) -> int:
    net, container = ctx.host.network(args[0]), ctx.host.container(args[1])
    net.connect(container, ip=opts["ip"], aliases=opts["alias"])
    return 0


def cmd_network_disconnect(ctx: Context, opts: dict[str, Any], args: list[str]) -> int:
    ctx.host.network(args[0]).disconnect(ctx.host.container(args[1]))
    return 0


def cmd_network_rm(ctx: Context, opts: dict[str, Any], args: list[str]) -> int:
    return each_ref(ctx, args, lambda ref: ctx.host.network(ref).remove())


def cmd_network_prune(ctx: Context, opts: dict[str, Any], args: list[str]) -> int:
    if not opts["force"]:
        ctx.print(
            "WARNING! This will remove all custom networks not used by at least one "
            "container.\nAre you sure you want to continue? [y/N] "
        )
        ctx.eprint("netlab: there is no terminal to answer in; run `docker network prune -f`")
        return 1
    used = {n for c in ctx.host.containers() for n in c.networks}
    removed = []
    for n in ctx.host.networks():
        if n.rec.user_defined and n.name not in used:
            n.remove()
            removed.append(n.name)
    if removed:
        ctx.print("Deleted Networks:\n" + "\n".join(removed))
    return 0
