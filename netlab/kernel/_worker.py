"""The one thread that talks to the kernel.

Two facts force netlab's kernel calls onto a dedicated thread:

* Entering a network namespace with ``setns(2)`` changes the namespace of the calling *thread*
  only. Doing it on a private thread never disturbs the caller (a notebook kernel, the CLI).
* pyroute2's synchronous ``IPRoute`` drives its own asyncio loop and fails with "This event
  loop is already running" when called from a thread that already runs one, as every Jupyter
  cell does (pyroute2 issue 1342). The worker thread never runs a loop of its own between
  calls, so the synchronous API works there.

:func:`call` hands a function to the worker and waits for its result; exceptions travel back to
the caller unchanged. Calls made from the worker itself run inline, so kernel functions can be
composed freely.
"""

from __future__ import annotations

import contextlib
import os
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

from netlab.kernel import _sys, userns

T = TypeVar("T")

_jobs: queue.SimpleQueue[tuple[Callable[[], Any], Future[Any]]] = queue.SimpleQueue()
_thread: threading.Thread | None = None
_start_lock = threading.Lock()


def _go_home() -> None:
    """In a rootless netlab, move this thread to the user's home network namespace first: a
    notebook kernel stays in the machine's (its Jupyter server is there), where a thread of
    the user namespace may not return once it has entered a lab's (see
    :mod:`netlab.kernel.userns`)."""
    home = userns.home_netns()
    if home is None:
        return
    here = os.stat(f"/proc/self/task/{threading.get_native_id()}/ns/net")
    there = os.stat(home)
    if (here.st_dev, here.st_ino) != (there.st_dev, there.st_ino):
        fd = os.open(home, os.O_RDONLY | os.O_CLOEXEC)
        try:
            _sys.setns(fd, _sys.CLONE_NEWNET)
        finally:
            os.close(fd)


def _loop() -> None:
    _go_home()
    while True:
        fn, fut = _jobs.get()
        if not fut.set_running_or_notify_cancel():
            continue
        try:
            fut.set_result(fn())
        except BaseException as exc:
            fut.set_exception(exc)


def on_worker() -> bool:
    """True when the caller already is the kernel worker thread."""
    return threading.current_thread() is _thread


def submit(fn: Callable[[], T]) -> Future[T]:
    """Queue ``fn`` for the kernel worker thread and return at once; jobs run in order.

    The caller can do its own (Python) work meanwhile, then wait with :func:`wait`.
    """
    global _thread
    fut: Future[T] = Future()
    if on_worker():
        try:
            fut.set_result(fn())
        except BaseException as exc:
            fut.set_exception(exc)
        return fut
    if _thread is None:
        with _start_lock:
            if _thread is None:
                _thread = threading.Thread(target=_loop, name="netlab-kernel", daemon=True)
                _thread.start()
    _jobs.put((fn, fut))
    return fut


def call(fn: Callable[[], T]) -> T:
    """Run ``fn`` on the kernel worker thread and return its result (or raise its error)."""
    if on_worker():
        return fn()
    return wait(submit(fn))


def wait(fut: Future[T]) -> T:
    """The result of a submitted job (or its error), once it is done."""
    try:
        return fut.result()
    except BaseException:
        # Ctrl-C (KeyboardInterrupt) arrives in the waiting thread, not in the job: let the
        # job finish (jobs are short kernel operations) so that the caller's clean-up never
        # races with a half-done operation, then pass the interruption on.
        if not fut.done():
            with contextlib.suppress(BaseException):
                fut.result()
        raise
