"""A class on one machine: N students, each a Unix user with rootless netlab, run the whole
lab series at the same time.

Each student is a throwaway user (with subordinate ids, as ``useradd`` gives) who executes
every notebook of labs/ in order (``jupyter nbconvert --execute``, as "Run All" would) inside
their own rootless netlab (``netlab shell``). Each student's processes, the rootless holder
and every lab process included, are in a cgroup of the student's own (cpuacct and memory on
cgroup v1, cpu and memory on cgroup v2), which gives their CPU time and their peak memory
(the kernel's count, page cache charged to the student included). Printed per N: wall time
per student, CPU time per student, peak memory per student, failures, and the ratios to
N = 1. Memory comes three ways: the cgroup's peak (page cache included, which the first
student to read a library pays for), "own" (what only this student holds: the peak of
anonymous memory and tmpfs), and "netlab" (own, without the notebook runner: ``jupyter
nbconvert`` stands in for the Jupyter server and the browser that every student of a hub
has, whatever the notebooks do; the notebook kernel, netlab's processes and the labs' state
count). Target on a 2-core machine: 20 students, no failure, CPU per student within 1x of a
lone student's (so the class's total is within 20x: no contention collapse), netlab's
memory under 150 MB per student.

Run as root:  .venv/bin/python bench/bench_class.py [--students 1,5,10,20] [--labs 00,01]

Users, their homes, cgroups and rootless netlabs are removed at the end, also on Ctrl-C.
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import os
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass

from netlab import throwaway

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CGROUP_V1 = ("/sys/fs/cgroup/cpuacct", "/sys/fs/cgroup/memory")
CGROUP_V2 = "/sys/fs/cgroup"
JOIN_CGROUPS = 'for cg in $CGROUPS; do echo $$ > "$cg/cgroup.procs"; done; exec "$@"'


@dataclass
class Student:
    user: throwaway.User
    cgroups: list[str]
    started: float = 0.0
    wall: float = 0.0
    proc: subprocess.Popen[bytes] | None = None
    log: str = ""
    own_peak: float = 0.0
    netlab_peak: float = 0.0


def _cgroup_root() -> tuple[int, list[str]]:
    if all(os.path.isdir(p) for p in CGROUP_V1):
        return 1, list(CGROUP_V1)
    if os.path.exists(os.path.join(CGROUP_V2, "cgroup.controllers")):
        return 2, [CGROUP_V2]
    raise SystemExit("bench_class needs cgroup v1 cpuacct+memory or cgroup v2")


def make_student(i: int, tag: str, version: int, roots: list[str]) -> Student:
    user = throwaway.add(f"nlclass{tag}s{i}")
    cgroups = []
    for root in roots:
        path = os.path.join(root, f"netlab-bench-{tag}", user.name)
        os.makedirs(path, exist_ok=True)
        cgroups.append(path)
    if version == 2:
        with (
            contextlib.suppress(OSError),
            open(os.path.join(roots[0], f"netlab-bench-{tag}", "cgroup.subtree_control"), "w") as f,
        ):
            f.write("+cpu +memory")
    return Student(user, cgroups)


def start(student: Student, notebooks: list[str]) -> None:
    """The student's run: join their cgroups, then as them, inside their rootless netlab,
    execute each notebook in order (stop at the first that fails)."""
    series = " && ".join(
        f"jupyter nbconvert --to notebook --execute --ExecutePreprocessor.timeout=300 "
        f'--output-dir "$HOME/out" labs/{nb} >>"$HOME/run.log" 2>&1'
        for nb in notebooks
    )
    # (Root joins the student's cgroups first: everything the student starts is born there,
    # the rootless holder and every lab process included.)
    argv = throwaway.argv_as(student.user, ["netlab", "shell", "--", "sh", "-c", series])
    student.started = time.monotonic()
    student.proc = subprocess.Popen(
        ["sh", "-c", JOIN_CGROUPS, "join-cgroups", *argv],
        env={"CGROUPS": " ".join(student.cgroups), "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def cpu_seconds(student: Student, version: int) -> float:
    if version == 1:
        with open(os.path.join(student.cgroups[0], "cpuacct.usage")) as f:
            return int(f.read()) / 1e9
    with open(os.path.join(student.cgroups[0], "cpu.stat")) as f:
        for line in f:
            if line.startswith("usage_usec"):
                return int(line.split()[1]) / 1e6
    return 0.0


def peak_mb(student: Student, version: int) -> float:
    name = "memory.max_usage_in_bytes" if version == 1 else "memory.peak"
    folder = student.cgroups[1] if version == 1 else student.cgroups[0]
    try:
        with open(os.path.join(folder, name)) as f:
            return int(f.read()) / 2**20
    except OSError:
        return float("nan")


def own_mb(student: Student, version: int) -> float:
    """What the student holds that no one else shares, now: anonymous memory (processes'
    heaps and stacks) and tmpfs (the labs' state and logs), from the cgroup's memory.stat.
    (The kernel's peak also counts page cache, mostly the Python libraries that the first
    student to read them pays for.)"""
    folder = student.cgroups[1] if version == 1 else student.cgroups[0]
    keys = ("total_rss", "total_shmem") if version == 1 else ("anon", "shmem")
    total = 0
    with contextlib.suppress(OSError), open(os.path.join(folder, "memory.stat")) as f:
        for line in f:
            key, _, value = line.partition(" ")
            if key in keys:
                total += int(value)
    return total / 2**20


def runner_mb(student: Student, version: int) -> float:
    """The anonymous memory of the student's notebook runner (``jupyter nbconvert``, which
    stands in for the Jupyter server and the browser: every student of a hub has those,
    whatever the notebooks do), from its ``smaps_rollup``. (A pid's command line is read
    every time: a process that is a shell or ``jupyter`` now may exec the runner next.)"""
    folder = student.cgroups[1] if version == 1 else student.cgroups[0]
    total = 0
    with contextlib.suppress(OSError), open(os.path.join(folder, "cgroup.procs")) as f:
        pids = [int(line) for line in f if line.strip()]
    for pid in pids:
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                runner = b"jupyter-nbconvert" in f.read()
            if runner:
                with open(f"/proc/{pid}/smaps_rollup") as f:
                    total += sum(int(ln.split()[1]) for ln in f if ln.startswith("Anonymous:"))
        except (OSError, ValueError):
            continue
    return total / 1024


def sample_own(students: list[Student], version: int, done: threading.Event) -> None:
    """Keep each student's peak of :func:`own_mb`, and of that without the notebook runner
    (:func:`runner_mb`), sampled every 0.3 s, until ``done``."""
    while not done.wait(0.3):
        for s in students:
            own = own_mb(s, version)
            s.own_peak = max(s.own_peak, own)
            s.netlab_peak = max(s.netlab_peak, own - runner_mb(s, version))


def remove(student: Student) -> None:
    """Stop the student's rootless netlab (every process in it ends), then remove the user,
    their files and cgroups."""
    if student.proc is not None and student.proc.poll() is None:
        student.proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            student.proc.wait(10)
    throwaway.remove(student.user)
    deadline = time.monotonic() + 10
    for cg in student.cgroups:
        while time.monotonic() < deadline:
            try:
                os.rmdir(cg)
                break
            except OSError:
                time.sleep(0.1)


def run_class(n: int, notebooks: list[str], version: int, roots: list[str]) -> dict[str, float]:
    tag = f"{os.getpid() % 10000}n{n}"
    students: list[Student] = []
    done = threading.Event()
    try:
        for i in range(n):
            students.append(make_student(i, tag, version, roots))
        sampler = threading.Thread(target=sample_own, args=(students, version, done), daemon=True)
        for s in students:
            start(s, notebooks)
        sampler.start()
        failed = 0
        for s in students:
            assert s.proc is not None
            code = s.proc.wait()
            s.wall = time.monotonic() - s.started
            if code != 0:
                failed += 1
                with contextlib.suppress(OSError), open(os.path.join(s.user.home, "run.log")) as f:
                    s.log = f.read()[-2000:]
        done.set()
        sampler.join()
        walls = [s.wall for s in students]
        cpus = [cpu_seconds(s, version) for s in students]
        peaks = [peak_mb(s, version) for s in students]
        for s in students:
            if s.log:
                print(f"  {s.user.name} failed; the end of its log:\n{s.log}", file=sys.stderr)
        return {
            "wall": statistics.mean(walls),
            "wall_max": max(walls),
            "cpu": statistics.mean(cpus),
            "peak": statistics.mean(peaks),
            "peak_max": max(peaks),
            "own": statistics.mean(s.own_peak for s in students),
            "own_max": max(s.own_peak for s in students),
            "netlab": statistics.mean(s.netlab_peak for s in students),
            "netlab_max": max(s.netlab_peak for s in students),
            "failed": failed,
        }
    finally:
        done.set()
        for s in students:
            remove(s)
        for root in roots:
            with contextlib.suppress(OSError):
                os.rmdir(os.path.join(root, f"netlab-bench-{tag}"))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--students", default="1,5,10,20", help="class sizes, e.g. 1,5,10,20")
    p.add_argument("--labs", default="", help="notebook number prefixes (default: all)")
    args = p.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("run bench_class as root: it makes throwaway users and cgroups")
    sizes = [int(x) for x in args.students.split(",") if x]
    wanted = [x for x in args.labs.split(",") if x]
    notebooks = sorted(
        os.path.basename(p)
        for p in glob.glob(os.path.join(REPO, "labs", "[0-9][0-9]-*.ipynb"))
        if not wanted or os.path.basename(p)[:2] in wanted
    )
    version, roots = _cgroup_root()
    print(
        f"{len(notebooks)} notebooks per student ({notebooks[0]} .. {notebooks[-1]}), "
        f"cgroup v{version}, {os.cpu_count()} CPUs"
    )
    print(
        f"{'students':>8} {'wall/student':>13} {'(max)':>8} {'CPU/student':>12} "
        f"{'peak MB/student':>16} {'(max)':>7} {'own MB':>7} {'(max)':>7} {'netlab MB':>10} "
        f"{'(max)':>7} {'failed':>7} "
        f"{'CPU ratio':>10} {'wall ratio':>11}"
    )
    base: dict[str, float] | None = None
    for n in sizes:
        r = run_class(n, notebooks, version, roots)
        base = base or r
        print(
            f"{n:>8} {r['wall']:>12.1f}s {r['wall_max']:>7.1f}s {r['cpu']:>11.1f}s "
            f"{r['peak']:>16.0f} {r['peak_max']:>7.0f} {r['own']:>7.0f} {r['own_max']:>7.0f} "
            f"{r['netlab']:>10.0f} {r['netlab_max']:>7.0f} "
            f"{int(r['failed']):>7} "
            f"{r['cpu'] / base['cpu']:>10.2f} {r['wall'] / base['wall']:>11.2f}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
