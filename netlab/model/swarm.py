"""Swarm mode: a manager, workers, overlay networks and replicated services.

What is real and what is played:

* the **data plane is the kernel's**, built by the overlay network driver
  (:mod:`netlab.model.drivers.overlay`): per overlay network, each node that runs a task of
  it gets a namespace with ``br0`` and ``vxlan0``. Task containers get ``eth0`` on the
  overlay (MTU 1450) and ``eth1`` on ``docker_gwbridge`` (their default route, masqueraded,
  inter-container communication off);
* the **control plane runs in the Python process** (Docker's is the swarmkit raft store
  and the gossip of its network database): nodes, join tokens, services and the scheduler
  live here; when a task starts or stops, the overlay's peer table
  (:mod:`netlab.model.drivers.peerdb`) programs every other node's ``vxlan0``;
* ``docker swarm join`` really connects to the manager's port 2377 across the lab's LAN
  (a listener runs in the manager's namespace), so a broken LAN breaks the join;
* not built: the routing mesh (ingress sandbox, IPVS), service DNS/VIPs, raft, gossip on
  7946, task rescheduling when a node fails.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
from typing import TYPE_CHECKING

from netlab.errors import Conflict, InvalidArgument, NetlabError
from netlab.kernel import netns, proc, rtnl
from netlab.model import ids, images, topology
from netlab.model.drivers import bridge, overlay, peerdb
from netlab.model.state import Record
from netlab.model.timefmt import now_rfc3339

if TYPE_CHECKING:
    from netlab.model.host import Host
    from netlab.model.lab import Lab

MANAGER_PORT = 2377

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
        cluster = ids.b36(f"{lab.name}/cluster", 25)
        sw: Record = {
            "ID": cluster,
            "Created": now_rfc3339(),
            "Manager": host.name,
            "ManagerAddr": f"{addr}:{MANAGER_PORT}",
            "Tokens": {
                "worker": _token(lab.name, "w"),
                "manager": _token(lab.name, "m"),
            },
            "Nodes": {},
            "Networks": {},
            "Services": {},
            "Sandboxes": {},
        }
        store.lab_record["Swarm"] = sw
        ingress_net = overlay.ingress(lab.name)
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


def _token(lab: str, kind: str) -> str:
    """A join token: ``SWMTKN-1-`` + the cluster's secret + the role's part."""
    return f"SWMTKN-1-{ids.b36(lab + '/secret', 50)}-{ids.b36(f'{lab}/{kind}', 25)}"


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
    try:
        ipaddress.IPv4Address(ip)
    except ValueError:
        return False
    return netns.tcp_reachable(ns, ip, port, timeout)


def _add_node(host: Host, sw: Record, node_role: str) -> None:
    sw["Nodes"][host.name] = {
        "ID": ids.b36(f"{host.lab.name}/node/{host.name}", 25),
        "Role": node_role,
        "Joined": now_rfc3339(),
    }
    _ensure_gwbridge(host)
    hnets = host.lab.store.lab_record["Hosts"][host.name]["Networks"]
    for net in sw["Networks"].values():
        if net.get("Ingress") or node_role == "manager":
            hnets[net["Id"]] = overlay.host_view(net, sandbox=None)


def _undo_node(host: Host, sw: Record) -> None:
    """Take back a half-done init or join: the node, its docker_gwbridge, its overlay views."""
    from netlab.model.networks import apply_firewall

    sw["Nodes"].pop(host.name, None)
    hnets = host.lab.store.lab_record["Hosts"][host.name]["Networks"]
    for nid, n in list(hnets.items()):
        if n["Scope"] == "swarm" or n["Name"] == "docker_gwbridge":
            del hnets[nid]
    rtnl.delete_link(host.ns, "docker_gwbridge")
    with contextlib.suppress(Exception):
        apply_firewall(host)
    host.lab.store.save_lab()


def _ensure_gwbridge(host: Host) -> None:
    """docker_gwbridge: the bridge that gives task containers their way out (eth1)."""
    from netlab.model.networks import apply_firewall

    hnets = host.lab.store.lab_record["Hosts"][host.name]["Networks"]
    if any(n["Name"] == "docker_gwbridge" for n in hnets.values()):
        return
    in_use = [ipaddress.IPv4Network(n["Subnet"]) for n in hnets.values() if n.get("Subnet")]
    in_use.append(ipaddress.IPv4Network(topology.LAN_SUBNET))
    seq = host.lab.store.next_counter(f"{host.name}/network")
    nid = ids.object_id(host.lab.name, f"{host.name}/network", seq)
    hnets[nid] = bridge.gateway_bridge(host, nid, in_use)
    apply_firewall(host)


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
        sid = ids.b36(f"{host.lab.name}/service/{name}/{seq}", 25)
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
    tid = ids.b36(f"{lab.name}/task/{svc['ID']}/{slot}/{svc.get('Generation', 0)}", 25)
    svc["Generation"] = svc.get("Generation", 0) + 1
    nets = [sw["Networks"][n] for n in svc["Networks"]]
    for net in nets:
        overlay.ensure_sandbox(nh, net)
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
                overlay.drop_sandbox(nh, net["Id"], manager=role(nh) == "manager")
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
            overlay.drop_sandbox(nh, net_id, manager=role(nh) == "manager")
        peerdb.sync(lab, net_id)


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
