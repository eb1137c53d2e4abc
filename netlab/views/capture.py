"""Watch VXLAN on the wire: capture on a node's LAN interface and decode one packet.

A ping between two tasks of an overlay leaves node1 as a UDP datagram to node2's port
4789. Its layers, outermost first::

    Ethernet  node1 eth0 MAC -> node2 eth0 MAC
    IPv4      192.168.56.11 -> 192.168.56.12          (the underlay: the lab's LAN)
    UDP       random source port -> 4789
    VXLAN     flags 0x08, VNI 4097                      (8 bytes: which overlay network)
    Ethernet  task1 eth0 MAC -> task2 eth0 MAC          (the overlay's frame, unchanged)
    IPv4      10.0.1.2 -> 10.0.1.3, ICMP echo request

:func:`capture_vxlan` runs ``tcpdump`` in the node's namespace while a function of yours
sends traffic, reads the pcap file it wrote and decodes it here (no third-party decoder),
so the numbers come from the real packet. The 50 bytes VXLAN adds (outer Ethernet 14 is
not counted against the MTU; outer IPv4 20 + UDP 8 + VXLAN 8 + inner Ethernet 14 = 50) are
why the overlay's MTU is 1500 - 50 = 1450.
"""

from __future__ import annotations

import contextlib
import os
import re
import select
import struct
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import IO, TYPE_CHECKING, Any

from netlab.errors import NetlabError
from netlab.kernel import proc

if TYPE_CHECKING:
    from netlab.model.host import Host
    from netlab.model.lab import Lab

ICMP_TYPES = {0: "echo reply", 8: "echo request", 3: "destination unreachable"}
IP_PROTOS = {1: "ICMP", 6: "TCP", 17: "UDP"}


@dataclass(frozen=True)
class VxlanPacket:
    """One captured VXLAN packet, decoded layer by layer."""

    outer_src_mac: str
    outer_dst_mac: str
    outer_src_ip: str
    outer_dst_ip: str
    udp_src_port: int
    udp_dst_port: int
    vni: int
    inner_src_mac: str
    inner_dst_mac: str
    inner_src_ip: str
    inner_dst_ip: str
    inner_proto: str
    inner_detail: str
    wire_bytes: int

    def as_dict(self) -> dict[str, Any]:
        """The fields as a dict (for tables and pictures)."""
        return asdict(self)

    def __str__(self) -> str:
        return "\n".join(
            [
                f"Ethernet  {self.outer_src_mac} -> {self.outer_dst_mac}",
                f"IPv4      {self.outer_src_ip} -> {self.outer_dst_ip}   (underlay)",
                f"UDP       {self.udp_src_port} -> {self.udp_dst_port}",
                f"VXLAN     VNI {self.vni}",
                f"  Ethernet  {self.inner_src_mac} -> {self.inner_dst_mac}   (overlay frame)",
                f"  IPv4      {self.inner_src_ip} -> {self.inner_dst_ip}",
                f"  {self.inner_proto:<9} {self.inner_detail}",
                f"({self.wire_bytes} bytes on the wire)",
            ]
        )


def _mac(b: bytes) -> str:
    return ":".join(f"{x:02x}" for x in b)


def _ip(b: bytes) -> str:
    return ".".join(str(x) for x in b)


