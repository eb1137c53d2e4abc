"""The lab's state as typed, frozen records; JSON only where the store reads and writes.

Each record is what Docker's daemon keeps about one object, the fields netlab needs to rebuild
every ``docker`` output and to find every kernel object again:

=================  =====================================================================
:class:`LabRec`     the lab: its Docker hosts and, once ``swarm init`` ran, the swarm
:class:`HostRec`    one Docker host: its LAN address and its networks
:class:`NetworkRec` one network of a host (``bridge``, ``host``, ``none``, user-defined, an
                    overlay as one node sees it)
:class:`Endpoint`   a container's attachment to one network: its address, MAC, interface
:class:`ContainerRec` one container: image, command, state, process, endpoints, ports
:class:`SwarmRec`   the swarm: nodes, tokens, overlay networks, services and their tasks,
                    and each node's overlay sandboxes with their peer tables
=================  =====================================================================

Records never change: a change is a new record (``dataclasses.replace``) handed to the store
(:mod:`netlab.model.state`), which writes it under the lab's lock. Mappings inside them are
typed read-only (``Mapping``); code that wants to change one builds a new dict.

On disk each record is a JSON object whose keys are the field names; :func:`to_json` and
:func:`from_json` convert, driven by the field types alone (so a new field needs no codec
code), and :data:`SCHEMA` is written next to them so that state written by another version of
netlab is refused with a clear message instead of being misread.
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from netlab.model.ports import PortMapping

SCHEMA = 2  # (1: the untyped records of netlab 0.1's first sessions)

ZERO_TIME = "0001-01-01T00:00:00Z"


@dataclass(frozen=True)
class EndpointConfig:
    """What the user asked for on one network (``docker run --ip --mac-address
    --network-alias``): Docker keeps it, so the container gets it again at every start."""

    ip: str = ""  # IPAMConfig.IPv4Address
    mac: str = ""  # MacAddress as given
    aliases: tuple[str, ...] = ()


NO_CONFIG = EndpointConfig()  # (nothing asked for)


@dataclass(frozen=True)
class Endpoint:
    """A container's attachment to one network (Docker's endpoint)."""

    network_id: str
    endpoint_id: str = ""  # "" on host/none networks, and once the container stopped
    gateway: str = ""
    ip: str = ""
    prefixlen: int = 0
    mac: str = ""
    ifname: str = ""  # eth0, eth1, ... inside the container
    mtu: int = 1500
    bridge: str = ""  # bridge/overlay: the bridge its veth is a port of
    veth: str = ""  # bridge/overlay: the veth's end outside the container
    bridge_ns: str = ""  # overlay: the namespace of that bridge (the network's sandbox)
    default_route: bool = False  # docker_gwbridge: the task's way out
    parent: str = ""  # macvlan/ipvlan: the parent interface in the host
    mode: str = ""  # macvlan/ipvlan mode
    config: EndpointConfig = NO_CONFIG  # what the user asked for

    def released(self) -> Endpoint:
        """What Docker keeps of an endpoint once the container stopped: the network and
        what the user asked for."""
        return Endpoint(self.network_id, ifname=self.ifname, config=self.config)


@dataclass(frozen=True)
class NetworkRec:
    """One network of a Docker host, as ``docker network inspect`` shows it and more."""

    name: str
    id: str
    created: str
    driver: str
    scope: str = "local"
    internal: bool = False
    attachable: bool = False
    options: Mapping[str, str] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)
    subnet: str = ""
    gateway: str = ""
    ip_range: str = ""  # --ip-range: where containers' addresses come from ("": the subnet)
    aux_addresses: Mapping[str, str] = field(default_factory=dict)  # --aux-address: reserved
    static_subnet: bool = False  # --subnet given (only then may a container ask for --ip)
    bridge: str = ""  # the Linux bridge (docker0, br-..., br0 of an overlay)
    user_defined: bool = False
    default_route: bool = False  # docker_gwbridge
    bridge_ns: str = ""  # overlay: the sandbox on this node ("" until a task runs here)
    mtu: int = 1500
    vni: int = 0  # overlay
    ingress: bool = False  # overlay: the swarm's ingress network
    parent: str = ""  # macvlan/ipvlan
    mode: str = ""  # macvlan/ipvlan


@dataclass(frozen=True)
class HostRec:
    """One Docker host of the lab."""

    name: str
    index: int
    address: str
    networks: Mapping[str, NetworkRec] = field(default_factory=dict)  # by network ID


@dataclass(frozen=True)
class ContainerRec:
    """One container: what ``docker inspect`` shows, and how to find its process again."""

    id: str
    seq: int
    name: str
    host: str
    image: str
    image_id: str
    path: str
    args: tuple[str, ...]
    created: str
    hostname: str
    netns: str
    own_netns: bool
    real_argv: tuple[str, ...]  # what really runs (the image is a recipe)
    networks: Mapping[str, Endpoint]  # by network name, in attachment order (eth0, eth1...)
    network_mode: str = "bridge"
    state: str = "created"  # created, running, exited
    pid: int = 0
    pid_start: int = 0
    exit_code: int = 0
    started_at: str = ZERO_TIME
    finished_at: str = ZERO_TIME
    tty: bool = False
    open_stdin: bool = False
    attached: bool = False  # started by an attached ``docker run`` (no -d)
    proxies: tuple[tuple[int, int], ...] = ()  # its docker-proxy processes (pid, start time)
    extra_hosts: tuple[str, ...] = ()  # --add-host, "NAME:IP"
    dns: tuple[str, ...] = ()  # --dns
    exposed_ports: tuple[str, ...] = ()
    port_specs: tuple[PortMapping, ...] = ()  # what -p asked for
    ports: tuple[PortMapping, ...] = ()  # what is published while it runs
    env: tuple[str, ...] = ()
    auto_remove: bool = False
    log_opts: Mapping[str, str] = field(default_factory=dict)  # --log-opt (json-file's)
    # docker pause (see netlab.model.pausing): its processes are frozen, in the cgroup
    # ``freezer`` (a folder of netlab's); each one's cgroup before, (pid, folder), to go back to
    paused: bool = False
    freezer: str = ""
    cgroup_origins: tuple[tuple[int, str], ...] = ()

    @property
    def short_id(self) -> str:
        """The 12-hex ID Docker prints."""
        return self.id[:12]


@dataclass(frozen=True)
class NodeRec:
    """A swarm node."""

    id: str
    role: str  # manager, worker
    joined: str
    status: str = "ready"  # "down": it left (the manager lists it until ``docker node rm``)
    availability: str = "active"  # ``node update --availability``: active, pause or drain
    # Its tasks' containers while it is cut off (``netlab node down``): they run on, unknown to
    # the manager, until it comes back and its agent ends them.
    orphans: tuple[str, ...] = ()


@dataclass(frozen=True)
class OverlayRec:
    """A swarm-scoped overlay network, as the manager keeps it."""

    name: str
    id: str
    subnet: str
    gateway: str
    vni: int
    created: str
    ingress: bool = False
    last_ip: str = ""  # the address handed out last: the next one is after it (serially)


@dataclass(frozen=True)
class TaskRec:
    """One task of a service: a container on a node."""

    id: str
    slot: int  # (0 for a global service's task: one per node)
    node: str  # "" while pending (no node fits it)
    container: str  # "" while pending
    created: str
    error: str = ""  # why it is pending ("no suitable node (...)")


@dataclass(frozen=True)
class ServicePort:
    """A published port of a service (``-p 8080:80``, ``--publish mode=host,...``): swarm's
    PortConfig."""

    published: int
    target: int
    protocol: str = "tcp"
    mode: str = "ingress"  # "ingress": the routing mesh, on every node; "host": where a task runs


@dataclass(frozen=True)
class ServiceRec:
    """A replicated service."""

    id: str
    name: str
    image: str
    command: tuple[str, ...]
    networks: tuple[str, ...]  # overlay network IDs
    created: str
    replicas: int = 0
    tasks: Mapping[str, TaskRec] = field(default_factory=dict)
    generation: int = 0
    mode: str = "replicated"  # --mode: "replicated" or "global" (a task on every node)
    endpoint_mode: str = "vip"  # --endpoint-mode: "vip" (one virtual IP) or "dnsrr"
    vips: Mapping[str, str] = field(default_factory=dict)  # overlay network ID -> "10.0.1.2/24"
    fwmark: int = 0  # the firewall mark of its VIP's packets (Docker's count from 256)
    constraints: tuple[str, ...] = ()  # --constraint "node.hostname==node1", ...
    max_per_node: int = 0  # --replicas-max-per-node (0: no limit)
    ports: tuple[ServicePort, ...] = ()  # -p / --publish

    @property
    def ingress_ports(self) -> tuple[ServicePort, ...]:
        return tuple(p for p in self.ports if p.mode == "ingress")


@dataclass(frozen=True, order=True)
class Peer:
    """One remote endpoint as a node's vxlan0 knows it (see drivers.peerdb)."""

    ip: str
    mac: str
    node_ip: str


