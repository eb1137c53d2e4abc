#!/bin/sh
# A student's Jupyter server for netlab's labs, where the hub cannot prepare it beforehand: in
# a Kubernetes pod or a Docker container (hub/k8s/, hub/*spawner*.py), under TLJH
# (hub/tljh/netlab.py). It runs as the student and
#
#   1. writes the labs' kernel (started inside rootless netlab when not root) and terminal
#      (`netlab shell`) set-up, netlab/notebook/jupyter.py, to ~/.local/share/netlab-jupyter,
#      and puts that folder first on JUPYTER_PATH and JUPYTER_CONFIG_PATH;
#   2. copies the labs to ~/netlab-labs the first time (`netlab labs`: the student's files
#      there are never overwritten; notebooks new in labs/ are added);
#   3. runs jupyterhub-singleuser with the arguments given.
#
# NETLAB_REPO (default: this file's folder's parent) is the netlab checkout; NETLAB_PYTHON
# (default: python3 on PATH) the Python that has netlab and jupyterhub installed.
set -eu
here="$(cd "$(dirname "$0")" && pwd)"
repo="${NETLAB_REPO:-$(dirname "$here")}"
python="${NETLAB_PYTHON:-python3}"
jupyter_dir="${NETLAB_JUPYTER_DIR:-$HOME/.local/share/netlab-jupyter}"

"$python" -m netlab.notebook.jupyter "$jupyter_dir" >/dev/null
export JUPYTER_PATH="$jupyter_dir${JUPYTER_PATH:+:$JUPYTER_PATH}"
export JUPYTER_CONFIG_PATH="$jupyter_dir${JUPYTER_CONFIG_PATH:+:$JUPYTER_CONFIG_PATH}"

# (netlab/workcopy.py: into a fresh folder, then renamed, never half a copy; a later start
# never overwrites the student's files, it only adds notebooks new in labs/)
"$python" -m netlab labs copy --from "$repo/labs" --to "$HOME/netlab-labs" >&2 ||
  echo "netlab: could not copy the labs to $HOME/netlab-labs" >&2

bin="$(dirname "$(command -v "$python")")"
if [ -x "$bin/jupyterhub-singleuser" ]; then
  exec "$bin/jupyterhub-singleuser" "$@"
fi
exec jupyterhub-singleuser "$@"
