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
import re
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from netlab.errors import Conflict, InvalidArgument, NetlabError, NotFound
from netlab.kernel import containers, netns, proc, rtnl
from netlab.model import embedded_dns, ids, images, ingress, lifecycle, service_lb, topology
from netlab.model.cluster import SwarmError, current, live, require_manager, role
from netlab.model.drivers import bridge, overlay, peerdb
from netlab.model.drivers.base import free_address
from netlab.model.networks import apply_firewall
from netlab.model.ports import PortMapping
from netlab.model.records import (
    NodeRec,
    OverlayRec,
    ServicePort,
    ServiceRec,
    SwarmRec,
    TaskRec,
)
from netlab.model.timefmt import now_rfc3339

if TYPE_CHECKING:
    from netlab.model.host import Host
    from netlab.model.lab import Lab

MANAGER_PORT = 2377

ALREADY = (
    'This node is already part of a swarm. Use "docker swarm leave" to leave this swarm '
    "and join another one."
)
BAD_TOKEN = (
    "rpc error: code = InvalidArgument desc = A valid join token is necessary to join this cluster"
)
# Docker 29 refuses swarm mode with its nftables backend (moby docker-v29.1.0
# daemon/config/config_linux.go IsSwarmCompatible): overlays still need iptables.
NFTABLES = "--firewall-backend=nftables is incompatible with swarm mode"
TIMEOUT = (
    "Timeout was reached before node joined. The attempt to join the swarm will continue "
    'in the background. Use the "docker info" command to see the current swarm status of '
    "your node."
)


# --- init and join ----------------------------------------------------------------------------


def init(host: Host, advertise_addr: str | None = None) -> str:
    """``docker swarm init``: this host becomes the manager; returns what Docker prints."""
    lab = host.lab
    store = lab.store
    with store.locked():
        if role(host) is not None:
            raise SwarmError(ALREADY)
        if store.lab_record.firewall_backend == "nftables":
            raise SwarmError(NFTABLES)
        addr = advertise_addr.split(":")[0] if advertise_addr else host.address
        if addr != host.address:
            raise InvalidArgument(
                f"advertise address must be a non-zero IPv4 or IPv6 address "
                f"of this node ({host.address})"
            )
        ingress_net = overlay.ingress(lab.name)
        store.put_swarm(
            SwarmRec(
                id=ids.b36(f"{lab.name}/cluster", 25),
                created=now_rfc3339(),
                manager=host.name,
                manager_addr=f"{addr}:{MANAGER_PORT}",
                tokens={"worker": _token(lab.name, "w"), "manager": _token(lab.name, "m")},
                networks={ingress_net.id: ingress_net},
            )
        )
        try:
            _listen(host)
            _add_node(host, "manager")
        except BaseException:
            _stop_listener(live(lab))
            _undo_node(host)
            store.put_swarm(None)
            raise
    sw = live(lab)
    return (
        f"Swarm initialized: current node ({sw.nodes[host.name].id}) is now a manager.\n\n"
        "To add a worker to this swarm, run the following command:\n\n"
        f"    docker swarm join --token {sw.tokens['worker']} {sw.manager_addr}\n\n"
        "To add a manager to this swarm, run 'docker swarm join-token manager' and follow the "
        "instructions.\n"
    )


LAST_MANAGER = (  # (moby v28.5.2 daemon/cluster/swarm.go Leave, isLastManager: as it is)
    "You are attempting to leave the swarm on a node that is participating as a manager. "
    "Removing the last manager erases all current state of the swarm. Use `--force` to ignore "
    "this message. "
)


def leave(host: Host, *, force: bool = False) -> str:
    """``docker swarm leave [--force]``: the node's tasks go (swarm starts them again on the
    nodes left, as its orchestrator keeps a service's replicas), so do its views of the
    overlays; the manager then lists it as Down (moby v28.5.2 daemon/cluster/swarm.go Leave).

    The manager leaves only with ``--force``, which erases the swarm: netlab's has one
    manager, so every service and overlay goes, on every node (Docker's workers would stay
    in a swarm without a manager)."""
    lab = host.lab
    store = lab.store
    with store.locked():
        kind = role(host)
        if kind is None:
            raise SwarmError("This node is not part of a swarm")  # (cluster/errors.go errNoSwarm)
        if kind == "manager" and not force:
            raise SwarmError(LAST_MANAGER)
        sw = live(lab)
        if kind == "manager":
            for svc in list(sw.services.values()):
                _stop_tasks(lab, svc, list(svc.tasks.values()))
            for name in list(live(lab).nodes):
                _drop_swarm_networks(lab.host(name))
            _stop_listener(live(lab))
            store.put_swarm(None)
            return "Node left the swarm.\n"
        for svc in list(sw.services.values()):
            here = [t for t in svc.tasks.values() if t.node == host.name]
            if here:
                _stop_tasks(lab, svc, here)
        _drop_swarm_networks(host)
        sw = live(lab)
        node = replace(sw.nodes[host.name], status="down")
        store.put_swarm(replace(sw, nodes={**sw.nodes, host.name: node}))
        _reconcile(lab)
    return "Node left the swarm.\n"


