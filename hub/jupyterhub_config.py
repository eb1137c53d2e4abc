# JupyterHub for netlab's labs on ONE machine: each student a Unix user, netlab rootless.
#
#   sudo ./run.sh setup && sudo hub/setup.sh        # once: Debian packages, .venv, the hub
#   sudo .venv/bin/jupyterhub -f hub/jupyterhub_config.py
#   (or the systemd unit hub/netlab-hub.service; hub/README.md says more)
#
# Each student logs in with their Unix account (PAM) and gets a Jupyter server of their own,
# started by the hub as that user (LocalProcessSpawner), with JupyterLab on a copy of the labs
# in ~/netlab-labs (made at their first login, never overwritten). Its notebook kernel and
# its terminal run inside the student's own rootless netlab (netlab/kernel/userns.py): labs
# of different students never meet, though they all have the same names.
#
# Settings from the environment (all optional):
#   NETLAB_REPO                the netlab checkout (default: this file's folder's parent); it
#                              and its .venv must be readable by every student
#   NETLAB_HUB_IP, _PORT       where the hub listens (default 127.0.0.1 and 8000: set
#                              NETLAB_HUB_IP=0.0.0.0 for a class, behind HTTPS, see below)
#   NETLAB_HUB_API_PORT        the hub's own API, on 127.0.0.1 (default 8081)
#   NETLAB_HUB_PROXY_API_PORT  configurable-http-proxy's API, on 127.0.0.1 (default 8001)
#   NETLAB_HUB_STATE           the hub's database, cookie secret and proxy token (default
#                              /var/lib/netlab-hub, made with mode 0700)
#   NETLAB_HUB_GROUP           the Unix group whose members may log in (default
#                              netlab-students: `groupadd netlab-students`, then
#                              `usermod -aG netlab-students alice`)
#   NETLAB_HUB_ADMINS          comma-separated hub admins (they can start and stop servers of
#                              others in the hub's admin page)
#   NETLAB_HUB_CREATE_USERS=1  make a missing Unix user (useradd --create-home) at their first
#                              spawn: for an authenticator that is not PAM (below)
import os
import pwd
import re
import secrets
import shlex

HERE = os.path.dirname(os.path.realpath(__file__))
REPO = os.path.abspath(os.environ.get("NETLAB_REPO") or os.path.dirname(HERE))
VENV_BIN = os.path.join(REPO, ".venv", "bin")
# The labs' kernel (started inside rootless netlab) and terminal (`netlab shell`): written by
# `./run.sh setup` and hub/setup.sh (`python -m netlab.notebook.jupyter DIR`).
JUPYTER_DIR = os.path.join(REPO, ".venv", "share", "netlab-jupyter")
LABS = os.path.join(REPO, "labs")
LABS_COPY = "netlab-labs"  # the student's copy, in their home
STATE = os.path.abspath(os.environ.get("NETLAB_HUB_STATE", "/var/lib/netlab-hub"))
IP = os.environ.get("NETLAB_HUB_IP", "127.0.0.1")
PORT = int(os.environ.get("NETLAB_HUB_PORT", "8000"))
API_PORT = int(os.environ.get("NETLAB_HUB_API_PORT", "8081"))
PROXY_API_PORT = int(os.environ.get("NETLAB_HUB_PROXY_API_PORT", "8001"))
GROUP = os.environ.get("NETLAB_HUB_GROUP", "netlab-students")
ADMINS = {a.strip() for a in os.environ.get("NETLAB_HUB_ADMINS", "").split(",") if a.strip()}
CREATE_USERS = os.environ.get("NETLAB_HUB_CREATE_USERS", "") in ("1", "yes", "true")

c = get_config()  # noqa: F821 (JupyterHub gives it)

# ------------------------------------------------------------------------- the hub itself

c.JupyterHub.bind_url = f"http://{IP}:{PORT}"
c.JupyterHub.hub_bind_url = f"http://127.0.0.1:{API_PORT}"
# TLS: put the hub behind a reverse proxy that terminates HTTPS (nginx, caddy), or give it a
# certificate of its own:
# c.JupyterHub.ssl_cert = "/etc/letsencrypt/live/HOST/fullchain.pem"
# c.JupyterHub.ssl_key = "/etc/letsencrypt/live/HOST/privkey.pem"

os.makedirs(STATE, mode=0o700, exist_ok=True)
c.JupyterHub.db_url = f"sqlite:///{os.path.join(STATE, 'jupyterhub.sqlite')}"
c.JupyterHub.cookie_secret_file = os.path.join(STATE, "jupyterhub_cookie_secret")


def _secret(path: str) -> str:
    """The secret kept in ``path`` (mode 0600), made on first use."""
    try:
        with open(path) as f:
            return f.read().strip()
    except FileNotFoundError:
        pass
    token = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(token + "\n")
    return token


# configurable-http-proxy, started by the hub: hub/setup.sh installs it in hub/node_modules.
_chp = os.path.join(HERE, "node_modules", ".bin", "configurable-http-proxy")
if os.path.exists(_chp):
    c.ConfigurableHTTPProxy.command = [_chp]
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{PROXY_API_PORT}"
c.ConfigurableHTTPProxy.auth_token = _secret(os.path.join(STATE, "proxy_auth_token"))
c.ConfigurableHTTPProxy.pid_file = os.path.join(STATE, "jupyterhub-proxy.pid")

