"""Build and tear down N containers with netlab and with a raw ``ip -batch`` script.

Both sides do the same kernel work per container: a network namespace, a veth pair whose
host end is a port of a bridge, an IPv4 address, links up, a default route. netlab does more
on top (the container's process, its /etc files, its state record), so a ratio near 1 means
netlab's own overhead is small. Teardown on both sides waits until the kernel has really
removed every veth (RTM_DELLINK events), not just until the namespaces are unpinned.
The two sides take turns, with a pause between runs for the kernel's asynchronous clean-up.

Then what the nginx image costs per container: the machine's real nginx (a master and one
worker per CPU) against the BusyBox web server netlab falls back to, in time to a container
that answers on port 80 and in memory (the proportional set size of its processes).

Then what Docker's embedded DNS adds per container (a user network against the default
bridge) and what the one DNS server per Docker host weighs.

Run as root:  .venv/bin/python bench/bench_build.py [--sizes 10,50,200] [--repeat 7] [--nginx 20]
              [--dns 50]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from typing import NamedTuple
from unittest import mock

from netlab import Lab
from netlab.kernel import containers, netns, rtnl
from netlab.model import images
from netlab.model.lab import wipe

HOST_NS = "nl-benchip-host"
SETTLE = 2.0  # seconds between runs


def ms_per(total: float, n: int) -> float:
    return total * 1000 / n


BACKEND = "iptables"  # (--firewall-backend)


def netlab_run(n: int) -> tuple[float, float]:
    """(build, teardown) seconds for n containers built by netlab."""
    lab = Lab("benchnl", down_at_exit=False, firewall_backend=BACKEND)
    host = lab.host()
    fixed = [n for n in lab.namespaces() if n != host.ns]
    t0 = time.perf_counter()
    containers = [host.run("ubuntu", "sleep infinity") for _ in range(n)]
    build = time.perf_counter() - t0
    assert containers[-1].exec(["ping", "-c", "1", "-W", "2", "172.17.0.1"]).ok
    t0 = time.perf_counter()
    host.remove_containers(containers, force=True)
    teardown = time.perf_counter() - t0
    assert not [n for n in lab.namespaces() if n not in (host.ns, *fixed)], "containers left"
    lab.down()
    return build, teardown


def ip(*args: str, stdin: str | None = None) -> None:
    done = subprocess.run(["ip", *args], input=stdin, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"ip {' '.join(args)}: {done.stderr}")


def ipbatch_run(n: int) -> tuple[float, float]:
    """(build, teardown) seconds for n containers built by ``ip -batch`` scripts."""
    ip("netns", "add", HOST_NS)
    ip(
        "-n",
        HOST_NS,
        "-batch",
        "-",
        stdin="link add br0 type bridge\n"
        "addr add 172.17.0.1/16 dev br0\nlink set br0 up\nlink set lo up\n",
    )
    names = [f"nl-benchip-c{i}" for i in range(n)]
    t0 = time.perf_counter()
    ip("-batch", "-", stdin="".join(f"netns add {c}\n" for c in names))
    host_cmds = []
    for i, c in enumerate(names):
        host_cmds.append(f"link add veth{i:07x} type veth peer name eth0 netns {c}\n")
        host_cmds.append(f"link set veth{i:07x} master br0 up\n")
    ip("-n", HOST_NS, "-batch", "-", stdin="".join(host_cmds))
    for i, c in enumerate(names):
        addr = f"172.17.{(i + 2) // 256}.{(i + 2) % 256}/16"
        ip(
            "-n",
            c,
            "-batch",
            "-",
            stdin=f"link set lo up\naddr add {addr} dev eth0\n"
            "link set eth0 up\nroute add default via 172.17.0.1\n",
        )
    build = time.perf_counter() - t0
    idx = {lk.index for lk in rtnl.links(HOST_NS) if lk.name.startswith("veth")}
    watch = rtnl.LinkRemovalWatch(HOST_NS, idx)
    t0 = time.perf_counter()
    ip("-batch", "-", stdin="".join(f"netns del {c}\n" for c in names))
    watch.wait(30)
    teardown = time.perf_counter() - t0
    rtnl.forget(HOST_NS)
    ip("netns", "del", HOST_NS)
    return build, teardown


def settle() -> None:
    """Let the kernel finish freeing the last run's namespaces (it does so asynchronously,
    on its own workers) so that this work does not land on the next run's clock."""
    time.sleep(SETTLE)