def find_node(sw: SwarmRec, ref: str) -> str:
    """A node by hostname, ID or unique ID prefix (moby v28.5.2 daemon/cluster/helpers.go
    getNode); its hostname."""
    for name, rec in sw.nodes.items():
        if ref in (name, rec.id):
            return name
    found = [name for name, rec in sw.nodes.items() if ref and rec.id.startswith(ref)]
    if len(found) > 1:
        raise InvalidArgument(f"node {ref} is ambiguous ({len(found)} matches found)")
    if not found:
        raise NotFound(f"node {ref} not found")
    return found[0]


def update_node(host: Host, ref: str, availability: str) -> str:
    """``docker node update --availability active|pause|drain NODE``: a drained node's tasks
    go and run again elsewhere; a paused one keeps its tasks but takes no new ones."""
    lab = host.lab
    with lab.store.locked():
        sw = require_manager(host)
        if availability not in ("active", "pause", "drain"):
            # (moby v28.5.2 daemon/cluster/convert/node.go NodeSpecToGRPC)
            raise InvalidArgument(f'invalid Availability: "{availability}"')
        name = find_node(sw, ref)
        node = replace(sw.nodes[name], availability=availability)
        lab.store.put_swarm(replace(sw, nodes={**sw.nodes, name: node}))
        if availability == "drain":
            for svc in list(live(lab).services.values()):
                here = [t for t in svc.tasks.values() if t.node == name]
                if here:
                    _stop_tasks(lab, svc, here)
        _reconcile(lab)
    return ref


def remove_node(host: Host, ref: str, *, force: bool = False) -> str:
    """``docker node rm [--force] NODE``: only a node that is down (vendored swarmkit
    manager/controlapi/node.go RemoveNode), or any worker with ``--force``."""
    lab = host.lab
    with lab.store.locked():
        sw = require_manager(host)
        name = find_node(sw, ref)
        rec = sw.nodes[name]
        if rec.role == "manager":
            raise SwarmError(
                f"rpc error: code = FailedPrecondition desc = node {rec.id} is a cluster manager "
                "and is a member of the raft cluster. It must be demoted to worker before removal"
            )
        if rec.status == "ready" and not force:
            raise SwarmError(
                f"rpc error: code = FailedPrecondition desc = node {rec.id} is not down and "
                "can't be removed"
            )
        if rec.status == "ready":  # --force: as if it had left
            for svc in list(sw.services.values()):
                here = [t for t in svc.tasks.values() if t.node == name]
                if here:
                    _stop_tasks(lab, svc, here)
            _drop_swarm_networks(lab.host(name))
        sw = live(lab)
        lab.store.put_swarm(replace(sw, nodes={k: v for k, v in sw.nodes.items() if k != name}))
        _reconcile(lab)
    return ref


def node_down(lab: Lab, name: str) -> None:
    """A node fails (``netlab node down LAB NODE``): its LAN link goes down, so the manager
    hears nothing from it and marks it Down; its tasks run on where they are, cut off, and
    swarm starts replacements on the other nodes; the others' overlay tables forget it, as
    Docker's gossip does."""
    with lab.store.locked():
        sw = live(lab)
        if name not in sw.nodes:
            raise InvalidArgument(f"{name} is not a node of the swarm")
        if sw.nodes[name].role == "manager":
            raise InvalidArgument(
                f"{name} is the swarm's only manager: netlab's swarm would stop with it "
                "(take a worker down)"
            )
        if sw.nodes[name].status != "ready":
            return
        rtnl.set_link(topology.ns_name(lab.name, "lan"), topology.lan_port(name), up=False)
        orphans: list[str] = []
        for svc in list(sw.services.values()):
            here = [t for t in svc.tasks.values() if t.node == name]
            if here:
                orphans += [t.container for t in here if t.container]
                gone = {t.id for t in here}
                _put_service(
                    lab,
                    replace(svc, tasks={k: v for k, v in svc.tasks.items() if k not in gone}),
                )
        sw = live(lab)
        node = replace(sw.nodes[name], status="down", orphans=tuple(orphans))
        lab.store.put_swarm(replace(sw, nodes={**sw.nodes, name: node}))
        for net_id in sw.networks:
            peerdb.sync(lab, net_id)
        _reconcile(lab)


