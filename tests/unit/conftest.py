"""Fixtures of the root-free unit tests: the fake kernel, and nothing written to the disk.

These tests run as any user (CI runs them as a fresh unprivileged user too): they must not
write into the checkout, create a real namespace or start a real process.
"""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator

import pytest
from hypothesis import settings

from netlab import testing
from netlab.kernel.fake import FakeKernel

# Hypothesis keeps an example database and caches in .hypothesis/ of the working directory
# (the checkout, which another user may not be allowed to write): no database, and the
# caches in a temporary folder of this run.
_HYPOTHESIS_HOME = tempfile.mkdtemp(prefix="netlab-hypothesis-")
os.environ["HYPOTHESIS_STORAGE_DIRECTORY"] = _HYPOTHESIS_HOME
atexit.register(shutil.rmtree, _HYPOTHESIS_HOME, ignore_errors=True)
settings.register_profile("netlab-unit", database=None)
settings.load_profile("netlab-unit")


def _refuse(what: str) -> Callable[..., object]:
    def refuse(*args: object, **kwargs: object) -> object:
        raise AssertionError(f"a test on the fake kernel {what}")

    return refuse


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeKernel]:
    """The fake kernel in place of the real one, labs' state in a temporary folder.

    While it is installed, a real process, a signal or a fork fails the test. At the end every
    lab still up is removed through the model (``netlab clean``'s path), which must leave the
    fake kernel empty.
    """
    kernel = FakeKernel()
    with tempfile.TemporaryDirectory(prefix="netlab-fake-") as root:
        testing.install(kernel, monkeypatch, root)
        for name in ("kill", "killpg", "fork", "forkpty", "posix_spawn", "posix_spawnp"):
            if hasattr(os, name):
                monkeypatch.setattr(os, name, _refuse(f"called os.{name}"))
        monkeypatch.setattr(subprocess, "Popen", _refuse("started a real process"))
        yield kernel
        testing.down_all()
        assert kernel.namespaces() == [], "netlab clean left namespaces in the fake kernel"
        assert kernel.processes == [], "netlab clean left processes in the fake kernel"
        assert kernel.etc_names() == [], "netlab clean left /etc/netns files in the fake kernel"
        assert kernel.freezer.frozen() == {}, "netlab clean left cgroups in the fake kernel"