def decode(frame: bytes) -> VxlanPacket | None:
    """Decode an Ethernet frame carrying VXLAN; None if it is something else."""
    if len(frame) < 14 + 20 + 8 + 8 + 14 + 20:
        return None
    if struct.unpack_from("!H", frame, 12)[0] != 0x0800:
        return None
    ihl = (frame[14] & 0x0F) * 4
    if frame[23] != 17:
        return None
    udp = 14 + ihl
    sport, dport = struct.unpack_from("!HH", frame, udp)
    vx = udp + 8
    if not frame[vx] & 0x08:
        return None
    vni = int.from_bytes(frame[vx + 4 : vx + 7], "big")
    inner = vx + 8
    if struct.unpack_from("!H", frame, inner + 12)[0] != 0x0800:
        return None
    iip = inner + 14
    iihl = (frame[iip] & 0x0F) * 4
    proto = frame[iip + 9]
    detail = ""
    if proto == 1:
        detail = ICMP_TYPES.get(frame[iip + iihl], f"type {frame[iip + iihl]}")
    elif proto in (6, 17):
        s, d = struct.unpack_from("!HH", frame, iip + iihl)
        detail = f"port {s} -> {d}"
    return VxlanPacket(
        outer_src_mac=_mac(frame[6:12]),
        outer_dst_mac=_mac(frame[0:6]),
        outer_src_ip=_ip(frame[26:30]),
        outer_dst_ip=_ip(frame[30:34]),
        udp_src_port=sport,
        udp_dst_port=dport,
        vni=vni,
        inner_src_mac=_mac(frame[inner + 6 : inner + 12]),
        inner_dst_mac=_mac(frame[inner : inner + 6]),
        inner_src_ip=_ip(frame[iip + 12 : iip + 16]),
        inner_dst_ip=_ip(frame[iip + 16 : iip + 20]),
        inner_proto=IP_PROTOS.get(proto, str(proto)),
        inner_detail=detail,
        wire_bytes=len(frame),
    )


def read_pcap(path: str) -> list[bytes]:
    """The frames of a classic pcap file (Ethernet link type)."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        return []
    magic = data[:4]
    endian = "<" if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    frames, off = [], 24
    while off + 16 <= len(data):
        _, _, incl, _ = struct.unpack_from(endian + "IIII", data, off)
        off += 16
        frames.append(data[off : off + incl])
        off += incl
    return frames


def capture_vxlan(
    node: Host,
    action: Callable[[], object],
    *,
    count: int = 1,
    interface: str = "eth0",
    timeout: float = 5.0,
) -> list[VxlanPacket]:
    """Capture ``count`` VXLAN packets on ``node``'s LAN interface while ``action()`` runs."""
    fd, path = tempfile.mkstemp(prefix="netlab-vxlan-", suffix=".pcap")
    os.close(fd)
    argv = [
        "ip",
        "netns",
        "exec",
        node.ns,
        "tcpdump",
        "-i",
        interface,
        "-nn",
        "-U",
        "-c",
        str(count),
        "-w",
        path,
        "udp",
        "port",
        "4789",
    ]
    dump = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        assert dump.stderr is not None
        _wait_for(dump.stderr, b"listening on", timeout, f"tcpdump on {node.name}")
        action()
        try:
            dump.wait(timeout)
        except subprocess.TimeoutExpired:
            dump.terminate()
            dump.wait(2)
        packets = [p for p in (decode(f) for f in read_pcap(path)) if p is not None]
        if not packets:
            raise NetlabError(
                f"no VXLAN packet seen on {node.name} {interface} within {timeout:.0f} s"
            )
        return packets
    finally:
        if dump.poll() is None:
            dump.kill()
            dump.wait()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)


_TCPDUMP_LINE = re.compile(
    r"IP (\d+\.\d+\.\d+\.\d+)\.(\d+) > (\d+\.\d+\.\d+\.\d+)\.(\d+): Flags \[([^\]]*)\]"
)
_FLAGS = {"S": "SYN", "F": "FIN", "R": "RST", "P": "PSH", ".": "ACK", "U": "URG"}


def tcp_summary(tcpdump_lines: str, client: str) -> list[str]:
    """What TCP said, one line per kind of segment, in the order first seen: ``CLIENT >
    SERVER:PORT  SYN``, ``SERVER:PORT > CLIENT  RST ACK``. The client's port (random) is left
    out, and a segment sent again (a SYN retransmitted) is one line.

    >>> tcp_summary("IP 10.0.0.1.40000 > 10.0.0.2.80: Flags [S], seq 1, length 0\\n"
    ...             "IP 10.0.0.2.80 > 10.0.0.1.40000: Flags [R.], seq 0, ack 1, length 0",
    ...             "10.0.0.1")
    ['10.0.0.1 > 10.0.0.2:80  SYN', '10.0.0.2:80 > 10.0.0.1  RST ACK']
    """
    seen: list[str] = []
    for m in _TCPDUMP_LINE.finditer(tcpdump_lines):
        src, sport, dst, dport, flags = m.groups()
        names = " ".join(_FLAGS[f] for f in flags if f in _FLAGS)
        if src == client:
            line = f"{src} > {dst}:{dport}  {names}"
        else:
            line = f"{src}:{sport} > {dst}  {names}"
        if line not in seen:
            seen.append(line)
    return seen


