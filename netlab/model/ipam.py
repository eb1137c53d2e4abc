"""IP address management, the way Docker's default IPAM does it (pure logic, no root).

* Networks take the first free pool from Docker's default local pools, in order: 172.17/16,
  172.18/16, 172.19/16, then /16s cut from 172.20/14, 172.24/14 and 172.28/14, then /20s cut
  from 192.168/16 (moby ``ipamutils``). A pool that overlaps one in use is skipped.
* Within a subnet the network and broadcast addresses are reserved, the gateway takes the
  first host address (.1), and containers take the lowest free address; a freed address is
  reused at once.

>>> next_pool([])
IPv4Network('172.17.0.0/16')
>>> next_pool([ipaddress.ip_network("172.17.0.0/16")])
IPv4Network('172.18.0.0/16')
>>> lowest_free(ipaddress.ip_network("172.17.0.0/16"), {"172.17.0.1", "172.17.0.2"})
IPv4Address('172.17.0.3')
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable, Iterator, Mapping

from netlab.errors import InvalidArgument

IPv4Network = ipaddress.IPv4Network
IPv4Address = ipaddress.IPv4Address


class IPAMError(InvalidArgument):
    """No address or pool can be given (exhausted, overlapping, malformed)."""


def default_pools() -> Iterator[IPv4Network]:
    """Docker's default local address pools, in the order it tries them."""
    for first in ("172.17.0.0/16", "172.18.0.0/16", "172.19.0.0/16"):
        yield ipaddress.IPv4Network(first)
    for base in ("172.20.0.0/14", "172.24.0.0/14", "172.28.0.0/14"):
        yield from ipaddress.IPv4Network(base).subnets(new_prefix=16)
    yield from ipaddress.IPv4Network("192.168.0.0/16").subnets(new_prefix=20)


def next_pool(
    in_use: Iterable[IPv4Network], pools: Iterable[IPv4Network] | None = None
) -> IPv4Network:
    """The first pool that overlaps none of ``in_use``."""
    used = list(in_use)
    for pool in default_pools() if pools is None else pools:
        if not any(pool.overlaps(u) for u in used):
            return pool
    # (moby v28.5.2 libnetwork/ipamapi/contract.go ErrNoMoreSubnets)
    raise IPAMError("all predefined address pools have been fully subnetted")


def parse_subnet(text: str, ip_range: str | None = None) -> IPv4Network:
    """A user-given subnet (``--subnet``, and its ``--ip-range``) checked as Docker's daemon
    checks them (moby v28.5.2 api/types/network/ipam.go ValidateIPAM: every problem, joined
    as its multierror does), then netlab's own limits: IPv4, /30 or larger."""
    problems = []
    try:
        if "/" not in text:
            raise ValueError(text)
        net = ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise IPAMError(
            f"invalid network config:\ninvalid subnet {text}: invalid CIDR block notation"
        ) from None
    if not text.startswith(str(net.network_address) + "/"):
        problems.append(f"invalid subnet {text}: it should be {net}")
    if ip_range:
        try:
            r = ipaddress.ip_network(ip_range, strict=False)
        except ValueError:
            problems.append(f"invalid ip-range {ip_range}: invalid CIDR block notation")
        else:
            if r.prefixlen < net.prefixlen:
                problems.append(
                    f"invalid ip-range {ip_range}: CIDR block is bigger than its parent "
                    f"subnet {net}"
                )
            if not ip_range.startswith(str(r.network_address) + "/"):
                problems.append(f"invalid ip-range {ip_range}: it should be {r}")
            if r.version == net.version and not r.overlaps(net):
                problems.append(
                    f"invalid ip-range {ip_range}: parent subnet {net} doesn't contain ip-range"
                )
    if problems:
        joined = problems[0] if len(problems) == 1 else "* " + "\n* ".join(problems)
        raise IPAMError(f"invalid network config:\n{joined}")
    if not isinstance(net, ipaddress.IPv4Network):
        raise IPAMError(f"invalid subnet {text}: netlab supports IPv4 subnets only")
    if net.prefixlen > 30:
        raise IPAMError(f"invalid subnet {text}: too small, use a prefix of /30 or shorter")
    return net


