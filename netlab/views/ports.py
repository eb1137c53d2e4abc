"""The path of a packet through one published port, read from the kernel.

With Docker 28's iptables backend the steps are its chains: nat ``PREROUTING``/``OUTPUT`` ->
``DOCKER`` (the DNAT), then filter ``FORWARD`` -> ``DOCKER-USER`` (the user's) ->
``DOCKER-FORWARD`` -> ``DOCKER-BRIDGE`` -> ``DOCKER`` (the port's ACCEPT), each rule with its
counter from ``iptables-save -c``. With Docker 29's nftables backend, for ``-p 8080:80`` the
kernel does, in order:

1. ``raw-PREROUTING``: nothing to drop (the packet is for the host's address);
2. ``nat-PREROUTING`` (or ``nat-OUTPUT`` for the host's own traffic): the destination is a
   local address, so jump to ``nat-prerouting-and-output``;
3. the ``DNAT`` rule rewrites the destination to the container's address and port;
4. routing now sends the packet to the bridge: ``filter-FORWARD`` jumps to the bridge's
   ``filter-forward-in`` chain, where the rule for the published port accepts it;
5. the veth pair carries it to the container's ``eth0``;
6. replies match the conntrack entry created by the first packet and get the original
   addresses back, with no rule at all.

:func:`packet_path` returns those steps with the live rule text and packet counters, plus
the conntrack entries of the port, so a notebook can show what really happened.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from netlab.errors import InvalidArgument
from netlab.kernel import xtables

if TYPE_CHECKING:
    from netlab.model.container import Container
    from netlab.model.ports import PortMapping

_COUNTER = re.compile(r"counter packets (\d+) bytes (\d+)")


@dataclass(frozen=True)
class Step:
    """One stop of the packet: the hook, the chain, the rule that acted, its counter."""

    hook: str
    chain: str
    rule: str
    packets: int

    def line(self) -> str:
        """The step as one line of text."""
        return f"{self.hook:<22} {self.chain:<28} [{self.packets:>4} pkts] {self.rule}"


@dataclass(frozen=True)
class PacketPath:
    """Where packets to one published port go, with counters and conntrack entries."""

    published: str  # "0.0.0.0:8080->80/tcp"
    steps: tuple[Step, ...]
    conntrack: tuple[str, ...]

    def __str__(self) -> str:
        lines = [f"published port {self.published}:"]
        lines += [f"  {i}. {s.line()}" for i, s in enumerate(self.steps, 1)]
        lines.append("  conntrack entries (the replies are translated back from these):")
        lines += [f"     {c}" for c in self.conntrack] or ["     (none yet: send a request)"]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{i}</td><td>{html.escape(s.hook)}</td><td><code>{html.escape(s.chain)}"
            f"</code></td><td><code>{html.escape(s.rule)}</code></td><td>{s.packets}</td></tr>"
            for i, s in enumerate(self.steps, 1)
        )
        ct = "".join(f"<li><code>{html.escape(c)}</code></li>" for c in self.conntrack)
        return (
            f"<b>Published port {html.escape(self.published)}</b><table><tr><th>#</th>"
            "<th>hook</th><th>chain</th><th>rule</th><th>packets</th></tr>"
            f"{rows}</table>conntrack:<ul>{ct or '<li>(none yet)</li>'}</ul>"
        )


def chains(ruleset: str) -> dict[str, list[str]]:
    """``nft list ruleset`` text, split into its chains' rule lines."""
    out: dict[str, list[str]] = {}
    current = None
    for raw in ruleset.splitlines():
        line = raw.strip()
        m = re.match(r"chain (\S+) \{", line)
        if m:
            current = m.group(1)
            out[current] = []
        elif line == "}":
            current = None
        elif current and line and not line.startswith("type "):
            out[current].append(line)
    return out


def _packets(rule: str) -> int:
    m = _COUNTER.search(rule)
    return int(m.group(1)) if m else 0


