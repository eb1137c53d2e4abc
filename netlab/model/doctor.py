"""What netlab needs from the machine, checked one by one with a fix for each failure.

netlab needs root with two capabilities: CAP_NET_ADMIN (interfaces, routes, nftables) and
CAP_SYS_ADMIN (creating and entering namespaces, bind mounts). A container started with
``docker run --privileged`` has both; public Binder and unprivileged JupyterHub pods do not.
Without root it has them in a user namespace of the user's own (rootless mode, see
:mod:`netlab.kernel.userns`), where the kernel allows unprivileged user namespaces.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass

from netlab.errors import PrivilegeError, ToolMissing
from netlab.kernel import netns, nft, rtnl, userns
from netlab.model import images

CAP_NET_ADMIN = 12
CAP_SYS_ADMIN = 21

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


def require_privileges() -> None:
    """Raise :class:`PrivilegeError` unless this process can build labs."""
    caps = effective_caps()
    missing = [
        n
        for n, bit in (("CAP_NET_ADMIN", CAP_NET_ADMIN), ("CAP_SYS_ADMIN", CAP_SYS_ADMIN))
        if not caps & (1 << bit)
    ]
    if os.geteuid() != 0:
        raise PrivilegeError(
            "netlab is not running as root, nor inside your rootless netlab: use the `netlab` "
            "command or `netlab shell`, and in Jupyter the kernel that `./run.sh labs` sets "
            "up (it starts inside); `netlab doctor` checks everything"
        )
    if missing:
        raise PrivilegeError(
            f"netlab needs root with CAP_NET_ADMIN and CAP_SYS_ADMIN (running as root, "
            f"missing {' and '.join(missing)}). Run it as root on a Linux machine or VM, or in "
            "a container started with `docker run --privileged`; `netlab doctor` checks "
            "everything"
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
    checks: list[Check] = [mode_check(rootless_error)]
    if userns.inside():
        checks.append(subordinate_ids_check())
    root = os.geteuid() == 0
    checks.append(
        Check(
            "root",
            root,
            f"uid {os.geteuid()}",
            "" if root else "run as root (sudo), or in a privileged container",
        )
    )
    caps = effective_caps()
    for cap, bit in (("CAP_NET_ADMIN", CAP_NET_ADMIN), ("CAP_SYS_ADMIN", CAP_SYS_ADMIN)):
        ok = bool(caps & (1 << bit))
        checks.append(
            Check(
                cap,
                ok,
                "present" if ok else "missing",
                ""
                if ok
                else "start the container with --privileged (or "
                f"--cap-add {cap.removeprefix('CAP_')}); public Binder cannot grant it",
            )
        )
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
    if probe_kernel and root and caps & (1 << CAP_SYS_ADMIN) and caps & (1 << CAP_NET_ADMIN):
        checks += probe_features()
    return checks


def mode_check(error: str = "") -> Check:
    """Which mode netlab runs in: as root, or rootless (a user namespace of the user's own);
    ``error``: why rootless mode could not start (with the fix)."""
    if error:
        return Check("mode", False, "rootless mode cannot start", error)
    if userns.inside():
        return Check(
            "mode",
            True,
            f"rootless: your own user namespace (you are root in it), uid {userns.outer_uid()} "
            "outside; your labs are yours alone",
        )
    return Check("mode", True, "root: labs of every user of this machine are shared")


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


def probe_features() -> list[Check]:
    """Build each kernel object netlab uses in a scratch namespace, then remove it."""

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
                "the kernel needs CONFIG_NET_NS; run privileged",
            )
        ]
    try:
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
                out.append(
                    Check(
                        f"kernel: {label}",
                        False,
                        str(exc),
                        "install nftables (apt-get install -y nftables)"
                        if isinstance(exc, ToolMissing)
                        else f"load the kernel module for {label} on the machine",
                    )
                )
        out += probe_drivers(name, "probe0")
    finally:
        rtnl.forget(name)
        netns.delete(name)
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
