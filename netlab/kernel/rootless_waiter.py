"""The small processes that rootless netlab leaves waiting (see :mod:`netlab.kernel.userns`).

Three processes of every student's rootless netlab spend their whole life waiting: the
**holder** (for "stop" on its socket), the **init** of its PID namespace (reaping orphans),
and, for every ``netlab`` command and notebook kernel that joined from outside, the parent
**left behind** (for its child, passing signals on). They are set up by netlab (Python with
pyroute2 and the rest loaded: 15-40 MB each), then replace themselves with this program,
which needs the standard library only and is started with ``python3 -I -S`` (about 3 MB):
on a machine shared by a class, the waiting costs a student a few MB instead of a hundred.

    python3 -I -S rootless_waiter.py stay CHILD ASKS_FD HOLDER_PIDFD KERNEL
    python3 -I -S rootless_waiter.py init READY_FD
    python3 -I -S rootless_waiter.py holder LISTEN_FD INIT_PID

The caller blocks the signals handled here before it executes this program (a blocked signal
stays pending across ``execve``); each role unblocks them once its handlers are in place, so
none is lost or acted on by default in between.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import socket
import struct
import sys

# What the parent left behind passes on to its child (and SIGINT for a notebook kernel,
# whose interrupt Jupyter sends to the launcher).
PASSED = (signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2)
INIT_SIGNALS = (signal.SIGTERM, signal.SIGCHLD)
HOLDER_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGCHLD)
STOP_TIMEOUT = 5.0  # seconds the holder is given to end once asked to


def stay(child: int, asks: int, holder: int, kernel: bool) -> int:
    """The parent left outside: pass signals on to ``child``, wait for it, stop the holder
    (through its pidfd) if the child wrote "stop" on ``asks``, end as the child ended."""

    def forward(sig: int, _frame: object) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(child, sig)

    for sig in PASSED:
        signal.signal(sig, forward)
    # (In a terminal, Ctrl-C reaches the child too: its foreground group has both.)
    signal.signal(signal.SIGINT, forward if kernel else signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {*PASSED, signal.SIGINT})
    try:
        _, status = os.waitpid(child, 0)
    except ChildProcessError:
        return 1
    code = os.waitstatus_to_exitcode(status)
    with contextlib.suppress(OSError):
        if os.read(asks, 16) == b"stop":
            signal.pidfd_send_signal(holder, signal.SIGTERM)
            select.select([holder], [], [], STOP_TIMEOUT)  # (readable once it has ended)
    return code if code >= 0 else 128 - code


def init(ready: int) -> int:
    """PID 1 of the user's PID namespace: say "i" on ``ready``, then reap orphans until
    SIGTERM (from a process inside). A PID 1 gets only the signals it has a handler for,
    blocked or not: it has one for each."""
    for sig in INIT_SIGNALS:
        signal.signal(sig, lambda *_: None)
    signal.pthread_sigmask(signal.SIG_BLOCK, set(INIT_SIGNALS))
    os.write(ready, b"i")
    os.close(ready)
    while True:
        with contextlib.suppress(ChildProcessError):
            while os.waitpid(-1, os.WNOHANG)[0] > 0:
                pass
        if signal.sigwait(set(INIT_SIGNALS)) == signal.SIGTERM:
            return 0


def _peer_uid(conn: socket.socket) -> int:
    raw = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    return int(struct.unpack("3i", raw)[1])


def holder(listen_fd: int, init_pid: int) -> int:
    """The holder: wait for "stop" from the user on the listening socket, a stopping signal,
    or the end of the init; then end the init (the kernel ends every process of its PID
    namespace with it)."""
    listener = socket.socket(fileno=listen_fd)
    wake_r, wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    signal.set_wakeup_fd(wake_w)
    for sig in HOLDER_SIGNALS:
        signal.signal(sig, lambda *_: None)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, set(HOLDER_SIGNALS))
    stopping = {signal.SIGTERM, signal.SIGINT, signal.SIGHUP}
    while True:
        if os.waitpid(init_pid, os.WNOHANG)[0] == init_pid:
            return 0  # the init ended (told to stop from inside): so does the holder
        readable, _, _ = select.select([listener.fileno(), wake_r], [], [])
        if wake_r in readable and stopping & set(os.read(wake_r, 64)):
            break
        if listener.fileno() in readable:
            conn, _ = listener.accept()
            with conn:
                # A client outside the user namespace shows as uid 0 (the user) or, if it
                # is another user, as the overflow uid: only the user may stop the holder.
                conn.settimeout(1.0)
                try:
                    said = conn.recv(16)
                except OSError:
                    said = b""
                if said == b"stop" and _peer_uid(conn) == 0:
                    break
    with contextlib.suppress(ProcessLookupError):
        os.kill(init_pid, signal.SIGKILL)  # (and with it, every process of the PID namespace)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(init_pid, 0)
    return 0


def main(argv: list[str]) -> int:
    role, args = argv[0], [int(a) for a in argv[1:]]
    if role == "stay":
        return stay(args[0], args[1], args[2], bool(args[3]))
    if role == "init":
        return init(args[0])
    if role == "holder":
        return holder(args[0], args[1])
    print(f"rootless_waiter: unknown role {role!r}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
