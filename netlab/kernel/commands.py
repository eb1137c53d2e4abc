"""The ``ip`` / ``bridge`` / ``sysctl`` / ``nft`` command line each kernel operation equals.

netlab changes the kernel through system calls and netlink messages, not by running ``ip``,
but every change it makes is one a student could type. The functions here say which: each
takes the arguments of one kernel operation and returns its command line, as an argv list
(or, for a command that reads a file from its standard input, the whole shell text with its
``<<'EOF'`` heredoc). :mod:`netlab.kernel.trace` records these lines; ``docker --explain``
shows them. The real kernel layer (:mod:`.netns`, :mod:`.rtnl`, :mod:`.nft`, :mod:`.proc`)
and its fake (:mod:`netlab.kernel.fake`) both build their lines here, so the two cannot say
different things.

How to read the lines:

* ``ip -n NS ...`` and ``bridge -n NS ...`` act in the named network namespace ``NS``: what
  ``ip netns exec NS ip ...`` does, shorter;
* a command that has no ``-n`` option (``sysctl``, ``nft``) runs in the namespace through
  ``ip netns exec NS``, which also shows it ``/etc/netns/NS/*`` over ``/etc``;
* ``ip netns add`` pins a new namespace on ``/run/netns/NS``; ``ip netns del`` unpins it.

A bridge, a veth pair with its far end born in a container, and that end brought up:

>>> add_bridge("nl-demo-host", "docker0", mac="02:42:ac:11:00:01")
['ip', '-n', 'nl-demo-host', 'link', 'add', 'docker0', 'address', '02:42:ac:11:00:01', \
'mtu', '1500', 'type', 'bridge']
>>> add_veth("nl-demo-host", "veth1", peer_ns="nl-demo-c1", peer_name="eth0", master="docker0")
['ip', '-n', 'nl-demo-host', 'link', 'add', 'veth1', 'mtu', '1500', 'master', 'docker0', \
'type', 'veth', 'peer', 'name', 'eth0', 'netns', 'nl-demo-c1']
>>> set_link("nl-demo-host", "docker0", up=True)
['ip', '-n', 'nl-demo-host', 'link', 'set', 'docker0', 'up']
>>> add_route("nl-demo-c1", gateway="172.17.0.1")
['ip', '-n', 'nl-demo-c1', 'route', 'add', 'default', 'via', '172.17.0.1']
>>> sysctl("nl-demo-host", "net.ipv4.ip_forward", "1")
['ip', 'netns', 'exec', 'nl-demo-host', 'sysctl', '-w', 'net.ipv4.ip_forward=1']

Rules go to ``nft`` on its standard input, all at once:

>>> print(nft_load("nl-demo-host", "flush ruleset\\n"))
ip netns exec nl-demo-host nft -f - <<'EOF'
flush ruleset
EOF
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence

# --- namespaces and their /etc files ----------------------------------------------------------


def netns_add(name: str) -> list[str]:
    """``ip netns add NAME``: a new network namespace, pinned on ``/run/netns/NAME``."""
    return ["ip", "netns", "add", name]


def netns_del(name: str) -> list[str]:
    """``ip netns del NAME``: unpin it; the kernel frees it once nothing uses it."""
    return ["ip", "netns", "del", name]


def etc_mkdir(folder: str) -> list[str]:
    """``mkdir -p /etc/netns/NS``: the folder of a namespace's own ``/etc`` files."""
    return ["mkdir", "-p", folder]


def etc_write(folder: str, fname: str, text: str) -> str:
    """Write one file of ``folder`` (``cat > FILE`` with the text as a heredoc).

    >>> print(etc_write("/etc/netns/nl-demo-c1", "hostname", "c1\\n"))
    cat > /etc/netns/nl-demo-c1/hostname <<'EOF'
    c1
    EOF
    """
    return f"cat > {folder}/{fname} <<'EOF'\n{text.rstrip()}\nEOF"


def etc_link(folder: str, fname: str, target: str) -> list[str]:
    """``ln -sf TARGET FOLDER/FNAME``: a file of ``folder`` that is a shared one."""
    return ["ln", "-sf", target, f"{folder}/{fname}"]


# --- links ------------------------------------------------------------------------------------


def add_bridge(ns: str, name: str, *, mac: str | None = None, mtu: int = 1500) -> list[str]:
    """``ip link add NAME [address MAC] mtu MTU type bridge``."""
    address = ["address", mac] if mac else []
    return ["ip", "-n", ns, "link", "add", name, *address, "mtu", str(mtu), "type", "bridge"]