class Result(NamedTuple):
    nl_build: float  # medians, seconds for n containers
    ip_build: float
    nl_teardown: float
    ip_teardown: float
    build_ratios: list[float]  # netlab / ip -batch, run by run (each pair taken in turn)
    teardown_ratios: list[float]


def measure(n: int, repeat: int) -> Result:
    """``repeat`` runs of each side taken in turns, so that a drift of the machine touches
    both sides alike; ratios are taken pair by pair, which cancels a slow drift too."""
    nl: list[tuple[float, float]] = []
    ip: list[tuple[float, float]] = []
    for _ in range(repeat):
        nl.append(netlab_run(n))
        settle()
        ip.append(ipbatch_run(n))
        settle()
    med = statistics.median
    return Result(
        med(r[0] for r in nl),
        med(r[0] for r in ip),
        med(r[1] for r in nl),
        med(r[1] for r in ip),
        sorted(a[0] / b[0] for a, b in zip(nl, ip, strict=True)),
        sorted(a[1] / b[1] for a, b in zip(nl, ip, strict=True)),
    )


def spread(ratios: list[float]) -> str:
    """Median of the paired ratios, and their range."""
    return f"{statistics.median(ratios):.2f} ({ratios[0]:.2f}-{ratios[-1]:.2f})"


def pss_kib(pid: int) -> int:
    """The proportional set size of a process (its share of shared pages), in KiB."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def nginx_run(n: int, real: bool) -> tuple[float, float]:
    """(ms, MiB) per container for n nginx containers, each answering when ``run`` returns."""
    program = images.nginx_program() if real else None
    with mock.patch.object(images, "nginx_program", lambda: program):
        lab = Lab("benchnl", down_at_exit=False)
        host = lab.host()
        t0 = time.perf_counter()
        webs = [host.run("nginx") for _ in range(n)]
        build = time.perf_counter() - t0
        assert webs[-1].exec(["ls", "/proc/1/cmdline"]).ok
        kib = sum(pss_kib(p) for w in webs for p in containers.pids_in_pid_ns(w.pid))
        lab.down()
    return ms_per(build, n), kib / 1024 / n


def nginx_cost(n: int, repeat: int) -> None:
    """Print what the real nginx costs per container, against BusyBox's httpd."""
    if images.nginx_program() is None:
        print("nginx: not on this machine (apt-get install nginx); nothing to compare")
        return
    real, busybox = [], []
    for _ in range(repeat):
        real.append(nginx_run(n, True))
        settle()
        busybox.append(nginx_run(n, False))
        settle()
    med = statistics.median
    print(
        f"\nnginx image, {n} containers, medians of {repeat} runs: "
        f"{'ms per container':>17} {'MiB per container':>18}"
    )
    for label, runs in (("real nginx", real), ("BusyBox httpd", busybox)):
        print(f"{label:>42}: {med(r[0] for r in runs):>17.2f} {med(r[1] for r in runs):>18.2f}")
    ratio_t = med(a[0] / b[0] for a, b in zip(real, busybox, strict=True))
    ratio_m = med(r[1] for r in real) / max(med(r[1] for r in busybox), 1e-9)
    print(f"{'ratio real / BusyBox':>42}: {ratio_t:>17.2f} {ratio_m:>18.2f}")