def watch_tcp(lab: Lab, where: str, command: str, *, interface: str = "eth0") -> str:
    """Run ``command`` (a shell command line) in ``where`` (a lab machine, as ``%on``) while
    ``tcpdump`` watches TCP on its ``interface``; return what the command printed, its exit
    status, and what TCP said on the wire (:func:`tcp_summary`), with "(no reply)" when
    nothing came back. Lab 04 shows a dropped and a refused connection this way."""
    prefix = lab.command_prefix(where)
    dump = subprocess.Popen(
        [*prefix, "tcpdump", "-l", "-nn", "-i", interface, "tcp"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert dump.stderr is not None
        _wait_for(dump.stderr, b"listening on", 5.0, f"tcpdump on {where}")
        done = subprocess.run(
            [*prefix, "/bin/sh", "-c", command], capture_output=True, text=True, check=False
        )
        time.sleep(0.2)  # (a reply still on its way)
    finally:
        dump.terminate()
        out, _ = dump.communicate(timeout=5)
    me = ipv4_of(lab, where, interface)
    said = tcp_summary(out.decode(errors="replace"), me)
    if said and all(line.startswith(f"{me} ") for line in said):
        said.append("(no reply)")
    printed = (done.stdout + done.stderr).rstrip("\n")
    lines = [f"{where}$ {command}", *([printed] if printed else [])]
    lines.append(f"(exit status {done.returncode})")
    lines.append(f"on {where}'s {interface}:")
    lines += [f"  {line}" for line in said or ["(nothing)"]]
    return "\n".join(lines)


def ipv4_of(lab: Lab, where: str, interface: str = "eth0") -> str:
    """The IPv4 address of ``where``'s ``interface``, as its kernel says ("" if none)."""
    fields = lab.exec(where, ["ip", "-4", "-o", "addr", "show", "dev", interface]).stdout.split()
    return fields[3].split("/")[0] if len(fields) > 3 else ""


def _wait_for(stream: IO[bytes], word: bytes, timeout: float, what: str) -> None:
    """Read ``stream`` until ``word`` shows (tcpdump's "listening on"), or fail in one line."""
    deadline = time.monotonic() + timeout
    said = b""
    while word not in said and time.monotonic() < deadline:
        if select.select([stream], [], [], 0.1)[0]:
            chunk = os.read(stream.fileno(), 4096)
            if not chunk:
                break
            said += chunk
    if word not in said:
        raise NetlabError(f"{what} did not start: {said.decode(errors='replace').strip()}")


def seen_where(namespaces: Sequence[str], action: Callable[[], object], bpf: str) -> dict[str, int]:
    """Run ``action()`` while ``tcpdump`` counts the packets that match ``bpf`` on every
    interface of each namespace; return the count per namespace. The explorer finds where a
    request that failed stopped this way: the last namespace of its path that saw it."""
    dumps: dict[str, subprocess.Popen[bytes]] = {}
    counts: dict[str, int] = {}
    try:
        for ns in dict.fromkeys(namespaces):
            dumps[ns] = subprocess.Popen(
                [*proc.netns_prefix(ns), "tcpdump", "-l", "-nn", "-i", "any", bpf],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
        for ns, dump in dumps.items():
            assert dump.stderr is not None
            _wait_for(dump.stderr, b"listening on", 5.0, f"tcpdump in {ns}")
        action()
        time.sleep(0.2)  # (the last packets still on their way)
    finally:
        for ns, dump in dumps.items():
            dump.terminate()
            out, _ = dump.communicate(timeout=5)
            counts[ns] = sum(1 for line in out.decode(errors="replace").splitlines() if line)
    return counts
