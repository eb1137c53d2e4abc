"""Faults a classroom produces: Ctrl-C in the middle of commands, namespaces deleted by hand,
notebooks run twice, and a look at what a lab could reach."""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable

import pytest

from netlab import Lab, LabBroken
from netlab.docker import docker, use
from netlab.kernel import batch, netns, rtnl
from netlab.model import topology

pytestmark = pytest.mark.root


def state(lab: Lab) -> tuple[object, ...]:
    batch(lambda: None)  # kernel jobs still queued (a namespace being made) are done first
    hosts = lab.hosts
    return (
        sorted(lab.namespaces()),
        [sorted(lk.name for lk in rtnl.links(h.ns)) for h in hosts],
        [re.sub(r"packets \d+ bytes \d+", "", h.ruleset()) for h in hosts],
        sorted(lab.store.containers()),
        [sorted(n.name for n in h.networks()) for h in hosts],
        sorted(netns.etc_names()),
    )


def interrupt_after(monkeypatch: pytest.MonkeyPatch, target: object, name: str) -> None:
    """Make ``target.name`` do its real work, then raise KeyboardInterrupt (the stop button)."""
    real = getattr(target, name)

    def wrapped(*a: object, **k: object) -> object:
        real(*a, **k)
        raise KeyboardInterrupt

    monkeypatch.setattr(target, name, wrapped)


@pytest.mark.parametrize(
    ("where", "attr", "command"),
    [
        # (while the container's namespace is still being made on the kernel thread)
        ("netlab.model.lifecycle", "_attach_endpoints", "run -d --name x1 ubuntu sleep infinity"),
        ("netlab.kernel.rtnl", "add_veth", "run -d --name x1 ubuntu sleep infinity"),
        ("netlab.kernel.containers.Starting", "go", "run -d --name x1 ubuntu sleep infinity"),
        ("netlab.model.networks", "endpoints_changed", "run -d --name x1 ubuntu sleep infinity"),
        ("netlab.model.networks", "apply_firewall", "run -d --name x1 -p 8080:80 nginx"),
        ("netlab.model.embedded_dns", "attach", "run -d --name x1 --network mynet ubuntu sleep 99"),
        ("netlab.kernel.xtables", "restore", "run -d --name x1 --network mynet ubuntu sleep 99"),
    ],
)
def test_ctrl_c_leaves_nothing_half_built(
    lab: Lab, monkeypatch: pytest.MonkeyPatch, where: str, attr: str, command: str
) -> None:
    import importlib

    use(lab)
    docker("run -d --name keep ubuntu sleep infinity")
    if "--network mynet" in command:
        docker("network create mynet")
    before = state(lab)
    mod_name, _, cls = where.partition(".Starting")
    target = importlib.import_module(mod_name)
    if cls or where.endswith("Starting"):
        target = target.Starting
    interrupt_after(monkeypatch, target, attr)
    with pytest.raises(KeyboardInterrupt):
        docker(command)
    monkeypatch.undo()
    assert state(lab) == before, f"Ctrl-C in {attr} left something behind"
    # ...and the lab is still usable for the same command.
    assert docker(command).code == 0
    assert docker("exec keep ping -c 1 -W 2 172.17.0.1").code == 0


