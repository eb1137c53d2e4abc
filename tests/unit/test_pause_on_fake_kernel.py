"""``docker pause``/``unpause`` on the fake kernel: state, Docker's messages, clean-up.

The fake's freezer (netlab.kernel.fake.freezer) keeps a frozen process's signals pending,
SIGKILL too, as a cgroup v1 freezer does: a test that kills a paused container only passes
if the model thaws it after the signal. Each Docker message names its moby v28.5.2 source.
Lab names start with ``fk``.
"""

from __future__ import annotations

import errno
import inspect
import json
import pathlib

import pytest

from netlab.docker import docker
from netlab.kernel import freezer, userns
from netlab.kernel.fake import FakeFreezer, FakeKernel
from netlab.model import state
from netlab.model.records import ContainerRec, from_json, to_json
from tests.unit.test_model_on_fake_kernel import d, fails, lab_of, needs_busybox

CGROUPS = "/sys/fs/cgroup/freezer/netlab"


def _cgroup(lab: str, cid: str) -> str:
    return f"{CGROUPS}/{lab}/{cid[:12]}"


def frozen(fake: FakeKernel) -> list[int]:
    """The pids of the fake's frozen processes."""
    return [p.pid for p in fake.processes if p.frozen]


def test_the_fake_freezer_has_the_real_signatures() -> None:
    fake = FakeKernel()
    for name in FakeFreezer.NAMES:
        real = inspect.signature(getattr(freezer, name)).parameters.values()
        mine = inspect.signature(getattr(fake.freezer, name)).parameters.values()
        assert [(p.name, p.kind, p.default) for p in mine] == [
            (p.name, p.kind, p.default) for p in real
        ], name


def test_pause_freezes_and_unpause_thaws(fake: FakeKernel) -> None:
    lab = lab_of("fk_pause")
    c = lab.host().run("ubuntu", "sleep infinity", name="web")
    assert d("pause web") == "web\n"
    assert fake.freezer.frozen() == {_cgroup("fk_pause", c.id): [c.record.pid]}
    assert frozen(fake) == [c.record.pid]
    assert c.running and c.paused and c.status == "paused"
    # docker ps: moby container/state.go State.String; inspect: State.StateString
    assert d("ps --format '{{.Status}}'").endswith(" (Paused)\n")
    assert d("ps").splitlines()[1].split("   ")[4].strip().endswith("(Paused)")
    assert d("ps --format '{{.State}}'") == "paused\n"
    assert d("ps -q --filter status=paused") == c.short_id + "\n"
    assert d("ps -q --filter status=running") == ""
    st = json.loads(d("inspect web"))[0]["State"]
    assert (st["Status"], st["Running"], st["Paused"]) == ("paused", True, True)
    assert "  Running: 0\n  Paused: 1\n  Stopped: 0\n" in d("info")
    assert d("container unpause web") == "web\n"
    assert fake.freezer.frozen() == {} and frozen(fake) == []
    st = json.loads(d("inspect web"))[0]["State"]
    assert (st["Status"], st["Running"], st["Paused"]) == ("running", True, False)
    assert "(Paused)" not in d("ps") and "  Running: 1\n  Paused: 0\n" in d("info")
    assert d("container pause web") == "web\n"  # (the alias) ... and the lab's removal
    lab.down()  # thaws and removes its cgroup (the fixture checks no process is left)
    assert fake.freezer.frozen() == {}


def test_dockers_messages_for_a_paused_container(fake: FakeKernel) -> None:
    lab = lab_of("fk_pausemsg")
    c = lab.host().run("ubuntu", "sleep infinity", name="web")
    lab.host().run("ubuntu", "true", name="done")
    cid = c.id
    d("pause web")
    # moby daemon/errors.go errNotPaused (named so, but it says "already paused")
    assert fails("pause web") == f"Error response from daemon: Container {cid} is already paused\n"
    # moby daemon/exec.go getActiveContainer -> errExecPaused(name): the name as typed
    assert fails("exec web true") == (
        "Error response from daemon: Container web is paused, unpause the container before exec\n"
    )
    assert fails(f"exec {cid[:5]} true").startswith(
        f"Error response from daemon: Container {cid[:5]} "
    )
    # moby daemon/start.go validateState
    assert fails("start web") == (
        "Error response from daemon: cannot start a paused container, try unpause instead\n"
    )
    # moby daemon/delete.go cleanupContainer, wrapped by containerRm with the name as given
    assert fails("rm web") == (
        'Error response from daemon: cannot remove container "web": container is paused and '
        "must be unpaused first\n"
    )
    assert c.paused  # (none of these changed anything)
    d("unpause web")
    # moby daemon/unpause.go
    assert fails("unpause web") == f"Error response from daemon: Container {cid} is not paused\n"
    # moby container/container.go GetRunningTask, reached first by daemon/pause.go
    done = lab.host().container("done")
    fake.exit(done.record.pid, 0)
    assert fails("pause done") == (
        f"Error response from daemon: container {done.id} is not running\n"
    )
    assert fails("pause nope") == "Error response from daemon: No such container: nope\n"
    assert fails("pause").startswith("docker: 'docker pause' requires at least 1 argument\n")


