"""The images netlab emulates, and how each one runs on the real kernel.

A netlab container shares the machine's filesystem (it is a set of namespaces, not an image
root), so an "image" here is a recipe: what Docker shows for it (``Cmd``, ``Entrypoint``) and
what really runs. ``ubuntu`` and the other base images run the given command as it is
(``sleep infinity``, ``ping``...). ``nginx`` is the machine's real nginx (Debian's package
nginx) configured as Docker's official image is: its own ``nginx.conf`` and ``conf.d/default.conf``,
the welcome page, and ``/var/log/nginx`` whose files lead to the container's stdout and
stderr, all bind-mounted into the container. Where the machine has no nginx, BusyBox's small
web server serves the welcome page instead (``netlab doctor`` says which one is in use).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass

from netlab.errors import NoSuchImage


def _nginx_page(title: str, body: str) -> str:
    """A page of the official image's html folder (they share their head)."""
    return (
        "<!DOCTYPE html>\n<html>\n<head>\n"
        f"<title>{title}</title>\n"
        "<style>\nhtml { color-scheme: light dark; }\nbody { width: 35em; margin: 0 auto;\n"
        "font-family: Tahoma, Verdana, Arial, sans-serif; }\n</style>\n</head>\n<body>\n"
        f"{body}</body>\n</html>\n"
    )


NGINX_WELCOME = _nginx_page(
    "Welcome to nginx!",
    """<h1>Welcome to nginx!</h1>
<p>If you see this page, the nginx web server is successfully installed and
working. Further configuration is required.</p>

<p>For online documentation and support please refer to
<a href="http://nginx.org/">nginx.org</a>.<br/>
Commercial support is available at
<a href="http://nginx.com/">nginx.com</a>.</p>

<p><em>Thank you for using nginx.</em></p>
""",
)

NGINX_50X = _nginx_page(
    "Error",
    """<h1>An error occurred.</h1>
<p>Sorry, the page you are looking for is currently unavailable.<br/>
Please try again later.</p>
<p>If you are the system administrator of this resource then you should check
the error log for details.</p>
<p><em>Faithfully yours, nginx.</em></p>
""",
)

# The official image's /etc/nginx/nginx.conf, with two changes this machine needs: its
# workers run as Debian's www-data (the image has a user nginx), and temporary files go to
# the container's own /tmp (the official image's compiled-in /var/cache/nginx; Debian's
# /var/lib/nginx would be shared by every container of the machine).
NGINX_CONF = """
user  www-data;
worker_processes  auto;

error_log  /var/log/nginx/error.log notice;
pid        /run/nginx.pid;


events {
    worker_connections  1024;
}


http {
    include       /etc/nginx/mime.types;
    default_type  application/octet-stream;

    log_format  main  '$remote_addr - $remote_user [$time_local] "$request" '
                      '$status $body_bytes_sent "$http_referer" '
                      '"$http_user_agent" "$http_x_forwarded_for"';

    access_log  /var/log/nginx/access.log  main;

    sendfile        on;
    #tcp_nopush     on;

    keepalive_timeout  65;

    #gzip  on;

    # netlab: temporary files in the container's own /tmp
    client_body_temp_path /tmp/client_temp;
    proxy_temp_path       /tmp/proxy_temp;
    fastcgi_temp_path     /tmp/fastcgi_temp;
    uwsgi_temp_path       /tmp/uwsgi_temp;
    scgi_temp_path        /tmp/scgi_temp;

    include /etc/nginx/conf.d/*.conf;
}
""".lstrip()

# The official image's /etc/nginx/conf.d/default.conf (as its entrypoint leaves it: it adds
# the IPv6 listener), without the commented-out PHP examples.
NGINX_DEFAULT_CONF = """
server {
    listen       80;
    listen  [::]:80;
    server_name  localhost;

    #access_log  /var/log/nginx/host.access.log  main;

    location / {
        root   /usr/share/nginx/html;
        index  index.html index.htm;
    }

    #error_page  404              /404.html;

    # redirect server error pages to the static page /50x.html
    #
    error_page   500 502 503 504  /50x.html;
    location = /50x.html {
        root   /usr/share/nginx/html;
    }
}
""".lstrip()

