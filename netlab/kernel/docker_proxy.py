"""netlab's docker-proxy: Docker's userland proxy for one published port, run as a process of
the Docker host (``ps`` shows it as Docker's: ``docker-proxy -proto tcp -host-ip 0.0.0.0
-host-port 8080 -container-ip 172.17.0.2 -container-port 80 -use-listen-fd``).

It carries what the kernel's DNAT does not: connections to a published port from the host
itself (``localhost:8080``: nat OUTPUT skips 127.0.0.0/8) and from containers (nat DOCKER
returns traffic from a bridge untranslated), to the container's address, from the bridge's
gateway address. As Docker 28's (moby ``cmd/docker-proxy``), it gets its listening socket from
the daemon as fd 4 (``-use-listen-fd``) and says on fd 3 whether it started ("0\\n", or "1\\n"
and the error); SIGINT or SIGTERM ends it with 0. TCP connections are copied both ways with
half-closes; UDP keeps one flow per client, forgotten after 90 s without traffic.

This file is a program of its own (the standard library only, started with ``python3 -S``): a
notebook's Python and netlab are not loaded into each proxy.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sys
import threading

UDP_TIMEOUT = 90.0  # seconds (moby: udp_proxy_linux.go DefaultConnTrackTimeout)
UDP_BUFFER = 65507


def set_title(argv: list[str]) -> None:
    """Show ``argv`` as this process's command line (``ps``) and ``argv[0]`` as its name
    (``ss -p``), over the interpreter's: the kernel reads both from this process's memory.
    (netlab's other small programs, such as the embedded DNS server, use it too.)"""
    try:
        with open("/proc/self/comm", "w") as f:
            f.write(argv[0])
        with open("/proc/self/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
        start, end = int(fields[45]), int(fields[46])  # arg_start, arg_end (proc(5))
        new = b"\0".join(a.encode() for a in argv) + b"\0"
        if len(new) <= end - start:
            with open("/proc/self/mem", "r+b", buffering=0) as mem:
                mem.seek(start)
                mem.write(new + b"\0" * (end - start - len(new)))
    except OSError:
        pass  # (only the looks)


def parse(args: list[str]) -> dict[str, str]:
    """``-proto tcp -host-ip IP ...`` as a dict (flags without a value map to "true")."""
    out: dict[str, str] = {}
    i = 0
    while i < len(args):
        key = args[i].lstrip("-")
        if key == "use-listen-fd":
            out[key] = "true"
            i += 1
        else:
            out[key] = args[i + 1]
            i += 2
    return out


def pipe(src: socket.socket, dst: socket.socket) -> None:
    """Copy ``src`` to ``dst`` until ``src`` ends, then end ``dst``'s writing half."""
    try:
        while data := src.recv(65536):
            dst.sendall(data)
    except OSError:
        pass
    for sock, how in ((dst, socket.SHUT_WR), (src, socket.SHUT_RD)):
        with contextlib.suppress(OSError):
            sock.shutdown(how)


def serve_tcp(listener: socket.socket, target: tuple[str, int]) -> None:
    while True:
        client, _ = listener.accept()
        try:
            backend = socket.create_connection(target, timeout=10)
            backend.settimeout(None)
        except OSError as exc:
            print(f"Can't forward traffic to backend tcp/{target[0]}:{target[1]}: {exc}")
            client.close()
            continue
        for a, b in ((client, backend), (backend, client)):
            threading.Thread(target=pipe, args=(a, b), daemon=True).start()


def serve_udp(listener: socket.socket, target: tuple[str, int]) -> None:
    flows: dict[tuple[str, int], socket.socket] = {}
    lock = threading.Lock()

    def replies(client: tuple[str, int], backend: socket.socket) -> None:
        backend.settimeout(UDP_TIMEOUT)
        try:
            while True:
                listener.sendto(backend.recv(UDP_BUFFER), client)
        except OSError:
            pass
        with lock:
            flows.pop(client, None)
        backend.close()

    while True:
        data, client = listener.recvfrom(UDP_BUFFER)
        with lock:
            backend = flows.get(client)
            if backend is None:
                backend = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                backend.connect(target)
                flows[client] = backend
                threading.Thread(target=replies, args=(client, backend), daemon=True).start()
        with contextlib.suppress(OSError):
            backend.send(data)


def main(args: list[str]) -> int:
    set_title(["docker-proxy", *args])
    opts = parse(args)
    status = os.fdopen(3, "w") if "use-listen-fd" in opts else None
    try:
        proto = opts["proto"]
        target = (opts["container-ip"], int(opts["container-port"]))
        if status is not None:
            kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
            listener = socket.socket(fileno=4, type=kind)
        else:
            family = socket.AF_INET6 if ":" in opts["host-ip"] else socket.AF_INET
            kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
            listener = socket.socket(family, kind)
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind((opts["host-ip"], int(opts["host-port"])))
            if proto == "tcp":
                listener.listen()
    except (OSError, KeyError, ValueError) as exc:
        if status is not None:
            status.write(f"1\n{exc}")
            status.close()
        print(f"docker-proxy: {exc}", file=sys.stderr)
        return 1

    def stop(signum: int, frame: object) -> None:
        listener.close()
        os._exit(0)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    if status is not None:
        status.write("0\n")
        status.close()
    with contextlib.suppress(OSError):  # (the listener closed: stopping)
        (serve_tcp if proto == "tcp" else serve_udp)(listener, target)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
