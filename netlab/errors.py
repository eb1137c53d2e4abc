"""Every error netlab raises, one tree, each message saying what failed and how to fix it.

::

    NetlabError
    ├── PrivilegeError       not root, or a capability is missing (run privileged)
    ├── ToolMissing          a command netlab runs (ip, nft, ping, ...) is not installed
    ├── InvalidArgument      a malformed name, subnet, image reference or command
    ├── NotFound
    │   ├── NoSuchLab        no lab of that name on this machine
    │   ├── NoSuchHost       no Docker host of that name in the lab
    │   ├── NoSuchContainer  "No such container: NAME" (Docker's words)
    │   ├── NoSuchNetwork    "network NAME not found" (Docker's words)
    │   └── NoSuchImage      an image netlab does not emulate (Docker's pull failure text)
    ├── Conflict             a name already in use (Docker's words)
    ├── NotRunning           exec into a stopped container (Docker's words)
    └── LabBroken            a lab object vanished behind netlab's back (deleted by hand)

Messages that Docker prints after ``Error response from daemon:`` are kept word for word, so
a student meets the same text as on a real host; netlab's own hints follow them.
"""

from __future__ import annotations

import errno


class NetlabError(Exception):
    """Base class of every error netlab raises on purpose."""

    def _render_traceback_(self) -> list[str]:
        """How IPython shows it in a notebook: one line, as the ``netlab`` command prints
        it, never a traceback (its words say what is wrong and how to fix it)."""
        return [f"{type(self).__name__}: {self}"]


class PrivilegeError(NetlabError):
    """netlab needs root with CAP_NET_ADMIN and CAP_SYS_ADMIN."""


class ToolMissing(NetlabError):
    """A program that netlab runs is not installed."""


class InvalidArgument(NetlabError, ValueError):
    """A value that cannot be used: the message names it and the rule it breaks."""


class NotFound(NetlabError, LookupError):
    """Something named does not exist."""


class NoSuchLab(NotFound):
    """No lab of that name exists on this machine."""


class LabRebuilt(NoSuchLab):
    """The lab a handle belongs to was built again (a newer lab has its name now)."""


class NoSuchHost(NotFound):
    """No Docker host of that name exists in the lab."""


class NoSuchContainer(NotFound):
    """Docker's "No such container" error."""

    def __init__(self, ref: str) -> None:
        super().__init__(f"No such container: {ref}")


class NoSuchNetwork(NotFound):
    """Docker's "network not found" error."""

    def __init__(self, ref: str) -> None:
        super().__init__(f"network {ref} not found")


class NoSuchImage(NotFound):
    """An image netlab does not emulate; worded like Docker's failed pull."""


class Conflict(NetlabError):
    """A name already in use."""


class LabInUse(Conflict):
    """A lab of that name exists and belongs to someone else (a live process, or ``netlab
    up``): it is not replaced without ``replace=True`` / ``--replace``."""


class StartFailed(NetlabError):
    """A container was created but could not start (a port taken, a command not found...):
    as on Docker it stays, ``Created``; ``container_id`` says which, ``exit_code`` is what
    ``docker run`` exits with (127: command not found, 126: not executable, else 125)."""

    def __init__(self, container_id: str, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.container_id = container_id
        text = str(cause)
        if "executable file not found" in text or "no such file or directory" in text:
            self.exit_code = 127
        elif "permission denied" in text or "is a directory" in text:
            self.exit_code = 126
        else:
            self.exit_code = 125


class NotRunning(NetlabError):
    """The container is not running (Docker's words: moby daemon/errors.go errNotRunning)."""

    def __init__(self, container_id: str) -> None:
        super().__init__(f"container {container_id} is not running")


class LabBroken(NetlabError):
    """A kernel object of the lab is missing: it was removed behind netlab's back."""


def one_line(exc: BaseException) -> str:
    """What a front end prints for an error that is not a :class:`NetlabError`: one line,
    never a traceback. An operating system's refusal says what and where; anything else is a
    bug in netlab, said as such, with what to report.

    >>> one_line(PermissionError(13, "Permission denied", "/run/netlab/demo/lock"))[:40]
    'Permission denied: /run/netlab/demo/lock'
    >>> one_line(FileNotFoundError(2, "No such file or directory", "/nowhere/x.png"))
    'No such file or directory: /nowhere/x.png'
    >>> one_line(OSError(28, "No space left on device", "/run/netlab/demo/seq.json"))[:66]
    "No space left on device: /run/netlab/demo/seq.json (netlab's state"
    >>> one_line(ZeroDivisionError("division by zero")).split(";")[0]
    'unexpected error (a bug in netlab): ZeroDivisionError: division by zero'
    """
    if isinstance(exc, PermissionError):
        where = f": {exc.filename}" if exc.filename else ""
        return (
            f"{exc.strerror or 'Permission denied'}{where} (run netlab as root, or with sudo; "
            "`netlab doctor` says what is missing)"
        )
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        where = f": {exc.filename}" if exc.filename else ""
        return (
            f"No space left on device{where} (netlab's state in /run/netlab is full: remove "
            "labs and containers you no longer need, with `netlab ls`, `docker rm -f` and "
            "`netlab down LAB`)"
        )
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.strerror}: {exc.filename}" if exc.filename else exc.strerror
    text = " ".join(str(exc).split()) or "(no message)"
    return (
        f"unexpected error (a bug in netlab): {type(exc).__name__}: {text}; please report it "
        "with the command you ran"
    )