# Stopping the hub stops every student's server (the default), not their labs: those end with
# the student's rootless netlab (`netlab clean --all` as the student, or a reboot).
c.JupyterHub.cleanup_servers = True

# Stop servers nobody used for an hour (pip install jupyterhub-idle-culler first):
# c.JupyterHub.services = [{"name": "idle-culler", "command": [
#     sys.executable, "-m", "jupyterhub_idle_culler", "--timeout=3600"]}]
# c.JupyterHub.load_roles = [{"name": "idle-culler", "services": ["idle-culler"],
#     "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"]}]

# ------------------------------------------------------------------------- who logs in

# PAM: students log in with their Unix name and password (the default authenticator).
c.JupyterHub.authenticator_class = "pam"
c.PAMAuthenticator.allowed_groups = {GROUP}
c.Authenticator.admin_users = ADMINS
# Other authenticators (each: pip install into .venv, then replace the lines above; users
# must still be Unix users: set NETLAB_HUB_CREATE_USERS=1 so the hub makes them):
#   students choose their password at first login (jupyterhub-firstuseauthenticator):
#     c.JupyterHub.authenticator_class = "firstuseauthenticator.FirstUseAuthenticator"
#     c.FirstUseAuthenticator.create_users = False   # only the names an admin added
#     (or list the class: c.Authenticator.allowed_users = {"alice", "bob"})
#   students sign up, an admin approves them at /hub/authorize
#   (jupyterhub-nativeauthenticator):
#     c.JupyterHub.authenticator_class = "nativeauthenticator.NativeAuthenticator"
#     c.Authenticator.allow_all = True               # (it lets in only approved users)

# ------------------------------------------------------------------------- each student's server

# LocalProcessSpawner (the default): the hub, as root, starts each server as the student.
# SystemdSpawner is the other choice on one machine (a systemd unit per student, with memory
# and CPU limits): pip install jupyterhub-systemdspawner (hub/requirements.txt has it), then
#   c.JupyterHub.spawner_class = "systemdspawner.SystemdSpawner"
#   c.SystemdSpawner.unit_extra_properties = {"NoNewPrivileges": "no"}  # see hub/README.md
#   c.SystemdSpawner.mem_limit = "1G"
# (a student's labs then end when their server stops: systemd ends every process of the unit).
c.JupyterHub.spawner_class = "localprocess"
c.Spawner.cmd = [os.path.join(VENV_BIN, "jupyterhub-singleuser")]
c.Spawner.default_url = "/lab"
c.Spawner.notebook_dir = f"~/{LABS_COPY}"
c.Spawner.environment = {
    "JUPYTER_PATH": JUPYTER_DIR,  # the kernel that starts inside rootless netlab
    "JUPYTER_CONFIG_PATH": JUPYTER_DIR,  # terminals run `netlab shell`
    "PATH": os.pathsep.join(
        [VENV_BIN, "/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"]
    ),
}
c.Spawner.start_timeout = 120  # (a class logging in at once, on a small machine)
c.Spawner.http_timeout = 60

_NAME = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")


async def _run(argv, **kwargs):
    import asyncio

    proc = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        **kwargs,
    )
    out, _ = await proc.communicate()
    return proc.returncode, out.decode(errors="replace").strip()


async def prepare_student(spawner):
    """Before a student's server starts (as root): their Unix account (only with
    NETLAB_HUB_CREATE_USERS=1), their subordinate ids (rootless netlab's containers switch
    users: nginx's workers run as www-data), and their copy of the labs."""
    name = spawner.user.name
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        if not (CREATE_USERS and _NAME.match(name)):
            raise RuntimeError(
                f"no Unix user {name!r} on this machine: an admin makes it"
            ) from None
        code, out = await _run(["useradd", "--create-home", "--shell", "/bin/bash", name])
        if code != 0:
            raise RuntimeError(f"useradd {name} failed: {out}") from None
        entry = pwd.getpwnam(name)
    code, out = await _run(["bash", os.path.join(REPO, "run.sh"), "subids", name])
    if code != 0:
        spawner.log.warning("no subordinate ids for %s (run.sh subids): %s", name, out)
    home = entry.pw_dir
    if not os.path.isdir(home):
        raise RuntimeError(f"{name}'s home {home} does not exist: an admin makes it")
    # `netlab labs` (netlab/workcopy.py), run as the student, so that everything it makes is
    # theirs and no link in their home can send a copy made by root elsewhere. It copies into
    # a fresh folder, then renames it (nobody sees half a copy); later logins never overwrite
    # the student's files, and only add notebooks that are new in labs/.
    code, out = await _run(
        [
            os.path.join(VENV_BIN, "netlab"),
            *("labs", "copy", "--from", LABS, "--to", os.path.join(home, LABS_COPY)),
        ],
        user=entry.pw_uid,
        group=entry.pw_gid,
        extra_groups=[],
        cwd=home,
        env={"HOME": home, "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
    )
    if code != 0:
        raise RuntimeError(f"copying the labs to {home}/{LABS_COPY} failed: {out}")
    spawner.log.info("labs ready for %s: %s", name, shlex.quote(os.path.join(home, LABS_COPY)))


c.Spawner.pre_spawn_hook = prepare_student