def test_ctrl_c_in_swarm_join_and_service_create(
    make_lab,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from netlab.model import cluster, swarm

    lab = make_lab(hosts=("node1", "node2"))
    use(lab)
    token = re.search(r"--token (\S+)", docker("-H node1 swarm init").stdout).group(1)  # type: ignore[union-attr]
    state(lab)
    interrupt_after(monkeypatch, swarm, "_ensure_gwbridge")
    with pytest.raises(KeyboardInterrupt):
        docker(f"-H node2 swarm join --token {token} 192.168.56.11:2377")
    monkeypatch.undo()
    assert cluster.role(lab.host("node2")) is None
    docker(f"-H node2 swarm join --token {token} 192.168.56.11:2377")
    docker("-H node1 network create -d overlay overnet")
    state(lab)
    from netlab.model.drivers import overlay

    interrupt_after(monkeypatch, overlay, "ensure_sandbox")
    with pytest.raises(KeyboardInterrupt):
        docker("-H node1 service create --name s --network overnet --replicas 2 alpine sleep 60")
    monkeypatch.undo()
    assert not [c for h in lab.hosts for c in h.containers(all=True)]
    assert (
        docker(
            "-H node1 service create --name s2 --network overnet --replicas 2 alpine sleep 60"
        ).code
        == 0
    )


def test_a_namespace_deleted_by_hand(lab: Lab) -> None:
    use(lab)
    docker("run -d --name c1 ubuntu sleep infinity")
    subprocess.run(["ip", "netns", "del", lab.host().ns], check=True)
    with pytest.raises(LabBroken, match="is gone"):
        lab.host().run("ubuntu", "sleep infinity")
    out = docker("run -d ubuntu sleep infinity")
    assert out.code == 125 and "is gone" in out.stderr and "Traceback" not in out.stderr
    out = subprocess.run(
        [sys.executable, "-m", "netlab", "clean", lab.name], capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert not lab.namespaces()


def test_nothing_outside_the_sandbox_is_reachable_or_linked(lab: Lab) -> None:
    use(lab)
    docker("run -d --name c1 ubuntu sleep infinity")
    c = lab.host().container("c1")
    for who in (c.exec, lab.host().exec):
        for addr in ("192.0.2.1", "203.0.113.77"):  # documentation addresses, nobody there
            r = who(["ping", "-c", "1", "-W", "1", addr])
            assert not r.ok, (addr, r)
    # Structurally: every veth's peer is in one of the lab's own namespaces.
    mine = set(lab.namespaces())
    st = os.stat("/proc/self/ns/net")  # this test runs in the machine's own namespace
    machine = netns.NsId(st.st_dev, st.st_ino)
    assert machine not in {netns.ident(n) for n in mine}
    for ns in mine:
        for lk in rtnl.links(ns):
            if lk.kind == "veth" and lk.peer_netnsid is not None:
                peers = [o for o in mine if rtnl.nsid_of(ns, o) == lk.peer_netnsid]
                assert peers, f"{ns}:{lk.name} has a peer outside the lab"


def test_every_lab_notebook_runs_twice_in_a_row() -> None:
    import glob
    import os

    import nbformat
    from nbclient import NotebookClient

    root = os.path.join(os.path.dirname(__file__), "..", "..", "labs")
    for path in sorted(glob.glob(os.path.join(root, "0*.ipynb"))):
        nb = nbformat.read(path, as_version=4)
        doubled = nbformat.v4.new_notebook(metadata=nb.metadata)
        doubled.cells = [*nb.cells, *[nbformat.from_dict(dict(c)) for c in nb.cells]]
        for cell in doubled.cells:
            if cell.cell_type == "code":
                cell.outputs = []
        NotebookClient(
            doubled, timeout=120, kernel_name="python3", resources={"metadata": {"path": root}}
        ).execute()
        errors = [
            o
            for c in doubled.cells
            if c.cell_type == "code"
            for o in c.outputs
            if o.output_type == "error"
        ]
        assert not errors, (path, errors)
    labs = {f"lab{i}" for i in range(6)}
    assert not [n for n in netns.names() if topology.lab_of_ns(n) in labs]


@pytest.mark.parametrize(
    ("backend", "says"),
    [
        ("nftables", "nft is not installed (Debian/Ubuntu: apt-get install -y nftables)"),
        ("iptables", "is not installed (Debian/Ubuntu: apt-get install -y iptables)"),
    ],
)
def test_a_missing_firewall_tool_is_one_line_that_says_what_to_install(
    make_lab: Callable[..., Lab], monkeypatch: pytest.MonkeyPatch, backend: str, says: str
) -> None:
    from netlab.kernel import nft
    from netlab.model import doctor

    lab = make_lab(firewall_backend=backend)
    use(lab)
    before = state(lab)

    def no_nft(*args: object, **kwargs: object) -> object:
        raise FileNotFoundError(2, "No such file or directory", "nft")

    monkeypatch.setattr(nft.subprocess, "run", no_nft)
    for line in ("network create n1", "run -d --name web -p 8080:80 nginx"):
        out = docker(line)
        assert out.code != 0 and "Traceback" not in out.stderr, out.stderr
        assert says in out.stderr, out.stderr
        assert out.stderr.count("\n") <= 3, out.stderr  # (docker run adds its --help line)
    checks = {c.name: c for c in doctor.probe_features()}
    assert checks["kernel: nf_tables NAT"].fix == "install nftables (apt-get install -y nftables)"
    monkeypatch.undo()
    assert state(lab) == before


def test_the_leftover_of_an_interrupted_run_is_removed_by_the_next(lab: Lab) -> None:
    from netlab.model import ids

    use(lab)
    host = lab.host()
    cid = ids.object_id(lab.name, "container", lab.store.peek_counter("container") + 1)
    eid = ids.object_id(lab.name, "endpoint", lab.store.peek_counter("endpoint") + 1)
    ns = topology.ns_name(lab.name, ids.short_id(cid))
    netns.create(ns)  # what a docker run killed at about 0.17 s leaves: a namespace, a wire
    rtnl.add_veth(host.ns, ids.veth_name(eid), peer_ns=ns, peer_name="eth0")
    out = docker("run -d --name again ubuntu sleep infinity")
    assert out.code == 0 and out.stdout.strip() == cid, out
    c = host.container("again")
    assert c.ns == ns and c.exec("ping -c 1 -W 2 172.17.0.1").ok


def processes_in(ident: netns.NsId) -> list[int]:
    """Processes whose network namespace is ``ident`` (valid while one of them holds it)."""
    return sorted(netns.pids_in({ident}))


def test_processes_of_a_namespace_whose_pin_was_deleted_are_stopped(lab: Lab) -> None:
    # The case: `ip netns del` of a running container's namespace, then down/clean.
    use(lab)
    docker("run -d --name victim busybox sleep 4242")
    ns = lab.host().container("victim").ns
    ident = netns.ident(ns)
    assert processes_in(ident)
    subprocess.run(["ip", "netns", "del", ns], check=True)
    assert not netns.exists(ns) and processes_in(ident)  # (it runs on, out of sight)
    out = subprocess.run(
        [sys.executable, "-m", "netlab", "clean", lab.name], capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert f"stopped the processes of {ns}, whose name had been deleted" in out.stdout
    assert processes_in(ident) == []


def test_a_rm_f_finds_a_container_whose_pin_was_deleted(lab: Lab) -> None:
    use(lab)
    docker("run -d --name victim busybox sleep 4242")
    c = lab.host().container("victim")
    ident = netns.ident(c.ns)
    docker("exec -d victim sleep 4343")  # (not in the container's process group)
    subprocess.run(["ip", "netns", "del", c.ns], check=True)
    assert docker("rm -f victim").code == 0
    assert processes_in(ident) == []


def test_a_process_that_forks_while_the_lab_goes_down_leaves_no_child(lab: Lab) -> None:
    # Shells that keep starting children while the lab goes down: none may survive. (The
    # race itself, a child born between a scan of /proc and the kill, is made certain in
    # the fake-kernel test test_a_child_born_between_the_scan_and_the_kill_is_found.)
    use(lab)
    loop = "i=0; while [ $i -lt 3000 ]; do sleep 1001 & i=$((i+1)); done; wait"
    script = f"for j in 1 2 3 4; do ({loop}) & done; wait"
    docker(["run", "-d", "--name", "forker", "busybox", "sh", "-c", script])
    ident = netns.ident(lab.host().container("forker").ns)
    deadline = time.monotonic() + 5
    while len(processes_in(ident)) < 50 and time.monotonic() < deadline:
        time.sleep(0.01)
    lab.down()
    assert processes_in(ident) == []


def test_a_stale_ledger_line_never_stops_another_namespaces_processes(lab: Lab) -> None:
    # The kernel reuses a dead namespace's inode number: a ledger line of the lab that names
    # the inode of some other namespace (here another lab's container) must not match it.
    from netlab.model import sweep
    from netlab.model.state import ledger_path

    other = Lab(f"{lab.name}o")
    try:
        bystander = other.host().run("busybox", "sleep 4444")
        ident = netns.ident(bystander.ns)
        with open(ledger_path(lab.name), "a") as f:
            f.write(f"{topology.ns_name(lab.name, 'ghost')} {ident.dev} {ident.ino} 12345\n")
        assert sweep.stop_processes(lab.name).unpinned == ()
        assert processes_in(ident) and bystander.running
        lab.down()
        assert processes_in(ident) and bystander.running
    finally:
        other.down()


def test_a_full_state_is_one_line_and_rm_f_and_down_still_work(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from netlab.model import state

    assert state.lab_names() == [], "(the state tmpfs must be made afresh for this test)"
    monkeypatch.setattr(state, "TMPFS_OPTIONS", "mode=0755,size=2m")
    lab = Lab("zqfull")
    filler = os.path.join(state.ROOT, "filler")
    try:
        use(lab)
        assert docker("run -d --name c1 busybox sleep 100").code == 0
        subprocess.run(["dd", "if=/dev/zero", f"of={filler}", "bs=64k"], capture_output=True)
        assert os.statvfs(state.ROOT).f_bavail == 0
        out = docker("run -d --name c2 busybox sleep 100")
        assert out.code == 125 and out.stderr.count("\n") == 1, out.stderr
        assert "No space left on device" in out.stderr and "netlab down LAB" in out.stderr
        assert "c2" not in docker("ps -a").stdout  # (nothing half-made)
        assert docker("rm -f c1").code == 0 and docker("ps -aq").stdout == ""
        lab.down()
        assert not lab.namespaces()
    finally:
        lab.down()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(filler)
        state.release_root()
