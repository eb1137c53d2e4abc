"""The docker front end: the walkthrough through the %docker magic and `netlab docker`,
checked against the kernel; Docker's error texts; failed commands build nothing."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator

import pytest

from netlab import Lab
from netlab.docker import docker, use
from netlab.kernel import rtnl

pytestmark = pytest.mark.root


@pytest.fixture
def shell(lab: Lab) -> Iterator[object]:
    """An IPython shell with netlab's magics loaded, talking to ``lab``."""
    from IPython.core.interactiveshell import InteractiveShell

    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "netlab")
    use(lab)
    yield ip


Run = Callable[[str], tuple[str, str]]


@pytest.fixture
def magic(shell: object, capsys: pytest.CaptureFixture[str]) -> Run:
    def run(line: str) -> tuple[str, str]:
        name, _, rest = line.partition(" ")
        shell.run_line_magic(name, rest)  # type: ignore[attr-defined]
        out = capsys.readouterr()
        return out.out, out.err

    return run


@pytest.fixture
def console(lab: Lab) -> Run:
    def run(line: str) -> tuple[str, str]:
        name, _, rest = line.partition(" ")
        sub = ["docker", "-L", lab.name] if name == "docker" else ["exec", "-L", lab.name]
        if name == "on":
            target, _, rest = rest.partition(" ")
            sub += [target, "--", "sh", "-c", rest]
            done = subprocess.run(
                [sys.executable, "-m", "netlab", *sub], capture_output=True, text=True, timeout=60
            )
        else:
            import shlex

            done = subprocess.run(
                [sys.executable, "-m", "netlab", *sub, *shlex.split(rest)],
                capture_output=True,
                text=True,
                timeout=60,
            )
        return done.stdout, done.stderr

    return run


def kernel_ip(ns: str, ifname: str = "eth0") -> str:
    return next(a.cidr for a in rtnl.addrs(ns) if a.ifname == ifname)


@pytest.mark.parametrize("front", ["magic", "console"])
def test_the_walkthrough(front: str, request: pytest.FixtureRequest, lab: Lab) -> None:
    run: Run = request.getfixturevalue(front)
    host = lab.host()

    out, err = run("docker network ls")
    lines = out.splitlines()
    # (docker/cli v28.5.2 cli/command/network/formatter.go defaultNetworkTableFormat;
    # cli/command/formatter/formatter.go: tabwriter minwidth 10, padding 3)
    assert lines[0] == "NETWORK ID     NAME      DRIVER    SCOPE", out + err
    assert [ln.split() for ln in lines[1:]] == [
        [host.network(n).id[:12], n, d, "local"]
        for n, d in (("bridge", "bridge"), ("host", "host"), ("none", "null"))
    ]

    out, err = run("docker run -dt ubuntu sleep infinity")
    cid = out.strip()
    assert re.fullmatch(r"[0-9a-f]{64}", cid), out + err
    c = host.container(cid)
    assert c.running

    out, _ = run("on host brctl show")
    peer_index = next(lk.peer_index for lk in rtnl.links(c.ns) if lk.name == "eth0")
    veth = next(lk.name for lk in rtnl.links(host.ns) if lk.index == peer_index)
    assert re.search(rf"docker0\s.*\s{veth}$", out, re.M), out

    out, _ = run("docker network inspect bridge")
    doc = json.loads(out)
    entry = doc[0]["Containers"][cid]
    # (moby v28.5.2 api/types/network/network.go EndpointResource)
    assert entry["IPv4Address"] == kernel_ip(c.ns)
    ip = entry["IPv4Address"].split("/")[0]

    out, _ = run(f"on host ping -c 3 -i 0.2 {ip}")
    assert "3 packets transmitted, 3 received" in out, out

    out, _ = run("docker ps")
    row = out.splitlines()[1]
    # (docker/cli v28.5.2 cli/command/formatter/container.go ContainerContext.Command:
    # strconv.Quote of the command)
    assert row.startswith(cid[:12]) and '"sleep infinity"' in row and c.name in row

    out, _ = run(f"docker exec {cid[:12]} ping -c 3 -i 0.2 www.dockercon.com")
    assert "3 packets transmitted, 3 received" in out, out
    assert "PING www.dockercon.com (198.51.100.80)" in out

    out, err = run("docker network create mynet")
    # (docker/cli v28.5.2 cli/command/network/create.go runCreate: Fprintln(resp.ID))
    assert re.fullmatch(r"[0-9a-f]{64}\n", out), out + err
    run("docker run -d --name c1 --network mynet ubuntu sleep infinity")
    run("docker run -d --name c2 --network mynet ubuntu sleep infinity")
    out, err = run("docker exec c1 ping -c 1 c2")
    b_ip = kernel_ip(host.container("c2").ns).split("/")[0]
    assert f"PING c2 ({b_ip})" in out and "1 received" in out, out + err
    out, _ = run("docker exec c1 getent hosts c2")
    assert out.split()[0] == b_ip
    out, _ = run("docker exec c1 cat /etc/resolv.conf")
    # (moby v28.5.2 libnetwork/sandbox_dns_unix.go: the embedded server only, the host's
    # servers in a "# ExtServers:" comment; see test_dns.py)
    assert "nameserver 127.0.0.11\n" in out and "# ExtServers: [host(198.51.100.53)]" in out


