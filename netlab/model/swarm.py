"""Swarm mode: a manager, workers, overlay networks and replicated services.

What is real and what is played:

* the **data plane is the kernel's**: per overlay network, each node that runs a task of it
  gets a namespace (Docker's ``1-<network id>``; here ``nl-LAB-NODE-1-<10 hex>``) with a
  bridge ``br0`` holding the gateway address and a VXLAN device ``vxlan0`` (UDP 4789, VNI
  from 4097; ``ingress`` owns 4096). ``vxlan0`` is created in the node's namespace, so its
  UDP socket speaks over the node's ``eth0``, then moved into the overlay namespace, as
  Docker does. Task containers get ``eth0`` on the overlay (MTU 1450) and ``eth1`` on
  ``docker_gwbridge`` (their default route, masqueraded);
* the **control plane runs in the Python process** (Docker's is the swarmkit raft store
  and the gossip of its network database): when a task starts or stops, every other node
  of the network gets, on its ``vxlan0``, a permanent neighbour entry (task IP -> MAC) and
  a permanent FDB entry (MAC -> the node's LAN address). Nothing is flooded or learned;
* ``docker swarm join`` really connects to the manager's port 2377 across the lab's LAN
  (a listener runs in the manager's namespace), so a broken LAN breaks the join;
* not built: the routing mesh (ingress sandbox, IPVS), service DNS/VIPs, raft, gossip on
  7946, task rescheduling when a node fails.
"""

from __future__ import annotations

import contextlib
import hashlib
import ipaddress
import os
import socket
from typing import TYPE_CHECKING, Any

from netlab.errors import Conflict, InvalidArgument, NetlabError
from netlab.kernel import _worker, batch, netns, proc, rtnl
from netlab.model import ids, images, ipam, topology
from netlab.model.state import Record
from netlab.model.timefmt import now_rfc3339

if TYPE_CHECKING:
    from netlab.model.host import Host
    from netlab.model.lab import Lab

MANAGER_PORT = 2377
VXLAN_PORT = 4789
OVERLAY_MTU = 1450
INGRESS_VNI = 4096
OVERLAY_POOL = "10.0.0.0/8"

NOT_MANAGER = (
    "This node is not a swarm manager. Worker nodes can't be used to view or modify "
    "cluster state. Please run this command on a manager node or promote the current "
    "node to a manager."
)
NOT_IN_SWARM = (
    'This node is not a swarm manager. Use "docker swarm init" or "docker swarm '
    'join" to connect this node to swarm and try again.'
)
ALREADY = (
    'This node is already part of a swarm. Use "docker swarm leave" to leave this swarm '
    "and join another one."
)
BAD_TOKEN = (
    "rpc error: code = InvalidArgument desc = A valid join token is necessary to join this cluster"
)
TIMEOUT = (
    "Timeout was reached before node joined. The attempt to join the swarm will continue "
    'in the background. Use the "docker info" command to see the current swarm status of '
    "your node."
)


class SwarmError(NetlabError):
    """A swarm command refused, in Docker's words."""


def b36(seed: str, length: int) -> str:
    """A deterministic lowercase base-36 string, like swarmkit's node/service/task IDs."""
    n = int.from_bytes(hashlib.sha256(seed.encode()).digest() * 2, "big")
    chars = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = []
    for _ in range(length):
        n, r = divmod(n, 36)
        out.append(chars[r])
    return "".join(out)


def _swarm(lab: Lab) -> Record | None:
    rec: Record | None = lab.store.lab_record.get("Swarm")
    return rec


def role(host: Host) -> str | None:
    """``manager``, ``worker`` or None (not in the swarm)."""
    sw = _swarm(host.lab)
    if not sw or host.name not in sw["Nodes"]:
        return None
    return str(sw["Nodes"][host.name]["Role"])


def require_manager(host: Host) -> Record:
    """The swarm record, or Docker's refusal when ``host`` is no manager."""
    r = role(host)
    if r is None:
        raise SwarmError(NOT_IN_SWARM)
    if r != "manager":
        raise SwarmError(NOT_MANAGER)
    sw = _swarm(host.lab)
    assert sw is not None
    return sw


# --- init and join ----------------------------------------------------------------------------