def add_veth(
    ns: str,
    name: str,
    peer_ns: str,
    peer_name: str,
    mac: str | None = None,
    peer_mac: str | None = None,
    mtu: int = 1500,
    master: str | None = None,
    up: bool = False,
    indexes: tuple[int, int] | None = None,
) -> list[str]:
    """``ip link add NAME [index N] mtu MTU [address MAC] [master BR] [up] type veth peer name
    PEER [index M] netns PEER_NS [address PEER_MAC]``: a veth pair whose far end is born in
    ``peer_ns`` (``indexes``: this end's and the peer's interface indexes)."""
    cmd = ["ip", "-n", ns, "link", "add", name]
    if indexes:
        cmd += ["index", str(indexes[0])]
    cmd += ["mtu", str(mtu)]
    if mac:
        cmd += ["address", mac]
    if master:
        cmd += ["master", master]
    if up:
        cmd += ["up"]
    cmd += ["type", "veth", "peer", "name", peer_name]
    if indexes:
        cmd += ["index", str(indexes[1])]
    cmd += ["netns", peer_ns]
    if peer_mac:
        cmd += ["address", peer_mac]
    return cmd


def add_vxlan(
    ns: str,
    name: str,
    *,
    vni: int,
    port: int = 4789,
    mtu: int = 1450,
    learning: bool = False,
    proxy: bool = True,
) -> list[str]:
    """``ip link add NAME mtu MTU type vxlan id VNI dstport PORT [nolearning] [proxy]``.

    >>> add_vxlan("nl-demo-host", "vx-1000", vni=4097)[6:]
    ['mtu', '1450', 'type', 'vxlan', 'id', '4097', 'dstport', '4789', 'nolearning', 'proxy']
    """
    cmd = ["ip", "-n", ns, "link", "add", name, "mtu", str(mtu), "type", "vxlan", "id", str(vni)]
    cmd += ["dstport", str(port)]
    if not learning:
        cmd += ["nolearning"]
    if proxy:
        cmd += ["proxy"]
    return cmd


def add_sublink(
    ns: str,
    name: str,
    *,
    parent: str,
    kind: str,
    mode: str,
    peer_ns: str,
    mac: str | None = None,
) -> list[str]:
    """``ip link add link PARENT name NAME netns PEER_NS [address MAC] type KIND mode MODE``:
    a macvlan or ipvlan child of ``parent``, born in ``peer_ns``."""
    cmd = ["ip", "-n", ns, "link", "add", "link", parent, "name", name, "netns", peer_ns]
    if mac:
        cmd += ["address", mac]
    return [*cmd, "type", kind, "mode", mode]


def move_link(ns: str, name: str, *, to_ns: str, new_name: str | None = None) -> list[str]:
    """``ip link set NAME netns TO_NS [name NEW]``: move an interface to another namespace."""
    renamed = ["name", new_name] if new_name else []
    return ["ip", "-n", ns, "link", "set", name, "netns", to_ns, *renamed]


def set_link(
    ns: str,
    name: str,
    *,
    up: bool | None = None,
    master: str | None = None,
    mtu: int | None = None,
    mac: str | None = None,
    alias: str | None = None,
) -> list[str]:
    """``ip link set NAME [address MAC] [mtu N] [alias TEXT] [master BR] [up|down]``.

    >>> set_link("nl-demo-c1", "eth0", mtu=1400, alias="to docker0", up=False)
    ['ip', '-n', 'nl-demo-c1', 'link', 'set', 'eth0', 'mtu', '1400', 'alias', 'to docker0', \
'down']
    """
    cmd = ["ip", "-n", ns, "link", "set", name]
    if mac is not None:
        cmd += ["address", mac]
    if mtu is not None:
        cmd += ["mtu", str(mtu)]
    if alias is not None:
        cmd += ["alias", alias]
    if master is not None:
        cmd += ["master", master]
    if up is not None:
        cmd += ["up" if up else "down"]
    return cmd


def set_bridge_port(ns: str, name: str, *, hairpin: bool) -> list[str]:
    """``bridge link set dev NAME hairpin on|off``: may a frame leave by the port it came in?"""
    return ["bridge", "-n", ns, "link", "set", "dev", name, "hairpin", "on" if hairpin else "off"]


def delete_link(ns: str, name: str) -> list[str]:
    """``ip link del NAME`` (a veth takes its peer with it)."""
    return ["ip", "-n", ns, "link", "del", name]


# --- neighbours and VXLAN forwarding entries --------------------------------------------------


def neigh_add(ns: str, dev: str, ip: str, mac: str) -> list[str]:
    """``ip neigh replace IP lladdr MAC dev DEV nud permanent``: an ARP answer set by hand."""
    return ["ip", "-n", ns, "neigh", "replace", ip, "lladdr", mac, "dev", dev, "nud", "permanent"]


def neigh_del(ns: str, dev: str, ip: str) -> list[str]:
    """``ip neigh del IP dev DEV``."""
    return ["ip", "-n", ns, "neigh", "del", ip, "dev", dev]