def test_rm_f_stop_and_kill_thaw_a_paused_container(fake: FakeKernel) -> None:
    lab = lab_of("fk_pausekill")
    host = lab.host()
    a = host.run("ubuntu", "sleep infinity", name="a1")
    b = host.run("ubuntu", "sleep infinity", name="b1")
    k = host.run("ubuntu", "sleep infinity", name="k1")
    assert d("pause a1 b1 k1") == "a1\nb1\nk1\n"
    assert len(fake.freezer.frozen()) == 3
    pid = a.record.pid
    # docker rm -f: SIGKILL, then thawed (a v1-frozen task dies only then: the fake too)
    assert d("rm -f a1") == "a1\n"
    assert not fake.proc.alive(pid)
    assert _cgroup("fk_pausekill", a.id) not in fake.freezer.frozen()
    # docker stop: the stop signal, then thawed: it ends (the fake ends on SIGTERM)
    assert d("stop b1") == "b1\n"
    assert b.status == "exited" and not b.record.paused and b.record.freezer == ""
    assert _cgroup("fk_pausekill", b.id) not in fake.freezer.frozen()
    # docker kill -s HUP, the image having no StopSignal: sent, then thawed (daemon/kill.go)
    assert d("kill -s HUP k1") == "k1\n"
    assert k.status == "exited" and not k.record.paused  # (thawed: SIGHUP ended it)
    assert fake.freezer.frozen() == {}
    assert frozen(fake) == []


@needs_busybox
def test_a_signal_that_is_not_the_stop_signal_waits_for_unpause(fake: FakeKernel) -> None:
    """nginx's StopSignal is SIGQUIT: ``kill -s HUP`` of a paused nginx leaves it paused with
    the signal pending (moby daemon/kill.go resumes only for the stop signal or SIGKILL)."""
    lab = lab_of("fk_pausehup")
    web = lab.host().run("nginx", name="web")
    d("pause web")
    d("kill -s HUP web")
    assert web.paused and web.running
    assert [p.pending for p in fake.processes if p.frozen] == [[1]]
    d("unpause web")  # thawed, the pending SIGHUP acts (the fake ends on it)
    assert web.status == "exited"


def test_the_paused_state_is_in_the_store(fake: FakeKernel) -> None:
    lab = lab_of("fk_pausestore")
    c = lab.host().run("ubuntu", "sleep infinity", name="web")
    d("pause web")
    rec = state.Store("fk_pausestore").containers()[c.id]  # (as a new process reads it)
    assert rec.paused and rec.freezer == _cgroup("fk_pausestore", c.id)
    assert rec.cgroup_origins == ((rec.pid, "/sys/fs/cgroup/freezer"),)
    # A record written before pause existed loads, not paused.
    old = {
        k: v for k, v in to_json(rec).items() if k not in ("paused", "freezer", "cgroup_origins")
    }
    assert from_json(ContainerRec, old).paused is False


def test_without_a_usable_freezer_pause_fails_in_one_line_and_leaves_nothing(
    fake: FakeKernel,
) -> None:
    lab = lab_of("fk_pausero")
    c = lab.host().run("ubuntu", "sleep infinity", name="web")
    fake.fail("freezer.freeze", errno.EROFS)
    out = docker("pause web")
    # moby daemon/pause.go: "cannot pause container %s: %s", the runtime's error after it
    assert out.code == 1 and out.stdout == ""
    assert out.stderr == (
        f"Error response from daemon: cannot pause container {c.id}: OCI runtime pause "
        "failed: no cgroup freezer netlab may use: /sys/fs/cgroup/freezer (cgroup v1 freezer) "
        "is read-only (run netlab as root with /sys/fs/cgroup mounted read-write, or in a "
        "delegated cgroup2 folder)\n"
    )
    assert fake.freezer.frozen() == {} and not c.paused and c.status == "running"
    assert frozen(fake) == []
    assert d("pause web") == "web\n"  # (the next one works)


def test_the_real_find_names_what_is_missing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path
) -> None:
    """The real module's choice of hierarchy, over a mount table of the test's (as root;
    rootless, the SIGSTOP stand-in comes last and is always usable)."""
    monkeypatch.setattr(userns, "inside", lambda: False)
    info = tmp_path / "mountinfo"
    info.write_text(
        "30 25 0:26 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer\n"
        "31 25 0:27 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n"
    )
    monkeypatch.setattr(freezer, "MOUNTINFO", str(info))
    assert [(h.version, h.mount) for h in freezer.hierarchies()] == [
        (1, "/sys/fs/cgroup/freezer"),
        (2, "/sys/fs/cgroup/unified"),
    ]
    monkeypatch.setattr(freezer, "_writable", lambda folder: folder.endswith("unified"))
    assert freezer.find().base == "/sys/fs/cgroup/unified"
    monkeypatch.setattr(freezer, "_writable", lambda folder: False)
    monkeypatch.setattr(freezer, "_read_only", lambda path: path.endswith("freezer"))
    monkeypatch.setattr(freezer, "_own_v2_cgroup", lambda: "")
    with pytest.raises(freezer.FreezerError) as err:
        freezer.find()
    assert str(err.value) == (
        "no cgroup freezer netlab may use: /sys/fs/cgroup/freezer (cgroup v1 freezer) is "
        "read-only and /sys/fs/cgroup/unified (cgroup2) is not writable by this user (run "
        "netlab as root with /sys/fs/cgroup mounted read-write, or in a delegated cgroup2 "
        "folder)"
    )
    info.write_text("")
    with pytest.raises(freezer.FreezerError, match="neither a cgroup v1 freezer"):
        freezer.find()


def test_rootless_without_a_writable_cgroup_pauses_with_signals(
    monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path
) -> None:
    info = tmp_path / "mountinfo"
    info.write_text("30 25 0:26 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer\n")
    monkeypatch.setattr(freezer, "MOUNTINFO", str(info))
    monkeypatch.setattr(userns, "inside", lambda: True)
    monkeypatch.setattr(freezer, "_writable", lambda folder: False)
    assert freezer.find() is freezer.SIGNALS
    monkeypatch.setattr(freezer, "_writable", lambda folder: True)  # (a delegated cgroup wins)
    assert freezer.find().version == 1