@dataclass(frozen=True)
class SandboxRec:
    """An overlay network's namespace on one node, and the peer table of its vxlan0."""

    node: str
    net: str
    netns: str
    peers: tuple[Peer, ...] = ()
    # The node's load balancer for the network (Docker's lb-NETWORK endpoint in the sandbox
    # lb_<network id>): its namespace, address and MAC ("" until services need it).
    lb_netns: str = ""
    lb_ip: str = ""
    lb_mac: str = ""
    # ingress only: the load balancer is the node's ingress-sbox, which also has an endpoint
    # on docker_gwbridge (its address there); ``programmed``: the node's DOCKER-INGRESS
    # chains exist (from the first published port on, as Docker's)
    gw_ip: str = ""
    programmed: bool = False


@dataclass(frozen=True)
class SwarmRec:
    """The swarm: what swarmkit's raft store holds, kept in the Python process here."""

    id: str
    created: str
    manager: str
    manager_addr: str
    tokens: Mapping[str, str]
    nodes: Mapping[str, NodeRec] = field(default_factory=dict)
    networks: Mapping[str, OverlayRec] = field(default_factory=dict)
    services: Mapping[str, ServiceRec] = field(default_factory=dict)
    sandboxes: Mapping[str, SandboxRec] = field(default_factory=dict)  # by "node/net id"
    removed: tuple[str, ...] = ()  # IDs of removed services (service IDs never come back)
    listener_pid: int = 0
    listener_start: int = 0


