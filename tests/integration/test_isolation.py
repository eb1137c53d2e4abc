"""A container looks like a container from inside: its command is PID 1 of its own PID
namespace, it sees none of the machine's namespaces or netlab's state, and it stops, is
killed and reads its stdin as on Docker."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from netlab import Lab
from netlab.docker import docker, use
from netlab.model import images, topology

pytestmark = pytest.mark.root


def wait_for_log(name: str, text: str, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while text not in docker(f"logs {name}").stdout and time.monotonic() < deadline:
        time.sleep(0.02)
    assert text in docker(f"logs {name}").stdout


def test_ps_inside_shows_only_the_container_with_its_command_as_pid_1(lab: Lab) -> None:
    use(lab)
    docker("run -d --name c1 ubuntu sleep infinity")
    docker("run -d --name c2 ubuntu sleep infinity")
    rows = docker("exec c1 ps -e -o pid=,args=").stdout.split("\n")
    procs = [r.split(None, 1) for r in rows if r.strip()]
    assert procs[0] == ["1", "sleep infinity"], procs
    assert [args for _, args in procs] == ["sleep infinity", "ps -e -o pid=,args="]
    # inspect's State.Pid is that process, seen from the machine.
    pid = int(docker("inspect -f '{{.State.Pid}}' c1").stdout)
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        assert f.read().split(b"\0")[:2] == [b"sleep", b"infinity"]
    assert lab.host().container("c1").pid == pid


def test_a_container_sees_no_namespace_pins_and_no_lab_state(lab: Lab) -> None:
    use(lab)
    docker("run -d --name c1 ubuntu sleep infinity")
    assert docker("exec c1 ip netns list").stdout == ""
    out = docker("exec c1 ip -d link")
    assert out.code == 0 and "Peer netns reference is invalid" not in out.stderr, out.stderr
    assert docker("exec c1 ls -A /run /tmp /etc/netns").stdout == "/etc/netns:\n\n/run:\n\n/tmp:\n"
    assert docker("exec c1 cat /etc/hostname").stdout == lab.host().container("c1").short_id + "\n"
    assert os.path.isdir(f"/run/netlab/{lab.name}")  # (while the machine sees it)
    # What the container writes to its /tmp is its own.
    docker("exec c1 touch /tmp/mine")
    docker("run -d --name c2 ubuntu sleep infinity")
    assert docker("exec c2 ls /tmp").stdout == "" and not os.path.exists("/tmp/mine")


def test_stop_sends_sigterm_waits_the_grace_period_then_kills(lab: Lab) -> None:
    use(lab)
    # `sleep` as PID 1 has no handler: SIGTERM is ignored, the whole grace period passes.
    docker("run -d --name sleepy ubuntu sleep infinity")
    t0 = time.monotonic()
    assert docker("stop -t 1 sleepy").stdout == "sleepy\n"
    assert 1.0 <= time.monotonic() - t0 < 3.0
    assert docker("inspect -f '{{.State.ExitCode}}' sleepy").stdout == "137\n"
    # A shell that traps SIGTERM ends at once, with its own code.
    script = "trap 'echo bye; exit 7' TERM; echo ready; while :; do sleep 0.05; done"
    docker(["run", "-d", "--name", "polite", "ubuntu", "sh", "-c", script])
    wait_for_log("polite", "ready")
    t0 = time.monotonic()
    docker("stop polite")  # (default grace period: 10 s)
    assert time.monotonic() - t0 < 3.0
    assert docker("inspect -f '{{.State.ExitCode}}' polite").stdout == "7\n"
    assert docker("logs polite").stdout == "ready\nbye\n"


def test_kill_sends_a_signal_and_sigkill_by_default(lab: Lab) -> None:
    use(lab)
    script = "trap 'echo got USR1' USR1; echo ready; while :; do sleep 0.05; done"
    docker(["run", "-d", "--name", "k1", "ubuntu", "sh", "-c", script])
    wait_for_log("k1", "ready")
    assert docker("kill -s USR1 k1").stdout == "k1\n"
    wait_for_log("k1", "got USR1")
    assert docker("inspect -f '{{.State.Running}}' k1").stdout == "true\n"
    assert docker("kill k1").stdout == "k1\n"
    assert docker("inspect -f '{{.State.Status}} {{.State.ExitCode}}' k1").stdout == "exited 137\n"
    out = docker("kill k1")
    assert out.code == 1 and "cannot kill container: k1: container " in out.stderr
    assert "is not running" in out.stderr
    assert "invalid signal: NOPE" in docker("kill -s NOPE k1").stderr


def test_run_i_passes_stdin_from_the_terminal(lab: Lab) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "netlab", "docker", "-L", lab.name, "run", "-i", "busybox", "cat"],
        input="hello\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (done.returncode, done.stdout) == (0, "hello\n"), done.stderr
    use(lab)
    out = docker("run -i --rm ubuntu wc -l", stdin=b"a\nb\nc\n")
    assert out.stdout.strip() == "3"
    out = docker("run -it ubuntu cat")
    assert out.code != 0 and "the input device is not a TTY" in out.stderr
    # -d -i keeps stdin open: a shell waits for input instead of ending.
    docker("run -dit --name shell ubuntu bash")
    time.sleep(0.3)
    assert docker("inspect -f '{{.State.Running}}' shell").stdout == "true\n"


def test_veth_pairs_are_numbered_as_dockers(lab: Lab) -> None:
    # `vethX@ifN` on the host names eth0's index N inside the container, and back; every
    # container's numbers differ (Docker makes both ends in the host's namespace).
    import re

    use(lab)
    seen = set()
    for name in ("n1", "n2", "n3"):
        docker(f"run -d --name {name} ubuntu sleep infinity")
        inside = docker(f"exec {name} ip -o link show eth0").stdout
        m = re.match(r"(\d+): eth0@if(\d+):", inside)
        assert m, inside
        eth0_index, host_index = int(m[1]), int(m[2])
        outside = subprocess.run(
            ["ip", "-n", lab.host().ns, "-o", "link", "show"], capture_output=True, text=True
        ).stdout
        assert re.search(rf"^{host_index}: veth\w+@if{eth0_index}:", outside, re.M), outside
        assert host_index == eth0_index + 1 and eth0_index not in seen
        seen.add(eth0_index)


def test_a_run_that_cannot_start_leaves_a_created_container(lab: Lab) -> None:
    import re

    use(lab)
    docker("run -d --name web1 -p 8080:80 nginx")
    out = docker("run -d --name web2 -p 8080:80 nginx")
    assert out.code == 125 and re.fullmatch(r"[0-9a-f]{64}\n", out.stdout), out
    assert "port is already allocated" in out.stderr
    assert "web2 Created" in docker("ps -a --format '{{.Names}} {{.Status}}'").stdout
    again = docker("run -d --name web2 -p 8081:80 nginx")
    assert again.code == 125 and 'The container name "/web2" is already in use' in again.stderr
    assert docker("rm web2").code == 0
    out = docker("run --name ghost ubuntu nosuchcommand")
    assert out.code == 127 and "executable file not found in $PATH" in out.stderr
    assert out.stdout == ""  # (attached: no ID printed)
    assert docker("inspect -f '{{.State.Status}}' ghost").stdout == "created\n"


def test_inspect_has_docker_28s_keys_in_docker_28s_order(lab: Lab) -> None:
    # The key lists come from moby v28.5.2's types (see the fixture's "source").
    import json
    from pathlib import Path

    want = json.loads(
        (Path(__file__).parent.parent / "fixtures" / "docker28-container-inspect-keys.json")
        .read_text()
    )  # fmt: skip
    use(lab)
    docker("run -d --name web -p 8080:80 nginx")
    docker("run -d --name plain ubuntu sleep infinity")
    for name in ("web", "plain"):
        doc = json.loads(docker(f"inspect {name}").stdout)[0]
        for part, keys in [
            ("top", doc),
            *((k, doc[k]) for k in want if k not in ("source", "top")),
        ]:
            required = [k for k in want[part] if not k.endswith("?")]
            allowed = [k.rstrip("?") for k in want[part]]
            got = list(keys)
            assert [k for k in got if k in required] == required, (name, part, got)
            assert [k for k in got if k in allowed] == got, (name, part, got)  # no others
    doc = json.loads(docker("inspect web").stdout)[0]
    assert doc["State"]["Pid"] > 0 and doc["HostConfig"]["NetworkMode"] == "bridge"
    assert doc["Config"]["StopSignal"] == "SIGQUIT" and doc["Config"]["ExposedPorts"] == {
        "80/tcp": {}
    }
    assert doc["NetworkSettings"]["SandboxKey"].startswith("/var/run/docker/netns/")
    # nginx's stop signal ends nginx at once, with 0.
    t0 = time.monotonic()
    docker("stop web")
    assert time.monotonic() - t0 < 3.0
    assert docker("inspect -f '{{.State.ExitCode}}' web").stdout == "0\n"


def test_top_lists_the_containers_processes_with_the_machines_pids(lab: Lab) -> None:
    use(lab)
    docker(["run", "-d", "--name", "t1", "ubuntu", "sh", "-c", "sleep 600 & exec sleep 700"])
    deadline = time.monotonic() + 5  # (run -d returns before the command has started both)
    while len(docker("top t1").stdout.splitlines()) < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    pid = int(docker("inspect -f '{{.State.Pid}}' t1").stdout)
    out = docker("top t1").stdout.splitlines()
    assert out[0].split() == ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"]
    assert out[0].startswith("UID" + " " * 17 + "PID")  # (Docker's tabwriter: 20 wide)
    rows = {r.split()[1]: r.split(None, 7)[7] for r in out[1:]}
    assert rows == {str(pid): "sleep 700", **{p: "sleep 600" for p in rows if p != str(pid)}}
    assert len(rows) == 2
    assert docker("top t1 -o pid,comm").stdout.split("\n")[0].split() == ["PID", "COMMAND"]


def from_client(lab: Lab, *curl: str) -> str:
    """curl's output on the lab's LAN client (a machine outside Docker)."""
    ns = topology.ns_name(lab.name, "client")
    argv = ["ip", "netns", "exec", ns, "curl", "-m", "5", *curl]
    return subprocess.run(argv, capture_output=True, text=True, check=False).stdout


@pytest.mark.skipif(images.nginx_program() is None, reason="no nginx (apt-get install nginx)")
def test_the_nginx_image_is_nginx_configured_as_the_official_image(lab: Lab) -> None:
    use(lab)
    docker("run -d --name web -p 8080:80 nginx")
    head = from_client(lab, "-sI", "http://192.168.56.11:8080/")
    assert head.startswith("HTTP/1.1 200 OK") and "\nServer: nginx/1." in head, head
    # Its access log is the container's stdout, with the client as nginx saw it.
    wait_for_log("web", f"{topology.CLIENT_IP} - - [")
    logs = docker("logs web").stdout  # (its error log, stderr, is in the same stream)
    assert '"HEAD / HTTP/1.1" 200 0 "-" "curl/' in logs, logs
    assert "[notice] 1#1: start worker processes" in logs, logs
    # Inside: nginx is PID 1, its files are the official image's, /var/log/nginx leads out.
    ps = docker("exec web ps -e -o pid=,user=,args=").stdout.splitlines()
    assert ps[0].split(None, 2) == ["1", "root", "nginx: master process nginx -g daemon off;"]
    assert any(line.split(None, 2)[2] == "nginx: worker process" for line in ps[1:]), ps
    assert docker("exec web nginx -v").stderr.startswith("nginx version: nginx/1.")
    conf = docker("exec web cat /etc/nginx/conf.d/default.conf").stdout
    assert "listen  [::]:80;" in conf and "root   /usr/share/nginx/html;" in conf
    assert docker("exec web readlink /var/log/nginx/access.log").stdout == "/dev/stdout\n"
    # (The machine's own nginx files are untouched.)
    assert "/etc/nginx/conf.d/default.conf" not in docker("exec web ls /etc/nginx/conf.d").stderr
    assert not os.path.exists("/etc/nginx/conf.d/default.conf")
    # Each container has its own copy of the image's files, as on Docker.
    docker("run -d --name web2 nginx")
    docker(["exec", "web2", "sh", "-c", "echo web2 > /usr/share/nginx/html/index.html"])
    assert docker("exec web curl -s http://localhost/").stdout.count("Welcome to nginx!") == 2
    assert docker("exec web2 curl -s http://localhost/").stdout == "web2\n"
    # SIGQUIT, the image's stop signal: nginx shuts down gracefully and exits 0.
    t0 = time.monotonic()
    docker("stop web")
    assert time.monotonic() - t0 < 3.0
    assert docker("inspect -f '{{.State.ExitCode}}' web").stdout == "0\n"
    assert "gracefully shutting down" in docker("logs web").stdout


def test_without_nginx_the_nginx_image_serves_its_page_with_busybox(
    lab: Lab, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(images, "nginx_program", lambda: None)
    use(lab)
    docker("run -d --name web -p 8080:80 nginx")
    page = from_client(lab, "-s", "http://192.168.56.11:8080/")
    assert "Welcome to nginx!" in page
    assert "busybox httpd -f -p 80" in docker("exec web ps -o args= -p 1").stdout
    t0 = time.monotonic()
    docker("stop web")
    assert time.monotonic() - t0 < 3.0
    assert docker("inspect -f '{{.State.ExitCode}}' web").stdout == "0\n"


def test_the_sandbox_key_is_the_containers_namespace_in_the_docker_hosts_view(lab: Lab) -> None:
    use(lab)
    docker("run -d --name c1 ubuntu sleep infinity")
    docker("run -d --name c2 --network none ubuntu sleep infinity")
    key = docker("inspect -f '{{.NetworkSettings.SandboxKey}}' c1").stdout.strip()
    assert key.startswith("/var/run/docker/netns/") and len(os.path.basename(key)) == 12
    host = lab.host()
    # On the Docker host, the classic: enter a container's namespace by its SandboxKey.
    inside = host.exec(["nsenter", f"--net={key}", "ip", "-br", "addr", "show", "eth0"])
    assert inside.ok and " 172.17.0.2/16 " in inside.stdout, inside
    keys = set(host.exec("ls /var/run/docker/netns").stdout.split())
    other = docker("inspect -f '{{.NetworkSettings.SandboxKey}}' c2").stdout.strip()
    assert keys == {os.path.basename(key), os.path.basename(other)}
    # Docker keeps a sandbox while its container runs.
    docker("stop -t 0 c1")
    assert host.exec("ls /var/run/docker/netns").stdout.split() == [os.path.basename(other)]
    # It is the Docker host's view only: the machine's own folder shows none of them.
    if os.path.isdir("/run/docker/netns"):
        assert os.path.basename(other) not in os.listdir("/run/docker/netns")