def packet_path(container: Container, host_port: int | None = None) -> PacketPath:
    """The live path of packets to one of ``container``'s published ports."""
    rec = container.record
    maps = rec.ports
    if not maps:
        raise InvalidArgument(f"container {container.name} publishes no port (docker run -p)")
    m = next((x for x in maps if host_port in (None, x.host_port)), None)
    if m is None:
        raise InvalidArgument(f"container {container.name} does not publish host port {host_port}")
    ep = next(iter(rec.networks.values()))
    cip, bridge = ep.ip, ep.bridge
    proto, hport, cport = m.proto, m.host_port, m.container_port
    if container.host.lab.store.lab_record.firewall_backend == "iptables":
        steps = _iptables_steps(container, m, cip, bridge)
    else:
        steps = _nft_steps(container, m, cip, bridge)
    ct = container.host.exec(["conntrack", "-L", "-p", proto, "--orig-port-dst", str(hport)])
    entries = tuple(
        sorted(
            (line for line in ct.stdout.splitlines() if line.strip()),
            key=lambda e: re.sub(r"(sport|dport)=\d+|\s\d+\s", " ", e),
        )
    )
    return PacketPath(f"{m.host_ip}:{hport}->{cport}/{proto}", tuple(steps), entries)


def _iptables_steps(container: Container, m: PortMapping, cip: str, bridge: str) -> list[Step]:
    """The steps in Docker 28's iptables chains (``iptables-save -c``: each rule's counter)."""
    rules: dict[tuple[str, str], list[tuple[int, str]]] = {}
    table = ""
    for line in xtables.save(container.host.ns, counters=True).splitlines():
        if line.startswith("*"):
            table = line[1:]
        hit = re.match(r"\[(\d+):\d+\] -A (\S+) (.*)", line)
        if hit:
            rules.setdefault((table, hit.group(2)), []).append((int(hit.group(1)), hit.group(3)))

    def step(hook: str, table: str, chain: str, *needles: str) -> Step:
        for packets, rule in rules.get((table, chain), []):
            if all(n in rule for n in needles):
                return Step(hook, f"{chain} ({table})", f"-A {chain} {rule}", packets)
        return Step(hook, f"{chain} ({table})", "(no such rule)", 0)

    hport, cport, proto = m.host_port, m.container_port, m.proto
    steps = [
        step("prerouting (nat)", "nat", "PREROUTING", "-j DOCKER"),
        step("output (nat, local)", "nat", "OUTPUT", "-j DOCKER"),
        step("DNAT", "nat", "DOCKER", f"-p {proto} -m {proto} --dport {hport} ", f"{cip}:{cport}"),
        step("forward (filter)", "filter", "FORWARD", "-j DOCKER-USER"),
        step("forward (filter)", "filter", "DOCKER-FORWARD", "-j DOCKER-BRIDGE"),
        step("forward (filter)", "filter", "DOCKER-BRIDGE", f"-o {bridge} -j DOCKER"),
        step("forward (filter)", "filter", "DOCKER", f"-d {cip}/32 ", f"{proto} --dport {cport} "),
    ]
    if not container.host.lab.store.lab_record.userland_proxy:
        steps.append(step("postrouting (nat)", "nat", "POSTROUTING", "--src-type LOCAL"))
    return steps


def _nft_steps(container: Container, m: PortMapping, cip: str, bridge: str) -> list[Step]:
    """The steps in Docker 29's ``ip docker-bridges`` table (``nft list ruleset``)."""
    proto, hport, cport = m.proto, m.host_port, m.container_port
    ch = chains(container.host.ruleset())

    def find(chain: str, *needles: str) -> str:
        for rule in ch.get(chain, []):
            if all(n in rule for n in needles):
                return rule
        return "(no such rule)"

    dnat = find("nat-prerouting-and-output", f"dport {hport} ", f"dnat to {cip}:{cport}")
    steps = [
        Step("prerouting (nat)", "nat-PREROUTING", find("nat-PREROUTING", "jump"), 0),
        Step("output (nat, local)", "nat-OUTPUT", find("nat-OUTPUT", "jump"), 0),
        Step("DNAT", "nat-prerouting-and-output", dnat, 0),
        Step(
            "forward (filter)",
            f"filter-forward-in__{bridge}",
            find(f"filter-forward-in__{bridge}", f"ip daddr {cip} {proto} dport {cport}"),
            0,
        ),
        Step(
            "postrouting (nat)",
            f"nat-postrouting-in__{bridge}",
            find(f"nat-postrouting-in__{bridge}", "MASQUERADE FROM HOST"),
            0,
        ),
    ]
    return [Step(s.hook, s.chain, _COUNTER.sub("counter", s.rule), _packets(s.rule)) for s in steps]