def node_up(lab: Lab, name: str) -> None:
    """The node is back (``netlab node up``): its link comes up, its agent ends the tasks
    the manager has replaced meanwhile, and it is Ready for new ones."""
    with lab.store.locked():
        sw = live(lab)
        if name not in sw.nodes:
            raise InvalidArgument(f"{name} is not a node of the swarm")
        rec = sw.nodes[name]
        if rec.status == "ready":
            return
        rtnl.set_link(topology.ns_name(lab.name, "lan"), topology.lan_port(name), up=True)
        host = lab.host(name)
        stale = []
        for cid in rec.orphans:
            with contextlib.suppress(NetlabError):
                stale.append(host.container(cid))
        host.remove_containers(stale, force=True)
        for box in list(live(lab).sandboxes.values()):
            ingress_net = live(lab).networks[box.net].ingress  # (on every node, tasks or not)
            if box.node == name and not ingress_net and not _tasks_on(lab, name, box.net):
                overlay.drop_sandbox(host, box.net, manager=False)
        sw = live(lab)
        node = replace(sw.nodes[name], status="ready", orphans=())
        lab.store.put_swarm(replace(sw, nodes={**sw.nodes, name: node}))
        for net_id in sw.networks:
            peerdb.sync(lab, net_id)
        _reconcile(lab)


def _drop_swarm_networks(host: Host) -> None:
    """A node's views of the swarm's networks go (docker_gwbridge stays, as on Docker)."""
    store = host.lab.store
    for nid, n in list(store.lab_record.hosts[host.name].networks.items()):
        if n.scope == "swarm":
            with contextlib.suppress(Exception):
                overlay.drop_sandbox(host, nid, manager=False)
            if nid in store.lab_record.hosts[host.name].networks:
                store.drop_network(host.name, nid)


def _token(lab: str, kind: str) -> str:
    """A join token: ``SWMTKN-1-`` + the cluster's secret + the role's part."""
    return f"SWMTKN-1-{ids.b36(lab + '/secret', 50)}-{ids.b36(f'{lab}/{kind}', 25)}"


def _listen(host: Host) -> None:
    """The manager's port 2377: a real TCP listener in its namespace (what join connects to)."""
    d = host.lab.store.path("swarm-api")
    os.makedirs(d, exist_ok=True)
    pid, started = containers.spawn(
        host.ns,
        ["busybox", "httpd", "-f", "-p", f"{host.address}:{MANAGER_PORT}", "-h", d],
        log_file=host.lab.store.path("services", "swarm-api.log"),
    )
    sw = live(host.lab)
    host.lab.store.put_swarm(replace(sw, listener_pid=pid, listener_start=started))
    proc.wait_listening(host.ns, [(host.address, MANAGER_PORT, "tcp")])


def _stop_listener(sw: SwarmRec) -> None:
    if sw.listener_pid:
        proc.kill_group(sw.listener_pid, sw.listener_start)


def join(host: Host, token: str, addr: str, timeout: float = 2.0) -> str:
    """``docker swarm join --token T ADDR``: checks the token and really reaches ADDR:2377."""
    lab = host.lab
    store = lab.store
    with store.locked():
        sw = current(lab)
        if role(host) is not None:
            raise SwarmError(ALREADY)
        if store.lab_record.firewall_backend == "nftables":
            raise SwarmError(NFTABLES)
        target, _, port = addr.partition(":")
        port_no = int(port) if port.isdigit() else MANAGER_PORT
        if not 0 < port_no < 65536:
            raise InvalidArgument(f"invalid port {port} in {addr}: a port is 1-65535")
        if not well_formed(token):  # (parsed before the manager is asked)
            raise SwarmError("invalid join token")
        if not _reachable(host.ns, target, port_no, timeout):
            raise SwarmError(TIMEOUT)
        if sw is None or f"{target}:{port_no}" != sw.manager_addr:
            raise SwarmError(TIMEOUT)
        if token == sw.tokens["worker"]:
            node_role = "worker"
        elif token == sw.tokens["manager"]:
            raise InvalidArgument("netlab's swarm has one manager: join with the worker token")
        else:
            raise SwarmError(BAD_TOKEN)
        try:
            _add_node(host, node_role)
        except BaseException:
            _undo_node(host)
            raise
        _reconcile(lab)  # (a global service's task, pending tasks that fit it now)
    return f"This node joined a swarm as a {node_role}.\n"


def _sync_ingress(lab: Lab) -> None:
    """Bring every node's DOCKER-INGRESS chains to the swarm's published ports (under the
    lab's lock): a node's chains appear with the first one, with ``route_localnet`` on its
    docker_gwbridge (moby v28.5.2 libnetwork/service_linux.go programIngress), and stay."""
    sw = live(lab)
    ports = ingress.published_ports(sw)
    for node in sw.nodes:
        box = ingress.ingress_box(sw, node)
        if box is None or not box.gw_ip:
            continue
        host = lab.host(node)
        if ports and not box.programmed:
            rtnl.sysctl(host.ns, "net.ipv4.conf.docker_gwbridge.route_localnet", "1")
            box = replace(box, programmed=True)
            sw = live(lab)
            key = f"{node}/{box.net}"
            lab.store.put_swarm(replace(sw, sandboxes={**sw.sandboxes, key: box}))
        if box.programmed:
            apply_firewall(host)