def gateway_of(subnet: IPv4Network) -> IPv4Address:
    """Docker's default gateway: the first host address of the subnet."""
    return subnet.network_address + 1


def lowest_free(
    subnet: IPv4Network,
    taken: Iterable[str],
    within: IPv4Network | None = None,
    after: str = "",
) -> IPv4Address:
    """The lowest address of ``subnet`` not in ``taken``, the subnet's network and broadcast
    addresses excluded; with ``within`` (``--ip-range``), the lowest one of that range (whose
    own first address counts, as in Docker's allocator: only the subnet's are reserved).
    With ``after``, serially: the lowest free one above it, else from the start again (as
    swarmkit asks its allocator, so that an address just freed is not handed out again).

    >>> net = IPv4Network("10.0.1.0/29")
    >>> str(lowest_free(net, ["10.0.1.1"])), str(lowest_free(net, ["10.0.1.1"], after="10.0.1.4"))
    ('10.0.1.2', '10.0.1.5')
    >>> str(lowest_free(net, ["10.0.1.1"], after="10.0.1.6"))
    '10.0.1.2'
    """
    # inet_aton is ~20 times faster than ipaddress here, and this runs once per container
    # over every address in use.
    used = {int.from_bytes(socket.inet_aton(a), "big") for a in taken}
    if subnet.prefixlen < 31:
        used |= {int(subnet.network_address), int(subnet.broadcast_address)}
    pool = within if within is not None else subnet
    first, last = int(pool.network_address), int(pool.broadcast_address)
    starts = [first]
    if after:
        starts.insert(0, max(first, int.from_bytes(socket.inet_aton(after), "big") + 1))
    for candidate in starts:
        while candidate in used and candidate <= last:
            candidate += 1
        if candidate <= last:
            return ipaddress.IPv4Address(candidate)
    raise IPAMError(f"no available IPv4 addresses on this network's address pools: {subnet}")


def check_config(
    subnet: str | None, ip_range: str | None, gateway: str | None, aux: Mapping[str, str]
) -> None:
    """What the docker CLI checks of ``network create``'s addresses before it asks the daemon
    (docker/cli v28.5.2 cli/command/network/create.go, createIPAMConfig): every range,
    gateway and auxiliary address must lie in the subnet. Raises ValueError with its words.

    >>> check_config(None, "10.1.2.0/24", None, {})
    Traceback (most recent call last):
    ...
    ValueError: every ip-range or gateway must have a corresponding subnet
    """
    if subnet is None and (ip_range is not None or gateway is not None):
        raise ValueError("every ip-range or gateway must have a corresponding subnet")
    net = None
    if subnet is not None:
        try:
            if "/" not in subnet:
                raise ValueError(subnet)
            net = ipaddress.ip_network(subnet, strict=False)
        except ValueError:
            raise ValueError(f"invalid subnet: invalid CIDR address: {subnet}") from None
    if ip_range is not None:
        try:
            first = ipaddress.ip_interface(ip_range).ip if "/" in ip_range else None
        except ValueError:
            first = None
        if first is None:
            raise ValueError(f"invalid CIDR address: {ip_range}")
        if net is None or first not in net:
            raise ValueError(f"no matching subnet for range {ip_range}")
    if gateway is not None and not _in(net, gateway):
        raise ValueError(f"no matching subnet for gateway {gateway}")
    for addr in aux.values():
        if not _in(net, addr):
            raise ValueError(f"no matching subnet for aux-address {addr}")


def _in(net: ipaddress.IPv4Network | ipaddress.IPv6Network | None, text: str) -> bool:
    try:
        ip = ipaddress.ip_interface(text).ip if "/" in text else ipaddress.ip_address(text)
    except ValueError:
        return False
    return net is not None and ip in net