def init(host: Host, advertise_addr: str | None = None) -> str:
    """``docker swarm init``: this host becomes the manager; returns what Docker prints."""
    lab = host.lab
    store = lab.store
    with store.locked():
        if role(host) is not None:
            raise SwarmError(ALREADY)
        addr = advertise_addr.split(":")[0] if advertise_addr else host.address
        if addr != host.address:
            raise InvalidArgument(
                f"advertise address must be a non-zero IPv4 or IPv6 address "
                f"of this node ({host.address})"
            )
        cluster = b36(f"{lab.name}/cluster", 25)
        sw: Record = {
            "ID": cluster,
            "Created": now_rfc3339(),
            "Manager": host.name,
            "ManagerAddr": f"{addr}:{MANAGER_PORT}",
            "Tokens": {
                "worker": f"SWMTKN-1-{b36(lab.name + '/secret', 50)}-{b36(lab.name + '/w', 25)}",
                "manager": f"SWMTKN-1-{b36(lab.name + '/secret', 50)}-{b36(lab.name + '/m', 25)}",
            },
            "Nodes": {},
            "Networks": {},
            "Services": {},
            "Sandboxes": {},
        }
        store.lab_record["Swarm"] = sw
        ingress_net = {
            "Name": "ingress",
            "Id": b36(f"{lab.name}/net/ingress", 25),
            "Subnet": "10.0.0.0/24",
            "Gateway": "10.0.0.1",
            "VNI": INGRESS_VNI,
            "Created": now_rfc3339(),
            "Ingress": True,
        }
        sw["Networks"][ingress_net["Id"]] = ingress_net
        try:
            _listen(host, sw)
            _add_node(host, sw, "manager")
        except BaseException:
            _stop_listener(sw)
            _undo_node(host, sw)
            store.lab_record.pop("Swarm", None)
            raise
        store.save_lab()
    node_id = sw["Nodes"][host.name]["ID"]
    return (
        f"Swarm initialized: current node ({node_id}) is now a manager.\n\n"
        "To add a worker to this swarm, run the following command:\n\n"
        f"    docker swarm join --token {sw['Tokens']['worker']} {sw['ManagerAddr']}\n\n"
        "To add a manager to this swarm, run 'docker swarm join-token manager' and follow the "
        "instructions.\n"
    )


def _listen(host: Host, sw: Record) -> None:
    """The manager's port 2377: a real TCP listener in its namespace (what join connects to)."""
    d = host.lab.store.path("swarm-api")
    os.makedirs(d, exist_ok=True)
    pid, started = proc.spawn(
        host.ns,
        ["busybox", "httpd", "-f", "-p", f"{host.address}:{MANAGER_PORT}", "-h", d],
        log_file=host.lab.store.path("services", "swarm-api.log"),
    )
    sw["ListenerPid"], sw["ListenerStart"] = pid, started
    proc.wait_listening(host.ns, [(host.address, MANAGER_PORT, "tcp")])


def _stop_listener(sw: Record) -> None:
    if sw.get("ListenerPid"):
        proc.kill_group(sw["ListenerPid"], sw.get("ListenerStart"))


def join(host: Host, token: str, addr: str, timeout: float = 2.0) -> str:
    """``docker swarm join --token T ADDR``: checks the token and really reaches ADDR:2377."""
    lab = host.lab
    store = lab.store
    with store.locked():
        sw = _swarm(lab)
        if role(host) is not None:
            raise SwarmError(ALREADY)
        target, _, port = addr.partition(":")
        port_no = int(port) if port.isdigit() else MANAGER_PORT
        if not _reachable(host.ns, target, port_no, timeout):
            raise SwarmError(TIMEOUT)
        if sw is None or f"{target}:{port_no}" != sw["ManagerAddr"]:
            raise SwarmError(TIMEOUT)
        if token == sw["Tokens"]["worker"]:
            node_role = "worker"
        elif token == sw["Tokens"]["manager"]:
            raise InvalidArgument("netlab's swarm has one manager: join with the worker token")
        else:
            raise SwarmError(BAD_TOKEN)
        try:
            _add_node(host, sw, node_role)
        except BaseException:
            _undo_node(host, sw)
            raise
        store.save_lab()
    return f"This node joined a swarm as a {node_role}.\n"


def _reachable(ns: str, ip: str, port: int, timeout: float) -> bool:
    """Can a TCP connection from namespace ``ns`` reach ip:port? (a real SYN on the LAN)"""

    def work() -> bool:
        with netns.entered(ns):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(timeout)
        try:
            s.connect((ip, port))
            return True
        except OSError:
            return False
        finally:
            s.close()

    try:
        ipaddress.IPv4Address(ip)
    except ValueError:
        return False
    return _worker.call(work)


