#!/usr/bin/env bash
# netlab's one entry point for set-up, labs and tests, on a fresh Debian/Ubuntu machine as root.
#
#   ./run.sh labs    install what is needed, then start JupyterLab on your copy of labs/
#                    (~/netlab-labs, made on first start; port 8888)
#   ./run.sh test    install what is needed, then run the whole test suite (pytest + nbval),
#                    then again as a fresh unprivileged user (rootless mode)
#   ./run.sh setup   only install
#
# It installs the Debian packages netlab calls (see binder/apt.txt) and a virtual environment
# in .venv with netlab and its Python dependencies. Safe to run again: it skips what is done.
# Without root, `./run.sh labs` works once an administrator has run `sudo ./run.sh setup`
# (the Debian packages): the labs then run rootless, in the user's own namespaces.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"

need_root() {
  if [ "$(id -u)" -ne 0 ]; then
    echo "netlab: run this as root: sudo $0 $* (in a container, where sudo is no help: run" \
      "it with --user root, e.g. docker exec -u root); labs build network namespaces." >&2
    exit 1
  fi
}

missing_apt() {
  local pkgs p
  mapfile -t pkgs < <(grep -v '^\s*#' binder/apt.txt | grep -v '^\s*$')
  pkgs+=(python3 python3-venv)
  for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || echo "$p"
  done
}

# Without root: the Debian packages must be there already (an administrator's `sudo ./run.sh
# setup`); say so instead of failing later.
check_apt() {
  local missing
  missing="$(missing_apt | tr '\n' ' ')"
  if [ -n "$missing" ]; then
    echo "netlab: these Debian packages are missing: $missing" >&2
    echo "netlab: an administrator installs them once with: sudo $here/run.sh setup" >&2
    exit 1
  fi
}

setup_apt() {
  local missing=()
  mapfile -t missing < <(missing_apt)
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "netlab: installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # A package with a service (nginx) must not start it on the machine, where
    # it would listen on port 80: while apt runs, a policy-rc.d forbids starting services
    # (unless the machine has its own), and a service this run brought is disabled at boot.
    local policy=/usr/sbin/policy-rc.d made_policy="" had_nginx="" rc=0
    [ -e /etc/init.d/nginx ] && had_nginx=1
    if [ ! -e "$policy" ]; then
      printf '#!/bin/sh\n# netlab (run.sh): no service starts while apt installs\nexit 101\n' \
        > "$policy"
      chmod 755 "$policy"
      made_policy=1
    fi
    { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" \
        >/dev/null; } || rc=$?
    [ -n "$made_policy" ] && rm -f "$policy"
    if [ -z "$had_nginx" ] && [ -e /etc/init.d/nginx ]; then
      if command -v deb-systemd-helper >/dev/null; then
        deb-systemd-helper disable nginx.service >/dev/null 2>&1 || true
      fi
      update-rc.d nginx disable >/dev/null 2>&1 || true
    fi
    if [ "$rc" -ne 0 ]; then
      echo "netlab: apt-get failed (exit $rc)" >&2
      exit "$rc"
    fi
  fi
}

setup_venv() {
  local stamp=".venv/.netlab-installed" kernel="$jupyter_dir/kernels/python3/kernel.json"
  if [ -f "$stamp" ] && [ ! pyproject.toml -nt "$stamp" ] && [ -f "$kernel" ]; then
    return 0  # (done; and a user who may not write .venv can use it as it is)
  fi
  if [ -e .venv ] && [ ! -w .venv ]; then
    echo "netlab: .venv is not up to date and not yours to change: run $here/run.sh setup as its owner" >&2
    exit 1
  fi
  if [ ! -x .venv/bin/python ]; then
    echo "netlab: creating the virtual environment .venv"
    /usr/bin/python3 -m venv .venv
  fi
  if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    echo "netlab: installing netlab and its Python packages into .venv"
    if ! { .venv/bin/python -m pip install --upgrade pip &&
           .venv/bin/python -m pip install -e ".[labs,test]"; } > .venv/install.log 2>&1; then
      tail -n 40 .venv/install.log >&2
      echo "netlab: pip install failed; the whole log is in .venv/install.log" >&2
      exit 1
    fi
    touch "$stamp"
  fi
  # The labs' kernel and JupyterLab's terminal, started inside rootless netlab when not root
  # (see netlab/notebook/jupyter.py); used through JUPYTER_PATH and JUPYTER_CONFIG_PATH, so
  # the user's own Jupyter set-up stays as it is.
  .venv/bin/python -m netlab.notebook.jupyter "$jupyter_dir" >/dev/null
}

# The whole suite once more as a throwaway unprivileged user: rootless mode (labs in the
# user's own namespaces, see netlab/kernel/userns.py) must pass the same tests and the same
# stored notebooks. The user exists only for this run, with subordinate ids of its own
# (/etc/subuid, /etc/subgid, as useradd gives a normal user) so that containers can switch
# users as in root mode. A private mount namespace shows the checkout at a path that user can
# reach even when it lives in a folder private to root (/root/netlab); nothing of it is seen
# outside. At the end `netlab clean --all` stops the user's rootless netlab (every process of
# it ends with it), and the user goes.
test_rootless() {
  local user="netlab-ci-$$" home mnt uid gid rc=0
  if id "$user" >/dev/null 2>&1; then
    echo "netlab: a user named $user exists already; not touching it" >&2
    return 1
  fi
  home="$(mktemp -d)"
  mnt="$(mktemp -d)"
  # (Removed again however this ends: done, failed, or interrupted.)
  # (rmdir for the mount point: it is empty outside the private mount namespace.)
  trap "userdel '$user' >/dev/null 2>&1 || true; rm -rf '$home'; rmdir '$mnt'" EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  useradd --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$user"
  add_subordinate_ids "$user"
  uid="$(id -u "$user")"
  gid="$(id -g "$user")"
  chown "$uid:$gid" "$home"
  echo "netlab: the whole suite again, rootless, as the unprivileged user $user (uid $uid)"
  unshare --mount --propagation private -- sh -c '
    mount --bind "$1" "$2" && cd "$2" && shift 2 &&
    uid="$1" gid="$2" home="$3" user="$4" && shift 4 &&
    as_user() {
      setpriv --reuid="$uid" --regid="$gid" --clear-groups \
        env HOME="$home" USER="$user" LOGNAME="$user" \
        PATH="$PWD/.venv/bin:/usr/sbin:/usr/bin:/sbin:/bin" "$@"
    }
    rc=0
    as_user .venv/bin/netlab shell -- .venv/bin/python -m pytest tests labs --nbval \
      --nbval-current-env --nbval-sanitize-with labs/sanitize.cfg --nbval-cell-timeout=120 \
      -p no:cacheprovider "$@" || rc=$?
    as_user .venv/bin/netlab clean --all >/dev/null || rc=1
    exit "$rc"
  ' netlab-ci "$here" "$mnt" "$uid" "$gid" "$home" "$user" "$@" || rc=$?
  userdel "$user" >/dev/null 2>&1 || true
  rm -rf "$home"
  rmdir "$mnt"
  trap - EXIT INT TERM
  return "$rc"
}

# Give a user 65536 subordinate uids and gids (for rootless netlab's containers) where
# useradd did not (no /etc/subuid yet, or a system whose login.defs gives none): the range
# after the highest one given so far.
add_subordinate_ids() {
  local user="$1" start
  if grep -q "^$user:" /etc/subuid 2>/dev/null && grep -q "^$user:" /etc/subgid 2>/dev/null; then
    return 0
  fi
  start="$(cat /etc/subuid /etc/subgid 2>/dev/null |
    awk -F: 'BEGIN { m = 100000 } { e = $2 + $3; if (e > m) m = e } END { print m }')"
  usermod --add-subuids "$start-$((start + 65535))" --add-subgids "$start-$((start + 65535))" "$user"
}

