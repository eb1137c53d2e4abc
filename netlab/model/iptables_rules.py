"""The iptables rules a Docker host needs, as Docker 28 (its default ``iptables`` backend) writes
them, and the edits that bring a namespace's rules there.

Docker 28.5 programs its firewall rule by rule with the ``iptables`` command (on Debian and
Ubuntu that is iptables-nft: the rules live in nftables tables ``ip filter``/``ip nat``/``ip
raw``, where ``nft list ruleset`` shows them too). Where each rule goes follows from how
Docker adds it, ``-I`` (to the top) or ``-A`` (to the end), so :func:`wanted` builds each chain
in the order Docker's additions leave it:

* at start: nat ``DOCKER`` and the filter chains ``DOCKER``, ``DOCKER-BRIDGE``, ``DOCKER-CT``,
  ``DOCKER-FORWARD``, ``DOCKER-ISOLATION-STAGE-1/2``, then ``DOCKER-USER`` (never flushed: the
  user's own rules go there), with the jumps ``FORWARD -> DOCKER-USER, DOCKER-FORWARD`` and
  ``PREROUTING/OUTPUT -> DOCKER`` for local destinations;
* per bridge network (inserted rules put the newest network first, appended ones last): the
  ``MASQUERADE`` of its subnet, ``DOCKER-FORWARD -i BR -j ACCEPT`` (containers may go out),
  ``DOCKER ! -i BR -o BR -j DROP`` (nothing else comes in), conntrack's way back in
  ``DOCKER-CT``, the isolation from other bridges in ``DOCKER-ISOLATION-STAGE-1/2``;
* per container: a raw ``PREROUTING`` drop for packets aimed at its address from anywhere but
  its bridge (no one reaches a container by routing to it);
* per published port: the ``DNAT`` in nat ``DOCKER`` and, inserted at the top of filter
  ``DOCKER``, the ``ACCEPT`` that lets the translated packets in.

With ``userland-proxy`` on (Docker's default), ``localhost:8080`` and containers reaching a
published port are served by docker-proxy: nat ``OUTPUT`` skips 127.0.0.0/8 and traffic from a
bridge is not translated (``DOCKER -i BR -j RETURN``). With it off, the kernel does it all:
the DNAT has no ``! -i BR`` and two more ``MASQUERADE`` rules handle the host and hairpin.

Sources (moby v28.5.2): ``libnetwork/drivers/bridge/internal/iptabler/`` (``iptabler.go``
``setupIPChains``, ``network.go`` ``setupNonInternalNetworkRules``/``setupInternalNetworkRules``,
``port.go`` ``setPerPortNAT``/``setPerPortForwarding``/``filterPortMappedOnLoopback``,
``endpoint.go`` ``filterDirectAccess``), ``libnetwork/firewall_linux.go`` (DOCKER-USER), and
the listings moby captures from a running daemon in
``integration/network/bridge/iptablesdoc/generated/``. This module only writes text; the kernel
layer runs ``iptables-restore --noflush`` inside the host's namespace, never the machine's.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from netlab.kernel import xtables
from netlab.model.firewall import Bridge
from netlab.model.ports import PortMapping

Chain = tuple[str, str]  # (table, chain)
Rules = dict[Chain, list[str]]  # each rule as ``iptables -S`` prints it, without "-A CHAIN "

BUILTIN = xtables.BUILTIN  # (each table's built-in chains, in hook order)
# Docker's own chains, flushed and rebuilt at will (DOCKER-USER is the user's: made, never
# flushed).
DOCKER_CHAINS: dict[str, tuple[str, ...]] = {
    "filter": (
        "DOCKER",
        "DOCKER-BRIDGE",
        "DOCKER-CT",
        "DOCKER-FORWARD",
        "DOCKER-ISOLATION-STAGE-1",
        "DOCKER-ISOLATION-STAGE-2",
    ),
    "nat": ("DOCKER",),
}
USER_CHAIN = ("filter", "DOCKER-USER")
INGRESS_CHAIN = "DOCKER-INGRESS"  # (nat and filter: a swarm node's, from its first published port)
TABLES = ("raw", "filter", "nat")


@dataclass(frozen=True)
class Endpoint:
    """A running container's address on a bridge (the raw table protects it)."""

    bridge: str
    ip: str


