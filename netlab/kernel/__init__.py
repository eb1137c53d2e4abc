"""The kernel layer: the only code in netlab that talks to Linux.

Namespaces (:mod:`.netns`), links, addresses, routes and sysctls over rtnetlink
(:mod:`.rtnl`), nftables (:mod:`.nft`), processes (:mod:`.proc`). Functions take a namespace
name, return typed values, and write what they did to :mod:`.trace` as ``ip``/``nft`` lines.
"""