NGINX_HTML = "/usr/share/nginx/html"


# The nginx image where the machine has no nginx: BusyBox's web server on port 80, under a
# shell that ends it and exits 0 on SIGQUIT (the image's stop signal) or SIGTERM, as nginx
# does; a PID 1 without handlers would ignore both and `docker stop` would wait its 10 s.
# (The trap comes first: set after the server's start, a stop that came in between, on a busy
# machine, found no handler yet and waited the 10 s.)
NGINX_SHIM = (
    'pid=; trap \'[ -n "$pid" ] && kill "$pid" && wait "$pid"; exit 0\' QUIT TERM; '
    'busybox httpd -f -p 80 -h "$1" & pid=$!; wait "$pid"'
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
        if self.name == "nginx" and (not cmd or cmd == self.cmd) and not nginx_program():
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


def nginx_program() -> str | None:
    """The machine's nginx (Debian's package nginx), or None: the image then runs BusyBox's."""
    return shutil.which("nginx", path=DEFAULT_PATH)


def html_dir() -> str:
    """Where the nginx image's pages show in its container: nginx's own folder where the
    machine has one (its files are hidden under the lab's), else an empty folder of the FHS."""
    for path in (NGINX_HTML, "/srv", "/mnt"):
        if os.path.isdir(path):
            return path
    return "/srv"


def image_files(image: str, files: str) -> dict[str, str]:
    """Write the files of ``image`` that differ from the machine's into the folder ``files``
    (a container's own copy, which it may change as on Docker); return what the container
    gets bind-mounted (path inside -> file or folder). For nginx: the official image's files
    (:func:`write_nginx`); the others have none."""
    if lookup(image).name != "nginx":
        return {}
    write_nginx(files)
    binds = {html_dir(): os.path.join(files, "html")}
    if nginx_program():
        binds |= {
            "/etc/nginx/nginx.conf": os.path.join(files, "nginx.conf"),
            "/etc/nginx/conf.d": os.path.join(files, "conf.d"),
            "/var/log/nginx": os.path.join(files, "log"),
        }
    return binds


def serves_http(real_argv: Sequence[str]) -> bool:
    """True for the command that plays the nginx image (it serves HTTP on port 80)."""
    return list(real_argv[:3]) in (["sh", "-c", NGINX_SHIM], list(IMAGES["nginx"].cmd))


def write_nginx(path: str) -> None:
    """Write the nginx image's files into ``path``: ``html/`` (the welcome page),
    ``nginx.conf``, ``conf.d/default.conf``, and ``log/`` whose ``access.log`` and
    ``error.log`` lead to the container's stdout and stderr (as in the official image)."""
    files = {
        "html/index.html": NGINX_WELCOME,
        "html/50x.html": NGINX_50X,
        "nginx.conf": NGINX_CONF,
        "conf.d/default.conf": NGINX_DEFAULT_CONF,
    }
    for name, text in files.items():
        os.makedirs(os.path.dirname(os.path.join(path, name)), mode=0o755, exist_ok=True)
        with open(os.path.join(path, name), "w") as f:
            f.write(text)
        os.chmod(os.path.join(path, name), 0o644)  # (nginx's workers read them as www-data)
    for folder in ("html", "conf.d", "log"):
        os.makedirs(os.path.join(path, folder), exist_ok=True)
        os.chmod(os.path.join(path, folder), 0o755)
    for name, dev in (("access.log", "/dev/stdout"), ("error.log", "/dev/stderr")):
        link = os.path.join(path, "log", name)
        if not os.path.islink(link):
            os.symlink(dev, link)
