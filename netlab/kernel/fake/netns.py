"""The fake of :mod:`netlab.kernel.netns`: named namespaces, their ``/etc/netns`` files and
``tcp_reachable``.

A namespace is a :class:`~.records.FakeNamespace` the kernel keeps by name: creating one gives
it a new ``ident`` and a ``lo``; deleting one unpins it, and it ends at once or with the last
process inside (``FakeKernel._unpin``), as in Linux. ``create(name, inside)`` runs ``inside``
"in" the new namespace: the ``*_here`` functions of the fake ``rtnl`` act on it.

The ``/etc/netns/NS`` files are remembered, never written, and ``tcp_reachable`` answers from
bookkeeping, sending no packet: a running fake process listens on that TCP address and port,
the address is configured in its namespace, and the source namespace has a route to it.
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Callable, Collection, Mapping
from typing import TYPE_CHECKING

from netlab.kernel import commands, netns, trace
from netlab.kernel.fake.records import FakeKernelError, _names, _oserror

if TYPE_CHECKING:  # (only a type here: the package imports this module, not the reverse)
    from netlab.kernel.fake import FakeKernel

ETC_DIR = netns.ETC_DIR  # (shown in the trace; the fake writes nothing there)


class FakeNetns:
    """The functions of :mod:`netlab.kernel.netns`, over the fake kernel."""

    NAMES = _names(
        "create delete exists names ident open_fd entered tcp_reachable listen_socket dns_sockets "
        "pids_in "
        "write_etc remove_etc etc_files etc_names"
    )

    def __init__(self, kernel: FakeKernel) -> None:
        self.k = kernel

    def create(
        self, name: str, inside: Callable[[], None] | None = None, *, ledger: str | None = None
    ) -> bool:
        """As :func:`.netns.create`; ``inside`` runs with the fake inside the new namespace.

        The ledger line is real (a file): its cookie is the fake inode, never reused."""
        k = self.k
        trace.record(commands.netns_add(name))
        if name in k._namespaces:
            return False
        err = k._injected("netns.create", name, name)
        if err is not None:
            raise _oserror(err, f"ip netns add {name}")
        n = k._new_namespace(name)
        if ledger is not None:
            with open(ledger, "a") as f:
                f.write(f"{name} {n.ident.dev} {n.ident.ino} {n.ident.ino}\n")
        if inside is not None:
            k._inside.append(n)
            try:
                inside()
            except BaseException:
                k._unpin(n)
                raise
            finally:
                k._inside.pop()
        return True

    def delete(self, name: str) -> bool:
        """As :func:`.netns.delete`: True if it was there."""
        n = self.k._namespaces.get(name)
        if n is None:
            return False
        trace.record(commands.netns_del(name))
        self.k._unpin(n)
        return True

    def exists(self, name: str) -> bool:
        return name in self.k._namespaces

    def names(self) -> list[str]:
        return self.k.namespaces()

    def ident(self, name: str) -> netns.NsId:
        return self.k._ns(name).ident

    def open_fd(self, name: str) -> int:
        self.k._ns(name)
        raise FakeKernelError(f"a fake namespace ({name}) has no file descriptor")

    def entered(self, name: str) -> contextlib.AbstractContextManager[None]:
        self.k._ns(name)
        raise FakeKernelError(f"the fake kernel cannot enter namespace {name} (setns)")

    def tcp_reachable(self, name: str, ip: str, port: int, timeout: float) -> bool:
        """True when a running fake process listens on ``ip:port`` (TCP) where ``ip`` is
        configured, and namespace ``name`` has a route to ``ip``."""
        k = self.k
        src = k._ns(name)
        if not k._routable(src, ip):
            return False
        for p in k._procs.values():
            n = k._namespaces.get(p.ns)
            if p.state != "running" or n is None or n.ident != p.ns_ident:
                continue
            for lip, lport, proto in p.listens:
                if (
                    proto == "tcp"
                    and lport == port
                    and lip in (ip, "0.0.0.0")
                    and k._has_address(n, ip)
                ):
                    return True
        return False

    def listen_socket(self, name: str, proto: str, ip: str, port: int) -> int:
        """A stand-in fd (one end of a pipe, for whoever it is handed to); EADDRINUSE when a
        fake process listens there already, and no IPv6 at all (as netlab's hosts)."""
        k = self.k
        k._ns(name)
        if ":" in ip:
            raise _oserror(errno.EAFNOSUPPORT, f"bind [{ip}]:{port}")
        for p in k._procs.values():
            if (
                p.alive
                and p.ns == name
                and any(
                    lport == port and pr == proto and (lip == ip or "0.0.0.0" in (lip, ip))
                    for lip, lport, pr in p.listens
                )
            ):
                raise _oserror(errno.EADDRINUSE, f"bind {ip}:{port}")
        r, w = os.pipe()
        os.close(w)
        return r

    def dns_sockets(self, name: str, ip: str = "127.0.0.11") -> netns.DnsSockets:
        """Three stand-in fds and the ports the fake kernel picks (one more each time)."""
        k = self.k
        k._ns(name)
        fds = []
        for _ in range(3):
            r, w = os.pipe()
            os.close(w)
            fds.append(r)
        k.dns_ports += 2
        return netns.DnsSockets(
            fds[0], fds[1], fds[2], 40000 + k.dns_ports - 1, 40000 + k.dns_ports
        )

    def pids_in(
        self,
        ids: Collection[netns.NsId],
        verify: Mapping[netns.NsId, Collection[int]] | None = None,
    ) -> dict[int, netns.NsId]:
        verify = verify or {}
        return {
            p.pid: p.ns_ident
            for p in self.k._procs.values()
            if p.alive
            and p.ns_ident in ids
            and (p.ns_ident not in verify or p.ns_ident.ino in verify[p.ns_ident])
        }

    def write_etc(
        self, name: str, files: dict[str, str], *, links: dict[str, str] | None = None
    ) -> None:
        d = os.path.join(ETC_DIR, name)
        trace.record(commands.etc_mkdir(d))
        etc = self.k._etc.setdefault(name, {})
        for fname, text in files.items():
            trace.record(commands.etc_write(d, fname, text))
            etc[fname] = text
        for fname, target in (links or {}).items():
            trace.record(commands.etc_link(d, fname, target))
            etc.setdefault(fname, f"-> {target}")

    def remove_etc(self, name: str) -> None:
        self.k._etc.pop(name, None)

    def etc_files(self, name: str) -> dict[str, str]:
        return {f: os.path.join(ETC_DIR, name, f) for f in sorted(self.k._etc.get(name, {}))}

    def etc_names(self) -> list[str]:
        return sorted(self.k._etc)