@dataclass(frozen=True)
class Ingress:
    """What a swarm node's firewall needs for the routing mesh (:mod:`netlab.model.ingress`):
    docker_gwbridge, the node's ingress-sbox address on it, the swarm's published ports
    ``(protocol, port)`` in the order services got them."""

    bridge: str
    sbox_ip: str
    ports: tuple[tuple[str, int], ...]


def _port(proto: str, port: int, direction: str = "dport") -> str:
    return f"-p {proto} -m {proto} --{direction} {port}"


def wanted(
    bridges: Sequence[Bridge],
    endpoints: Sequence[Endpoint],
    *,
    userland_proxy: bool,
    ingress: Ingress | None = None,
) -> Rules:
    """Every rule Docker 28 has for these bridges (oldest network first) and running
    containers (in the order they started; each container's ports in its ``published``
    order), chain by chain in the order ``iptables -S`` lists them.

    >>> r = wanted([Bridge("docker0", "172.17.0.0/16")], [], userland_proxy=True)
    >>> r[("nat", "POSTROUTING")]
    ['-s 172.17.0.0/16 ! -o docker0 -j MASQUERADE']
    """
    rules: Rules = {(t, c): [] for t in TABLES for c in BUILTIN[t]}
    for t, chains in DOCKER_CHAINS.items():
        for c in chains:
            rules[(t, c)] = []

    def add(table: str, chain: str, rule: str, *, insert: bool = False) -> None:
        if insert:
            rules[(table, chain)].insert(0, rule)
        else:
            rules[(table, chain)].append(rule)

    # At start (setupIPChains, then setupUserChain): the jumps.
    add("nat", "PREROUTING", "-m addrtype --dst-type LOCAL -j DOCKER")
    local = "-m addrtype --dst-type LOCAL -j DOCKER"
    add("nat", "OUTPUT", f"! -d 127.0.0.0/8 {local}" if userland_proxy else local)
    add("filter", "FORWARD", "-j DOCKER-FORWARD", insert=True)
    for target in ("DOCKER-BRIDGE", "DOCKER-ISOLATION-STAGE-1", "DOCKER-CT"):
        add("filter", "DOCKER-FORWARD", f"-j {target}", insert=True)
    add("filter", "FORWARD", "-j DOCKER-USER", insert=True)

    # Per network, in creation order.
    for b in bridges:
        br, net = b.name, b.subnet
        if b.internal:
            add("filter", "DOCKER-ISOLATION-STAGE-1", f"! -d {net} -i {br} -j DROP", insert=True)
            add("filter", "DOCKER-ISOLATION-STAGE-1", f"! -s {net} -o {br} -j DROP", insert=True)
            add("filter", "DOCKER-FORWARD", f"-i {br} -o {br} -j {'ACCEPT' if b.icc else 'DROP'}")
            continue
        if b.masquerade:  # (NAT, and with docker-proxy SKIP DNAT)
            add("nat", "POSTROUTING", f"-s {net} ! -o {br} -j MASQUERADE", insert=True)
            if userland_proxy:
                add("nat", "DOCKER", f"-i {br} -j RETURN", insert=True)
        if not userland_proxy:
            add(
                "nat",
                "POSTROUTING",
                f"-o {br} -m addrtype --src-type LOCAL -j MASQUERADE",
                insert=True,
            )
        if b.icc:
            add("filter", "DOCKER-FORWARD", f"-i {br} -j ACCEPT")
        else:
            add("filter", "DOCKER-FORWARD", f"-i {br} -o {br} -j DROP")
            add("filter", "DOCKER-FORWARD", f"-i {br} ! -o {br} -j ACCEPT")
        add("filter", "DOCKER", f"! -i {br} -o {br} -j DROP")
        add("filter", "DOCKER-CT", f"-o {br} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT")
        add("filter", "DOCKER-BRIDGE", f"-o {br} -j DOCKER")
        add("filter", "DOCKER-ISOLATION-STAGE-1", f"-i {br} ! -o {br} -j DOCKER-ISOLATION-STAGE-2")
        add("filter", "DOCKER-ISOLATION-STAGE-2", f"-o {br} -j DROP", insert=True)

    # Per container (its endpoint, then its ports), in the order they started.
    by_bridge = {b.name: b for b in bridges}
    for ep in endpoints:
        on = by_bridge.get(ep.bridge)
        if on is None or on.internal:
            continue
        add("raw", "PREROUTING", f"-d {ep.ip}/32 ! -i {on.name} -j DROP")
        for p in on.published:
            if p.container_ip == ep.ip:
                _port_rules(add, on.name, p.container_ip, p.mapping, userland_proxy)
    if ingress is not None:
        _ingress_rules(rules, add, ingress)
    return rules