def test_default_bridge_has_no_names_and_networks_are_isolated(lab: Lab) -> None:
    use(lab)
    docker("run -d --name c1 ubuntu sleep infinity")
    docker("run -d --name c2 ubuntu sleep infinity")
    assert docker("exec c1 getent hosts c2").code == 2
    docker("network create other")
    docker("run -d --name o1 --network other ubuntu sleep infinity")
    o1_ip = lab.host().container("o1").ip
    assert docker(f"exec c1 ping -c 1 -W 1 {o1_ip}").code == 1
    assert docker("network connect other c1").code == 0
    assert kernel_ip(lab.host().container("c1").ns, "eth1").startswith("172.18.0.")
    out = docker(f"exec c1 ping -c 1 -W 2 {o1_ip}")
    assert out.code == 0, out
    # c1 now has a network with Docker's embedded DNS: its resolver starts and resolv.conf is
    # written again (moby v28.5.2 libnetwork/sandbox_linux.go populateNetworkResources).
    assert docker("exec c1 getent hosts o1").stdout.split() == [o1_ip, "o1"]
    assert docker("network disconnect other c1").code == 0
    assert "eth1" not in [lk.name for lk in rtnl.links(lab.host().container("c1").ns)]


def snapshot(lab: Lab) -> tuple[object, ...]:
    host = lab.host()
    return (
        sorted(lab.namespaces()),
        sorted(lk.name for lk in rtnl.links(host.ns)),
        sorted(lab.store.containers()),
        sorted(n.name for n in host.networks()),
        host.ruleset(),
    )


