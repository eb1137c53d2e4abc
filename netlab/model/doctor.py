"""What netlab needs from the machine, checked by doing, with a fix for each failure.

netlab needs root with CAP_NET_ADMIN (interfaces, routes, nftables), CAP_SYS_ADMIN (creating
and entering namespaces, bind mounts) and CAP_NET_RAW (what ``ping`` needs), and a writable
``/proc/sys`` (each namespace's own settings). A VM as root has all of it, and so has a
container started with ``--privileged``; container runtimes otherwise drop or mask some of it
(Docker and podman mount ``/proc/sys`` read-only, podman's default capabilities lack NET_RAW,
AppArmor's default profiles deny mounts). Without root, netlab has them in a user namespace
of the user's own (rootless mode, see :mod:`netlab.kernel.userns`), where the kernel allows
unprivileged user namespaces.

``netlab doctor`` does not trust capability bits alone: in a scratch namespace it removes
again, it creates the kernel objects and runs the programs the labs use, and reports each
failure with the fix for the runtime it finds itself in (:func:`runtime`): Docker, podman,
Kubernetes, another container, or a machine of its own.
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass

from netlab.errors import PrivilegeError, ToolMissing
from netlab.kernel import netns, nft, proc, rtnl, userns
from netlab.model import images

CAP_NET_ADMIN = 12
CAP_NET_RAW = 13
CAP_SYS_ADMIN = 21
CAPS = (
    ("CAP_NET_ADMIN", CAP_NET_ADMIN),
    ("CAP_SYS_ADMIN", CAP_SYS_ADMIN),
    ("CAP_NET_RAW", CAP_NET_RAW),
)
# systemd's convention for "this is a container, and which" (podman sets container=podman)
CONTAINER_VARIABLE = "container"

TOOLS = {
    "ip": "iproute2",
    "nft": "nftables",
    "ping": "iputils-ping",
    "tcpdump": "tcpdump",
    "curl": "curl",
    "nsenter": "util-linux",
    "unshare": "util-linux",
    "busybox": "busybox",
    "dnsmasq": "dnsmasq-base",
    "brctl": "bridge-utils",
    "conntrack": "conntrack",
    "iptables": "iptables",
    "dig": "dnsutils",
}


@dataclass(frozen=True)
class Check:
    """One check: its name, whether it passed, what was seen and how to fix a failure."""

    name: str
    ok: bool
    detail: str
    fix: str = ""
    optional: bool = False  # a failure only takes away one feature (a network driver)


def effective_caps() -> int:
    """The effective capability set of this process, from /proc/self/status."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("CapEff:"):
                return int(line.split()[1], 16)
    return 0


def runtime() -> str:
    """Where netlab runs: ``docker``, ``podman``, ``kubernetes``, ``container`` (another
    runtime: LXC, systemd-nspawn...) or ``machine`` (a VM or a computer of its own), from
    the marks each runtime leaves (``/.dockerenv``, ``/run/.containerenv``, the service
    account or environment Kubernetes gives every pod, systemd's ``container=`` variable)."""
    if os.environ.get("KUBERNETES_SERVICE_HOST") or os.path.isdir("/var/run/secrets/kubernetes.io"):
        return "kubernetes"
    if os.path.exists("/run/.containerenv") or os.environ.get(CONTAINER_VARIABLE) == "podman":
        return "podman"
    if os.path.exists("/.dockerenv"):
        return "docker"
    if os.environ.get(CONTAINER_VARIABLE):
        return "container"
    return "machine"


RUNTIME_NAMES = {
    "docker": "Docker container",
    "podman": "podman container",
    "kubernetes": "Kubernetes pod",
    "container": "container",
    "machine": "machine",
}


