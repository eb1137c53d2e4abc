"""netlab doctor tests by doing, and says the fix for the runtime it is in; a machine that
cannot run labs stops the first cell of a lab with one line, never a traceback.

The cases a container runtime makes are built here without one: a read-only /proc/sys (as
Docker's and podman's defaults mount it) in a private mount namespace, capabilities dropped
from the bounding set with setpriv (podman's default set lacks NET_RAW).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from netlab.kernel import netns, userns
from netlab.model import doctor

pytestmark = [
    pytest.mark.root,
    pytest.mark.skipif(
        userns.inside(), reason="rootless: the machine's capabilities and mounts are not ours"
    ),
]
needs_setpriv = pytest.mark.skipif(shutil.which("setpriv") is None, reason="needs setpriv")

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LAB01 = os.path.join(REPO, "labs", "01-default-bridge.ipynb")
# /proc/sys read-only, as container runtimes mount it, for the command after "$@"; the
# mount namespace (and the read-only mount) goes with it.
READ_ONLY_PROC_SYS = [
    *("unshare", "--mount", "--propagation", "private", "--", "sh", "-c"),
    'mount --bind /proc/sys /proc/sys && mount -o remount,bind,ro /proc/sys && exec "$@"',
    "read-only-proc-sys",
]


def without(cap: str) -> list[str]:
    """An argv prefix that runs a command as root without ``cap`` (e.g. ``net_raw``)."""
    return ["setpriv", f"--inh-caps=-{cap}", f"--bounding-set=-{cap}", "--"]


def netlab_cmd(*args: str, prefix: list[str] | None = None) -> subprocess.CompletedProcess[str]:
    argv = [*(prefix or []), sys.executable, "-m", "netlab", *args]
    return subprocess.run(argv, capture_output=True, text=True, timeout=120)


def lines_of(out: str) -> dict[str, str]:
    """doctor's output: each check's name -> its whole line (and the fix line after it)."""
    found: dict[str, str] = {}
    last = ""
    for line in out.splitlines():
        if line.startswith("     fix: "):
            found[last] += "\n" + line
        elif line[:4] in ("ok  ", "FAIL", "n/a "):
            last = line[5:].split("  ")[0].strip()
            found[last] = line
    return found


def failing_doctor(prefix: list[str]) -> dict[str, str]:
    """doctor's lines, run under ``prefix``; it must find a problem."""
    out = netlab_cmd("doctor", prefix=prefix)
    assert out.returncode == 1, out.stdout + out.stderr
    return lines_of(out.stdout)


def no_probe_left() -> bool:
    return not [n for n in netns.names() if n.startswith("nl-doctor")]


def test_doctor_does_what_the_labs_do_here() -> None:
    checks = {c.name: c for c in doctor.run_checks()}
    for name in (
        "CAP_NET_RAW",
        "kernel: /proc/sys",
        "kernel: ping",
        "kernel: bind mounts",
        "kernel: container processes",
    ):
        assert checks[name].ok, checks[name]
    assert no_probe_left()


def test_a_read_only_proc_sys_is_found_and_stops_a_lab_in_one_line() -> None:
    found = failing_doctor(READ_ONLY_PROC_SYS)
    assert found["kernel: /proc/sys"].startswith("FAIL"), found
    assert "Read-only file system" in found["kernel: /proc/sys"]
    assert f"fix: {doctor.fix('/proc/sys')}" in found["kernel: /proc/sys"]
    assert found["kernel: veth"].startswith("ok"), found  # (only what is missing fails)
    assert no_probe_left()

    up = netlab_cmd("up", "docprobe", prefix=READ_ONLY_PROC_SYS)
    assert up.returncode == 1 and up.stdout == "", up
    assert up.stderr.count("\n") == 1 and "a writable /proc/sys" in up.stderr, up.stderr
    assert doctor.fix("/proc/sys") in up.stderr and "netlab doctor" in up.stderr
    assert "docprobe" not in netlab_cmd("ls").stdout  # (nothing half-built)

    # A lab's first cell, in a real kernel: one line, and the notebook stops there.
    run = (
        "import json, nbformat, nbclient\n"
        f"nb = nbformat.read({LAB01!r}, as_version=4)\n"
        "try:\n"
        "    nbclient.NotebookClient(nb, timeout=120, kernel_name='python3').execute()\n"
        "except nbclient.exceptions.CellExecutionError:\n"
        "    pass\n"
        "code = [c for c in nb.cells if c.cell_type == 'code']\n"
        "print(json.dumps([[o for o in c.get('outputs', []) if o['output_type'] == 'error']"
        " for c in code]))\n"
    )
    done = subprocess.run(
        [*READ_ONLY_PROC_SYS, sys.executable, "-c", run],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=os.path.dirname(LAB01),
    )
    assert done.returncode == 0, done.stderr
    errors = json.loads(done.stdout.splitlines()[-1])
    assert [len(e) for e in errors[:2]] == [1, 0], errors[:2]
    first = errors[0][0]
    assert first["ename"] == "PrivilegeError" and len(first["traceback"]) == 1, first
    assert "a writable /proc/sys" in first["traceback"][0]
    assert not any(errors[1:])  # (nothing after the first cell ran: no NameError)


@needs_setpriv
def test_without_net_raw_ping_fails_and_doctor_says_so() -> None:
    found = failing_doctor(without("net_raw"))
    for name in ("CAP_NET_RAW", "kernel: ping"):
        assert found[name].startswith("FAIL"), found
        assert f"fix: {doctor.fix('CAP_NET_RAW')}" in found[name], found[name]
    assert "not permitted" in found["kernel: ping"]
    assert found["kernel: veth"].startswith("ok"), found
    up = netlab_cmd("up", "docprobe", prefix=without("net_raw"))
    assert up.returncode == 1 and "lacks CAP_NET_RAW" in up.stderr, up.stderr
    assert no_probe_left()


@needs_setpriv
def test_without_sys_admin_nothing_is_built_and_doctor_says_so() -> None:
    found = failing_doctor(without("sys_admin"))
    for name in ("CAP_SYS_ADMIN", "kernel: network namespaces", "kernel: bind mounts"):
        assert found[name].startswith("FAIL"), found
        assert doctor.fix("CAP_SYS_ADMIN") in found[name], found[name]
    assert no_probe_left()