@dataclass(frozen=True)
class LabRec:
    """The whole lab."""

    name: str
    created: str
    build: str = ""
    hosts: Mapping[str, HostRec] = field(default_factory=dict)
    swarm: SwarmRec | None = None
    complete: bool = False  # True once every part of the lab was built
    # The process the lab belongs to (pid, start time): the notebook kernel or script that
    # built it, and while building, the builder. (0, 0) for a lab made by `netlab up`, which
    # lives until `netlab down`. See Lab's rule on replacing a lab.
    owner: tuple[int, int] = (0, 0)
    # The Docker daemon's settings (daemon.json): which firewall backend writes its rules
    # ("nftables": Docker 29's table ip docker-bridges; "iptables": Docker 28's chains), and
    # whether published ports are served by docker-proxy for local and hairpin traffic.
    firewall_backend: str = "nftables"
    userland_proxy: bool = False


# --- JSON at the store's edge ---------------------------------------------------------------

R = TypeVar("R")


_FIELDS: dict[type, tuple[str, ...]] = {}  # each record class's field names, found once
_PLAIN = (str, int, bool, float, type(None))


def to_json(obj: Any) -> Any:
    """A record (or a value inside one) as plain JSON data.

    >>> to_json(Endpoint("n1", ip="172.17.0.2"))["ip"]
    '172.17.0.2'
    """
    if isinstance(obj, _PLAIN):
        return obj
    names = _FIELDS.get(type(obj))
    if names is None and dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        names = _FIELDS[type(obj)] = tuple(f.name for f in dataclasses.fields(obj))
    if names is not None:
        return {n: to_json(getattr(obj, n)) for n in names}
    if isinstance(obj, Mapping):
        return {str(k): to_json(v) for k, v in obj.items()}
    if isinstance(obj, tuple | list):
        return [to_json(v) for v in obj]
    return obj


def from_json(cls: type[R], data: Any) -> R:
    """The record of type ``cls`` that :func:`to_json` wrote.

    >>> e = Endpoint("n1", ip="172.17.0.2", mtu=1450)
    >>> from_json(Endpoint, to_json(e)) == e
    True
    """
    decode: Callable[[Any], Any] = _decoder(typing.cast(Any, cls))
    return typing.cast(R, decode(data))


def _same(data: Any) -> Any:
    return data


@functools.cache
def _decoder(tp: Any) -> Callable[[Any], Any]:
    """A function that turns JSON data into a value of type ``tp``, made once per type from
    the type alone (so a store full of records decodes without looking at types again)."""
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        hints = typing.get_type_hints(tp)
        fields = {f.name: _decoder(hints[f.name]) for f in dataclasses.fields(tp)}
        record = tp

        def decode_record(data: Any) -> Any:
            return record(**{k: fields[k](v) for k, v in data.items() if k in fields})

        return decode_record
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (types.UnionType, typing.Union):  # X | None
        inner = _decoder(next(a for a in args if a is not type(None)))
        return lambda data: None if data is None else inner(data)
    if origin is tuple:
        item = _decoder(args[0])
        return tuple if item is _same else lambda data: tuple(item(v) for v in data)
    if origin in (Mapping, dict):
        value = _decoder(args[1])
        return dict if value is _same else lambda data: {k: value(v) for k, v in data.items()}
    return _same
