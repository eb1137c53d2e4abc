"""The nftables rules a Docker host needs, written the way Docker 29's nftables backend does
(``Lab(firewall_backend="nftables")``; the default is Docker 28's iptables, in
:mod:`netlab.model.iptables_rules`).

With ``--firewall-backend=nftables`` and ``"userland-proxy": false``:
every published port is handled by the kernel alone (no docker-proxy process), so the whole
path of a packet can be read in this one table. Docker 29 keeps all its rules in one table,
``ip docker-bridges``. Base chains hook into the kernel (``filter-FORWARD``, ``nat-PREROUTING``,
``nat-OUTPUT``, ``nat-POSTROUTING``, ``raw-PREROUTING``); verdict maps keyed by interface name
jump from them into per-bridge chains (``filter-forward-in__docker0``...). The rule that
lets containers reach the internet is the masquerade in ``nat-postrouting-out__docker0``::

    oifname != "docker0" ip saddr 172.17.0.0/16 counter masquerade comment "MASQUERADE"

This module only writes text (pure, testable without root); the kernel layer loads it with
``nft -f -`` inside the host's namespace, never in the machine's own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from netlab.model.ports import PortMapping

TABLE = "docker-bridges"


@dataclass(frozen=True)
class Published:
    """A published port of a container on a bridge: what the rules need to know."""

    container_ip: str
    mapping: PortMapping


@dataclass(frozen=True)
class Bridge:
    """One bridge network as the firewall sees it."""

    name: str
    subnet: str
    published: tuple[Published, ...] = ()
    icc: bool = True  # inter-container communication (docker_gwbridge has it off)
    internal: bool = False  # ``--internal``: nothing in or out, no masquerade
    masquerade: bool = True  # ``enable_ip_masquerade=false``: containers leave unmasqueraded


def _map(name: str, chain_prefix: str, bridges: Sequence[str]) -> str:
    lines = [f"\tmap {name} {{", "\t\ttype ifname : verdict"]
    if bridges:
        elems = ", ".join(f'"{b}" : jump {chain_prefix}__{b}' for b in bridges)
        lines.append(f"\t\telements = {{ {elems} }}")
    lines.append("\t}")
    return "\n".join(lines)


def _chain(name: str, rules: Sequence[str], hook: str = "") -> str:
    body = "".join(f"\t\t{r}\n" for r in ([hook] if hook else []) + list(rules))
    return f"\tchain {name} {{\n{body}\t}}\n"


def dnat_rule(p: Published) -> str:
    """``tcp dport 8080 counter dnat to 172.17.0.2:80 comment "DNAT"`` (with the host IP)."""
    m = p.mapping
    where = "" if m.host_ip == "0.0.0.0" else f"ip daddr {m.host_ip} "
    return (
        f"{where}{m.proto} dport {m.host_port} counter dnat to "
        f'{p.container_ip}:{m.container_port} comment "DNAT"'
    )


def accept_rule(p: Published) -> str:
    """The forward rule that lets the translated packets reach the container's port."""
    m = p.mapping
    return f"ip daddr {p.container_ip} {m.proto} dport {m.container_port} counter accept"


def internal_chains(b: Bridge) -> str:
    """The four chains of an ``--internal`` bridge: whatever crosses the bridge's edge is
    dropped, either way, and nothing is masqueraded (no way out, no published port)."""
    return "\n".join(
        [
            _chain(
                f"filter-forward-in__{b.name}",
                [
                    "ct state established,related counter accept",
                    f'iifname != "{b.name}" counter drop comment "INTERNAL NETWORK INGRESS"',
                    f'counter {"accept" if b.icc else "drop"} comment "ICC"',
                ],
            ),
            _chain(
                f"filter-forward-out__{b.name}",
                [
                    "ct state established,related counter accept",
                    f'oifname != "{b.name}" counter drop comment "INTERNAL NETWORK EGRESS"',
                ],
            ),
            _chain(f"nat-postrouting-in__{b.name}", []),
            _chain(f"nat-postrouting-out__{b.name}", []),
        ]
    )


