"""``docker network inspect`` and ``docker container inspect``, in Docker 28's JSON layout.

These documents are Docker's API representation of the model, read by every front end (the
Python API's ``.inspect()``, the docker CLI, templates), so they live in the model.

Field names and their order follow the Docker Engine API as Docker 28 prints it (EnableIPv4,
``Containers`` before ``Options``). The values come from netlab's state and, for what the
kernel owns (addresses, MACs), they match the kernel: tests compare the two.
``render`` indents with 4 spaces as the docker CLI does.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from netlab.kernel import proc
from netlab.model import drivers, ids
from netlab.model.records import ContainerRec, Endpoint

if TYPE_CHECKING:
    from netlab.model.container import Container
    from netlab.model.host import Network

ZERO_TIME = "0001-01-01T00:00:00Z"


def render(objects: list[dict[str, Any]]) -> str:
    """The text ``docker ... inspect`` prints: a JSON array indented by 4 spaces."""
    return json.dumps(objects, indent=4, ensure_ascii=False)


def network_inspect(net: Network) -> dict[str, Any]:
    """One network as ``docker network inspect`` shows it."""
    rec = net.rec
    drv = drivers.of(rec)
    config = []
    if rec.subnet:
        config.append({"Subnet": rec.subnet, "Gateway": rec.gateway})
    containers: dict[str, Any] = {}
    for c in net.containers():
        ep = c.networks.get(net.name)
        if ep is None or not ep.endpoint_id:
            continue
        containers[c.id] = {
            "Name": c.name,
            "EndpointID": ep.endpoint_id,
            "MacAddress": ep.mac,
            "IPv4Address": f"{ep.ip}/{ep.prefixlen}" if ep.ip else "",
            "IPv6Address": "",
        }
    return {
        "Name": rec.name,
        "Id": rec.id,
        "Created": rec.created,
        "Scope": rec.scope,
        "Driver": rec.driver,
        "EnableIPv4": drv.has_endpoints,
        "EnableIPv6": False,
        "IPAM": {"Driver": "default", "Options": None, "Config": config},
        "Internal": rec.internal,
        "Attachable": rec.attachable,
        "Ingress": False,
        "ConfigFrom": {"Network": ""},
        "ConfigOnly": False,
        "Containers": dict(sorted(containers.items())),
        "Options": dict(sorted(rec.options.items())),
        "Labels": dict(rec.labels),
        **drv.inspect(net.host, rec),
    }


def _ports(rec: ContainerRec) -> dict[str, Any]:
    """NetworkSettings.Ports: each exposed or published port, its host bindings or null."""
    out: dict[str, Any] = {e: None for e in rec.exposed_ports}
    for m in rec.ports:
        if out.get(m.key) is None:
            out[m.key] = []
        out[m.key].append({"HostIp": m.host_ip, "HostPort": str(m.host_port)})
    return dict(sorted(out.items(), key=lambda kv: (int(kv[0].split("/")[0]), kv[0])))


def container_inspect(c: Container) -> dict[str, Any]:
    """One container as ``docker container inspect`` shows it (the networking-relevant part)."""
    rec = c.record
    state = rec.state
    running = state == "running" and c.running
    networks: dict[str, Any] = {}
    user_nets = {
        n.name
        for n in c.host.lab.store.lab_record.hosts[c.host.name].networks.values()
        if n.user_defined
    }
    for name, ep in rec.networks.items():
        dns = [rec.name, ids.short_id(rec.id)] if name in user_nets and running else None
        networks[name] = {
            "IPAMConfig": None,
            "Links": None,
            "Aliases": None,
            "MacAddress": ep.mac,
            "DriverOpts": None,
            "GwPriority": 0,
            "NetworkID": ep.network_id,
            "EndpointID": ep.endpoint_id,
            "Gateway": ep.gateway,
            "IPAddress": ep.ip,
            "IPPrefixLen": ep.prefixlen,
            "IPv6Gateway": "",
            "GlobalIPv6Address": "",
            "GlobalIPv6PrefixLen": 0,
            "DNSNames": dns,
        }
    first = next(iter(rec.networks.values()), Endpoint(""))
    own = rec.own_netns
    sandbox = ids.object_id(c.host.lab.name, "sandbox", rec.seq) if own and running else ""
    return {
        "Id": rec.id,
        "Created": rec.created,
        "Path": rec.path,
        "Args": list(rec.args),
        "State": {
            "Status": state,
            "Running": running,
            "Paused": False,
            "Restarting": False,
            "OOMKilled": False,
            "Dead": False,
            "Pid": (proc.init_pid(rec.pid, rec.pid_start) or 0) if running else 0,
            "ExitCode": rec.exit_code,
            "Error": "",
            "StartedAt": rec.started_at,
            "FinishedAt": rec.finished_at,
        },
        "Image": rec.image_id,
        "Name": "/" + rec.name,
        "Config": {
            "Hostname": rec.hostname,
            "Tty": rec.tty,
            "OpenStdin": rec.open_stdin,
            "Cmd": list(rec.args) if rec.path == "/docker-entrypoint.sh" else [rec.path, *rec.args],
            "Image": rec.image,
        },
        "HostConfig": {
            # (Config is a map: Go's encoding/json writes its keys sorted)
            "LogConfig": {"Type": "json-file", "Config": dict(sorted(rec.log_opts.items()))},
            "NetworkMode": rec.network_mode,
            "PortBindings": {
                m.key: [
                    {
                        "HostIp": "" if m.host_ip == "0.0.0.0" else m.host_ip,
                        "HostPort": str(m.host_port or ""),
                    }
                ]
                for m in rec.port_specs
            },
        },
        "NetworkSettings": {
            "Bridge": "",
            "SandboxID": sandbox,
            "SandboxKey": f"/run/netns/{rec.netns}" if running else "",
            "Ports": _ports(rec) if running else {},
            "HairpinMode": False,
            "LinkLocalIPv6Address": "",
            "LinkLocalIPv6PrefixLen": 0,
            "SecondaryIPAddresses": None,
            "SecondaryIPv6Addresses": None,
            "EndpointID": first.endpoint_id if "bridge" in rec.networks else "",
            "Gateway": first.gateway if "bridge" in rec.networks else "",
            "GlobalIPv6Address": "",
            "GlobalIPv6PrefixLen": 0,
            "IPAddress": first.ip if "bridge" in rec.networks else "",
            "IPPrefixLen": first.prefixlen if "bridge" in rec.networks else 0,
            "IPv6Gateway": "",
            "MacAddress": first.mac if "bridge" in rec.networks else "",
            "Networks": networks,
        },
    }