def _ingress_rules(rules: Rules, add: Callable[..., None], ing: Ingress) -> None:
    """The routing mesh's rules on a node (moby v28.5.2 libnetwork/service_linux.go
    programIngress): made after the bridges' (at the first published port), each added with
    ``-I`` but the chains' closing RETURNs, so the newest port comes first."""
    rules[("nat", INGRESS_CHAIN)] = []
    rules[("filter", INGRESS_CHAIN)] = []
    add("nat", INGRESS_CHAIN, "-j RETURN")
    add("filter", INGRESS_CHAIN, "-j RETURN")
    for chain in ("OUTPUT", "PREROUTING"):
        add("nat", chain, f"-m addrtype --dst-type LOCAL -j {INGRESS_CHAIN}", insert=True)
    add("filter", "DOCKER-FORWARD", f"-j {INGRESS_CHAIN}", insert=True)
    masquerade = f"-o {ing.bridge} -m addrtype --src-type LOCAL -j MASQUERADE"
    if masquerade not in rules[("nat", "POSTROUTING")]:  # (no userland-proxy: there already)
        add("nat", "POSTROUTING", masquerade, insert=True)
    for proto, port in ing.ports:
        add(
            "nat",
            INGRESS_CHAIN,
            f"{_port(proto, port)} -j DNAT --to-destination {ing.sbox_ip}:{port}",
            insert=True,
        )
        add(
            "filter",
            INGRESS_CHAIN,
            f"{_port(proto, port, 'sport')} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
            insert=True,
        )
        add("filter", INGRESS_CHAIN, f"{_port(proto, port)} -j ACCEPT", insert=True)


def _port_rules(
    add: Callable[..., None], br: str, ip: str, m: PortMapping, userland_proxy: bool
) -> None:
    """The rules of one published port (setPerPortNAT, setPerPortForwarding,
    filterPortMappedOnLoopback)."""
    host = "" if m.host_ip in ("0.0.0.0", "") else f"-d {m.host_ip}/32 "
    if m.host_ip.startswith("127."):
        add("raw", "PREROUTING", f"-d {m.host_ip}/32 ! -i lo {_port(m.proto, m.host_port)} -j DROP")
    from_outside = f"! -i {br} " if userland_proxy else ""
    add(
        "nat",
        "DOCKER",
        f"{host}{from_outside}{_port(m.proto, m.host_port)} -j DNAT "
        f"--to-destination {ip}:{m.container_port}",
    )
    add(
        "filter",
        "DOCKER",
        f"-d {ip}/32 ! -i {br} -o {br} {_port(m.proto, m.container_port)} -j ACCEPT",
        insert=True,
    )
    if not userland_proxy:
        add(
            "nat",
            "POSTROUTING",
            f"-s {ip}/32 -d {ip}/32 {_port(m.proto, m.container_port)} -j MASQUERADE",
        )


# --- what the kernel has, and the edits to what Docker wants ---------------------------------


