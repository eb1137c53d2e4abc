"""The kernel layer on its own: no accidental namespaces, idempotence, asyncio, privileges."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from netlab.kernel import containers, netns, proc, rtnl, trace
from netlab.model import doctor

pytestmark = pytest.mark.root

NS = f"nl-kt{os.getpid()}-x"


@pytest.fixture
def scratch() -> object:
    netns.create(NS)
    yield NS
    rtnl.forget(NS)
    netns.delete(NS)


def test_a_missing_namespace_is_never_created() -> None:
    with pytest.raises(netns.NamespaceNotFound, match="does not exist"):
        rtnl.links("nl-nosuch-ns")
    with pytest.raises(netns.NamespaceNotFound):
        rtnl.add_bridge("nl-nosuch-ns", "br0")
    assert not os.path.exists("/run/netns/nl-nosuch-ns")


def test_create_and_delete_are_idempotent(scratch: str) -> None:
    assert netns.create(scratch) is False
    rtnl.add_bridge(scratch, "br0")
    rtnl.add_bridge(scratch, "br0")  # EEXIST with the same spec is accepted
    rtnl.add_addr(scratch, "br0", "10.9.0.1/24")
    rtnl.add_addr(scratch, "br0", "10.9.0.1/24")
    assert [a.cidr for a in rtnl.addrs(scratch) if a.ifname == "br0"] == ["10.9.0.1/24"]
    rtnl.delete_link(scratch, "br0")
    rtnl.delete_link(scratch, "br0")  # gone already: fine
    assert netns.delete("nl-never-existed") is False


def test_veth_peer_is_born_in_its_namespace_and_traced(scratch: str) -> None:
    other = NS + "b"
    netns.create(other)
    try:
        with trace.recording() as lines:
            rtnl.add_veth(
                scratch, "va", peer_ns=other, peer_name="vb", peer_mac="02:42:0a:00:00:02"
            )
        assert lines == [
            f"ip -n {scratch} link add va mtu 1500 type veth peer name vb netns "
            f"{other} address 02:42:0a:00:00:02"
        ]
        a = next(lk for lk in rtnl.links(scratch) if lk.name == "va")
        b = next(lk for lk in rtnl.links(other) if lk.name == "vb")
        assert a.peer_index == b.index and b.peer_index == a.index
        assert b.mac == "02:42:0a:00:00:02"
    finally:
        rtnl.forget(other)
        netns.delete(other)


def test_fast_name_dump_agrees_with_pyroute2(scratch: str) -> None:
    # Enough links for the dump to span several netlink messages.
    for i in range(60):
        rtnl.add_bridge(scratch, f"brdump{i}")
    fast = rtnl.link_indexes(scratch)
    assert len(fast) == 61
    assert fast == {lk.name: lk.index for lk in rtnl.links(scratch)}


def test_new_namespace_settings_run_inside_it_and_a_failure_leaves_nothing(scratch: str) -> None:
    other = NS + "c"
    try:
        assert netns.create(other, inside=rtnl.loopback_up_here)
        assert next(lk for lk in rtnl.links(other) if lk.name == "lo").up
        assert not next(lk for lk in rtnl.links(scratch) if lk.name == "lo").up
    finally:
        rtnl.forget(other)
        netns.delete(other)

    def broken() -> None:
        raise OSError(5, "settings failed")

    with pytest.raises(OSError, match="settings failed"):
        netns.create(other, inside=broken)
    assert not os.path.exists(netns.path(other))


def test_an_init_being_born_can_be_aborted_by_namespace(scratch: str, tmp_path: Path) -> None:
    # A rollback that lost its Starting (Ctrl-C at the wrong moment) still finds the init.
    starting = containers.start(
        scratch,
        ["sleep", "60"],
        exit_file=str(tmp_path / "e"),
        log_file=str(tmp_path / "l"),
        log_limits=(1000, 1),
    )
    pid = starting.child.pid
    assert proc.alive(pid)
    containers.abort_births(scratch)
    assert not proc.alive(pid)
    assert not [b for b in containers._births.values() if b.ns == scratch]


def test_etc_files_that_the_machine_lacks(scratch: str, tmp_path: Path) -> None:
    log = str(tmp_path / "log")
    with pytest.raises(RuntimeError, match="no /etc/netlab-nosuch to mount it over"):
        containers.start(
            scratch,
            ["true"],
            binds={"/etc/netlab-nosuch": "/etc/hostname"},
            exit_file=log + ".exit",
            log_file=log,
            log_limits=(1000, 1),
        )
    # The `ip netns exec` way (files under /etc/netns/NS): a missing target is skipped.
    netns.write_etc(scratch, {"netlab-nosuch": "x\n", "hostname": "inside\n"})
    try:
        pid, _ = containers.spawn(scratch, ["cat", "/etc/hostname"], log_file=log)
        proc.reap(pid)
        with open(log) as f:
            assert f.read() == "inside\n"
    finally:
        netns.remove_etc(scratch)


def test_kernel_errors_name_the_request(scratch: str) -> None:
    with pytest.raises(rtnl.KernelError, match=r"ip link set nothere up.*No such device"):
        rtnl.set_link(scratch, "nothere", up=True)


def test_works_inside_a_running_asyncio_loop(scratch: str) -> None:
    # Every Jupyter cell runs inside an asyncio loop; pyroute2's sync API fails there
    # (pyroute2 issue 1342) unless netlab keeps it on its own thread.
    async def cell() -> list[str]:
        rtnl.add_bridge(scratch, "brloop")
        return [lk.name for lk in rtnl.links(scratch)]

    assert "brloop" in asyncio.run(cell())


def _machine_forwarding() -> str:
    with open("/proc/sys/net/ipv4/ip_forward") as f:
        return f.read().strip()


def test_sysctls_are_per_namespace(scratch: str) -> None:
    machine = _machine_forwarding()
    flipped = "0" if machine == "1" else "1"
    rtnl.sysctl(scratch, "net.ipv4.ip_forward", flipped)
    assert rtnl.read_sysctl(scratch, "net.ipv4.ip_forward") == flipped
    assert _machine_forwarding() == machine


TRY_LAB = (
    "from netlab import Lab\n"
    "try:\n    Lab('np')\n"
    "except Exception as e:\n    print(type(e).__name__, e)\n"
)


def _python_as(argv_prefix: list[str], code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*argv_prefix, sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )


def test_refuses_without_root() -> None:
    out = _python_as(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"], TRY_LAB)
    # (Not root, and not inside rootless netlab either: a plain Python of another user.)
    where = doctor.runtime()
    if where == "machine":
        assert out.stdout.startswith("PrivilegeError netlab is not running as root"), out
    else:  # (in a container: its flag for running as root, first)
        said = f"netlab needs root, and this {doctor.RUNTIME_NAMES[where]} runs as uid 65534"
        assert out.stdout.startswith(f"PrivilegeError {said}"), out
        assert doctor.fix("root", where) in out.stdout
    assert "netlab shell" in out.stdout and "./run.sh labs" in out.stdout
    assert out.stdout.count("\n") == 1
    assert not os.path.exists("/run/netlab/np")


def test_refuses_without_cap_sys_admin_and_doctor_says_so() -> None:
    drop = ["setpriv", "--bounding-set=-sys_admin", "--inh-caps=-sys_admin"]
    out = _python_as(drop, TRY_LAB)
    assert "lacks CAP_SYS_ADMIN" in out.stdout and doctor.fix("CAP_SYS_ADMIN") in out.stdout, out
    doc = subprocess.run(
        [*drop, sys.executable, "-m", "netlab", "doctor"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert doc.returncode == 1
    assert "FAIL CAP_SYS_ADMIN" in doc.stdout and "--privileged" in doc.stdout, doc.stdout


def test_missing_tool_is_named_with_its_package() -> None:
    code = (
        "import os\nos.environ['PATH'] = '/nonexistent'\nfrom netlab import Lab\n"
        "try:\n Lab('np')\nexcept Exception as e: print(type(e).__name__, e)"
    )
    out = _python_as([], code)
    # (netlab adds the sbin folders to PATH itself, where ip and nft are: the tools of
    # /usr/bin are what it misses now)
    assert out.stdout.startswith("ToolMissing netlab needs nsenter, unshare, busybox"), out
    assert "apt-get install -y util-linux busybox" in out.stdout


def test_etc_netns_is_removed_only_if_netlab_made_it() -> None:
    import shutil

    had = os.path.isdir(netns.ETC_DIR)
    try:
        netns.write_etc("nl-etctest-a", {"hosts": "x\n"})
        netns.remove_etc("nl-etctest-a")
        assert os.path.isdir(netns.ETC_DIR) == had, "netlab's own /etc/netns should go"
        os.makedirs(netns.ETC_DIR, exist_ok=True)  # now somebody else's
        netns.write_etc("nl-etctest-b", {"hosts": "x\n"})
        netns.remove_etc("nl-etctest-b")
        assert os.path.isdir(netns.ETC_DIR), "a /etc/netns netlab did not make must stay"
    finally:
        if not had:
            shutil.rmtree(netns.ETC_DIR, ignore_errors=True)
