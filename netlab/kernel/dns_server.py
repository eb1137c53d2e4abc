"""netlab's embedded DNS server: what dockerd answers at 127.0.0.11 inside every container on a
user-defined network, one process per Docker host (``ps`` shows it as ``dockerd``).

Docker's resolver (moby ``libnetwork/resolver.go``) listens *inside each container's network
namespace*, on 127.0.0.11 at a random UDP port and a random TCP port; two NAT rules in the
container's own nat table (``DOCKER_OUTPUT``, ``DOCKER_POSTROUTING``) send queries for
127.0.0.11:53 there and make the answers come back from port 53. This program does the same
for all the containers of one Docker host at once: netlab opens each container's sockets in the
container's namespace and hands them over on the control socket, with the container's ID, in
one ``attach`` message (SCM_RIGHTS): the UDP and TCP listening sockets, and an unbound UDP
socket of the container's namespace through which names it does not know are forwarded (as
Docker forwards them from the container's namespace, so an ``--internal`` network has no way
out for them either). ``detach ID`` closes them (a socket would keep a namespace alive).

What it answers comes from a JSON table that netlab rewrites whenever containers come and go
(read again when its modification time changes)::

    {"containers": {"<id>": {"networks": ["<network id>", ...],
                             "upstream": [["198.51.100.53", true]]}},  # (true: from the host)
     "networks": {"<network id>": {"names": {"web": ["172.18.0.2"], ...},
                                   "reverse": {"172.18.0.2": "web.mynet"}}}}

A name is looked up in the container's networks in order (``NAME.NETWORK`` in that network
only); a known name answers its A records (TTL 600, as Docker's), an AAAA query for it an empty
answer; a ``PTR`` query for an address of one of its networks answers ``NAME.NETWORK``; the rest
is forwarded to the container's upstream servers and the answer passed back as it came.

This file is a program of its own (the standard library only, started with ``python3 -S``).
"""

from __future__ import annotations

import array
import contextlib
import json
import os
import random
import selectors
import signal
import socket
import struct
import sys
import threading
from typing import Any

try:
    from netlab.kernel.docker_proxy import set_title
except ImportError:  # (run as a program, python3 -S .../dns_server.py: its folder is first)
    from docker_proxy import set_title  # type: ignore[no-redef,import-not-found]

TTL = 600  # seconds (moby libnetwork/resolver.go respTTL)
FORWARD_TIMEOUT = 2.0  # seconds per upstream server
A, PTR, AAAA = 1, 12, 28
MAX_FDS = 3


# --- DNS messages ------------------------------------------------------------------------------


def parse_question(msg: bytes) -> tuple[int, int, str, int, int] | None:
    """(id, flags, name, qtype, end of the question) of a standard query, or None."""
    if len(msg) < 12:
        return None
    qid, flags, qdcount = struct.unpack("!HHH", msg[:6])
    if flags & 0x8000 or (flags >> 11) & 0xF != 0 or qdcount != 1:
        return None  # (an answer, not a plain QUERY, or not one question)
    labels, i = [], 12
    while True:
        if i >= len(msg):
            return None
        n = msg[i]
        if n == 0:
            i += 1
            break
        if n & 0xC0:
            return None  # (no compression in a question)
        labels.append(msg[i + 1 : i + 1 + n].decode("ascii", "replace"))
        i += 1 + n
    if i + 4 > len(msg):
        return None
    qtype, _qclass = struct.unpack("!HH", msg[i : i + 4])
    return qid, flags, ".".join(labels), qtype, i + 4


def encode_name(name: str) -> bytes:
    out = b""
    for label in name.strip(".").split("."):
        if label:
            raw = label.encode("ascii", "replace")[:63]
            out += bytes([len(raw)]) + raw
    return out + b"\0"


def answer(
    query: bytes, q: tuple[int, int, str, int, int], records: list[bytes], rcode: int = 0
) -> bytes:
    """The response to ``query``: its question again, ``records`` (each already encoded,
    naming the question by a pointer to offset 12), recursion available."""
    qid, flags, _name, _qtype, end = q
    rflags = 0x8000 | (flags & 0x0100) | 0x0080 | rcode  # QR, RD as asked, RA
    header = struct.pack("!HHHHHH", qid, rflags, 1, len(records), 0, 0)
    return header + query[12:end] + b"".join(records)