def _reconcile(lab: Lab) -> None:
    """What swarm's orchestrator does when the nodes change: every service back to what it
    wants (its replicas, or a task on every node that fits a global one)."""
    manager = lab.host(live(lab).manager)
    for svc in list(live(lab).services.values()):
        scale(manager, svc, svc.replicas)


def well_formed(token: str) -> bool:
    """swarmkit's ParseJoinToken (moby v28.5.2 vendor/github.com/moby/swarmkit/v2/ca/
    config.go): ``SWMTKN-1-<50>-<25>`` or ``SWMTKN-2-<0|1>-<50>-<25>``, base 36.

    >>> well_formed("SWMTKN-1-wrong"), well_formed(f"SWMTKN-1-{'a' * 50}-{'b' * 25}")
    (False, True)
    """
    parts = token.split("-")
    if len(parts) < 4 or parts[0] != "SWMTKN":
        return False
    if not (parts[1] == "1" and len(parts) == 4) and not (
        parts[1] == "2" and len(parts) == 5 and parts[2] in ("0", "1")
    ):
        return False
    return len(parts[-2]) == 50 and len(parts[-1]) == 25


def _reachable(ns: str, ip: str, port: int, timeout: float) -> bool:
    """Can a TCP connection from namespace ``ns`` reach ip:port? (a real SYN on the LAN)"""
    try:
        ipaddress.IPv4Address(ip)
    except ValueError:
        return False
    return netns.tcp_reachable(ns, ip, port, timeout)


def _add_node(host: Host, node_role: str) -> None:
    store = host.lab.store
    sw = live(host.lab)
    node = NodeRec(ids.b36(f"{host.lab.name}/node/{host.name}", 25), node_role, now_rfc3339())
    store.put_swarm(replace(sw, nodes={**sw.nodes, host.name: node}))
    _ensure_gwbridge(host)
    for net in sw.networks.values():
        if net.ingress or node_role == "manager":
            store.put_network(host.name, overlay.host_view(net))
    # The routing mesh's end on this node: the ingress network's sandbox and ingress-sbox
    # (Docker makes them as the node starts, tasks or not), known to the other nodes' vxlan0,
    # with the VIPs and published ports of the services there already.
    ing = next(n for n in sw.networks.values() if n.ingress)
    overlay.ensure_sandbox(host, ing)
    apply_firewall(host)  # (ingress-sbox is an endpoint of docker_gwbridge: its raw rule)
    peerdb.sync(host.lab, ing.id)
    service_lb.sync(host.lab, ing.id)
    _sync_ingress(host.lab)


def _undo_node(host: Host) -> None:
    """Take back a half-done init or join: the node, its docker_gwbridge, its overlay views."""

    store = host.lab.store
    sw = current(host.lab)
    if sw is not None:
        for net in sw.networks.values():
            if net.ingress:
                with contextlib.suppress(Exception):
                    overlay.drop_sandbox(host, net.id, manager=False)
        sw = live(host.lab)
        store.put_swarm(replace(sw, nodes={k: v for k, v in sw.nodes.items() if k != host.name}))
    for nid, n in list(store.lab_record.hosts[host.name].networks.items()):
        if n.scope == "swarm" or n.name == "docker_gwbridge":
            store.drop_network(host.name, nid)
    rtnl.delete_link(host.ns, "docker_gwbridge")
    with contextlib.suppress(Exception):
        apply_firewall(host)


def _ensure_gwbridge(host: Host) -> None:
    """docker_gwbridge: the bridge that gives task containers their way out (eth1)."""

    store = host.lab.store
    hnets = store.lab_record.hosts[host.name].networks
    if any(n.name == "docker_gwbridge" for n in hnets.values()):
        return
    in_use = [ipaddress.IPv4Network(n.subnet) for n in hnets.values() if n.subnet]
    in_use.append(ipaddress.IPv4Network(topology.LAN_SUBNET))
    seq = store.next_counter(f"{host.name}/network")
    nid = ids.object_id(host.lab.name, f"{host.name}/network", seq)
    store.put_network(host.name, bridge.gateway_bridge(host, nid, in_use))
    apply_firewall(host)


# --- services ---------------------------------------------------------------------------------


def _put_service(lab: Lab, svc: ServiceRec, *, settle: bool = True) -> ServiceRec:
    """Store the service; ``settle``: bring what follows its tasks up to date too (the DNS
    names, its VIP's round robin), which a scaling does once, at its end, not per task."""
    sw = live(lab)
    lab.store.put_swarm(replace(sw, services={**sw.services, svc.id: svc}))
    if settle:
        embedded_dns.refresh(lab)  # (tasks.NAME: the service's tasks as they are now)
        for net_id in svc.vips:  # (its VIP's round robin over the tasks that run now)
            service_lb.sync(lab, net_id)
    return svc