def _add_node(host: Host, sw: Record, node_role: str) -> None:
    sw["Nodes"][host.name] = {
        "ID": b36(f"{host.lab.name}/node/{host.name}", 25),
        "Role": node_role,
        "Joined": now_rfc3339(),
    }
    _ensure_gwbridge(host)
    hnets = host.lab.store.lab_record["Hosts"][host.name]["Networks"]
    for net in sw["Networks"].values():
        if net.get("Ingress") or node_role == "manager":
            hnets[net["Id"]] = _host_view(net, sandbox=None)


def _undo_node(host: Host, sw: Record) -> None:
    """Take back a half-done init or join: the node, its docker_gwbridge, its overlay views."""
    from netlab.model.networks import apply_firewall

    sw["Nodes"].pop(host.name, None)
    hnets = host.lab.store.lab_record["Hosts"][host.name]["Networks"]
    for nid, n in list(hnets.items()):
        if n["Driver"] == "overlay" or n["Name"] == "docker_gwbridge":
            del hnets[nid]
    rtnl.delete_link(host.ns, "docker_gwbridge")
    with contextlib.suppress(Exception):
        apply_firewall(host)
    host.lab.store.save_lab()


def _ensure_gwbridge(host: Host) -> None:
    """docker_gwbridge: the bridge that gives task containers their way out (eth1)."""
    from netlab.model.networks import apply_firewall, bridge_sysctls

    hnets = host.lab.store.lab_record["Hosts"][host.name]["Networks"]
    if any(n["Name"] == "docker_gwbridge" for n in hnets.values()):
        return
    in_use = [ipaddress.IPv4Network(n["Subnet"]) for n in hnets.values() if n.get("Subnet")]
    in_use.append(ipaddress.IPv4Network(topology.LAN_SUBNET))
    net = ipam.next_pool(in_use)
    seq = host.lab.store.next_counter(f"{host.name}/network")
    nid = ids.object_id(host.lab.name, f"{host.name}/network", seq)
    gw = ipam.gateway_of(net)
    hnets[nid] = {
        "Name": "docker_gwbridge",
        "Id": nid,
        "Created": now_rfc3339(),
        "Scope": "local",
        "Driver": "bridge",
        "Internal": False,
        "Attachable": False,
        "Labels": {},
        "Subnet": str(net),
        "Gateway": str(gw),
        "Bridge": "docker_gwbridge",
        "Icc": False,
        "DefaultRoute": True,
        "Options": {
            "com.docker.network.bridge.enable_icc": "false",
            "com.docker.network.bridge.enable_ip_masquerade": "true",
            "com.docker.network.bridge.name": "docker_gwbridge",
        },
    }

    def build() -> None:
        rtnl.add_bridge(host.ns, "docker_gwbridge", mac=ids.local_mac(host.lab.name, nid))
        rtnl.add_addr(host.ns, "docker_gwbridge", f"{gw}/{net.prefixlen}")
        rtnl.set_link(host.ns, "docker_gwbridge", up=True)
        bridge_sysctls(host.ns, "docker_gwbridge")

    batch(build)
    apply_firewall(host)


def _host_view(net: Record, sandbox: str | None) -> Record:
    """How an overlay network appears in one node's list of networks."""
    return {
        "Name": net["Name"],
        "Id": net["Id"],
        "Created": net["Created"],
        "Scope": "swarm",
        "Driver": "overlay",
        "Internal": False,
        "Attachable": False,
        "Labels": {},
        "Ingress": bool(net.get("Ingress")),
        "Subnet": net["Subnet"],
        "Gateway": net["Gateway"],
        "Bridge": "br0",
        "BridgeNs": sandbox,
        "Mtu": OVERLAY_MTU,
        "VNI": net["VNI"],
        "Options": {"com.docker.network.driver.overlay.vxlanid_list": str(net["VNI"])},
    }


# --- overlay networks -------------------------------------------------------------------------


