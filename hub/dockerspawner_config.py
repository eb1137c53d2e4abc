# DockerSpawner for netlab's labs: each student's container privileged and as root (netlab's
# root mode), as `docker run --privileged --user root` in the top-level README.
#
# Load this from your jupyterhub_config.py:
#   load_subconfig("/path/to/netlab/hub/dockerspawner_config.py")
# and let the containers reach the hub (DockerSpawner's documentation): e.g.
#   c.JupyterHub.hub_ip = "0.0.0.0"; c.JupyterHub.hub_connect_ip = "<the host's docker0 IP>"
# A privileged container is root on the machine: for a machine that holds nothing else.
import os

c = get_config()  # noqa: F821 (JupyterHub gives it)

c.JupyterHub.spawner_class = "dockerspawner.DockerSpawner"
# The lab image: binder/ built with repo2docker, the checkout in /srv/netlab (hub/README.md).
c.DockerSpawner.image = os.environ.get("NETLAB_IMAGE", "netlab-labs:latest")
c.DockerSpawner.extra_host_config = {
    "privileged": True,
    # The narrower set instead of privileged (Docker's seccomp profile blocks unshare/setns):
    # "cap_add": ["NET_ADMIN", "SYS_ADMIN"],
    # "security_opt": ["seccomp=unconfined", "apparmor=unconfined"],
}
c.DockerSpawner.extra_create_kwargs = {"user": "root"}
c.DockerSpawner.cmd = ["sh", "/srv/netlab/hub/start-singleuser.sh"]  # kernel set-up, labs copy
c.DockerSpawner.args = ["--allow-root"]  # (a Jupyter server refuses to run as root without it)
c.DockerSpawner.environment = {"NETLAB_REPO": "/srv/netlab"}
c.DockerSpawner.default_url = "/lab"
c.DockerSpawner.notebook_dir = "/home/jovyan/netlab-labs"
# Each student's home in a volume of their own, kept when the container goes.
c.DockerSpawner.volumes = {"netlab-home-{username}": "/home/jovyan"}
c.DockerSpawner.remove = True