def create_service(
    host: Host,
    name: str,
    image: str,
    command: list[str],
    *,
    networks: list[str],
    replicas: int,
    mode: str = "replicated",
    constraints: Sequence[str] = (),
    max_per_node: int = 0,
    endpoint_mode: str = "vip",
    ports: Sequence[ServicePort] = (),
) -> ServiceRec:
    """``docker service create --name N --network NET --replicas R IMAGE CMD``, with
    ``--mode global``, ``--constraint``s, ``--replicas-max-per-node`` and published ports
    (``-p``: the routing mesh, :mod:`netlab.model.ingress`)."""
    topology.check_swarm_name(name)
    parse_constraints(constraints)  # (the manager refuses a bad one before anything)
    if replicas < 0:
        raise InvalidArgument(f'invalid argument "{replicas}" for "--replicas" flag')
    images.lookup(image)
    store = host.lab.store
    with store.locked():
        sw = require_manager(host)
        if any(s.name == name for s in sw.services.values()):
            raise Conflict(
                f"rpc error: code = AlreadyExists desc = name conflicts with an "
                f"existing object: service {name} already exists"
            )
        net_ids = []
        for ref in networks:
            match = [n for n in sw.networks.values() if ref in (n.name, n.id) and not n.ingress]
            if not match:
                raise InvalidArgument(f"network {ref} not found")
            net_ids.append(match[0].id)
        _check_endpoint(endpoint_mode, ports)
        ports = ingress.allocate(sw, ports, name)
        seq = len(sw.services) + len(sw.removed) + 1
        sid = ids.b36(f"{host.lab.name}/service/{name}/{seq}", 25)
        vips = {}
        # (the manager's allocator: a VIP on each network, first; on ingress too, first of
        # all, when a port goes through the routing mesh)
        ing = [n.id for n in sw.networks.values() if n.ingress]
        mesh = ing if any(p.mode == "ingress" for p in ports) else []
        if endpoint_mode == "vip":
            for nid in mesh + net_ids:
                vips[nid] = _new_vip(host, sw.networks[nid])
        svc = _put_service(
            host.lab,
            ServiceRec(
                sid,
                name,
                image,
                tuple(command),
                tuple(net_ids),
                now_rfc3339(),
                mode=mode,
                constraints=tuple(constraints),
                max_per_node=max_per_node,
                endpoint_mode=endpoint_mode,
                vips=vips,
                fwmark=service_lb.FIRST_FWMARK + seq - 1,
                ports=tuple(ports),
            ),
        )
        try:
            scale(host, svc, replicas)
        except BaseException:
            # Docker would keep retrying; netlab leaves nothing half-made instead.
            with contextlib.suppress(Exception):
                scale(host, svc, 0)
            sw = live(host.lab)
            store.put_swarm(
                replace(sw, services={k: v for k, v in sw.services.items() if k != sid})
            )
            with contextlib.suppress(Exception):
                for nid in vips:  # (its VIP leaves the load balancers)
                    service_lb.sync(host.lab, nid)
                _sync_ingress(host.lab)
            raise
        if mesh:
            _sync_ingress(host.lab)  # (every node's DOCKER-INGRESS: the new ports)
    return find_service(live(host.lab), sid)


def _check_endpoint(mode: str, ports: Sequence[ServicePort]) -> None:
    """swarmkit's validateEndpointSpec (vendored manager/controlapi/service.go): the routing
    mesh needs a VIP."""
    if mode == "dnsrr" and any(p.mode == "ingress" for p in ports):
        raise SwarmError(
            "rpc error: code = InvalidArgument desc = EndpointSpec: port published with "
            "ingress mode can't be used with dnsrr mode"
        )


def _new_vip(host: Host, net: OverlayRec) -> str:
    """A service's virtual IP on an overlay, with the network's prefix ("10.0.1.2/24")."""
    view = overlay.host_view(net)
    prefix = ipaddress.IPv4Network(view.subnet).prefixlen
    return f"{free_address(host, view, cluster_wide=True)}/{prefix}"


OPERATORS = ("==", "!=")


def parse_constraints(exprs: Sequence[str]) -> list[tuple[str, str, str]]:
    """``--constraint`` values as swarmkit parses them (moby v28.5.2 vendored swarmkit
    manager/constraint/constraint.go Parse): ``(key, operator, value)``."""
    out = []
    for e in exprs:
        for op in OPERATORS:
            if op not in e:
                continue
            key, value = (p.strip() for p in e.split(op, 1))
            if not re.fullmatch(r"(?i)[a-z_][a-z0-9\-_.]+", key):
                raise SwarmError(f"rpc error: code = Unknown desc = key '{key}' is invalid")
            if not re.fullmatch(r"(?i)[a-z0-9:\-_\s.*()?+\[\]\\^$|/]+", value):
                raise SwarmError(f"rpc error: code = Unknown desc = value '{value}' is invalid")
            out.append((key, op, value))
            break
        else:
            raise SwarmError(
                "rpc error: code = Unknown desc = constraint expected one operator from ==, !="
            )
    return out