# How to give netlab what it lacks, per runtime. (Docker: docker/cli's run flags and moby's
# oci/defaults.go, which mounts /proc/sys read-only and keeps NET_RAW; podman: its default
# capabilities lack NET_RAW; Kubernetes: the pod's securityContext, as hub/k8s/ sets it.)
FIXES: dict[str, dict[str, str]] = {
    "root": {
        "docker": "run the container as root: docker run --user root ...",
        "podman": "run the container as root: podman run --user root ...",
        "kubernetes": "run the pod as root (securityContext.runAsUser: 0, "
        "hub/k8s/values-privileged.yaml), or rootless (hub/k8s/values-userns.yaml)",
        "container": "run the container's process as root",
        "machine": "run as root (sudo), or rootless as a normal user (README: Without root)",
    },
    "CAP_NET_ADMIN": {
        "docker": "docker run --cap-add NET_ADMIN (or --privileged)",
        "podman": "podman run --cap-add NET_ADMIN (or --privileged)",
        "kubernetes": "securityContext.capabilities.add: [NET_ADMIN] (or privileged: true)",
        "container": "give the container CAP_NET_ADMIN (or make it privileged)",
        "machine": "run as root with every capability (not under capsh or setpriv that drop some)",
    },
    "CAP_SYS_ADMIN": {
        "docker": "docker run --cap-add SYS_ADMIN (or --privileged)",
        "podman": "podman run --cap-add SYS_ADMIN (or --privileged)",
        "kubernetes": "securityContext.capabilities.add: [SYS_ADMIN] (or privileged: true)",
        "container": "give the container CAP_SYS_ADMIN (or make it privileged)",
        "machine": "run as root with every capability (not under capsh or setpriv that drop some)",
    },
    "CAP_NET_RAW": {
        "docker": "docker run --cap-add NET_RAW (Docker's default set has it: was it dropped?)",
        "podman": "podman run --cap-add NET_RAW (podman's default set lacks it)",
        "kubernetes": "securityContext.capabilities.add: [NET_RAW]",
        "container": "give the container CAP_NET_RAW",
        "machine": "run as root with every capability (not under capsh or setpriv that drop some)",
    },
    "/proc/sys": {
        "docker": "docker run --security-opt systempaths=unconfined (Docker mounts /proc/sys "
        "read-only), or --privileged",
        "podman": "podman run --security-opt unmask=/proc/sys (podman mounts it read-only), "
        "or --privileged",
        "kubernetes": "securityContext.procMount: Unmasked (needs hostUsers: false), or "
        "privileged: true",
        "container": "let the container write /proc/sys (its runtime's unmask or privileged "
        "setting)",
        "machine": "/proc/sys is mounted read-only: mount -o remount,rw /proc/sys",
    },
    "namespaces": {
        "docker": "docker run --security-opt apparmor=unconfined (AppArmor's docker-default "
        "profile denies mount) and, with a seccomp profile other than Docker's default, "
        "--security-opt seccomp=unconfined; or --privileged",
        "podman": "podman run --security-opt apparmor=unconfined --security-opt "
        "seccomp=unconfined, or --privileged",
        "kubernetes": "securityContext.seccompProfile.type: Unconfined and "
        "appArmorProfile.type: Unconfined (or privileged: true)",
        "container": "unconfine the container's seccomp and AppArmor profiles (or make it "
        "privileged)",
        "machine": "a seccomp or AppArmor policy stops unshare/setns/mount: run netlab outside it",
    },
}


def refused_fix(cap: str, where: str) -> str:
    """The fix for an operation refused with EPERM: ``cap`` if it is missing; with it
    present, a seccomp or AppArmor policy said no."""
    return fix(cap if not effective_caps() & (1 << dict(CAPS)[cap]) else "namespaces", where)


def fix(need: str, where: str | None = None) -> str:
    """How to get ``need`` (a key of :data:`FIXES`) in the runtime ``where`` (this one)."""
    return FIXES[need][where or runtime()]


def proc_sys_writable() -> bool:
    """Whether /proc/sys is mounted writable here (container runtimes mount it read-only)."""
    try:
        return not os.statvfs("/proc/sys/net").f_flag & os.ST_RDONLY
    except OSError:
        return False


