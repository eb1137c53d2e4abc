#!/usr/bin/env bash
# netlab's one entry point for set-up, labs and tests, on a fresh Debian/Ubuntu machine as root.
#
#   ./run.sh labs    install what is needed, then start JupyterLab on labs/ (port 8888)
#   ./run.sh test    install what is needed, then run the whole test suite (pytest + nbval),
#                    then the unit tests again as an unprivileged user
#   ./run.sh setup   only install
#
# It installs the Debian packages netlab calls (see binder/apt.txt) and a virtual environment
# in .venv with netlab and its Python dependencies. Safe to run again: it skips what is done.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"

need_root() {
  if [ "$(id -u)" -ne 0 ]; then
    echo "netlab: run this as root (sudo $0 $*): labs build network namespaces." >&2
    exit 1
  fi
}

setup_apt() {
  local pkgs missing=()
  mapfile -t pkgs < <(grep -v '^\s*#' binder/apt.txt | grep -v '^\s*$')
  pkgs+=(python3 python3-venv)
  for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
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
  local stamp=".venv/.netlab-installed"
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
}

# The unit tests (tests/unit: pure logic, and the model on the fake kernel) once more as a
# throwaway unprivileged user, which proves they need no root. The user exists only for this
# run. A private mount namespace shows the checkout at a path that user can reach even when
# it lives in a folder private to root (/root/netlab); nothing of it is seen outside.
# (All of tests/unit, whatever arguments were given: a run that selects nothing is no proof.)
test_unprivileged() {
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
  useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$user"
  uid="$(id -u "$user")"
  gid="$(id -g "$user")"
  chown "$uid:$gid" "$home"
  echo "netlab: tests/unit again as the unprivileged user $user (uid $uid)"
  unshare --mount --propagation private -- sh -c '
    mount --bind "$1" "$2" && cd "$2" &&
    exec setpriv --reuid="$3" --regid="$4" --clear-groups \
      env HOME="$5" .venv/bin/python -m pytest tests/unit -q -p no:cacheprovider
  ' netlab-ci "$here" "$mnt" "$uid" "$gid" "$home" || rc=$?
  userdel "$user" >/dev/null 2>&1 || true
  rm -rf "$home"
  rmdir "$mnt"
  trap - EXIT INT TERM
  return "$rc"
}

cmd="${1:-}"
case "$cmd" in
  setup)
    need_root "$@"; setup_apt; setup_venv ;;
  labs)
    need_root "$@"; setup_apt; setup_venv
    shift
    export PATH="$here/.venv/bin:$PATH"  # so that `!netlab ...` works in the notebooks
    port=(--port=8888)
    case " $* " in *" --port"*) port=() ;; esac  # ./run.sh labs --port=9999 picks another
    exec .venv/bin/jupyter lab --allow-root --no-browser --ip=0.0.0.0 "${port[@]}" \
      --notebook-dir="$here/labs" "$@" ;;
  test)
    need_root "$@"; setup_apt; setup_venv
    shift
    export PATH="$here/.venv/bin:$PATH"
    .venv/bin/ruff check netlab tests bench conftest.py
    .venv/bin/ruff format --check netlab tests bench conftest.py
    .venv/bin/mypy
    # The library's tests, then every lab notebook executed by nbval, outputs compared;
    # then the unit tests again as an unprivileged user. Both run; either failing fails.
    status=0
    .venv/bin/python -m pytest tests labs --nbval --nbval-current-env \
      --nbval-sanitize-with labs/sanitize.cfg --nbval-cell-timeout=120 "$@" || status=$?
    test_unprivileged || status=$?
    exit "$status" ;;
  *)
    echo "usage: $0 labs | test | setup" >&2
    exit 2 ;;
esac