def node_matches(lab: Lab, sw: SwarmRec, node: str, constraints: Sequence[str]) -> bool:
    """Does ``node`` meet every constraint (constraint.go NodeMatches: node.id,
    node.hostname, node.role, node.ip; labels, which netlab's nodes have none of, match
    only ``!=``)? Values compare without case, as swarmkit compares them."""
    rec = sw.nodes[node]
    facts = {
        "node.id": rec.id,
        "node.hostname": node,
        "node.role": rec.role,
        "node.ip": lab.store.lab_record.hosts[node].address,
    }
    for key, op, value in parse_constraints(constraints):
        have = facts.get(key.lower(), "")
        same = have.lower() == value.lower()
        if same != (op == "=="):
            return False
    return True


def choose_node(lab: Lab, sw: SwarmRec, svc: ServiceRec) -> tuple[str | None, str]:
    """Where swarm's scheduler puts a new task of ``svc``: ``(node, "")``, or ``(None, why)``
    with the scheduler's explanation (vendored swarmkit manager/scheduler: the pipeline's
    filters Ready, Constraint and MaxReplicas in that order, explained from the most
    failures down). Among the nodes that fit, the spread: the fewest tasks of this service,
    then the fewest tasks, then the one that joined first."""
    failures = {"ready": 0, "constraint": 0, "hostport": 0, "max": 0}
    mine = {n: 0 for n in sw.nodes}
    total = {n: 0 for n in sw.nodes}
    host_ports: dict[str, set[tuple[str, int]]] = {n: set() for n in sw.nodes}
    for s in sw.services.values():
        for t in s.tasks.values():
            if t.node:
                total[t.node] += 1
                if s.id == svc.id:
                    mine[t.node] += 1
                host_ports[t.node] |= {
                    (p.protocol, p.published) for p in s.ports if p.mode == "host" and p.published
                }
    wants = {(p.protocol, p.published) for p in svc.ports if p.mode == "host" and p.published}
    fit = []
    for n, rec in sw.nodes.items():
        if rec.status != "ready" or rec.availability != "active":
            failures["ready"] += 1
        elif not node_matches(lab, sw, n, svc.constraints):
            failures["constraint"] += 1
        elif wants & host_ports[n]:
            failures["hostport"] += 1
        elif svc.max_per_node and mine[n] >= svc.max_per_node:
            failures["max"] += 1
        else:
            fit.append(n)
    if fit:
        order = {n: i for i, n in enumerate(sw.nodes)}
        return min(fit, key=lambda n: (mine[n], total[n], order[n])), ""
    ranked = sorted((k for k in failures if failures[k]), key=lambda k: -failures[k])
    why = "; ".join(_explain(k, failures[k]) for k in ranked)
    return None, f"no suitable node ({why})" if why else "no suitable node"


def _explain(check: str, k: int) -> str:
    """A scheduler filter's Explain (vendored swarmkit manager/scheduler/filter.go)."""
    nodes = "1 node" if k == 1 else f"{k} nodes"
    if check == "ready":
        return f"{nodes} not available for new tasks"
    if check == "constraint":
        return f"scheduling constraints not satisfied on {nodes}"
    if check == "hostport":
        return f"host-mode port already in use on {nodes}"
    return "max replicas per node limit exceed"


@contextlib.contextmanager
def settling(lab: Lab) -> Iterator[None]:
    """Within: tasks start and stop without the peer tables and the DNS names following
    each one (each is a pass over every endpoint of the swarm: a thousand tasks made that
    quadratic); at the end (the outermost, also after an error), both once."""
    lab.deferred += 1
    try:
        yield
    finally:
        lab.deferred -= 1
        if not lab.deferred:
            sw = current(lab)
            for nid in sw.networks if sw else ():
                peerdb.sync(lab, nid)
            embedded_dns.refresh(lab)


def scale(host: Host, svc: ServiceRec, replicas: int) -> None:
    """``docker service scale NAME=R`` (and the orchestrator's reconciliation): start or
    remove tasks until R are wanted; a task no node fits waits, pending, with the
    scheduler's reason, and is placed as soon as one does. A global service wants one task
    on every node that fits it."""
    lab = host.lab
    with lab.store.locked(), settling(lab):
        svc = find_service(require_manager(host), svc.id)  # the live record, under the lock
        if svc.mode == "global":
            svc = _reconcile_global(lab, svc)
            _put_service(lab, svc)
            return
        for t in sorted(svc.tasks.values(), key=lambda t: t.slot):  # pending ones first
            if not t.container and t.slot <= replicas:
                svc = _place(lab, svc, t.slot, t.id)
        while len(svc.tasks) < replicas:
            svc = _place(lab, svc)
        if len(svc.tasks) > replicas:  # (the highest slots go, all in one batch)
            svc = _stop_tasks(lab, svc, sorted(svc.tasks.values(), key=lambda t: t.slot)[replicas:])
        _put_service(lab, replace(svc, replicas=replicas))