def test_errors_have_dockers_words_and_leave_nothing(lab: Lab) -> None:
    use(lab)
    first = docker("run -d --name web ubuntu sleep infinity").stdout.strip()
    docker("network create mynet")
    docker("run -d --name c1 --network mynet ubuntu sleep infinity")
    c1_endpoint = docker("inspect -f '{{.NetworkSettings.Networks.mynet.EndpointID}}' c1").stdout
    before = snapshot(lab)
    cases = [
        (
            "run -d --name web ubuntu sleep infinity",
            125,
            # (moby v28.5.2 daemon/errors.go nameConflictError; docker/cli v28.5.2
            # cli/command/container/run.go withHelp)
            'docker: Error response from daemon: Conflict. The container name "/web" is '
            f'already in use by container "{first}". You have to remove (or rename) that '
            "container to be able to reuse that name.\n\n"
            "Run 'docker run --help' for more information\n",
        ),
        # (moby v28.5.2 daemon/errors.go objNotFoundError; the prefix: docker/cli v28.5.2
        # vendor/github.com/docker/docker/client/request.go checkResponseErr)
        ("exec nosuch ls", 1, "Error response from daemon: No such container: nosuch\n"),
        # (moby v28.5.2 libnetwork/error.go ErrNoSuchNetwork)
        ("network inspect nonet", 1, "Error response from daemon: network nonet not found\n"),
        (
            "run -d --network nonet ubuntu sleep 1",
            125,
            "docker: Error response from daemon: network nonet not found\n\n"
            "Run 'docker run --help' for more information\n",
        ),
        (
            "network rm mynet",
            1,
            # (moby v28.5.2 libnetwork/error.go ActiveEndpointsError)
            "Error response from daemon: error while removing network: network mynet has "
            f'active endpoints (name:"c1" id:"{c1_endpoint[:12]}")\n',
        ),
        (
            "network create --subnet 172.18.5.0/24 clash",
            1,
            # (moby v28.5.2 libnetwork/ipams/defaultipam/allocator.go RequestPool,
            # ipamapi/contract.go ErrPoolOverlap)
            "Error response from daemon: invalid "
            "pool request: Pool overlaps with other one on this address space\n",
        ),
        (
            "network create mynet",
            1,
            # (moby v28.5.2 libnetwork/error.go NetworkNameError)
            "Error response from daemon: network with name mynet already exists\n",
        ),
        (
            "network create --subnet 10.1.0.1/24 bad",
            1,
            # (moby v28.5.2 api/types/network/ipam.go ValidateIPAM)
            "Error response from daemon: invalid network config:\n"
            "invalid subnet 10.1.0.1/24: it should be 10.1.0.0/24\n",
        ),
        # (pflag's words: docker/cli v28.5.2 vendor/github.com/spf13/pflag/flag.go, in
        # cli/cobra.go FlagErrorFunc's layout, exit 125)
        (
            "ps --bogus",
            125,
            "unknown flag: --bogus\n\nUsage:  docker ps [OPTIONS]\n\n"
            "Run 'docker ps --help' for more information\n",
        ),
        (
            "run -z ubuntu",
            125,
            "unknown shorthand flag: 'z' in -z\n\nUsage:  docker run [OPTIONS] IMAGE [COMMAND] "
            "[ARG...]\n\nRun 'docker run --help' for more information\n",
        ),
        (
            "container ls --bogus",
            125,
            "unknown flag: --bogus\n\nUsage:  docker container ls [OPTIONS]\n\n"
            "Run 'docker container ls --help' for more information\n",
        ),
        # (docker/cli v28.5.2 cmd/docker/docker.go newDockerCommand RunE)
        (
            "frobnicate",
            1,
            "docker: unknown command: docker frobnicate\n\n"
            "Run 'docker --help' for more information\n",
        ),
        # (docker/cli v28.5.2 cli/required.go NoArgs of a management command)
        (
            "network frob",
            1,
            "docker: unknown command: docker network frob\n\nUsage:  docker network COMMAND"
            "\n\nRun 'docker network --help' for more information\n",
        ),
        (
            "network create",
            1,
            # (docker/cli v28.5.2 cli/required.go ExactArgs)
            "docker: 'docker network create' requires 1 argument\n\nUsage:  docker network "
            "create [OPTIONS] NETWORK\n\nRun 'docker network create --help' for more "
            "information\n",
        ),
        # (cli/required.go RequiresMinArgs says "See", RequiresMaxArgs "SRun": as they are)
        (
            "network inspect",
            1,
            "docker: 'docker network inspect' requires at least 1 argument\n\nUsage:  docker "
            "network inspect [OPTIONS] NETWORK [NETWORK...]\n\nSee 'docker network inspect "
            "--help' for more information\n",
        ),
        (
            "images a b",
            1,
            "docker: 'docker images' requires at most 1 argument\n\nUsage:  docker images "
            "[OPTIONS] [REPOSITORY[:TAG]]\n\nSRun 'docker images --help' for more "
            "information\n",
        ),
        (
            "ps x",
            1,
            "docker: 'docker ps' accepts no arguments\n\nUsage:  docker ps [OPTIONS]\n\n"
            "Run 'docker ps --help' for more information\n",
        ),
        (
            "run -it ubuntu bash",
            1,
            # (docker/cli v28.5.2 cli/streams/in.go CheckTty: a client-side error that
            # run.go runContainer returns bare)
            "the input device is not a TTY\n",
        ),
    ]
    for line, code, err in cases:
        out = docker(line)
        assert (out.code, out.stderr) == (code, err), line
        assert "Traceback" not in out.stdout + out.stderr
    out = docker("run mysql")
    # (docker/cli v28.5.2 cli/command/container/create.go createContainer; moby v28.5.2
    # distribution/errors.go notFoundError, daemon/containerd/image_pull.go)
    assert out.code == 125 and out.stderr.startswith(
        "Unable to find image 'mysql:latest' "
        "locally\ndocker: Error response from "
        "daemon: pull access denied for mysql"
    )
    assert snapshot(lab) == before, "a failed command changed the lab"
    docker("stop web")
    out = docker("exec web ls")
    # (moby v28.5.2 daemon/errors.go errNotRunning)
    assert out.stderr == f"Error response from daemon: container {first} is not running\n"