def a_record(ip: str) -> bytes:
    return struct.pack("!HHHIH", 0xC00C, A, 1, TTL, 4) + socket.inet_aton(ip)


def ptr_record(name: str) -> bytes:
    data = encode_name(name)
    return struct.pack("!HHHIH", 0xC00C, PTR, 1, TTL, len(data)) + data


# --- the table ---------------------------------------------------------------------------------


class Table:
    """The names netlab wrote, read again whenever the file changes."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.stamp: tuple[int, int] = (0, 0)
        self.data: dict[str, Any] = {"containers": {}, "networks": {}}

    def current(self) -> dict[str, Any]:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return self.data
        stamp = (st.st_mtime_ns, st.st_size)
        if stamp != self.stamp:
            try:
                with open(self.path) as f:
                    self.data = json.load(f)
                self.stamp = stamp
            except (OSError, ValueError):
                pass  # (half-written: netlab replaces it atomically, so read it next time)
        return self.data


def resolve(table: dict[str, Any], cid: str, name: str, qtype: int) -> list[bytes] | None:
    """The records for a question from container ``cid``, or None when it is not ours."""
    me = table["containers"].get(cid)
    if me is None:
        return None
    nets = [table["networks"].get(n) for n in me.get("networks", [])]
    nets = [n for n in nets if n]
    name = name.lower().rstrip(".")
    if qtype == PTR and name.endswith(".in-addr.arpa"):
        parts = name[: -len(".in-addr.arpa")].split(".")
        ip = ".".join(reversed(parts))
        for n in nets:
            if ip in n.get("reverse", {}):
                return [ptr_record(n["reverse"][ip])]
        return None
    if qtype not in (A, AAAA):
        return None
    for n in nets:
        ips = n.get("names", {}).get(name)
        if ips is None:
            suffix = "." + n.get("name", "")
            if name.endswith(suffix):
                ips = n.get("names", {}).get(name[: -len(suffix)])
        if ips is not None:  # (several: shuffled, as Docker's shuffleAddr)
            return [a_record(ip) for ip in random.sample(ips, len(ips))] if qtype == A else []
    return None


# --- the server --------------------------------------------------------------------------------


class Client:
    """One container's sockets: where its queries come in and go out."""

    def __init__(self, cid: str, udp: socket.socket, tcp: socket.socket, out: socket.socket):
        self.cid, self.udp, self.tcp, self.out = cid, udp, tcp, out
        self.lock = threading.Lock()  # (one forwarded query at a time on ``out``)

    def close(self) -> None:
        for s in (self.udp, self.tcp, self.out):
            with contextlib.suppress(OSError):
                s.close()