def _place(lab: Lab, svc: ServiceRec, slot: int = 0, tid: str = "") -> ServiceRec:
    """Schedule one task of a replicated service (a new slot, or a pending one again)."""
    sw = live(lab)
    node, why = choose_node(lab, sw, svc)
    if not slot:
        used = {t.slot for t in svc.tasks.values()}
        slot = next(i for i in range(1, 10_000) if i not in used)
    if not tid:  # (the new generation is stored with the task: one write of the swarm)
        tid = ids.b36(f"{lab.name}/task/{svc.id}/{slot}/{svc.generation}", 25)
        svc = replace(svc, generation=svc.generation + 1)
    if node is None:
        old = svc.tasks.get(tid)
        pending = TaskRec(tid, slot, "", "", old.created if old else now_rfc3339(), error=why)
        return _put_service(lab, replace(svc, tasks={**svc.tasks, tid: pending}), settle=False)
    return _start_task(lab, svc, node, slot, tid)


def _reconcile_global(lab: Lab, svc: ServiceRec) -> ServiceRec:
    """A global service: a task on each ready node that meets its constraints, none
    elsewhere (its task name carries the node's ID instead of a slot)."""
    sw = live(lab)
    # (a paused node keeps its task, a drained one loses it: swarmkit's global orchestrator)
    want = [
        n
        for n, rec in sw.nodes.items()
        if rec.status == "ready"
        and rec.availability != "drain"
        and node_matches(lab, sw, n, svc.constraints)
    ]
    doomed = [t for t in svc.tasks.values() if t.node not in want]
    if doomed:
        svc = _stop_tasks(lab, svc, doomed)
    have = {t.node for t in svc.tasks.values()}
    for n in want:
        if n not in have:
            svc = _start_global_task(lab, svc, n)
    return replace(svc, replicas=len(want))


def _start_global_task(lab: Lab, svc: ServiceRec, node: str) -> ServiceRec:
    """A new task of a global service on ``node`` (named by the node, not a slot)."""
    tid = ids.b36(f"{lab.name}/task/{svc.id}/{node}/{svc.generation}", 25)
    return _start_task(lab, replace(svc, generation=svc.generation + 1), node, 0, tid)


def _start_task(lab: Lab, svc: ServiceRec, node: str, slot: int, tid: str) -> ServiceRec:
    sw = live(lab)
    nh = lab.host(node)
    nets = [sw.networks[n] for n in svc.networks]
    for net in nets:
        overlay.ensure_sandbox(nh, net)
    if svc.ingress_ports:  # (the routing mesh reaches the task on ingress: its eth0)
        nets.insert(0, next(n for n in sw.networks.values() if n.ingress))
    host_ports = [
        PortMapping("0.0.0.0", p.published, p.target, p.protocol)
        for p in svc.ports
        if p.mode == "host"
    ]
    try:
        img = images.lookup(svc.image)
        real = img.real_argv(tuple(svc.command))
        first = nh.network(nets[0].id) if nets else nh.network("bridge")
        cid = lifecycle.create_container(
            nh,
            img,
            f"{img.name}:{img.tag}",
            tuple(svc.command),
            real,
            name=f"{svc.name}.{slot or sw.nodes[node].id}.{tid}",
            net=first,
            hostname=None,
            tty=False,
            interactive=False,
            more_networks=[n.id for n in nets[1:]] + (["docker_gwbridge"] if nets else []),
            publish=host_ports,
            keep_created=False,
        )
        if svc.ingress_ports:
            rec = lab.store.containers()[cid]
            ep = next(e for e in rec.networks.values() if e.network_id == nets[0].id)
            try:
                ingress.program_task(rec.netns, ep.ip, svc.ingress_ports)
            except BaseException:
                nh.remove_containers([nh.container(cid)], force=True)
                raise
    except BaseException:
        for net in nets:
            if not net.ingress and not _tasks_on(lab, nh.name, net.id):
                overlay.drop_sandbox(nh, net.id, manager=role(nh) == "manager")
        raise
    old = svc.tasks.get(tid)
    task = TaskRec(tid, slot, node, cid, old.created if old else now_rfc3339())
    return _put_service(lab, replace(svc, tasks={**svc.tasks, tid: task}), settle=False)


def _tasks_on(lab: Lab, node: str, net_id: str) -> list[str]:
    return [
        r.id
        for r in lab.store.containers().values()
        if r.host == node
        and r.state == "running"
        and any(ep.network_id == net_id for ep in r.networks.values())
    ]