def bridge_chains(b: Bridge) -> str:
    """The four per-bridge chains Docker 29 creates for one bridge network."""
    if b.internal:
        return internal_chains(b)
    own_port = list(
        dict.fromkeys(
            f"ip saddr {p.container_ip} ip daddr {p.container_ip} {p.mapping.proto} dport "
            f'{p.mapping.container_port} counter masquerade comment "MASQ TO OWN PORT"'
            for p in b.published
        )
    )
    accepts = list(dict.fromkeys(accept_rule(p) for p in b.published))
    return "\n".join(
        [
            _chain(
                f"filter-forward-in__{b.name}",
                [
                    "ct state established,related counter accept",
                    f'iifname "{b.name}" counter {"accept" if b.icc else "drop"} comment "ICC"',
                    *accepts,
                    'counter drop comment "UNPUBLISHED PORT DROP"',
                ],
            ),
            _chain(
                f"filter-forward-out__{b.name}",
                [
                    "ct state established,related counter accept",
                    'counter accept comment "OUTGOING"',
                ],
            ),
            _chain(
                f"nat-postrouting-in__{b.name}",
                [
                    'fib saddr type local counter masquerade comment "MASQUERADE FROM HOST"',
                    *own_port,
                ],
            ),
            _chain(
                f"nat-postrouting-out__{b.name}",
                [
                    f'oifname != "{b.name}" ip saddr {b.subnet} counter masquerade '
                    'comment "MASQUERADE"',
                ]
                if b.masquerade
                else [],
            ),
        ]
    )


def ruleset(bridges: Sequence[Bridge]) -> str:
    """The whole ``ip docker-bridges`` table, replacing any earlier one in one transaction.

    >>> text = ruleset([Bridge("docker0", "172.17.0.0/16")])
    >>> 'oifname != "docker0" ip saddr 172.17.0.0/16 counter masquerade' in text
    True
    """
    names = [b.name for b in bridges]
    published = [p for b in bridges for p in b.published]
    raw = [
        f'ip daddr {b.subnet} iifname != {{ "lo", "{b.name}" }} counter drop comment '
        '"SUBNET DROP EXTERNAL"'
        for b in bridges
    ]
    raw += [
        f'iifname != "lo" ip daddr {p.mapping.host_ip} {p.mapping.proto} dport '
        f'{p.mapping.host_port} counter drop comment "DROP REMOTE LOOPBACK"'
        for p in published
        if p.mapping.host_ip.startswith("127.")
    ]
    parts = [
        _map("filter-forward-in-jumps", "filter-forward-in", names) + "\n",
        _map("filter-forward-out-jumps", "filter-forward-out", names) + "\n",
        _map("nat-postrouting-in-jumps", "nat-postrouting-in", names) + "\n",
        _map("nat-postrouting-out-jumps", "nat-postrouting-out", names) + "\n",
        _chain(
            "filter-FORWARD",
            ["oifname vmap @filter-forward-in-jumps", "iifname vmap @filter-forward-out-jumps"],
            "type filter hook forward priority filter; policy accept;",
        ),
        _chain(
            "nat-OUTPUT",
            ["fib daddr type local counter jump nat-prerouting-and-output"],
            "type nat hook output priority -100; policy accept;",
        ),
        _chain(
            "nat-POSTROUTING",
            ["iifname vmap @nat-postrouting-out-jumps", "oifname vmap @nat-postrouting-in-jumps"],
            "type nat hook postrouting priority srcnat; policy accept;",
        ),
        _chain(
            "nat-PREROUTING",
            ["fib daddr type local counter jump nat-prerouting-and-output"],
            "type nat hook prerouting priority dstnat; policy accept;",
        ),
        _chain("nat-prerouting-and-output", [dnat_rule(p) for p in published]),
        _chain("raw-PREROUTING", raw, "type filter hook prerouting priority raw; policy accept;"),
        *(bridge_chains(b) for b in bridges),
    ]
    return (
        f"table ip {TABLE}\ndelete table ip {TABLE}\n"
        f"table ip {TABLE} {{\n" + "\n".join(parts) + "}\n"
    )