def fdb_add(ns: str, dev: str, mac: str, dst: str) -> list[str]:
    """``bridge fdb replace MAC dev DEV dst IP self permanent``: frames for MAC go to the
    node at IP (on a VXLAN device, ``self`` is the device's own table)."""
    return ["bridge", "-n", ns, "fdb", "replace", mac, "dev", dev, "dst", dst, "self", "permanent"]


def fdb_del(ns: str, dev: str, mac: str, dst: str) -> list[str]:
    """``bridge fdb del MAC dev DEV dst IP self``."""
    return ["bridge", "-n", ns, "fdb", "del", mac, "dev", dev, "dst", dst, "self"]


# --- addresses, routes, sysctls ---------------------------------------------------------------


def del_addr(ns: str, ifname: str, cidr: str) -> list[str]:
    """``ip addr del CIDR dev IFNAME``."""
    return ["ip", "-n", ns, "addr", "del", cidr, "dev", ifname]


def add_addr(ns: str, ifname: str, cidr: str) -> list[str]:
    """``ip addr add CIDR brd + dev IFNAME`` (``brd +``: the broadcast address of the subnet).

    >>> add_addr("nl-demo-c1", "eth0", "172.17.0.2/16")
    ['ip', '-n', 'nl-demo-c1', 'addr', 'add', '172.17.0.2/16', 'brd', '+', 'dev', 'eth0']
    """
    return ["ip", "-n", ns, "addr", "add", cidr, "brd", "+", "dev", ifname]


def add_route(
    ns: str, dst: str = "default", *, gateway: str | None = None, dev: str | None = None
) -> list[str]:
    """``ip route add DST [via GATEWAY] [dev DEV]``."""
    cmd = ["ip", "-n", ns, "route", "add", dst]
    if gateway:
        cmd += ["via", gateway]
    if dev:
        cmd += ["dev", dev]
    return cmd


def sysctl(ns: str, key: str, value: str) -> list[str]:
    """``sysctl -w KEY=VALUE`` in the namespace (``net.*`` keys are per namespace)."""
    return ["ip", "netns", "exec", ns, "sysctl", "-w", f"{key}={value}"]


# --- firewall rules and processes -------------------------------------------------------------


def nft_load(ns: str, ruleset: str) -> str:
    """``nft -f -`` in the namespace, the ruleset as a heredoc: loaded all or nothing."""
    return f"ip netns exec {ns} nft -f - <<'EOF'\n{ruleset.rstrip()}\nEOF"


def start(
    ns: str,
    argv: Sequence[str],
    *,
    hostname: str = "",
    binds: Mapping[str, str] | None = None,
    private: bool = False,
) -> str:
    """Start a process in the background as a container's: ``ip netns exec NS [unshare --uts
    --mount sh -c 'hostname H; mount --bind SRC PATH...; [private dirs;] exec "$0" "$@"']
    ARGV &``.

    ``binds`` (path inside -> file or folder shown there) are the container's own files;
    without them ``ip netns exec`` shows those of ``/etc/netns/NS`` by itself. A ``private``
    container gets empty /run and /tmp and its command is PID 1 of a PID namespace of its own.

    >>> print(start("nl-demo-c1", ["sleep", "infinity"]))
    ip netns exec nl-demo-c1 sleep infinity &
    >>> print(start("nl-demo-c1", ["sh"], hostname="c1", binds={"/etc/hosts": "/run/c1 hosts"}))
    ip netns exec nl-demo-c1 unshare --uts --mount sh -c 'hostname c1; \
mount --bind '"'"'/run/c1 hosts'"'"' /etc/hosts; exec "$0" "$@"' sh &
    >>> print(start("nl-demo-c1", ["sleep", "1"], hostname="c1", private=True))
    ip netns exec nl-demo-c1 unshare --uts --mount sh -c 'hostname c1; \
mount -t tmpfs tmpfs /run; mount -t tmpfs tmpfs /tmp; \
exec unshare --pid --fork --mount-proc "$0" "$@"' sleep 1 &
    """
    steps = [f"hostname {hostname}"] if hostname else []
    if binds is not None:
        steps += [f"mount --bind {shlex.quote(src)} {shlex.quote(t)}" for t, src in binds.items()]
    run = 'exec "$0" "$@"'
    if private:
        steps += ["mount -t tmpfs tmpfs /run", "mount -t tmpfs tmpfs /tmp"]
        run = 'exec unshare --pid --fork --mount-proc "$0" "$@"'
    shown = ["ip", "netns", "exec", ns]
    if steps:
        shown += ["unshare", "--uts", "--mount", "sh", "-c", "; ".join([*steps, run])]
    return shlex.join([*shown, *argv]) + " &"