jupyter_dir="$here/.venv/share/netlab-jupyter"
cmd="${1:-}"
case "$cmd" in
  setup)
    need_root "$@"; setup_apt; setup_venv ;;
  subids)  # ./run.sh subids USER: give USER subordinate ids for rootless netlab's containers
    need_root "$@"; [ -n "${2:-}" ] || { echo "usage: $0 subids USER" >&2; exit 2; }
    add_subordinate_ids "$2" ;;
  labs)
    root=()
    if [ "$(id -u)" -eq 0 ]; then setup_apt; root=(--allow-root); else check_apt; fi
    setup_venv
    shift
    export PATH="$here/.venv/bin:$PATH"  # so that `!netlab ...` works in the notebooks
    export JUPYTER_PATH="$jupyter_dir${JUPYTER_PATH:+:$JUPYTER_PATH}"
    export JUPYTER_CONFIG_PATH="$jupyter_dir${JUPYTER_CONFIG_PATH:+:$JUPYTER_CONFIG_PATH}"
    port=(--port=8888) ip=(--ip=0.0.0.0)
    case " $* " in *" --port"*) port=() ;; esac  # ./run.sh labs --port=9999 picks another
    case " $* " in *" --ip"*) ip=() ;; esac      # ... and --ip=127.0.0.1 another address
    # A copy of the labs of the user's own (~/netlab-labs): running them never changes the
    # tracked notebooks; `netlab labs reset 03` gives one back as it was.
    .venv/bin/netlab labs >&2
    labs_dir=$(.venv/bin/netlab labs where)
    exec .venv/bin/jupyter lab "${root[@]}" --no-browser "${ip[@]}" "${port[@]}" \
      --notebook-dir="$labs_dir" "$@" ;;
  test)
    need_root "$@"; setup_apt; setup_venv
    bash hub/setup.sh  # JupyterHub, its proxy and spawners: tests/integration/test_hub.py
    shift
    export PATH="$here/.venv/bin:$PATH"
    .venv/bin/ruff check netlab tests bench hub conftest.py
    .venv/bin/ruff format --check netlab tests bench hub conftest.py
    .venv/bin/mypy
    # The library's tests, then every lab notebook executed by nbval, outputs compared; then
    # all of it again as an unprivileged user (rootless). Both run; either failing fails.
    status=0
    .venv/bin/python -m pytest tests labs --nbval --nbval-current-env \
      --nbval-sanitize-with labs/sanitize.cfg --nbval-cell-timeout=120 "$@" || status=$?
    test_rootless "$@" || status=$?
    exit "$status" ;;
  *)
    echo "usage: $0 labs | test | setup | subids USER" >&2
    exit 2 ;;
esac