def require_privileges() -> None:
    """Raise :class:`PrivilegeError` unless this process can build labs: one line naming
    what is missing, the fix for this runtime, and the doctor."""
    if os.geteuid() != 0:
        where = runtime()
        why_not = os.environ.get(userns.ERROR_VARIABLE)
        if why_not:  # (a notebook kernel that could not start inside rootless netlab)
            why_not = why_not.removeprefix(userns.CANNOT_START)
            raise PrivilegeError(
                f"netlab is not running as root, and rootless mode cannot start here: {why_not}"
                + ("" if where == "machine" else f"; or {fix('root', where)}")
                + "; `netlab doctor` checks everything"
            )
        rootless = (
            "use the `netlab` command or `netlab shell`, and in Jupyter the kernel that "
            "`./run.sh labs` sets up (it starts inside)"
        )
        if where == "machine":
            raise PrivilegeError(
                f"netlab is not running as root, nor inside your rootless netlab: {rootless}; "
                "`netlab doctor` checks everything"
            )
        raise PrivilegeError(
            f"netlab needs root, and this {RUNTIME_NAMES[where]} runs as uid {os.geteuid()}: "
            f"{fix('root', where)}; or, to run rootless (where the container allows user "
            f"namespaces), {rootless}; `netlab doctor` checks everything"
        )
    caps = effective_caps()
    missing = [name for name, bit in CAPS if not caps & (1 << bit)]
    if not proc_sys_writable():
        missing.append("/proc/sys")
    if missing:
        fixes = "; ".join(dict.fromkeys(fix(m) for m in missing))
        what = " and ".join("a writable /proc/sys" if m == "/proc/sys" else m for m in missing)
        raise PrivilegeError(
            f"netlab needs root with CAP_NET_ADMIN, CAP_SYS_ADMIN, CAP_NET_RAW and a writable "
            f"/proc/sys; here it lacks {what}: {fixes}. `netlab doctor` checks everything"
        )


# What building a lab runs (the rest of TOOLS is for students' commands and checks).
REQUIRED_TOOLS = ("ip", "nft", "nsenter", "unshare", "busybox", "dnsmasq")


def require_tools() -> None:
    """Raise :class:`ToolMissing` naming each missing program and its Debian package."""
    missing = [t for t in REQUIRED_TOOLS if shutil.which(t) is None]
    if missing:
        pkgs = " ".join(dict.fromkeys(TOOLS[t] for t in missing))
        raise ToolMissing(
            f"netlab needs {', '.join(missing)}, not found on PATH; install with "
            f"`apt-get install -y {pkgs}` (./run.sh setup installs everything)"
        )


def run_checks(*, probe_kernel: bool = True, rootless_error: str = "") -> list[Check]:
    """Every check, in the order ``netlab doctor`` prints them (``rootless_error``: why
    rootless mode could not start here)."""
    where = runtime()
    checks: list[Check] = [mode_check(rootless_error, where)]
    if userns.inside():
        checks.append(subordinate_ids_check())
    root = os.geteuid() == 0
    checks.append(Check("root", root, f"uid {os.geteuid()}", "" if root else fix("root", where)))
    caps = effective_caps()
    for cap, bit in CAPS:
        ok = bool(caps & (1 << bit))
        checks.append(Check(cap, ok, "present" if ok else "missing", "" if ok else fix(cap, where)))
    for tool, pkg in TOOLS.items():
        path = shutil.which(tool)
        checks.append(
            Check(
                f"tool: {tool}",
                path is not None,
                path or "not found",
                "" if path else f"apt-get install -y {pkg}",
            )
        )
    checks.append(nginx_check())
    checks.append(load_balancer_check())
    if probe_kernel and root:
        checks += probe_features(where)
    return checks


def mode_check(error: str = "", where: str = "machine") -> Check:
    """Which mode netlab runs in: as root, or rootless (a user namespace of the user's own),
    and where (``where``: :func:`runtime`); ``error``: why rootless mode could not start
    (with the fix)."""
    place = "" if where == "machine" else f" (in a {RUNTIME_NAMES[where]})"
    if error:
        return Check("mode", False, f"rootless mode cannot start{place}", error)
    if userns.inside():
        return Check(
            "mode",
            True,
            f"rootless{place}: your own user namespace (you are root in it), uid "
            f"{userns.outer_uid()} outside; your labs are yours alone",
        )
    return Check("mode", True, f"root{place}: labs of every user of this machine are shared")


