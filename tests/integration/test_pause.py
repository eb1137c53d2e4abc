"""``docker pause``/``unpause`` on the real kernel: the cgroup freezer, and nothing left.

What a paused container really does here (and on Docker): its processes stop (a web server
no longer answers, a ``ping`` it runs sends nothing), but the kernel of its network namespace
still answers an echo request, so a ``ping`` *to* it still works. Messages are moby v28.5.2's
(daemon/pause.go, daemon/unpause.go, daemon/exec.go, daemon/delete.go).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable

import pytest

from netlab import Lab
from netlab.docker import docker, use
from netlab.kernel import containers, freezer

pytestmark = pytest.mark.root


def _no_freezer() -> str:
    """Why netlab may use no freezer here ("" if it may): a container runtime mounts
    /sys/fs/cgroup read-only unless the container is privileged (podman's and Docker's
    narrower sets leave it so), and root outside rootless mode has no SIGSTOP stand-in."""
    try:
        freezer.find()
    except freezer.FreezerError as exc:
        return str(exc)
    return ""


# (for the tests that pause with whichever freezer netlab finds)
needs_freezer = pytest.mark.skipif(bool(_no_freezer()), reason=_no_freezer())


def _netlab_cgroups(lab: str) -> list[str]:
    """netlab's cgroups of ``lab`` in every freezer hierarchy (as the kernel shows them)."""
    out = []
    for h in freezer.hierarchies():
        if h.version == 0:
            continue  # (the signals stand-in makes none)
        folder = os.path.join(h.base, freezer.PARENT, lab)
        if os.path.isdir(folder):
            out += [e.path for e in os.scandir(folder) if e.is_dir()]
            out.append(folder)
    return out


def _cgroup_line(pid: int) -> str:
    h = freezer.find()
    if h.version == 0:
        return ""  # (the signals stand-in moves no process)
    with open(f"/proc/{pid}/cgroup") as f:
        for line in f:
            _, ctl, path = line.rstrip("\n").split(":", 2)
            if (h.version == 1 and "freezer" in ctl.split(",")) or (h.version == 2 and ctl == ""):
                return path
    raise AssertionError(f"no freezer line for {pid}")


def _alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie, dead but not yet collected, does not)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def _wait(cond: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.05)
    return cond()


def _no_cgroup_dir(h: freezer.Hierarchy) -> bool:
    return not h.version or not os.path.exists(os.path.join(h.base, freezer.PARENT))


