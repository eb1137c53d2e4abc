"""``docker network inspect`` and ``docker container inspect``, in Docker 28's JSON layout.

Field names and their order follow the Docker Engine API as Docker 28 prints it (EnableIPv4,
``Containers`` before ``Options``). The values come from netlab's state and, for what the
kernel owns (addresses, MACs), they match the kernel: tests compare the two.
``render`` indents with 4 spaces as the docker CLI does.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from netlab.model import drivers, ids

if TYPE_CHECKING:
    from netlab.model.container import Container
    from netlab.model.host import Network

ZERO_TIME = "0001-01-01T00:00:00Z"


def render(objects: list[dict[str, Any]]) -> str:
    """The text ``docker ... inspect`` prints: a JSON array indented by 4 spaces."""
    return json.dumps(objects, indent=4, ensure_ascii=False)


def network_inspect(net: Network) -> dict[str, Any]:
    """One network as ``docker network inspect`` shows it."""
    rec = net._rec
    drv = drivers.of(rec)
    config = []
    if rec.get("Subnet"):
        config.append({"Subnet": rec["Subnet"], "Gateway": rec["Gateway"]})
    containers: dict[str, Any] = {}
    for c in net.containers():
        ep = c.networks.get(net.name, {})
        if not ep.get("EndpointID"):
            continue
        containers[c.id] = {
            "Name": c.name,
            "EndpointID": ep["EndpointID"],
            "MacAddress": ep.get("MacAddress", ""),
            "IPv4Address": f"{ep['IPAddress']}/{ep['IPPrefixLen']}" if ep.get("IPAddress") else "",
            "IPv6Address": "",
        }
    return {
        "Name": rec["Name"],
        "Id": rec["Id"],
        "Created": rec["Created"],
        "Scope": rec["Scope"],
        "Driver": rec["Driver"],
        "EnableIPv4": drv.has_endpoints,
        "EnableIPv6": False,
        "IPAM": {"Driver": "default", "Options": None, "Config": config},
        "Internal": rec.get("Internal", False),
        "Attachable": rec.get("Attachable", False),
        "Ingress": False,
        "ConfigFrom": {"Network": ""},
        "ConfigOnly": False,
        "Containers": dict(sorted(containers.items())),
        "Options": dict(sorted(rec.get("Options", {}).items())),
        "Labels": dict(rec.get("Labels", {})),
        **drv.inspect(net.host, rec),
    }


def _ports(rec: dict[str, Any]) -> dict[str, Any]:
    """NetworkSettings.Ports: each exposed or published port, its host bindings or null."""
    out: dict[str, Any] = {e: None for e in rec.get("ExposedPorts", [])}
    for m in rec.get("Ports", []):
        key = f"{m['container_port']}/{m['proto']}"
        if out.get(key) is None:
            out[key] = []
        out[key].append({"HostIp": m["host_ip"], "HostPort": str(m["host_port"])})
    return dict(sorted(out.items(), key=lambda kv: (int(kv[0].split("/")[0]), kv[0])))


def container_inspect(c: Container) -> dict[str, Any]:
    """One container as ``docker container inspect`` shows it (the networking-relevant part)."""
    rec = c.record
    state = rec["State"]
    running = state == "running" and c.running
    networks: dict[str, Any] = {}
    user_nets = {
        n["Name"]
        for n in c.host.lab.store.lab_record["Hosts"][c.host.name]["Networks"].values()
        if n.get("UserDefined")
    }
    for name, ep in rec["Networks"].items():
        dns = [rec["Name"], ids.short_id(rec["Id"])] if name in user_nets and running else None
        networks[name] = {
            "IPAMConfig": None,
            "Links": None,
            "Aliases": None,
            "MacAddress": ep.get("MacAddress", ""),
            "DriverOpts": None,
            "GwPriority": 0,
            "NetworkID": ep.get("NetworkID", ""),
            "EndpointID": ep.get("EndpointID", ""),
            "Gateway": ep.get("Gateway", ""),
            "IPAddress": ep.get("IPAddress", ""),
            "IPPrefixLen": ep.get("IPPrefixLen", 0),
            "IPv6Gateway": "",
            "GlobalIPv6Address": "",
            "GlobalIPv6PrefixLen": 0,
            "DNSNames": dns,
        }
    first: dict[str, Any] = next(iter(rec["Networks"].values()), {})
    own = rec.get("OwnNetns", True)
    sandbox = ids.object_id(c.host.lab.name, "sandbox", rec["Seq"]) if own and running else ""
    return {
        "Id": rec["Id"],
        "Created": rec["Created"],
        "Path": rec["Path"],
        "Args": rec["Args"],
        "State": {
            "Status": state,
            "Running": running,
            "Paused": False,
            "Restarting": False,
            "OOMKilled": False,
            "Dead": False,
            "Pid": rec["Pid"] if running else 0,
            "ExitCode": rec.get("ExitCode", 0),
            "Error": "",
            "StartedAt": rec.get("StartedAt", ZERO_TIME),
            "FinishedAt": rec.get("FinishedAt", ZERO_TIME),
        },
        "Image": rec["ImageId"],
        "Name": "/" + rec["Name"],
        "Config": {
            "Hostname": rec["Hostname"],
            "Tty": rec.get("Tty", False),
            "OpenStdin": rec.get("OpenStdin", False),
            "Cmd": rec["Args"]
            if rec["Path"] == "/docker-entrypoint.sh"
            else [rec["Path"], *rec["Args"]],
            "Image": rec["Image"],
        },
        "HostConfig": {
            "NetworkMode": rec.get("NetworkMode", "bridge"),
            "PortBindings": {
                f"{m['container_port']}/{m['proto']}": [
                    {
                        "HostIp": "" if m["host_ip"] == "0.0.0.0" else m["host_ip"],
                        "HostPort": str(m["host_port"] or ""),
                    }
                ]
                for m in rec.get("PortSpecs", [])
            },
        },
        "NetworkSettings": {
            "Bridge": "",
            "SandboxID": sandbox,
            "SandboxKey": f"/run/netns/{rec['Netns']}" if running else "",
            "Ports": _ports(rec) if running else {},
            "HairpinMode": False,
            "LinkLocalIPv6Address": "",
            "LinkLocalIPv6PrefixLen": 0,
            "SecondaryIPAddresses": None,
            "SecondaryIPv6Addresses": None,
            "EndpointID": first.get("EndpointID", "") if "bridge" in rec["Networks"] else "",
            "Gateway": first.get("Gateway", "") if "bridge" in rec["Networks"] else "",
            "GlobalIPv6Address": "",
            "GlobalIPv6PrefixLen": 0,
            "IPAddress": first.get("IPAddress", "") if "bridge" in rec["Networks"] else "",
            "IPPrefixLen": first.get("IPPrefixLen", 0) if "bridge" in rec["Networks"] else 0,
            "IPv6Gateway": "",
            "MacAddress": first.get("MacAddress", "") if "bridge" in rec["Networks"] else "",
            "Networks": networks,
        },
    }