def _stop_tasks(lab: Lab, svc: ServiceRec, doomed: list[TaskRec]) -> ServiceRec:
    """Remove tasks together: each node's containers in one batch (the kernel's clean-up is
    awaited once per node, not once per task), then the overlay sandboxes that lost their
    last task, then each peer table once."""
    by_node: dict[str, list[TaskRec]] = {}
    for t in doomed:
        if t.node:  # (a pending task has no container)
            by_node.setdefault(t.node, []).append(t)
    for node, tasks in by_node.items():
        nh = lab.host(node)
        found = []
        for t in tasks:
            with contextlib.suppress(NetlabError):
                found.append(nh.container(t.container))
        nh.remove_containers(found, force=True)
    gone = {t.id for t in doomed}
    svc = _put_service(
        lab,
        replace(svc, tasks={k: v for k, v in svc.tasks.items() if k not in gone}),
        settle=False,
    )
    for net_id in svc.networks:
        for node in by_node:
            nh = lab.host(node)
            if not _tasks_on(lab, node, net_id):
                overlay.drop_sandbox(nh, net_id, manager=role(nh) == "manager")
        peerdb.sync(lab, net_id)
    return svc


def update_service(
    host: Host,
    ref: str,
    *,
    image: str | None = None,
    replicas: int | None = None,
    add_ports: Sequence[ServicePort] = (),
    rm_ports: Sequence[ServicePort] = (),
) -> ServiceRec:
    """``docker service update [--image I] [--replicas N] [--publish-add P] [--publish-rm P]
    SERVICE``: a new spec, then a rolling update (one task after another: the old one goes,
    its slot starts again from the new spec; Docker's default parallelism of 1 and
    stop-first order), then the scaling. Ports follow the CLI's updatePorts (docker/cli
    v28.5.2 cli/command/service/update.go): ``--publish-rm`` matches the target port,
    ``--publish-add`` adds what is not there, the result sorted as its key."""
    if image is not None:
        images.lookup(image)
    lab = host.lab
    with lab.store.locked(), settling(lab):
        sw = require_manager(host)
        svc = find_service(sw, ref)
        if replicas is not None and svc.mode == "global":
            raise InvalidArgument(
                "replicas can only be used with replicated or replicated-job mode"
            )

        def key(p: ServicePort) -> str:
            return f"{p.published}:{p.target}/{p.protocol}/{p.mode}"

        kept = {
            key(p): p
            for p in svc.ports
            if not any(
                r.protocol == p.protocol and r.target == p.target and r.mode == p.mode
                for r in rm_ports
            )
        }
        for p in add_ports:
            if key(p) not in {key(q) for q in svc.ports}:
                kept.setdefault(key(p), p)
        ports = tuple(sorted(kept.values(), key=key))
        new = svc
        if ports != svc.ports:
            _check_endpoint(svc.endpoint_mode, ports)
            ports = tuple(ingress.allocate(sw, ports, svc.name))
            ing = next(n for n in sw.networks.values() if n.ingress)
            vips = {k: v for k, v in svc.vips.items() if k != ing.id}
            if svc.endpoint_mode == "vip" and any(p.mode == "ingress" for p in ports):
                vips = {
                    ing.id: svc.vips.get(ing.id) or _new_vip(host, ing),
                    **vips,
                }  # (ingress's VIP first, as at create)
            new = replace(new, ports=ports, vips=vips)
        if image is not None:
            new = replace(new, image=image)
        respec = new.image != svc.image or new.ports != svc.ports
        new = _put_service(lab, new, settle=False)
        if respec:  # the rolling update: each task again, from the new spec
            for t in sorted(svc.tasks.values(), key=lambda t: (t.slot, t.node)):
                new = _stop_tasks(lab, new, [t])
                if new.mode == "global":
                    new = _start_global_task(lab, new, t.node)
                else:
                    new = _place(lab, new, t.slot)
        scale(host, new, new.replicas if replicas is None else replicas)
        for nid in set(svc.vips) - set(new.vips):  # (a VIP no longer there leaves)
            service_lb.sync(lab, nid)
        if new.ports != svc.ports:
            _sync_ingress(lab)
    return find_service(live(lab), svc.id)


def remove_service(host: Host, ref: str) -> str:
    """``docker service rm NAME``: its tasks, their peer entries and idle sandboxes go."""
    with host.lab.store.locked():
        svc = find_service(require_manager(host), ref)
        scale(host, svc, 0)
        sw = require_manager(host)
        host.lab.store.put_swarm(
            replace(
                sw,
                services={k: v for k, v in sw.services.items() if k != svc.id},
                removed=(*sw.removed, svc.id),
            )
        )
        for nid in svc.vips:  # (its VIP leaves the load balancers)
            service_lb.sync(host.lab, nid)
        if svc.ingress_ports:
            _sync_ingress(host.lab)  # (its ports leave every node's DOCKER-INGRESS)
        embedded_dns.refresh(host.lab)
    return ref


def find_service(sw: SwarmRec, ref: str) -> ServiceRec:
    """A service by name, ID or unique ID prefix; Docker's error otherwise."""
    services = list(sw.services.values())
    for s in services:
        if ref in (s.name, s.id):
            return s
    match = [s for s in services if s.id.startswith(ref)]
    if len(match) == 1:
        return match[0]
    raise SwarmError(f"service {ref} not found")
