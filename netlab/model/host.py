"""``Host``: one Docker host of a lab, its networks and its containers.

A host is a network namespace (``nl-LAB-HOST``) on the lab's LAN with what ``dockerd``
creates at start: the bridge ``docker0`` (172.17.0.1/16), IP forwarding, and the nftables
table ``ip docker-bridges`` (Docker 29's nftables firewall backend) that masquerades what the
containers send out. Its built-in networks are ``bridge``, ``host`` and ``none``.
"""

from __future__ import annotations

import contextlib
import html
import os
import shlex
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from netlab.errors import Conflict, InvalidArgument, LabBroken, NoSuchContainer, NoSuchNetwork
from netlab.kernel import netns, nft, proc, rtnl
from netlab.model import (
    drivers,
    embedded_dns,
    ids,
    images,
    inspect,
    lifecycle,
    logs,
    machines,
    names,
    networks,
    service_lb,
    topology,
)
from netlab.model.container import Container
from netlab.model.drivers import bridge
from netlab.model.ports import PortMapping, parse_publish
from netlab.model.records import EndpointConfig, HostRec, NetworkRec
from netlab.model.timefmt import now_rfc3339

if TYPE_CHECKING:
    from netlab.model.container import Container
    from netlab.model.lab import Lab


def build_host(lab: Lab, name: str, index: int) -> None:
    """Create a Docker host's namespace, uplink, docker0 and firewall (call under the lock)."""
    ns = topology.ns_name(lab.name, name)
    address = topology.host_address(index)
    store = lab.store
    store.put_host(HostRec(name, index, address))
    machines.lan_machine(lab.name, name, address)
    # What dockerd sets up when it starts.
    rtnl.sysctl(ns, "net.ipv4.ip_forward", "1")
    # The built-in networks: bridge (docker0), host and none.
    host = Host(lab, name)
    nets = {}
    for net_name, driver in (("bridge", "bridge"), ("host", "host"), ("none", "null")):
        nid = ids.object_id(lab.name, f"{name}/network", store.next_counter(f"{name}/network"))
        nets[nid] = (
            bridge.default_bridge(host, nid)
            if net_name == "bridge"
            else NetworkRec(net_name, nid, now_rfc3339(), driver)
        )
    store.put_host(HostRec(name, index, address, nets))
    networks.apply_firewall(host)
    embedded_dns.launch(host)  # (dockerd's DNS server, for containers on user networks)


class Network:
    """One Docker network of a host (``bridge``, ``host``, ``none``, user-defined ones)."""

    def __init__(self, host: Host, record: NetworkRec) -> None:
        self.host = host
        self.rec = record  # (as it was when the handle was made)

    @property
    def id(self) -> str:
        """The 64-hex network ID."""
        return self.rec.id

    @property
    def name(self) -> str:
        """The network's name."""
        return self.rec.name

    @property
    def driver(self) -> str:
        """``bridge``, ``overlay``, ``macvlan``, ``ipvlan``, ``host`` or ``null``."""
        return self.rec.driver

    @property
    def scope(self) -> str:
        """``local`` (``swarm`` for overlays)."""
        return self.rec.scope

    @property
    def subnet(self) -> str | None:
        """The IPv4 subnet, for networks that have one."""
        return self.rec.subnet or None

    @property
    def gateway(self) -> str | None:
        """The gateway address (on the bridge), for networks that have one."""
        return self.rec.gateway or None

    @property
    def bridge(self) -> str | None:
        """The Linux bridge that implements the network, if any (``docker0``, ``br-...``)."""
        return self.rec.bridge or None

    @property
    def load_balancer(self) -> str | None:
        """Overlays: the namespace of this node's load balancer for the network (Docker's
        ``lb_<network id>`` sandbox, whose endpoint is ``lb-NAME``), if the node has one."""
        if self.driver != "overlay":
            return None
        ns = service_lb.lb_ns(self.host.lab.name, self.host.name, self.id)
        return ns if netns.exists(ns) else None

    def containers(self) -> list[Container]:
        """Running containers with an endpoint on this network."""
        return [c for c in self.host.containers() if self.name in c.networks]

    def connect(
        self,
        container: Container,
        *,
        ip: str | None = None,
        aliases: Sequence[str] = (),
    ) -> None:
        """``docker network connect [--ip IP] [--alias NAME]``: give the container an
        interface on this network (with that address, and more names for its DNS)."""
        config = EndpointConfig(ip or "", "", tuple(aliases))
        networks.connect(self.host, self, container, config)

    def disconnect(self, container: Container) -> None:
        """``docker network disconnect``: remove the container's interface on this network."""
        networks.disconnect(self.host, self, container)

    def remove(self) -> None:
        """``docker network rm``: refused while containers are attached."""
        networks.remove_network(self.host, self)

    def inspect(self) -> dict[str, Any]:
        """What ``docker network inspect`` prints for this network (Docker 28's layout)."""
        return inspect.network_inspect(self)

    def __repr__(self) -> str:
        return f"<Network {self.name} ({self.driver}) {ids.short_id(self.id)}>"

    def _repr_html_(self) -> str:
        where = f", bridge <code>{self.bridge}</code>" if self.bridge else ""
        subnet = f", subnet {self.subnet} via {self.gateway}" if self.subnet else ""
        names = ", ".join(html.escape(c.name) for c in self.containers()) or "no containers"
        return (
            f"<b>Network {html.escape(self.name)}</b> <code>{ids.short_id(self.id)}</code>"
            f" (driver {self.driver}, scope {self.scope}{where}{subnet}): {names}"
        )


