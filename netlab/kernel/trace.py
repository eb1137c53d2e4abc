"""A record of what the kernel layer did, written as commands a student could type.

Every kernel operation that changes state appends the equivalent ``ip``/``bridge``/``nft``/
``sysctl`` command line to each active :func:`recording`. The lines come from the operations
as they run, in order, so they answer "what did Docker just do?" truthfully.
"""

from __future__ import annotations

import contextlib
import shlex
import threading
from collections.abc import Iterator, Sequence

_lock = threading.Lock()
_active: list[list[str]] = []


def record(argv: Sequence[str] | str) -> None:
    """Add one command line (argv list, or a ready string) to every active recording."""
    if not _active:
        return
    line = argv if isinstance(argv, str) else shlex.join(argv)
    with _lock:
        for rec in _active:
            rec.append(line)


@contextlib.contextmanager
def recording() -> Iterator[list[str]]:
    """Collect the command lines of the kernel operations done inside the ``with`` block."""
    rec: list[str] = []
    with _lock:
        _active.append(rec)
    try:
        yield rec
    finally:
        with _lock:
            _active.remove(rec)
