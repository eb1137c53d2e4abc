"""Scale: 10 -> 500 containers on one host, a 10-node swarm with 20 replicas, and memory.

Prints, in one run:
* build, removal (``docker rm -f`` of all of them in one command) and drawing cost per
  container for N = 10, 100, 500, the ratio of the largest to the smallest (1.0 is
  perfectly flat) and of removal to creation, after checking that every container
  answers a ping from the host (drawing: the topology discovered from the kernel and laid
  out with matplotlib, as ``lab.draw()`` does);
* a 10-node swarm: time to init/join, to create a 20-replica service on one overlay, whether
  every task reaches every other task (380 pings), scaling up to ``--peak`` tasks and back
  down, then ``service rm`` (the ratios of removal to creation per task), and that tear-down
  leaves nothing;
* memory: this Python process's growth per container (what a notebook kernel pays), and the
  kernel's memory per container (MemAvailable before/after, divided by N).

Run as root:  .venv/bin/python bench/bench_scale.py [--max 500] [--peak 60]
(``--max 10 --peak 1000``: the swarm's 1000 tasks, the rest kept short)
"""

from __future__ import annotations

import argparse
import re
import resource
import subprocess
import sys
import time

from netlab import Lab
from netlab.docker import docker, use
from netlab.kernel import netns
from netlab.model.lab import wipe
from netlab.views import draw


def mem_available_kib() -> int:
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1])
    return 0


def rss_kib() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def containers(n: int) -> tuple[float, float, float, int, int]:
    """(build, teardown and drawing ms/container, unreachable count, kernel KiB/container)."""
    lab = Lab("scale", down_at_exit=False)
    host = lab.host()
    avail = mem_available_kib()
    t0 = time.perf_counter()
    cs = [host.run("alpine", "sleep 3600") for _ in range(n)]
    build = (time.perf_counter() - t0) * 1000 / n
    kernel_kib = (avail - mem_available_kib()) // n
    bad = 0
    for c in cs:
        r = host.exec(["ping", "-c", "1", "-W", "1", c.ip or ""])
        bad += 0 if r.ok else 1
    t0 = time.perf_counter()
    draw.draw(lab)
    drawing = (time.perf_counter() - t0) * 1000 / n
    t0 = time.perf_counter()
    out = docker(["rm", "-f", *(c.id for c in cs)], lab=lab)  # one command, as a student types
    assert out.code == 0, out
    teardown = (time.perf_counter() - t0) * 1000 / n
    lab.down()
    return build, teardown, drawing, bad, kernel_kib


def swarm(nodes: int, replicas: int, peak: int) -> None:
    names = tuple(f"node{i}" for i in range(1, nodes + 1))
    t0 = time.perf_counter()
    lab = Lab("scaleswarm", hosts=names, down_at_exit=False)
    use(lab)
    token = re.search(r"--token (\S+)", docker("-H node1 swarm init").stdout).group(1)  # type: ignore[union-attr]
    for n in names[1:]:
        assert docker(f"-H {n} swarm join --token {token} 192.168.56.11:2377").code == 0
    t_join = time.perf_counter() - t0
    # (a /20: an overlay's default /24 holds 250 tasks at most, the peak may be more)
    docker("-H node1 network create -d overlay --subnet 10.10.0.0/20 overnet")
    t0 = time.perf_counter()
    out = docker(
        f"-H node1 service create --name s --network overnet --replicas {replicas} "
        "alpine sleep 3600"
    )
    assert out.code == 0, out
    t_svc = time.perf_counter() - t0
    tasks = [c for h in lab.hosts for c in h.containers()]
    t0 = time.perf_counter()
    failures = 0
    for a in tasks:
        for b in tasks:
            if a is not b:
                r = a.exec(["ping", "-c", "1", "-W", "1", b.networks["overnet"].ip])
                failures += 0 if r.ok else 1
    t_ping = time.perf_counter() - t0
    spread = sorted(len(h.containers()) for h in lab.hosts)
    # Removal should cost about what creation costs: scale up to the peak, back, then rm.
    more = peak - replicas

    def scale(n: int) -> float:
        t0 = time.perf_counter()
        out = docker(f"-H node1 service scale -d s={n}")
        assert out.code == 0, out
        return time.perf_counter() - t0

    t_up = scale(peak) / more
    t_scale_down = scale(replicas) / more
    scale(peak)
    t0 = time.perf_counter()
    out = docker("-H node1 service rm s")
    assert out.code == 0, out
    t_rm = (time.perf_counter() - t0) / peak
    t0 = time.perf_counter()
    lab.down()
    t_down = time.perf_counter() - t0
    left = [n for n in netns.names() if n.startswith("nl-scaleswarm-")]
    print(
        f"swarm: {nodes} nodes up and joined in {t_join:.2f} s; {replicas} replicas on one "
        f"overlay in {t_svc:.2f} s (tasks per node {spread[0]}-{spread[-1]}); "
        f"{len(tasks) * (len(tasks) - 1)} task-to-task pings in {t_ping:.1f} s, "
        f"{failures} failed; down in {t_down:.2f} s, {len(left)} namespaces left"
    )
    print(
        f"service scale {replicas} -> {peak} -> {replicas}, then rm of {peak}: up "
        f"{t_up * 1000:.1f} ms per task, down {t_scale_down * 1000:.1f} ms, rm "
        f"{t_rm * 1000:.1f} ms; down / up = {t_scale_down / t_up:.2f}, rm / up = "
        f"{t_rm / t_up:.2f} (1.0: removal costs what creation does)"
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--max", type=int, default=500)
    ap.add_argument("--peak", type=int, default=60, help="tasks the swarm scales up to")
    args = ap.parse_args()
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    wipe("scale")
    wipe("scaleswarm")
    sizes = [s for s in (10, 100, 500) if s <= args.max]
    rss0 = rss_kib()
    draw.draw(Lab("scale", down_at_exit=False))  # (matplotlib's first figure costs extra)
    wipe("scale")
    print(
        f"{'N':>5} {'build ms/c':>11} {'rm -f ms/c':>14} {'draw ms/c':>10} "
        f"{'unreachable':>12} {'kernel KiB/c':>13}"
    )
    results = {}
    for n in sizes:
        b, t, dr, bad, kib = containers(n)
        results[n] = (b, t, dr)
        print(f"{n:>5} {b:>11.2f} {t:>14.2f} {dr:>10.2f} {bad:>12} {kib:>13}", flush=True)
    lo, hi = sizes[0], sizes[-1]
    print(
        f"flatness: build cost at N={hi} / N={lo} = {results[hi][0] / results[lo][0]:.2f}, "
        f"rm -f {results[hi][1] / results[lo][1]:.2f}, "
        f"drawing {results[hi][2] / results[lo][2]:.2f}"
    )
    print(
        "removal vs creation (docker rm -f of all N in one command / docker run, per "
        "container): " + ", ".join(f"N={n} {results[n][1] / results[n][0]:.2f}" for n in sizes)
    )
    lab = Lab("scale", down_at_exit=False)
    before = rss_kib()
    cs = [lab.host().run("alpine", "sleep 3600") for _ in range(200)]
    grew = (rss_kib() - before) / len(cs)
    lab.down()
    print(
        f"memory: this process grew {grew:.1f} KiB per container (200 containers; process "
        f"RSS {rss0 // 1024} MiB at start)"
    )
    swarm(10, 20, args.peak)
    left = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    return 1 if "nl-scale" in left else 0


if __name__ == "__main__":
    sys.exit(main())
