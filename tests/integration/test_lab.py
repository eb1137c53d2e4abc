"""The lab sandbox: built from real namespaces, rebuilt cleanly, removed exactly."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys

import pytest

from netlab import Lab, NoSuchLab
from netlab.kernel import netns, proc, rtnl
from netlab.model import state, topology
from netlab.model.lab import wipe

pytestmark = pytest.mark.root


def ns_list() -> list[str]:
    return subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout


def test_lab_builds_lan_internet_and_host(lab: Lab) -> None:
    names = lab.namespaces()
    assert sorted(names) == sorted(
        topology.ns_name(lab.name, p) for p in ("lan", "inet", "client", "host")
    )
    listed = ns_list()
    for n in names:
        assert n in listed, f"`ip netns list` does not show {n}: {listed}"
    host = lab.host()
    links = {lk.name: lk for lk in rtnl.links(host.ns)}
    assert links["docker0"].kind == "bridge" and links["docker0"].up
    assert links["eth0"].kind == "veth"
    addrs = {a.ifname: a.cidr for a in rtnl.addrs(host.ns)}
    assert addrs["docker0"] == "172.17.0.1/16"
    assert addrs["eth0"] == "192.168.56.11/24"
    assert rtnl.read_sysctl(host.ns, "net.ipv4.ip_forward") == "1"


def test_host_reaches_the_simulated_internet_by_name(lab: Lab) -> None:
    r = lab.host().exec(["ping", "-c", "1", "-W", "2", topology.WEB_SITE_NAME])
    assert r.ok, r
    assert f"from {topology.WEB_SITE_IP}" in r.stdout, r
    page = lab.host().exec(["curl", "-s", "-m", "3", f"http://{topology.WEB_SITE_NAME}/"])
    assert "DockerCon" in page.stdout, page


def test_host_has_its_own_hostname(lab: Lab) -> None:
    assert lab.host().exec("hostname").stdout.strip() == "host"


def test_nothing_reaches_beyond_the_sandbox(lab: Lab) -> None:
    # A documentation address with no server in the lab, and the machine's loopback-free world:
    # the lab's routers have no route out, so the kernel refuses at once.
    r = lab.host().exec(["ping", "-c", "1", "-W", "1", "192.0.2.1"])
    assert not r.ok, r


def test_restart_under_same_name_removes_leftovers(make_lab) -> None:  # type: ignore[no-untyped-def]
    first = make_lab()
    c = first.host().run("ubuntu", "sleep infinity")
    pid = c.pid
    started = proc.start_time(pid)
    second = make_lab(name=first.name)
    assert not proc.alive(pid, started), "the earlier run's container process survived"
    assert second.host().containers(all=True) == []
    assert sorted(second.namespaces()) == sorted(
        topology.ns_name(first.name, p) for p in ("lan", "inet", "client", "host")
    )


def test_down_leaves_nothing_and_is_idempotent(make_lab) -> None:  # type: ignore[no-untyped-def]
    lab = make_lab(hosts=("node1", "node2"))
    lab.host("node1").run("ubuntu", "sleep infinity")
    lab.host("node2").run("nginx")
    prefix = topology.ns_prefix(lab.name)
    lab.down()
    lab.down()
    assert not [n for n in netns.names() if n.startswith(prefix)]
    assert not [n for n in netns.etc_names() if n.startswith(prefix)]
    assert not os.path.exists(f"/run/netlab/{lab.name}")
    assert not lab.is_up


def test_two_labs_run_side_by_side(make_lab) -> None:  # type: ignore[no-untyped-def]
    a = make_lab()
    b = make_lab()
    ca = a.host().run("ubuntu", "sleep infinity", name="same")
    cb = b.host().run("ubuntu", "sleep infinity", name="same")
    assert ca.ip == cb.ip == "172.17.0.2"
    assert ca.ns != cb.ns
    a.down()
    assert cb.running
    assert cb.exec(["ping", "-c", "1", "-W", "2", "172.17.0.1"]).ok


def test_attach_from_another_process_sees_the_same_lab(lab: Lab) -> None:
    c = lab.host().run("ubuntu", "sleep infinity", name="shared")
    code = (
        "from netlab import Lab;"
        f"lab = Lab.attach({lab.name!r});"
        "c = lab.host().container('shared');"
        "print(c.id, c.ip)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.split() == [c.id, c.ip], out


def test_attach_unknown_lab_is_a_clear_error() -> None:
    with pytest.raises(NoSuchLab, match="netlab up nolabhere"):
        Lab.attach("nolabhere")


def test_wipe_of_an_unknown_lab_is_harmless() -> None:
    assert wipe("neverbuilt") == {"namespaces": 0, "processes": 0, "unpinned": ()}


def fs_type(path: str) -> str:
    with open("/proc/self/mountinfo") as f:
        rows = [line.split() for line in f]
    # fields: ... mount point (5th) ... " - " fstype
    return next((r[r.index("-") + 1] for r in reversed(rows) if r[4] == path), "")


def test_state_lives_on_a_tmpfs_of_its_own_while_a_lab_exists(lab: Lab) -> None:
    assert fs_type(state.ROOT) == "tmpfs"
    assert os.path.isdir(state.lab_dir(lab.name))


def test_state_tmpfs_comes_and_goes_and_spares_a_folder_in_use(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root = f"/run/netlab-test-{os.getpid()}"
    monkeypatch.setattr(state, "ROOT", root)
    try:
        with state._machine_lock():
            state._mount_root()
        assert fs_type(root) == "tmpfs"
        with state._machine_lock():
            state._unmount_root()
        assert not os.path.exists(root) and fs_type(root) == ""
        # A plain folder that already holds something is used as it is, never hidden.
        os.makedirs(f"{root}/old-lab")
        with state._machine_lock():
            state._mount_root()
        assert fs_type(root) == "" and os.listdir(root) == ["old-lab"]
    finally:
        if fs_type(root):
            subprocess.run(["umount", "-l", root], check=False)
        subprocess.run(["rm", "-rf", root], check=False)


def test_a_labs_servers_do_not_hold_what_the_caller_was_given(make_lab, tmp_path) -> None:  # type: ignore[no-untyped-def]
    # `flock LOCK python ...` gives its python the lock's fd: a lab's long-lived processes
    # (the embedded DNS server, the internet's web server) must not keep it, or a lab left
    # up holds the lock for ever.
    held = os.open(tmp_path / "lock", os.O_CREAT | os.O_RDWR)
    os.set_inheritable(held, True)
    try:
        lab = make_lab()
        with open(lab.store.path(f"dns-{lab.host().name}.pid")) as f:
            pid = int(f.read().split()[0])
        fds = []
        for n in os.listdir(f"/proc/{pid}/fd"):
            with contextlib.suppress(FileNotFoundError):  # (one it closed meanwhile)
                fds.append(os.readlink(f"/proc/{pid}/fd/{n}"))
        assert str(tmp_path / "lock") not in fds, fds
    finally:
        os.close(held)