@pytest.fixture(params=[1, 2, 0], ids=["cgroup-v1", "cgroup-v2", "signals"])
def only_version(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> int:
    """netlab restricted to one freezer version (a hybrid machine has both to test; the
    SIGSTOP stand-in of rootless mode works anywhere)."""
    if request.param == 0:
        found = [freezer.SIGNALS]
    else:
        found = [h for h in freezer.hierarchies() if h.version == request.param]
        if not found:
            pytest.skip(f"no cgroup v{request.param} freezer here")
        try:
            monkeypatch.setattr(freezer, "hierarchies", lambda: found)
            freezer.find()
        except freezer.FreezerError as exc:
            pytest.skip(str(exc))  # (rootless: the machine's cgroups are root's)
    monkeypatch.setattr(freezer, "hierarchies", lambda: found)
    return int(request.param)


def _frozen(pid: int) -> bool:
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()[0] in ("T", "t")


def test_a_paused_server_does_not_answer_until_unpaused(lab: Lab, only_version: int) -> None:
    use(lab)
    host = lab.host()
    web = host.run("nginx", name="web")
    client = host.run("ubuntu", "sleep infinity", name="client")
    url = f"http://{web.ip}/"
    assert _wait(lambda: client.exec(["curl", "-s", "-m", "2", url]).ok)
    pids = containers.pids_in_pid_ns(web.pid)
    before = {pid: _cgroup_line(pid) for pid in pids}
    assert docker("pause web").stdout == "web\n"
    cg = os.path.join(freezer.find().base, "netlab", lab.name, web.short_id)
    if only_version == 0:
        assert all(_frozen(pid) for pid in pids)
    else:
        with open(os.path.join(cg, "cgroup.procs")) as f:
            assert sorted(int(x) for x in f.read().split()) == pids  # (what docker top lists)
    if only_version == 0:
        pass
    elif os.path.exists(os.path.join(cg, "freezer.state")):
        with open(os.path.join(cg, "freezer.state")) as f:
            assert f.read().strip() == "FROZEN"
    else:
        with open(os.path.join(cg, "cgroup.events")) as f:
            assert "frozen 1" in f.read().splitlines()
    # Nobody accepts the connection: curl times out. The kernel still answers ping.
    assert not client.exec(["curl", "-s", "-m", "1", url]).ok
    assert client.exec(["ping", "-c1", "-W1", web.ip or ""]).ok
    ps = docker("ps --filter name=web --format '{{.Status}}|{{.State}}'").stdout
    assert ps.endswith(" (Paused)|paused\n") and ps.startswith("Up "), ps
    st = docker("inspect -f '{{.State.Status}} {{.State.Running}} {{.State.Paused}}' web")
    assert st.stdout == "paused true true\n"
    assert "  Running: 1\n  Paused: 1\n" in docker("info").stdout
    # moby daemon/exec.go errExecPaused(name)
    assert docker("exec web true").stderr == (
        "Error response from daemon: Container web is paused, unpause the container before exec\n"
    )
    # moby daemon/pause.go -> daemon/errors.go errNotPaused
    assert docker("pause web").stderr == (
        f"Error response from daemon: Container {web.id} is already paused\n"
    )
    assert docker("unpause web").stdout == "web\n"
    assert client.exec(["curl", "-s", "-m", "2", url]).ok
    assert {pid: _cgroup_line(pid) for pid in pids} == before  # each back where it was
    assert _netlab_cgroups(lab.name) == []
    # moby daemon/unpause.go
    assert docker("unpause web").stderr == (
        f"Error response from daemon: Container {web.id} is not paused\n"
    )
    assert docker("ps --filter status=paused -q").stdout == ""


@needs_freezer
def test_a_paused_container_sends_nothing(lab: Lab) -> None:
    """A container whose command is a ping: its log stops growing while it is paused."""
    use(lab)
    host = lab.host()
    target = host.run("ubuntu", "sleep infinity", name="target")
    pinger = host.run("ubuntu", f"ping -i 0.2 {target.ip}", name="pinger")
    assert _wait(lambda: pinger.logs().count("bytes from") >= 2)
    docker("pause pinger")
    time.sleep(0.3)  # (a line on its way to the log)
    frozen = pinger.logs().count("bytes from")
    time.sleep(1.2)
    assert pinger.logs().count("bytes from") == frozen
    docker("unpause pinger")
    assert _wait(lambda: pinger.logs().count("bytes from") >= frozen + 2)


@needs_freezer
def test_rm_f_stop_and_kill_of_a_paused_container_leave_no_cgroup(lab: Lab) -> None:
    use(lab)
    host = lab.host()
    for name in ("one", "two", "three"):
        host.run("ubuntu", "sleep infinity", name=name)
    assert docker("pause one two three").stdout == "one\ntwo\nthree\n"
    if freezer.find().version:
        assert len(_netlab_cgroups(lab.name)) == 4  # (three and the lab's folder)
    one = host.container("one")
    pids = containers.pids_in_pid_ns(one.pid)
    # moby daemon/delete.go cleanupContainer, wrapped with the name as given
    assert docker("rm one").stderr == (
        'Error response from daemon: cannot remove container "one": container is paused and '
        "must be unpaused first\n"
    )
    started = time.monotonic()
    assert docker("rm -f one").stdout == "one\n"
    assert time.monotonic() - started < 3.0  # (a v1-frozen task ignores SIGKILL until thawed)
    assert _wait(lambda: not any(_alive(p) for p in pids), 2.0)
    assert docker("kill two").stdout == "two\n"
    assert docker("stop -t 1 three").stdout == "three\n"
    assert docker("ps -a --format '{{.Names}} {{.State}}'").stdout == ("three exited\ntwo exited\n")
    assert _netlab_cgroups(lab.name) == []
    assert _no_cgroup_dir(freezer.find())


@needs_freezer
def test_a_failed_test_leaves_no_cgroup_behind(tmp_path: os.PathLike[str]) -> None:
    """A test that fails while a container is paused: the lab fixture's clean-up (netlab
    clean's path) thaws and removes the cgroup, and netlab's folder with it."""
    name = f"tpf{os.getpid() % 100000}"
    inner = os.path.join(str(tmp_path), "test_inner.py")
    with open(inner, "w") as f:
        f.write(
            "from tests.conftest import make_lab  # noqa: F401 (the fixture)\n\n"
            "def test_fails_while_paused(make_lab):\n"
            f"    c = make_lab(name={name!r}).host().run('ubuntu', 'sleep infinity')\n"
            "    c.pause()\n"
            "    assert c.paused\n"
            "    raise AssertionError('failing on purpose while paused')\n"
        )
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            inner,
            "-q",
            "-p",
            "no:randomly",
            "-p",
            "no:cacheprovider",
        ],
        capture_output=True,
        text=True,
        cwd=root,
        timeout=120,
    )
    assert done.returncode == 1 and "failing on purpose while paused" in done.stdout, done.stdout
    assert _netlab_cgroups(name) == []
    assert _no_cgroup_dir(freezer.find())
