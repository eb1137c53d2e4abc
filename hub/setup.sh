#!/usr/bin/env bash
# Install what netlab's JupyterHub needs (see hub/README.md), as root, after `./run.sh setup`:
#
#   - the Debian packages in hub/apt.txt (Node.js and npm), only those missing;
#   - configurable-http-proxy, JupyterHub's proxy, into hub/node_modules, at the version that
#     hub/package-lock.json pins (`npm ci`);
#   - JupyterHub and the spawners of hub/requirements.txt into the repository's .venv;
#   - the labs' kernel and terminal set-up in .venv/share/netlab-jupyter, if missing.
#
# Safe to run again: it skips what is done, and prints nothing then. Output of the installers
# goes to hub/setup.log; its end is printed if one fails.
set -euo pipefail
hub="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$hub")"
log="$hub/setup.log"
cd "$hub"

say() { echo "netlab-hub: $*"; }

if [ "$(id -u)" -ne 0 ]; then
  echo "netlab-hub: run this as root (sudo $0): it installs Debian and npm packages." >&2
  exit 1
fi
if [ ! -x "$repo/.venv/bin/python" ]; then
  echo "netlab-hub: $repo/.venv is missing: run 'sudo $repo/run.sh setup' first." >&2
  exit 1
fi

# quietly WHAT CMD...: run CMD with its output in the log; if it fails, show the log's end.
quietly() {
  local what="$1"
  shift
  if ! "$@" >>"$log" 2>&1; then
    tail -n 40 "$log" >&2
    echo "netlab-hub: $what failed; the whole log is in $log" >&2
    exit 1
  fi
}

# A package counts as there when it is installed, or when an installed package provides it
# (NodeSource's nodejs provides npm, and conflicts with Debian's).
missing_apt() {
  local installed p
  installed="$(dpkg-query -W -f='${db:Status-Abbrev} ${Package}, ${Provides},\n' 2>/dev/null |
    awk '$1 == "ii" { $1 = ""; print }' | tr -d ' ' | tr ',' '\n' | sed 's/(.*//' | sort -u)"
  for p in $(grep -v '^\s*#' apt.txt | grep -v '^\s*$'); do
    grep -qx "$p" <<<"$installed" || echo "$p"
  done
}

mapfile -t missing < <(missing_apt)
if [ "${#missing[@]}" -gt 0 ]; then
  say "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  quietly "apt-get update" apt-get update -qq
  quietly "apt-get install" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

node_major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"
if [ "$node_major" -lt 18 ]; then
  echo "netlab-hub: configurable-http-proxy needs Node.js 18 or newer; this machine has" \
    "$(node --version 2>/dev/null || echo none) (Ubuntu 22.04's is 12: install a newer" \
    "nodejs, e.g. NodeSource's, then run this again)" >&2
  exit 1
fi

# configurable-http-proxy, as package-lock.json pins it (npm ci: exactly the lock, or fail).
stamp="node_modules/.netlab-installed"
if [ ! -x node_modules/.bin/configurable-http-proxy ] || [ ! -f "$stamp" ] ||
  [ package.json -nt "$stamp" ] || { [ -f package-lock.json ] && [ package-lock.json -nt "$stamp" ]; }; then
  say "installing configurable-http-proxy into hub/node_modules"
  if [ -f package-lock.json ]; then
    quietly "npm ci" npm ci --no-audit --no-fund --loglevel=error
  else
    quietly "npm install" npm install --no-audit --no-fund --loglevel=error
  fi
  touch "$stamp"
fi

# JupyterHub and the spawners, into the repository's .venv.
stamp="$repo/.venv/.netlab-hub-installed"
if [ ! -f "$stamp" ] || [ requirements.txt -nt "$stamp" ] ||
  [ ! -x "$repo/.venv/bin/jupyterhub-singleuser" ]; then
  say "installing JupyterHub into .venv"
  quietly "pip install" "$repo/.venv/bin/python" -m pip install -r requirements.txt
  touch "$stamp"
fi

# The labs' kernel (started inside rootless netlab) and terminal (netlab shell): written by
# ./run.sh setup too; the hub points each student's server at this folder.
jupyter_dir="$repo/.venv/share/netlab-jupyter"
if [ ! -f "$jupyter_dir/kernels/python3/kernel.json" ] ||
  [ ! -f "$jupyter_dir/jupyter_server_config.json" ]; then
  quietly "writing $jupyter_dir" "$repo/.venv/bin/python" -m netlab.notebook.jupyter "$jupyter_dir"
fi

# Students' servers run as the students: they must be able to read the checkout and .venv.
if id nobody >/dev/null 2>&1 && ! setpriv --reuid=nobody --regid=nogroup --clear-groups \
  test -x "$repo/.venv/bin/jupyterhub-singleuser" -a -r "$repo/labs" 2>/dev/null; then
  echo "netlab-hub: warning: other users cannot read $repo (and its .venv): students'" \
    "servers will not start. Clone netlab into a folder everyone can read, e.g. /opt/netlab." >&2
fi