def subordinate_ids_check() -> Check:
    """Rootless: whether uids and gids other than root are mapped (nginx's workers run as
    www-data: without them its image cannot start)."""
    with open("/proc/self/uid_map") as f:
        rows = [line.split() for line in f if line.strip()]
    ids = sum(int(r[2]) for r in rows)
    if ids > 1:
        return Check("subordinate ids", True, f"{ids} uids mapped ({userns.map_text()})")
    return Check(
        "subordinate ids",
        False,
        "only root is mapped: a container cannot switch to another user (nginx's workers)",
        "an administrator gives you ids (sudo usermod --add-subuids 100000-165535 "
        "--add-subgids 100000-165535 USER), installs uidmap (newuidmap), and you run "
        "`netlab clean --all` to start afresh",
    )


def nginx_check() -> Check:
    """Which nginx the nginx image runs: the machine's (Debian's package nginx), or BusyBox's
    web server where there is none (the welcome page, but no access log, no nginx headers)."""
    path = images.nginx_program()
    if path is None:
        return Check(
            "image: nginx",
            False,
            "no nginx on this machine: the nginx image serves its welcome page with BusyBox's "
            "httpd (no access log in docker logs, no `Server: nginx` header)",
            "apt-get install -y nginx (./run.sh setup installs it and keeps it from "
            "starting on the machine)",
            optional=True,
        )
    done = subprocess.run([path, "-v"], capture_output=True, text=True, check=False)
    version = (done.stderr or done.stdout).strip().removeprefix("nginx version: ")
    return Check("image: nginx", True, f"the machine's {version} ({path})")


def load_balancer_check() -> Check:
    """What balances a service's VIP over its tasks: Docker programs IPVS; netlab's stand-in
    is iptables (mark, then a round robin of DNAT rules) in the same load-balancer namespace."""
    ipvs = os.path.exists("/proc/net/ip_vs")
    why = (
        "IPVS is in this kernel, netlab does not program it yet"
        if ipvs
        else "this kernel has no IPVS (no /proc/net/ip_vs)"
    )
    return Check("load balancer", True, f"iptables, netlab's stand-in for Docker's IPVS ({why})")


def probe_features(where: str | None = None) -> list[Check]:
    """Do what the labs do, in a scratch namespace removed again (``where``: the runtime,
    for the fixes): make the namespace, write one of its settings under /proc/sys, make
    each kind of link, load a NAT ruleset, ping in it, bind-mount a file and start a
    process in new namespaces, as a container's start does."""
    where = where or runtime()
    name = f"nl-doctor{os.getpid()}-probe"
    out: list[Check] = []
    try:
        netns.create(name)
        out.append(Check("kernel: network namespaces", True, "created one"))
    except OSError as exc:
        return [
            Check(
                "kernel: network namespaces",
                False,
                str(exc),
                refused_fix("CAP_SYS_ADMIN", where)
                if exc.errno in (errno.EPERM, errno.EACCES)
                else "the kernel needs CONFIG_NET_NS",
            ),
            # (no namespace to write a setting in: how /proc/sys is mounted says enough, so
            # that one run names every fix, a runtime's read-only /proc/sys too)
            *([] if proc_sys_writable() else [_proc_sys_read_only(where)]),
            *probe_processes(where),
        ]
    try:
        out.append(_sysctl_probe(name, where))
        out.append(_ping_probe(name, where))  # (before the NAT ruleset below)
        probes: list[tuple[str, Callable[[], None]]] = [
            ("veth", lambda: rtnl.add_veth(name, "probe0", peer_ns=name, peer_name="probe1")),
            ("bridge", lambda: rtnl.add_bridge(name, "probebr")),
            ("vxlan", lambda: rtnl.add_vxlan(name, "probevx", vni=4242)),
            (
                "nf_tables NAT",
                lambda: nft.load(
                    name,
                    "table ip probe {\n chain p {\n  type nat "
                    "hook postrouting priority srcnat;\n  masquerade\n"
                    " }\n}\n",
                ),
            ),
        ]
        for label, fn in probes:
            try:
                fn()
                out.append(Check(f"kernel: {label}", True, "works"))
            except Exception as exc:
                if isinstance(exc, ToolMissing):
                    how = "install nftables (apt-get install -y nftables)"
                elif getattr(exc, "errno", None) in (errno.EPERM, errno.EACCES):
                    how = refused_fix("CAP_NET_ADMIN", where)
                else:
                    how = f"load the kernel module for {label} on the machine"
                out.append(Check(f"kernel: {label}", False, str(exc), how))
        out += probe_drivers(name, "probe0")
    finally:
        rtnl.forget(name)
        netns.delete(name)
    return out + probe_processes(where)


