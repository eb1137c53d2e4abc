"""Shared fixtures: root-only tests, labs that always go away, and a guard on the machine.

Every test that builds kernel objects does so through the ``lab``/``make_lab`` fixtures, whose
finalizers remove the lab even when the test fails. The session guard records the machine's
own network namespace (links, addresses, routes, neighbours, nftables, the sysctls netlab
touches) before the suite and fails the run if anything differs afterwards.
"""

from __future__ import annotations

import itertools
import os
import subprocess
from collections.abc import Callable, Iterator

import pytest

IS_ROOT = os.geteuid() == 0


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if IS_ROOT:
        return
    skip = pytest.mark.skip(reason="needs root with CAP_NET_ADMIN and CAP_SYS_ADMIN")
    for item in items:
        if "root" in item.keywords:
            item.add_marker(skip)


_counter = itertools.count(1)


@pytest.fixture
def make_lab() -> Iterator[Callable[..., object]]:
    """Build labs with unique names (``t<pid>_<n>``); all are removed at the end, always."""
    from netlab import Lab
    from netlab.model.lab import wipe

    names: list[str] = []

    def make(
        *, hosts: tuple[str, ...] = ("host",), name: str | None = None, **settings: str
    ) -> Lab:
        lab_name = name or f"t{os.getpid() % 100000}_{next(_counter)}"
        names.append(lab_name)
        return Lab(lab_name, hosts=hosts, **settings)  # type: ignore[arg-type]

    yield make
    for n in names:
        wipe(n)


@pytest.fixture
def lab(make_lab: Callable[..., object]) -> object:
    """One lab with one Docker host named ``host``."""
    return make_lab()


def run(cmd: list[str] | str, **kw: object) -> subprocess.CompletedProcess[str]:
    """Run a command, capturing text output (for tests that check the real tools)."""
    return subprocess.run(cmd, shell=isinstance(cmd, str), capture_output=True, text=True, **kw)  # type: ignore[call-overload]