def test_lifecycle_commands(lab: Lab) -> None:
    use(lab)
    assert docker("run --rm alpine echo hello").stdout == "hello\n"
    assert docker("ps -aq").stdout == "", "--rm removed the finished container"
    out = docker("run alpine sh -c 'echo oops >&2; exit 3'")
    assert out.code == 3 and out.stdout == "oops\n"
    cid = docker("run -d --name s1 ubuntu sleep infinity").stdout.strip()
    # (docker/cli v28.5.2 cli/command/container/stop.go, start.go, rm.go: each name as given;
    # moby v28.5.2 container/state.go State.String "Exited (%d) %s ago")
    assert docker("stop s1").stdout == "s1\n"
    status = docker("ps -a --format '{{.Names}} {{.Status}}'").stdout
    assert re.search(r"^s1 Exited \(137\) ", status, re.M), status
    assert docker("start s1").stdout == "s1\n"
    assert docker("inspect -f '{{.State.Running}} {{.Id}}' s1").stdout == f"true {cid}\n"
    ip = docker("inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' s1").stdout
    assert ip.strip() == kernel_ip(lab.host().container("s1").ns).split("/")[0]
    assert docker("rm -f s1").stdout == "s1\n"
    # (docker/cli v28.5.2 cli/command/formatter/formatter.go JSONFormat, image.go
    # defaultImageTableFormat)
    assert docker("ps -a --format json").stdout.count("{") == 1  # the exited alpine
    assert "REPOSITORY" in docker("images").stdout
    assert "netlab" in docker("version").stdout


def test_host_flag_picks_another_host(make_lab) -> None:  # type: ignore[no-untyped-def]
    lab = make_lab(hosts=("node1", "node2"))
    use(lab)
    docker("-H node2 run -d --name only2 ubuntu sleep infinity")
    assert "only2" in docker("-H tcp://node2:2375 ps").stdout
    assert "only2" not in docker("ps").stdout
    assert "node3" in docker("-H node3 ps").stderr