def create_overlay(host: Host, name: str, subnet: str | None = None) -> Record:
    """``docker network create -d overlay NAME`` on the manager."""
    store = host.lab.store
    with store.locked():
        sw = require_manager(host)  # read under the lock: another process may have written
        topology.check_network_name(name)
        if any(n["Name"] == name for n in sw["Networks"].values()) or any(
            n["Name"] == name for n in store.lab_record["Hosts"][host.name]["Networks"].values()
        ):
            raise Conflict(f"network with name {name} already exists")
        used = [ipaddress.IPv4Network(n["Subnet"]) for n in sw["Networks"].values()]
        if subnet:
            net = ipam.parse_subnet(subnet)
            if any(net.overlaps(u) for u in used):
                raise Conflict(
                    "invalid pool request: Pool overlaps with other one on this address space"
                )
        else:
            pools = ipaddress.IPv4Network(OVERLAY_POOL).subnets(new_prefix=24)
            net = ipam.next_pool(used, pools)
        vni = max([n["VNI"] for n in sw["Networks"].values()] + [INGRESS_VNI]) + 1
        nid = b36(f"{host.lab.name}/net/{name}/{vni}", 25)
        rec = {
            "Name": name,
            "Id": nid,
            "Subnet": str(net),
            "Gateway": str(net.network_address + 1),
            "VNI": vni,
            "Created": now_rfc3339(),
        }
        sw["Networks"][nid] = rec
        store.lab_record["Hosts"][host.name]["Networks"][nid] = _host_view(rec, None)
        store.save_lab()
    return rec


def sandbox_ns(lab: str, node: str, net_id: str) -> str:
    """The overlay namespace of a network on a node (Docker names it ``1-<network id>``)."""
    return topology.ns_name(lab, f"{node}-1-{net_id[:10]}")


def _ensure_sandbox(host: Host, net: Record) -> str:
    """Build the network's overlay namespace on ``host`` if it has none: br0 and vxlan0."""
    sw = _swarm(host.lab)
    assert sw is not None
    key = f"{host.name}/{net['Id']}"
    if key in sw["Sandboxes"]:
        return str(sw["Sandboxes"][key]["Netns"])
    ns = sandbox_ns(host.lab.name, host.name, net["Id"])
    gw_len = ipaddress.IPv4Network(net["Subnet"]).prefixlen
    tmp = f"vx-{net['VNI']:06x}-{net['Id'][:5]}"  # Docker's temporary name, then vxlan0

    def build() -> None:
        netns.create(ns)
        from netlab.model.host import quiet_ipv6

        quiet_ipv6(ns)
        rtnl.set_link(ns, "lo", up=True)
        rtnl.add_bridge(ns, "br0", mac=ids.local_mac(host.lab.name, key, "br0"), mtu=OVERLAY_MTU)
        rtnl.add_addr(ns, "br0", f"{net['Gateway']}/{gw_len}")
        rtnl.add_vxlan(host.ns, tmp, vni=net["VNI"], port=VXLAN_PORT, mtu=OVERLAY_MTU)
        rtnl.move_link(host.ns, tmp, to_ns=ns, new_name="vxlan0")
        rtnl.set_link(
            ns, "vxlan0", mac=ids.local_mac(host.lab.name, key, "vxlan0"), master="br0", up=True
        )
        rtnl.set_link(ns, "br0", up=True)

    try:
        batch(build)
    except BaseException:
        rtnl.forget(ns)
        netns.delete(ns)
        rtnl.delete_link(host.ns, tmp)
        raise
    sw["Sandboxes"][key] = {"Node": host.name, "Net": net["Id"], "Netns": ns, "Peers": []}
    host.lab.store.lab_record["Hosts"][host.name]["Networks"][net["Id"]] = _host_view(net, ns)
    return ns


def _drop_sandbox(host: Host, net_id: str) -> None:
    sw = _swarm(host.lab)
    assert sw is not None
    box = sw["Sandboxes"].pop(f"{host.name}/{net_id}", None)
    if box is None:
        return
    # vxlan0 first, synchronously: until it is gone the node's VNI/port pair stays taken, and
    # namespace deletion is asynchronous (a new vxlan0 right after would fail with EEXIST).
    rtnl.delete_link(box["Netns"], "vxlan0")
    rtnl.forget(box["Netns"])
    netns.delete(box["Netns"])
    hnets = host.lab.store.lab_record["Hosts"][host.name]["Networks"]
    if role(host) == "manager":
        hnets[net_id] = _host_view(sw["Networks"][net_id], None)  # managers list every network
    else:
        hnets.pop(net_id, None)  # a worker forgets the network with its last task


