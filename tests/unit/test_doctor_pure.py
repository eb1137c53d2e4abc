"""Which runtime netlab is in, and the fix doctor gives for each missing permission there."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from netlab.errors import NetlabError, PrivilegeError
from netlab.kernel import userns
from netlab.model import doctor

MARKS = ("/.dockerenv", "/run/.containerenv", "/var/run/secrets/kubernetes.io")


@pytest.fixture
def marks(monkeypatch: pytest.MonkeyPatch) -> set[str]:
    """The runtime marks that "exist" (none at first), and no runtime variables."""
    present: set[str] = set()
    real_exists, real_isdir = os.path.exists, os.path.isdir
    monkeypatch.setattr(
        doctor.os.path, "exists", lambda p: p in present if p in MARKS else real_exists(p)
    )
    monkeypatch.setattr(
        doctor.os.path, "isdir", lambda p: p in present if p in MARKS else real_isdir(p)
    )
    for var in ("KUBERNETES_SERVICE_HOST", doctor.CONTAINER_VARIABLE):
        monkeypatch.delenv(var, raising=False)
    return present


def test_runtime_is_read_from_the_marks_runtimes_leave(
    marks: set[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert doctor.runtime() == "machine"
    marks.add("/.dockerenv")
    assert doctor.runtime() == "docker"
    marks.add("/run/.containerenv")  # (podman's; an image built by Docker may keep .dockerenv)
    assert doctor.runtime() == "podman"
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1")
    assert doctor.runtime() == "kubernetes"
    marks.clear()
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST")
    monkeypatch.setenv(doctor.CONTAINER_VARIABLE, "lxc")
    assert doctor.runtime() == "container"
    monkeypatch.setenv(doctor.CONTAINER_VARIABLE, "podman")
    assert doctor.runtime() == "podman"


def test_every_need_has_a_fix_for_every_runtime() -> None:
    runtimes = {"docker", "podman", "kubernetes", "container", "machine"}
    for need, fixes in doctor.FIXES.items():
        assert set(fixes) == runtimes, need
    assert "systempaths=unconfined" in doctor.fix("/proc/sys", "docker")
    assert "unmask=/proc/sys" in doctor.fix("/proc/sys", "podman")
    assert "procMount: Unmasked" in doctor.fix("/proc/sys", "kubernetes")
    assert "--cap-add NET_RAW" in doctor.fix("CAP_NET_RAW", "podman")
    assert doctor.fix("root", "docker") == "run the container as root: docker run --user root ..."


def test_a_privileged_container_s_normal_user_is_told_to_run_as_root(
    marks: set[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    marks.add("/.dockerenv")
    monkeypatch.setattr(doctor.os, "geteuid", lambda: 1000)
    with pytest.raises(PrivilegeError) as err:
        doctor.require_privileges()
    text = str(err.value)
    assert "this Docker container runs as uid 1000" in text and "--user root" in text
    assert "\n" not in text and "netlab doctor" in text
    checks = {c.name: c for c in doctor.run_checks(probe_kernel=False)}
    assert not checks["root"].ok and checks["root"].fix == doctor.fix("root", "docker")


def test_a_kernel_outside_rootless_mode_says_why_labs_cannot_run(
    marks: set[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(doctor.os, "geteuid", lambda: 1000)
    monkeypatch.setenv(userns.ERROR_VARIABLE, "user namespaces are off (max_user_namespaces = 0)")
    with pytest.raises(PrivilegeError, match=r"rootless mode cannot start here: user namesp"):
        doctor.require_privileges()
    marks.add("/var/run/secrets/kubernetes.io")  # (public Binder: a pod)
    with pytest.raises(PrivilegeError) as err:
        doctor.require_privileges()
    text = str(err.value)
    assert text.endswith(
        "; or " + doctor.fix("root", "kubernetes") + "; `netlab doctor` checks everything"
    )


def test_a_kernel_in_a_container_that_masks_proc_says_it_once(
    marks: set[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """What binder/check's unprivileged mode asks of lab 00 as jovyan under podman: one line,
    the reason once, the command that runs it as root, and the doctor."""
    marks.add("/run/.containerenv")
    monkeypatch.setattr(doctor.os, "geteuid", lambda: 1000)
    masked = userns.CANNOT_START + "/proc is partly masked (...): ... (podman: --security-opt "
    monkeypatch.setenv(
        userns.ERROR_VARIABLE, masked + "unmask=ALL; or run netlab as root: --user root)"
    )
    with pytest.raises(PrivilegeError) as err:
        doctor.require_privileges()
    text = str(err.value)
    assert text.count("cannot start here") == 1, text
    assert "/proc is partly masked" in text and "podman run --user root" in text, text
    assert "netlab doctor" in text and "\n" not in text


def test_missing_capabilities_and_proc_sys_are_named_with_their_fixes(
    marks: set[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    marks.add("/run/.containerenv")
    monkeypatch.setattr(doctor.os, "geteuid", lambda: 0)
    monkeypatch.setattr(doctor, "effective_caps", lambda: 1 << doctor.CAP_SYS_ADMIN)
    monkeypatch.setattr(doctor, "proc_sys_writable", lambda: False)
    with pytest.raises(PrivilegeError) as err:
        doctor.require_privileges()
    text = str(err.value)
    assert "lacks CAP_NET_ADMIN and CAP_NET_RAW and a writable /proc/sys" in text, text
    for need in ("CAP_NET_ADMIN", "CAP_NET_RAW", "/proc/sys"):
        assert doctor.fix(need, "podman") in text


def test_without_namespaces_a_read_only_proc_sys_is_named_too(
    marks: set[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # podman's defaults as root: no CAP_SYS_ADMIN (no namespace to write a setting in) and
    # /proc/sys read-only; one doctor run names both fixes.
    marks.add("/run/.containerenv")

    def refused(name: str) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(doctor.netns, "create", refused)
    monkeypatch.setattr(doctor, "probe_processes", lambda where=None: [])
    monkeypatch.setattr(doctor, "effective_caps", lambda: 0)
    monkeypatch.setattr(doctor, "proc_sys_writable", lambda: False)
    checks = {c.name: c for c in doctor.probe_features()}
    assert not checks["kernel: network namespaces"].ok
    assert checks["kernel: network namespaces"].fix == doctor.fix("CAP_SYS_ADMIN", "podman")
    assert not checks["kernel: /proc/sys"].ok
    assert checks["kernel: /proc/sys"].fix == doctor.fix("/proc/sys", "podman")
    monkeypatch.setattr(doctor, "proc_sys_writable", lambda: True)
    assert "kernel: /proc/sys" not in {c.name for c in doctor.probe_features()}


def test_netlab_errors_show_as_one_line_in_a_notebook() -> None:
    err = PrivilegeError("netlab needs root")
    assert err._render_traceback_() == ["PrivilegeError: netlab needs root"]
    assert NetlabError("x")._render_traceback_() == ["NetlabError: x"]


def test_a_login_user_s_path_without_sbin_still_finds_the_tools() -> None:
    # Debian gives a normal user PATH=/usr/local/bin:/usr/bin:/bin; nft, iptables, dnsmasq
    # and conntrack live in /usr/sbin. A student's kernel must find them anyway (found in a
    # browser walk-through: doctor told a student to install what was installed).
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": os.environ.get("HOME", "/")}
    code = (
        "import os, netlab\n"
        "from netlab.model import doctor\n"
        "doctor.require_tools()\n"
        "print(os.environ['PATH'])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("/usr/local/sbin:/usr/sbin:/sbin")