class Server:
    def __init__(self, control: str, table: str) -> None:
        self.table = Table(table)
        self.sel = selectors.DefaultSelector()
        self.clients: dict[str, Client] = {}
        self.control = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(control)
        self.control.bind(control)
        self.control.listen(16)
        self.sel.register(self.control, selectors.EVENT_READ, ("control", None))

    # -- the control socket: attach and detach ---------------------------------------------------

    def on_control(self) -> None:
        conn, _ = self.control.accept()
        with conn:
            conn.settimeout(5.0)
            while True:
                try:
                    msg, fds = recv_fds(conn)
                except (OSError, ValueError):
                    return
                if not msg:
                    return
                reply = self.command(msg.decode(), fds)
                conn.send(reply.encode())

    def command(self, text: str, fds: list[int]) -> str:
        word, _, cid = text.partition(" ")
        if word == "attach" and len(fds) == 3:
            self.detach(cid)
            udp, tcp, out = (socket.socket(fileno=fd) for fd in fds)
            c = Client(cid, udp, tcp, out)
            self.clients[cid] = c
            self.sel.register(udp, selectors.EVENT_READ, ("udp", c))
            self.sel.register(tcp, selectors.EVENT_READ, ("tcp", c))
            return "ok"
        for fd in fds:
            os.close(fd)
        if word == "detach":
            self.detach(cid)
            return "ok"
        if word == "ping":
            return "ok " + str(len(self.clients))
        return "error: unknown command"

    def detach(self, cid: str) -> None:
        c = self.clients.pop(cid, None)
        if c is not None:
            for s in (c.udp, c.tcp):
                with contextlib.suppress(KeyError, ValueError):
                    self.sel.unregister(s)
            c.close()

    # -- queries -------------------------------------------------------------------------------

    def local(self, c: Client, query: bytes) -> tuple[bytes | None, bool]:
        """``(the answer, True)`` when the table has it or the query is not one to answer,
        ``(None, False)`` when it must go upstream (:meth:`upstream`)."""
        q = parse_question(query)
        if q is None:
            return None, True
        records = resolve(self.table.current(), c.cid, q[2], q[3])
        return (answer(query, q, records), True) if records is not None else (None, False)

    def upstream(self, c: Client, query: bytes) -> bytes | None:
        """The upstream servers' answer, or SERVFAIL when none gives one."""
        got = self.forward(c, query)
        q = parse_question(query)
        return got if got is not None or q is None else answer(query, q, [], rcode=2)

    def reply_for(self, c: Client, query: bytes) -> bytes | None:
        data, done = self.local(c, query)
        return data if done else self.upstream(c, query)

    def forward(self, c: Client, query: bytes) -> bytes | None:
        """Ask the container's upstream servers in turn: those of the Docker host's own
        resolv.conf from the host's namespace (where this server runs), those given with
        ``--dns`` from the container's (moby libnetwork/internal/resolvconf TransformForIntNS:
        ``HostLoopback``)."""
        me = self.table.current()["containers"].get(c.cid, {})
        for server, from_host in me.get("upstream", []):
            if from_host:
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                    got = ask(s, server, query)
            else:
                with c.lock:
                    got = ask(c.out, server, query)
            if got is not None and got[3] & 0xF not in (2, 5):  # (SERVFAIL, REFUSED: next)
                return got
        return None

    def on_udp(self, c: Client) -> None:
        try:
            query, peer = c.udp.recvfrom(65535)
        except OSError:
            return

        def send(data: bytes | None) -> None:
            if data is not None:
                with contextlib.suppress(OSError):
                    c.udp.sendto(data, peer)

        data, done = self.local(c, query)
        if done:  # (answered at once, on this thread; a forward waits on a thread of its own)
            send(data)
        else:
            threading.Thread(target=lambda: send(self.upstream(c, query)), daemon=True).start()

    def on_tcp(self, c: Client) -> None:
        try:
            conn, _ = c.tcp.accept()
        except OSError:
            return

        def work() -> None:
            with conn:
                conn.settimeout(5.0)
                try:
                    while True:
                        head = recv_exact(conn, 2)
                        if not head:
                            return
                        query = recv_exact(conn, struct.unpack("!H", head)[0])
                        data = self.reply_for(c, query)
                        if data is None:
                            return
                        conn.sendall(struct.pack("!H", len(data)) + data)
                except OSError:
                    return

        threading.Thread(target=work, daemon=True).start()

    def run(self) -> None:
        while True:
            for key, _ in self.sel.select():
                kind, c = key.data
                if kind == "control":
                    self.on_control()
                elif kind == "udp":
                    self.on_udp(c)
                else:
                    self.on_tcp(c)


def ask(s: socket.socket, server: str, query: bytes) -> bytes | None:
    """Send ``query`` to ``server``:53 over ``s``; its answer, or None."""
    try:
        s.settimeout(FORWARD_TIMEOUT)
        s.sendto(query, (server, 53))
        while True:
            data, src = s.recvfrom(65535)
            if src[0] == server and data[:2] == query[:2]:
                return data
    except OSError:
        return None


def recv_exact(conn: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            return b""
        data += chunk
    return data


def recv_fds(conn: socket.socket) -> tuple[bytes, list[int]]:
    """One message and the file descriptors that came with it."""
    fds = array.array("i")
    msg, anc, _flags, _addr = conn.recvmsg(4096, socket.CMSG_SPACE(MAX_FDS * fds.itemsize))
    for level, kind, data in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(data[: len(data) - (len(data) % fds.itemsize)])
    return msg, list(fds)


def main(args: list[str]) -> int:
    """``dns_server.py CONTROL_SOCKET TABLE``: serve until SIGTERM/SIGINT; "ready" on stdout
    once the control socket listens."""
    control, table = args
    server = Server(control, table)
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    signal.signal(signal.SIGINT, lambda *_: os._exit(0))
    set_title(["dockerd", "--embedded-dns"])
    print("ready", flush=True)
    server.run()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