def sync_peers(lab: Lab, net_id: str) -> None:
    """Program every node's vxlan0 with the other nodes' endpoints of one overlay network.

    For each endpoint on another node: ``ip neigh replace IP lladdr MAC dev vxlan0 nud
    permanent`` and ``bridge fdb replace MAC dev vxlan0 dst NODE_IP self permanent``; entries
    whose endpoint is gone are deleted. Docker's overlay driver does the same from its peer
    database.
    """
    sw = _swarm(lab)
    if not sw:
        return
    hosts = lab.store.lab_record["Hosts"]
    endpoints = []
    for rec in lab.store.containers().values():
        if rec["State"] != "running":
            continue
        for ep in rec["Networks"].values():
            if ep.get("NetworkID") == net_id and ep.get("IPAddress"):
                endpoints.append((rec["Host"], ep["IPAddress"], ep["MacAddress"]))
    for box in sw["Sandboxes"].values():
        if box["Net"] != net_id:
            continue
        want = sorted(
            [ip, mac, hosts[node]["Address"]] for node, ip, mac in endpoints if node != box["Node"]
        )
        have = sorted(box["Peers"])
        ns = box["Netns"]
        for ip, mac, dst in have:
            if [ip, mac, dst] not in want:
                rtnl.neigh_del(ns, "vxlan0", ip)
                rtnl.fdb_del(ns, "vxlan0", mac, dst)
        for ip, mac, dst in want:
            if [ip, mac, dst] not in have:
                rtnl.neigh_add(ns, "vxlan0", ip, mac)
                rtnl.fdb_add(ns, "vxlan0", mac, dst)
        box["Peers"] = want


# --- services ---------------------------------------------------------------------------------


def create_service(
    host: Host, name: str, image: str, command: list[str], *, networks: list[str], replicas: int
) -> Record:
    """``docker service create --name N --network NET --replicas R IMAGE CMD``."""
    if replicas < 0:
        raise InvalidArgument(f'invalid argument "{replicas}" for "--replicas" flag')
    images.lookup(image)
    store = host.lab.store
    with store.locked():
        sw = require_manager(host)
        if any(s["Name"] == name for s in sw["Services"].values()):
            raise Conflict(
                f"rpc error: code = AlreadyExists desc = name conflicts with an "
                f"existing object: service {name} already exists"
            )
        net_ids = []
        for ref in networks:
            match = [
                n
                for n in sw["Networks"].values()
                if ref in (n["Name"], n["Id"]) and not n.get("Ingress")
            ]
            if not match:
                raise InvalidArgument(f"network {ref} not found")
            net_ids.append(match[0]["Id"])
        seq = len(sw["Services"]) + sum(1 for _ in sw.get("Removed", [])) + 1
        sid = b36(f"{host.lab.name}/service/{name}/{seq}", 25)
        svc: Record = {
            "ID": sid,
            "Name": name,
            "Image": image,
            "Command": command,
            "Networks": net_ids,
            "Replicas": 0,
            "Created": now_rfc3339(),
            "Tasks": {},
        }
        sw["Services"][sid] = svc
        store.save_lab()
        try:
            scale(host, svc, replicas)
        except BaseException:
            # Docker would keep retrying; netlab leaves nothing half-made instead.
            with contextlib.suppress(Exception):
                scale(host, svc, 0)
            sw["Services"].pop(sid, None)
            store.save_lab()
            raise
    return svc


def _choose_node(lab: Lab, svc: Record) -> str:
    """Swarm's spread: the node with the fewest tasks of this service, then the fewest tasks."""
    sw = _swarm(lab)
    assert sw is not None
    nodes: list[str] = list(sw["Nodes"])
    mine = {n: 0 for n in nodes}
    for t in svc["Tasks"].values():
        mine[t["Node"]] += 1
    total = {n: 0 for n in nodes}
    for s in sw["Services"].values():
        for t in s["Tasks"].values():
            total[t["Node"]] += 1
    order = {n: i for i, n in enumerate(nodes)}
    return min(nodes, key=lambda n: (mine[n], total[n], order[n]))


def scale(host: Host, svc: Record, replicas: int) -> None:
    """``docker service scale NAME=R``: start or remove tasks until R run."""
    lab = host.lab
    with lab.store.locked():
        svc = find_service(require_manager(host), svc["ID"])  # the live record, under the lock
        while len(svc["Tasks"]) < replicas:
            _start_task(lab, svc)
        while len(svc["Tasks"]) > replicas:
            last = max(svc["Tasks"].values(), key=lambda t: t["Slot"])
            _stop_task(lab, svc, last)
        svc["Replicas"] = replicas
        lab.store.save_lab()