class Host:
    """A Docker host of a lab; ``lab.host("node1")`` returns one."""

    def __init__(self, lab: Lab, name: str) -> None:
        self.lab = lab
        self.name = name
        self.ns = topology.ns_name(lab.name, name)

    @property
    def record(self) -> HostRec:
        """The host's state record."""
        return self.lab.store.lab_record.hosts[self.name]

    @property
    def address(self) -> str:
        """The host's address on the lab's LAN (its eth0)."""
        return self.record.address

    # -- networks ------------------------------------------------------------------------------

    def networks(self) -> list[Network]:
        """The host's networks, sorted by name as ``docker network ls`` lists them."""
        recs = self.record.networks
        return sorted((Network(self, r) for r in recs.values()), key=lambda n: n.name)

    def network(self, ref: str) -> Network:
        """A network by name, full ID or unique ID prefix (Docker's rules)."""
        nets = self.networks()
        for n in nets:
            if n.name == ref or n.id == ref:
                return n
        matches = [n for n in nets if ref and n.id.startswith(ref)]
        if len(matches) == 1:
            return matches[0]
        raise NoSuchNetwork(ref)

    def create_network(
        self,
        name: str,
        *,
        driver: str = "bridge",
        subnet: str | None = None,
        gateway: str | None = None,
        internal: bool = False,
        options: Mapping[str, str] | None = None,
        ip_range: str | None = None,
        aux_addresses: Mapping[str, str] | None = None,
        labels: Mapping[str, str] | None = None,
    ) -> Network:
        """``docker network create``: a user-defined network (``bridge``, ``overlay`` on a
        swarm manager, ``macvlan``, ``ipvlan``); ``internal`` is ``--internal``, ``options``
        the ``-o KEY=VALUE`` driver options (``parent=eth0`` for macvlan;
        ``com.docker.network.bridge.enable_icc``, ``...enable_ip_masquerade``, ``...name``,
        ``com.docker.network.driver.mtu`` for a bridge), ``ip_range`` ``--ip-range`` (where
        containers' addresses come from), ``aux_addresses`` ``--aux-address`` (names for
        addresses never handed out), ``labels`` ``--label``."""
        return networks.create_network(
            self,
            name,
            driver=driver,
            subnet=subnet,
            gateway=gateway,
            internal=internal,
            options=options,
            ip_range=ip_range,
            aux_addresses=aux_addresses,
            labels=labels,
        )

    # -- containers ----------------------------------------------------------------------------

    def containers(self, *, all: bool = False) -> list[Container]:
        """Containers of this host, newest first as ``docker ps`` lists them."""

        lifecycle.reconcile(self)
        recs = [r for r in self.lab.store.containers().values() if r.host == self.name]
        out = [Container(self, r.id) for r in reversed(recs)]
        return out if all else [c for c in out if c.running]

    def container(self, ref: str) -> Container:
        """A container by name, full ID or unique ID prefix (Docker's rules)."""

        recs = [r for r in self.lab.store.containers().values() if r.host == self.name]
        for r in recs:
            if ref in (r.id, r.name, "/" + r.name):
                return Container(self, r.id)
        matches = [r for r in recs if ref and r.id.startswith(ref)]
        if len(matches) == 1:
            return Container(self, matches[0].id)
        if len(matches) > 1:
            raise InvalidArgument(f"multiple IDs found with provided prefix: {ref}")
        raise NoSuchContainer(ref)

    def run(
        self,
        image: str,
        command: Sequence[str] | str = (),
        *,
        name: str | None = None,
        network: str = "bridge",
        hostname: str | None = None,
        tty: bool = False,
        interactive: bool = False,
        publish: Sequence[str] = (),
        publish_all: bool = False,
        env: Sequence[str] = (),
        log_opts: Mapping[str, str] | None = None,
        stdin: int | None = None,
        attach: bool = False,
        extra_hosts: Sequence[str] = (),
        dns: Sequence[str] = (),
        ip: str | None = None,
        mac_address: str | None = None,
        network_aliases: Sequence[str] = (),
    ) -> Container:
        """``docker run -d``: create and start a container; return it once its process runs.

        ``command`` is an argv list, or a string split like a shell would. ``publish`` takes
        ``-p`` values (``"8080:80"``, ``"127.0.0.1:8080:80"``, ``"80"``, ``"53:53/udp"``);
        ``publish_all`` is ``-P`` (every exposed port of the image on an ephemeral port).
        ``log_opts`` are ``--log-opt`` values of the json-file driver (``{"max-size": "1m",
        "max-file": "3"}``; see :mod:`netlab.model.logs`). ``stdin``, a file descriptor (a
        pipe's read end, say), is what the command reads (``docker run -i``); ``attach``: a
        ``docker run`` without ``-d`` (its output is awaited, as ``inspect`` then shows).
        ``extra_hosts`` are ``--add-host`` values (``NAME:IP``; ``host-gateway`` is the
        default bridge's gateway), written into its /etc/hosts; ``dns``, ``--dns`` name
        servers for its /etc/resolv.conf (on the default bridge: a user network's resolver
        answers there, as Docker's embedded DNS does). On ``network``: ``ip`` is ``--ip``
        (a user network made with ``--subnet``), ``mac_address`` ``--mac-address``,
        ``network_aliases`` ``--network-alias`` (more names its DNS answers for it).
        """

        wanted = [m for spec in publish for m in parse_publish(spec)]
        if publish_all:
            known = {m.key for m in wanted}
            wanted += [
                PortMapping("0.0.0.0", 0, int(e.split("/")[0]), e.split("/")[1])
                for e in images.lookup(image).exposed
                if e not in known
            ]

        argv = _split(command)
        img = images.lookup(image)
        real = img.real_argv(tuple(argv))
        logs.limits(log_opts or {})  # (Docker's errors for bad values, before anything is made)
        if hostname is not None:
            topology.check_hostname(hostname)
        if name is not None:
            topology.check_container_name(name)
        net = self.network(network)
        config = EndpointConfig(ip or "", mac_address or "", tuple(network_aliases))
        networks.check_endpoint_config(net.rec, config, at_create=True)
        if wanted and not drivers.of(net.rec).publishes:
            raise InvalidArgument(
                f"published ports need a bridge network, not {net.name} (driver {net.driver})"
            )
        cid = lifecycle.create_container(
            self,
            img,
            image,
            tuple(argv),
            real,
            name=name,
            net=net,
            hostname=hostname,
            tty=tty,
            interactive=interactive,
            publish=wanted,
            env=[_env_entry(e) for e in env],
            log_opts=log_opts,
            stdin=stdin,
            attach=attach,
            extra_hosts=extra_hosts,
            dns=dns,
            endpoint_config=config,
        )
        return Container(self, cid)

    def stop_containers(
        self,
        containers: Sequence[Container],
        *,
        timeout: float = lifecycle.STOP_TIMEOUT,
        sig: int | None = None,
    ) -> None:
        """``docker stop [-t T] A B ...``: stop several containers, their grace periods
        together (see :func:`netlab.model.lifecycle.stop_containers`)."""
        lifecycle.stop_containers(self, [c.id for c in containers], timeout=timeout, sig=sig)

    def remove_containers(self, containers: Sequence[Container], *, force: bool = False) -> None:
        """``docker rm [-f] A B ...``: remove several containers, batching the kernel work."""

        lifecycle.remove_many(self, [c.id for c in containers], force=force)

    def random_name(self, seq: int) -> str:
        """A free Docker-style name (adjective_surname), deterministic for the lab and seq."""
        taken = {r.name for r in self.lab.store.containers().values()}
        for retry in range(names.MAX_ATTEMPTS):
            candidate = names.random_name(f"{self.lab.name}/{seq}", retry)
            if candidate not in taken:
                return candidate
        return ids.short_id(ids.object_id(self.lab.name, "container", seq))

    def check_name_free(self, name: str) -> None:
        """Docker's conflict error when a container already has ``name``."""
        for r in self.lab.store.containers().values():
            if r.name == name and r.host == self.name:
                raise Conflict(
                    f'Conflict. The container name "/{name}" is already in use by container '
                    f'"{r.id}". You have to remove (or rename) that container to be able to '
                    "reuse that name."
                )

    # -- commands ------------------------------------------------------------------------------

    def exec(self, command: Sequence[str] | str, *, timeout: float | None = 60) -> proc.Result:
        """Run a real command in the host's namespace (with its /etc/hosts and resolv.conf)."""
        if not netns.exists(self.ns):
            raise LabBroken(
                f"the namespace of host {self.name!r} ({self.ns}) is gone; "
                f"run `netlab clean {self.lab.name}` and build the lab again"
            )
        return proc.run_in(self.command_prefix(), _split(command), timeout=timeout)

    def command_prefix(self) -> list[str]:
        """The argv prefix that runs a command on this Docker host, as a user of a Docker host
        would: in its namespaces, with its hostname, and with its running containers'
        network namespaces under ``/var/run/docker/netns`` (their ``SandboxKey``)."""
        return proc.netns_prefix(self.ns, self.name, sandboxes=self._sandboxes())

    def _sandboxes(self) -> str:
        """The host's folder of sandboxes, brought up to date: for each running container
        with a namespace of its own, a link named as its ``SandboxKey`` to that namespace."""
        folder = self.lab.store.path("sandboxes", self.name)
        os.makedirs(folder, exist_ok=True)
        lifecycle.reconcile(self)
        want = {
            inspect.sandbox_id(self.lab.name, r)[:12]: netns.path(r.netns)
            for r in self.lab.store.containers().values()
            if r.host == self.name and r.own_netns and r.state == "running"
        }
        for entry in os.scandir(folder):
            if want.get(entry.name) != os.readlink(entry.path):
                os.unlink(entry.path)
        for name, target in want.items():
            with contextlib.suppress(FileExistsError):
                os.symlink(target, os.path.join(folder, name))
        return folder

    def links(self) -> list[rtnl.Link]:
        """The host's interfaces, as the kernel has them."""
        return rtnl.links(self.ns)

    def ruleset(self) -> str:
        """The host's nftables ruleset (``nft list ruleset``)."""
        return nft.ruleset(self.ns)

    def __repr__(self) -> str:
        return f"<Host {self.name} {self.address} in lab {self.lab.name!r}>"

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{html.escape(c.name)}</td><td>{c.short_id}</td><td>{c.image}</td>"
            f"<td>{c.ip or ''}</td></tr>"
            for c in self.containers()
        )
        return (
            f"<b>Docker host {html.escape(self.name)}</b> {self.address} "
            f"(namespace <code>{self.ns}</code>)<table><tr><th>name</th><th>id</th>"
            f"<th>image</th><th>IP</th></tr>{rows}</table>"
        )


def _env_entry(text: str) -> str:
    """``-e NAME=value`` as given; ``-e NAME`` takes NAME's value from the caller, as Docker."""
    if "=" in text:
        return text
    return f"{text}={os.environ.get(text, '')}"


def _split(command: Sequence[str] | str) -> list[str]:

    return shlex.split(command) if isinstance(command, str) else list(command)
