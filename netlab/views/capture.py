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
import select
import struct
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from netlab.errors import NetlabError

if TYPE_CHECKING:
    from netlab.model.host import Host

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
        deadline = time.monotonic() + timeout
        said = b""
        while b"listening on" not in said and time.monotonic() < deadline:
            if select.select([dump.stderr], [], [], 0.1)[0]:
                chunk = os.read(dump.stderr.fileno(), 4096)
                if not chunk:
                    break
                said += chunk
        if b"listening on" not in said:
            raise NetlabError(f"tcpdump did not start on {node.name}: {said.decode().strip()}")
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
