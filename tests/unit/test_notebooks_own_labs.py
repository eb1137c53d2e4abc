"""A notebook works on its own lab only: once its lab is removed it says so (instead of
errors about hosts and containers), and with no lab of its own it never falls back on a lab
that another running notebook owns (on the fake kernel)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest

import netlab.docker as front
from netlab import Lab, testing
from netlab.docker import current_lab, docker
from netlab.errors import NoSuchLab
from netlab.kernel.fake import FakeKernel
from netlab.model import lab as lab_module
from netlab.model.state import removed_message


@pytest.fixture
def fake() -> Iterator[FakeKernel]:
    with testing.installed(FakeKernel()) as kernel:
        yield kernel


def test_a_removed_lab_says_so_wherever_it_is_used(fake: FakeKernel) -> None:
    lab = Lab("lab4")
    c = lab.host().run("ubuntu", "sleep infinity")
    lab.down()
    gone = removed_message("lab4")
    for use in (lab.host, lambda: c.exec("true"), lab.draw, lab.explorer):
        with pytest.raises(NoSuchLab) as err:
            use()
        assert str(err.value) == gone
    out = docker("ps")
    assert out.code == 1 and gone in out.stderr, out


def test_with_no_lab_of_its_own_a_notebook_never_takes_another_notebooks(
    fake: FakeKernel, monkeypatch: pytest.MonkeyPatch
) -> None:
    theirs = Lab("theirs")
    mine = Lab("upped", down_at_exit=False)  # (owner 0: nobody's, it stays)
    # "theirs" belongs to another notebook's kernel that still runs.
    other = (1, 12345)  # (a pid that exists wherever this runs; "alive" is the test's)
    with theirs.store.locked():
        theirs.store.save_lab(dataclasses.replace(theirs.store.lab_record, owner=other))
    monkeypatch.setattr(lab_module.proc, "alive", lambda pid, started=None: pid == other[0])
    # A fresh kernel: this process has used no lab yet.
    monkeypatch.setattr(front, "_current", None)
    monkeypatch.setattr(lab_module, "_latest", None)
    assert current_lab().name == mine.name
    mine.down()
    with pytest.raises(NoSuchLab) as err:
        current_lab()
    assert "belong to other running notebooks: theirs" in str(err.value)