def _edits(chain: str, have: list[str], want: list[str]) -> list[str]:
    """The ``-D``/``-I``/``-A`` lines that turn ``have`` into ``want`` (a chain of Docker's
    alone) by the smallest edit; a deletion names the rule, an insertion its position."""
    out = []
    pos = 0  # (how many rules precede the edit point, as the edits go on)
    matcher = difflib.SequenceMatcher(a=have, b=want, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            pos += i2 - i1
            continue
        out += [f"-D {chain} {r}" for r in have[i1:i2]]
        for r in want[j1:j2]:
            # (nothing of the old chain left after this point: appending is the same)
            out.append(f"-A {chain} {r}" if i2 == len(have) else f"-I {chain} {pos + 1} {r}")
            pos += 1
    return out


def plan(
    saved: str, want: Rules, owned: Iterable[str] = ()
) -> tuple[dict[str, list[str]], list[str]]:
    """What to give ``iptables-restore --noflush`` (per table: its lines) to make the kernel's
    rules (``saved``, from ``iptables-save``) Docker's (``want``), touching no one else's: in
    the built-in chains only rules Docker wants or wrote before (``owned``, as ``TABLE CHAIN
    RULE``) are edited, DOCKER-USER only gets made; and each edit as the ``iptables`` command
    it is, for ``--explain``."""
    tables = xtables.parse_tables(saved)
    owned_set = set(owned)
    lines: dict[str, list[str]] = {}
    commands: list[str] = []
    for table in TABLES:
        out: list[str] = []
        present = set(tables[table].rules) if table in tables else set()
        if table == "filter" and table not in tables:
            # A new Docker host: Docker turned IP forwarding on, and so closes FORWARD to
            # what its rules do not accept (iptabler.go FilterForwardDrop).
            out.append(":FORWARD DROP [0:0]")
        mine = _docker_chains(want, table)
        for c in mine:
            if c not in present:
                out.append(f"-N {c}")
        if table == USER_CHAIN[0] and USER_CHAIN[1] not in present:
            out.append(f"-N {USER_CHAIN[1]}")
        edits: list[str] = []
        for chain in (*BUILTIN[table], *mine):
            current = tables[table].rules.get(chain, []) if table in tables else []
            target = want.get((table, chain), [])
            if chain in BUILTIN[table]:
                ours = [r for r in current if r in target or f"{table} {chain} {r}" in owned_set]
                edits += _edits_among(chain, current, ours, target)
            else:
                edits += _edits(chain, current, target)
        out += edits
        if out:
            lines[table] = out
            commands += [
                f"iptables -t {table} -P FORWARD DROP"
                if e.startswith(":")
                else f"iptables -t {table} {e}"
                for e in out
            ]
    return lines, commands


def _docker_chains(want: Rules, table: str) -> tuple[str, ...]:
    """Docker's own chains of a table: the fixed ones, then any other that ``want`` has
    (DOCKER-INGRESS on a swarm node)."""
    fixed = DOCKER_CHAINS.get(table, ())
    more = sorted(
        {c for (t, c) in want if t == table and c not in BUILTIN[table] and c not in fixed}
        - {USER_CHAIN[1]}
    )
    return (*fixed, *more)


def _edits_among(chain: str, current: list[str], ours: list[str], target: list[str]) -> list[str]:
    """Edits in a built-in chain that may hold other rules: Docker's rules (``ours``, in the
    order ``current`` has them) become ``target``; an inserted rule goes just above the next of
    Docker's (or at the end), wherever that is among the others."""
    out = []
    kept = [r for r in ours if r in target]
    out += [f"-D {chain} {r}" for r in ours if r not in target]
    after = [r for r in current if r not in ours or r in kept]  # (the chain after deletions)
    for k, r in enumerate(target):
        if r in after:
            continue
        following = next((t for t in target[k + 1 :] if t in after), None)
        if following is None:
            out.append(f"-A {chain} {r}")
            after.append(r)
        else:
            at = after.index(following)
            out.append(f"-I {chain} {at + 1} {r}")
            after.insert(at, r)
    return out


def restore_text(lines: Mapping[str, list[str]]) -> str:
    """``iptables-restore`` input for :func:`plan`'s lines (one COMMIT per table: atomic)."""
    return "".join(
        f"*{t}\n" + "".join(f"{x}\n" for x in ls) + "COMMIT\n" for t, ls in lines.items()
    )


def owned_rules(want: Rules) -> list[str]:
    """The built-in chains' rules of ``want``, as ``TABLE CHAIN RULE`` (kept for the next plan)."""
    return [f"{t} {c} {r}" for (t, c), rs in want.items() if c in BUILTIN.get(t, ()) for r in rs]


def listing(rules: Rules, table: str) -> list[str]:
    """``iptables -t TABLE -S`` of ``rules`` without the policies: the ``-N`` lines of the
    user chains sorted by name, then each chain's rules (built-in chains first, in hook order),
    as iptables 1.8 lists them."""
    users = sorted({c for (t, c) in rules if t == table and c not in BUILTIN[table]})
    if table == USER_CHAIN[0]:
        users = sorted({*users, USER_CHAIN[1]})
    order = [*BUILTIN[table], *users]
    return [f"-N {c}" for c in users] + [
        f"-A {c} {r}" for c in order for r in rules.get((table, c), [])
    ]