def test_explain_lines_replayed_by_hand_give_the_same_kernel_state(make_lab) -> None:  # type: ignore[no-untyped-def]
    a = make_lab()
    b = make_lab()
    use(a)
    out = docker("--explain run -d --name r1 ubuntu sleep infinity")
    assert out.code == 0 and out.explain
    script = "\n".join(line for line in out.explain if not line.endswith("&"))
    assert "ip netns add" in script and "master docker0" in script
    replay = script.replace(f"nl-{a.name}-", f"nl-{b.name}-").replace(
        f"/run/netlab/{a.name}/", f"/run/netlab/{b.name}/"
    )
    done = subprocess.run(["bash", "-e", "-c", replay], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    c = a.host().container("r1")
    cns_b = c.ns.replace(f"nl-{a.name}-", f"nl-{b.name}-")

    def state(ns: str) -> object:
        return (
            [(lk.name, lk.kind, lk.mac, lk.mtu, lk.up) for lk in rtnl.links(ns)],
            [(x.ifname, x.cidr) for x in rtnl.addrs(ns)],
            sorted((r.dst, r.gateway, r.dev) for r in rtnl.routes(ns)),
            rtnl.read_sysctl(ns, "net.ipv6.conf.all.disable_ipv6"),
        )

    assert state(cns_b) == state(c.ns)
    veth = c.networks["bridge"].veth

    def port(host_ns: str) -> object:
        links = {lk.index: lk for lk in rtnl.links(host_ns)}
        v = next(lk for lk in links.values() if lk.name == veth)
        return (v.mac, v.up, links[v.master].name if v.master else None)

    assert port(b.host().ns) == port(a.host().ns)
    # And the replayed container really works: it reaches its gateway.
    done = subprocess.run(
        ["ip", "netns", "exec", cns_b, "ping", "-c", "1", "-W", "2", "172.17.0.1"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_cell_magic_and_variable_expansion(make_lab, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    from IPython.core.interactiveshell import InteractiveShell

    lab = make_lab(hosts=("node1", "node2"))
    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "netlab")
    use(lab)
    ip.run_cell(
        "%%docker -H node2\nnetwork create n2\nrun -d --name x1 --network n2 alpine sleep 60\n"
    )
    capsys.readouterr()
    ip.run_cell("where = 'node2'\nwho = 'x1'\n%docker -H {where} exec {who} hostname")
    out = capsys.readouterr().out
    assert out.strip() == lab.host("node2").container("x1").short_id
    ip.run_cell("%on node2 ip -br addr show eth0")
    assert "192.168.56.12/24" in capsys.readouterr().out
    ip.run_cell("%docker exec nothere true")
    assert "No such container: nothere" in capsys.readouterr().err


def test_netlab_magic_runs_in_the_kernel_with_the_console_s_output(
    shell: object, magic: Run, lab: Lab, monkeypatch: pytest.MonkeyPatch
) -> None:
    children: list[list[str]] = []
    real_run = subprocess.run

    def spy(argv: list[str], *a: object, **kw: object) -> object:
        children.append(list(argv))
        return real_run(argv, *a, **kw)  # type: ignore[call-overload]

    monkeypatch.setattr(subprocess, "run", spy)
    out, err = magic("netlab ls")
    console = real_run(
        [sys.executable, "-m", "netlab", "ls"], capture_output=True, text=True, timeout=60
    )
    assert (out, err) == (console.stdout, console.stderr) and f"{lab.name}" in out
    assert children == []  # (no Python started anew for it)
    out, err = magic("netlab frobnicate")
    assert "invalid choice: 'frobnicate'" in err and out == ""
    # exec replaces the process it runs in: a child runs it
    out, err = magic(f"netlab exec -L {lab.name} host -- hostname")
    assert (out, err) == ("host\n", "") and children[-1][1:4] == ["-m", "netlab", "exec"]


def test_cli_details_students_would_notice(lab: Lab) -> None:
    use(lab)
    docker("run -d --name web -p 8080:80 nginx")
    # (docker/cli v28.5.2 cli/command/container/port.go runPort)
    assert docker("port web 81").stderr == "Error: No public port '81' published for web\n"
    out = docker("exec web nosuchcmd")
    # (moby v28.5.2 daemon/errors.go setExitCodeFromError, isInvalidCommand: 127; the words
    # are Go os/exec's LookPath ErrNotFound, through runc)
    assert out.code == 127 and '"nosuchcmd": executable file not found in $PATH' in out.stderr
    docker("run -d --name envy -e GREETING=hi alpine sleep 600")
    assert docker("exec envy sh -c 'echo $GREETING'").stdout == "hi\n"
    docker("run --name talk alpine sh -c 'echo one; echo two; echo three'")
    assert docker("logs --tail 1 talk").stdout == "three\n"
    assert docker("logs --tail 0 talk").stdout == ""
    assert docker("logs -n -1 talk").stdout == "one\ntwo\nthree\n"
    assert "Usage:  docker run" not in docker("run --rm alpine echo --help").stdout
    assert docker("run --rm alpine echo --help").stdout == "--help\n"
    # (docker/cli v28.5.2 cli/cobra.go usageTemplate: "Usage:" then "  {{.UseLine}}")
    assert "Usage:  docker ps" in docker("ps -h").stdout
    assert docker("run -d=false --rm alpine echo x").stdout == "x\n"
    assert re.fullmatch(r"[0-9a-f]{64}\n", docker("run -d --name= alpine sleep 1").stdout)
    assert (
        docker("inspect -f '{{json .State.Running}} {{index .Args 0}}' web").stdout
        == "true nginx\n"
    )
    bad = docker("inspect -f '{{.Nope}}' web")
    # (Go text/template exec.go evalField, missingkey=error: docker/cli v28.5.2
    # cli/command/inspect/inspector.go tryRawInspectFallback)
    assert bad.code == 1 and "map has no entry" in bad.stderr and "Traceback" not in bad.stderr


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return "?"


def test_exec_detached_and_strays_go_with_the_container(lab: Lab) -> None:
    from netlab.kernel import netns, proc

    use(lab)
    docker("run -d --name s1 ubuntu sleep infinity")
    c = lab.host().container("s1")
    assert docker("exec -d s1 sleep 1234").code == 0
    docker("exec s1 sh -c 'sleep 4321 > /dev/null 2>&1 &'")
    deadline = time.monotonic() + 5  # (exec -d returns before its command has started)
    while True:
        inside = {p: proc.start_time(p) for p in netns.pids_in({netns.ident(c.ns)})}
        if len(inside) >= 4 or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    assert len(inside) >= 4, inside  # shim, sleep infinity, and the two strays
    docker("rm -f s1")
    # (a killed process may still be exiting, its memory and namespaces already let go)
    left = proc.outliving(inside, 2.0)
    assert not left, f"a process outlived its container: {[_cmdline(p) for p in left]}"


# A process that reaps no orphans, as netlab is when it is a container's command without an
# init (`podman run IMAGE python ...`: PID 1): a child subreaper gets the orphans of its
# descendants as PID 1 does. The `nsenter` of a `docker exec -d` dies first (as it may when
# killed with the rest of the namespace), so its command inside is this process's to reap.
_REAPER = r"""
import ctypes, json, os, signal, sys, time
assert ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0) == 0  # PR_SET_CHILD_SUBREAPER
from netlab import Lab
from netlab.docker import docker, use
from netlab.kernel import netns, proc
lab = Lab(sys.argv[1])
use(lab)
ran = docker("run -d --name s1 ubuntu sleep infinity")
assert ran.code == 0, str(ran)
c = lab.host().container("s1")
nsenter = c.exec_detached("sleep 1234")
deadline = time.monotonic() + 5
while len(netns.pids_in({netns.ident(c.ns)})) < 4 and time.monotonic() < deadline:
    time.sleep(0.01)
inside = {p: proc.start_time(p) for p in netns.pids_in({netns.ident(c.ns)})}
os.kill(nsenter, signal.SIGKILL)
proc.reap(nsenter)
if sys.argv[2] == "rm":
    docker("rm -f s1")
else:
    from netlab.model.lab import wipe
    wipe(sys.argv[1])  # (`netlab down`, `netlab clean`: every process of the lab at once)
left = proc.outliving(inside, 2.0)
status = [open(f"/proc/{p}/status").read().split(chr(10))[:3] for p in left]
print(json.dumps({"inside": len(inside), "left": status}))
"""


@pytest.mark.parametrize("how", ["rm", "down"])
def test_a_container_ends_where_netlab_reaps_the_orphans(how: str) -> None:
    from netlab.model.lab import wipe

    name = f"t{os.getpid() % 100000}_reaper"  # (the lab is the reaper's own: see _REAPER)
    try:
        out = subprocess.run(
            [sys.executable, "-c", _REAPER, name, how], capture_output=True, text=True, timeout=60
        )
    finally:
        wipe(name)
    assert out.returncode == 0, out.stderr
    said = json.loads(out.stdout.splitlines()[-1])
    assert said["inside"] >= 4  # (shim, sleep infinity, the nsenter and its sleep)
    assert said["left"] == [], f"the container's PID 1 never ended: {said['left']}"


def test_a_lab_removed_elsewhere_is_a_clear_error(lab: Lab) -> None:
    from netlab.errors import NoSuchLab
    from netlab.model.lab import wipe

    use(lab)
    docker("run -d --name w1 ubuntu sleep infinity")
    c = lab.host().container("w1")
    wipe(lab.name)  # what `netlab clean` in a terminal does
    with pytest.raises(NoSuchLab, match="was removed"):
        c.stop()
    import os

    assert not os.path.exists(f"/run/netlab/{lab.name}"), "no ghost folder"


def test_stop_keeps_the_exit_code_of_a_finished_container(lab: Lab) -> None:
    import time

    use(lab)
    docker("run -d --name quick alpine sh -c 'exit 5'")
    time.sleep(0.3)
    docker("stop quick")
    # (moby v28.5.2 container/state.go State.String)
    assert "Exited (5)" in docker("ps -a --format '{{.Status}}'").stdout


def test_add_host_and_dns_are_the_containers_own_files(lab: Lab) -> None:
    use(lab)
    out = docker(
        "run -d --name c1 --add-host db:10.1.2.3 --add-host gw=host-gateway --dns 9.9.9.9 "
        "ubuntu sleep infinity"
    )
    assert out.code == 0, out
    hosts = docker("exec c1 cat /etc/hosts").stdout.splitlines()
    # (moby v28.5.2 libnetwork/sandbox_dns_unix.go buildHostsFile, libnetwork/etchosts
    # etchosts.go "%s\t%s\n": the extra hosts, then the container's own line)
    assert hosts[-3:] == ["10.1.2.3\tdb", "172.17.0.1\tgw", f"172.17.0.2\t{hosts[-1].split()[1]}"]
    assert docker("exec c1 getent hosts db").stdout.split() == ["10.1.2.3", "db"]
    # (moby v28.5.2 libnetwork/sandbox_dns_unix.go loadResolvConf,
    # internal/resolvconf/resolvconf.go Generate(true), TransformForLegacyNw)
    assert docker("exec c1 cat /etc/resolv.conf").stdout == (
        "# Generated by Docker Engine.\n"
        "# This file can be edited; Docker Engine will not make further changes once it\n"
        "# has been modified.\n\n"
        "nameserver 9.9.9.9\n\n"
        "# Based on host file: '/etc/resolv.conf' (legacy)\n# Overrides: [nameservers]\n"
    )
    # (moby v28.5.2 api/types/container/hostconfig.go HostConfig.ExtraHosts, DNS `json:"Dns"`;
    # docker/cli v28.5.2 opts/hosts.go ValidateExtraHost turns "=" into ":")
    conf = json.loads(docker("inspect -f '{{json .HostConfig}}' c1").stdout)
    assert conf["ExtraHosts"] == ["db:10.1.2.3", "gw:host-gateway"] and conf["Dns"] == ["9.9.9.9"]
    # The CLI's own checks (docker/cli v28.5.2 opts/hosts.go ValidateExtraHost, opts/opts.go
    # ValidateIPAddress), before anything is made, in cli/cobra.go FlagErrorFunc's layout
    bad = docker("run -d --add-host nohost ubuntu true")
    assert (bad.code, bad.stderr) == (
        125,
        'invalid argument "nohost" for "--add-host" flag: bad format for add-host: "nohost"\n'
        "\nUsage:  docker run [OPTIONS] IMAGE [COMMAND] [ARG...]\n\n"
        "Run 'docker run --help' for more information\n",
    )
    bad = docker("run -d --dns 9.9.9 ubuntu true")
    assert bad.code == 125 and "IP address is not correctly formatted: 9.9.9" in bad.stderr
    assert docker("ps -aq").stdout.count("\n") == 1


def test_rename_gives_a_new_name_that_the_network_answers(lab: Lab) -> None:
    use(lab)
    docker("network create mynet")
    docker("run -d --name app --network mynet ubuntu sleep infinity")
    docker("run -d --name client --network mynet ubuntu sleep infinity")
    assert docker("rename app api").code == 0
    assert docker("ps --format '{{.Names}}'").stdout.split() == ["client", "api"]
    assert docker("exec client getent hosts api").stdout.split()[1:] == ["api"]
    assert docker("exec client getent hosts app").code != 0
    # (moby v28.5.2 daemon/rename.go)
    for line, err in [
        ("rename api api", "Renaming a container with the same name as its current name"),
        (
            "rename api client",
            'Error when allocating new name: Conflict. The container name "/client"',
        ),
        ("rename api 'a b'", "Error when allocating new name: Invalid container name (a b)"),
        ("rename nothere x1", "No such container: nothere"),
    ]:
        out = docker(line)
        assert out.code == 1 and out.stderr.startswith(f"Error response from daemon: {err}"), out


def test_ip_range_static_ip_aliases_and_reverse_names(lab: Lab) -> None:
    """--ip-range, --ip and --network-alias on the kernel and in the network's DNS; a
    reverse lookup answers NAME.NETWORK, as Docker's embedded DNS does."""
    use(lab)
    d = docker
    assert d("network create --subnet 10.30.0.0/24 --ip-range 10.30.0.128/25 mynet").code == 0
    out = d(
        "run -d --name web --network mynet --ip 10.30.0.10 --network-alias www "
        "ubuntu sleep infinity"
    )
    assert out.code == 0, out
    assert d("run -d --name client --network mynet ubuntu sleep infinity").code == 0
    host = lab.host()
    assert kernel_ip(host.container("web").ns) == "10.30.0.10/24"
    # The gateway took the range's first address (Docker's allocator), the client the next.
    assert kernel_ip(host.container("client").ns) == "10.30.0.129/24"
    out = d("exec client getent hosts www")
    assert out.stdout.split()[0] == "10.30.0.10", out
    out = d("exec client getent hosts 10.30.0.10")
    assert out.stdout.split() == ["10.30.0.10", "web.mynet"], out
    assert d("exec client ping -c 1 -W 2 10.30.0.128").code == 0


def test_a_network_without_masquerade_cannot_reach_the_internet(lab: Lab) -> None:
    use(lab)
    d = docker
    d("network create -o com.docker.network.bridge.enable_ip_masquerade=false nomasq")
    d("network create withmasq")
    assert d("run -d --name na --network nomasq ubuntu sleep infinity").code == 0
    assert d("run -d --name wa --network withmasq ubuntu sleep infinity").code == 0
    assert d("exec wa ping -c 1 -W 2 198.51.100.80").code == 0
    # The internet has no way back to 172.18.0.0/16: the reply never comes.
    assert d("exec na ping -c 1 -W 1 198.51.100.80").code == 1
