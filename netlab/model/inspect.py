"""``docker network inspect`` and ``docker container inspect``, in Docker 28's JSON layout.

These documents are Docker's API representation of the model, read by every front end (the
Python API's ``.inspect()``, the docker CLI, templates), so they live in the model.

Field names and their order follow the Docker Engine API as Docker 28 prints it (EnableIPv4,
``Containers`` before ``Options``). The values come from netlab's state and, for what the
kernel owns (addresses, MACs), they match the kernel: tests compare the two.
``render`` indents with 4 spaces as the docker CLI does.
"""

from __future__ import annotations

import ipaddress
import json
from typing import TYPE_CHECKING, Any

from netlab.kernel import containers
from netlab.model import drivers, ids, images, ingress
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
    if rec.subnet:  # (api/types/network IPAMConfig: IPRange, AuxiliaryAddresses omitempty)
        entry: dict[str, Any] = {"Subnet": rec.subnet}
        if rec.ip_range:
            entry["IPRange"] = rec.ip_range
        entry["Gateway"] = rec.gateway
        if rec.aux_addresses:
            entry["AuxiliaryAddresses"] = dict(rec.aux_addresses)
        config.append(entry)
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
    sw = net.host.lab.store.lab_record.swarm
    box = sw.sandboxes.get(f"{net.host.name}/{rec.id}") if sw else None
    if box is not None and box.lb_ip:  # the node's load balancer (moby: lb-NETWORK)
        # (ingress's is the node's ingress-sbox: "ingress-sbox", named "ingress-endpoint")
        key = "ingress-sbox" if rec.ingress else f"lb-{rec.name}"
        containers[key] = {
            "Name": f"{rec.name}-endpoint",
            "EndpointID": ids.object_id(net.host.lab.name, f"lb-endpoint/{box.node}/{rec.id}", 0),
            "MacAddress": box.lb_mac,
            "IPv4Address": f"{box.lb_ip}/{ipaddress.IPv4Network(rec.subnet).prefixlen}",
            "IPv6Address": "",
        }
    sbox = ingress.ingress_box(sw, net.host.name) if sw and rec.name == "docker_gwbridge" else None
    if sbox is not None and sbox.gw_ip:  # (the ingress-sbox's way out: its eth1)
        containers["ingress-sbox"] = {
            "Name": "gateway_ingress-sbox",
            "EndpointID": ids.object_id(net.host.lab.name, f"gw-endpoint/{sbox.node}", 0),
            "MacAddress": ids.mac_from_ip(sbox.gw_ip),
            "IPv4Address": f"{sbox.gw_ip}/{ipaddress.IPv4Network(rec.subnet).prefixlen}",
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
        # (the docker CLI sends an empty map of IPAM options; the daemon's own networks have none)
        "IPAM": {
            "Driver": "default",
            "Options": {} if rec.user_defined else None,
            "Config": config,
        },
        "Internal": rec.internal,
        "Attachable": rec.attachable,
        "Ingress": rec.ingress,
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


def sandbox_id(lab: str, rec: ContainerRec) -> str:
    """The ID of a container's sandbox (its network namespace, in Docker's words)."""
    return ids.object_id(lab, "sandbox", rec.seq)


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
        cfg = ep.config
        # (moby v28.5.2 daemon/container_operations.go buildEndpointDNSNames: the first
        # one names the address in reverse lookups)
        names = [rec.name, *cfg.aliases, ids.short_id(rec.id), rec.hostname]
        dns = list(dict.fromkeys(names)) if name in user_nets and running else None
        networks[name] = {
            "IPAMConfig": {"IPv4Address": cfg.ip} if cfg.ip else None,
            "Links": None,
            "Aliases": list(cfg.aliases) or None,
            "MacAddress": ep.mac or cfg.mac,
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
    sandbox = sandbox_id(c.host.lab.name, rec) if own and running else ""
    img = images.lookup(rec.image)
    files = f"/var/lib/docker/containers/{rec.id}"
    layer = f"/var/lib/docker/overlay2/{ids.object_id(c.host.lab.name, 'layer', rec.seq)}"
    on_bridge = "bridge" in rec.networks
    return {
        "Id": rec.id,
        "Created": rec.created,
        "Path": rec.path,
        "Args": list(rec.args),
        "State": {
            "Status": "paused" if running and rec.paused else state,
            "Running": running,
            "Paused": running and rec.paused,
            "Restarting": False,
            "OOMKilled": False,
            "Dead": False,
            "Pid": (containers.init_pid(rec.pid, rec.pid_start) or 0) if running else 0,
            "ExitCode": rec.exit_code,
            "Error": "",
            "StartedAt": rec.started_at,
            "FinishedAt": rec.finished_at,
        },
        "Image": rec.image_id,
        "ResolvConfPath": f"{files}/resolv.conf",
        "HostnamePath": f"{files}/hostname",
        "HostsPath": f"{files}/hosts",
        "LogPath": f"{files}/{rec.id}-json.log",
        "Name": "/" + rec.name,
        "RestartCount": 0,
        "Driver": "overlay2",
        "Platform": "linux",
        "MountLabel": "",
        "ProcessLabel": "",
        "AppArmorProfile": "docker-default",
        "ExecIDs": None,
        "HostConfig": _host_config(rec),
        "GraphDriver": {
            "Data": {
                "ID": rec.id,
                "LowerDir": f"{layer}-init/diff",
                "MergedDir": f"{layer}/merged",
                "UpperDir": f"{layer}/diff",
                "WorkDir": f"{layer}/work",
            },
            "Name": "overlay2",
        },
        "Mounts": [],
        "Config": {
            "Hostname": rec.hostname,
            "Domainname": "",
            "User": "",
            "AttachStdin": rec.attached and rec.open_stdin,
            "AttachStdout": rec.attached,
            "AttachStderr": rec.attached,
            **({"ExposedPorts": {p: {} for p in rec.exposed_ports}} if rec.exposed_ports else {}),
            "Tty": rec.tty,
            "OpenStdin": rec.open_stdin,
            "StdinOnce": rec.attached and rec.open_stdin,
            "Env": [*rec.env, *img.env],
            "Cmd": list(rec.args) if img.entrypoint else [rec.path, *rec.args],
            "Image": rec.image,
            "Volumes": None,
            "WorkingDir": "",
            "Entrypoint": list(img.entrypoint) or None,
            "OnBuild": None,
            "Labels": dict(img.labels),
            **({"StopSignal": img.stop_signal} if img.stop_signal else {}),
        },
        "NetworkSettings": {
            "Bridge": "",
            "SandboxID": sandbox,
            "SandboxKey": f"/var/run/docker/netns/{sandbox[:12]}" if sandbox else "",
            "Ports": _ports(rec) if running else {},
            "HairpinMode": False,
            "LinkLocalIPv6Address": "",
            "LinkLocalIPv6PrefixLen": 0,
            "SecondaryIPAddresses": None,
            "SecondaryIPv6Addresses": None,
            "EndpointID": first.endpoint_id if on_bridge else "",
            "Gateway": first.gateway if on_bridge else "",
            "GlobalIPv6Address": "",
            "GlobalIPv6PrefixLen": 0,
            "IPAddress": first.ip if on_bridge else "",
            "IPPrefixLen": first.prefixlen if on_bridge else 0,
            "IPv6Gateway": "",
            "MacAddress": first.mac if on_bridge else "",
            "Networks": networks,
        },
    }


def _host_config(rec: ContainerRec) -> dict[str, Any]:
    """HostConfig as Docker 28 fills it for ``docker run`` with netlab's options (and the
    defaults of every resource netlab does not limit: 0, "", null or [] as Docker shows)."""
    return {
        "Binds": None,
        "ContainerIDFile": "",
        # (Config is a map: Go's encoding/json writes its keys sorted)
        "LogConfig": {"Type": "json-file", "Config": dict(sorted(rec.log_opts.items()))},
        "NetworkMode": rec.network_mode,
        "PortBindings": {
            m.key: [
                {
                    "HostIp": "" if m.host_ip == "0.0.0.0" else m.host_ip,
                    "HostPort": f"{m.host_port}-{m.host_last}"
                    if m.host_last
                    else str(m.host_port or ""),
                }
            ]
            for m in rec.port_specs
        },
        "RestartPolicy": {"Name": "no", "MaximumRetryCount": 0},
        "AutoRemove": rec.auto_remove,
        "VolumeDriver": "",
        "VolumesFrom": None,
        "ConsoleSize": [0, 0],
        "CapAdd": None,
        "CapDrop": None,
        "CgroupnsMode": "private",
        "Dns": list(rec.dns),
        "DnsOptions": [],
        "DnsSearch": [],
        "ExtraHosts": list(rec.extra_hosts) or None,
        "GroupAdd": None,
        "IpcMode": "private",
        "Cgroup": "",
        "Links": None,
        "OomScoreAdj": 0,
        "PidMode": "",
        "Privileged": False,
        "PublishAllPorts": False,
        "ReadonlyRootfs": False,
        "SecurityOpt": None,
        "UTSMode": "",
        "UsernsMode": "",
        "ShmSize": 67108864,
        "Runtime": "runc",
        "Isolation": "",
        "CpuShares": 0,
        "Memory": 0,
        "NanoCpus": 0,
        "CgroupParent": "",
        "BlkioWeight": 0,
        "BlkioWeightDevice": [],
        "BlkioDeviceReadBps": [],
        "BlkioDeviceWriteBps": [],
        "BlkioDeviceReadIOps": [],
        "BlkioDeviceWriteIOps": [],
        "CpuPeriod": 0,
        "CpuQuota": 0,
        "CpuRealtimePeriod": 0,
        "CpuRealtimeRuntime": 0,
        "CpusetCpus": "",
        "CpusetMems": "",
        "Devices": [],
        "DeviceCgroupRules": None,
        "DeviceRequests": None,
        "MemoryReservation": 0,
        "MemorySwap": 0,
        "MemorySwappiness": None,
        "OomKillDisable": None,
        "PidsLimit": None,
        "Ulimits": [],
        "CpuCount": 0,
        "CpuPercent": 0,
        "IOMaximumIOps": 0,
        "IOMaximumBandwidth": 0,
        "MaskedPaths": list(MASKED_PATHS),
        "ReadonlyPaths": list(READONLY_PATHS),
    }


# What Docker 28's default OCI spec hides and makes read-only (moby oci/defaults.go): shown
# as Docker shows them, though netlab's containers do not mask these paths.
MASKED_PATHS = (
    "/proc/asound",
    "/proc/acpi",
    "/proc/interrupts",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
)
READONLY_PATHS = (
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/sys",
    "/proc/sysrq-trigger",
)
