"""run.sh with a Python environment that already has netlab (the lab image's, see binder/):
it uses that environment as it is and needs no network (issue 18)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
RUN = str(REPO / "run.sh")

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="run.sh labs installs as root")


def _run(tmp_path: Path, python: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``run.sh`` with NETLAB_PYTHON, HOME and the labs' copy in ``tmp_path``, offline: in a
    network namespace of its own with nothing in it (not even lo up), where any download (pip,
    apt-get update) fails."""
    env = dict(
        os.environ,
        NETLAB_PYTHON=python,
        HOME=str(tmp_path),
        NETLAB_LABS=str(tmp_path / "labs"),
        NETLAB_JUPYTER_DIR=str(tmp_path / "jupyter"),
    )
    return subprocess.run(
        ["unshare", "--net", "--", "bash", RUN, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_an_installed_environment_starts_the_labs_offline(tmp_path: Path) -> None:
    # `jupyter lab --version` stands in for the server: everything before it is the real
    # start (packages checked, the labs' Jupyter set-up written, the student's copy made).
    out = _run(tmp_path, sys.executable, "labs", "--version")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().split(".")[0].isdigit(), out.stdout  # JupyterLab's version
    assert "installing" not in out.stdout + out.stderr  # nothing downloaded or built
    kernel = json.loads((tmp_path / "jupyter/kernels/python3/kernel.json").read_text())
    assert kernel["argv"][0] == sys.executable  # the labs' kernel runs in that environment
    assert (tmp_path / "labs/00-before-you-start.ipynb").is_file()


def test_a_python_without_netlab_is_refused_with_the_install_command(tmp_path: Path) -> None:
    # A Python environment of its own, with nothing installed in it.
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", tmp_path / "bare"], check=True)
    bare = str(tmp_path / "bare/bin/python")
    out = _run(tmp_path, bare, "labs")
    assert out.returncode == 1
    assert out.stderr.strip().splitlines() == [
        f"netlab: {bare} has no netlab from {REPO}: install it with "
        f"NETLAB_PYTHON={bare} {REPO}/run.sh install"
    ]
    assert not (tmp_path / "labs").exists()  # nothing made


# A Python that leaves an orphan behind and then lists the zombies of its PID namespace: what
# JupyterLab does as a container's command (PID 1) when a `docker exec`'s nsenter ends first.
_ORPHAN = """
import glob, subprocess, time
subprocess.run(["sh", "-c", "sleep 0.2 &"], check=True)
time.sleep(1)
zombies = []
for f in glob.glob("/proc/[0-9]*/status"):
    try:
        text = open(f).read()
    except OSError:
        continue
    if "State:\\tZ" in text:
        zombies.append(text.split()[1])
print(open("/proc/1/comm").read().strip(), zombies)
"""


@pytest.mark.parametrize("entry", [["bash", str(REPO / "binder" / "start")], []])
def test_the_image_entry_point_reaps_orphans_as_pid_1(tmp_path: Path, entry: list[str]) -> None:
    """binder/start as PID 1 (the image's ENTRYPOINT) runs its command under tini, which reaps
    orphans; without it the orphan of a Python PID 1 stays a zombie."""
    env = dict(os.environ, HOME=str(tmp_path), NETLAB_JUPYTER_DIR=str(tmp_path / "jupyter"))
    out = subprocess.run(
        ["unshare", "--pid", "--fork", "--mount-proc", *entry, sys.executable, "-c", _ORPHAN],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    if entry:
        assert out.stdout.split()[0] == "tini" and out.stdout.rstrip().endswith("[]"), out.stdout
    else:  # (the case tini is there for)
        assert out.stdout.rstrip().endswith("['sleep']"), out.stdout
