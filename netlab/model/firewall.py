"""The nftables rules a Docker host needs, written the way Docker 29's nftables backend does.

Docker 29 (``--firewall-backend=nftables``) keeps all its rules in one table,
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

TABLE = "docker-bridges"


def _map(name: str, chain_prefix: str, bridges: Sequence[str]) -> str:
    lines = [f"\tmap {name} {{", "\t\ttype ifname : verdict"]
    if bridges:
        elems = ", ".join(f'"{b}" : jump {chain_prefix}__{b}' for b in bridges)
        lines.append(f"\t\telements = {{ {elems} }}")
    lines.append("\t}")
    return "\n".join(lines)


def bridge_chains(bridge: str, subnet: str, *, masquerade: bool = True) -> str:
    """The four per-bridge chains Docker 29 creates for one bridge network."""
    masq = (
        (f'\t\toifname != "{bridge}" ip saddr {subnet} counter masquerade comment "MASQUERADE"\n')
        if masquerade
        else ""
    )
    return (
        f"\tchain filter-forward-in__{bridge} {{\n"
        "\t\tct state established,related counter accept\n"
        f'\t\tiifname "{bridge}" counter accept comment "ICC"\n'
        '\t\tcounter drop comment "UNPUBLISHED PORT DROP"\n'
        "\t}\n\n"
        f"\tchain filter-forward-out__{bridge} {{\n"
        "\t\tct state established,related counter accept\n"
        '\t\tcounter accept comment "OUTGOING"\n'
        "\t}\n\n"
        f"\tchain nat-postrouting-in__{bridge} {{\n"
        "\t}\n\n"
        f"\tchain nat-postrouting-out__{bridge} {{\n"
        f"{masq}"
        "\t}\n"
    )


def base_ruleset(bridges: Sequence[tuple[str, str]]) -> str:
    """The whole ``ip docker-bridges`` table for the given (bridge, subnet) pairs.

    >>> text = base_ruleset([("docker0", "172.17.0.0/16")])
    >>> 'oifname != "docker0" ip saddr 172.17.0.0/16 counter masquerade' in text
    True
    """
    names = [b for b, _ in bridges]
    parts = [
        f"table ip {TABLE}",
        f"delete table ip {TABLE}",
        f"table ip {TABLE} {{",
        _map("filter-forward-in-jumps", "filter-forward-in", names) + "\n",
        _map("filter-forward-out-jumps", "filter-forward-out", names) + "\n",
        _map("nat-postrouting-in-jumps", "nat-postrouting-in", names) + "\n",
        _map("nat-postrouting-out-jumps", "nat-postrouting-out", names) + "\n",
        "\tchain filter-FORWARD {\n"
        "\t\ttype filter hook forward priority filter; policy accept;\n"
        "\t\toifname vmap @filter-forward-in-jumps\n"
        "\t\tiifname vmap @filter-forward-out-jumps\n"
        "\t}\n",
        "\tchain nat-OUTPUT {\n"
        "\t\ttype nat hook output priority -100; policy accept;\n"
        "\t\tip daddr != 127.0.0.0/8 fib daddr type local counter jump nat-prerouting-and-output\n"
        "\t}\n",
        "\tchain nat-POSTROUTING {\n"
        "\t\ttype nat hook postrouting priority srcnat; policy accept;\n"
        "\t\tiifname vmap @nat-postrouting-out-jumps\n"
        "\t\toifname vmap @nat-postrouting-in-jumps\n"
        "\t}\n",
        "\tchain nat-PREROUTING {\n"
        "\t\ttype nat hook prerouting priority dstnat; policy accept;\n"
        "\t\tfib daddr type local counter jump nat-prerouting-and-output\n"
        "\t}\n",
        "\tchain nat-prerouting-and-output {\n\t}\n",
        "\tchain raw-PREROUTING {\n"
        "\t\ttype filter hook prerouting priority raw; policy accept;\n"
        "\t}\n",
    ]
    parts += [bridge_chains(b, s) for b, s in bridges]
    return "\n".join(parts[:3]) + "\n" + "\n".join(parts[3:]) + "}\n"
