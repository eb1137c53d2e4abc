# KubeSpawner for netlab's labs, the simple way: each student's pod privileged and as root
# (netlab's root mode, as in `docker run --privileged --user root`).
#
# For a hub you configure yourself: load this from your jupyterhub_config.py,
#   load_subconfig("/path/to/netlab/hub/kubespawner_privileged.py")
# With Zero to JupyterHub use hub/k8s/values-privileged.yaml instead: it sets the same pod
# settings (tests/integration/test_hub.py checks that both make the same pod).
#
# A privileged container is root on its node: give it to students only on a cluster (or a node
# pool) that holds nothing else. hub/kubespawner_userns.py is the safer choice where the cluster
# has user namespaces.
import os

c = get_config()  # noqa: F821 (JupyterHub gives it)

c.JupyterHub.spawner_class = "kubespawner.KubeSpawner"
# The lab image: binder/ built with repo2docker, the checkout in /srv/netlab (hub/README.md).
c.KubeSpawner.image = os.environ.get("NETLAB_IMAGE", "netlab-labs:latest")
c.KubeSpawner.privileged = True  # namespaces, mounts, interfaces, nftables: all of root's
c.KubeSpawner.uid = 0
# The API server refuses a privileged container that may not escalate (KubeSpawner's default).
c.KubeSpawner.allow_privilege_escalation = True
c.KubeSpawner.cmd = ["sh", "/srv/netlab/hub/start-singleuser.sh"]  # kernel set-up, labs copy
c.KubeSpawner.args = ["--allow-root"]  # (a Jupyter server refuses to run as root without it)
c.KubeSpawner.environment = {"NETLAB_REPO": "/srv/netlab"}
c.KubeSpawner.default_url = "/lab"
c.KubeSpawner.notebook_dir = "~/netlab-labs"