def _start_task(lab: Lab, svc: Record) -> None:
    sw = _swarm(lab)
    assert sw is not None
    node = _choose_node(lab, svc)
    nh = lab.host(node)
    used = {t["Slot"] for t in svc["Tasks"].values()}
    slot = next(i for i in range(1, 10_000) if i not in used)
    tid = b36(f"{lab.name}/task/{svc['ID']}/{slot}/{svc.get('Generation', 0)}", 25)
    svc["Generation"] = svc.get("Generation", 0) + 1
    nets = [sw["Networks"][n] for n in svc["Networks"]]
    for net in nets:
        _ensure_sandbox(nh, net)
    lab.store.save_lab()
    try:
        from netlab.model.container import create_container

        img = images.lookup(svc["Image"])
        real = img.real_argv(tuple(svc["Command"]), lab.store.path("www", "nginx"))
        first = nh.network(nets[0]["Id"]) if nets else nh.network("bridge")
        c = create_container(
            nh,
            img,
            f"{img.name}:{img.tag}",
            tuple(svc["Command"]),
            real,
            name=f"{svc['Name']}.{slot}.{tid}",
            net=first,
            hostname=None,
            tty=False,
            interactive=False,
            more_networks=[n["Id"] for n in nets[1:]] + (["docker_gwbridge"] if nets else []),
        )
    except BaseException:
        for net in nets:
            if not _tasks_on(lab, nh.name, net["Id"]):
                _drop_sandbox(nh, net["Id"])
        lab.store.save_lab()
        raise
    svc["Tasks"][tid] = {
        "ID": tid,
        "Slot": slot,
        "Node": node,
        "Container": c.id,
        "Created": now_rfc3339(),
    }


def _tasks_on(lab: Lab, node: str, net_id: str) -> list[str]:
    return [
        r["Id"]
        for r in lab.store.containers().values()
        if r["Host"] == node
        and r["State"] == "running"
        and any(ep.get("NetworkID") == net_id for ep in r["Networks"].values())
    ]


def _stop_task(lab: Lab, svc: Record, task: Record) -> None:
    nh = lab.host(task["Node"])
    with contextlib.suppress(NetlabError):
        nh.container(task["Container"]).remove(force=True)
    svc["Tasks"].pop(task["ID"], None)
    for net_id in svc["Networks"]:
        if not _tasks_on(lab, nh.name, net_id):
            _drop_sandbox(nh, net_id)
        sync_peers(lab, net_id)


def remove_service(host: Host, ref: str) -> str:
    """``docker service rm NAME``: its tasks, their peer entries and idle sandboxes go."""
    with host.lab.store.locked():
        svc = find_service(require_manager(host), ref)
        scale(host, svc, 0)
        sw = require_manager(host)
        sw["Services"].pop(svc["ID"], None)
        sw.setdefault("Removed", []).append(svc["ID"])
        host.lab.store.save_lab()
    return ref


def find_service(sw: Record, ref: str) -> Record:
    """A service by name, ID or unique ID prefix; Docker's error otherwise."""
    services: list[Record] = list(sw["Services"].values())
    for s in services:
        if ref in (s["Name"], s["ID"]):
            return s
    match = [s for s in services if s["ID"].startswith(ref)]
    if len(match) == 1:
        return match[0]
    raise SwarmError(f"service {ref} not found")


def network_peers(lab: Lab, net_id: str) -> list[dict[str, Any]]:
    """``Peers`` of an overlay's inspect: the nodes that have its sandbox, with their IPs."""
    sw = _swarm(lab)
    if not sw:
        return []
    hosts = lab.store.lab_record["Hosts"]
    return [
        {"Name": sw["Nodes"][b["Node"]]["ID"][:12], "IP": hosts[b["Node"]]["Address"]}
        for b in sorted(sw["Sandboxes"].values(), key=lambda b: hosts[b["Node"]]["Index"])
        if b["Net"] == net_id
    ]


def remove_overlay(host: Host, net_id: str) -> None:
    """``docker network rm`` of an overlay: refused while a service uses it."""
    with host.lab.store.locked():
        sw = require_manager(host)
        net = sw["Networks"][net_id]
        users = [s["Name"] for s in sw["Services"].values() if net_id in s["Networks"]]
        if users:
            raise SwarmError(
                f"rpc error: code = FailedPrecondition desc = network {net_id} is "
                f"in use by service {users[0]}"
            )
        if net.get("Ingress"):
            raise SwarmError("ingress network cannot be removed in netlab")
        sw["Networks"].pop(net_id)
        for h in host.lab.store.lab_record["Hosts"].values():
            h["Networks"].pop(net_id, None)
        host.lab.store.save_lab()
