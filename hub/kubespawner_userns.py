# KubeSpawner for netlab's labs without privileges: each student's pod in a user namespace of
# its own (hostUsers: false), the student an unprivileged user in it (jovyan, uid 1000), and
# netlab rootless inside (netlab/kernel/userns.py): a user namespace in the pod's, where the
# student is root over their labs and nothing else.
#
# For a hub you configure yourself: load this from your jupyterhub_config.py,
#   load_subconfig("/path/to/netlab/hub/kubespawner_userns.py")
# With Zero to JupyterHub use hub/k8s/values-userns.yaml instead: it sets the same pod settings
# (tests/integration/test_hub.py checks that both make the same pod), and the subordinate ids.
#
# What the cluster needs (hub/README.md says why): Kubernetes 1.33 or newer (1.30-1.32 with the
# feature gate UserNamespacesSupport), Linux 6.3+ nodes with containerd 2 or CRI-O 1.25+ (runc
# 1.2+ or crun 1.9+), procMount: Unmasked allowed (feature gate ProcMountType: beta since 1.31,
# check that your version has it on), and no policy forcing seccomp RuntimeDefault onto the pods.
# On Ubuntu 24.04 nodes also sysctl kernel.apparmor_restrict_unprivileged_userns=0.
import os

c = get_config()  # noqa: F821 (JupyterHub gives it)

c.JupyterHub.spawner_class = "kubespawner.KubeSpawner"
c.KubeSpawner.image = os.environ.get("NETLAB_IMAGE", "netlab-labs:latest")
c.KubeSpawner.extra_pod_config = {"hostUsers": False}  # the pod's own user namespace
c.KubeSpawner.uid = 1000  # jovyan: no privileges, not even in the pod's user namespace
# newuidmap/newgidmap (package uidmap) are setuid: with no_new_privs (KubeSpawner's default) the
# kernel ignores that, the student's rootless netlab maps only root, and a container that
# switches users (the nginx image's www-data workers) cannot start. Root here is the pod's.
c.KubeSpawner.allow_privilege_escalation = True
c.KubeSpawner.container_security_context = {
    # rootless netlab mounts a fresh /proc for its PID namespace: the kernel allows that only
    # where a /proc with nothing mounted over it is visible (the runtime masks some of it).
    "procMount": "Unmasked",
    # unshare(CLONE_NEWUSER), setns and mount: the runtime's default profile (from Docker's)
    # refuses them to a process without CAP_SYS_ADMIN.
    "seccompProfile": {"type": "Unconfined"},
    # containerd's and CRI-O's default AppArmor profile denies mount, also in nested namespaces.
    "appArmorProfile": {"type": "Unconfined"},
}
c.KubeSpawner.cmd = ["sh", "/srv/netlab/hub/start-singleuser.sh"]  # kernel set-up, labs copy
c.KubeSpawner.environment = {"NETLAB_REPO": "/srv/netlab"}
c.KubeSpawner.default_url = "/lab"
c.KubeSpawner.notebook_dir = "~/netlab-labs"
# The image's /etc/subuid and /etc/subgid must give jovyan ids inside the pod's 65536
# (0-65535): "jovyan:1001:64535" in both (values-userns.yaml mounts them as singleuser.extraFiles).
