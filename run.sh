#!/usr/bin/env bash
# netlab's one entry point for set-up, labs and tests, on a fresh Debian/Ubuntu machine as root.
#
#   ./run.sh labs    install what is needed, then start JupyterLab on your copy of labs/
#                    (~/netlab-labs, made on first start; port 8888); --lang ko: the Korean
#                    series (labs/ko)
#   ./run.sh test    install what is needed, then run the whole test suite (pytest + nbval),
#                    then again as a fresh unprivileged user (rootless mode)
#   ./run.sh setup   only install
#   ./run.sh install only the Python part (no root needed): netlab and its packages
#
# It installs the Debian packages netlab calls (see binder/apt.txt) and a virtual environment
# in .venv with netlab and its Python dependencies. Safe to run again: it skips what is done.
# Without root, `./run.sh labs` works once an administrator has run `sudo ./run.sh setup`
# (the Debian packages): the labs then run rootless, in the user's own namespaces.
#
# The Python environment it uses (one install path for a checkout and for the lab image):
#   - $NETLAB_PYTHON, if set: a Python whose environment has this checkout's netlab
#     (`NETLAB_PYTHON=... ./run.sh install` puts it there; binder/postBuild does that);
#   - else, where there is no .venv, a python3 on PATH that already has this checkout's
#     netlab: the lab image (binder/), whose environment postBuild made. Nothing is downloaded
#     then, so an installed image runs `./run.sh test` offline;
#   - else the checkout's own .venv, made and kept up to date here.
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
  if [ -n "$own_venv" ]; then pkgs+=(python3 python3-venv); fi  # (to make .venv)
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

# The Python environment: see the top of this file. Sets py (its python), bin (its scripts:
# netlab, jupyter, pytest...), own_venv (1 for the checkout's .venv) and jupyter_dir (the
# labs' kernel and terminal set-up, see netlab/notebook/jupyter.py).
choose_python() {
  if [ -n "${NETLAB_PYTHON:-}" ]; then
    py="$NETLAB_PYTHON" own_venv=""
    if ! "$py" -c '' 2>/dev/null; then
      echo "netlab: NETLAB_PYTHON=$py is not a Python that runs" >&2
      exit 1
    fi
  elif [ ! -e .venv ] && has_netlab python3; then
    py="$(command -v python3)" own_venv=""
  else
    py="$here/.venv/bin/python" own_venv=1
  fi
  if [ -n "$own_venv" ]; then
    bin="$here/.venv/bin" jupyter_dir="$here/.venv/share/netlab-jupyter"
  else
    bin="$("$py" -c 'import sysconfig; print(sysconfig.get_path("scripts"))')"
    jupyter_dir="${NETLAB_JUPYTER_DIR:-$HOME/.local/share/netlab-jupyter}"
  fi
}

