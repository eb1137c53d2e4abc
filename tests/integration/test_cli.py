"""The ``netlab`` command, run as a student types it, in a separate process."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator

import pytest

from netlab import Lab
from netlab.kernel import netns, proc
from netlab.model import topology
from netlab.model.lab import wipe

pytestmark = pytest.mark.root


def netlab(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "netlab", *args], capture_output=True, text=True, timeout=60
    )
    if check:
        assert done.returncode == 0, f"netlab {' '.join(args)}: {done.stdout}{done.stderr}"
    return done


@pytest.fixture
def cli_lab() -> Iterator[str]:
    name = f"cli{os.getpid() % 100000}"
    yield name
    wipe(name)


def test_up_exec_ls_down(cli_lab: str) -> None:
    out = netlab("up", cli_lab, "--hosts", "node1,node2").stdout
    assert "node1 at 192.168.56.11" in out and "node2 at 192.168.56.12" in out
    r = netlab("exec", "-L", cli_lab, "node1", "--", "ip", "-br", "addr", "show", "eth0")
    assert "192.168.56.11/24" in r.stdout
    r = netlab("exec", "-L", cli_lab, "node1", "--", "ping", "-c", "1", "-W", "2", "192.168.56.12")
    assert "1 received" in r.stdout
    assert (
        "203.0.113.1/24" in netlab("exec", "-L", cli_lab, "lan", "--", "ip", "-br", "addr").stdout
    )
    ls = netlab("ls").stdout
    assert f"lab {cli_lab}" in ls and "host node1" in ls and "host node2" in ls
    netlab("down", cli_lab)
    assert not [n for n in netns.names() if n.startswith(topology.ns_prefix(cli_lab))]
    assert f"lab {cli_lab}" not in netlab("ls").stdout


def test_exec_into_a_container_and_its_exit_status(cli_lab: str) -> None:
    from netlab import Lab

    netlab("up", cli_lab)
    c = Lab.attach(cli_lab).host().run("ubuntu", "sleep infinity", name="web1")
    r = netlab("exec", "-L", cli_lab, "web1", "--", "ping", "-c", "1", "-W", "2", "172.17.0.1")
    assert "1 received" in r.stdout
    assert netlab("exec", "-L", cli_lab, c.short_id, "--", "hostname").stdout.strip() == c.short_id
    r = netlab("exec", "-L", cli_lab, "web1", "--", "sh", "-c", "exit 7", check=False)
    assert r.returncode == 7
    assert "web1" in netlab("ls").stdout


def test_errors_are_one_line_and_exit_1(cli_lab: str) -> None:
    r = netlab("exec", "-L", "nolab", "host", "--", "true", check=False)
    assert r.returncode == 1 and r.stderr.startswith("netlab: no lab named 'nolab'")
    assert "Traceback" not in r.stderr
    r = netlab("up", "Bad-Name", check=False)
    assert r.returncode == 1 and "invalid lab name" in r.stderr
    netlab("up", cli_lab)
    r = netlab("exec", "-L", cli_lab, "ghost", "--", "true", check=False)
    # (moby v28.5.2 daemon/errors.go objNotFoundError; the rest are netlab's own words)
    assert r.returncode == 1 and "No such container: ghost" in r.stderr
    r = netlab("up", cli_lab, "--hosts", "lan", check=False)
    assert r.returncode == 1 and "reserved" in r.stderr


def test_clean_all_finds_labs_by_their_namespaces(cli_lab: str) -> None:
    netlab("up", cli_lab)
    import shutil

    # State lost (`rm -rf`, which cannot remove the logs' mount point): only the kernel knows
    # the lab now.
    shutil.rmtree(f"/run/netlab/{cli_lab}", ignore_errors=True)
    assert not os.path.exists(f"/run/netlab/{cli_lab}/lab.json")
    out = netlab("ls").stdout
    assert f"{cli_lab}: leftover state without a lab record" in out, out
    assert f"cleaned {cli_lab}: 4 namespaces" in netlab("clean", "--all").stdout
    assert not [n for n in netns.names() if n.startswith(topology.ns_prefix(cli_lab))]
    assert not os.path.exists(f"/run/netlab/{cli_lab}")


def test_doctor_reports_ready() -> None:
    r = netlab("doctor")
    assert "netlab is ready" in r.stdout
    for check in (
        "CAP_NET_ADMIN",
        "CAP_SYS_ADMIN",
        "kernel: vxlan",
        "kernel: nf_tables NAT",
        "tool: nft",
    ):
        assert check in r.stdout
    assert re.search(r"^ok   driver: macvlan +available$", r.stdout, re.M), r.stdout
    # run.sh installs nginx: the nginx image is the machine's nginx.
    assert re.search(r"^ok   image: nginx +the machine's nginx/1\.\d+", r.stdout, re.M), r.stdout
    # ipvlan is optional: listed either way, never counted as a problem.
    assert re.search(
        r"^(ok   driver: ipvlan +available|n/a  driver: ipvlan +unavailable \(Operation not "
        r"supported\): -d ipvlan needs a kernel with CONFIG_IPVLAN)$",
        r.stdout,
        re.M,
    ), r.stdout
    assert not [n for n in netns.names() if n.startswith("nl-doctor")]


def test_clean_after_a_killed_kernel_leaves_nothing(cli_lab: str) -> None:
    # A "notebook kernel" builds a lab and containers, then is killed with SIGKILL mid-way.
    script = (
        "import sys\n"
        "from netlab import Lab\n"
        f"lab = Lab({cli_lab!r}, hosts=('node1', 'node2'))\n"
        "for i in range(200):\n"
        "    lab.host('node1').run('ubuntu', 'sleep infinity')\n"
        "    if i == 3:\n"
        "        print('building', flush=True)\n"
    )
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "building"
    time.sleep(0.05)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    prefix = topology.ns_prefix(cli_lab)
    assert [n for n in netns.names() if n.startswith(prefix)], "the kill left a lab behind"
    inside = netns.pids_in({netns.ident(n) for n in netns.names() if n.startswith(prefix)})
    left = {pid: proc.start_time(pid) for pid in inside}
    assert left, "container processes outlive the killed kernel"
    # `netlab clean --all` would do the same for every lab; naming the lab keeps this test
    # from touching labs of anyone else on the machine.
    out = netlab("clean", cli_lab).stdout
    assert f"cleaned {cli_lab}" in out
    assert not [n for n in netns.names() if n.startswith(prefix)]
    assert not [n for n in netns.etc_names() if n.startswith(prefix)]
    assert not os.path.exists(f"/run/netlab/{cli_lab}")
    assert not [p for p, started in left.items() if started and proc.alive(p, started)]
    assert "0 namespaces, 0 processes" in netlab("clean", cli_lab).stdout


def test_no_traceback_reaches_the_terminal(cli_lab: str) -> None:
    netlab("up", cli_lab)
    # A reader that leaves early (`| head -1`): no BrokenPipeError traceback.
    done = subprocess.run(
        f"{sys.executable} -m netlab ls | head -c 1 >/dev/null; echo ${{PIPESTATUS[0]}}",
        shell=True,
        executable="/bin/bash",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "Traceback" not in done.stderr and "Error" not in done.stderr, done.stderr
    assert done.stdout.strip() in ("0", "141"), done.stdout
    # A file that cannot be written: the OS's words, one line.
    bad = netlab("draw", "-L", cli_lab, "-o", "/nonexistent/dir/x.png", check=False)
    assert bad.returncode == 1 and "Traceback" not in bad.stderr, bad.stderr
    assert bad.stderr == "netlab: No such file or directory: /nonexistent/dir/x.png\n"


def test_ls_marks_a_lab_that_is_not_whole(cli_lab: str) -> None:
    netlab("up", cli_lab)
    assert f"lab {cli_lab}: 4 namespaces\n" in netlab("ls").stdout
    subprocess.run(["ip", "netns", "del", topology.ns_name(cli_lab, "host")], check=True)
    out = netlab("ls").stdout
    assert (
        f"lab {cli_lab}: 3 namespaces, incomplete (missing namespace "
        f"{topology.ns_name(cli_lab, 'host')}): run `netlab clean {cli_lab}`"
    ) in out, out


def test_one_name_is_one_lab_under_concurrent_ups(cli_lab: str) -> None:
    # The loop: two `netlab up` of one name at once. One builds the lab, the other
    # waits for it and says, in one line, that the lab is up; never a traceback, never two.
    for _ in range(3):
        cmd = [sys.executable, "-m", "netlab", "up", cli_lab]
        runs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)]
        runs.append(
            subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        )
        outs = [(r.wait(60), *r.communicate()) for r in runs]
        assert sorted(code for code, _, _ in outs) == [0, 1], outs
        err = next(e for code, _, e in outs if code == 1)
        assert err.count("\n") == 1 and f"lab {cli_lab!r} is up (made by `netlab up`" in err, err
        assert "Traceback" not in "".join(e for _, _, e in outs)
        assert len(netns.names()) >= 4 and f"lab {cli_lab}: 4 namespaces\n" in netlab("ls").stdout
        netlab("down", cli_lab)
        assert not [n for n in netns.names() if n.startswith(topology.ns_prefix(cli_lab))]
        assert processes_naming_the_state_of(cli_lab) == []


def processes_naming_the_state_of(lab: str) -> list[str]:
    """Processes whose command line names the lab's state folder (the simulated internet's
    servers and containers' inits do): none may outlive the lab."""
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    if f"/run/netlab/{lab}/".encode() in f.read():
                        out.append(entry)
            except OSError:
                pass
    return out


