"""Deterministic identities: IDs, interface names and MAC addresses.

Docker draws IDs from a random source; netlab derives them from the lab's name and a counter,
so a lab built twice prints the same IDs, names and MACs (and a notebook's stored outputs stay
true). Everything here is a pure function.

>>> object_id("demo", "container", 1)[:12]
'5ac92c468a1e'
>>> mac_from_ip("172.17.0.2")
'02:42:ac:11:00:02'
"""

from __future__ import annotations

import hashlib
import ipaddress


def object_id(lab: str, kind: str, counter: int) -> str:
    """A 64-hex ID like Docker's, from the lab name, the kind of object and a counter."""
    return hashlib.sha256(f"netlab/{lab}/{kind}/{counter}".encode()).hexdigest()


def short_id(full_id: str) -> str:
    """The 12-character form Docker prints in tables (``docker ps``, ``network ls``)."""
    return full_id[:12]


def veth_name(endpoint_id: str) -> str:
    """Host-side veth name: ``veth`` and 7 hex digits, like Docker's (taken from the endpoint)."""
    return "veth" + hashlib.sha256(endpoint_id.encode()).hexdigest()[:7]


def mac_from_ip(ip: str) -> str:
    """Docker's classic container MAC: ``02:42`` then the four bytes of the IPv4 address."""
    packed = ipaddress.IPv4Address(ip).packed
    return "02:42:" + ":".join(f"{b:02x}" for b in packed)


def valid_mac(text: str) -> bool:
    """True for a 48-bit MAC as Go's net.ParseMAC reads it (``92:d0:c6:0a:29:33``, or with
    ``-``); the longer EUI-64 forms Go also takes cannot be an Ethernet address.

    >>> valid_mac("92:D0:c6:0a:29:33"), valid_mac("92:d0:c6:0a:29"), valid_mac("zz:d0:c6:0a:29:33")
    (True, False, False)
    """
    parts = text.strip().replace("-", ":").split(":")
    return len(parts) == 6 and all(
        len(p) == 2 and all(c in "0123456789abcdefABCDEF" for c in p) for p in parts
    )


def local_mac(*parts: str) -> str:
    """A stable, locally administered unicast MAC for a lab-made interface (bridges, uplinks).

    Starts with ``02:42`` too, but with a byte pattern no IPv4-derived MAC in the lab uses.
    """
    digest = hashlib.sha256("/".join(parts).encode()).digest()
    return "02:42:" + ":".join(f"{b:02x}" for b in (0xC0 | (digest[0] & 0x0F), *digest[1:4]))


def b36(seed: str, length: int) -> str:
    """A deterministic lowercase base-36 string, like swarmkit's node/service/task IDs."""
    n = int.from_bytes(hashlib.sha256(seed.encode()).digest() * 2, "big")
    chars = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = []
    for _ in range(length):
        n, r = divmod(n, 36)
        out.append(chars[r])
    return "".join(out)
