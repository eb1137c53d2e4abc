"""The images netlab emulates, and how each one runs on the real kernel.

A netlab container shares the machine's filesystem (it is a set of namespaces, not an image
root), so an "image" here is a recipe: what Docker shows for it (``Cmd``, ``Entrypoint``) and
what really runs. ``ubuntu`` and the other base images run the given command as it is
(``sleep infinity``, ``ping``...). ``nginx`` serves the nginx welcome page on port 80 with
BusyBox's small web server, and ``docker ps`` shows nginx's own command line.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

from netlab.errors import NoSuchImage

NGINX_WELCOME = """<!DOCTYPE html>
<html>
<head>
<title>Welcome to nginx!</title>
<style>
html { color-scheme: light dark; }
body { width: 35em; margin: 0 auto;
font-family: Tahoma, Verdana, Arial, sans-serif; }
</style>
</head>
<body>
<h1>Welcome to nginx!</h1>
<p>If you see this page, the nginx web server is successfully installed and
working. Further configuration is required.</p>

<p>For online documentation and support please refer to
<a href="http://nginx.org/">nginx.org</a>.<br/>
Commercial support is available at
<a href="http://nginx.com/">nginx.com</a>.</p>

<p><em>Thank you for using nginx.</em></p>
<p><em>(served by netlab's emulated nginx image)</em></p>
</body>
</html>
"""


# The emulated nginx: BusyBox's web server on port 80, under a shell that ends it and exits 0
# on SIGQUIT (the image's stop signal) or SIGTERM, as nginx does; a PID 1 without handlers
# would ignore both and `docker stop` would wait its 10 s.
NGINX_SHIM = (
    'busybox httpd -f -p 80 -h "$1" & pid=$!; '
    'trap \'kill "$pid"; wait "$pid"; exit 0\' QUIT TERM; wait "$pid"'
)
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

# BusyBox applets that a BusyBox-based image runs as BusyBox's own (every Debian busybox has
# them); anything else runs as the machine's program of that name.
APPLETS = frozenset(
    {
        "cat",
        "date",
        "echo",
        "env",
        "false",
        "head",
        "hostname",
        "httpd",
        "id",
        "ls",
        "nc",
        "nslookup",
        "ping",
        "printf",
        "ps",
        "seq",
        "sh",
        "sleep",
        "tail",
        "top",
        "true",
        "uname",
        "wget",
        "yes",
    }
)


@dataclass(frozen=True)
class Image:
    """One emulated image."""

    name: str
    tag: str
    cmd: tuple[str, ...]  # Docker's default CMD
    entrypoint: tuple[str, ...] = ()
    exposed: tuple[str, ...] = ()  # "80/tcp"
    image_id: str = ""
    size: str = ""
    busybox: bool = False  # its commands are BusyBox's applets (alpine, busybox)
    env: tuple[str, ...] = (f"PATH={DEFAULT_PATH}",)  # Config.Env of the image
    label_pairs: tuple[tuple[str, str], ...] = ()  # Config.Labels of the image
    stop_signal: str = ""  # Config.StopSignal ("" for Docker's SIGTERM)

    @property
    def labels(self) -> dict[str, str]:
        """The image's labels, as ``docker inspect`` shows them (sorted: a Go map)."""
        return dict(sorted(self.label_pairs))

    @property
    def ref(self) -> str:
        """``name:tag``."""
        return f"{self.name}:{self.tag}"

    def display_command(self, cmd: tuple[str, ...]) -> tuple[str, ...]:
        """The command line Docker records for a container of this image (Path + Args)."""
        return (*self.entrypoint, *(cmd or self.cmd))

    def real_argv(self, cmd: tuple[str, ...]) -> list[str]:
        """What netlab really runs inside the container for this image and command.

        In a BusyBox-based image a command named like a common applet is BusyBox's (``echo
        --help`` prints ``--help`` in alpine, as there), not the machine's GNU tool.
        """
        if self.name == "nginx" and (not cmd or cmd == self.cmd):
            return ["sh", "-c", NGINX_SHIM, "nginx", html_dir()]
        argv = list(cmd or self.cmd)
        if self.busybox and argv and argv[0] in APPLETS:
            return ["busybox", *argv]
        return argv


IMAGES: dict[str, Image] = {
    img.name: img
    for img in (
        Image(
            "ubuntu",
            "latest",
            ("/bin/bash",),
            image_id="sha256:a04dc4851cbcbb42b54d1f52a41f5f9eca6a5fd03748c3f6eb2cbeb238ca99bd",
            size="78.1MB",
            label_pairs=(
                ("org.opencontainers.image.ref.name", "ubuntu"),
                ("org.opencontainers.image.version", "24.04"),
            ),
        ),
        Image(
            "alpine",
            "latest",
            ("/bin/sh",),
            image_id="sha256:aded1e1a5b3705116fa0a92ba074a5e0b0031647d9c315983ccba2ee5428ec8b",
            size="7.8MB",
            busybox=True,
        ),
        Image(
            "busybox",
            "latest",
            ("sh",),
            image_id="sha256:27a71e19c95622dce4d60d4a3cf8d6ae7e7a8c8bcc69b64d2c2b7beeba5a3c1a",
            size="4.28MB",
            busybox=True,
        ),
        Image(
            "nginx",
            "latest",
            ("nginx", "-g", "daemon off;"),
            entrypoint=("/docker-entrypoint.sh",),
            exposed=("80/tcp",),
            label_pairs=(("maintainer", "NGINX Docker Maintainers <docker-maint@nginx.com>"),),
            stop_signal="SIGQUIT",
            image_id="sha256:be69f2940aaf64fdf50c9c99420cbd57e10ee655ec7204df1c407e9af63d0cc1",
            size="192MB",
        ),
    )
}


def lookup(ref: str) -> Image:
    """The emulated image for ``ref`` (``nginx``, ``nginx:latest``, ``library/ubuntu``)."""
    name, _, tag = ref.partition(":")
    name = name.removeprefix("docker.io/").removeprefix("library/")
    tag = tag or "latest"
    img = IMAGES.get(name)
    if img is None or tag != "latest":
        raise NoSuchImage(
            f"Unable to find image '{name}:{tag}' locally\n"
            f"pull access denied for {name}, repository does not exist or may require "
            f"'docker login': denied: requested access to the resource is denied\n"
            f"(netlab emulates these images: {', '.join(sorted(IMAGES))})"
        )
    return img


def html_dir() -> str:
    """Where the emulated nginx's pages show in its container: nginx's own folder where the
    machine has one (its files are hidden under the lab's), else an empty folder of the FHS."""
    for path in ("/usr/share/nginx/html", "/srv", "/mnt"):
        if os.path.isdir(path):
            return path
    return "/srv"


def content_binds(real_argv: Sequence[str], www_dir: str) -> dict[str, str]:
    """What a container of the emulated nginx gets bind-mounted: its welcome page folder."""
    if is_emulated_nginx(real_argv):
        return {html_dir(): www_dir}
    return {}


def is_emulated_nginx(real_argv: Sequence[str]) -> bool:
    """True for the command that plays the nginx image (it serves HTTP on port 80)."""
    return list(real_argv[:3]) == ["sh", "-c", NGINX_SHIM]


def write_www(path: str) -> None:
    """Write nginx's welcome page into ``path`` (the emulated nginx serves it)."""
    os.makedirs(path, exist_ok=True)
    with open(os.path.join(path, "index.html"), "w") as f:
        f.write(NGINX_WELCOME)