def test_up_refuses_to_replace_a_lab_that_is_up(cli_lab: str) -> None:
    from netlab import Lab

    netlab("up", cli_lab)
    Lab.attach(cli_lab).host().run("busybox", "sleep 600", name="keep")
    r = netlab("up", cli_lab, check=False)
    assert r.returncode == 1 and "netlab up --replace" in r.stderr and "Traceback" not in r.stderr
    assert "keep" in netlab("ls").stdout  # nothing was removed
    netlab("up", "--replace", cli_lab)
    assert "keep" not in netlab("ls").stdout


def test_a_lab_of_a_live_notebook_is_not_taken_over(cli_lab: str) -> None:
    from netlab import Lab, LabInUse

    # Another process (a notebook's kernel) builds the lab and keeps it.
    script = (
        f"from netlab import Lab; lab = Lab({cli_lab!r}); lab.host().run('busybox', "
        "'sleep 600', name='mine'); print('ready', flush=True); import time; time.sleep(60)"
    )
    owner = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert owner.stdout is not None and owner.stdout.readline() == "ready\n"
        with pytest.raises(LabInUse, match=rf"belongs to process {owner.pid} \(python"):
            Lab(cli_lab)
        r = netlab("up", cli_lab, check=False)
        assert r.returncode == 1 and f"belongs to process {owner.pid}" in r.stderr
        assert "mine" in netlab("ls").stdout
    finally:
        owner.kill()  # (killed: its atexit clean-up does not run, the lab stays)
        owner.wait()
    # Its owner has ended ("Restart kernel and run all"): the lab is replaced without a word.
    lab = Lab(cli_lab)
    assert lab.host().containers(all=True) == []
    lab.down()


