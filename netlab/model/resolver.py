"""The dnsmasq command line of the lab's DNS server on its simulated internet.

(Names on user-defined networks are answered by Docker's embedded DNS server:
:mod:`netlab.model.embedded_dns`.)
"""

from __future__ import annotations


def dnsmasq(listen: str, pid_file: str) -> list[str]:
    """A dnsmasq that answers on one address only, from its command line alone.

    No config file, no /etc/hosts, no upstream from /etc/resolv.conf, in the foreground,
    logging to stderr (so to the lab's log file); the rest is added by the caller.
    """
    return [
        "dnsmasq",
        "--keep-in-foreground",
        "--conf-file=/dev/null",
        "--no-resolv",
        "--no-hosts",
        "--bind-interfaces",
        f"--listen-address={listen}",
        # Stay root, in no other group (not dnsmasq's nobody and dip): in a rootless lab's
        # user namespace only root is mapped, and setgroups() is not allowed.
        "--user=root",
        "--group=",
        "--log-facility=-",
        f"--pid-file={pid_file}",
    ]