# has_netlab PYTHON: true if PYTHON imports this checkout's netlab (an editable install).
# (Asked from /: from the checkout, the folder itself would put netlab on sys.path. The same
# folder, not the same path: the rootless test user sees the checkout through a bind mount.)
has_netlab() {
  (cd / && "$1" -c 'import os, sys, netlab
sys.exit(not os.path.samefile(os.path.dirname(os.path.dirname(netlab.__file__)), sys.argv[1]))' \
    "$here" 2>/dev/null)
}

# pip_install PYTHON: netlab (editable) with JupyterLab and the test tools, quietly, into
# PYTHON's environment; the log is shown if it fails.
pip_install() {
  local log
  log="$(mktemp)"
  echo "netlab: installing netlab and its Python packages for $1"
  if ! { "$1" -m pip install --upgrade pip &&
         "$1" -m pip install --no-cache-dir -e ".[labs,test]"; } >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    echo "netlab: pip install failed; the whole log is in $log" >&2
    exit 1
  fi
  rm -f "$log"
}

setup_python() {
  if [ -z "$own_venv" ]; then
    # Someone else's environment (the lab image's): used as it is, never changed here
    # except by `./run.sh install`.
    if ! has_netlab "$py"; then
      echo "netlab: $py has no netlab from $here: install it with" \
        "NETLAB_PYTHON=$py $here/run.sh install" >&2
      exit 1
    fi
  else
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
      pip_install .venv/bin/python
      touch "$stamp"
    fi
  fi
  # The labs' kernel and JupyterLab's terminal, started inside rootless netlab when not root
  # (see netlab/notebook/jupyter.py); used through JUPYTER_PATH and JUPYTER_CONFIG_PATH, so
  # the user's own Jupyter set-up stays as it is.
  "$py" -m netlab.notebook.jupyter "$jupyter_dir" >/dev/null
}

# The test tools must be in the environment; an installed one is never changed here.
check_test_tools() {
  local tool lacking=""
  for tool in pytest ruff mypy; do [ -x "$bin/$tool" ] || lacking+=" $tool"; done
  "$py" -c 'import nbval, hypothesis' 2>/dev/null || lacking+=" nbval-or-hypothesis"
  if [ -n "$lacking" ]; then
    echo "netlab: $py's environment lacks test tools:$lacking. NETLAB_PYTHON=$py" \
      "$here/run.sh install adds them (it needs PyPI)" >&2
    exit 1
  fi
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
  local user="netlab-ci-$$" home mnt uid gid rc=0 ubin="$bin" upy="$py"
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
  # The user reaches the checkout (and a .venv in it) through the mount point only.
  case "$bin" in "$here"/*) ubin="$mnt/${bin#"$here"/}" ;; esac
  case "$py" in "$here"/*) upy="$mnt/${py#"$here"/}" ;; esac
  echo "netlab: the whole suite again, rootless, as the unprivileged user $user (uid $uid)"
  unshare --mount --propagation private -- sh -c '
    mount --bind "$1" "$2" && cd "$2" && shift 2 &&
    uid="$1" gid="$2" home="$3" user="$4" bin="$5" py="$6" && shift 6 &&
    # (PATH as a login user has it on Debian, without the sbin folders: netlab finds the
    # tools there itself, as it must for a student)
    as_user() {
      setpriv --reuid="$uid" --regid="$gid" --clear-groups \
        env HOME="$home" USER="$user" LOGNAME="$user" \
        PATH="$bin:/usr/local/bin:/usr/bin:/bin" "$@"
    }
    rc=0
    # (The Korean notebooks run the same code as the English ones: as root once is enough.)
    as_user "$bin/netlab" shell -- "$py" -m pytest tests labs --ignore=labs/ko --nbval \
      --nbval-current-env --nbval-sanitize-with labs/sanitize.cfg --nbval-cell-timeout=120 \
      -p no:cacheprovider "$@" || rc=$?
    as_user "$bin/netlab" clean --all >/dev/null || rc=1
    exit "$rc"
  ' netlab-ci "$here" "$mnt" "$uid" "$gid" "$home" "$user" "$ubin" "$upy" "$@" || rc=$?
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

cmd="${1:-}"
choose_python
case "$cmd" in
  setup)
    need_root "$@"; setup_apt; setup_python ;;
  install)  # the Python part only, into $NETLAB_PYTHON's environment or .venv (binder/postBuild)
    if [ -z "$own_venv" ]; then
      if ! has_netlab "$py" || ! "$py" -c 'import jupyterlab, pytest, nbval' 2>/dev/null; then
        pip_install "$py"
      fi
    fi
    setup_python ;;
  subids)  # ./run.sh subids USER: give USER subordinate ids for rootless netlab's containers
    need_root "$@"; [ -n "${2:-}" ] || { echo "usage: $0 subids USER" >&2; exit 2; }
    add_subordinate_ids "$2" ;;
  labs)
    root=()
    if [ "$(id -u)" -eq 0 ]; then setup_apt; root=(--allow-root); else check_apt; fi
    setup_python
    shift
    lang="" args=()
    while [ "$#" -gt 0 ]; do
      case "$1" in
        --lang) lang="${2:-}"; shift; [ "$#" -gt 0 ] && shift ;;
        --lang=*) lang="${1#--lang=}"; shift ;;
        *) args+=("$1"); shift ;;
      esac
    done
    set -- "${args[@]}"
    case "$lang" in
      ""|en) series="" ;;
      ko) series="/ko"; export NETLAB_LANG=ko ;;  # (the exercises' messages too)
      *) echo "netlab: no labs in language '$lang' (there are: en, ko)" >&2; exit 2 ;;
    esac
    export PATH="$bin:$PATH"  # so that `!netlab ...` works in the notebooks
    export JUPYTER_PATH="$jupyter_dir${JUPYTER_PATH:+:$JUPYTER_PATH}"
    export JUPYTER_CONFIG_PATH="$jupyter_dir${JUPYTER_CONFIG_PATH:+:$JUPYTER_CONFIG_PATH}"
    port=(--port=8888) ip=(--ip=0.0.0.0)
    case " $* " in *" --port"*) port=() ;; esac  # ./run.sh labs --port=9999 picks another
    case " $* " in *" --ip"*) ip=() ;; esac      # ... and --ip=127.0.0.1 another address
    # A copy of the labs of the user's own (~/netlab-labs): running them never changes the
    # tracked notebooks; `netlab labs reset 03` gives one back as it was.
    "$bin/netlab" labs >&2
    labs_dir=$("$bin/netlab" labs where)$series
    exec "$bin/jupyter" lab "${root[@]}" --no-browser "${ip[@]}" "${port[@]}" \
      --notebook-dir="$labs_dir" "$@" ;;
  test)
    need_root "$@"; setup_apt; setup_python; check_test_tools
    # JupyterHub, its proxy and spawners (tests/integration/test_hub.py), in .venv; an
    # installed environment (the lab image, maybe offline) skips the hub test instead.
    if [ -n "$own_venv" ]; then bash hub/setup.sh; fi
    shift
    export PATH="$bin:$PATH"
    "$bin/ruff" check netlab tests bench hub conftest.py labs/translate.py
    "$bin/ruff" format --check netlab tests bench hub conftest.py labs/translate.py
    "$bin/mypy"
    # The library's tests, then every lab notebook executed by nbval, outputs compared; then
    # all of it again as an unprivileged user (rootless). Both run; either failing fails.
    status=0
    "$py" -m pytest tests labs --nbval --nbval-current-env \
      --nbval-sanitize-with labs/sanitize.cfg --nbval-cell-timeout=120 "$@" || status=$?
    test_rootless "$@" || status=$?
    exit "$status" ;;
  *)
    echo "usage: $0 labs | test | setup | install | subids USER" >&2
    exit 2 ;;
esac