def test_a_docker_run_racing_a_rebuild_is_one_line_or_works(cli_lab: str) -> None:
    # The "creator racing `netlab up`" (KeyError: 'host'): a `docker run` while the
    # lab is being built anew either waits and runs, or says in one line what happened.
    netlab("up", cli_lab)
    for _ in range(3):
        up = subprocess.Popen(
            [sys.executable, "-m", "netlab", "up", "--replace", cli_lab],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        time.sleep(0.05)
        run = netlab("docker", "-L", cli_lab, "run", "-d", "busybox", "sleep", "60", check=False)
        _, up_err = up.communicate(timeout=60)
        assert up.returncode == 0, up_err
        assert "Traceback" not in run.stderr and run.stderr.count("\n") <= 3, run.stderr
        assert run.returncode == 0 or "lab" in run.stderr, run.stderr


def test_a_notebook_s_lab_cleaned_from_a_terminal(make_lab: Callable[..., Lab]) -> None:
    """`netlab clean` in a terminal while a notebook (this process) owns the lab: the lab goes
    at once; the notebook's next command says so, and lets go of the namespaces its sockets
    still held (until then they, and their veths, live on without a name)."""
    from netlab.docker import docker, use
    from netlab.kernel import _nlfast, rtnl

    lab = make_lab()
    use(lab)
    assert docker("run -d --name c1 ubuntu sleep infinity").code == 0
    prefix = topology.ns_prefix(lab.name)
    held = [n for n in [*rtnl._handles, *_nlfast.cached()] if n.startswith(prefix)]
    assert held, "(this process talks to the lab through cached sockets)"
    out = netlab("clean", lab.name)
    assert f"cleaned {lab.name}" in out.stdout
    assert not [n for n in netns.names() if n.startswith(prefix)]
    said = docker("ps")
    assert said.code != 0 and "was removed" in str(said) and "netlab clean" in str(said), said
    held = [n for n in [*rtnl._handles, *_nlfast.cached()] if n.startswith(prefix)]
    assert held == [], "the owner still holds the lab's namespaces"
