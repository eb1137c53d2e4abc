# netlab's labs on The Littlest JupyterHub (TLJH): each student a Unix user (jupyter-NAME) with
# a systemd unit of their own (SystemdSpawner), netlab rootless. Link this file into TLJH's
# configuration folder and reload (hub/README.md has the whole recipe):
#
#   sudo ln -s /opt/netlab/hub/tljh/netlab.py /opt/tljh/config/jupyterhub_config.d/netlab.py
#   sudo tljh-config reload hub
import os

c = get_config()  # noqa: F821 (JupyterHub gives it)

REPO = os.environ.get("NETLAB_REPO") or os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
)
# The student's server starts through hub/start-singleuser.sh: it writes the labs' kernel
# (started inside rootless netlab) and terminal (netlab shell) set-up, and copies the labs to
# ~/netlab-labs the first time. (A pre_spawn_hook cannot: TLJH makes the Unix user later.)
c.Spawner.cmd = ["/bin/sh", os.path.join(REPO, "hub", "start-singleuser.sh")]
c.Spawner.environment.update({"NETLAB_REPO": REPO, "NETLAB_PYTHON": "/opt/tljh/user/bin/python3"})
c.Spawner.default_url = "/lab"
c.Spawner.notebook_dir = "~/netlab-labs"
# TLJH sets NoNewPrivileges=yes on non-admins' units (disable_user_sudo). Then the kernel
# ignores the setuid bit of newuidmap/newgidmap, a student's rootless netlab maps only root,
# and containers that switch users (the nginx image's www-data workers) cannot start. Students
# still have no sudo: TLJH gives that to admins only, through a group.
c.SystemdSpawner.unit_extra_properties.update({"NoNewPrivileges": "no"})
