"""Container logs: capped and rotated as Docker's json-file driver does, and a lab's logs
on a file system of their own, so that a chatty container fills nobody's state."""

from __future__ import annotations

import contextlib
import os
import time

import pytest

from netlab import Lab
from netlab.docker import docker, use
from netlab.kernel import freezer
from netlab.model import logs

pytestmark = pytest.mark.root


def _no_freezer() -> str:
    """Why netlab may use no freezer here ("" if it may; see test_pause.py)."""
    try:
        freezer.find()
    except freezer.FreezerError as exc:
        return str(exc)
    return ""


def log_files(lab: Lab, cid: str) -> dict[str, int]:
    """The container's log files and their sizes (one may be mid-rotation: missing)."""
    d = lab.store.path("logs")
    out = {}
    for n in os.listdir(d):
        if n.startswith(cid):
            with contextlib.suppress(FileNotFoundError):
                out[n] = os.path.getsize(os.path.join(d, n))
    return out


def wait_for(check: object, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check() and time.monotonic() < deadline:  # type: ignore[operator]
        time.sleep(0.05)
    assert check(), "timed out"  # type: ignore[operator]


@pytest.mark.skipif(bool(_no_freezer()), reason=_no_freezer())  # (it pauses the container)
def test_a_chatty_container_keeps_max_file_files_of_max_size(lab: Lab) -> None:
    # The issue's `docker run -d busybox yes`: 2 GB/s into the shared state before.
    use(lab)
    cid = docker("run -d --name chatty --log-opt max-size=100k --log-opt max-file=3 busybox yes")
    cid_ = cid.stdout.strip()
    names = [f"{cid_}.log", f"{cid_}.log.1", f"{cid_}.log.2"]
    wait_for(lambda: sorted(log_files(lab, cid_)) == names)
    time.sleep(0.5)  # (it goes on writing: the files stay as they are, rotated)
    assert "Up " in docker("ps --format '{{.Status}}'").stdout  # it runs on
    # Paused, `yes` stops writing (the log's writer is outside the freezer and drains the
    # pipe): the files then hold still, where a look between two rotations could miss one.
    assert docker("pause chatty").code == 0
    files: dict[str, int] = {}

    def settled() -> bool:  # (the same three files, of the same sizes, twice in a row)
        before = log_files(lab, cid_)
        time.sleep(0.2)
        files.clear()
        files.update(log_files(lab, cid_))
        return sorted(files) == names and files == before

    wait_for(settled)
    assert all(size <= 100_000 for size in files.values()) and files[f"{cid_}.log.1"] == 100_000
    assert docker("logs --tail 1 chatty").stdout == "y\n"
    assert docker("inspect -f '{{json .HostConfig.LogConfig}}' chatty").stdout == (
        '{"Type":"json-file","Config":{"max-file":"3","max-size":"100k"}}\n'
    )
    assert docker("rm -f chatty").code == 0
    assert log_files(lab, cid_) == {}


def test_without_log_opts_a_log_is_capped_all_the_same(lab: Lab) -> None:
    use(lab)
    cid = docker("run -d busybox yes").stdout.strip()
    wait_for(lambda: f"{cid}.log.1" in log_files(lab, cid), timeout=30)
    files = log_files(lab, cid)
    assert len(files) <= logs.DEFAULT_MAX_FILE
    assert all(size <= logs.DEFAULT_MAX_SIZE for size in files.values())
    assert docker("inspect -f '{{json .HostConfig.LogConfig}}' " + cid).stdout == (
        '{"Type":"json-file","Config":{}}\n'
    )  # (what a default Docker shows: netlab's cap is a difference the README lists)


def test_a_restarted_containers_log_goes_on(lab: Lab) -> None:
    use(lab)
    docker("run --name twice busybox echo one")
    assert docker("start twice").code == 0
    wait_for(lambda: docker("logs twice").stdout == "one\none\n")


def test_a_full_log_space_drops_output_and_nothing_else(
    make_lab: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(logs, "LAB_LOG_SPACE", "1m")
    lab = make_lab()  # type: ignore[operator]
    monkeypatch.undo()
    other = make_lab()  # type: ignore[operator]
    use(lab)
    cid = docker("run -d --name flood --log-opt max-size=10m busybox yes").stdout.strip()
    space = lab.store.path("logs")
    wait_for(lambda: os.statvfs(space).f_bavail == 0)
    time.sleep(0.3)
    # The flood goes on (its output dropped), and the lab works: its state is elsewhere.
    assert docker("inspect -f '{{.State.Status}}' flood").stdout == "running\n"
    assert docker("run --name after busybox echo still here").stdout == ""  # (no room to log)
    assert docker("network create more").code == 0
    assert "flood" in docker("ps").stdout
    assert docker("rm -f flood").code == 0 and sum(log_files(lab, cid).values()) == 0
    # Another lab never noticed.
    use(other)
    assert docker("run busybox echo hello").stdout == "hello\n"
