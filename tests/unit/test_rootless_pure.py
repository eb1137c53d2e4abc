"""Rootless mode's pure parts: subordinate ids, the uid map, the Jupyter kernel and terminal,
and the launcher as root (which joins nothing: it runs the kernel as it is)."""

from __future__ import annotations

import json
import os
import pwd
import subprocess
import sys
from pathlib import Path

import pytest

from netlab.kernel import userns
from netlab.notebook import jupyter


def test_subordinate_ids_by_name_or_uid_first_range_at_most_65536() -> None:
    me = os.getuid()
    name = pwd.getpwuid(me).pw_name
    table = f"someone:100000:65536\n{name}:165536:65536\n{name}:300000:65536\n"
    assert userns.subordinate_ids("uid", me, table=table) == (165536, 65536)
    assert userns.subordinate_ids("uid", me, table=f"{me}:200000:100000\n") == (200000, 65536)
    assert userns.subordinate_ids("uid", me, table="someone:100000:65536\n") is None
    # Broken or empty ranges are no ranges.
    assert userns.subordinate_ids("uid", me, table=f"{name}:x:65536\n{name}:1:0\n") is None


def test_the_uid_map_in_one_line() -> None:
    assert userns.map_text("0 1001 1\n1 100000 65536\n") == "0 -> 1001, 1-65536 -> 100000-165535"
    assert userns.map_text("         0       1002          1\n") == "0 -> 1002"


def test_the_holder_socket_is_per_uid_and_abstract() -> None:
    assert userns.socket_name(1001) == b"\0netlab-rootless-1001"
    assert userns.socket_name(1001) != userns.socket_name(1002)


def test_the_kernel_and_terminal_start_inside(tmp_path: os.PathLike[str]) -> None:
    kernel_json, server_json = jupyter.write(str(tmp_path), python="/venv/bin/python")
    with open(kernel_json) as f:
        spec = json.load(f)
    assert kernel_json.endswith("/kernels/python3/kernel.json")  # (the name the labs ask for)
    assert spec["argv"] == [
        "/venv/bin/python",
        "-m",
        "netlab.rootless",
        "kernel",
        "--",
        "/venv/bin/python",
        "-m",
        "ipykernel_launcher",
        "-f",
        "{connection_file}",
    ]
    assert spec["interrupt_mode"] == "signal"
    with open(server_json) as f:
        config = json.load(f)
    assert config["ServerApp"]["terminado_settings"]["shell_command"] == [
        "/venv/bin/netlab",
        "shell",
    ]


@pytest.mark.skipif(os.geteuid() != 0, reason="as root the launcher joins nothing")
def test_the_launcher_as_root_runs_the_kernel_as_it_is() -> None:
    launcher = subprocess.Popen(
        [sys.executable, "-m", "netlab.rootless", "kernel", "--", "sh", "-c", "echo $$ ok"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    out, err = launcher.communicate(timeout=30)
    # The kernel is the launcher itself (exec'd): Jupyter's signals reach it directly.
    assert out == f"{launcher.pid} ok\n" and err == "" and launcher.returncode == 0


@pytest.mark.skipif(userns.inside(), reason="inside rootless netlab the launcher joins nothing")
def test_a_kernel_starts_outside_when_rootless_mode_cannot_and_knows_why() -> None:
    # (As a user for whom user namespaces are blocked: the join is made to fail.)
    blocked = (
        "import os, sys\n"
        "from netlab.kernel import userns\n"
        "def refuse(**kw): raise userns.RootlessError('user namespaces are off here')\n"
        "userns.enter = refuse\n"
        "os.geteuid = lambda: 1000\n"
        "sys.exit(userns.main(sys.argv[1:]))\n"
    )
    show = ["sh", "-c", 'echo "$NETLAB_ROOTLESS_ERROR"']
    kernel = subprocess.run(
        [sys.executable, "-c", blocked, "kernel", "--", *show], capture_output=True, text=True
    )
    assert kernel.returncode == 0 and kernel.stdout == "user namespaces are off here\n"
    assert kernel.stderr == "netlab: user namespaces are off here\n"
    run = subprocess.run(
        [sys.executable, "-c", blocked, "run", "--", *show], capture_output=True, text=True
    )
    assert (run.returncode, run.stdout) == (1, "")  # (a command does not run outside)


def test_the_launcher_says_how_it_is_used() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "netlab.rootless", "frobnicate"], capture_output=True, text=True
    )
    assert done.returncode == 2 and "unknown use 'frobnicate'" in done.stderr


@pytest.mark.parametrize(
    ("sysctls", "says"),
    [
        ({"/proc/sys/user/max_user_namespaces": "0"}, "sysctl -w user.max_user_namespaces="),
        (
            {"/proc/sys/kernel/unprivileged_userns_clone": "0"},
            "sysctl -w kernel.unprivileged_userns_clone=1",
        ),
        (
            {"/proc/sys/kernel/apparmor_restrict_unprivileged_userns": "1"},
            "sysctl -w kernel.apparmor_restrict_unprivileged_userns=0",
        ),
        ({}, "run netlab as root instead"),
    ],
)
def test_why_user_namespaces_are_refused_and_the_fix(
    monkeypatch: pytest.MonkeyPatch, sysctls: dict[str, str], says: str
) -> None:
    monkeypatch.setattr(userns, "_read", lambda path: sysctls.get(path, ""))
    assert says in userns.why_not()


def test_rootless_is_blocked_by_a_masked_proc(tmp_path: Path) -> None:
    # podman's default masks (a bind over a file of /proc, a tmpfs over a folder) stop it;
    # binfmt_misc's mount, on a folder that is always empty, does not.
    info = tmp_path / "mountinfo"
    binfmt = "30 25 0:27 / /proc/sys/fs/binfmt_misc rw - autofs systemd-1 rw\n"
    info.write_text("22 1 0:21 / /proc rw,nosuid - proc proc rw\n" + binfmt)
    assert userns.proc_masked(str(info)) == ""
    info.write_text(
        "22 1 0:21 / /proc rw - proc proc rw\n"
        "23 22 0:5 /null /proc/kcore rw - devtmpfs udev rw\n"
        "24 22 0:30 / /proc/acpi ro - tmpfs tmpfs ro\n"
    )
    why = userns.proc_masked(str(info))
    assert "/proc/kcore, /proc/acpi" in why and "unmask=ALL" in why