def _sysctl_probe(ns: str, where: str) -> Check:
    """A namespace's own setting written under /proc/sys/net, as every lab host's are."""
    key = "net.ipv6.conf.all.disable_ipv6"
    try:
        rtnl.sysctl(ns, key, "1")
    except OSError as exc:
        return Check(
            "kernel: /proc/sys", False, f"writing {key}: {exc.strerror}", fix("/proc/sys", where)
        )
    return Check("kernel: /proc/sys", True, f"wrote {key} in a namespace")


def _proc_sys_read_only(where: str) -> Check:
    """/proc/sys mounted read-only, as container runtimes mount it."""
    return Check("kernel: /proc/sys", False, "mounted read-only", fix("/proc/sys", where))


def _ping_probe(ns: str, where: str) -> Check:
    """``ping`` in a namespace: the raw ICMP socket it opens needs CAP_NET_RAW."""
    if shutil.which("ping") is None:
        return Check("kernel: ping", False, "no ping", "apt-get install -y iputils-ping")
    try:
        rtnl.set_link(ns, "lo", up=True)
    except OSError as exc:
        return Check("kernel: ping", False, f"lo: {exc}", fix("CAP_NET_ADMIN", where))
    done = proc.run_in(
        proc.netns_prefix(ns), ["ping", "-c", "1", "-W", "2", "127.0.0.1"], timeout=10
    )
    if done.returncode == 0:
        return Check("kernel: ping", True, "pinged 127.0.0.1 in a namespace")
    said = (done.stderr or done.stdout).strip().splitlines()
    detail = said[-1] if said else f"exit {done.returncode}"
    need = "CAP_NET_RAW" if "not permitted" in detail else "namespaces"
    return Check("kernel: ping", False, detail, fix(need, where))


def probe_processes(where: str | None = None) -> list[Check]:
    """What starting a container does besides the network: bind-mount a file in a mount
    namespace of its own (its /etc/hosts) and start a process in new PID, mount, UTS and IPC
    namespaces. Both happen in namespaces that end with the probe: nothing is left."""
    where = where or runtime()
    blocked = refused_fix("CAP_SYS_ADMIN", where)
    out = []
    with tempfile.TemporaryDirectory(prefix="netlab-doctor-") as tmp:
        a, b = os.path.join(tmp, "a"), os.path.join(tmp, "b")
        for path in (a, b):
            with open(path, "w") as f:
                f.write(path)
        private = ["unshare", "--mount", "--propagation", "private", "--"]
        runs = (
            ("kernel: bind mounts", [*private, "mount", "--bind", a, b], "bound a file"),
            (
                "kernel: container processes",
                [
                    "unshare",
                    "--mount",
                    "--uts",
                    "--ipc",
                    "--pid",
                    "--fork",
                    "--mount-proc",
                    "--",
                    "true",
                ],
                "started one in new PID, mount, UTS and IPC namespaces",
            ),
        )
        for label, argv, did in runs:
            done = proc.run_in([], argv, timeout=10)
            if done.returncode == 0:
                out.append(Check(label, True, did))
            else:
                said = (done.stderr or done.stdout).strip().splitlines()
                detail = said[-1] if said else f"exit {done.returncode}"
                out.append(Check(label, False, detail, blocked))
    return out


def probe_drivers(ns: str, parent: str) -> list[Check]:
    """The network drivers that need a link kind of their own (macvlan, ipvlan): a child of
    ``parent`` made in ``ns``. Missing, they are listed as unavailable, not as problems."""

    out = []
    for kind, mode in (("macvlan", "bridge"), ("ipvlan", "l2")):
        try:
            rtnl.add_sublink(ns, f"probe{kind}", parent=parent, kind=kind, mode=mode, peer_ns=ns)
            out.append(Check(f"driver: {kind}", True, "available"))
        except Exception as exc:
            reason = os.strerror(exc.errno) if isinstance(exc, rtnl.KernelError) else str(exc)
            out.append(
                Check(
                    f"driver: {kind}",
                    False,
                    f"unavailable ({reason}): -d {kind} needs a kernel with CONFIG_{kind.upper()}",
                    optional=True,
                )
            )
    return out