def dns_run(n: int, user_network: bool) -> tuple[float, int]:
    """(ms per container, KiB of the Docker host's DNS server) for n containers on a user
    network (the embedded DNS: sockets, NAT rules, names) or on the default bridge."""
    lab = Lab("benchnl", down_at_exit=False, firewall_backend=BACKEND)
    host = lab.host()
    net = host.create_network("benchnet").name if user_network else "bridge"
    t0 = time.perf_counter()
    cs = [host.run("ubuntu", "sleep infinity", network=net) for _ in range(n)]
    build = time.perf_counter() - t0
    if user_network:
        assert cs[0].exec(["getent", "hosts", cs[-1].name]).ok
    with open(lab.store.path(f"dns-{host.name}.pid")) as f:
        kib = pss_kib(int(f.read().split()[0]))
    lab.down()
    return ms_per(build, n), kib


def dns_cost(n: int, repeat: int) -> None:
    """Print what Docker's embedded DNS adds per container (a user network against the
    default bridge), and what the one server per host weighs once it serves n containers."""
    user, plain = [], []
    for _ in range(repeat):
        user.append(dns_run(n, True))
        settle()
        plain.append(dns_run(n, False))
        settle()
    med = statistics.median
    print(f"\nembedded DNS, {n} containers, medians of {repeat} runs: {'ms per container':>17}")
    print(f"{'user network (127.0.0.11)':>42}: {med(r[0] for r in user):>17.2f}")
    print(f"{'default bridge (no embedded DNS)':>42}: {med(r[0] for r in plain):>17.2f}")
    ratio = med(a[0] / b[0] for a, b in zip(user, plain, strict=True))
    print(f"{'ratio user network / default bridge':>42}: {ratio:>17.2f}")
    idle, busy = med(r[1] for r in plain), med(r[1] for r in user)
    print(
        f"{'the DNS server (one per host), PSS':>42}: {idle / 1024:.1f} MiB idle, "
        f"{busy / 1024:.1f} MiB serving {n} ({(busy - idle) / n:.1f} KiB per container)"
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="10,50,200")
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--nginx", type=int, default=20, help="nginx containers (0: skip)")
    ap.add_argument("--dns", type=int, default=50, help="embedded DNS containers (0: skip)")
    ap.add_argument(
        "--firewall-backend",
        choices=("iptables", "nftables"),
        default="iptables",
        help="iptables (Docker 28's default: one iptables-restore per container, for its raw "
        "rule) or nftables (Docker 29's: no firewall change for a container without ports)",
    )
    args = ap.parse_args()
    global BACKEND
    BACKEND = args.firewall_backend
    sizes = [int(s) for s in args.sizes.split(",")]
    wipe("benchnl")
    print(
        f"firewall backend {BACKEND}; ms per container, medians of {args.repeat} runs; ratio: "
        "netlab / ip -batch, the median of the run-by-run ratios (and their range)"
    )
    print(
        f"{'N':>5}  {'netlab build':>13} {'ip -batch':>10} {'ratio':>17}   "
        f"{'netlab teardown':>15} {'ip -batch':>10} {'ratio':>17}"
    )
    try:
        for n in sizes:
            r = measure(n, args.repeat)
            print(
                f"{n:>5}  {ms_per(r.nl_build, n):>13.2f} {ms_per(r.ip_build, n):>10.2f} "
                f"{spread(r.build_ratios):>17}   {ms_per(r.nl_teardown, n):>15.2f} "
                f"{ms_per(r.ip_teardown, n):>10.2f} {spread(r.teardown_ratios):>17}",
                flush=True,
            )
        if args.nginx:
            nginx_cost(args.nginx, args.repeat)
        if args.dns:
            dns_cost(args.dns, args.repeat)
    finally:
        wipe("benchnl")
        wipe("benchip")
    left = [x for x in netns.names() if x.startswith(("nl-benchnl-", "nl-benchip-"))]
    return 1 if left else 0


if __name__ == "__main__":
    sys.exit(main())
