"""The commands about the Docker host itself: ``version``, ``info`` and ``images``.

``docker version`` prints the client's and the server's versions; here the server is netlab,
which answers as Docker Engine :data:`ENGINE_VERSION` (API :data:`API_VERSION`) and says in
which lab and on which host it runs. ``docker info`` counts the host's containers (running
and stopped) and names its network drivers and firewall backend (nftables: netlab writes
Docker's nftables rules, not iptables ones). ``docker images`` lists the images netlab emulates
(:mod:`netlab.model.images`): there is no registry and no pull, so these few are all that
``docker run`` accepts.
"""

from __future__ import annotations

import platform
from typing import Any

from netlab import __version__
from netlab.docker.context import Context
from netlab.model import images
from netlab.views import tables

ENGINE_VERSION = "28.5.2"
API_VERSION = "1.51"


def cmd_images(ctx: Context, opts: dict[str, Any], args: list[str]) -> int:
    rows = [
        [img.name, img.tag, img.image_id.split(":")[1][:12], "2 weeks ago", img.size]
        for img in sorted(images.IMAGES.values(), key=lambda i: i.name)
    ]
    if opts["quiet"]:
        for r in rows:
            ctx.print(r[2])
        return 0
    ctx.print(tables.table(["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"], rows))
    return 0


def cmd_version(ctx: Context, opts: dict[str, Any], args: list[str]) -> int:

    ctx.print(
        f"Client:\n Version:           {ENGINE_VERSION} (netlab {__version__})\n"
        f" API version:       {API_VERSION}\n\n"
        f"Server: netlab (Docker networking emulated on the Linux kernel)\n"
        f" Engine:\n  Version:          {ENGINE_VERSION}\n"
        f"  API version:      {API_VERSION}\n"
        f"  Host:             {ctx.host.name} in lab {ctx.lab.name}"
    )
    return 0


def cmd_info(ctx: Context, opts: dict[str, Any], args: list[str]) -> int:

    cs = ctx.host.containers(all=True)
    up = [c for c in cs if c.running]
    paused = sum(1 for c in up if c.paused)  # (moby counts paused apart from running)
    running = len(up) - paused
    ctx.print(
        "Server:\n"
        f" Containers: {len(cs)}\n  Running: {running}\n  Paused: {paused}\n"
        f"  Stopped: {len(cs) - len(up)}\n"
        f" Images: {len(images.IMAGES)}\n"
        f" Server Version: {ENGINE_VERSION}\n"
        " Network: bridge host null\n"
        f" Kernel Version: {platform.release()}\n"
        f" Name: {ctx.host.name}\n"
        " Firewall Backend: nftables\n"
        " (netlab: every network object is real; containers share the machine's files)"
    )
    return 0
